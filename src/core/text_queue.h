// TextQueue and LiveClient: how a producer thread hands text messages to a
// consumer that runs elsewhere (an HTTP/WebSocket session on its strand)
// without waiting for it. Used by the server's live feeds and by the job
// manager's progress listeners (jobs/job_manager.h), so it lives below both.
//
// Threads: every method may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

namespace vigil {

// A consumer of a feed. wake() is called from producer threads (stream loop,
// event bus, job runners) when new data may be waiting or the feed closed;
// it must return at once (post to the consumer's executor).
class LiveClient {
 public:
  virtual ~LiveClient() = default;
  virtual void wake() = 0;
};

// One client's bounded queue of text messages; overflow policy drop-oldest
// (counted). Messages are shared (one text for every listener).
class TextQueue {
 public:
  explicit TextQueue(std::size_t capacity) : capacity_(capacity) {}
  using Message = std::shared_ptr<const std::string>;
  // Producer side; false when closed.
  bool push(Message m);
  void close();
  // Consumer side: the oldest message, or null when empty.
  Message pop();
  bool closed() const;
  std::uint64_t drops() const;

 private:
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::deque<Message> queue_;
  std::uint64_t drops_ = 0;
  bool closed_ = false;
};

}  // namespace vigil
