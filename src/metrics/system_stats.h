// Process CPU and memory from /proc (Linux). CpuMeter::sample() gives the
// process CPU use since the previous sample, in percent of one core
// (200 = two cores busy). Not thread-safe: one meter per reader.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace vigil {

inline constexpr double kBytesPerMiB = 1024.0 * 1024.0;

double process_rss_mb();  // resident set size, MiB
double system_memory_mb();  // the machine's physical memory, MiB (0 when unknown)

// Cores this process may use: the CPUs of its affinity mask (taskset,
// docker --cpuset-cpus), fewer when a cgroup CPU quota (docker --cpus,
// cgroup v2 cpu.max) allows less; at least 1. Reads /proc and /sys.
int usable_cores();
// The whole cores a cgroup v2 cpu.max line allows ("200000 100000" -> 2,
// "150000 100000" -> 2: rounded up), nullopt for "max ..." or bad text.
std::optional<int> cores_of_cpu_max(const std::string& text);

class CpuMeter {
 public:
  CpuMeter();
  double sample();

 private:
  double last_cpu_s_ = 0;
  std::chrono::steady_clock::time_point last_wall_;
};

}  // namespace vigil
