// DropOldestQueue: the bounded queue between a producer that must not wait
// (an EventBus subscriber on a stream's thread) and one sink worker thread.
// Overflow policy: drop-oldest, counted in dropped(). The consumer waits with
// a deadline and is woken by push() and close().
//
// Threads: every method from any thread; pop_until from the one consumer.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

namespace vigil {

template <class T>
class DropOldestQueue {
 public:
  explicit DropOldestQueue(std::size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

  // Never blocks; false once closed.
  bool push(T item) {
    {
      std::lock_guard lock(mu_);
      if (closed_) return false;
      if (items_.size() >= capacity_) {
        items_.pop_front();
        ++dropped_;
      }
      items_.push_back(std::move(item));
    }
    cv_.notify_one();
    return true;
  }

  // The oldest item; nullopt when `deadline` passed or the queue is closed and empty.
  std::optional<T> pop_until(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mu_);
    cv_.wait_until(lock, deadline, [&] { return closed_ || !items_.empty(); });
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    return item;
  }

  // Puts an item back at the front (a delivery to retry later); counts as a
  // drop of the oldest item when the queue filled meanwhile.
  void push_front(T item) {
    std::lock_guard lock(mu_);
    if (items_.size() >= capacity_) {
      ++dropped_;
      return;
    }
    items_.push_front(std::move(item));
  }

  // Wakes the consumer; later pushes are refused. Items already queued stay poppable.
  void close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
  }
  // Wakes the consumer without closing (a state change it should look at).
  void wake() { cv_.notify_all(); }

  std::size_t size() const {
    std::lock_guard lock(mu_);
    return items_.size();
  }
  std::uint64_t dropped() const {
    std::lock_guard lock(mu_);
    return dropped_;
  }

 private:
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<T> items_;
  std::uint64_t dropped_ = 0;
  bool closed_ = false;
};

}  // namespace vigil
