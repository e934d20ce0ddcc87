// CpuFeatures: the x86 instruction-set extensions that decide whether an INT8
// model pays off (model.precision: auto). Read once with CPUID and XGETBV:
// an extension counts only when the CPU has it AND the OS saves its registers
// (AVX-512 state in XCR0), as ONNX Runtime's own dispatch (MLAS) requires.
// Other architectures report none. Thread-safe: computed on first use.
#pragma once

#include <string>

namespace vigil {

struct CpuFeatures {
  bool avx2 = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512_vnni = false;  // VPDPBUSD on 512-bit registers (Cascade Lake, Zen 4...)
  bool avx_vnni = false;     // the same on 256-bit registers (Alder Lake...)

  // Integer dot-product instructions ONNX Runtime uses for int8 convolutions.
  bool has_int8_dot() const { return avx512_vnni || avx_vnni; }
  // "avx2 avx512f avx512bw avx512_vnni" (what is present), for logs.
  std::string describe() const;
};

const CpuFeatures& cpu_features();

}  // namespace vigil
