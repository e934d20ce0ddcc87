#include "node/redis_event_sink.h"

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "store/event_json.h"

namespace vigil {
namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

RedisEventSink::RedisEventSink(std::string node, int maxlen, std::size_t queue)
    : node_(std::move(node)), maxlen_(std::to_string(maxlen)), queue_(queue) {}

RedisEventSink::~RedisEventSink() { stop(0); }

Result<std::unique_ptr<RedisEventSink>> RedisEventSink::start(const RedisUrl& url, std::string node, int maxlen,
                                                              std::size_t queue) {
  auto sink = std::unique_ptr<RedisEventSink>(new RedisEventSink(std::move(node), maxlen, queue));
  RedisClientOptions o;
  o.url = url;
  o.reconnect_for = std::chrono::seconds(2);  // the worker retries itself, with its own backoff
  o.stop = &sink->stop_;
  auto client = RedisClient::connect(o);
  if (!client) return fail(client.error());
  sink->redis_ = std::move(*client);
  sink->worker_ = std::thread([s = sink.get()] { s->run(); });
  return sink;
}

void RedisEventSink::add_event(const Event& event) { queue_.push(event); }

void RedisEventSink::run() {
  double backoff_s = 0.5;
  for (;;) {
    const bool stopping = stop_.load();
    if (stopping && now_s() >= drain_until_s_.load()) return;
    auto ev = queue_.pop_until(std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
    if (!ev) {
      if (stopping) return;  // closed and empty
      continue;
    }
    auto r = redis_->call({"XADD", kClusterEventsKey, "MAXLEN", "~", maxlen_, "*", "node", node_, "stream", ev->stream,
                           "kind", to_string(ev->kind), "event", to_json(*ev).dump()});
    if (r) {
      ++sent_;
      backoff_s = 0.5;
      continue;
    }
    ++errors_;
    if (errors_ == 1 || errors_ % 100 == 0)
      spdlog::warn("cluster events: {} (the event waits and is sent again)", r.error().message);
    queue_.push_front(std::move(*ev));
    const double until = now_s() + backoff_s;
    while (!stop_ && now_s() < until) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    backoff_s = std::min(backoff_s * 2, 5.0);
  }
}

void RedisEventSink::stop(double drain_s) {
  if (stopped_.exchange(true)) return;
  drain_until_s_ = now_s() + drain_s;
  stop_ = true;
  queue_.close();
  if (worker_.joinable()) worker_.join();
}

RedisEventSinkStats RedisEventSink::stats() const { return {sent_.load(), queue_.dropped(), errors_.load()}; }

}  // namespace vigil
