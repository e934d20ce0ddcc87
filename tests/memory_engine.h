// MemoryEngine: a StreamEngine kept in memory, for the router's unit tests.
// A test double on purpose: the router's contract (which route calls which
// engine method, and what it answers) is checked without a model, decoder
// threads or sockets, in milliseconds; the real Engine behind the same
// router is tested over real sockets in tests/integration/server_*_test.cc.
// Events are stored in a real SqliteStore (a file under the test tmp dir).
// Threads: every method locks; safe from any thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "server/stream_engine.h"
#include "store/sqlite_store.h"

namespace vigil::test {

class MemoryEngine final : public StreamEngine {
 public:
  // The stats of every stream: up, `display_fps` frames per second shown.
  static constexpr double kDisplayFps = 12.5;
  static constexpr double kInferenceAvgMs = 40;
  // What streams added through the API start from (set before serving).
  StreamConfig defaults;

  EngineStats stats() const override {
    std::lock_guard lock(mu_);
    if (throw_on_stats_) throw std::runtime_error("stats exploded");
    EngineStats st;
    st.running = true;
    for (const auto& id : order_) {
      if (!streams_.at(id).enabled) continue;  // kept, not run
      StreamSnapshot s;
      s.id = id;
      s.url = streams_.at(id).url;
      s.up = true;
      s.display_fps = kDisplayFps;
      s.every = streams_.at(id).every;
      s.frames = 100;
      s.drops = {{DropReason::kGate, 3}};
      st.streams.push_back(s);
    }
    st.stages[static_cast<std::size_t>(Stage::kInference)].latency.avg = kInferenceAvgMs;
    st.stages[static_cast<std::size_t>(Stage::kInference)].latency.count = 10;
    st.batch_size_avg = 2;
    st.inferences = 20;
    st.cpu_percent = 50;
    st.ram_mb = 100;
    st.provider = "memory";
    return st;
  }
  void reset_stats() override {
    std::lock_guard lock(mu_);
    ++resets_;
  }
  std::vector<std::string> stream_ids() const override {
    std::lock_guard lock(mu_);
    return order_;
  }
  std::optional<StreamConfig> stream_config(const std::string& id) const override {
    std::lock_guard lock(mu_);
    const auto it = streams_.find(id);
    if (it == streams_.end()) return std::nullopt;
    return it->second;
  }
  StreamConfig stream_defaults() const override { return defaults; }
  Result<void> add_stream(StreamConfig config) override {
    std::lock_guard lock(mu_);
    ++adds_;
    if (config.every == refuse_every_)
      return fail(ErrorCode::kRuntime, "streams[" + config.id + "]: refused by the test engine");
    if (streams_.count(config.id)) return fail(ErrorCode::kInvalidArgument, "stream '" + config.id + "' exists");
    order_.push_back(config.id);
    streams_.emplace(config.id, std::move(config));
    return {};
  }
  Result<void> remove_stream(const std::string& id) override {
    std::lock_guard lock(mu_);
    if (!streams_.erase(id)) return fail(ErrorCode::kNotFound, "stream '" + id + "' does not exist");
    std::erase(order_, id);
    return {};
  }
  Result<void> replace_stream(StreamConfig config) override {
    std::lock_guard lock(mu_);
    const auto it = streams_.find(config.id);
    if (it == streams_.end()) return fail(ErrorCode::kNotFound, "stream '" + config.id + "' does not exist");
    ++adds_;
    if (config.every == refuse_every_)
      return fail(ErrorCode::kRuntime, "streams[" + config.id + "]: refused by the test engine");
    it->second = std::move(config);
    return {};
  }
  bool has_event_store() const override { return store_ != nullptr; }
  Result<std::vector<Event>> query_events(const EventQuery& query) override {
    if (!store_) return fail(ErrorCode::kNotFound, "no event store");
    return store_->query(query);
  }

  // Test controls.
  void set_store(std::unique_ptr<SqliteStore> store) { store_ = std::move(store); }
  SqliteStore* store() { return store_.get(); }
  void refuse_every(int every) {
    std::lock_guard lock(mu_);
    refuse_every_ = every;
  }
  void throw_on_stats(bool on) {
    std::lock_guard lock(mu_);
    throw_on_stats_ = on;
  }
  int resets() const {
    std::lock_guard lock(mu_);
    return resets_;
  }
  int adds() const {
    std::lock_guard lock(mu_);
    return adds_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, StreamConfig> streams_;
  std::vector<std::string> order_;
  std::unique_ptr<SqliteStore> store_;
  bool throw_on_stats_ = false;
  int refuse_every_ = -1;  // add_stream of a config with this `every` fails
  int resets_ = 0;
  int adds_ = 0;
};

}  // namespace vigil::test
