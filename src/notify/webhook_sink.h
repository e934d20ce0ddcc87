// WebhookSink: one webhook (WebhookConfig): events of the chosen kinds and
// streams POSTed as JSON (the document of events.jsonl, store/event_json.h)
// with libcurl, Content-Type application/json plus the configured headers.
//
// add_event() filters and pushes to the hook's bounded queue (drop-oldest,
// counted); it never waits, so the EventBus subscriber returns at once. One
// worker thread per hook delivers in order: a 2xx answer is delivered; any
// other answer or a transport error is retried up to `retries` times with
// exponential backoff (0.5 s doubling, at most 30 s), then counted failed.
//
// Threads: add_event(), stats() from any thread; stop() and the destructor
// once, from one thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "config/engine_config.h"
#include "core/error.h"
#include "core/event.h"
#include "notify/drop_oldest_queue.h"
#include "notify/notify_stats.h"

namespace vigil {

class WebhookSink {
 public:
  static Result<std::unique_ptr<WebhookSink>> start(const WebhookConfig& config);
  ~WebhookSink();
  WebhookSink(const WebhookSink&) = delete;
  WebhookSink& operator=(const WebhookSink&) = delete;

  // Whether this hook takes the event (kinds and streams filters). Pure.
  bool wants(const Event& event) const;
  void add_event(const Event& event);
  // Delivers what waits for at most `drain_s` (no backoff waits beyond it), then stops. Idempotent.
  void stop(double drain_s = 2.0);
  WebhookStats stats() const;

 private:
  explicit WebhookSink(WebhookConfig config);
  void run();
  // One POST; true on a 2xx answer.
  bool post(const std::string& body);
  // Waits `seconds` unless the sink is stopping; false when it is stopping.
  bool backoff_wait(double seconds);

  const WebhookConfig config_;
  std::set<EventKind> kinds_;
  std::set<std::string> streams_;
  DropOldestQueue<std::string> queue_;  // event JSON documents
  std::thread worker_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<double> drain_until_s_{0};  // steady clock seconds; set by stop()
  std::atomic<std::uint64_t> delivered_{0}, failed_{0}, retries_{0};
};

}  // namespace vigil
