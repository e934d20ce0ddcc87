#include "core/cpu_features.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace vigil {
namespace {

#if defined(__x86_64__) || defined(__i386__)
// CPUID leaf 7 / XCR0 bits (Intel SDM vol. 2A, "CPUID"; vol. 1, 13.3).
constexpr unsigned kLeaf1EcxOsxsave = 1U << 27;
constexpr unsigned kLeaf7EbxAvx2 = 1U << 5;
constexpr unsigned kLeaf7EbxAvx512f = 1U << 16;
constexpr unsigned kLeaf7EbxAvx512bw = 1U << 30;
constexpr unsigned kLeaf7EcxAvx512Vnni = 1U << 11;
constexpr unsigned kLeaf7Sub1EaxAvxVnni = 1U << 4;
constexpr unsigned kXcr0Avx = 0x6;       // SSE + AVX state
constexpr unsigned kXcr0Avx512 = 0xE0;   // opmask + ZMM_Hi256 + Hi16_ZMM state

unsigned read_xcr0() {
  unsigned eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return eax;
}

CpuFeatures detect() {
  CpuFeatures f;
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || (ecx & kLeaf1EcxOsxsave) == 0) return f;
  const unsigned xcr0 = read_xcr0();
  const bool os_avx = (xcr0 & kXcr0Avx) == kXcr0Avx;
  const bool os_avx512 = os_avx && (xcr0 & kXcr0Avx512) == kXcr0Avx512;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return f;
  const unsigned max_sub = eax;
  f.avx2 = os_avx && (ebx & kLeaf7EbxAvx2) != 0;
  f.avx512f = os_avx512 && (ebx & kLeaf7EbxAvx512f) != 0;
  f.avx512bw = os_avx512 && (ebx & kLeaf7EbxAvx512bw) != 0;
  f.avx512_vnni = os_avx512 && (ecx & kLeaf7EcxAvx512Vnni) != 0;
  if (max_sub >= 1 && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx))
    f.avx_vnni = os_avx && (eax & kLeaf7Sub1EaxAvxVnni) != 0;
  return f;
}
#else
CpuFeatures detect() { return {}; }
#endif

}  // namespace

std::string CpuFeatures::describe() const {
  std::string s;
  const auto add = [&s](bool on, const char* name) {
    if (!on) return;
    if (!s.empty()) s += ' ';
    s += name;
  };
  add(avx2, "avx2");
  add(avx512f, "avx512f");
  add(avx512bw, "avx512bw");
  add(avx512_vnni, "avx512_vnni");
  add(avx_vnni, "avx_vnni");
  return s.empty() ? "none of avx2/avx512/vnni" : s;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

}  // namespace vigil
