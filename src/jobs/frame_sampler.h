// FrameSampler: the frames of a file at given media times, decoding as little
// as possible.
//
// For each target time t (ascending) it returns the first frame, in
// presentation order, whose pts >= t - kTolerance. That choice depends only on
// the file, not on where decoding started, so any chunking of the targets
// picks the same frames (see chunk_plan.h for the global sample grid).
//
// Decoding work it skips:
// - whole stretches between samples: when the keyframe at or before the next
//   target (from the container index) lies beyond what was read, it seeks to
//   that keyframe instead of decoding up to it;
// - non-reference pictures (H.264 nal_ref_idc 0, or packets flagged
//   disposable) are dropped undecoded unless their pts lies within one frame
//   interval at or after a pending target (they might be the chosen frame).
// After a seek, if the keyframe shows later than t (within the tolerance and
// half a frame), frames shown between t and it may precede the keyframe in
// decode order: it seeks one keyframe further back.
//
// Owns nothing but its position; borrows the VideoSource (one thread).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/error.h"
#include "media/video_source.h"

namespace vigil {

struct SampledFrame {
  std::size_t index = 0;  // into the targets
  double t = 0;           // the target time
  double pts = 0;         // the chosen frame's media time
  std::shared_ptr<const VideoFrame> frame;
};

class FrameSampler {
 public:
  static constexpr double kTolerance = 1e-4;  // seconds

  // targets: ascending media times. Installs a packet filter on source.
  FrameSampler(VideoSource& source, std::vector<double> targets);
  ~FrameSampler();
  FrameSampler(const FrameSampler&) = delete;
  FrameSampler& operator=(const FrameSampler&) = delete;

  // The next target's frame; nullopt once every target is served or the input
  // ended (targets past the end get no frame). Errors come from the source.
  Result<std::optional<SampledFrame>> next();

  struct Stats {
    std::int64_t seeks = 0;
    std::int64_t frames_decoded = 0;   // frames out of the decoder
    std::int64_t packets_decoded = 0;  // packets into the decoder
    std::int64_t packets_dropped = 0;  // non-reference packets never decoded
  };
  Stats stats() const;

 private:
  bool wanted(const PacketInfo& p);
  Result<bool> read_frame();  // into cur_; false at the end
  Result<void> seek_for(double lo);

  VideoSource& source_;
  std::vector<double> targets_;
  std::size_t next_ = 0;
  double frame_dt_ = 0;
  double key_delay_ = 0;  // a keyframe's pts - dts, seconds (learnt)
  std::optional<DecodedFrame> cur_;
  bool eof_ = false;
  Stats stats_;
};

}  // namespace vigil
