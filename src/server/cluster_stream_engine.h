// ClusterStreamEngine: the router's StreamEngine on a cluster node. Figures,
// the stream list and events are this engine's (the streams it runs); a
// stream's config is this engine's or, for a stream another node runs, its
// document in the cluster; additions, changes and removals go to the
// cluster's streams (ClusterNode::put_stream / delete_stream), and the node
// that holds the stream's lease (or claims it) starts, restarts or stops it
// at its next tick. So POST /api/streams answers 201 before any node runs
// the stream (its status is null until then).
// Not owning. Threads: any (as its parts).
#pragma once

#include "node/cluster_node.h"
#include "server/stream_engine.h"

namespace vigil {

class ClusterStreamEngine final : public StreamEngine {
 public:
  ClusterStreamEngine(StreamEngine& local, ClusterNode& cluster) : local_(local), cluster_(cluster) {}

  EngineStats stats() const override { return local_.stats(); }
  void reset_stats() override { local_.reset_stats(); }
  std::vector<std::string> stream_ids() const override { return local_.stream_ids(); }
  std::optional<StreamConfig> stream_config(const std::string& id) const override;
  StreamConfig stream_defaults() const override { return local_.stream_defaults(); }
  Result<void> add_stream(StreamConfig config) override;
  Result<void> remove_stream(const std::string& id) override { return cluster_.delete_stream(id); }
  // A PATCH: the whole document written to the cluster; the node that runs
  // the stream restarts it at its next tick.
  Result<void> replace_stream(StreamConfig config) override;
  bool has_event_store() const override { return local_.has_event_store(); }
  Result<std::vector<Event>> query_events(const EventQuery& query) override { return local_.query_events(query); }
  Result<std::optional<Event>> find_event(const std::string& id) override { return local_.find_event(id); }

 private:
  StreamEngine& local_;
  ClusterNode& cluster_;
};

}  // namespace vigil
