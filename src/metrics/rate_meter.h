// RateMeter: events per second over a sliding window (default 2 s).
// Thread-safe: tick() from one or more threads, rate() from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>

namespace vigil {

class RateMeter {
 public:
  using clock = std::chrono::steady_clock;
  explicit RateMeter(double window_s = 2.0) : window_(std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(window_s))) {}

  void tick(clock::time_point now = clock::now()) {
    std::lock_guard lock(mu_);
    times_.push_back(now);
    ++total_;
    trim(now);
  }
  // Events per second between the oldest and the newest event of the window
  // (0 with fewer than two), so a meter that just started is not inflated.
  double rate(clock::time_point now = clock::now()) const {
    std::lock_guard lock(mu_);
    trim(now);
    if (times_.size() < 2) return 0;
    const double span = std::chrono::duration<double>(times_.back() - times_.front()).count();
    return span > 0 ? static_cast<double>(times_.size() - 1) / span : 0;
  }
  std::uint64_t total() const {
    std::lock_guard lock(mu_);
    return total_;
  }

 private:
  void trim(clock::time_point now) const {
    while (!times_.empty() && now - times_.front() > window_) times_.pop_front();
  }
  clock::duration window_;
  mutable std::mutex mu_;
  mutable std::deque<clock::time_point> times_;
  std::uint64_t total_ = 0;
};

}  // namespace vigil
