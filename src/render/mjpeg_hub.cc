#include "render/mjpeg_hub.h"

#include <algorithm>
#include <cmath>

namespace vigil {

Result<void> MjpegVariant::validate() const {
  if (quality < 1 || quality > 100)
    return fail(ErrorCode::kInvalidArgument, "quality must be 1..100, got " + std::to_string(quality));
  if (!(fps > 0) || fps > kMaxFps)
    return fail(ErrorCode::kInvalidArgument, "fps must be > 0 and <= 30, got " + std::to_string(fps));
  if (max_width < 0)
    return fail(ErrorCode::kInvalidArgument,
                "max_width must be 0 (source width) or a width in pixels, got " + std::to_string(max_width));
  return {};
}

MjpegVariant MjpegVariant::clamped() const {
  MjpegVariant v = *this;
  v.motion = overlay && motion;  // motion boxes are drawn on the overlay only
  v.quality = std::clamp(quality, 1, 100);
  v.fps = std::isfinite(fps) && fps > 0 ? std::min(fps, kMaxFps) : kMaxFps;
  v.max_width = std::max(0, max_width);
  return v;
}

MjpegVariant MjpegVariant::quantised() const {
  MjpegVariant v = clamped();
  int best_quality = kQualitySteps[0];
  for (const int q : kQualitySteps)
    if (std::abs(q - v.quality) <= std::abs(best_quality - v.quality)) best_quality = q;
  v.quality = best_quality;
  double best_fps = kFpsSteps[0];
  for (const double f : kFpsSteps)
    if (f <= v.fps) best_fps = f;
  v.fps = best_fps;
  if (v.max_width > 0) {
    int best_width = kWidthSteps[0];
    for (const int w : kWidthSteps)
      if (w <= v.max_width) best_width = w;
    v.max_width = best_width;
  }
  return v;
}

// ---------------------------------------------------------------- viewer

JpegBuffer MjpegViewer::pop(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || closed_; });
  if (queue_.empty()) return nullptr;
  JpegBuffer jpeg = std::move(queue_.front());
  queue_.pop_front();
  return jpeg;
}

bool MjpegViewer::push(JpegBuffer jpeg) {
  bool dropped = false;
  {
    std::lock_guard lock(mu_);
    if (closed_) return false;
    if (queue_.size() >= kCapacity) {
      queue_.pop_front();
      ++drops_;
      dropped = true;
    }
    queue_.push_back(std::move(jpeg));
    ++delivered_;
  }
  cv_.notify_one();
  return dropped;
}

void MjpegViewer::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

bool MjpegViewer::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}
std::uint64_t MjpegViewer::drops() const {
  std::lock_guard lock(mu_);
  return drops_;
}
std::uint64_t MjpegViewer::delivered() const {
  std::lock_guard lock(mu_);
  return delivered_;
}
std::size_t MjpegViewer::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

// ---------------------------------------------------------------- hub

MjpegHub::~MjpegHub() {
  std::lock_guard lock(mu_);
  for (auto& [variant, state] : variants_)
    for (const auto& weak : state.viewers)
      if (auto viewer = weak.lock()) viewer->close();
}

namespace {

// How far apart two variants look to a viewer: overlay first, then size,
// rate and quality.
double variant_distance(const MjpegVariant& a, const MjpegVariant& b) {
  const auto width = [](int w) { return w == 0 ? 100000.0 : static_cast<double>(w); };
  return (a.overlay != b.overlay ? 1e9 : 0.0) + std::abs(width(a.max_width) - width(b.max_width)) +
         10.0 * std::abs(a.fps - b.fps) + std::abs(a.quality - b.quality);
}

}  // namespace

MjpegVariant MjpegHub::admit(const MjpegVariant& wanted) const {
  std::vector<MjpegVariant> watched;
  for (const auto& [variant, state] : variants_) {
    const bool live = std::any_of(state.viewers.begin(), state.viewers.end(),
                                  [](const std::weak_ptr<MjpegViewer>& w) { return !w.expired(); });
    if (!live) continue;
    if (variant == wanted) return wanted;
    watched.push_back(variant);
  }
  if (watched.size() < kMaxVariants) return wanted;
  return *std::min_element(watched.begin(), watched.end(), [&](const MjpegVariant& a, const MjpegVariant& b) {
    return variant_distance(a, wanted) < variant_distance(b, wanted);
  });
}

std::shared_ptr<MjpegViewer> MjpegHub::subscribe(const MjpegVariant& variant) {
  std::lock_guard lock(mu_);
  const MjpegVariant v = admit(variant.quantised());
  auto viewer = std::make_shared<MjpegViewer>(v);
  VariantState& state = variants_[v];
  state.stats.variant = v;
  state.viewers.push_back(viewer);
  return viewer;
}

std::vector<std::shared_ptr<MjpegViewer>> MjpegHub::live_viewers(VariantState& state) {
  std::vector<std::shared_ptr<MjpegViewer>> live;
  live.reserve(state.viewers.size());
  std::erase_if(state.viewers, [&](const std::weak_ptr<MjpegViewer>& weak) {
    auto viewer = weak.lock();
    if (!viewer) return true;
    live.push_back(std::move(viewer));
    return false;
  });
  return live;
}

bool MjpegHub::has_viewers() const {
  std::lock_guard lock(mu_);
  for (const auto& [variant, state] : variants_)
    for (const auto& weak : state.viewers)
      if (!weak.expired()) return true;
  return false;
}

Result<std::vector<std::uint8_t>> MjpegHub::encode(const MjpegVariant& variant, const VideoFrame& frame,
                                                   const OverlayInput& overlay, double& overlay_ms) {
  overlay_ms = 0;
  if (!variant.overlay) return encoder_.encode_yuv420(frame, variant.quality, variant.max_width);
  auto image = encoder_.to_bgr(frame, variant.max_width);
  if (!image) return fail(image.error());
  OverlayInput in = overlay;
  if (!variant.motion) in.motion = in.regions = nullptr;
  in.source_w = frame.width();
  in.source_h = frame.height();
  const auto start = std::chrono::steady_clock::now();
  draw_overlay(*image, in);
  overlay_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return encoder_.encode(*image, variant.quality);
}

void MjpegHub::on_frame(const VideoFrame& frame, double pts, const OverlayInput& overlay) {
  struct Job {
    MjpegVariant variant;
    std::vector<std::shared_ptr<MjpegViewer>> viewers;
  };
  std::vector<Job> jobs;
  {
    std::lock_guard lock(mu_);
    ++frames_seen_;
    for (auto it = variants_.begin(); it != variants_.end();) {
      VariantState& state = it->second;
      auto live = live_viewers(state);
      if (live.empty()) {
        // Nobody watches: forget the variant (its throttle restarts with the next viewer).
        it = variants_.erase(it);
        continue;
      }
      const double interval = 1.0 / it->first.fps;
      if (!state.started || pts < state.last_pts) state.due_pts = pts;
      state.started = true;
      state.last_pts = pts;
      // 1 ms slack: pts of a 25 fps source step 0.04 s in floating point.
      if (pts + 1e-3 >= state.due_pts) {
        // Scheduled rather than "last + interval", so the average rate is
        // exact; after a gap the schedule restarts from now (no burst).
        state.due_pts += interval;
        if (state.due_pts <= pts) state.due_pts = pts + interval;
        jobs.push_back(Job{it->first, std::move(live)});
      }
      ++it;
    }
  }
  for (Job& job : jobs) {
    const auto start = std::chrono::steady_clock::now();
    double overlay_ms = 0;
    auto bytes = encode(job.variant, frame, overlay, overlay_ms);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (timing_sink_ && bytes) timing_sink_(FrameTiming{overlay_ms, ms - overlay_ms, job.variant.overlay});
    std::uint64_t dropped = 0;
    std::size_t size = 0;
    if (bytes) {
      size = bytes->size();
      const JpegBuffer jpeg = std::make_shared<const std::vector<std::uint8_t>>(std::move(*bytes));
      for (const auto& viewer : job.viewers)
        if (viewer->push(jpeg)) ++dropped;
    }
    std::lock_guard lock(mu_);
    const auto it = variants_.find(job.variant);
    if (it == variants_.end()) continue;  // cannot happen (only on_frame erases), kept for safety
    MjpegVariantStats& s = it->second.stats;
    s.encode_ms_total += ms;
    s.encode_ms_last = ms;
    if (bytes) {
      ++s.frames_encoded;
      ++frames_encoded_;
      s.bytes_last = size;
      s.drops += dropped;
    } else {
      ++s.encode_errors;
    }
  }
}

MjpegHubStats MjpegHub::stats() const {
  std::lock_guard lock(mu_);
  MjpegHubStats out;
  out.frames_seen = frames_seen_;
  out.frames_encoded = frames_encoded_;
  for (const auto& [variant, state] : variants_) {
    MjpegVariantStats s = state.stats;
    s.viewers = static_cast<std::size_t>(
        std::count_if(state.viewers.begin(), state.viewers.end(), [](const auto& w) { return !w.expired(); }));
    out.viewers += s.viewers;
    out.variants.push_back(s);
  }
  return out;
}

}  // namespace vigil
