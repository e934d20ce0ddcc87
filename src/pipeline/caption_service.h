// CaptionService: the engine's captioners and their schedulers (src/describe).
//
// Streams with the same captioner settings (captioner, endpoint, model,
// api_key, prompt, max_tokens, max_side, timeout_s) share one
// CaptionScheduler, so a VLM server sees at most 2 requests at a time from
// this engine (queued or in flight); a request beyond that is skipped and
// counted. The template captioner gets its own scheduler too, so captioning
// never runs on a video or detection thread.
//
// Threads: every method may be called from any thread. Schedulers live as
// long as the service (the engine); caption callbacks capture only what
// outlives them (the event bus, a stream's shared caption box).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/engine_config.h"
#include "core/error.h"
#include "describe/caption_scheduler.h"

namespace vigil {

// Builds the captioner a DescribeConfig names (template or vlm). kInvalidArgument
// for captioner "off" or bad VLM settings (errors name `path`).
Result<std::shared_ptr<Captioner>> make_captioner(const DescribeConfig& config, const std::string& path);

// One scheduler's figures; latency in ms rounded to 0.1.
struct CaptionerStats {
  CaptionerKind captioner = CaptionerKind::kTemplate;  // template or vlm
  std::optional<std::string> endpoint;  // vlm only
  std::optional<std::string> model;     // vlm only
  CaptionStats stats;
};

// Every scheduler's figures (in settings order) and their totals.
struct CaptionServiceStats {
  std::vector<CaptionerStats> captioners;
  std::uint64_t requests = 0, done = 0, errors = 0, skipped = 0;
};

class CaptionService {
 public:
  CaptionService() = default;
  ~CaptionService();  // stops every scheduler
  CaptionService(const CaptionService&) = delete;
  CaptionService& operator=(const CaptionService&) = delete;

  // The scheduler for these settings, created on first use; null when
  // captions are off for them (captioner off, or no schedule). Errors as
  // make_captioner.
  Result<std::shared_ptr<CaptionScheduler>> scheduler_for(const DescribeConfig& config, const std::string& path);

  CaptionServiceStats stats() const;

  // Waits until no caption is queued or in flight (or `limit` passes).
  void drain(std::chrono::milliseconds limit);
  // Stops every scheduler: queued captions are dropped, one in flight is
  // cancelled; no callback runs after this returns. Idempotent.
  void stop();

 private:
  mutable std::mutex mu_;
  struct Entry {
    DescribeConfig config;
    std::shared_ptr<CaptionScheduler> scheduler;
  };
  std::map<std::string, Entry> schedulers_;  // by settings key
};

}  // namespace vigil
