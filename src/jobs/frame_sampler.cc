#include "jobs/frame_sampler.h"

#include <cmath>

#include <spdlog/spdlog.h>

namespace vigil {

FrameSampler::FrameSampler(VideoSource& source, std::vector<double> targets)
    : source_(source), targets_(std::move(targets)), frame_dt_(source.fps() > 0 ? 1.0 / source.fps() : 0) {
  source_.set_packet_filter([this](const PacketInfo& p) { return wanted(p); });
}

FrameSampler::~FrameSampler() { source_.set_packet_filter(nullptr); }

bool FrameSampler::wanted(const PacketInfo& p) {
  if (p.key && std::isfinite(p.pts) && std::isfinite(p.dts)) key_delay_ = p.pts - p.dts;
  if (!p.nonref || frame_dt_ <= 0 || !std::isfinite(p.pts)) return true;
  for (std::size_t j = next_; j < targets_.size(); ++j) {
    const double lo = targets_[j] - kTolerance;
    if (lo > p.pts) break;
    if (p.pts < lo + frame_dt_) return true;
  }
  return false;
}

Result<bool> FrameSampler::read_frame() {
  auto r = source_.read();
  if (!r) return fail(r.error());
  if (!*r) {
    eof_ = true;
    return false;
  }
  cur_ = std::move(**r);
  ++stats_.frames_decoded;
  return true;
}

Result<void> FrameSampler::seek_for(double lo) {
  // A keyframe shown up to half a frame after lo may be the chosen frame.
  const double reach = lo + 0.5 * frame_dt_;
  // The index gives decode times; a keyframe is shown key_delay_ later (B-frame
  // reordering, learnt from the keyframes read so far). The keyframe a seek to
  // `reach` lands on is the last one SHOWN at or before it.
  auto kf = source_.index_keyframe_before(reach);
  for (int back = 0; kf && *kf + key_delay_ > reach + 1e-9 && back < 4; ++back) {
    const auto earlier = source_.index_keyframe_before(*kf - 1e-6);
    if (!earlier || *earlier >= *kf) break;
    kf = earlier;
  }
  const double read_up_to = source_.last_packet_time();
  if (kf) {
    if (*kf <= read_up_to) return {};  // decoding on from here reaches it
  } else if (std::isfinite(read_up_to)) {
    return {};  // no index: decode on
  }
  // Seek by the target time itself: demuxers differ in which timestamp they
  // compare (MP4 with B-frames: a keyframe's index time is its decode time),
  // and the check below makes any landing spot safe.
  double at = reach;
  for (int attempt = 0; attempt < 4; ++attempt) {
    if (auto s = source_.seek_keyframe_before(at); !s) {
      // Not seekable (or a seek before the first keyframe): decode from the start.
      if (!std::isfinite(read_up_to) && attempt == 0) return {};
      return s;
    }
    ++stats_.seeks;
    cur_.reset();
    eof_ = false;
    auto got = read_frame();
    if (!got) return fail(got.error());
    if (!*got) return {};
    spdlog::debug("sampler: target {:.3f}: seek to keyframe {:.3f} (read up to {:.3f}), first frame {:.3f}", lo, at,
                  read_up_to, cur_->pts);
    if (cur_->pts <= reach || at <= 0) return {};
    // The keyframe shows after the target: frames shown in between may come
    // before it in decode order. Start one keyframe earlier.
    const auto earlier = source_.index_keyframe_before(std::min(at, cur_->pts) - 1e-3);
    const double next_at = earlier ? *earlier : std::min(at, cur_->pts) - 1.0;
    if (next_at >= at) return {};
    at = next_at;
  }
  return {};
}

Result<std::optional<SampledFrame>> FrameSampler::next() {
  while (next_ < targets_.size()) {
    const double t = targets_[next_];
    const double lo = t - kTolerance;
    if (!(cur_ && cur_->pts >= lo)) {
      if (eof_) return std::optional<SampledFrame>();
      if (auto s = seek_for(lo); !s) return fail(s.error());
      while (!(cur_ && cur_->pts >= lo)) {
        auto got = read_frame();
        if (!got) return fail(got.error());
        if (!*got) return std::optional<SampledFrame>();
      }
    }
    SampledFrame out;
    out.index = next_;
    out.t = t;
    out.pts = cur_->pts;
    out.frame = cur_->frame;
    ++next_;
    return std::optional<SampledFrame>(std::move(out));
  }
  return std::optional<SampledFrame>();
}

FrameSampler::Stats FrameSampler::stats() const {
  Stats s = stats_;
  s.packets_decoded = source_.packets_decoded();
  s.packets_dropped = source_.packets_dropped();
  return s;
}

}  // namespace vigil
