// GPU utilisation and memory through NVML, loaded with dlopen at run time so
// the binary does not depend on the NVIDIA driver. Absent NVML = no GPU fields.
// Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace vigil {

struct GpuSample {
  int index = 0;
  std::string name;
  double utilization_percent = 0;
  double memory_used_mb = 0;
  double memory_total_mb = 0;
  std::optional<double> temperature_c;  // core temperature, Celsius; none when NVML does not say
};

// Empty when NVML cannot be loaded or reports no device.
std::vector<GpuSample> sample_gpus();

}  // namespace vigil
