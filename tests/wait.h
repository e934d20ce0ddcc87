// Waiting on a condition in tests: poll with a deadline instead of sleeping
// a fixed time, so a test is as fast as the system under test and says what
// it waited for when it times out.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace vigil::test {

// Calls `done` every `poll` until it returns true (-> true) or `timeout`
// passes (-> false, after one last call).
inline bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds poll = std::chrono::milliseconds(50)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(poll);
  }
  return done();
}

}  // namespace vigil::test
