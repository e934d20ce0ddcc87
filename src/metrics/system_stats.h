// Process CPU and memory from /proc (Linux). CpuMeter::sample() gives the
// process CPU use since the previous sample, in percent of one core
// (200 = two cores busy). Not thread-safe: one meter per reader.
#pragma once

#include <chrono>
#include <cstdint>

namespace vigil {

inline constexpr double kBytesPerMiB = 1024.0 * 1024.0;

double process_rss_mb();  // resident set size, MiB

class CpuMeter {
 public:
  CpuMeter();
  double sample();

 private:
  double last_cpu_s_ = 0;
  std::chrono::steady_clock::time_point last_wall_;
};

}  // namespace vigil
