#include "node/cluster_node.h"

#include <algorithm>
#include <chrono>
#include <random>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "cluster/redis_client.h"
#include "core/round.h"
#include "config/config_json.h"
#include "config/config_node.h"
#include "node/redis_event_sink.h"
#include "pipeline/engine.h"

namespace vigil {
namespace {

using nlohmann::json;

constexpr const char* kStreamsKey = "vigil:streams";
constexpr const char* kNodesKey = "vigil:nodes";
constexpr double kFailedStartRetry_s = 30;
// A measured capacity reads the load after the streams ran unchanged this long
// (the engine's stage loads are smoothed over ~5 s).
constexpr double kCapacitySettle_s = 10;

// PEXPIRE only while the key holds our token: a node renews its own lease only.
constexpr const char* kRenewScript =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0";
// SET NX, or ours already (a claim sent twice after a lost reply).
constexpr const char* kClaimScript =
    "local v = redis.call('GET', KEYS[1]) "
    "if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end "
    "if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end return 0";
// DEL only our own lease.
constexpr const char* kReleaseScript =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

std::string lease_key(const std::string& id) { return "vigil:lease:" + id; }
std::string node_key(const std::string& name) { return "vigil:node:" + name; }
std::string owner_of(const std::string& token) { return token.substr(0, token.find('|')); }

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string random_hex() {
  std::random_device rd;
  const std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 12; ++i) out += kHex[(v >> (4 * i)) & 0xF];
  return out;
}

// A stream's document in vigil:streams, and back (JSON is YAML: the config's reader).
std::string stream_document(const StreamConfig& s) { return json_from_node(stream_config_node(s)).dump(); }

Result<StreamConfig> stream_from_document(const std::string& id, const std::string& doc) {
  ConfigIssues issues;
  const std::string path = std::string(kStreamsKey) + "[" + id + "]";
  auto node = config_node_from_yaml(doc, issues);
  if (!node) return fail(issues.error(kStreamsKey));
  auto s = stream_config_from_node(*node, path);
  if (!s) return fail(s.error());
  if (s->id != id) return fail(ErrorCode::kInvalidArgument, path + ".id: '" + s->id + "' is not the hash field's id");
  return s;
}

// A stream this node runs from its document: with this node's api_key.
Result<StreamConfig> stream_to_run(const std::string& id, const std::string& doc, const LocalSecrets& secrets) {
  auto s = stream_from_document(id, doc);
  if (s) fill_local_api_key(*s, secrets);
  return s;
}

}  // namespace

Result<void> check_node_name(const std::string& name) {
  const bool ok = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
  });
  if (!ok)
    return fail(ErrorCode::kInvalidArgument,
                "--node: '" + name + "' must be 1 to 64 letters, digits, '_', '.' or '-'");
  return {};
}

// One tick's reading of Redis.
struct ClusterNode::View {
  std::map<std::string, std::string> docs;  // vigil:streams
  std::vector<ClusterNodeInfo> nodes;       // alive, by name
  LeaseView leases;
};

ClusterNode::ClusterNode(ClusterNodeOptions options, Engine& engine)
    : options_(std::move(options)),
      advertise_url_(options_.advertise_url),
      engine_(engine),
      lease_ms_(static_cast<std::int64_t>(options_.config.lease_s * 1000)),
      boot_(random_hex()),
      hold_(2 * options_.config.lease_s),
      meter_(kCapacitySettle_s, options_.config.max_streams),
      capacity_(options_.config.measure_capacity ? meter_.capacity() : options_.config.max_streams) {}

ClusterNode::~ClusterNode() { stop(); }

Result<std::unique_ptr<ClusterNode>> ClusterNode::create(ClusterNodeOptions options, Engine& engine) {
  if (auto n = check_node_name(options.name); !n) return fail(n.error());
  auto url = parse_redis_url(options.config.redis);
  if (!url) return fail(url.error().code, "cluster.redis: " + url.error().message);
  auto node = std::unique_ptr<ClusterNode>(new ClusterNode(std::move(options), engine));
  const auto period = std::chrono::milliseconds(node->tick_ms());
  RedisClientOptions o;
  o.url = *url;
  // A tick must not wait longer than a renewal period for Redis: a renewal
  // that cannot be made in time is a lease lost (the stream stops).
  o.connect_timeout = period;
  o.command_timeout = period;
  o.reconnect_for = period;
  o.stop = &node->stop_;
  auto lease_client = RedisClient::connect(o);
  if (!lease_client) return fail(lease_client.error().code, "cluster.redis: " + lease_client.error().message);
  node->redis_ = std::move(*lease_client);
  RedisClientOptions api = o;
  api.command_timeout = std::chrono::seconds(5);
  api.reconnect_for = std::chrono::seconds(5);
  auto api_client = RedisClient::connect(api);
  if (!api_client) return fail(api_client.error().code, "cluster.redis: " + api_client.error().message);
  node->api_redis_ = std::move(*api_client);
  auto sink = RedisEventSink::start(*url, node->options_.name, node->options_.config.events_maxlen);
  if (!sink) return fail(sink.error().code, "cluster.redis: " + sink.error().message);
  node->events_ = std::move(*sink);
  node->events_subscription_ =
      engine.events().subscribe([s = node->events_.get()](const Event& ev) { s->add_event(ev); });
  {
    std::lock_guard lock(node->status_mu_);
    node->status_.self = node->options_.name;
    node->status_.redis = url->redacted();
    node->status_.lease_s = node->options_.config.lease_s;
    node->status_.capacity = node->capacity_;
    node->status_.capacity_measured = node->options_.config.measure_capacity;
  }
  return node;
}

Result<void> ClusterNode::start(const std::vector<StreamConfig>& config_streams, const std::string& advertise_url) {
  if (started_) return {};
  if (!advertise_url.empty()) advertise_url_ = advertise_url;
  int added = 0;
  for (const auto& s : config_streams) {
    auto r = redis_->call({"HSETNX", kStreamsKey, s.id, stream_document(s)});
    ++commands_;
    if (!r) return fail(r.error().code, "cluster.redis: adding the config's streams: " + r.error().message);
    added += static_cast<int>(r->integer);
  }
  spdlog::info("cluster: node '{}' ({}) on {}: {} of the config's {} stream(s) added to {}, lease {} s", options_.name,
               advertise_url_, status().redis, added, config_streams.size(), kStreamsKey, options_.config.lease_s);
  {
    std::lock_guard lock(status_mu_);
    status_.advertise_url = advertise_url_;
  }
  started_ = true;
  thread_ = std::thread([this] { run(); });
  return {};
}

void ClusterNode::stop() {
  if (stopped_) return;
  stopped_ = true;
  {
    std::lock_guard lock(wake_mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (events_subscription_) engine_.events().unsubscribe(events_subscription_);
  events_subscription_ = 0;
  if (!started_) {
    if (events_) events_->stop();
    return;
  }
  // A clean leave: the others need not wait for the leases to expire.
  stop_ = false;  // let the client talk to Redis for the goodbye
  const std::vector<std::string> ids = [&] {
    std::vector<std::string> v;
    for (const auto& [id, h] : held_) v.push_back(id);
    return v;
  }();
  for (const auto& id : ids) stop_stream(id, "the node stops", true);
  (void)redis_->command({"DEL", node_key(options_.name)});
  (void)redis_->command({"SREM", kNodesKey, options_.name});
  stop_ = true;
  if (events_) events_->stop();
}

void ClusterNode::run() {
  const auto period = std::chrono::milliseconds(tick_ms());
  while (!stop_) {
    const auto next = std::chrono::steady_clock::now() + period;
    try {
      tick();
    } catch (const std::exception& e) {  // a bug must not end the process; the next tick tries again
      spdlog::error("cluster: tick failed: {}", e.what());
    }
    std::unique_lock lock(wake_mu_);
    wake_.wait_until(lock, next, [&] { return stop_.load() || poked_.exchange(false); });
  }
}

void ClusterNode::tick() {
  const double now = now_s();
  renew_leases(now);
  expire_unrenewed(now);
  if (stop_) return;
  if (options_.config.measure_capacity) measure_capacity(now);
  const bool beat = write_heartbeat();
  auto view = beat ? read_view() : std::nullopt;
  if (view) {
    follow_documents(*view);
    claim_and_release(*view, now);
  }
  publish_status(view ? &*view : nullptr, now);
}

void ClusterNode::renew_leases(double now) {
  if (held_.empty()) return;
  std::vector<std::vector<std::string>> cmds;
  std::vector<std::string> ids;
  for (const auto& [id, h] : held_) {
    cmds.push_back({"EVAL", kRenewScript, "1", lease_key(id), h.token, std::to_string(lease_ms_)});
    ids.push_back(id);
  }
  commands_ += cmds.size();
  auto replies = redis_->pipeline(cmds);
  if (!replies) {
    // No answer (Redis away, or slower than a tick): the leases still hold
    // until their expiry, so the streams run until expire_unrenewed stops
    // them when it may have come.
    spdlog::warn("cluster: renewing {} lease(s): {}", ids.size(), replies.error().message);
    std::lock_guard lock(status_mu_);
    status_.last_error = replies.error().message;
    return;
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const RedisReply& r = (*replies)[i];
    if (r.type == RedisReply::Type::kInteger && r.integer == 1) {
      held_[ids[i]].renewed_s = now;
    } else {
      ++leases_lost_;
      stop_stream(ids[i], "its lease was lost (expired, or another node holds it)", false);
    }
  }
}

void ClusterNode::expire_unrenewed(double now) {
  // The lease may have expired in Redis (renewed_s is taken before the
  // renewal is sent, so Redis' expiry is a little later): another node may
  // claim it at its next tick, so this one stops now; the two overlap for at
  // most one tick.
  const double limit_s = options_.config.lease_s;
  std::vector<std::string> expired;
  for (const auto& [id, h] : held_)
    if (now - h.renewed_s >= limit_s) expired.push_back(id);
  for (const auto& id : expired) {
    ++leases_lost_;
    stop_stream(id, "its lease was not renewed for lease_s (it may be another node's now)", false);
  }
}

namespace {

// The load of this node (lease_plan.h CapacityMeter): the larger of its CPU
// share and its inference workers' busy share.
double node_load(const EngineStats& st) {
  const double cpu = st.cpu_percent / (100.0 * std::max(1, st.budget.cores));
  const double infer_ms = st.stage(Stage::kPreprocess).load_ms_per_s + st.stage(Stage::kInference).load_ms_per_s +
                          st.stage(Stage::kPostprocess).load_ms_per_s;
  const double workers = infer_ms / (1000.0 * std::max(1, st.budget.workers));
  return std::max(cpu, workers);
}

}  // namespace

void ClusterNode::measure_capacity(double now) {
  const EngineStats st = engine_.stats();
  const int streams = static_cast<int>(st.streams.size());
  const bool all_up = st.active_streams() == st.streams.size();
  const double load = node_load(st);
  const int before = capacity_;
  capacity_ = meter_.update(streams, all_up, load, now);
  if (capacity_ != before)
    spdlog::info("cluster: node '{}' capacity {} -> {} stream(s) (measured: load {:.2f} with {} stream(s), {:.3f} each)",
                 options_.name, before, capacity_.load(), load, streams, meter_.per_stream_load());
  std::lock_guard lock(status_mu_);
  status_.load = round3(load);
  status_.per_stream_load = round3(meter_.per_stream_load());
  status_.measured_streams = meter_.measured_streams();
}

bool ClusterNode::write_heartbeat() {
  const json doc = {{"advertise_url", advertise_url_}, {"capacity", capacity_.load()}};
  commands_ += 2;
  auto r = redis_->pipeline({{"SET", node_key(options_.name), doc.dump(), "PX", std::to_string(lease_ms_)},
                             {"SADD", kNodesKey, options_.name}});
  if (!r || (*r)[0].is_error()) {
    std::lock_guard lock(status_mu_);
    status_.last_error = r ? (*r)[0].str : r.error().message;
    return false;
  }
  return true;
}

std::optional<ClusterNode::View> ClusterNode::read_view() {
  auto fail_with = [this](const std::string& message) {
    std::lock_guard lock(status_mu_);
    status_.last_error = message;
    return std::nullopt;
  };
  commands_ += 2;
  auto first = redis_->pipeline({{"HGETALL", kStreamsKey}, {"SMEMBERS", kNodesKey}});
  if (!first) return fail_with(first.error().message);
  if ((*first)[0].is_error() || (*first)[1].is_error()) return fail_with((*first)[0].str + (*first)[1].str);
  View v;
  const auto& hash = (*first)[0].elements;
  for (std::size_t i = 0; i + 1 < hash.size(); i += 2) v.docs[hash[i].str] = hash[i + 1].str;
  std::vector<std::string> names;
  for (const auto& m : (*first)[1].elements) names.push_back(m.str);
  std::sort(names.begin(), names.end());

  std::vector<std::vector<std::string>> cmds;
  for (const auto& n : names) {
    cmds.push_back({"GET", node_key(n)});
    cmds.push_back({"PTTL", node_key(n)});
  }
  std::vector<std::string> ids;
  for (const auto& [id, doc] : v.docs) ids.push_back(id);
  if (!ids.empty()) {
    std::vector<std::string> mget = {"MGET"};
    for (const auto& id : ids) mget.push_back(lease_key(id));
    cmds.push_back(std::move(mget));
  }
  if (cmds.empty()) return v;
  commands_ += cmds.size();
  auto second = redis_->pipeline(cmds);
  if (!second) return fail_with(second.error().message);
  std::vector<std::string> dead;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const RedisReply& doc = (*second)[2 * i];
    const RedisReply& pttl = (*second)[2 * i + 1];
    if (doc.is_nil() || doc.is_error()) {
      dead.push_back(names[i]);
      continue;
    }
    ClusterNodeInfo info;
    info.name = names[i];
    const json j = json::parse(doc.str, nullptr, false);
    if (j.is_object()) {
      info.advertise_url = j.value("advertise_url", "");
      info.capacity = j.value("capacity", 0);
    }
    if (pttl.type == RedisReply::Type::kInteger && pttl.integer >= 0)
      info.heartbeat_age_s = std::max(0.0, static_cast<double>(lease_ms_ - pttl.integer) / 1000.0);
    v.nodes.push_back(std::move(info));
  }
  if (!ids.empty()) {
    const RedisReply& leases = cmds.size() > 2 * names.size() ? second->back() : RedisReply{};
    for (std::size_t i = 0; i < ids.size() && i < leases.elements.size(); ++i)
      if (leases.elements[i].type == RedisReply::Type::kString) v.leases.owners[ids[i]] = owner_of(leases.elements[i].str);
  }
  for (const auto& n : dead) {
    ++commands_;
    (void)redis_->command({"SREM", kNodesKey, n});
  }
  v.leases.self = options_.name;
  v.leases.streams = ids;
  for (const auto& n : v.nodes) v.leases.nodes.push_back({n.name, n.capacity, 0});
  return v;
}

void ClusterNode::follow_documents(const View& view) {
  std::vector<std::string> gone, changed;
  for (const auto& [id, h] : held_) {
    const auto it = view.docs.find(id);
    if (it == view.docs.end()) gone.push_back(id);
    else if (it->second != h.doc) changed.push_back(id);
  }
  for (const auto& id : gone) stop_stream(id, "it was deleted from the cluster", true);
  for (const auto& id : changed) {
    auto config = stream_to_run(id, view.docs.at(id), options_.secrets);
    if (!config) {
      spdlog::error("cluster: stream '{}': its new document cannot be read, it keeps running as it was: {}", id,
                    config.error().message);
      held_[id].doc = view.docs.at(id);  // not read again every tick
      continue;
    }
    (void)engine_.remove_stream(id);
    if (auto r = engine_.add_stream(*config); !r) {
      spdlog::error("cluster: stream '{}': its changed config does not start: {}", id, r.error().message);
      stop_stream(id, "its changed config does not start", true);
      continue;
    }
    held_[id].doc = view.docs.at(id);
    spdlog::info("cluster: stream '{}' changed: restarted with its new document", id);
  }
}

void ClusterNode::claim_and_release(View& view, double now) {
  // What this node holds is what it runs (a stream stopped above is free).
  for (auto it = view.leases.owners.begin(); it != view.leases.owners.end();)
    if (it->second == options_.name && !held_.count(it->first)) it = view.leases.owners.erase(it);
    else ++it;
  for (const auto& [id, h] : held_) view.leases.owners[id] = options_.name;
  for (auto it = failed_starts_.begin(); it != failed_starts_.end();)
    if (now - it->second >= kFailedStartRetry_s) it = failed_starts_.erase(it);
    else ++it;

  for (const auto& id : streams_to_claim(view.leases)) {
    if (failed_starts_.count(id)) continue;
    if (claim(id, view.docs.at(id), now)) view.leases.owners[id] = options_.name;
  }
  const bool over = over_fair_share(view.leases);
  if (hold_.should_release(over, now))
    if (const auto id = stream_to_release(view.leases)) {
      stop_stream(*id, "rebalancing: this node holds more than its fair share", true);
      view.leases.owners.erase(*id);
      hold_.released(now);
    }
}

void ClusterNode::poke() {
  {
    std::lock_guard lock(wake_mu_);
    poked_ = true;
  }
  wake_.notify_all();
}

std::string ClusterNode::next_token() { return options_.name + "|" + boot_ + "|" + std::to_string(next_lease_++); }

bool ClusterNode::claim(const std::string& id, const std::string& doc, double now) {
  auto config = stream_to_run(id, doc, options_.secrets);
  if (!config) {
    spdlog::error("cluster: stream '{}' is not run: its document cannot be read: {}", id, config.error().message);
    failed_starts_[id] = now;
    return false;
  }
  const std::string token = next_token();
  ++commands_;
  auto r = redis_->command({"EVAL", kClaimScript, "1", lease_key(id), token, std::to_string(lease_ms_)});
  if (!r || r->type != RedisReply::Type::kInteger || r->integer != 1) return false;  // another node was first
  if (auto added = engine_.add_stream(*config); !added) {
    spdlog::error("cluster: stream '{}' does not start here: {}", id, added.error().message);
    failed_starts_[id] = now;
    ++commands_;
    (void)redis_->command({"EVAL", kReleaseScript, "1", lease_key(id), token});
    return false;
  }
  held_[id] = Held{token, doc, now};
  spdlog::info("cluster: node '{}' runs stream '{}' (lease {})", options_.name, id, token);
  return true;
}

void ClusterNode::stop_stream(const std::string& id, const char* why, bool release) {
  const auto it = held_.find(id);
  if (it == held_.end()) return;
  const std::string token = it->second.token;
  held_.erase(it);
  (void)engine_.remove_stream(id);  // stopped before the lease is given up
  if (release) {
    ++commands_;
    (void)redis_->command({"EVAL", kReleaseScript, "1", lease_key(id), token});
  }
  spdlog::info("cluster: node '{}' stopped stream '{}': {}", options_.name, id, why);
}

void ClusterNode::publish_status(const View* view, double now) {
  std::vector<std::string> running = engine_.stream_ids();
  std::lock_guard lock(status_mu_);
  status_.connected = view != nullptr;
  status_.capacity = capacity_;
  status_.advertise_url = advertise_url_;
  status_.running = std::move(running);
  status_.commands = commands_;
  status_.leases_lost = leases_lost_;
  if (events_) {
    const auto e = events_->stats();
    status_.events_sent = e.sent;
    status_.events_dropped = e.dropped;
    status_.events_errors = e.errors;
  }
  if (view) last_ok_s_ = now;
  status_.age_s = last_ok_s_ > 0 ? std::max(0.0, now - last_ok_s_) : 0;
  if (!view) return;
  status_.last_error.clear();
  status_.nodes = view->nodes;
  std::map<std::string, std::string> urls;
  for (const auto& n : view->nodes) urls[n.name] = n.advertise_url;
  for (auto& n : status_.nodes) {
    n.streams.clear();
    for (const auto& [id, owner] : view->leases.owners)
      if (owner == n.name) n.streams.push_back(id);
  }
  status_.streams.clear();
  for (const auto& id : view->leases.streams) {
    ClusterStreamInfo s;
    s.id = id;
    if (const auto o = view->leases.owners.find(id); o != view->leases.owners.end()) {
      s.node = o->second;
      if (const auto u = urls.find(s.node); u != urls.end()) s.node_url = u->second;
    }
    status_.streams.push_back(std::move(s));
  }
  std::vector<int> caps;
  for (const auto& n : view->nodes) caps.push_back(n.capacity);
  status_.fair_share = fair_share_level(static_cast<int>(view->leases.streams.size()), caps);
}

ClusterStatus ClusterNode::status() const {
  std::lock_guard lock(status_mu_);
  ClusterStatus out = status_;
  if (last_ok_s_ > 0) out.age_s = std::max(0.0, now_s() - last_ok_s_);
  return out;
}

Result<void> ClusterNode::put_stream(const StreamConfig& stream) {
  std::lock_guard lock(api_mu_);
  auto r = api_redis_->call({"HSET", kStreamsKey, stream.id, stream_document(stream)});
  if (!r) return fail(ErrorCode::kRuntime, "cluster: stream '" + stream.id + "' not stored: " + r.error().message);
  poke();
  return {};
}

Result<void> ClusterNode::delete_stream(const std::string& id) {
  std::lock_guard lock(api_mu_);
  auto r = api_redis_->call({"HDEL", kStreamsKey, id});
  if (!r) return fail(ErrorCode::kRuntime, "cluster: stream '" + id + "' not deleted: " + r.error().message);
  if (r->integer == 0) return fail(ErrorCode::kNotFound, "stream '" + id + "' does not exist");
  poke();
  return {};
}

std::optional<StreamConfig> ClusterNode::stream(const std::string& id) {
  std::lock_guard lock(api_mu_);
  auto r = api_redis_->call({"HGET", kStreamsKey, id});
  if (!r || r->type != RedisReply::Type::kString) return std::nullopt;
  auto s = stream_from_document(id, r->str);
  if (!s) return std::nullopt;
  return *s;
}

}  // namespace vigil
