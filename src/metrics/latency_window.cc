#include "metrics/latency_window.h"

namespace vigil {

void LatencyWindow::add(double ms) {
  std::lock_guard lock(mu_);
  ring_[next_] = ms;
  next_ = (next_ + 1) % ring_.size();
  if (size_ < ring_.size()) ++size_;
  ++total_count_;
  total_ms_ += ms;
  std::size_t b = 0;
  while (b < kBucketsMs.size() && ms > kBucketsMs[b]) ++b;
  ++buckets_[b];
}

LatencyWindow::Histogram LatencyWindow::histogram() const {
  Histogram h;
  h.le_ms.assign(kBucketsMs.begin(), kBucketsMs.end());
  std::lock_guard lock(mu_);
  std::uint64_t acc = 0;
  for (const auto n : buckets_) h.cumulative.push_back(acc += n);
  h.sum_ms = total_ms_;
  return h;
}

LatencySummary LatencyWindow::summary() const {
  std::vector<double> copy;
  {
    std::lock_guard lock(mu_);
    copy.assign(ring_.begin(), ring_.begin() + static_cast<std::ptrdiff_t>(size_));
  }
  return summarize(std::move(copy));
}

std::uint64_t LatencyWindow::total_count() const {
  std::lock_guard lock(mu_);
  return total_count_;
}

double LatencyWindow::total_ms() const {
  std::lock_guard lock(mu_);
  return total_ms_;
}

void LatencyWindow::reset() {
  std::lock_guard lock(mu_);
  next_ = size_ = 0;
  total_count_ = 0;
  total_ms_ = 0;
  buckets_.fill(0);
}

}  // namespace vigil
