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
// Damaged data (the source must be strict: VideoSourceOptions::strict, so
// that damage is an error instead of concealed garbage): a kBadInput error
// from the source opens a damaged range; every packet up to the next keyframe
// is dropped undecoded, the decoder is flushed there, and decoding goes on.
// The frames shown strictly between the last good frame before the damage and
// the first good frame after it are lost: a target whose frame would have
// been one of them gets none (counted in the range's samples_lost) instead of
// a later frame. The ranges depend only on the file, so every chunking loses
// the same targets. Other errors (timeout, a stop request, a hardware failure)
// are returned; so is damage that never ends (10000 errors without a frame).
//
// Owns nothing but its position; borrows the VideoSource (one thread).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
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

// Frames lost to damaged data: those shown strictly between `from` and `to`.
struct DamagedRange {
  double from = 0;  // the last good frame before the damage (media s); without one, the damaged packet's decode time
  double to = 0;    // the first good frame after it: the keyframe decoding resumed at, or the input's end
  std::size_t samples_lost = 0;  // this sampler's targets that fell in it
  std::string error;             // the first error met in the range
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
    std::int64_t damage_errors = 0;    // errors for damaged data, each skipped
    std::int64_t packets_skipped = 0;  // packets dropped undecoded up to a keyframe (after damage or a seek)
  };
  Stats stats() const;
  // The damaged ranges met so far, in media-time order, overlapping ones
  // joined (a range can be met twice when a seek lands before it again).
  std::vector<DamagedRange> damaged() const;

 private:
  bool wanted(const PacketInfo& p);
  Result<bool> read_frame();  // into cur_; false at the end
  Result<void> seek_for(double lo);
  void open_damage(const Error& e);
  void close_damage(double to);
  void add_range(DamagedRange r);
  // Whether the target whose lower bound is lo lost its frame to the damaged
  // range just before cur_.
  bool lost_to_damage(double lo) const;
  void count_lost(double t);  // in the range before cur_
  std::optional<SampledFrame> end_of_input();

  VideoSource& source_;
  std::vector<double> targets_;
  std::size_t next_ = 0;
  double frame_dt_ = 0;
  double key_delay_ = 0;  // a keyframe's pts - dts, seconds (learnt)
  std::optional<DecodedFrame> cur_;
  bool eof_ = false;
  Stats stats_;
  // Damage: last good frame since the last seek; the range being skipped;
  // whether packets are dropped until the next keyframe; the range that
  // ended at cur_ (if cur_ is the first good frame after one).
  std::optional<double> last_good_pts_;
  std::optional<DamagedRange> open_range_;
  bool resync_ = false;
  std::optional<DamagedRange> range_before_cur_;
  std::vector<DamagedRange> ranges_;
};

}  // namespace vigil
