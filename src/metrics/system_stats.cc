#include "metrics/system_stats.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

namespace vigil {
namespace {

double process_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

}  // namespace

double process_rss_mb() {
  std::ifstream f("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;  // NOLINT(google-runtime-int)
  f >> pages_total >> pages_resident;
  return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / kBytesPerMiB;
}

double system_memory_mb() {
  const long pages = sysconf(_SC_PHYS_PAGES);  // NOLINT(google-runtime-int)
  const long page = sysconf(_SC_PAGESIZE);     // NOLINT(google-runtime-int)
  if (pages <= 0 || page <= 0) return 0;
  return static_cast<double>(pages) * static_cast<double>(page) / kBytesPerMiB;
}

std::optional<int> cores_of_cpu_max(const std::string& text) {
  std::istringstream in(text);
  std::string quota;
  double period = 0;
  if (!(in >> quota >> period) || quota == "max" || period <= 0) return std::nullopt;
  double q = 0;
  try {
    std::size_t used = 0;
    q = std::stod(quota, &used);
    if (used != quota.size()) return std::nullopt;
  } catch (...) {
    return std::nullopt;
  }
  if (!(q > 0)) return std::nullopt;
  return std::max(1, static_cast<int>(std::ceil(q / period)));
}

int usable_cores() {
  int cores = 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) cores = CPU_COUNT(&set);
  if (cores <= 0) cores = static_cast<int>(std::thread::hardware_concurrency());
  std::ifstream f("/sys/fs/cgroup/cpu.max");
  std::string line;
  if (f && std::getline(f, line))
    if (auto quota = cores_of_cpu_max(line)) cores = std::min(cores, *quota);
  return std::max(cores, 1);
}

CpuMeter::CpuMeter() : last_cpu_s_(process_cpu_seconds()), last_wall_(std::chrono::steady_clock::now()) {}

double CpuMeter::sample() {
  const double cpu = process_cpu_seconds();
  const auto now = std::chrono::steady_clock::now();
  const double wall = std::chrono::duration<double>(now - last_wall_).count();
  const double pct = wall > 0 ? 100.0 * (cpu - last_cpu_s_) / wall : 0;
  last_cpu_s_ = cpu;
  last_wall_ = now;
  return pct;
}

}  // namespace vigil
