// EngineAdapter: the real Engine as the router's StreamEngine.
// Not owning: the engine must outlive the adapter. Threads: as Engine (any).
#pragma once

#include "pipeline/engine.h"
#include "server/stream_engine.h"

namespace vigil {

class EngineAdapter final : public StreamEngine {
 public:
  explicit EngineAdapter(Engine& engine) : engine_(engine) {}

  EngineStats stats() const override { return engine_.stats(); }
  void reset_stats() override { engine_.reset_stats(); }
  std::vector<std::string> stream_ids() const override;
  std::optional<StreamConfig> stream_config(const std::string& id) const override;
  StreamConfig stream_defaults() const override { return engine_.config().defaults; }
  Result<void> add_stream(StreamConfig config) override { return engine_.add_stream(std::move(config)); }
  Result<void> remove_stream(const std::string& id) override { return engine_.remove_stream(id); }
  Result<void> replace_stream(StreamConfig config) override { return engine_.replace_stream(std::move(config)); }
  bool has_event_store() const override { return engine_.store() != nullptr; }
  Result<std::vector<Event>> query_events(const EventQuery& query) override;
  Result<std::optional<Event>> find_event(const std::string& id) override;

 private:
  Engine& engine_;
};

}  // namespace vigil
