// LatencySummary: avg/p50/p95/p99/max of a set of samples (milliseconds).
// Pure; percentiles use the nearest-rank method.
#pragma once

#include <cstddef>
#include <vector>

namespace vigil {

struct LatencySummary {
  std::size_t count = 0;
  double avg = 0, p50 = 0, p95 = 0, p99 = 0, max = 0;
};

LatencySummary summarize(std::vector<double> samples);

}  // namespace vigil
