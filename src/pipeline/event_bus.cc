#include "pipeline/event_bus.h"

namespace vigil {

int EventBus::subscribe(Subscriber fn) {
  std::lock_guard lock(mu_);
  subscribers_[next_id_] = std::move(fn);
  return next_id_++;
}

void EventBus::unsubscribe(int id) {
  std::lock_guard lock(mu_);
  subscribers_.erase(id);
}

void EventBus::publish(const Event& e) {
  // Called under the lock so unsubscribe() guarantees no later call.
  std::lock_guard lock(mu_);
  ++published_;
  for (auto& [id, fn] : subscribers_) fn(e);
}

std::uint64_t EventBus::published() const {
  std::lock_guard lock(mu_);
  return published_;
}

}  // namespace vigil
