// LatestSlot<T>: a one-element mailbox between a producer (capture thread) and
// a consumer (stream loop).
//  - put() (live mode, overflow policy: replace): never waits; a value the
//    consumer had not taken yet is replaced, and put() says so (a drop).
//  - put_wait() (offline mode, policy: block): waits until the slot is empty.
//  - take() waits for a value, up to a timeout.
// close() wakes everybody; after it, put*() refuse and take() drains then
// returns nullopt. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>

namespace vigil {

template <class T>
class LatestSlot {
 public:
  // Returns true when an untaken value was replaced.
  bool put(T value) {
    bool replaced = false;
    {
      std::lock_guard lock(mu_);
      if (closed_) return false;
      replaced = value_.has_value();
      value_ = std::move(value);
    }
    cv_.notify_all();
    return replaced;
  }

  // Returns false when closed before the value could be stored.
  bool put_wait(T value) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return closed_ || !value_.has_value(); });
    if (closed_) return false;
    value_ = std::move(value);
    lock.unlock();
    cv_.notify_all();
    return true;
  }

  template <class Rep, class Period>
  std::optional<T> take(std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return closed_ || value_.has_value(); });
    std::optional<T> out = std::move(value_);
    value_.reset();
    lock.unlock();
    if (out) cv_.notify_all();
    return out;
  }

  void close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
  }

  bool closed() const {
    std::lock_guard lock(mu_);
    return closed_ && !value_.has_value();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<T> value_;
  bool closed_ = false;
};

}  // namespace vigil
