#include "pipeline/analysis_stage.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "pipeline/detector.h"

namespace vigil {
namespace {

using clock_type = std::chrono::steady_clock;

double ms_between(clock_type::time_point a, clock_type::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

LineTotals line_totals(const AnalyticsEvaluator& analytics) {
  LineTotals out;
  for (const auto& [name, counts] : analytics.line_counts()) out[name] = {{"in", counts.total.in}, {"out", counts.total.out}};
  return out;
}

int even_at_least_2(long v) { return std::max(2, static_cast<int>(v) & ~1); }

}  // namespace

Result<std::unique_ptr<AnalysisState>> AnalysisState::create(const StreamConfig& stream, const ModelInfo& model,
                                                             std::int64_t first_track_id, const std::string& path) {
  if (auto v = stream.tracker.validate(); !v) return fail(ErrorCode::kInvalidArgument, path + ".tracker: " + v.error().message);
  auto analytics = AnalyticsEvaluator::create(stream.id, stream.zones, stream.lines, model.class_names, path);
  if (!analytics) return fail(analytics.error());
  for (const auto& c : stream.classes)
    if (std::find(model.class_names.begin(), model.class_names.end(), c) == model.class_names.end())
      return fail(ErrorCode::kInvalidArgument, path + ".classes: '" + c + "' is not a class of the model");
  return std::unique_ptr<AnalysisState>(new AnalysisState(stream, model, first_track_id, std::move(*analytics)));
}

AnalysisState::AnalysisState(const StreamConfig& stream, const ModelInfo& model, std::int64_t first_track_id,
                             AnalyticsEvaluator analytics)
    : stream_id_(stream.id),
      model_(model),
      ids_(first_track_id),
      tracker_(stream.tracker, ids_),
      analytics_(std::move(analytics)) {}

Event track_event(EventKind kind, const Track& t, const std::string& stream, const ModelInfo& model, double pts,
                  double wall_time) {
  return vigil::track_event(kind, t, stream, model.class_name(t.class_id), pts, wall_time);
}

std::vector<Event> end_tracks(AnalysisState& state, const std::vector<Track>& gone, double pts, double wall_time) {
  std::vector<Event> events;
  state.analytics_.remove_tracks(gone, pts, wall_time, events);
  for (const auto& t : gone) events.push_back(track_event(EventKind::kTrackLost, t, state.stream_id_, state.model_, pts, wall_time));
  return events;
}

AnalysisUpdate analyse(AnalysisState& state, const BatchResult& r, double wall_time) {
  AnalysisUpdate u;
  u.pts = r.request.pts;
  const auto t0 = clock_type::now();
  Tracker::Update up = state.tracker_.update(r.detections, u.pts);
  const auto t1 = clock_type::now();
  for (const auto& t : up.born)
    u.events.push_back(track_event(EventKind::kTrackNew, t, state.stream_id_, state.model_, u.pts, wall_time));
  auto zone_events = state.analytics_.update(up.tracks, u.pts, r.request.frame_w, r.request.frame_h, wall_time);
  u.events.insert(u.events.end(), std::make_move_iterator(zone_events.begin()), std::make_move_iterator(zone_events.end()));
  auto ended = end_tracks(state, up.lost, u.pts, wall_time);
  u.events.insert(u.events.end(), std::make_move_iterator(ended.begin()), std::make_move_iterator(ended.end()));
  u.occupancy = state.analytics_.occupancy();
  u.line_counts = line_totals(state.analytics_);
  for (const auto& t : up.tracks) u.confirmed += t.state == TrackState::kConfirmed ? 1 : 0;
  u.tracks = std::move(up.tracks);
  u.born = std::move(up.born);
  u.lost = std::move(up.lost);
  u.track_ms = ms_between(t0, t1);
  u.analytics_ms = ms_between(t1, clock_type::now());
  return u;
}

DecodeOptions decode_options(const StreamConfig& stream, const ModelInfo& model) {
  DecodeOptions decode;
  decode.conf = std::min(stream.conf, stream.tracker.low_thresh);
  decode.iou = stream.iou;
  decode.max_det = stream.max_det;
  if (auto mask = class_mask_from_names(model, stream.classes)) decode.class_mask = std::move(*mask);
  return decode;
}

std::pair<int, int> analysis_size(const SubstreamConfig& sub, int fit_w, int fit_h, int w, int h) {
  if (sub.width > 0 && sub.width < w) {
    const int sw = sub.width & ~1;
    h = even_at_least_2(std::lround(static_cast<double>(h) * sub.width / w));
    w = sw;
  } else if (sub.scale > 0 && sub.scale < 1) {
    w = even_at_least_2(std::lround(w * sub.scale));
    h = even_at_least_2(std::lround(h * sub.scale));
  }
  if (fit_w <= 0 || fit_h <= 0) return {w, h};
  const double s = std::min({1.0, static_cast<double>(fit_w) / w, static_cast<double>(fit_h) / h});
  return {std::max(2, static_cast<int>(std::lround(w * s))), std::max(2, static_cast<int>(std::lround(h * s)))};
}

CaptionScene caption_scene(const AnalysisState& state, const BatchResult& r, const AnalysisUpdate& u) {
  CaptionScene scene;
  scene.stream = state.stream_id();
  scene.pts = r.request.pts;
  scene.frame_w = r.request.frame_w;
  scene.frame_h = r.request.frame_h;
  for (const auto& t : u.tracks)
    if (t.state == TrackState::kConfirmed) scene.tracks.push_back(t);
  scene.class_names = state.model().class_names;
  scene.occupancy = u.occupancy;
  ZonePresence presence = state.analytics().presence(r.request.pts);
  scene.zone_dwell_max_s = std::move(presence.dwell_max_s);
  scene.track_zones = std::move(presence.track_zones);
  for (const auto& [name, counts] : state.analytics().line_counts())
    scene.line_counts[name] = {counts.total.in, counts.total.out};
  scene.image = r.request.image;
  return scene;
}

}  // namespace vigil
