// LatencyWindow: the most recent samples of one stage's latency (a ring of
// fixed capacity), summarised on demand. Thread-safe: add() from any thread,
// summary() from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <vector>

#include "metrics/latency_summary.h"

namespace vigil {

class LatencyWindow {
 public:
  // Upper bounds (ms) of the cumulative histogram kept beside the window (for
  // Prometheus); the last bucket is +Inf.
  static constexpr std::array<double, 13> kBucketsMs = {0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000};
  struct Histogram {
    std::vector<double> le_ms;            // bucket upper bounds, without +Inf
    std::vector<std::uint64_t> cumulative;  // [le_ms.size() + 1]: samples <= bound; the last = all
    double sum_ms = 0;
  };

  explicit LatencyWindow(std::size_t capacity = 2048) : ring_(capacity) {}
  void add(double ms);
  LatencySummary summary() const;
  Histogram histogram() const;  // every sample since construction or reset()
  std::uint64_t total_count() const;  // all samples ever added
  double total_ms() const;            // sum of all samples ever added
  void reset();

 private:
  mutable std::mutex mu_;
  std::vector<double> ring_;
  std::size_t next_ = 0;
  std::size_t size_ = 0;
  std::uint64_t total_count_ = 0;
  double total_ms_ = 0;
  std::array<std::uint64_t, kBucketsMs.size() + 1> buckets_{};  // per bucket, not cumulative
};

}  // namespace vigil
