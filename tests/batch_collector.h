// Collects BatchScheduler results from its worker threads; tests wait on the count.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "pipeline/batch_scheduler.h"

namespace vigil::test {

struct BatchCollector {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<BatchResult> results;
  BatchScheduler::Callback callback() {
    return [this](BatchResult&& r) {
      std::lock_guard lock(mu);
      results.push_back(std::move(r));
      cv.notify_all();
    };
  }
  // False when fewer than n results came within `timeout`.
  bool wait_for(std::size_t n, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [&] { return results.size() >= n; });
  }
};

}  // namespace vigil::test
