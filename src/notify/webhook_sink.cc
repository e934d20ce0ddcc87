#include "notify/webhook_sink.h"

#include <chrono>
#include <mutex>

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include "media/reconnect_policy.h"
#include "media/source_url.h"
#include "store/event_json.h"

namespace vigil {
namespace {

using Clock = std::chrono::steady_clock;

double now_s() { return std::chrono::duration<double>(Clock::now().time_since_epoch()).count(); }

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::size_t discard(char*, std::size_t size, std::size_t n, void*) { return size * n; }

struct CurlHandle {
  CURL* h = curl_easy_init();
  curl_slist* headers = nullptr;
  ~CurlHandle() {
    if (headers) curl_slist_free_all(headers);
    if (h) curl_easy_cleanup(h);
  }
};

}  // namespace

WebhookSink::WebhookSink(WebhookConfig config)
    : config_(std::move(config)), queue_(static_cast<std::size_t>(config_.queue)) {
  for (const auto& k : config_.kinds)
    if (auto kind = parse_event_kind(k)) kinds_.insert(*kind);
  streams_.insert(config_.streams.begin(), config_.streams.end());
}

Result<std::unique_ptr<WebhookSink>> WebhookSink::start(const WebhookConfig& config) {
  if (config.url.rfind("http://", 0) != 0 && config.url.rfind("https://", 0) != 0)
    return fail(ErrorCode::kInvalidArgument, "webhook url '" + redact_url(config.url) + "': must start with http:// or https://");
  init_curl_once();
  auto sink = std::unique_ptr<WebhookSink>(new WebhookSink(config));
  sink->worker_ = std::thread([s = sink.get()] { s->run(); });
  return sink;
}

WebhookSink::~WebhookSink() { stop(); }

bool WebhookSink::wants(const Event& e) const {
  return (kinds_.empty() || kinds_.count(e.kind)) && (streams_.empty() || streams_.count(e.stream));
}

void WebhookSink::add_event(const Event& e) {
  if (wants(e)) queue_.push(to_json(e).dump());
}

void WebhookSink::stop(double drain_s) {
  if (stopped_.exchange(true)) return;
  drain_until_s_ = now_s() + drain_s;
  stop_ = true;
  queue_.close();
  if (worker_.joinable()) worker_.join();
}

bool WebhookSink::post(const std::string& body) {
  CurlHandle c;
  if (!c.h) return false;
  c.headers = curl_slist_append(c.headers, "Content-Type: application/json");
  for (const auto& [name, value] : config_.headers) c.headers = curl_slist_append(c.headers, (name + ": " + value).c_str());
  curl_easy_setopt(c.h, CURLOPT_URL, config_.url.c_str());
  curl_easy_setopt(c.h, CURLOPT_HTTPHEADER, c.headers);
  curl_easy_setopt(c.h, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(c.h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(c.h, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout_s * 1000));
  curl_easy_setopt(c.h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, discard);
  const CURLcode rc = curl_easy_perform(c.h);
  long status = 0;
  curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, &status);
  if (rc != CURLE_OK) {
    spdlog::debug("webhook {}: {}", redact_url(config_.url), curl_easy_strerror(rc));
    return false;
  }
  return status >= 200 && status < 300;
}

bool WebhookSink::backoff_wait(double seconds) {
  const double until = now_s() + seconds;
  while (now_s() < until) {
    if (stop_ && until > drain_until_s_) return false;  // stopping: no wait beyond the drain time
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

void WebhookSink::run() {
  try {
    while (true) {
      if (stop_ && now_s() >= drain_until_s_) break;
      auto body = queue_.pop_until(Clock::now() + std::chrono::milliseconds(200));
      if (!body) {
        if (stop_) break;
        continue;
      }
      ReconnectPolicy backoff{0.5, 30.0};
      bool ok = post(*body);
      for (int attempt = 0; !ok && attempt < config_.retries; ++attempt) {
        if (!backoff_wait(backoff.next_delay())) break;
        retries_.fetch_add(1, std::memory_order_relaxed);
        ok = post(*body);
      }
      if (ok) {
        delivered_.fetch_add(1, std::memory_order_relaxed);
      } else {
        failed_.fetch_add(1, std::memory_order_relaxed);
        spdlog::warn("webhook {}: an event could not be delivered (gave up after {} attempts)",
                     redact_url(config_.url), config_.retries + 1);
      }
    }
  } catch (const std::exception& e) {
    spdlog::error("webhook {}: worker stopped: {}", redact_url(config_.url), e.what());
  }
}

WebhookStats WebhookSink::stats() const {
  WebhookStats s;
  s.url = redact_url(config_.url);
  s.delivered = delivered_.load(std::memory_order_relaxed);
  s.failed = failed_.load(std::memory_order_relaxed);
  s.retries = retries_.load(std::memory_order_relaxed);
  s.dropped = queue_.dropped();
  s.queued = queue_.size();
  return s;
}

}  // namespace vigil
