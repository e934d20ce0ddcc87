#include "node/lease_plan.h"

#include <algorithm>

namespace vigil {
namespace {

int capped(int level, int capacity) { return capacity > 0 ? std::min(capacity, level) : level; }

// The view's nodes with held counted from the owners.
std::vector<NodeLoad> counted(const LeaseView& view) {
  std::vector<NodeLoad> nodes = view.nodes;
  for (auto& n : nodes) n.held = 0;
  for (const auto& [stream, owner] : view.owners)
    for (auto& n : nodes)
      if (n.name == owner) ++n.held;
  return nodes;
}

int level_of(const LeaseView& view, const std::vector<NodeLoad>& nodes) {
  std::vector<int> caps;
  for (const auto& n : nodes) caps.push_back(n.capacity);
  return fair_share_level(static_cast<int>(view.streams.size()), caps);
}

const NodeLoad* find_node(const std::vector<NodeLoad>& nodes, const std::string& name) {
  for (const auto& n : nodes)
    if (n.name == name) return &n;
  return nullptr;
}

}  // namespace

int fair_share_level(int streams, const std::vector<int>& capacities) {
  if (streams <= 0 || capacities.empty()) return 0;
  // sum(min(cap, L)) grows with L; the answer is at most `streams`.
  for (int level = 1; level <= streams; ++level) {
    long long sum = 0;
    for (int c : capacities) sum += capped(level, c);
    if (sum >= streams) return level;
  }
  return streams;  // the capacities cannot hold them all: everyone at its cap
}

int node_quota(int level, int capacity) { return capped(level, capacity); }

std::uint64_t rendezvous_weight(const std::string& node, const std::string& stream) {
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ULL;
  };
  for (unsigned char c : node) mix(c);
  mix('\n');
  for (unsigned char c : stream) mix(c);
  return h;
}

std::vector<std::string> streams_to_claim(const LeaseView& view) {
  const auto nodes = counted(view);
  const NodeLoad* self = find_node(nodes, view.self);
  if (!self) return {};
  const int room = node_quota(level_of(view, nodes), self->capacity) - self->held;
  if (room <= 0) return {};
  std::vector<std::string> unowned;
  for (const auto& id : view.streams)
    if (!view.owners.count(id)) unowned.push_back(id);
  std::sort(unowned.begin(), unowned.end(), [&](const std::string& a, const std::string& b) {
    const auto wa = rendezvous_weight(view.self, a), wb = rendezvous_weight(view.self, b);
    return wa != wb ? wa > wb : a < b;
  });
  if (static_cast<int>(unowned.size()) > room) unowned.resize(static_cast<std::size_t>(room));
  return unowned;
}

bool over_fair_share(const LeaseView& view) {
  const auto nodes = counted(view);
  const NodeLoad* self = find_node(nodes, view.self);
  if (!self) return false;
  const int level = level_of(view, nodes);
  if (self->held <= node_quota(level, self->capacity)) return false;
  const bool over_capacity = self->capacity > 0 && self->held > self->capacity;
  for (const auto& n : nodes) {
    if (n.name == view.self || n.held >= node_quota(level, n.capacity)) continue;
    if (over_capacity || n.held + 2 <= self->held) return true;
  }
  return false;
}

std::optional<std::string> stream_to_release(const LeaseView& view) {
  std::optional<std::string> last;
  for (const auto& [stream, owner] : view.owners)  // ordered by id
    if (owner == view.self) last = stream;
  return last;
}

int CapacityMeter::capped(int c) const {
  constexpr int kMost = 10000;  // cluster.max_streams' range
  c = std::clamp(c, 1, kMost);
  return max_streams_ > 0 ? std::min(c, max_streams_) : c;
}

int CapacityMeter::update(int streams, bool all_up, double load, double now_s) {
  if (streams != last_streams_ || all_up != last_all_up_) {
    last_streams_ = streams;
    last_all_up_ = all_up;
    since_s_ = now_s;
  }
  const bool settled = now_s - since_s_ >= settle_s_;
  if (streams == 0) {
    capacity_ = capped(per_stream_ > 0 ? static_cast<int>(kTargetLoad / per_stream_) : 1);
    return capacity_;
  }
  if (!settled || !all_up || load <= 0) return capacity_ = capped(std::max(capacity_, 1));
  per_stream_ = load / streams;
  measured_streams_ = streams;
  const int fits = static_cast<int>(kTargetLoad / per_stream_);
  capacity_ = capped(load > kOverload ? std::min(streams - 1, fits) : std::max(streams, fits));
  return capacity_;
}

bool ReleaseHold::should_release(bool over, double now_s) {
  if (!over) {
    over_since_.reset();
    return false;
  }
  if (!over_since_) over_since_ = now_s;
  if (now_s - *over_since_ < hold_s_) return false;
  return !last_release_ || now_s - *last_release_ >= hold_s_;
}

void ReleaseHold::released(double now_s) {
  last_release_ = now_s;
  over_since_.reset();  // the next release needs a whole hold of imbalance again
}

}  // namespace vigil
