// ClusterNode: this `vigil run --node NAME` process as one node of a
// cluster of engines sharing their live streams through Redis
// (docs/architecture.md, "Cluster"). Keys:
//
//   vigil:streams        hash: stream id -> the stream's document (JSON, the
//                        stream field table's writer; describe.api_key is
//                        never stored: a node running a stream gives it the
//                        key of its own config, fill_local_api_key)
//   vigil:lease:<id>     string: the token of the node running the stream,
//                        "<node>|<boot>|<n>", with an expiry (PX lease_s)
//   vigil:node:<name>    string: {"advertise_url", "capacity"}, with an
//                        expiry (PX lease_s): the node's heartbeat
//   vigil:nodes          set: the names of the nodes seen (a name whose
//                        heartbeat expired is removed)
//   vigil:events         stream: every node's events (redis_event_sink.h)
//
// One thread, every lease_s / 3 (a tick): renew this node's leases (a Lua
// check-and-extend: PEXPIRE only while the key still holds our token, so a
// node renews only its own lease: fencing), stop at once every stream whose
// renewal was refused (another token, or no key) or whose last successful
// renewal is lease_s old (Redis not answering: the lease may have expired);
// write the heartbeat; read the
// streams, the alive nodes and every lease; stop streams whose document was
// deleted, restart those whose document changed; claim free streams up to
// the fair share and release one above it (lease_plan.h). Streams start and
// stop through Engine::add_stream / remove_stream, so the server's feeds and
// stats follow as for API changes. A lease is claimed before its stream
// starts and released after it stopped, so two nodes run one stream at once
// for at most one tick (the old owner's next renewal fails, or its local
// expiry check fires).
//
// Threads: start(), stop() from the owning thread; status(), the stream
// changes (put_stream, delete_stream, stream) from any thread (they use
// their own Redis connection under a lock).
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/engine_config.h"
#include "config/stream_state.h"
#include "core/error.h"
#include "node/lease_plan.h"

namespace vigil {

class Engine;
class RedisClient;
class RedisEventSink;

// A node name: 1..64 of [A-Za-z0-9_.-]; kInvalidArgument naming --node otherwise.
Result<void> check_node_name(const std::string& name);

struct ClusterNodeInfo {
  std::string name;
  std::string advertise_url;
  int capacity = 0;              // 0 = no limit
  double heartbeat_age_s = 0;    // since its last heartbeat (lease_s - the key's PTTL)
  std::vector<std::string> streams;  // the streams whose lease it holds
};

struct ClusterStreamInfo {
  std::string id;
  std::string node;      // "" = nobody holds its lease now
  std::string node_url;  // that node's advertise_url
};

struct ClusterStatus {
  std::string self;
  std::string advertise_url;
  std::string redis;  // redacted
  double lease_s = 0;
  int capacity = 0;  // advertised: max_streams (0 = no limit) or the measured one
  bool capacity_measured = false;  // cluster.measure_capacity
  double load = 0;                 // measured: the load the capacity was last read from (0..1+)
  double per_stream_load = 0;      // measured: its share per stream at the last settled reading (0 before one)
  int measured_streams = 0;        // the streams running at that reading
  int fair_share = 0;  // the level of lease_plan.h for the streams and alive nodes
  bool connected = false;  // the last tick reached Redis
  std::string last_error;
  double age_s = 0;  // since the last tick that reached Redis (the view below is that old)
  std::vector<ClusterNodeInfo> nodes;     // alive, by name
  std::vector<ClusterStreamInfo> streams;  // by id
  std::vector<std::string> running;        // streams running on this node (the engine's)
  std::uint64_t commands = 0;  // Redis commands this node's lease thread sent
  std::uint64_t leases_lost = 0;  // renewals that failed: the stream was stopped
  std::uint64_t events_sent = 0, events_dropped = 0, events_errors = 0;
};

struct ClusterNodeOptions {
  ClusterConfig config;
  std::string name;
  std::string advertise_url;  // http://host:port
  LocalSecrets secrets;       // this node's api_keys for the streams it runs (fill_local_api_key)
};

class ClusterNode {
 public:
  // Connects to config.redis (an unreachable Redis fails here) and starts
  // sending `engine`'s events to vigil:events. Nothing runs until start().
  static Result<std::unique_ptr<ClusterNode>> create(ClusterNodeOptions options, Engine& engine);
  ~ClusterNode();
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

  // Adds the config's streams to vigil:streams where their id is missing
  // (HSETNX: a stream changed through the API keeps its document), then
  // starts the lease thread. `advertise_url` replaces the options' when not empty.
  Result<void> start(const std::vector<StreamConfig>& config_streams, const std::string& advertise_url = "");
  // Stops the lease thread, stops this node's streams, releases their
  // leases and removes the heartbeat, so the others take the streams at
  // their next tick. Idempotent.
  void stop();

  ClusterStatus status() const;

  // The API's stream changes, on vigil:streams; the node holding a lease
  // acts on them at its next tick. put_stream writes the whole document (an
  // addition or a change); delete_stream is kNotFound for an unknown id.
  Result<void> put_stream(const StreamConfig& stream);
  Result<void> delete_stream(const std::string& id);
  // One stream's document; nullopt when none (or Redis is unreachable).
  std::optional<StreamConfig> stream(const std::string& id);

 private:
  ClusterNode(ClusterNodeOptions options, Engine& engine);
  void run();
  void tick();
  // The tick's steps.
  void renew_leases(double now);
  void expire_unrenewed(double now);
  void measure_capacity(double now);
  bool write_heartbeat();
  struct View;
  std::optional<View> read_view();
  void follow_documents(const View& view);
  void claim_and_release(View& view, double now);
  bool claim(const std::string& id, const std::string& doc, double now);
  void stop_stream(const std::string& id, const char* why, bool release);
  void publish_status(const View* view, double now);
  std::string next_token();
  std::int64_t tick_ms() const { return std::max<std::int64_t>(lease_ms_ / 3, 100); }  // the renewal period
  void poke();  // an API change: the next tick now

  const ClusterNodeOptions options_;
  std::string advertise_url_;  // set by start()
  Engine& engine_;
  const std::int64_t lease_ms_;
  const std::string boot_;  // random, per process: tokens of two runs never match
  std::uint64_t next_lease_ = 1;
  std::unique_ptr<RedisClient> redis_;      // the lease thread's
  std::unique_ptr<RedisClient> api_redis_;  // stream changes from the API, under api_mu_
  std::mutex api_mu_;
  std::unique_ptr<RedisEventSink> events_;
  int events_subscription_ = 0;

  // What this node runs: lease token, the document it started from, when
  // the lease was last renewed (steady seconds). Lease thread only.
  struct Held {
    std::string token;
    std::string doc;
    double renewed_s = 0;
  };
  std::map<std::string, Held> held_;
  ReleaseHold hold_;
  CapacityMeter meter_;
  std::atomic<int> capacity_;  // what the heartbeat advertises
  // Streams whose start failed, and when: not claimed again for a while.
  std::map<std::string, double> failed_starts_;

  mutable std::mutex status_mu_;
  ClusterStatus status_;
  double last_ok_s_ = 0;  // under status_mu_
  std::atomic<std::uint64_t> commands_{0};
  std::atomic<std::uint64_t> leases_lost_{0};

  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex wake_mu_;
  std::condition_variable wake_;
  std::atomic<bool> poked_{false};
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace vigil
