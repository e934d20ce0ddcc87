#include "pipeline/caption_service.h"

#include <thread>

#include <nlohmann/json.hpp>

#include "core/round.h"
#include "describe/template_captioner.h"
#include "describe/vlm_captioner.h"

namespace vigil {

namespace {

std::string settings_key(const DescribeConfig& c) {
  if (c.captioner == CaptionerKind::kTemplate) return "template";
  return nlohmann::json{to_string(c.captioner), c.endpoint, c.model, c.api_key, c.prompt, c.max_tokens, c.max_side, c.timeout_s}
      .dump();
}

}  // namespace

Result<std::shared_ptr<Captioner>> make_captioner(const DescribeConfig& config, const std::string& path) {
  if (config.captioner == CaptionerKind::kTemplate) return std::shared_ptr<Captioner>(std::make_shared<TemplateCaptioner>());
  if (config.captioner != CaptionerKind::kVlm)
    return fail(ErrorCode::kInvalidArgument,
                path + ".captioner: '" + std::string(to_string(config.captioner)) + "' makes no captions");
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

CaptionServiceStats CaptionService::stats() const {
  CaptionServiceStats out;
  std::lock_guard lock(mu_);
  for (const auto& [key, e] : schedulers_) {
    CaptionerStats c;
    c.captioner = e.config.captioner;
    c.stats = e.scheduler->stats();
    for (double* v : {&c.stats.latency.avg, &c.stats.latency.p50, &c.stats.latency.p95, &c.stats.latency.p99,
                      &c.stats.latency.max})
      *v = round1(*v);
    if (e.config.captioner == CaptionerKind::kVlm) {
      c.endpoint = e.config.endpoint;
      c.model = e.config.model;
    }
    out.requests += c.stats.requests;
    out.done += c.stats.done;
    out.errors += c.stats.errors;
    out.skipped += c.stats.skipped;
    out.captioners.push_back(std::move(c));
  }
  return out;
}

}  // namespace vigil
