#include "jobs/chunk_analyzer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>

#include "core/base64.h"
#include "describe/captioner.h"
#include "jobs/frame_sampler.h"
#include "media/video_source.h"
#include "pipeline/analysis_stage.h"
#include "render/jpeg_encoder.h"
#include "render/overlay.h"
#include "store/event_json.h"

namespace vigil {
namespace {

using clock_type = std::chrono::steady_clock;

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

nlohmann::json box_json(const Box& b) {
  auto r = [](float v) { return std::round(static_cast<double>(v) * 10.0) / 10.0; };
  return nlohmann::json::array({r(b.x1), r(b.y1), r(b.x2), r(b.y2)});
}

struct TrackRecord {
  std::int64_t id = 0;
  int class_id = 0;
  double first = 0, last = 0;
  int hits = 0;
  float score = 0;
  Box first_box, last_box;
  bool open = true;
};

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
      : ctx_(ctx), analysis_(std::move(analysis)) {}

  void apply(const BatchResult& r, double t) {
    const double pts = r.request.pts;
    nlohmann::json counts = nlohmann::json::object();
    int total = 0;
    for (const auto& d : r.detections) {
      if (d.score < ctx_.settings.stream.conf) continue;
      auto& c = counts[std::to_string(d.class_id)];
      c = c.is_null() ? 1 : c.get<int>() + 1;
      ++total;
    }
    samples_.push_back(nlohmann::json::array({round_ms(t), round_ms(pts), counts}));
    keep_thumb(r, t, total);

    const AnalysisUpdate u = analyse(*analysis_, r, 0);
    for (const auto& tr : u.born) {
      TrackRecord rec;
      rec.id = tr.id;
      rec.class_id = tr.class_id;
      rec.first = rec.last = pts;
      rec.first_box = rec.last_box = tr.box;
      records_.emplace(tr.id, rec);
      order_.push_back(tr.id);
    }
    for (const auto& tr : u.tracks) {
      auto it = records_.find(tr.id);
      if (it == records_.end() || tr.state != TrackState::kConfirmed || tr.misses != 0) continue;
      TrackRecord& rec = it->second;
      rec.last = pts;
      rec.last_box = tr.box;
      rec.class_id = tr.class_id;
      ++rec.hits;
      rec.score = std::max(rec.score, tr.score);
    }
    for (const auto& tr : u.lost)
      if (auto it = records_.find(tr.id); it != records_.end()) it->second.open = false;
    for (const auto& e : u.events) events_.push_back(event_json(e, false));
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
    const auto bucket = [&](double x) { return std::floor(x / every + 1e-9); };
    return t < step / 2 || bucket(t) != bucket(t - step);
  }

  void caption(const BatchResult& r, const AnalysisUpdate& u, double t) {
    const CaptionScene scene = caption_scene(*analysis_, r, u);
    nlohmann::json c = {{"t", round_ms(t)}, {"pts", round_ms(r.request.pts)}};
    auto got = ctx_.captioner->caption(scene);
    if (got) c["text"] = got->text;
    else c["error"] = got.error().message;
    captions_.push_back(std::move(c));
  }

  const nlohmann::json& captions() const { return captions_; }

  // Closes what is still open at the chunk's end (marked "boundary").
  void close() {
    std::vector<Track> open;
    for (auto& [id, rec] : records_) {
      if (!rec.open) continue;
      Track tr;
      tr.id = id;
      tr.class_id = rec.class_id;
      tr.box = rec.last_box;
      tr.state = TrackState::kRemoved;
      open.push_back(tr);
    }
    for (const auto& e : end_tracks(*analysis_, open, last_pts_, 0)) events_.push_back(event_json(e, true));
  }

  nlohmann::json tracks_json() const {
    nlohmann::json out = nlohmann::json::array();
    for (std::int64_t id : order_) {
      const TrackRecord& rec = records_.at(id);
      out.push_back({{"id", rec.id},
                     {"class", rec.class_id},
                     {"first", round_ms(rec.first)},
                     {"last", round_ms(rec.last)},
                     {"hits", rec.hits},
                     {"score", std::round(static_cast<double>(rec.score) * 1000.0) / 1000.0},
                     {"first_box", box_json(rec.first_box)},
                     {"last_box", box_json(rec.last_box)},
                     {"open", rec.open}});
    }
    return out;
  }

  nlohmann::json thumbs_json() {
    nlohmann::json out = nlohmann::json::array();
    JpegEncoder encoder;
    for (auto& th : thumbs_) {
      Image img = *th.image;
      draw_detections(img, th.detections, ctx_.model.class_names);
      auto jpeg = encoder.encode(img, 75);
      if (!jpeg) continue;
      out.push_back({{"t", round_ms(th.t)},
                     {"pts", round_ms(th.pts)},
                     {"count", th.count},
                     {"jpeg", base64_encode(jpeg->data(), jpeg->size())}});
    }
    return out;
  }

  const nlohmann::json& samples() const { return samples_; }
  const nlohmann::json& events() const { return events_; }

 private:
  static nlohmann::json event_json(const Event& e, bool boundary) {
    nlohmann::json j = to_json(e);
    j.erase("wall_time");
    if (boundary) j["boundary"] = true;
    return j;
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
  std::map<std::int64_t, TrackRecord> records_;
  std::vector<std::int64_t> order_;
  nlohmann::json samples_ = nlohmann::json::array();
  nlohmann::json events_ = nlohmann::json::array();
  std::vector<Thumb> thumbs_;
  nlohmann::json captions_ = nlohmann::json::array();
  double last_pts_ = 0;
  bool first_ = true;
};

}  // namespace

Result<nlohmann::json> analyze_chunk(const ChunkRunContext& ctx, const Chunk& chunk,
                                     const std::function<void(std::size_t, std::size_t)>& on_sample) {
  const auto started = clock_type::now();
  const AnalyzeSettings& s = ctx.settings;
  const std::vector<double> targets = sample_times(chunk, s.sample_fps);

  VideoSourceOptions vo;
  vo.url = s.video;
  vo.timeout_ms = 30000;
  // Hardware decoding only when asked for by name: "auto" would probe (and
  // log) once per chunk.
  vo.hwaccel = HwAccel::kNone;
  if (auto hw = parse_hwaccel(s.stream.hwaccel); hw && *hw != HwAccel::kAuto) vo.hwaccel = *hw;
  vo.max_pixels = s.stream.max_pixels;
  vo.decode_threads = s.stream.decode_threads;
  vo.strict = true;
  auto source = VideoSource::open(vo, ctx.stop);
  if (!source) return fail(source.error());
  VideoSource& src = **source;

  // Ids local to the chunk (the merge renumbers them).
  auto analysis = AnalysisState::create(s.stream, ctx.model, static_cast<std::int64_t>(chunk.index) * kChunkTrackIdSpan + 1,
                                        "stream");
  if (!analysis) return fail(analysis.error());
  ChunkState state(ctx, std::move(*analysis));
  ResultQueue results;

  const int client = ctx.scheduler.add_client(decode_options(s.stream, ctx.model), [&results](BatchResult&& r) { results.put(std::move(r)); });

  std::vector<double> sample_t;  // [seq] -> target time
  std::int64_t applied = 0;
  std::string failure;
  auto apply_ready = [&]() {
    while (auto r = results.take(applied)) {
      if (!r->ok && failure.empty()) failure = "inference failed at " + std::to_string(r->request.pts) + " s: " + r->error;
      state.apply(*r, sample_t[static_cast<std::size_t>(applied)]);
      ++applied;
      if (on_sample) on_sample(static_cast<std::size_t>(applied), targets.size());
    }
  };

  FrameSampler sampler(src, targets);
  FrameConverter converter;
  double decode_ms = 0, convert_ms = 0;
  int frame_w = src.width(), frame_h = src.height();
  auto abort_with = [&](Error e) -> Result<nlohmann::json> {
    ctx.scheduler.remove_client(client);
    return fail(std::move(e));
  };
  for (;;) {
    if (ctx.stop && ctx.stop->load()) return abort_with({ErrorCode::kRuntime, "cancelled"});
    const auto d0 = clock_type::now();
    auto sample = sampler.next();
    decode_ms += ms_since(d0);
    if (!sample) return abort_with(sample.error());
    if (!*sample) break;
    const VideoFrame& vf = *(*sample)->frame;
    frame_w = vf.width();
    frame_h = vf.height();
    const auto c0 = clock_type::now();
    const auto [aw, ah] = analysis_size(SubstreamConfig{}, ctx.model.input_w, ctx.model.input_h, vf.width(), vf.height());
    auto image = converter.to_image(vf, PixelFormat::kBgr24, aw, ah);
    convert_ms += ms_since(c0);
    if (!image) return abort_with(image.error());
    BatchRequest req;
    req.seq = static_cast<std::int64_t>(sample_t.size());
    req.pts = (*sample)->pts;
    req.frame_w = vf.width();
    req.frame_h = vf.height();
    req.to_full_x = static_cast<float>(vf.width()) / static_cast<float>(aw);
    req.to_full_y = static_cast<float>(vf.height()) / static_cast<float>(ah);
    req.image = std::make_shared<const Image>(std::move(*image));
    sample_t.push_back((*sample)->t);
    if (!ctx.scheduler.submit_wait(client, std::move(req))) return abort_with({ErrorCode::kRuntime, "cancelled"});
    apply_ready();
  }
  ctx.scheduler.finish(client);
  ctx.scheduler.drain(client);
  apply_ready();
  ctx.scheduler.remove_client(client);
  if (!failure.empty()) return fail(ErrorCode::kRuntime, failure);
  if (applied != static_cast<std::int64_t>(sample_t.size()))
    return fail(ErrorCode::kRuntime, "chunk " + std::to_string(chunk.index) + ": " +
                                         std::to_string(sample_t.size() - static_cast<std::size_t>(applied)) +
                                         " results missing");
  state.close();

  const FrameSampler::Stats st = sampler.stats();
  const std::vector<DamagedRange> damaged = sampler.damaged();
  // Damaged data costs the frames it covers; only a chunk left with nothing fails.
  if (sample_t.empty() && !damaged.empty()) {
    char range[64];
    std::snprintf(range, sizeof range, "%.3f to %.3f s", damaged.front().from, damaged.back().to);
    return fail(ErrorCode::kBadInput, "no frame of the chunk could be decoded: damaged data from " + std::string(range) +
                                          " (" + damaged.front().error + ")");
  }
  nlohmann::json out;
  out["samples"] = state.samples();
  out["damaged"] = nlohmann::json::array();
  for (const auto& d : damaged)
    out["damaged"].push_back(
        {{"from", round_ms(d.from)}, {"to", round_ms(d.to)}, {"samples_lost", d.samples_lost}, {"error", d.error}});
  out["tracks"] = state.tracks_json();
  out["events"] = state.events();
  out["thumbs"] = state.thumbs_json();
  if (ctx.captioner) out["captions"] = state.captions();
  out["frame"] = {frame_w, frame_h};
  out["stats"] = {{"seeks", st.seeks},
                  {"frames_decoded", st.frames_decoded},
                  {"packets_decoded", st.packets_decoded},
                  {"packets_dropped", st.packets_dropped},
                  {"damage_errors", st.damage_errors},
                  {"packets_skipped", st.packets_skipped},
                  {"decode_ms", decode_ms},
                  {"convert_ms", convert_ms},
                  {"elapsed_s", ms_since(started) / 1000.0}};
  return out;
}

}  // namespace vigil
