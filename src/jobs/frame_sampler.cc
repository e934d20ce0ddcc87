#include "jobs/frame_sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <spdlog/spdlog.h>

#include "core/media_time.h"

namespace vigil {

FrameSampler::FrameSampler(VideoSource& source, std::vector<double> targets)
    : source_(source), targets_(std::move(targets)), frame_dt_(source.fps() > 0 ? 1.0 / source.fps() : 0) {
  source_.set_packet_filter([this](const PacketInfo& p) { return wanted(p); });
}

FrameSampler::~FrameSampler() { source_.set_packet_filter(nullptr); }

bool FrameSampler::wanted(const PacketInfo& p) {
  if (resync_) {
    if (!p.key) {
      ++stats_.packets_skipped;
      return false;
    }
    // The next keyframe: whatever the decoder holds from the damage goes.
    resync_ = false;
    source_.flush_decoder();
  }
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
  constexpr int kMaxDamageErrors = 10000;  // without a good frame in between
  for (int errors = 0;;) {
    auto r = source_.read();
    if (!r) {
      // kBadInput is damaged data (strict source); anything else is fatal.
      if (r.error().code != ErrorCode::kBadInput || ++errors > kMaxDamageErrors) return fail(r.error());
      ++stats_.damage_errors;
      open_damage(r.error());
      continue;
    }
    range_before_cur_.reset();
    if (!*r) {
      eof_ = true;
      if (open_range_) close_damage(source_.duration_s() > 0 ? source_.duration_s() : source_.last_packet_time());
      return false;
    }
    cur_ = std::move(**r);
    ++stats_.frames_decoded;
    if (open_range_) close_damage(cur_->pts);
    last_good_pts_ = cur_->pts;
    return true;
  }
}

void FrameSampler::open_damage(const Error& e) {
  resync_ = true;  // drop packets up to the next keyframe
  if (open_range_) return;
  DamagedRange r;
  const double at = source_.last_packet_time();
  r.from = last_good_pts_ ? *last_good_pts_ : (std::isfinite(at) ? at : 0.0);
  r.error = e.message;
  open_range_ = r;
  spdlog::debug("sampler: damaged data after {:.3f} s: {}", r.from, e.message);
}

void FrameSampler::close_damage(double to) {
  DamagedRange r = *open_range_;
  open_range_.reset();
  r.to = std::max(to, r.from);
  spdlog::debug("sampler: damaged range {:.3f}-{:.3f} s", r.from, r.to);
  range_before_cur_ = r;
  add_range(std::move(r));
}

void FrameSampler::add_range(DamagedRange r) {
  for (auto& x : ranges_)
    if (r.from <= x.to && x.from <= r.to) {  // overlapping: met again after a seek
      x.from = std::min(x.from, r.from);
      x.to = std::max(x.to, r.to);
      return;
    }
  ranges_.push_back(std::move(r));
  std::sort(ranges_.begin(), ranges_.end(), [](const DamagedRange& a, const DamagedRange& b) { return a.from < b.from; });
}

bool FrameSampler::lost_to_damage(double lo) const {
  if (!range_before_cur_ || !cur_) return false;
  // In an undamaged file this target's frame is the first shown at or after
  // lo; it was lost unless that is cur_ itself, i.e. unless lo lies within
  // one frame interval before cur_ (no frame can be shown in between).
  const double dt = frame_dt_ > 0 ? frame_dt_ : kTolerance;
  return lo > range_before_cur_->from && lo <= cur_->pts - dt + 1e-3;
}

void FrameSampler::count_lost(double t) {
  spdlog::debug("sampler: target {:.3f} lost to damaged data", t);
  for (auto& x : ranges_)
    if (range_before_cur_->from <= x.to && x.from <= range_before_cur_->to) {
      ++x.samples_lost;
      return;
    }
}

std::optional<SampledFrame> FrameSampler::end_of_input() {
  // The input ended inside a damaged range: the targets after its start are lost.
  if (range_before_cur_)
    for (; next_ < targets_.size(); ++next_)
      if (targets_[next_] - kTolerance > range_before_cur_->from) count_lost(targets_[next_]);
  return std::nullopt;
}

std::vector<DamagedRange> FrameSampler::damaged() const { return ranges_; }

Result<void> FrameSampler::seek_for(double lo) {
  // A keyframe shown up to half a frame after lo may be the chosen frame.
  const double reach = lo + 0.5 * frame_dt_;
  // The index gives decode times; a keyframe is shown key_delay_ later (B-frame
  // reordering, learnt from the keyframes read so far). The keyframe a seek to
  // `reach` lands on is the last one SHOWN at or before it.
  auto kf = source_.index_keyframe_before(reach);
  // Indexed keyframes tried before giving up on the index (then the seek
  // lands where it lands and is checked after landing).
  constexpr int kMaxIndexSteps = 4;
  // Just before a keyframe's time: the index lookup for the one before it.
  constexpr double kJustBefore = 1e-6;
  for (int back = 0; kf && *kf + key_delay_ > reach + kMediaTimeEpsilon && back < kMaxIndexSteps; ++back) {
    const auto earlier = source_.index_keyframe_before(*kf - kJustBefore);
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
  double step = 0;
  for (int attempt = 0; attempt < 8; ++attempt) {
    if (auto s = source_.seek_keyframe_before(at); !s) {
      // Not seekable (or a seek before the first keyframe): decode from the start.
      if (!std::isfinite(read_up_to) && attempt == 0) return {};
      return s;
    }
    ++stats_.seeks;
    cur_.reset();
    eof_ = false;
    last_good_pts_.reset();
    range_before_cur_.reset();
    // Some demuxers (MPEG-TS) land on a packet that is not a keyframe:
    // decoding starts at the next keyframe, never from missing references.
    resync_ = true;
    open_range_.reset();
    auto got = read_frame();
    if (!got) return fail(got.error());
    // The end right after a seek: it landed past the last keyframe (MPEG-TS
    // does, near the end); start earlier too.
    const double landed = *got ? cur_->pts : std::numeric_limits<double>::infinity();
    spdlog::debug("sampler: target {:.3f}: seek to keyframe {:.3f} (read up to {:.3f}), first frame {:.3f}", lo, at,
                  read_up_to, landed);
    if (landed <= reach || at < 0) return {};
    eof_ = false;
    // The keyframe shows after the target: frames shown in between may come
    // before it in decode order. Start earlier: 1, 2, 4... s before. Not by
    // the index: demuxers without a full one (MPEG-TS: it lists only the
    // keyframes read so far) would send this back to the start of the file,
    // and a seek to `at` minus 1 s lands on the previous keyframe anyway when
    // the index has them all (a keyframe shown after `at` has its decode time
    // within a second before it).
    step = step > 0 ? 2 * step : 1.0;
    // Below 0 (times count from the input's start): a seek before the first
    // keyframe, which lands on it (MPEG-TS lands on the second one for 0).
    const double next_at = std::min(at, landed) - step;
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
      if (eof_) return std::optional<SampledFrame>(end_of_input());
      if (auto s = seek_for(lo); !s) return fail(s.error());
      while (!(cur_ && cur_->pts >= lo)) {
        auto got = read_frame();
        if (!got) return fail(got.error());
        if (!*got) return std::optional<SampledFrame>(end_of_input());
      }
    }
    if (lost_to_damage(lo)) {
      count_lost(t);
      ++next_;
      continue;
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
