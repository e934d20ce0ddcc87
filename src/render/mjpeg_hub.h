// MjpegHub: one stream's live JPEG fan-out. Each distinct output variant
// (overlay or plain, quality, fps, max width) is encoded AT MOST ONCE per
// displayed frame and the same immutable buffer is handed to every viewer of
// that variant. A variant nobody watches costs nothing: no conversion, no
// drawing, no encoding.
//
// Threads: on_frame() is called by the stream loop thread (one thread at a
// time: it owns the hub's encoder); subscribe(), stats() and every
// MjpegViewer method may be called from any thread (server connections).
// Encoding runs outside the hub's lock, so viewers never wait on it.
//
// Lifetime: a viewer unsubscribes by releasing its shared_ptr (the hub keeps
// weak_ptrs). Destroying the hub closes every viewer: pop() then returns null
// at once and closed() is true, so the server can end the response.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.h"
#include "media/video_frame.h"
#include "render/frame_encoder.h"
#include "render/overlay.h"

namespace vigil {

struct MjpegVariant {
  bool overlay = false;  // draw_overlay on a BGR copy (costlier) vs the decoder's YUV straight to JPEG
  int quality = 80;      // JPEG quality 1..100
  double fps = 10;       // maximum frames per second sent, 0 < fps <= kMaxFps (media time)
  int max_width = 0;     // 0 = source width; else downscaled to at most this width (aspect kept)
  bool motion = false;   // overlay variants: also draw the motion boxes and crops (OverlayInput::motion)

  static constexpr double kMaxFps = 30;
  // What viewers may ask for is quantised to these steps, so that N clients
  // with N different parameters cost at most a handful of encodes per frame.
  static constexpr int kQualitySteps[] = {30, 50, 60, 70, 75, 85, 95};  // nearest (ties: higher)
  static constexpr double kFpsSteps[] = {1, 2, 5, 10, 15, 20, 25, 30};  // largest <= asked (at least 1)
  static constexpr int kWidthSteps[] = {160, 320, 480, 640, 800, 960, 1280, 1920, 2560, 3840};  // largest <= asked
  // Clear error naming the field, for request parameters ("quality must be 1..100, got 0").
  Result<void> validate() const;
  // The variant with every field clamped into its range (what subscribe uses).
  MjpegVariant clamped() const;
  // clamped(), then quality, fps and max_width moved to their steps (max_width 0 stays 0).
  MjpegVariant quantised() const;
  auto operator<=>(const MjpegVariant&) const = default;
};

using JpegBuffer = std::shared_ptr<const std::vector<std::uint8_t>>;

// One viewer's bounded queue: capacity kCapacity frames, overflow policy
// drop-oldest (the viewer always gets the newest picture, never growing latency).
class MjpegViewer {
 public:
  static constexpr std::size_t kCapacity = 2;

  explicit MjpegViewer(MjpegVariant variant) : variant_(variant) {}

  // Waits up to `timeout` for a frame; null on timeout or when the hub is gone.
  JpegBuffer pop(std::chrono::milliseconds timeout);
  bool closed() const;
  const MjpegVariant& variant() const { return variant_; }
  std::uint64_t drops() const;      // frames dropped because this viewer was too slow
  std::uint64_t delivered() const;  // frames pushed to this viewer (queued, popped or dropped)
  std::size_t queued() const;

  // Hub side. Returns true when the oldest frame was dropped to make room.
  bool push(JpegBuffer jpeg);
  void close();

 private:
  const MjpegVariant variant_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<JpegBuffer> queue_;
  std::uint64_t drops_ = 0;
  std::uint64_t delivered_ = 0;
  bool closed_ = false;
};

struct MjpegVariantStats {
  MjpegVariant variant;
  std::size_t viewers = 0;            // live viewers now
  std::uint64_t frames_encoded = 0;   // encodes of this variant (once per frame, whatever the viewers)
  std::uint64_t encode_errors = 0;
  std::uint64_t drops = 0;            // viewer queue overflows, live and departed viewers
  double encode_ms_total = 0;         // convert + draw + encode time, wall clock
  double encode_ms_last = 0;
  std::size_t bytes_last = 0;         // size of the last JPEG
};

struct MjpegHubStats {
  std::vector<MjpegVariantStats> variants;  // variants with a live viewer, or encoded at least once
  std::uint64_t frames_seen = 0;            // on_frame calls
  std::uint64_t frames_encoded = 0;         // over all variants
  std::size_t viewers = 0;
};

class MjpegHub {
 public:
  MjpegHub() = default;
  ~MjpegHub();  // closes every viewer
  MjpegHub(const MjpegHub&) = delete;
  MjpegHub& operator=(const MjpegHub&) = delete;

  // The time of one variant's frame: drawing the overlay (0 for plain
  // variants) and the rest (conversion, JPEG encoding), in ms.
  struct FrameTiming {
    double overlay_ms = 0;
    double encode_ms = 0;
    bool overlay = false;  // an overlay was drawn
  };
  using TimingSink = std::function<void(const FrameTiming&)>;
  // Before the first frame: called on the stream loop thread after each encoded frame.
  void set_timing_sink(TimingSink sink) { timing_sink_ = std::move(sink); }

  // At most this many variants have live viewers at once: a viewer asking
  // for another one gets the nearest variant already being encoded.
  static constexpr std::size_t kMaxVariants = 6;

  // Any thread. The variant is quantised (see MjpegVariant::quantised), then
  // capped (kMaxVariants); the viewer's variant() says what it gets. The
  // first frame arrives with the next displayed frame.
  std::shared_ptr<MjpegViewer> subscribe(const MjpegVariant& variant);

  // Stream loop thread, once per displayed frame (FrameResult's frame and
  // pts; render/ does not depend on pipeline/). For each variant with a live
  // viewer whose interval (1/fps on pts: media time, so offline runs and
  // tests are deterministic) has passed: encode once, push to all its viewers.
  // overlay: tracks, zones, lines, counts, trails to draw on overlay variants
  // (source_w/h are taken from the frame). A pts going backwards (loop,
  // restart) restarts the throttle.
  void on_frame(const VideoFrame& frame, double pts, const OverlayInput& overlay);

  bool has_viewers() const;  // any live viewer: lets the caller skip preparing overlay data
  MjpegHubStats stats() const;

 private:
  struct VariantState {
    std::vector<std::weak_ptr<MjpegViewer>> viewers;
    bool started = false;
    double due_pts = 0;   // next encode at pts >= due_pts
    double last_pts = 0;  // pts of the last frame considered
    MjpegVariantStats stats;
  };

  // Under mu_: `wanted` itself while fewer than kMaxVariants variants have
  // viewers (or it has some), else the closest of those that have.
  MjpegVariant admit(const MjpegVariant& wanted) const;
  // Prunes expired viewers (under mu_); returns the live ones.
  std::vector<std::shared_ptr<MjpegViewer>> live_viewers(VariantState& state);
  Result<std::vector<std::uint8_t>> encode(const MjpegVariant& variant, const VideoFrame& frame,
                                           const OverlayInput& overlay, double& overlay_ms);

  mutable std::mutex mu_;  // guards variants_ and the counters
  std::map<MjpegVariant, VariantState> variants_;
  std::uint64_t frames_seen_ = 0;
  std::uint64_t frames_encoded_ = 0;

  FrameEncoder encoder_;  // stream loop thread only
  TimingSink timing_sink_;
};

}  // namespace vigil
