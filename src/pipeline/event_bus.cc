#include "pipeline/event_bus.h"

namespace vigil {

int EventBus::subscribe(Subscriber fn) {
  auto entry = std::make_shared<Entry>();
  entry->fn = std::move(fn);
  std::lock_guard lock(mu_);
  subscribers_[next_id_] = std::move(entry);
  return next_id_++;
}

void EventBus::unsubscribe(int id) {
  std::shared_ptr<Entry> entry;
  {
    std::lock_guard lock(mu_);
    auto it = subscribers_.find(id);
    if (it == subscribers_.end()) return;
    entry = std::move(it->second);
    subscribers_.erase(it);
  }
  // Waits for a call in progress; publishers that copied the list before the
  // erase see `removed` and skip it.
  std::lock_guard call(entry->call_mu);
  entry->removed = true;
}

void EventBus::publish(const Event& e) {
  std::vector<std::shared_ptr<Entry>> targets;
  {
    std::lock_guard lock(mu_);
    ++published_;
    targets.reserve(subscribers_.size());
    for (const auto& [id, entry] : subscribers_) targets.push_back(entry);
  }
  for (const auto& entry : targets) {
    std::lock_guard call(entry->call_mu);
    if (!entry->removed) entry->fn(e);
  }
}

std::uint64_t EventBus::published() const {
  std::lock_guard lock(mu_);
  return published_;
}

}  // namespace vigil
