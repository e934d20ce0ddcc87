#include "metrics/system_stats.h"

#include <fstream>
#include <sstream>
#include <string>

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
