// EventBus: where streams publish events. Fans each event out to the sinks
// (JSON Lines, SQLite) and to live subscribers (the web server, tests).
// Thread-safe; publish() never blocks on a slow subscriber: subscribers must
// return quickly (queue the event themselves).
#pragma once

#include <functional>
#include <map>
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
  mutable std::mutex mu_;
  std::map<int, Subscriber> subscribers_;
  int next_id_ = 1;
  std::uint64_t published_ = 0;
};

}  // namespace vigil
