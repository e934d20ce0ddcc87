#include "jobs/chunk_analyzer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>

#include "core/base64.h"
#include "core/media_time.h"
#include "describe/captioner.h"
#include "jobs/frame_sampler.h"
#include "media/video_source.h"
#include "pipeline/analysis_stage.h"
#include "render/jpeg_encoder.h"
#include "render/overlay.h"

namespace vigil {
namespace {

using clock_type = std::chrono::steady_clock;

constexpr int kChunkOpenTimeoutMs = 30000;  // opening the video for one chunk (a local file, or a slow share)

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

struct Thumb {
  double t = 0, pts = 0;
  int count = 0;
  std::size_t seq = 0;
  std::shared_ptr<const Image> image;
  std::vector<Detection> detections;  // in image pixels
};

// What the chunk thread needs from each result, in sample order.
class ResultQueue {
 public:
  void put(BatchResult&& r) {
    std::lock_guard lock(mu_);
    results_.emplace(r.request.seq, std::move(r));
  }
  // The result with this seq if it has arrived.
  std::optional<BatchResult> take(std::int64_t seq) {
    std::lock_guard lock(mu_);
    auto it = results_.find(seq);
    if (it == results_.end()) return std::nullopt;
    BatchResult r = std::move(it->second);
    results_.erase(it);
    return r;
  }

 private:
  std::mutex mu_;
  std::map<std::int64_t, BatchResult> results_;
};

class ChunkState {
 public:
  ChunkState(const ChunkRunContext& ctx, std::unique_ptr<AnalysisState> analysis)
      : ctx_(ctx), analysis_(std::move(analysis)) {
    if (ctx_.captioner) result_.captions.emplace();  // present (maybe empty) whenever the job has captions
  }

  void apply(const BatchResult& r, double t) {
    const double pts = r.request.pts;
    ChunkSample sample{t, pts, {}};
    int total = 0;
    for (const auto& d : r.detections) {
      if (d.score < ctx_.settings.stream.conf) continue;
      ++sample.counts[d.class_id];
      ++total;
    }
    result_.samples.push_back(std::move(sample));
    keep_thumb(r, t, total);

    const AnalysisUpdate u = analyse(*analysis_, r, 0);
    for (const auto& tr : u.born) {
      ChunkTrack rec;
      rec.id = tr.id;
      rec.class_id = tr.class_id;
      rec.first = rec.last = pts;
      rec.first_box = rec.last_box = tr.box;
      rec.open = true;
      track_index_.emplace(tr.id, result_.tracks.size());
      result_.tracks.push_back(rec);
    }
    for (const auto& tr : u.tracks) {
      ChunkTrack* rec = record(tr.id);
      if (!rec || tr.state != TrackState::kConfirmed || tr.misses != 0) continue;
      rec->last = pts;
      rec->last_box = tr.box;
      rec->class_id = tr.class_id;
      ++rec->hits;
      rec->score = std::max(rec->score, static_cast<double>(tr.score));
    }
    for (const auto& tr : u.lost)
      if (ChunkTrack* rec = record(tr.id)) rec->open = false;
    for (const auto& e : u.events) result_.events.push_back(ChunkEvent{e, false});
    if (ctx_.captioner && caption_due(t)) caption(r, u, t);
    last_pts_ = pts;
    first_ = false;
  }

  // At the first sample of each describe.every_s of video (a global grid, so
  // chunking does not move it), or at the chunk's first sample.
  bool caption_due(double t) const {
    const double every = ctx_.settings.stream.describe.every_s;
    if (every <= 0) return first_;
    const double step = 1.0 / ctx_.settings.sample_fps;
    const auto bucket = [&](double x) { return std::floor(x / every + kMediaTimeEpsilon); };
    return t < step / 2 || bucket(t) != bucket(t - step);
  }

  void caption(const BatchResult& r, const AnalysisUpdate& u, double t) {
    const CaptionScene scene = caption_scene(*analysis_, r, u);
    auto got = ctx_.captioner->caption(scene);
    if (!result_.captions) result_.captions.emplace();
    result_.captions->push_back(ChunkCaption{t, r.request.pts, got.has_value(), got ? got->text : got.error().message});
  }

  // Closes what is still open at the chunk's end (marked "boundary").
  void close() {
    // In id order, as the tracks are ended at the chunk's end.
    std::vector<Track> open;
    for (const auto& [id, idx] : track_index_) {
      const ChunkTrack& rec = result_.tracks[idx];
      if (!rec.open) continue;
      Track tr;
      tr.id = id;
      tr.class_id = rec.class_id;
      tr.box = rec.last_box;
      tr.state = TrackState::kRemoved;
      open.push_back(tr);
    }
    for (const auto& e : end_tracks(*analysis_, open, last_pts_, 0)) result_.events.push_back(ChunkEvent{e, true});
  }

  // Encodes the kept thumbnails (boxes drawn) into the result.
  void encode_thumbs() {
    JpegEncoder encoder;
    for (auto& th : thumbs_) {
      Image img = *th.image;
      draw_detections(img, th.detections, ctx_.model.class_names);
      auto jpeg = encoder.encode(img, kThumbQuality);
      if (!jpeg) continue;
      result_.thumbs.push_back(ChunkThumb{th.t, th.pts, th.count, base64_encode(jpeg->data(), jpeg->size())});
    }
  }

  // What the chunk found so far; taken once, at the end.
  ChunkResult take_result() { return std::move(result_); }

 private:
  static constexpr int kThumbQuality = 75;  // JPEG quality of the report's thumbnails

  ChunkTrack* record(std::int64_t id) {
    const auto it = track_index_.find(id);
    return it == track_index_.end() ? nullptr : &result_.tracks[it->second];
  }

  void keep_thumb(const BatchResult& r, double t, int count) {
    if (ctx_.thumbs <= 0 || count == 0) return;
    auto worse = [](const Thumb& a, const Thumb& b) {  // a ranks below b
      return a.count != b.count ? a.count < b.count : a.seq > b.seq;
    };
    Thumb th;
    th.t = t;
    th.pts = r.request.pts;
    th.count = count;
    th.seq = static_cast<std::size_t>(r.request.seq);
    if (static_cast<int>(thumbs_.size()) >= ctx_.thumbs && !worse(thumbs_.back(), th)) return;
    th.image = r.request.image;
    const float sx = r.request.to_full_x > 0 ? 1.0F / r.request.to_full_x : 1.0F;
    const float sy = r.request.to_full_y > 0 ? 1.0F / r.request.to_full_y : 1.0F;
    for (const auto& d : r.detections) {
      if (d.score < ctx_.settings.stream.conf) continue;
      Detection m = d;
      m.box = {d.box.x1 * sx, d.box.y1 * sy, d.box.x2 * sx, d.box.y2 * sy};
      th.detections.push_back(m);
    }
    thumbs_.push_back(std::move(th));
    std::sort(thumbs_.begin(), thumbs_.end(), [&](const Thumb& a, const Thumb& b) { return worse(b, a); });
    if (static_cast<int>(thumbs_.size()) > ctx_.thumbs) thumbs_.pop_back();
  }

  const ChunkRunContext& ctx_;
  std::unique_ptr<AnalysisState> analysis_;
  ChunkResult result_;                               // samples, tracks (in birth order), events, captions
  std::map<std::int64_t, std::size_t> track_index_;  // track id -> index in result_.tracks
  std::vector<Thumb> thumbs_;
  double last_pts_ = 0;
  bool first_ = true;
};

// The source options of a chunk: strict decoding (damage is seen, not
// analysed as garbage); hardware decoding only when asked for by name ("auto"
// would probe, and log, once per chunk).
VideoSourceOptions chunk_source_options(const AnalyzeSettings& s) {
  VideoSourceOptions vo;
  vo.url = s.video;
  vo.timeout_ms = kChunkOpenTimeoutMs;
  vo.hwaccel = HwAccel::kNone;
  if (s.stream.hwaccel != HwAccel::kAuto) vo.hwaccel = s.stream.hwaccel;
  vo.max_pixels = s.stream.max_pixels;
  // 0 (auto): one thread; the chunk workers already take a core each.
  vo.decode_threads = s.stream.decode_threads > 0 ? s.stream.decode_threads : 1;
  vo.strict = true;
  return vo;
}

// Sends a chunk's samples through the scheduler (offline: blocking) and
// applies their results in sample order. Chunk thread only (put() excepted).
class ChunkFeed {
 public:
  ChunkFeed(const ChunkRunContext& ctx, ChunkState& state, std::size_t targets,
            const std::function<void(std::size_t, std::size_t)>& on_sample)
      : ctx_(ctx), state_(state), targets_(targets), on_sample_(on_sample) {
    client_ = ctx_.scheduler.add_client(decode_options(ctx_.settings.stream, ctx_.model),
                                        [this](BatchResult&& r) { results_.put(std::move(r)); });
  }
  ~ChunkFeed() { ctx_.scheduler.remove_client(client_); }
  ChunkFeed(const ChunkFeed&) = delete;
  ChunkFeed& operator=(const ChunkFeed&) = delete;

  // Converts and submits one sample; an error when the conversion failed or
  // the scheduler stopped ("cancelled").
  Result<void> submit(const SampledFrame& sample) {
    const VideoFrame& vf = *sample.frame;
    frame_w_ = vf.width();
    frame_h_ = vf.height();
    const auto c0 = clock_type::now();
    // Straight to the size the detector letterboxes it to: its input for this frame shape, at the nominal scale.
    const InputSize input = ctx_.scheduler.detector().input_size_for(vf.width(), vf.height());
    const auto [aw, ah] = analysis_size(SubstreamConfig{}, input.width, input.height, vf.width(), vf.height());
    auto image = converter_.to_image(vf, PixelFormat::kBgr24, aw, ah);
    convert_ms_ += ms_since(c0);
    if (!image) return fail(image.error());
    BatchRequest req;
    req.seq = static_cast<std::int64_t>(sample_t_.size());
    req.pts = sample.pts;
    req.frame_w = vf.width();
    req.frame_h = vf.height();
    req.to_full_x = static_cast<float>(vf.width()) / static_cast<float>(aw);
    req.to_full_y = static_cast<float>(vf.height()) / static_cast<float>(ah);
    req.image = std::make_shared<const Image>(std::move(*image));
    sample_t_.push_back(sample.t);
    if (!ctx_.scheduler.submit_wait(client_, std::move(req))) return fail(ErrorCode::kCancelled, "cancelled");
    apply_ready();
    return {};
  }

  // Waits for the last results and applies them; an error if one failed or is missing.
  Result<void> finish(int chunk_index) {
    ctx_.scheduler.finish(client_);
    ctx_.scheduler.drain(client_);
    apply_ready();
    if (!failure_.empty()) return fail(ErrorCode::kRuntime, failure_);
    if (applied_ != static_cast<std::int64_t>(sample_t_.size()))
      return fail(ErrorCode::kRuntime, "chunk " + std::to_string(chunk_index) + ": " +
                                           std::to_string(sample_t_.size() - static_cast<std::size_t>(applied_)) +
                                           " results missing");
    return {};
  }

  std::size_t submitted() const { return sample_t_.size(); }
  double convert_ms() const { return convert_ms_; }
  int frame_w() const { return frame_w_; }
  int frame_h() const { return frame_h_; }
  void set_frame_size(int w, int h) { frame_w_ = w, frame_h_ = h; }

 private:
  void apply_ready() {
    while (auto r = results_.take(applied_)) {
      if (!r->ok && failure_.empty()) failure_ = "inference failed at " + std::to_string(r->request.pts) + " s: " + r->error;
      state_.apply(*r, sample_t_[static_cast<std::size_t>(applied_)]);
      ++applied_;
      if (on_sample_) on_sample_(static_cast<std::size_t>(applied_), targets_);
    }
  }

  const ChunkRunContext& ctx_;
  ChunkState& state_;
  const std::size_t targets_;
  const std::function<void(std::size_t, std::size_t)>& on_sample_;
  ResultQueue results_;
  int client_ = 0;
  FrameConverter converter_;
  std::vector<double> sample_t_;  // [seq] -> target time
  std::int64_t applied_ = 0;
  std::string failure_;
  double convert_ms_ = 0;
  int frame_w_ = 0, frame_h_ = 0;
};

// A chunk whose every sample was lost to damaged data.
Error all_samples_lost(const std::vector<DamagedRange>& damaged) {
  char range[64];
  std::snprintf(range, sizeof range, "%.3f to %.3f s", damaged.front().from, damaged.back().to);
  return {ErrorCode::kBadInput, "no frame of the chunk could be decoded: damaged data from " + std::string(range) +
                                    " (" + damaged.front().error + ")"};
}

ChunkStats chunk_stats(const FrameSampler::Stats& st, double decode_ms, double convert_ms, double elapsed_s) {
  ChunkStats out;
  out.seeks = st.seeks;
  out.frames_decoded = st.frames_decoded;
  out.packets_decoded = st.packets_decoded;
  out.packets_dropped = st.packets_dropped;
  out.damage_errors = st.damage_errors;
  out.packets_skipped = st.packets_skipped;
  out.decode_ms = decode_ms;
  out.convert_ms = convert_ms;
  out.elapsed_s = elapsed_s;
  return out;
}

}  // namespace

Result<ChunkResult> analyze_chunk(const ChunkRunContext& ctx, const Chunk& chunk,
                                  const std::function<void(std::size_t, std::size_t)>& on_sample) {
  const auto started = clock_type::now();
  const AnalyzeSettings& s = ctx.settings;
  const std::vector<double> targets = sample_times(chunk, s.sample_fps);
  auto source = VideoSource::open(chunk_source_options(s), ctx.stop);
  if (!source) return fail(source.error());
  VideoSource& src = **source;
  // Ids local to the chunk (the merge renumbers them).
  auto analysis =
      AnalysisState::create(s.stream, ctx.model, static_cast<std::int64_t>(chunk.index) * kChunkTrackIdSpan + 1, "stream");
  if (!analysis) return fail(analysis.error());
  ChunkState state(ctx, std::move(*analysis));

  FrameSampler sampler(src, targets);
  double decode_ms = 0;
  {
    ChunkFeed feed(ctx, state, targets.size(), on_sample);
    feed.set_frame_size(src.width(), src.height());
    for (;;) {
      if (ctx.stop && ctx.stop->load()) return fail(ErrorCode::kCancelled, "cancelled");
      const auto d0 = clock_type::now();
      auto sample = sampler.next();
      decode_ms += ms_since(d0);
      if (!sample) return fail(sample.error());
      if (!*sample) break;
      if (auto sent = feed.submit(**sample); !sent) return fail(sent.error());
    }
    if (auto done = feed.finish(chunk.index); !done) return fail(done.error());
    state.close();
    const std::vector<DamagedRange> damaged = sampler.damaged();
    // Damaged data costs the frames it covers; only a chunk left with nothing fails.
    if (feed.submitted() == 0 && !damaged.empty()) return fail(all_samples_lost(damaged));
    state.encode_thumbs();
    ChunkResult out = state.take_result();
    for (const auto& d : damaged) out.damaged.push_back(ChunkDamage{d.from, d.to, static_cast<std::int64_t>(d.samples_lost), d.error});
    out.frame_w = feed.frame_w();
    out.frame_h = feed.frame_h();
    out.stats = chunk_stats(sampler.stats(), decode_ms, feed.convert_ms(), ms_since(started) / 1000.0);
    return out;
  }
}

}  // namespace vigil
