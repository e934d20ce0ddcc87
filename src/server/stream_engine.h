// StreamEngine: what the HTTP routes need from the engine, and nothing
// more: its figures, its streams (ids, configs, add, remove) and its event
// store. The router depends on this interface only, so it runs and is
// tested in-process without sockets and without a model; EngineAdapter
// (server/engine_adapter.h) implements it over the real Engine.
//
// Threads: implementations must allow every method from any thread, at the
// same time (the router calls them from the HTTP I/O threads).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/engine_config.h"
#include "core/error.h"
#include "core/event.h"
#include "pipeline/engine_stats.h"
#include "store/sqlite_store.h"

namespace vigil {

class StreamEngine {
 public:
  virtual ~StreamEngine() = default;

  virtual EngineStats stats() const = 0;
  virtual void reset_stats() = 0;

  // Stream ids in order, disabled streams (`enabled: false`: kept, not run)
  // included; the config of one (nullopt: no such stream).
  virtual std::vector<std::string> stream_ids() const = 0;
  virtual std::optional<StreamConfig> stream_config(const std::string& id) const = 0;
  // What a stream added through the API starts from: the config's `defaults:`.
  virtual StreamConfig stream_defaults() const = 0;
  bool has_stream(const std::string& id) const { return stream_config(id).has_value(); }
  // Errors name the stream's fields (kInvalidArgument) or the failure (kRuntime).
  virtual Result<void> add_stream(StreamConfig config) = 0;
  // kNotFound for an unknown id.
  virtual Result<void> remove_stream(const std::string& id) = 0;
  // The stream of config.id with this config, in one change (a PATCH): on an
  // error the old one is left as it was. kNotFound for an unknown id.
  virtual Result<void> replace_stream(StreamConfig config) = 0;

  // The stored events (events.sqlite); has_event_store() false: none kept.
  virtual bool has_event_store() const = 0;
  virtual Result<std::vector<Event>> query_events(const EventQuery& query) = 0;
  // The stored event with this id (its media paths and expired flag);
  // nullopt when none. An engine without a store finds none.
  virtual Result<std::optional<Event>> find_event(const std::string& id) {
    (void)id;
    return std::optional<Event>();
  }
};

}  // namespace vigil
