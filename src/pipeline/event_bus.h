// EventBus: where streams publish events. Fans each event out to the sinks
// (JSON Lines, SQLite) and to live subscribers (the web server, tests).
//
// publish() takes the bus lock only to copy the subscriber list, then calls
// each subscriber outside it, so a slow subscriber never holds up subscribe,
// unsubscribe, or publishers that do not reach it. A publisher does wait for
// the subscribers it calls: live subscribers must return quickly (queue the
// event themselves); offline, the SQLite subscriber blocks while the store's
// queue is full (lossless, SqliteStore::add_wait), which holds up only the
// publishing stream and other publishers waiting for that subscriber.
// One subscriber is never called concurrently with itself (calls to it are
// serialised, in the order publishers reach it); two subscribers may see
// events of different publishing threads in different orders.
// unsubscribe() returns once no call to that subscriber is running, and none
// starts afterwards. A subscriber must not unsubscribe itself.
// Threads: every method from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "core/event.h"

namespace vigil {

class EventBus {
 public:
  using Subscriber = std::function<void(const Event&)>;
  int subscribe(Subscriber fn);
  void unsubscribe(int id);
  void publish(const Event& e);
  std::uint64_t published() const;

 private:
  struct Entry {
    Subscriber fn;
    std::mutex call_mu;    // held for each call: serialises calls, lets unsubscribe wait
    bool removed = false;  // under call_mu
  };

  mutable std::mutex mu_;  // guards the fields below
  std::map<int, std::shared_ptr<Entry>> subscribers_;
  int next_id_ = 1;
  std::uint64_t published_ = 0;
};

}  // namespace vigil
