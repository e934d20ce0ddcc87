// LiveRateGate: after a stall, a live source hands over its backlog in a
// burst (a camera's or server's buffers, TCP's, FFmpeg's), far faster than
// real time. Live mode shows the latest picture, never a fast-forward: the
// gate passes frames at no more than the source's own rate and the capture
// thread drops (and counts) the rest, so the stream loop and every viewer
// never run above the source rate.
//
// A token bucket: tokens accrue with wall time at the source rate (frames
// per second of media time, from the spacing of the frames' pts, or the
// nominal rate before that is known) with kHeadroom so a camera whose clock
// runs a little fast is never thinned; each frame passed takes one; the
// bucket holds at most max(kMinBurstFrames, kBurstSeconds of frames), the
// jitter a steady stream may show, and holds one token after a stall (the
// start included).
// Pure value type; one per capture thread.
#pragma once

#include <algorithm>
#include <cmath>

namespace vigil {

class LiveRateGate {
 public:
  static constexpr double kHeadroom = 1.05;
  static constexpr double kMinBurstFrames = 3;
  static constexpr double kBurstSeconds = 0.2;
  // No frame for this long (and this many frame times) is a stall: the
  // bucket starts again from one frame, so what the stall held back is not
  // shown in a burst either.
  static constexpr double kStallSeconds = 0.5;
  static constexpr double kStallFrames = 3;

  // nominal_fps: the source's declared rate (0 = unknown: 25 until the pts say).
  explicit LiveRateGate(double nominal_fps = 0) : frame_s_(nominal_fps > 0 ? 1.0 / nominal_fps : 1.0 / 25) {}

  // A frame of media time pts_s arrives at wall time now_s (any monotonic
  // clock, seconds); true = deliver it, false = drop it (behind real time).
  bool admit(double now_s, double pts_s) {
    learn_frame_duration(pts_s);
    const double capacity = std::max(kMinBurstFrames, kBurstSeconds / frame_s_);
    const double idle = now_s - last_now_;
    if (!started_ || idle > std::max(kStallSeconds, kStallFrames * frame_s_)) {
      tokens_ = 1;  // the first frame after a stall; what follows comes at the source rate
    } else {
      tokens_ = std::min(capacity, tokens_ + std::max(0.0, idle) * kHeadroom / frame_s_);
    }
    started_ = true;
    last_now_ = now_s;
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

  // The media duration of one frame the gate currently assumes (seconds).
  double frame_duration_s() const { return frame_s_; }

 private:
  // Moving average of the pts spacing; gaps outside (0, 1 s] (a pts jump, a
  // loop, a reconnect) say nothing about the rate and are ignored.
  void learn_frame_duration(double pts_s) {
    if (std::isfinite(last_pts_) && std::isfinite(pts_s)) {
      const double gap = pts_s - last_pts_;
      if (gap > 0 && gap <= 1.0) {
        // The mean of the first gaps, then an average over about 10 frames.
        const double alpha = std::max(0.1, 1.0 / ++gaps_seen_);
        frame_s_ += alpha * (gap - frame_s_);
      }
    }
    last_pts_ = pts_s;
  }

  double frame_s_;
  double tokens_ = 0;
  bool started_ = false;
  double last_now_ = 0;
  double last_pts_ = NAN;
  int gaps_seen_ = 0;
};

}  // namespace vigil
