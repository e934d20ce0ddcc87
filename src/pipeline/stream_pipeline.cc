#include "pipeline/stream_pipeline.h"

#include "media/source_url.h"

#include "describe/caption_scheduler.h"
#include "pipeline/caption_service.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <spdlog/spdlog.h>

#include "analytics/interval_controller.h"
#include "analytics/motion_detector.h"
#include "analytics/similarity_gate.h"
#include "pipeline/analysis_stage.h"
#include "record/recorder.h"

namespace vigil {
namespace {

using clock = std::chrono::steady_clock;

double ms_between(clock::time_point a, clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

const char* to_string(DropReason reason) {
  switch (reason) {
    case DropReason::kGate: return "gate";
    case DropReason::kAnalysisReplaced: return "analysis_replaced";
    case DropReason::kInferenceError: return "inference_error";
    case DropReason::kConvertError: return "convert_error";
    case DropReason::kCaptureOverwritten: return "capture_overwritten";
    case DropReason::kCaptureBehind: return "capture_behind";
    case DropReason::kNoMotion: return "no_motion";
  }
  return "unknown";
}

std::map<std::string, std::uint64_t> drop_names(const DropCounts& drops) {
  std::map<std::string, std::uint64_t> out;
  for (const auto& [reason, n] : drops) out[to_string(reason)] = n;
  return out;
}

Result<std::unique_ptr<StreamPipeline>> StreamPipeline::create(StreamConfig config, StreamContext& ctx,
                                                               std::int64_t stream_number) {
  const std::string path = "streams[" + config.id + "]";
  if (auto v = validate_stream(config, path); !v) return fail(v.error());
  auto analysis =
      AnalysisState::create(config, ctx.model, stream_number * TrackIdAllocator::kStreamIdSpan + 1, path);
  if (!analysis) return fail(analysis.error());
  std::shared_ptr<CaptionScheduler> captions;
  if (ctx.captions && config.describe.enabled()) {
    auto s = ctx.captions->scheduler_for(config.describe, path + ".describe");
    if (!s) return fail(s.error());
    captions = std::move(*s);
  }
  auto p = std::unique_ptr<StreamPipeline>(
      new StreamPipeline(std::move(config), ctx, std::move(*analysis)));
  if (captions) {
    CaptionTriggerOptions t;
    t.every_frames = p->config_.describe.every_frames;
    t.every_s = p->config_.describe.every_s;
    t.on_scene_change = p->config_.describe.on_scene_change;
    t.scene_threshold = p->config_.describe.scene_threshold;
    p->caption_trigger_ = std::make_unique<CaptionTrigger>(t);
    p->captions_ = std::move(captions);
  }
  return p;
}

StreamPipeline::StreamPipeline(StreamConfig config, StreamContext& ctx, std::unique_ptr<AnalysisState> analysis)
    : config_(std::move(config)), ctx_(ctx), analysis_(std::move(analysis)), every_effective_(config_.every) {
  if (ctx_.recorder) recording_ = ctx_.recorder->stream(config_.id, config_.record, ctx_.model.class_names);
  CaptureOptions co;
  if (recording_) co.ring = recording_->ring();
  co.source.url = config_.url;
  co.source.timeout_ms = static_cast<int>(config_.timeout_s * 1000);
  co.source.hwaccel = config_.hwaccel;
  co.source.skip_frame = config_.skip_frame;
  co.source.max_pixels = config_.max_pixels;
  co.source.decode_threads = config_.decode_threads > 0 ? config_.decode_threads : ctx_.auto_decode_threads;
  co.loop = config_.loop;
  co.pace = !ctx_.offline;
  co.offline = ctx_.offline;
  co.watchdog_s = config_.watchdog_s;
  capture_ = std::make_unique<StreamCapture>(config_.id, co, slot_, ctx_.metrics,
                                             [this](EventKind kind, const std::string& reason) {
                                               Event e;
                                               e.kind = kind;
                                               e.stream = config_.id;
                                               e.pts = last_pts_.load();
                                               e.wall_time = unix_now();
                                               e.text = reason;
                                               publish(e);
                                             });
  client_ = ctx_.scheduler.add_client(decode_options(config_, ctx_.model), [this](BatchResult&& r) { on_result(std::move(r)); });
}

StreamPipeline::~StreamPipeline() { stop(); }

void StreamPipeline::start() {
  if (thread_.joinable()) return;
  capture_->start();
  thread_ = std::thread([this] { loop(); });
}

void StreamPipeline::stop() {
  stop_ = true;
  capture_->stop();
  if (thread_.joinable()) thread_.join();
  if (client_) ctx_.scheduler.remove_client(client_);
  client_ = 0;
}

double StreamPipeline::source_fps() const {
  const auto s = capture_->stats();
  return s.nominal_fps > 0 ? s.nominal_fps : s.measured_fps;
}

int StreamPipeline::add_observer(FrameObserver fn) {
  std::lock_guard lock(mu_);
  observers_[next_observer_] = std::move(fn);
  return next_observer_++;
}

void StreamPipeline::remove_observer(int id) {
  std::lock_guard lock(mu_);
  observers_.erase(id);
}

void StreamPipeline::count_drop(DropReason reason, std::uint64_t n) {
  std::lock_guard lock(mu_);
  drops_[reason] += n;
}

namespace {
// Gives the event its id, "<stream>-<prefix><n>" (Event::id), then publishes it.
void publish_with_id(EventBus& bus, std::atomic<std::uint64_t>& count, Event e, const char* prefix = "") {
  e.id = e.stream + "-" + prefix + std::to_string(++count);
  bus.publish(e);
}

// The boxes a snapshot of `e` shows: its track's, else every confirmed track's.
std::vector<Detection> event_boxes(const Event& e, const AnalysisUpdate& u) {
  std::vector<Detection> out;
  const auto add = [&out](const Track& t) { out.push_back(Detection{t.box, t.class_id, t.score}); };
  if (e.track_id >= 0) {
    for (const auto* list : {&u.tracks, &u.lost})
      for (const auto& t : *list)
        if (t.id == e.track_id && out.empty()) add(t);
    return out;
  }
  for (const auto& t : u.tracks)
    if (t.state == TrackState::kConfirmed) add(t);
  return out;
}
}  // namespace

void StreamPipeline::publish(const Event& e, const BatchResult* r, const AnalysisUpdate* u) {
  event_tally_->count(e.kind);
  if (!recording_ || !r || !u || !recording_->records(e.kind)) return publish_with_id(ctx_.events, *event_count_, e);
  Event out = e;
  out.id = out.stream + "-" + std::to_string(++*event_count_);
  recording_->record(out, r->request.frame, event_boxes(out, *u));
  ctx_.events.publish(out);
}

void StreamPipeline::on_result(BatchResult&& r) {
  std::lock_guard lock(mu_);
  inbox_.push_back(std::move(r));
}

std::vector<Event> StreamPipeline::apply_results(bool& applied) {
  std::deque<BatchResult> results;
  {
    std::lock_guard lock(mu_);
    results.swap(inbox_);
  }
  std::vector<Event> all;
  for (auto& r : results) {
    const double scene_diff = take_scene_diff(r.request.seq);
    if (!r.ok) {
      count_drop(DropReason::kInferenceError);
      spdlog::warn("stream {}: analysis failed: {}", config_.id, r.error);
      continue;
    }
    AnalysisUpdate u = analyse(*analysis_, r, unix_now());
    applied = true;
    detections_ += r.detections.size();
    const auto c0 = clock::now();
    if (caption_trigger_ && caption_trigger_->due(r.request.seq, r.request.pts, scene_diff)) caption(r, u);
    const auto done = clock::now();
    ctx_.metrics.add(Stage::kTrack, u.track_ms);
    ctx_.metrics.add(Stage::kAnalytics, u.analytics_ms + ms_between(c0, done));
    ctx_.analysis_latency.add(ms_between(r.request.capture_time, done));
    for (const auto& e : u.events) publish(e, &r, &u);
    analysed_rate_.tick();
    auto figures = std::make_shared<AnalyticsSnapshot>();
    figures->tracks = u.confirmed;
    figures->occupancy = std::move(u.occupancy);
    figures->line_counts = std::move(u.line_counts);
    {
      std::lock_guard lock(mu_);
      figures->analysed = analytics_->analysed + 1;
      analytics_ = std::move(figures);
    }
    all.insert(all.end(), std::make_move_iterator(u.events.begin()), std::make_move_iterator(u.events.end()));
  }
  return all;
}

double StreamPipeline::take_scene_diff(std::int64_t seq) {
  double diff = 0;
  if (auto it = scene_diffs_.find(seq); it != scene_diffs_.end()) diff = it->second;
  // Requests up to seq were answered or replaced: none of them comes back.
  scene_diffs_.erase(scene_diffs_.begin(), scene_diffs_.upper_bound(seq));
  return diff;
}

void StreamPipeline::caption(const BatchResult& r, const AnalysisUpdate& u) {
  CaptionScene scene = caption_scene(*analysis_, r, u);
  // The callback runs on the scheduler's worker, possibly after this stream
  // is gone: it holds only the engine's event bus, the shared caption box, the event tally and the caption count.
  captions_->submit(std::move(scene), [&bus = ctx_.events, box = caption_box_, tally = event_tally_,
                                       count = caption_count_](Result<Caption> c,
                                                                                 const CaptionScene& sc) {
    if (!c) {
      spdlog::debug("stream {}: caption failed: {}", sc.stream, c.error().message);
      return;
    }
    Event e;
    e.kind = EventKind::kCaption;
    e.stream = sc.stream;
    e.pts = sc.pts;
    e.wall_time = unix_now();
    e.text = c->text;
    e.latency_ms = c->latency_ms;
    e.captioner = c->captioner;
    {
      std::lock_guard lock(box->mu);
      box->text = c->text;
      box->pts = sc.pts;
    }
    tally->count(e.kind);
    publish_with_id(bus, *count, std::move(e), "caption-");
  });
}

// What the stream loop keeps between frames (loop thread only).
struct StreamPipeline::LoopState {
  explicit LoopState(const StreamConfig& config)
      : gate(config.gate), scene_gate(scene_gate_config(config.describe.scene_threshold)), motion(config.motion) {}

  // Scene changes for captions: the difference to the last frame that changed the scene.
  static GateConfig scene_gate_config(double scene_threshold) {
    GateConfig c;
    c.enabled = true;
    c.similarity = 1.0 - scene_threshold;
    return c;
  }

  SimilarityGate gate;
  SimilarityGate scene_gate;
  FrameConverter converter;
  MotionPlanner motion;
  std::shared_ptr<const MotionView> motion_view;     // the latest candidate's (motion.enabled)
  int since_analysis = std::numeric_limits<int>::max() / 2;  // the first frame is a candidate
  std::vector<Event> pending_events;                         // since the last displayed frame
  bool applied = false;                                      // a result was applied since then
};

void StreamPipeline::loop() {
  LoopState st(config_);
  for (;;) {
    auto cf = slot_.take(kFrameWait);
    // Every applied result reaches the observers (the overlay, WebSocket
    // viewers), events or not: a calm scene's tracks move too.
    auto events = apply_results(st.applied);
    st.pending_events.insert(st.pending_events.end(), std::make_move_iterator(events.begin()),
                             std::make_move_iterator(events.end()));
    if (!cf) {
      if (slot_.closed() || stop_) break;
      continue;
    }
    count_frame(*cf);
    if (++st.since_analysis >= every_effective_.load() && passes_gate(*cf->frame, st)) {
      st.since_analysis = 0;
      const RegionPlan plan = plan_regions_for(*cf, st);
      if (plan.decision == RegionDecision::kSkip) count_drop(DropReason::kNoMotion);
      else if (!submit(*cf, st, plan)) break;  // offline: the scheduler stopped
    }
    update_activity(st.gate);
    notify_observers(*cf, st);
  }
  if (ctx_.offline && !stop_) apply_remaining();
  finished_ = true;
}

void StreamPipeline::count_frame(const CapturedFrame& cf) {
  display_rate_.tick();
  last_pts_ = cf.pts;
  std::lock_guard lock(mu_);
  ++frames_;
}

bool StreamPipeline::passes_gate(const VideoFrame& vf, LoopState& st) {
  if (!config_.gate.enabled || !vf.has_luma()) return true;
  const auto g0 = clock::now();
  const Thumbnail thumb =
      make_thumbnail(vf.luma(), vf.width(), vf.height(), vf.luma_stride(), config_.gate.thumb_w, config_.gate.thumb_h);
  const bool changed = st.gate.should_analyse(thumb);
  ctx_.metrics.add(Stage::kGate, ms_between(g0, clock::now()));
  if (!changed) count_drop(DropReason::kGate);
  return changed;
}

RegionPlan StreamPipeline::plan_regions_for(const CapturedFrame& cf, LoopState& st) {
  const VideoFrame& vf = *cf.frame;
  if (!config_.motion.enabled || !vf.has_luma()) return RegionPlan{};
  const auto m0 = clock::now();
  const auto [aw, ah] = analysis_size(config_.substream, 0, 0, vf.width(), vf.height());
  const double to_full = static_cast<double>(vf.width()) / std::max(1, aw);
  MotionPlanner::Planned p =
      st.motion.plan(vf.luma(), vf.width(), vf.height(), vf.luma_stride(), cf.pts,
                     analysis_->tracker().predicted_boxes(cf.pts), ctx_.scheduler.detector().input_size_for(aw, ah), to_full);
  auto view = std::make_shared<MotionView>();
  view->boxes = std::move(p.motion.boxes);
  view->regions = p.plan.regions;
  view->decision = p.plan.decision;
  st.motion_view = std::move(view);
  ctx_.metrics.add(Stage::kGate, ms_between(m0, clock::now()));
  return p.plan;
}


bool StreamPipeline::submit(const CapturedFrame& cf, LoopState& st, const RegionPlan& plan) {
  const VideoFrame& vf = *cf.frame;
  const auto c0 = clock::now();
  const auto [aw, ah] = analysis_size(config_.substream, 0, 0, vf.width(), vf.height());
  auto image = st.converter.to_image(vf, PixelFormat::kBgr24, aw, ah);
  if (!image) {
    ctx_.metrics.add(Stage::kConvert, ms_between(c0, clock::now()));
    count_drop(DropReason::kConvertError);
    return true;
  }
  BatchRequest req;
  req.seq = cf.seq;
  req.pts = cf.pts;
  if (recording_ && recording_->wants_frames()) req.frame = cf.frame;
  req.capture_time = cf.capture_time;
  req.frame_w = vf.width();
  req.frame_h = vf.height();
  req.to_full_x = static_cast<float>(vf.width()) / static_cast<float>(aw);
  req.to_full_y = static_cast<float>(vf.height()) / static_cast<float>(ah);
  req.image = std::make_shared<const Image>(std::move(*image));
  if (plan.decision == RegionDecision::kCrops)
    for (const Box& r : plan.regions) req.crops.push_back(cut_crop(*req.image, r, req.to_full_x, req.to_full_y));
  ctx_.metrics.add(Stage::kConvert, ms_between(c0, clock::now()));
  if (caption_trigger_ && config_.describe.on_scene_change && vf.has_luma()) {
    st.scene_gate.should_analyse(
        make_thumbnail(vf.luma(), vf.width(), vf.height(), vf.luma_stride(), config_.gate.thumb_w, config_.gate.thumb_h));
    scene_diffs_[cf.seq] = 1.0 - st.scene_gate.last_similarity();
  }
  {
    std::lock_guard lock(mu_);
    ++submitted_;
    if (req.crops.empty()) {
      ++regions_.full;
    } else {
      ++regions_.crops;
      regions_.crop_images += req.crops.size();
    }
  }
  if (ctx_.offline) return ctx_.scheduler.submit_wait(client_, std::move(req));
  if (ctx_.scheduler.submit_latest(client_, std::move(req))) count_drop(DropReason::kAnalysisReplaced);
  return true;
}

void StreamPipeline::update_activity(const SimilarityGate& gate) {
  std::size_t tracks = 0;
  {
    std::lock_guard lock(mu_);
    tracks = analytics_->tracks;
  }
  activity_ = activity_score(1.0 - gate.last_similarity(), static_cast<int>(tracks));
}

void StreamPipeline::notify_observers(const CapturedFrame& cf, LoopState& st) {
  std::map<int, FrameObserver> observers;
  std::shared_ptr<const AnalyticsSnapshot> figures;
  {
    std::lock_guard lock(mu_);
    observers = observers_;
    figures = analytics_;
  }
  if (!observers.empty()) {
    FrameResult fr;
    fr.stream = config_.id;
    fr.seq = cf.seq;
    fr.pts = cf.pts;
    fr.frame = cf.frame;
    const auto t0 = clock::now();
    fr.tracks = analysis_->tracker().predict(cf.pts);
    ctx_.metrics.add(Stage::kTrack, ms_between(t0, clock::now()));
    fr.events = std::move(st.pending_events);
    fr.analysed = st.applied;
    fr.analytics = std::move(figures);
    fr.display_fps = display_rate_.rate();
    fr.motion = st.motion_view;
    for (auto& [id, fn] : observers) fn(fr);
  }
  st.pending_events.clear();
  st.applied = false;
}

void StreamPipeline::apply_remaining() {
  ctx_.scheduler.finish(client_);
  ctx_.scheduler.drain(client_);
  bool applied_at_end = false;
  apply_results(applied_at_end);
}

StreamSnapshot StreamPipeline::snapshot() const {
  const auto cs = capture_->stats();
  StreamSnapshot s;
  s.id = config_.id;
  s.url = redact_url(config_.url);  // shown in stats and the API: never the password
  s.up = cs.up;
  s.ended = cs.ended;
  s.width = cs.width;
  s.height = cs.height;
  s.source_fps = cs.nominal_fps;
  s.capture_fps = cs.measured_fps;
  s.display_fps = display_rate_.rate();
  s.analysed_fps = analysed_rate_.rate();
  s.every = config_.every;
  s.every_effective = every_effective_.load();
  s.activity = activity_.load();
  s.last_error = cs.last_error;
  s.reconnects = cs.reconnects;
  {
    std::lock_guard tally_lock(event_tally_->mu);
    s.events = event_tally_->by_kind;
  }
  std::lock_guard lock(mu_);
  s.drops = drops_;
  if (cs.overwritten) s.drops[DropReason::kCaptureOverwritten] = cs.overwritten;
  if (cs.behind) s.drops[DropReason::kCaptureBehind] = cs.behind;
  s.frames = frames_;
  s.analysed = analytics_->analysed;
  s.submitted = submitted_;
  s.detections = detections_.load();
  s.regions = regions_;
  s.queue_depth = inbox_.size();
  s.tracks = analytics_->tracks;
  {
    std::lock_guard box_lock(caption_box_->mu);
    s.caption = caption_box_->text;
    s.caption_pts = caption_box_->pts;
  }
  s.occupancy = analytics_->occupancy;
  s.line_counts = analytics_->line_counts;
  return s;
}

}  // namespace vigil
