#include "describe/caption_scheduler.h"

#include "core/media_time.h"

#include <cassert>
#include <cmath>
#include <exception>
#include <utility>

namespace vigil {

Result<void> CaptionTriggerOptions::validate(const std::string& path) const {
  if (every_frames < 0) return fail(ErrorCode::kInvalidArgument, path + ".every_frames: must be >= 0 (0 = off)");
  if (!std::isfinite(every_s) || every_s < 0) {
    return fail(ErrorCode::kInvalidArgument, path + ".every_s: must be >= 0 (0 = off)");
  }
  if (!std::isfinite(scene_threshold) || scene_threshold < 0 || scene_threshold > 1) {
    return fail(ErrorCode::kInvalidArgument, path + ".scene_threshold: must be between 0 and 1");
  }
  if (!std::isfinite(scene_min_interval_s) || scene_min_interval_s < 0) {
    return fail(ErrorCode::kInvalidArgument, path + ".scene_min_interval_s: must be >= 0");
  }
  return {};
}

bool CaptionTrigger::due(std::int64_t frame_no, double pts, double scene_diff) {
  if (!options_.enabled()) return false;
  constexpr double kEps = kMediaTimeEpsilon;  // pts sums like 0.1 + 0.2 must still reach every_s = 0.3
  const bool scene_change = options_.on_scene_change && scene_diff > options_.scene_threshold;
  if (has_last_ && (frame_no < last_frame_ || pts < last_pts_)) has_last_ = false;
  bool fire = false;
  if (!has_last_) {
    fire = options_.every_frames > 0 || options_.every_s > 0 || scene_change;
  } else {
    if (options_.every_frames > 0 && frame_no - last_frame_ >= options_.every_frames) fire = true;
    if (options_.every_s > 0 && pts - last_pts_ >= options_.every_s - kEps) fire = true;
    if (scene_change && pts - last_pts_ >= options_.scene_min_interval_s - kEps) fire = true;
  }
  if (fire) {
    has_last_ = true;
    last_frame_ = frame_no;
    last_pts_ = pts;
  }
  return fire;
}

Result<void> CaptionSchedulerOptions::validate(const std::string& path) const {
  if (queue_max < 1) return fail(ErrorCode::kInvalidArgument, path + ".queue_max: must be >= 1");
  return {};
}

CaptionScheduler::CaptionScheduler(std::shared_ptr<Captioner> captioner, CaptionSchedulerOptions options)
    : captioner_(std::move(captioner)), options_(options) {
  assert(captioner_ && "CaptionScheduler needs a captioner");
  if (options_.queue_max < 1) options_.queue_max = 1;
  worker_ = std::thread([this] { run(); });
}

CaptionScheduler::~CaptionScheduler() { stop(); }

bool CaptionScheduler::submit(CaptionScene scene, Callback done) {
  {
    std::lock_guard lock(mu_);
    const int pending = static_cast<int>(queue_.size()) + (in_flight_ ? 1 : 0);
    if (stopping_ || pending >= options_.queue_max) {
      ++counts_.skipped;
      return false;
    }
    ++counts_.requests;
    queue_.push_back(Job{std::move(scene), std::move(done)});
  }
  cv_.notify_one();
  return true;
}

CaptionStats CaptionScheduler::stats() const {
  CaptionStats s;
  {
    std::lock_guard lock(mu_);
    s = counts_;
    s.pending = static_cast<int>(queue_.size()) + (in_flight_ ? 1 : 0);
  }
  s.latency = latency_.summary();
  return s;
}

void CaptionScheduler::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  captioner_->cancel();
  std::lock_guard join_lock(join_mu_);
  if (worker_.joinable() && worker_.get_id() != std::this_thread::get_id()) worker_.join();
}

void CaptionScheduler::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      in_flight_ = true;
    }
    Result<Caption> result = fail(ErrorCode::kRuntime, "not captioned");
    try {
      result = captioner_->caption(job.scene);
    } catch (const std::exception& e) {
      result = fail(ErrorCode::kRuntime, "stream '" + job.scene.stream + "': captioner failed: " + e.what());
    }
    if (result) latency_.add(result->latency_ms);
    {
      std::lock_guard lock(mu_);
      if (stopping_) {  // a cancelled request at shutdown is neither an error nor a caption
        in_flight_ = false;
        return;
      }
      if (result) {
        ++counts_.done;
      } else {
        ++counts_.errors;
        counts_.last_error = result.error().message;
      }
    }
    if (job.done) {
      try {
        job.done(std::move(result), job.scene);
      } catch (...) {
        std::lock_guard lock(mu_);
        ++counts_.callback_errors;
      }
    }
    std::lock_guard lock(mu_);
    in_flight_ = false;
  }
}

}  // namespace vigil
