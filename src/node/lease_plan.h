// The decisions of a cluster node about its stream leases, as pure
// functions over one view of the cluster (cluster_node.h gathers the view
// from Redis every lease_s / 3 and acts on the decision):
//
//   fair share    the level L = the smallest integer with
//                 sum over alive nodes of min(capacity, L) >= streams
//                 (capacity 0 = no limit), so with equal capacities
//                 L = ceil(streams / alive nodes); a node's quota is
//                 min(its capacity, L).
//   claim         a node under its quota tries the free streams (no lease),
//                 at most quota - held, in its rendezvous order (a hash of
//                 node and stream), so nodes that start together try
//                 different streams first; SET NX settles any race.
//   release       only when the node holds more than its quota AND some
//                 other alive node under its quota holds at least 2 fewer
//                 (moving one stream then narrows the gap and can never be
//                 undone by the same rule: that is the "fair share + 1"
//                 hysteresis), only after that has been so for hold_s
//                 without a break, at most one stream per hold_s.
//
// So 4 streams on 2 nodes settle at 2 + 2 whatever the start (4 + 0 and
// 3 + 1 both release one), 5 settle at 3 + 2, and a node that comes back
// takes streams only as the others release them, one per hold_s.
// No threads, no I/O, time is an argument.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vigil {

// One alive node (its heartbeat key exists).
struct NodeLoad {
  std::string name;
  int capacity = 0;  // cluster.max_streams of that node; 0 = no limit
  int held = 0;      // leases it holds now
};

// The level L above (0 when there are no streams or no nodes).
int fair_share_level(int streams, const std::vector<int>& capacities);
// min(capacity, level), capacity 0 meaning no limit.
int node_quota(int level, int capacity);

struct LeaseView {
  std::string self;
  std::vector<std::string> streams;           // every stream of the cluster
  std::map<std::string, std::string> owners;  // stream -> node holding its lease (absent: free)
  std::vector<NodeLoad> nodes;                // alive nodes, self included; held is recomputed from owners
};

// The free streams `self` should try to claim now, in the order to try them.
std::vector<std::string> streams_to_claim(const LeaseView& view);
// Whether `self` holds more than its quota while another alive node under its
// quota holds at least 2 fewer (see above), or more than its capacity
// (capacity > 0; a measured capacity can drop below what it holds) while
// another alive node is under its quota.
bool over_fair_share(const LeaseView& view);
// The stream `self` gives away when it releases one: its last by id.
std::optional<std::string> stream_to_release(const LeaseView& view);

// The hold time of releases. Not thread-safe (the node's thread).
class ReleaseHold {
 public:
  explicit ReleaseHold(double hold_s) : hold_s_(hold_s) {}
  // True when `over` has been true at every call for hold_s and hold_s has
  // passed since the last release; the caller then releases one stream
  // and calls released().
  bool should_release(bool over, double now_s);
  void released(double now_s);

 private:
  double hold_s_;
  std::optional<double> over_since_;
  std::optional<double> last_release_;
};

// Measured capacity (cluster.measure_capacity): how many streams this node
// can run, from its load. load = the larger of its CPU use (share of its
// cores) and its inference workers' busy time (share of workers x 1 s per
// second), both over its running streams. The per-stream cost is load /
// streams, read only when the set of streams has not changed and every one
// of them delivered frames for settle_s (a stream that is still opening
// costs nothing yet); then
//   capacity = floor(kTargetLoad / per-stream cost), at least 1,
// but never below the streams it runs unless it is overloaded (load >
// kOverload: then at most streams - 1, so one can move to a node with room;
// lease_plan's release rule). Before the first reading: 1 stream (it is
// measured on one); with no streams, the last per-stream cost seen.
// max_streams > 0 caps it. No threads, no I/O, time is an argument.
class CapacityMeter {
 public:
  static constexpr double kTargetLoad = 0.8;
  static constexpr double kOverload = 0.95;
  CapacityMeter(double settle_s, int max_streams) : settle_s_(settle_s), max_streams_(max_streams) {}
  // One reading: the streams running (all_up: every one delivers frames)
  // and the load; the capacity to advertise now.
  int update(int streams, bool all_up, double load, double now_s);
  int capacity() const { return capacity_; }
  // The per-stream cost of the last settled reading (0 before one).
  double per_stream_load() const { return per_stream_; }
  // The streams of that reading (0 before one).
  int measured_streams() const { return measured_streams_; }

 private:
  int capped(int c) const;
  double settle_s_;
  int max_streams_;
  int capacity_ = 1;
  double per_stream_ = 0;
  int measured_streams_ = 0;
  int last_streams_ = -1;
  bool last_all_up_ = false;
  double since_s_ = 0;
};

// The rendezvous weight of a stream for a node (FNV-1a of "node\nstream").
std::uint64_t rendezvous_weight(const std::string& node, const std::string& stream);

}  // namespace vigil
