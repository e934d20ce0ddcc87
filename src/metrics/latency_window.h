// LatencyWindow: the most recent samples of one stage's latency (a ring of
// fixed capacity), summarised on demand. Thread-safe: add() from any thread,
// summary() from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "metrics/latency_summary.h"

namespace vigil {

class LatencyWindow {
 public:
  explicit LatencyWindow(std::size_t capacity = 2048) : ring_(capacity) {}
  void add(double ms);
  LatencySummary summary() const;
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
};

}  // namespace vigil
