#include "metrics/gpu_stats.h"

#include "metrics/system_stats.h"

#include <dlfcn.h>

#include <mutex>

namespace vigil {
namespace {

// The few NVML entry points used, with their C ABI (nvml.h is not needed).
using nvmlDevice_t = void*;
struct NvmlUtilization {
  unsigned int gpu;
  unsigned int memory;
};
struct NvmlMemory {
  unsigned long long total;  // NOLINT(google-runtime-int): NVML's ABI
  unsigned long long free;   // NOLINT(google-runtime-int)
  unsigned long long used;   // NOLINT(google-runtime-int)
};

struct Nvml {
  bool ok = false;
  int (*device_count)(unsigned int*) = nullptr;
  int (*handle_by_index)(unsigned int, nvmlDevice_t*) = nullptr;
  int (*utilization)(nvmlDevice_t, NvmlUtilization*) = nullptr;
  int (*memory)(nvmlDevice_t, NvmlMemory*) = nullptr;
  int (*name)(nvmlDevice_t, char*, unsigned int) = nullptr;
  int (*temperature)(nvmlDevice_t, int, unsigned int*) = nullptr;  // optional
};
constexpr int kNvmlTemperatureGpu = 0;  // NVML_TEMPERATURE_GPU

template <class F>
F sym(void* lib, const char* name) {
  return reinterpret_cast<F>(dlsym(lib, name));
}

const Nvml& nvml() {
  static Nvml n = [] {
    Nvml r;
    void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return r;
    auto init = sym<int (*)()>(lib, "nvmlInit_v2");
    r.device_count = sym<decltype(r.device_count)>(lib, "nvmlDeviceGetCount_v2");
    r.handle_by_index = sym<decltype(r.handle_by_index)>(lib, "nvmlDeviceGetHandleByIndex_v2");
    r.utilization = sym<decltype(r.utilization)>(lib, "nvmlDeviceGetUtilizationRates");
    r.memory = sym<decltype(r.memory)>(lib, "nvmlDeviceGetMemoryInfo");
    r.name = sym<decltype(r.name)>(lib, "nvmlDeviceGetName");
    r.temperature = sym<decltype(r.temperature)>(lib, "nvmlDeviceGetTemperature");
    r.ok = init && r.device_count && r.handle_by_index && r.utilization && r.memory && r.name && init() == 0;
    return r;
  }();
  return n;
}

}  // namespace

std::vector<GpuSample> sample_gpus() {
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::vector<GpuSample> out;
  const Nvml& n = nvml();
  if (!n.ok) return out;
  unsigned int count = 0;
  if (n.device_count(&count) != 0) return out;
  for (unsigned int i = 0; i < count; ++i) {
    nvmlDevice_t dev = nullptr;
    if (n.handle_by_index(i, &dev) != 0) continue;
    GpuSample s;
    s.index = static_cast<int>(i);
    char name[96] = {};
    if (n.name(dev, name, sizeof name) == 0) s.name = name;
    NvmlUtilization u{};
    if (n.utilization(dev, &u) == 0) s.utilization_percent = u.gpu;
    NvmlMemory m{};
    if (n.memory(dev, &m) == 0) {
      s.memory_used_mb = static_cast<double>(m.used) / kBytesPerMiB;
      s.memory_total_mb = static_cast<double>(m.total) / kBytesPerMiB;
    }
    unsigned int celsius = 0;
    if (n.temperature && n.temperature(dev, kNvmlTemperatureGpu, &celsius) == 0) s.temperature_c = celsius;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace vigil
