#include "pipeline/caption_service.h"

#include <cmath>
#include <thread>

#include "describe/template_captioner.h"
#include "describe/vlm_captioner.h"

namespace vigil {

namespace {

std::string settings_key(const DescribeConfig& c) {
  if (c.captioner == "template") return "template";
  return nlohmann::json{c.captioner, c.endpoint, c.model, c.api_key, c.prompt, c.max_tokens, c.max_side, c.timeout_s}
      .dump();
}

double r1(double v) { return std::round(v * 10.0) / 10.0; }

}  // namespace

Result<std::shared_ptr<Captioner>> make_captioner(const DescribeConfig& config, const std::string& path) {
  if (config.captioner == "template") return std::shared_ptr<Captioner>(std::make_shared<TemplateCaptioner>());
  if (config.captioner != "vlm")
    return fail(ErrorCode::kInvalidArgument, path + ".captioner: '" + config.captioner + "' makes no captions");
  VlmOptions o;
  o.endpoint = config.endpoint;
  o.model = config.model;
  o.api_key = config.api_key;
  o.prompt = config.prompt;
  o.max_tokens = config.max_tokens;
  o.max_side = config.max_side;
  o.timeout_s = config.timeout_s;
  auto v = VlmCaptioner::create(o, path);
  if (!v) return fail(v.error());
  return std::shared_ptr<Captioner>(std::move(*v));
}

CaptionService::~CaptionService() { stop(); }

void CaptionService::stop() {
  std::lock_guard lock(mu_);
  for (auto& [key, e] : schedulers_) e.scheduler->stop();
}

void CaptionService::drain(std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int pending = 0;
    {
      std::lock_guard lock(mu_);
      for (auto& [key, e] : schedulers_) pending += e.scheduler->stats().pending;
    }
    if (pending == 0 || std::chrono::steady_clock::now() >= end) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Result<std::shared_ptr<CaptionScheduler>> CaptionService::scheduler_for(const DescribeConfig& config,
                                                                         const std::string& path) {
  if (!config.enabled()) return std::shared_ptr<CaptionScheduler>();
  const std::string key = settings_key(config);
  std::lock_guard lock(mu_);
  if (auto it = schedulers_.find(key); it != schedulers_.end()) return it->second.scheduler;
  auto captioner = make_captioner(config, path);
  if (!captioner) return fail(captioner.error());
  auto s = std::make_shared<CaptionScheduler>(std::move(*captioner));
  schedulers_[key] = Entry{config, s};
  return s;
}

nlohmann::json CaptionService::stats_json() const {
  nlohmann::json list = nlohmann::json::array();
  std::uint64_t requests = 0, done = 0, errors = 0, skipped = 0;
  std::lock_guard lock(mu_);
  for (const auto& [key, e] : schedulers_) {
    const CaptionStats s = e.scheduler->stats();
    requests += s.requests;
    done += s.done;
    errors += s.errors;
    skipped += s.skipped;
    nlohmann::json j = {{"captioner", e.config.captioner},
                        {"requests", s.requests},
                        {"done", s.done},
                        {"errors", s.errors},
                        {"skipped", s.skipped},
                        {"pending", s.pending},
                        {"latency_ms",
                         {{"avg", r1(s.latency.avg)},
                          {"p50", r1(s.latency.p50)},
                          {"p95", r1(s.latency.p95)},
                          {"p99", r1(s.latency.p99)},
                          {"max", r1(s.latency.max)},
                          {"count", s.latency.count}}},
                        {"last_error", s.last_error}};
    if (e.config.captioner == "vlm") {
      j["endpoint"] = e.config.endpoint;
      j["model"] = e.config.model;
    }
    list.push_back(std::move(j));
  }
  return {{"captioners", list}, {"requests", requests}, {"done", done}, {"errors", errors}, {"skipped", skipped}};
}

}  // namespace vigil
