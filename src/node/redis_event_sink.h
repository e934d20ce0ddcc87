// RedisEventSink: every event of this node's EventBus, also appended to the
// Redis stream `vigil:events` (XADD vigil:events MAXLEN ~ events_maxlen *
// node NAME stream ID kind KIND event JSON), so one consumer (XREAD) sees
// the events of the whole site, each with the node that saw it. The JSON is
// the document of events.jsonl (store/event_json.h).
//
// add_event() pushes to a bounded queue (drop-oldest, counted) and never
// waits, like the MQTT and webhook sinks (src/notify/); one worker thread
// owns the Redis connection and sends in order. An event whose XADD fails
// (Redis away) goes back to the front of the queue and the worker retries
// after a backoff (0.5 s doubling, at most 5 s), so events wait while Redis
// is away, as many as the queue holds.
//
// Threads: add_event(), stats() from any thread; stop() once, from one thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "cluster/redis_client.h"
#include "core/error.h"
#include "core/event.h"
#include "notify/drop_oldest_queue.h"

namespace vigil {

inline constexpr const char* kClusterEventsKey = "vigil:events";

struct RedisEventSinkStats {
  std::uint64_t sent = 0;
  std::uint64_t dropped = 0;  // the queue was full (drop-oldest)
  std::uint64_t errors = 0;   // XADD attempts that failed (each retried)
};

class RedisEventSink {
 public:
  // Connects once (an unreachable Redis is an error here, at start).
  static Result<std::unique_ptr<RedisEventSink>> start(const RedisUrl& url, std::string node, int maxlen,
                                                       std::size_t queue = 10000);
  ~RedisEventSink();
  RedisEventSink(const RedisEventSink&) = delete;
  RedisEventSink& operator=(const RedisEventSink&) = delete;

  void add_event(const Event& event);
  // Sends what waits for at most `drain_s`, then stops. Idempotent.
  void stop(double drain_s = 2.0);
  RedisEventSinkStats stats() const;

 private:
  RedisEventSink(std::string node, int maxlen, std::size_t queue);
  void run();

  const std::string node_;
  const std::string maxlen_;
  std::unique_ptr<RedisClient> redis_;  // the worker's
  DropOldestQueue<Event> queue_;  // JSON is made on the worker
  std::thread worker_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<double> drain_until_s_{0};
  std::atomic<std::uint64_t> sent_{0}, errors_{0};
};

}  // namespace vigil
