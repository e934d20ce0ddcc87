#include "server/engine_adapter.h"

namespace vigil {

std::vector<std::string> EngineAdapter::stream_ids() const {
  std::vector<std::string> ids;
  for (const auto& c : engine_.stream_configs()) ids.push_back(c.id);
  return ids;
}

std::optional<StreamConfig> EngineAdapter::stream_config(const std::string& id) const {
  return engine_.stream_config(id);
}

Result<std::vector<Event>> EngineAdapter::query_events(const EventQuery& query) {
  SqliteStore* store = engine_.store();
  if (!store) return fail(ErrorCode::kNotFound, "no event store: start the engine with events.sqlite to query events");
  return store->query(query);
}

Result<std::optional<Event>> EngineAdapter::find_event(const std::string& id) {
  SqliteStore* store = engine_.store();
  if (!store) return std::optional<Event>();
  return store->find(id);
}

}  // namespace vigil
