#include "config/engine_config.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "cluster/redis_client.h"
#include "config/config_table.h"
#include "core/event.h"
#include "media/source_url.h"

namespace vigil {
namespace {

// ---- limits named once -----------------------------------------------------------
constexpr int kMaxStreamIdLength = 64;      // ids appear in URLs, metric labels and file names
constexpr std::int64_t kMinFramePixels = 64 * 64;
constexpr double kMaxCaptionPeriodS = 86400;  // a day
constexpr double kMaxTimeoutS = 600;
constexpr double kMaxWatchdogS = 3600;

// A module's own check (TrackerConfig::validate, ZoneConfig::validate...)
// says "PATH: problem"; as an issue its path is kept apart, so that a table
// range already reported for the same field is not repeated.
void add_module_error(ConfigIssues& issues, const Error& e, const std::string& prefix = "") {
  const std::size_t colon = e.message.find(": ");
  if (colon == std::string::npos) return issues.add(prefix, e.message);
  issues.add(join_path(prefix, e.message.substr(0, colon)), e.message.substr(colon + 2));
}

void add_result(ConfigIssues& issues, const Result<void>& r, const std::string& prefix = "") {
  if (!r) add_module_error(issues, r.error(), prefix);
}

bool is_stream_id(const std::string& id) {
  return id.size() <= static_cast<std::size_t>(kMaxStreamIdLength) &&
         std::all_of(id.begin(), id.end(), [](char ch) {
           return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
         });
}

// ---- describe: ----------------------------------------------------------------------
const Section<DescribeConfig>& describe_section() {
  using D = DescribeConfig;
  static const Section<D> s = [] {
    Section<D> t;
    t.per_stream = true;
    t.add(choice<D, CaptionerKind>("captioner", &D::captioner, kCaptionerNames,
                                   "template (one sentence from tracks, zones, lines), vlm (OpenAI-compatible server) or off"));
    t.add(text("endpoint", &D::endpoint, "vlm: server base URL (POST {endpoint}/v1/chat/completions)"));
    t.add(text("model", &D::model, "vlm: model name in the request"));
    t.add(text("api_key", &D::api_key, "vlm: sent as Authorization: Bearer").hide_from_api());
    t.add(text("prompt", &D::prompt, "vlm: the instruction sent with the frame")
              .verify([](const D& d, const std::string& path, ConfigIssues& issues) {
                if (d.prompt.empty()) issues.add(path, "must not be empty");
              }));
    t.add(integer("every_frames", &D::every_frames, Range::at_least(0), "caption every N frames; 0 = off"));
    t.add(number("every_s", &D::every_s, Range::between(0, kMaxCaptionPeriodS),
                 "caption every S seconds of video; 0 = off (`vigil analyze --captions` with 0: one caption per chunk)"));
    t.add(flag("on_scene_change", &D::on_scene_change,
               "caption when the frame differs from the last captioned one by scene_threshold"));
    t.add(number("scene_threshold", &D::scene_threshold, Range::inside(0, 1),
                 "scene change: thumbnail difference (0..1) above which the scene changed"));
    t.add(integer("max_tokens", &D::max_tokens, Range::between(1, 4096), "vlm: most tokens in a caption"));
    t.add(integer("max_side", &D::max_side, Range::between(32, 4096),
                  "vlm: the frame is downscaled to this longer side (px) before sending"));
    t.add(number("timeout_s", &D::timeout_s, Range::above_to(0, kMaxTimeoutS),
                 "vlm: request timeout; a caption that takes longer is counted as an error"));
    t.check = [](const D& d, const std::string& path, ConfigIssues& issues) {
      if (d.captioner != CaptionerKind::kVlm) return;
      const bool http = d.endpoint.rfind("http://", 0) == 0 || d.endpoint.rfind("https://", 0) == 0;
      if (!http || d.endpoint.size() <= std::string("https://").size())
        issues.add(join_path(path, "endpoint"), "'" + d.endpoint + "' is not an http:// or https:// URL");
    };
    return t;
  }();
  return s;
}

// ---- record: ------------------------------------------------------------------------
constexpr double kMaxRecordSeconds = 300;  // pre_s / post_s: clips of at most 10 minutes

// Kinds that happen on an analysed frame (the others have none to show).
bool recordable_kind(EventKind k) {
  return k != EventKind::kStreamUp && k != EventKind::kStreamDown && k != EventKind::kCaption;
}

const Section<RecordConfig>& record_section() {
  using R = RecordConfig;
  static const Section<R> s = [] {
    Section<R> t;
    t.per_stream = true;
    t.add(flag("snapshots", &R::snapshots, "write a JPEG of the event's frame with its boxes"));
    t.add(flag("clips", &R::clips,
               "write an MP4 clip (no re-encode) from pre_s before to post_s after the event; overlapping events "
               "share one clip"));
    t.add(number("pre_s", &R::pre_s, Range::between(0, kMaxRecordSeconds),
                 "seconds of video before the event (the stream keeps them as compressed packets, from a keyframe)"));
    t.add(number("post_s", &R::post_s, Range::between(0, kMaxRecordSeconds), "seconds of video after the event"));
    t.add(names("kinds", &R::kinds, "event kinds recorded (track_new, track_lost, zone_enter, zone_exit, dwell, line_cross)")
              .verify([](const R& r, const std::string& path, ConfigIssues& issues) {
                for (std::size_t i = 0; i < r.kinds.size(); ++i) {
                  const auto k = parse_event_kind(r.kinds[i]);
                  if (!k || !recordable_kind(*k))
                    issues.add(index_path(path, i), "'" + r.kinds[i] +
                                                        "' is not a recordable event kind (track_new, track_lost, "
                                                        "zone_enter, zone_exit, dwell, line_cross)");
                }
              }));
    return t;
  }();
  return s;
}

const Section<RetentionConfig>& retention_section() {
  using R = RetentionConfig;
  static const Section<R> s = [] {
    Section<R> t;
    t.add(number("days", &R::days, Range::at_least(0), "delete snapshots and clips older than this; 0 = no age limit"));
    t.add(number("max_gb", &R::max_gb, Range::at_least(0),
                 "delete the oldest snapshots and clips while all of them take more than this (GB, 1e9 bytes); 0 = "
                 "no size limit"));
    return t;
  }();
  return s;
}

const Section<RecorderConfig>& recorder_section() {
  using R = RecorderConfig;
  static const Section<R> s = [] {
    Section<R> t;
    t.add(text("dir", &R::dir, "folder of the snapshots and clips: dir/<stream>/<run>/<event id>.jpg and .mp4 (created; must be "
                               "writable)")
              .verify([](const R& r, const std::string& path, ConfigIssues& issues) {
                if (r.dir.empty()) issues.add(path, "must not be empty");
              }));
    t.add(section("retention", &R::retention, retention_section(),
                  "how long files stay; the events stay in the event store, marked expired"));
    t.add(number("retention_every_s", &R::retention_every_s, Range::between(1, 86400),
                 "seconds between two retention passes"));
    t.add(integer("queue", &R::queue, Range::between(1, 100000),
                  "snapshots waiting for the writer thread; one more is dropped (counted)"));
    t.add(integer("max_clips", &R::max_clips, Range::between(1, 256),
                  "clips written at once (one writer thread each); an event that would open one more gets no clip "
                  "(counted)"));
    return t;
  }();
  return s;
}

// A field of U (a part of the engine config reached by `get`) as a field
// of the whole config: the top-level `record:` holds both the recorder's
// keys and the streams' defaults.record.
template <class U, class Get>
Field<EngineConfig> lifted(const Field<U>& f, Get get, bool checked) {
  Field<EngineConfig> g = blank_field<EngineConfig>(f.key, f.type, f.description);
  g.range_text = f.range_text;
  g.default_text = f.default_text;
  g.read = [f, get](const ConfigNode& n, EngineConfig& c, const std::string& path, ConfigIssues& issues) {
    f.read(n, get(c), path, issues);
  };
  g.write = [f, get](const EngineConfig& c) { return f.write(get(c)); };
  if (checked && f.check)
    g.check = [f, get](const EngineConfig& c, const std::string& path, ConfigIssues& issues) {
      f.check(get(c), path, issues);
    };
  g.document_children = f.document_children;
  return g;
}

const Section<EngineConfig>& record_top_section() {
  static const Section<EngineConfig> s = [] {
    Section<EngineConfig> t;
    // The per-stream keys are the defaults' (checked with them, as defaults.record).
    for (const auto& f : record_section().fields)
      t.add(lifted(f, [](auto& c) -> auto& { return c.defaults.record; }, false));
    for (const auto& f : recorder_section().fields)
      t.add(lifted(f, [](auto& c) -> auto& { return c.record; }, true));
    return t;
  }();
  return s;
}

Field<EngineConfig> record_field() {
  Field<EngineConfig> f = group("record", record_top_section(), "");
  f.description =
      "event snapshots and clips: the recorder's keys and every stream's `record` defaults (`defaults.record` and a "
      "stream's `record` override snapshots, clips, pre_s, post_s, kinds)";
  f.document_children = [](std::vector<OptionDoc>& out, const std::string& path, bool) {
    document_section(record_section(), out, path, true);
    document_section(recorder_section(), out, path, false);
  };
  return f;
}

// ---- a stream (defaults: and each of streams:) ----------------------------------
const Section<SubstreamConfig>& substream_section() {
  using S = SubstreamConfig;
  static const Section<S> s = [] {
    Section<S> t;
    t.scalar_key = "scale";  // `substream: 0.5`
    t.add(number("scale", &S::scale, Range::above_to(0, 1).or_zero(),
                 "analyse a copy scaled by this factor (0..1); 0 = full frame; env SUBSTREAM_SCALE"));
    t.add(integer("width", &S::width, Range::between(32, 8192).or_zero(),
                  "analyse a copy this many pixels wide (aspect kept); 0 = full frame"));
    return t;
  }();
  return s;
}

const Section<RenderConfig>& render_section() {
  using R = RenderConfig;
  static const Section<R> s = [] {
    Section<R> t;
    t.add(integer("jpeg_quality", &R::jpeg_quality, Range::between(1, 100).or_zero(),
                  "JPEG quality of live views that do not ask for one; 0 = the route's default (MJPEG 75, "
                  "snapshot and WebSocket 85)"));
    t.add(integer("max_fps", &R::max_fps, Range::between(1, 30).or_zero(),
                  "frame rate of live views that do not ask for one (WebSocket: at most 15); 0 = 15"));
    return t;
  }();
  return s;
}

const Section<GateConfig>& gate_section() {
  using G = GateConfig;
  static const Section<G> s = [] {
    Section<G> t;
    t.on_present = [](G& g) { g.enabled = true; };  // writing a gate section turns it on unless it says otherwise
    t.add(flag("enabled", &G::enabled, "skip analysing frames too similar to the last analysed one")
              .doc_default("false; true once `gate:` is written"));
    t.add(number("similarity", &G::similarity, Range::above_to(0, 1),
                 "similarity (0..1) at or above which a frame is skipped"));
    t.add(integer("max_skip", &G::max_skip, Range::at_least(0),
                  "analyse anyway after this many consecutive skips; 0 = never force"));
    t.check = [](const G& g, const std::string& path, ConfigIssues& issues) { add_result(issues, g.validate(path)); };
    return t;
  }();
  return s;
}

const Section<MotionConfig>& motion_section() {
  using M = MotionConfig;
  static const Section<M> s = [] {
    Section<M> t;
    t.on_present = [](M& m) { m.enabled = true; };  // writing a motion section turns it on unless it says otherwise
    t.add(flag("enabled", &M::enabled,
               "analyse only frames with motion or tracked objects (others are dropped as `no_motion`)")
              .doc_default("false; true once `motion:` is written"));
    t.add(integer("threshold", &M::threshold, Range::between(1, 254),
                  "luma difference from the running background (0..255) above which a pixel moved"));
    t.add(integer("min_area", &M::min_area, Range::between(0, 100000000),
                  "smallest motion box, full-frame pixels (width x height)"));
    t.add(integer("height", &M::height, Range::between(16, 720), "rows of the motion image (aspect kept)"));
    t.add(number("alpha", &M::alpha, Range::above_to(0, 1), "background update weight per analysis candidate"));
    t.add(number("global_change", &M::global_change, Range::above_to(0, 1),
                 "fraction of the picture changing at once that counts as a lighting change: no motion, new background"));
    t.add(flag("crops", &M::crops,
               "detect on crops around motion and tracks (of the model input's shape, resized to it) when they are few, "
               "small and cost no more than the frame"));
    t.add(integer("max_crops", &M::max_crops, Range::between(1, 16), "crops: most regions per frame"));
    t.add(number("max_crop_area", &M::max_crop_area, Range::above_to(0, 1),
                 "crops: largest fraction of the frame they may cover"));
    t.add(number("refresh_s", &M::refresh_s, Range::between(0, kMaxCaptionPeriodS),
                 "analyse the whole frame at least this often (media seconds) even without motion; 0 = never"));
    t.check = [](const M& m, const std::string& path, ConfigIssues& issues) { add_result(issues, m.validate(path)); };
    return t;
  }();
  return s;
}

const Section<TrackerConfig>& tracker_section() {
  using T = TrackerConfig;
  static const Section<T> s = [] {
    Section<T> t;
    t.add(number("high_thresh", &T::high_thresh, Range::above_to(0, 1),
                 "detections at or above this start and continue tracks"));
    t.add(number("low_thresh", &T::low_thresh, Range::between(0, 1),
                 "detections between this and high_thresh only continue confirmed tracks (below high_thresh)"));
    t.add(number("new_track_thresh", &T::new_track_thresh, Range::between(0, 1),
                 "score an unmatched detection needs to start a track (at least high_thresh)"));
    t.add(number("match_iou", &T::match_iou, Range::above_to(0, 1), "minimum IoU for the first association"));
    t.add(number("second_match_iou", &T::second_match_iou, Range::above_to(0, 1),
                 "minimum IoU for the low-score association"));
    t.add(number("unconfirmed_match_iou", &T::unconfirmed_match_iou, Range::above_to(0, 1),
                 "minimum IoU to continue a tentative track"));
    t.add(number("lost_buffer_s", &T::lost_buffer_s, Range::at_least(0),
                 "seconds a lost track waits for its object before it is removed"));
    t.add(integer("min_hits", &T::min_hits, Range::at_least(1), "matches a track needs to be confirmed (and reported)"));
    t.add(flag("class_aware", &T::class_aware, "a detection only continues a track of its own class"));
    // The relations between fields (low < high <= new) are the tracker's own
    // check; its messages start "tracker.", so they are joined to the parent.
    t.check = [](const T& tc, const std::string& path, ConfigIssues& issues) {
      const std::size_t dot = path.find_last_of('.');
      add_result(issues, tc.validate(), dot == std::string::npos ? "" : path.substr(0, dot));
    };
    return t;
  }();
  return s;
}

// normalized: as written, else "all coordinates within 0..1".
bool all_within_unit(const std::vector<PointF>& pts) {
  return std::all_of(pts.begin(), pts.end(), [](PointF p) { return p.x >= 0 && p.x <= 1 && p.y >= 0 && p.y <= 1; });
}

const Section<ZoneConfig>& zone_section() {
  using Z = ZoneConfig;
  static const Section<Z> s = [] {
    Section<Z> t;
    t.add(text("name", &Z::name, "zone name: [a-z0-9_-]+").require().doc_default("(required)"));
    t.add(points("polygon", &Z::polygon, "at least 3 points [[x, y], ...]: fractions 0..1 of the frame, or pixels")
              .require()
              .doc_default("(required)"));
    t.add(flag("normalized", &Z::normalized,
               "true: coordinates are fractions of the frame; false: pixels; auto: fractions when all are within 0..1")
              .doc_default("auto"));
    t.add(names("classes", &Z::classes, "classes that count in this zone").doc_default("[] (all)"));
    t.add(number("dwell_s", &Z::dwell_s, Range::at_least(0),
                 "emit a dwell event once a track has stayed this long; 0 = none"));
    t.add(choice<Z, Anchor>("anchor", &Z::anchor, kAnchorNames, "point of the box tested: bottom_center or center"));
    t.after_read = [](const ConfigNode& n, Z& z) {
      if (const auto* v = n.find("normalized"); !v || v->is_null()) z.normalized = all_within_unit(z.polygon);
    };
    t.check = [](const Z& z, const std::string& path, ConfigIssues& issues) { add_result(issues, z.validate(path)); };
    return t;
  }();
  return s;
}

const Section<LineConfig>& line_section() {
  using L = LineConfig;
  static const Section<L> s = [] {
    Section<L> t;
    t.add(text("name", &L::name, "line name: [a-z0-9_-]+").require().doc_default("(required)"));
    t.add(point("a", &L::a, "first end point [x, y]; walking from a to b, left-to-right crossings are \"in\"")
              .require()
              .doc_default("(required)"));
    t.add(point("b", &L::b, "second end point [x, y]").require().doc_default("(required)"));
    t.add(flag("normalized", &L::normalized, "as for zones").doc_default("auto"));
    t.add(names("classes", &L::classes, "classes that count on this line").doc_default("[] (all)"));
    t.add(integer("min_frames", &L::min_frames, Range::at_least(1),
                  "analysed frames a track must stay on the new side before a crossing counts"));
    t.add(choice<L, Anchor>("anchor", &L::anchor, kAnchorNames, "point of the box tested: bottom_center or center"));
    t.after_read = [](const ConfigNode& n, L& l) {
      if (const auto* v = n.find("normalized"); !v || v->is_null()) l.normalized = all_within_unit({l.a, l.b});
    };
    t.check = [](const L& l, const std::string& path, ConfigIssues& issues) { add_result(issues, l.validate(path)); };
    return t;
  }();
  return s;
}

// Names of zones (or lines) are unique within a stream.
template <class Item>
void check_unique_names(const std::vector<Item>& items, const std::string& path, ConfigIssues& issues) {
  std::set<std::string> seen;
  for (std::size_t i = 0; i < items.size(); ++i)
    if (!seen.insert(items[i].name).second)
      issues.add(join_path(index_path(path, i), "name"), "'" + items[i].name + "' is used twice");
}

const Section<StreamConfig>& stream_section() {
  using S = StreamConfig;
  static const Section<S> s = [] {
    Section<S> t;
    t.per_stream = true;
    t.add(required_text("id", &S::id, "stream name: [a-z0-9_-]+, unique")
              .require()
              .per_stream_only()
              .doc_default("(required)")
              .verify([](const S& v, const std::string& path, ConfigIssues& issues) {
                if (!v.id.empty() && !is_stream_id(v.id))
                  issues.add(path, "'" + v.id + "' must match [a-z0-9_-]+ (at most " +
                                       std::to_string(kMaxStreamIdLength) + " characters)");
              }));
    t.add(required_text("url", &S::url,
                        "a file path, rtsp://, rtsps://, http(s):// (file, HLS, MJPEG) or webcam:N (/dev/videoN)")
              .require()
              .per_stream_only()
              .doc_default("(required)")
              .verify([](const S& v, const std::string& path, ConfigIssues& issues) {
                if (v.url.empty()) return;
                if (auto u = parse_source_url(v.url); !u) issues.add(path, u.error().message);
              }));
    t.add(flag("loop", &S::loop, "files: start again at the end"));
    // Per stream (not in `defaults`) and a PATCH key: the engine keeps a
    // disabled stream's config without running it (Engine::replace_stream).
    t.add(flag("enabled", &S::enabled,
               "false: the stream is kept (listed by the API with state `disabled`, its settings saved) but not "
               "run; PATCH `{\"enabled\": true}` or SIGHUP starts it")
              .per_stream_only()
              .patch()
              .doc_default("true"));
    t.add(integer("every", &S::every, Range::between(1, 1000),
                  "analyse every Nth frame (tracks are predicted on the frames between)")
              .patch());
    t.add(section("substream", &S::substream, substream_section(),
                  "analyse a smaller copy: `{scale: 0.5}`, `{width: 640}` or just a scale")
              .patch());
    t.add(section("gate", &S::gate, gate_section(),
                  "similarity gate; writing the section turns it on unless `enabled: false`")
              .patch());
    t.add(section("motion", &S::motion, motion_section(),
                  "motion regions: skip frames without motion, optionally detect on crops; writing the section turns "
                  "it on unless `enabled: false`"));
    t.add(choice<S, HwAccel>("hwaccel", &S::hwaccel, kHwAccelNames,
                             "hardware decoding: auto (try CUDA, VAAPI, else software), none, cuda, vaapi"));
    t.add(choice<S, SkipFrame>("skip_frame", &S::skip_frame, kSkipFrameNames,
                               "decoder frame skipping for heavy sources: none, nonref, nonkey"));
    t.add(number("timeout_s", &S::timeout_s, Range::above_to(0, kMaxTimeoutS),
                 "network open/read timeout (capped at `watchdog_s`)"));
    t.add(number("watchdog_s", &S::watchdog_s, Range::above_to(0, kMaxWatchdogS),
                 "live sources: no frame for this long, whatever the connection does (a hung server that keeps its "
                 "TCP connection open included), and the stream is marked down (`stream_down`) and reconnected "
                 "with backoff"));
    t.add(integer("max_pixels", &S::max_pixels, Range::at_least(kMinFramePixels),
                  "frames larger than this (width x height) are refused"));
    t.add(integer("decode_threads", &S::decode_threads, Range::between(0, 64),
                  "FFmpeg decoder threads per stream; 0 = auto: 1 when the streams are at least as many as the "
                  "cores, else cores / streams (at most 4)"));
    t.add(number("conf", &S::conf, Range::between(0, 1), "minimum detection score"));
    t.add(number("iou", &S::iou, Range::above_to(0, 1), "NMS IoU threshold"));
    t.add(integer("max_det", &S::max_det, Range::between(1, 10000), "detections kept per frame"));
    t.add(names("classes", &S::classes, "class names to detect, e.g. [person, car]").doc_default("[] (all)"));
    t.add(section("tracker", &S::tracker, tracker_section(), "the tracker's thresholds"));
    t.add(list("zones", &S::zones, zone_section(), "polygons: zone_enter / zone_exit / dwell events and occupancy")
              .patch());
    t.add(list("lines", &S::lines, line_section(), "segments: direction-aware line_cross counts").patch());
    t.add(section("describe", &S::describe, describe_section(), "this stream's captions (keys as under `describe`)")
              .patch()
              .documented_elsewhere());
    t.add(section("record", &S::record, record_section(), "this stream's snapshots and clips (keys as under `record`)")
              .documented_elsewhere());
    t.add(section("render", &S::render, render_section(),
                  "live views' defaults for viewers that ask for none: `{jpeg_quality: 60, max_fps: 15}`")
              .patch());
    t.check = [](const S& v, const std::string& path, ConfigIssues& issues) {
      check_unique_names(v.zones, join_path(path, "zones"), issues);
      check_unique_names(v.lines, join_path(path, "lines"), issues);
    };
    // PATCH takes every option a config stream takes but its own id and url
    // (patchable_stream_keys()): a PATCH restarts the stream with the merged
    // config, so nothing needs to change live.
    for (auto& f : t.fields)
      if (!f.stream_only) f.patchable = true;
    return t;
  }();
  return s;
}

// ---- the whole file ------------------------------------------------------------
// A TensorRT-only flag set with a device that never runs TensorRT is a
// mistake worth naming rather than ignoring.
std::function<void(const ModelConfig&, const std::string&, ConfigIssues&)> check_tensorrt_only(
    bool ModelConfig::*member) {
  return [member](const ModelConfig& m, const std::string& path, ConfigIssues& issues) {
    if (m.*member && (m.device == "cpu" || m.device == "cuda"))
      issues.add(path, "only used with device tensorrt or auto (device is " + m.device + ")");
  };
}

const Section<ModelConfig>& model_section() {
  using M = ModelConfig;
  static const Section<M> s = [] {
    Section<M> t;
    t.scalar_key = "path";  // `model: m.onnx`
    t.add(text("path", &M::path, "ONNX detection model (NanoDet, YOLOv5/8/10/11/26); env MODEL_PATH")
              .doc_default("models/nanodet-m-416.onnx"));
    t.add(text("device", &M::device,
               "execution provider: auto (TensorRT, CUDA, else CPU), cpu, cuda, tensorrt; env DEVICE")
              .verify([](const M& m, const std::string& path, ConfigIssues& issues) {
                if (m.device != "auto" && m.device != "cpu" && m.device != "cuda" && m.device != "tensorrt")
                  issues.add(path, "'" + m.device + "' is not one of auto, cpu, cuda, tensorrt");
              }));
    t.add(integer("threads", &M::threads, Range::between(0, 256),
                  "ONNX Runtime intra-op threads per inference call; 0 = auto: the usable cores / `workers` (at "
                  "least 1), not pinned to cores"));
    t.add(flag("arena", &M::arena,
               "ONNX Runtime CPU memory arena: ~10% more inference throughput under load for ~40 MB more memory"));
    t.add(flag("trt_fp16", &M::trt_fp16, "TensorRT: FP16 kernels where faster (device tensorrt or auto)")
              .verify(check_tensorrt_only(&M::trt_fp16)));
    t.add(flag("trt_int8", &M::trt_int8,
               "TensorRT: INT8 kernels; needs a QDQ (quantised) ONNX model, whose scales TensorRT uses")
              .verify(check_tensorrt_only(&M::trt_int8)));
    t.add(text("trt_cache_dir", &M::trt_cache_dir,
               "TensorRT: folder for built engines and timing caches, reused by later runs (building one takes "
               "minutes); empty = none")
              .verify([](const M& m, const std::string& path, ConfigIssues& issues) {
                if (m.trt_cache_dir.empty()) return;
                if (m.device == "cpu" || m.device == "cuda")
                  issues.add(path, "only used with device tensorrt or auto (device is " + m.device + ")");
              }));
    t.add(flag("rectangular", &M::rectangular,
               "models with dynamic height/width: run each frame at a smaller input that holds its letterbox on the "
               "square input's stride grid (416x288 for 16:9); false = the square input"));
    t.add(choice<M, ModelPrecision>(
        "precision", &M::precision, kModelPrecisionNames,
        "fp32, int8 (the INT8 copy <stem>-int8.onnx beside the model, made by `make build`; error if missing) or "
        "auto (int8 when that copy exists, the CPU has VNNI and no GPU runs the model, else fp32); default fp32: "
        "INT8 is ~2x faster on VNNI CPUs and agrees less with the float32 detections (docs/performance.md)"));
    return t;
  }();
  return s;
}

const Section<EngineConfig>& batch_section() {
  using E = EngineConfig;
  static const Section<E> s = [] {
    Section<E> t;
    t.add(integer("max", &E::batch_max, Range::between(1, 64),
                  "most frames in one inference call, across streams; env BATCH_SIZE"));
    t.add(integer("wait_ms", &E::batch_wait_ms, Range::between(0, 1000),
                  "live mode: longest wait for a batch to fill after its first frame; Trigo's 50 fills batches of many "
                  "streams better at up to 40 ms more latency per detection than the default 10"));
    return t;
  }();
  return s;
}

const Section<EventsConfig>& events_section() {
  using V = EventsConfig;
  static const Section<V> s = [] {
    Section<V> t;
    t.add(text("jsonl", &V::jsonl, "JSON Lines event file; \"-\" = stdout (same as --events)"));
    t.add(text("sqlite", &V::sqlite, "SQLite event database (WAL)"));
    return t;
  }();
  return s;
}

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

const Section<MqttConfig>& mqtt_section() {
  using V = MqttConfig;
  static const Section<V> s = [] {
    Section<V> t;
    t.add(text("url", &V::url,
               "MQTT broker, mqtt://host[:port] (port 1883 when absent) or mqtts://host[:port] (TLS, port 8883 when "
               "absent); empty = no MQTT")
              .verify([](const V& v, const std::string& path, ConfigIssues& issues) {
                if (v.url.empty()) return;
                const std::size_t rest = starts_with(v.url, "mqtt://") ? 7 : starts_with(v.url, "mqtts://") ? 8 : 0;
                if (rest == 0)
                  issues.add(path, "'" + v.url + "': must start with mqtt:// or mqtts://");
                else if (v.url.size() == rest || v.url[rest] == ':' ||
                         v.url.find_first_of("/?@", rest) != std::string::npos)
                  issues.add(path, "'" + v.url + "': must be mqtt[s]://host[:port], without user, path or query");
              }));
    t.add(text("ca_file", &V::ca_file,
               "mqtts://: the CA certificates (PEM) the broker's certificate must chain to; empty = the system's "
               "(/etc/ssl/certs)")
              .verify([](const V& v, const std::string& path, ConfigIssues& issues) {
                if (!v.ca_file.empty() && !starts_with(v.url, "mqtts://"))
                  issues.add(path, "is for an mqtts:// url only (the url is '" + v.url + "')");
              }));
    t.add(text("username", &V::username, "broker user name; empty = anonymous"));
    t.add(text("password", &V::password, "broker password (${NAME} reads it from the environment)").hide_from_api());
    t.add(text("client_id", &V::client_id, "MQTT client id (unique per broker)")
              .verify([](const V& v, const std::string& path, ConfigIssues& issues) {
                if (v.client_id.empty()) issues.add(path, "must not be empty");
              }));
    t.add(text("topic_prefix", &V::topic_prefix, "first level of every topic (<prefix>/<stream>/events ...)")
              .verify([](const V& v, const std::string& path, ConfigIssues& issues) {
                if (v.topic_prefix.empty() || v.topic_prefix.find_first_of("+#") != std::string::npos ||
                    v.topic_prefix.front() == '/' || v.topic_prefix.back() == '/')
                  issues.add(path, "'" + v.topic_prefix + "': must be non-empty, without + or # and without a "
                                   "leading or trailing /");
              }));
    t.add(integer("qos", &V::qos, Range::between(0, 2), "MQTT quality of service of every message"));
    t.add(flag("home_assistant", &V::home_assistant,
               "publish Home Assistant MQTT discovery configs (homeassistant/sensor/..., binary_sensor/...)"));
    t.add(integer("queue", &V::queue, Range::between(1, 1000000),
                  "messages kept while the broker is away; the oldest are dropped (counted)"));
    return t;
  }();
  return s;
}

Field<WebhookConfig> headers_field() {
  using V = WebhookConfig;
  Field<V> f = blank_field<V>("headers", FieldType::kSection, "extra HTTP request headers, name: value");
  f.default_text = "{}";
  f.read = [](const ConfigNode& n, V& out, const std::string& path, ConfigIssues& issues) {
    if (n.kind != ConfigNode::Kind::kMap) return issue_expected(n, path, "a mapping of header: value", issues);
    out.headers.clear();
    for (const auto& [key, value] : n.members) {
      auto v = node_string(value);
      if (!v) {
        issue_expected(value, join_path(path, key), "a string", issues);
        continue;
      }
      out.headers[key] = *v;
    }
  };
  f.write = [](const V& v) {
    ConfigNode m = ConfigNode::map();
    for (const auto& [k, val] : v.headers) m.set(k, ConfigNode::of_string(val));
    return m;
  };
  f.check = [](const V& v, const std::string& path, ConfigIssues& issues) {
    for (const auto& [k, val] : v.headers) {
      const bool bad_name = k.empty() || k.find_first_of(" :\r\n\t") != std::string::npos;
      if (bad_name) issues.add(join_path(path, k), "is not a valid header name");
      if (val.find_first_of("\r\n") != std::string::npos) issues.add(join_path(path, k), "must not hold a line break");
    }
  };
  return f;
}

const Section<WebhookConfig>& webhook_section() {
  using V = WebhookConfig;
  static const Section<V> s = [] {
    Section<V> t;
    t.add(required_text("url", &V::url, "where events are POSTed (http:// or https://)")
              .verify([](const V& v, const std::string& path, ConfigIssues& issues) {
                if (!v.url.empty() && !starts_with(v.url, "http://") && !starts_with(v.url, "https://"))
                  issues.add(path, "'" + v.url + "': must start with http:// or https://");
              }));
    t.add(names("kinds", &V::kinds, "event kinds sent (zone_enter, line_cross, ...); empty = every kind")
              .verify([](const V& v, const std::string& path, ConfigIssues& issues) {
                for (std::size_t i = 0; i < v.kinds.size(); ++i)
                  if (!parse_event_kind(v.kinds[i]))
                    issues.add(index_path(path, i), "'" + v.kinds[i] + "' is not an event kind (track_new, "
                               "track_lost, zone_enter, zone_exit, dwell, line_cross, stream_up, stream_down, caption)");
              }));
    t.add(names("streams", &V::streams, "streams whose events are sent; empty = every stream"));
    t.add(headers_field());
    t.add(integer("retries", &V::retries, Range::between(0, 100),
                  "further attempts after a failed delivery (backoff 0.5 s doubling, at most 30 s)"));
    t.add(number("timeout_s", &V::timeout_s, Range::above_to(0, 600), "seconds per attempt"));
    t.add(integer("queue", &V::queue, Range::between(1, 100000),
                  "events waiting for this hook; the oldest are dropped (counted)"));
    return t;
  }();
  return s;
}

const Section<ClusterConfig>& cluster_section() {
  using V = ClusterConfig;
  static const Section<V> s = [] {
    Section<V> t;
    t.add(text("redis", &V::redis,
               "Redis of the cluster, redis://[user:password@]host[:port][/db]; with `vigil run --node NAME` the streams are shared "
               "with the other nodes; empty = no cluster")
              .verify([](const V& v, const std::string& path, ConfigIssues& issues) {
                if (v.redis.empty()) return;
                if (auto u = parse_redis_url(v.redis); !u) issues.add(path, u.error().message);
              }));
    t.add(number("lease_s", &V::lease_s, Range::between(1, 3600),
                 "seconds a node holds a stream without renewing; renewed every lease_s / 3, a dead node's streams "
                 "move within about lease_s"));
    t.add(integer("max_streams", &V::max_streams, Range::between(0, 10000),
                  "streams this node runs at most; 0 = no limit (an even share of the cluster's streams)"));
    t.add(flag("measure_capacity", &V::measure_capacity,
               "take as many streams as this node's measured load allows (CPU and inference time per stream, up to "
               "80%; starts with 1, at most max_streams when set); false = max_streams alone"));
    t.add(text("advertise_url", &V::advertise_url,
               "this node's API as the other nodes link to it (http://host:port); empty = from --listen "
               "(same as --advertise)")
              .verify([](const V& v, const std::string& path, ConfigIssues& issues) {
                if (!v.advertise_url.empty() && !starts_with(v.advertise_url, "http://") &&
                    !starts_with(v.advertise_url, "https://"))
                  issues.add(path, "'" + v.advertise_url + "': must start with http:// or https://");
              }));
    t.add(integer("events_maxlen", &V::events_maxlen, Range::between(100, 100000000),
                  "entries the Redis stream vigil:events keeps, about (XADD MAXLEN ~)"));
    return t;
  }();
  return s;
}

const Section<JobsConfig>& jobs_section() {
  using J = JobsConfig;
  static const Section<J> s = [] {
    Section<J> t;
    t.add(text("dir", &J::dir, "offline jobs of the server (POST /api/jobs): jobs.db and one output directory per job")
              .verify([](const J& j, const std::string& path, ConfigIssues& issues) {
                if (j.dir.empty()) issues.add(path, "must not be empty");
              }));
    t.add(integer("concurrency", &J::concurrency, Range::between(1, 16),
                  "offline jobs analysed at once; later ones wait in the queue"));
    t.add(integer("workers", &J::workers, Range::between(0, 8), "chunk workers per offline job; 0 = one per core"));
    t.add(text("redis", &J::redis,
               "distribute offline jobs: their chunks are queued in this Redis (redis://[user:password@]host[:port][/db]) "
               "and analysed by `vigil worker` processes; empty = analysed here")
              .verify([](const J& j, const std::string& path, ConfigIssues& issues) {
                if (j.redis.empty()) return;
                if (auto u = parse_redis_url(j.redis); !u) issues.add(path, u.error().message);
              }));
    return t;
  }();
  return s;
}

const Section<ServerConfig>& server_section() {
  using V = ServerConfig;
  static const Section<V> s = [] {
    Section<V> t;
    t.add(names("allowed_hosts", &V::allowed_hosts,
                "Host names the HTTP server answers besides IP addresses, localhost and the listen host (DNS "
                "rebinding protection; others get 421); \"*\" = any, \".example.org\" = the name and its subdomains")
              .verify([](const V& v, const std::string& path, ConfigIssues& issues) {
                for (std::size_t i = 0; i < v.allowed_hosts.size(); ++i)
                  if (v.allowed_hosts[i].empty() || v.allowed_hosts[i].find_first_of(" /:@") != std::string::npos)
                    issues.add(index_path(path, i), "must be a host name without port or path");
              }));
    t.add(integer("max_connections", &V::max_connections, Range::between(1, 100000),
                  "open HTTP connections at once (API and live video); more get 503"));
    t.add(integer("max_connections_per_address", &V::max_connections_per_address, Range::between(1, 100000),
                  "open HTTP connections from one client address; more get 503"));
    t.add(integer("login_free_attempts", &V::login_free_attempts, Range::between(1, 1000),
                  "failed /login attempts per address before each further one waits (1 s, doubling, at most 60 s; 429)"));
    t.add(integer("upload_max_mb", &V::upload_max_mb, Range::between(1, 1024 * 1024),
                  "largest video POST /api/uploads accepts, MiB (larger get 413)"));
    return t;
  }();
  return s;
}

// The part of `issues` found on a stream that its defaults already have:
// the stream inherited the value, the problem is reported once, at defaults.
void add_stream_issues(ConfigIssues& issues, const ConfigIssues& stream, const std::string& stream_path,
                       const ConfigIssues& defaults) {
  for (const auto& i : stream.list()) {
    const std::string rest = i.path.substr(std::min(i.path.size(), stream_path.size()));
    const bool inherited = std::any_of(defaults.list().begin(), defaults.list().end(), [&](const ConfigIssue& d) {
      return d.path == "defaults" + rest && d.message == i.message;
    });
    if (!inherited) issues.add(i.path, i.message, i.mark);
  }
}

Field<EngineConfig> describe_field() {
  Field<EngineConfig> f = section("describe", &EngineConfig::defaults, stream_section(), "");
  f.description = "scene captions for every stream; `defaults.describe` and a stream's `describe` override keys";
  f.read = [](const ConfigNode& n, EngineConfig& c, const std::string& path, ConfigIssues& issues) {
    read_section(describe_section(), n, c.defaults.describe, path, issues);
  };
  f.write = [](const EngineConfig& c) { return write_section(describe_section(), c.defaults.describe); };
  f.check = nullptr;  // checked with the defaults
  f.document_children = [](std::vector<OptionDoc>& out, const std::string& path, bool) {
    document_section(describe_section(), out, path, true);
  };
  return f;
}

Field<EngineConfig> defaults_field() {
  Field<EngineConfig> f = section("defaults", &EngineConfig::defaults, stream_section(), "");
  f.description = "the settings every stream starts from; each key is valid in a stream too";
  f.read = [](const ConfigNode& n, EngineConfig& c, const std::string& path, ConfigIssues& issues) {
    read_section(stream_section(), n, c.defaults, path, issues, true);
  };
  f.check = [](const EngineConfig& c, const std::string& path, ConfigIssues& issues) {
    check_section(stream_section(), c.defaults, path, issues, true);
  };
  f.document_children = [](std::vector<OptionDoc>& out, const std::string& path, bool) {
    document_section(stream_section(), out, path, true, true);
  };
  return f;
}

Field<EngineConfig> streams_field() {
  Field<EngineConfig> f = list("streams", &EngineConfig::streams, stream_section(), "");
  f.description = "the list of streams; each takes `id`, `url` and any `defaults` key";
  f.default_text = "(none)";
  f.read = [](const ConfigNode& n, EngineConfig& c, const std::string& path, ConfigIssues& issues) {
    if (n.kind != ConfigNode::Kind::kList) return issue_expected(n, path, "a list of streams", issues);
    for (std::size_t i = 0; i < n.items.size(); ++i) {
      StreamConfig s = c.defaults;
      const std::string p = index_path(path, i);
      if (auto url = node_string(n.items[i])) {  // "- rtsp://..." shorthand
        issues.note(p, n.items[i].mark);
        s.url = *url;
        s.id = "stream" + std::to_string(i);
      } else {
        read_section(stream_section(), n.items[i], s, p, issues);
      }
      c.streams.push_back(std::move(s));
    }
  };
  f.check = [](const EngineConfig& c, const std::string& path, ConfigIssues& issues) {
    ConfigIssues defaults;
    check_section(stream_section(), c.defaults, "defaults", defaults, true);
    std::set<std::string> ids;
    for (std::size_t i = 0; i < c.streams.size(); ++i) {
      const std::string p = index_path(path, i);
      ConfigIssues one;
      check_section(stream_section(), c.streams[i], p, one);
      add_stream_issues(issues, one, p, defaults);
      if (!c.streams[i].id.empty() && !ids.insert(c.streams[i].id).second)
        issues.add(join_path(p, "id"), "'" + c.streams[i].id + "' is used by another stream");
    }
  };
  // Only each stream's own keys: the rest are documented under defaults.
  f.document_children = [](std::vector<OptionDoc>& out, const std::string& path, bool) {
    for (const auto& sf : stream_section().fields)
      if (sf.stream_only)
        out.push_back({path + "[]." + sf.key, to_string(sf.type), sf.default_text, sf.range_text, sf.description, true});
  };
  return f;
}

// A hook that names a stream the config does not have is a typo, not a
// filter that matches nothing.
void check_webhook_streams(const EngineConfig& c, ConfigIssues& issues) {
  std::set<std::string> ids;
  for (const auto& st : c.streams) ids.insert(st.id);
  if (ids.empty()) return;  // streams come from the command line or the API
  for (std::size_t h = 0; h < c.webhooks.size(); ++h)
    for (std::size_t i = 0; i < c.webhooks[h].streams.size(); ++i)
      if (!ids.count(c.webhooks[h].streams[i]))
        issues.add(index_path(join_path(index_path("webhooks", h), "streams"), i),
                   "'" + c.webhooks[h].streams[i] + "' is not a stream of this config");
}

const Section<EngineConfig>& engine_section() {
  using E = EngineConfig;
  static const Section<E> s = [] {
    Section<E> t;
    t.add(section("model", &E::model, model_section(), "the detection model: a path, or these keys"));
    t.add(group("batch", batch_section(), "batching of inference across streams"));
    t.add(integer("workers", &E::workers, Range::between(1, 16), "inference threads of the batch scheduler"));
    t.add(flag("offline", &E::offline,
               "process files as fast as possible, never drop, exit when they end (same as --offline)"));
    t.add(flag("adaptive", &E::adaptive,
               "raise a stream's analysis interval when inference cannot keep up, lower it back when it can"));
    t.add(integer("max_every", &E::max_every, Range::between(1, 1000), "the adaptive interval never goes above this"));
    t.add(number("latency_target_ms", &E::latency_target_ms, Range::above(0),
                 "adaptive interval goal: analysis latency (capture to result) p95 below this"));
    t.add(number("stats_interval_s", &E::stats_interval_s, Range::at_least(0),
                 "seconds between the performance reports on the log; 0 = none"));
    t.add(section("events", &E::events, events_section(), "where events are written"));
    t.add(section("jobs", &E::jobs, jobs_section(), "offline jobs of the server"));
    t.add(section("server", &E::server, server_section(), "the HTTP server's protections"));
    t.add(section("mqtt", &E::mqtt, mqtt_section(), "events and figures to an MQTT broker (off while url is empty)"));
    t.add(list("webhooks", &E::webhooks, webhook_section(), "HTTP endpoints that receive events as JSON POSTs"));
    t.add(record_field());
    t.add(section("cluster", &E::cluster, cluster_section(),
                  "live streams shared by `vigil run --node` processes through Redis (off while redis is empty)"));
    // describe and defaults are read before streams, which start from them.
    t.add(describe_field());
    t.add(defaults_field());
    t.add(streams_field());
    t.check = [](const E& c, const std::string&, ConfigIssues& issues) { check_webhook_streams(c, issues); };
    return t;
  }();
  return s;
}

Result<void> as_result(const ConfigIssues& issues, const std::string& source) {
  if (issues.empty()) return {};
  return fail(issues.error(source));
}

std::string markdown_cell(std::string s) {
  for (std::size_t at = s.find('|'); at != std::string::npos; at = s.find('|', at + 2)) s.replace(at, 1, "\\|");
  return s;
}

}  // namespace

std::vector<OptionDoc> config_options() {
  std::vector<OptionDoc> out;
  document_section(engine_section(), out, "", false);
  return out;
}

std::string config_doc_markdown() {
  std::string md = "| option | type | default | range | per stream | meaning |\n|---|---|---|---|---|---|\n";
  for (const auto& o : config_options())
    md += "| `" + o.path + "` | " + o.type + " | " + markdown_cell(o.default_value) + " | " + markdown_cell(o.range) +
          " | " + (o.per_stream ? "yes" : "") + " | " + markdown_cell(o.description) + " |\n";
  return md;
}

namespace {

struct DocSpan {
  std::size_t begin;  // first character of the table
  std::size_t end;    // first character of the end marker
};

Result<DocSpan> find_config_doc(const std::string& page) {
  const std::size_t b = page.find(kConfigDocBegin);
  const std::size_t e = page.find(kConfigDocEnd);
  if (b == std::string::npos || e == std::string::npos || e < b)
    return fail(ErrorCode::kInvalidArgument, std::string("the page has no options table between '") + kConfigDocBegin +
                                                 "' and '" + kConfigDocEnd + "'");
  const std::size_t after = page.find('\n', b);
  return DocSpan{after == std::string::npos ? e : std::min(after + 1, e), e};
}

}  // namespace

Result<std::string> with_config_doc(const std::string& page) {
  auto span = find_config_doc(page);
  if (!span) return fail(span.error());
  return page.substr(0, span->begin) + config_doc_markdown() + page.substr(span->end);
}

Result<std::string> config_doc_of(const std::string& page) {
  auto span = find_config_doc(page);
  if (!span) return fail(span.error());
  return page.substr(span->begin, span->end - span->begin);
}

StreamConfig default_stream(std::string id, std::string url) {
  StreamConfig s;
  s.id = std::move(id);
  s.url = std::move(url);
  return s;
}

Result<void> validate_describe(const DescribeConfig& d, const std::string& path) {
  ConfigIssues issues;
  check_section(describe_section(), d, path, issues);
  return as_result(issues, path);
}

Result<void> validate_stream(const StreamConfig& s, const std::string& path) {
  ConfigIssues issues;
  check_section(stream_section(), s, path, issues);
  return as_result(issues, path);
}

Result<void> validate_config(const EngineConfig& c) {
  ConfigIssues issues;
  check_section(engine_section(), c, "", issues);
  return as_result(issues, "config");
}

void read_stream_node(const ConfigNode& node, StreamConfig& out, const std::string& path, ConfigIssues& issues) {
  read_section(stream_section(), node, out, path, issues);
  check_section(stream_section(), out, path, issues);
}

Result<StreamConfig> stream_config_from_node(const ConfigNode& node, const std::string& path, const StreamConfig& base) {
  ConfigIssues issues;
  StreamConfig s = base;
  read_section(stream_section(), node, s, path, issues);
  check_section(stream_section(), s, path, issues);
  if (!issues.empty()) return fail(issues.error("request"));
  return s;
}

ConfigNode stream_config_node(const StreamConfig& s) { return write_section(stream_section(), s); }
ConfigNode engine_config_node(const EngineConfig& c) { return write_section(engine_section(), c); }

std::vector<std::string> patchable_stream_keys() {
  std::vector<std::string> keys;
  for (const auto& f : stream_section().fields)
    if (f.patchable) keys.push_back(f.key);
  return keys;
}

Result<EngineConfig> parse_config(const std::string& yaml_text, const std::string& source_name, const EnvLookup* env) {
  ConfigIssues issues;
  EngineConfig c;
  // The boundary of the parser: whatever yaml-cpp throws names the source.
  try {
    auto tree = config_node_from_yaml(yaml_text, issues);
    if (!tree) return fail(issues.error(source_name));
    if (env) expand_env(*tree, *env, issues);
    if (!tree->is_null()) read_section(engine_section(), *tree, c, "", issues);
    check_section(engine_section(), c, "", issues);
  } catch (const std::exception& e) {
    return fail(ErrorCode::kInvalidArgument, source_name + ": cannot be read: " + e.what());
  }
  if (!issues.empty()) return fail(issues.error(source_name));
  return c;
}

Result<EngineConfig> load_config_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) return fail(ErrorCode::kNotFound, "config " + path + ": cannot open (no such file or not readable)");
  std::stringstream ss;
  ss << f.rdbuf();
  const EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  auto c = parse_config(ss.str(), path, &env);
  if (!c) return fail(c.error().code, "config " + path + ": " + c.error().message);
  return c;
}

Result<std::string> device_from_env(const std::string& value) {
  std::string d = value;
  std::transform(d.begin(), d.end(), d.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (d == "gpu") d = "cuda";
  if (d == "trt") d = "tensorrt";
  if (d == "mps") d = "cpu";  // device_fallback_note says why
  if (d != "auto" && d != "cpu" && d != "cuda" && d != "tensorrt")
    return fail(ErrorCode::kInvalidArgument, "DEVICE: '" + value + "' is not one of auto, cpu, cuda (gpu), tensorrt (trt)");
  return d;
}

std::optional<std::string> device_fallback_note(const std::string& value) {
  std::string d = value;
  std::transform(d.begin(), d.end(), d.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (d != "mps") return std::nullopt;
  return "DEVICE=" + value +
         ": MPS (Apple's Metal Performance Shaders) exists only on macOS, not on Linux; falling back to the CPU "
         "(for an NVIDIA GPU use DEVICE=cuda or tensorrt)";
}

Result<void> apply_env_overrides(EngineConfig& c, const std::map<std::string, std::string>& env) {
  auto get = [&](const char* k) -> const std::string* {
    auto it = env.find(k);
    return it == env.end() || it->second.empty() ? nullptr : &it->second;
  };
  if (const auto* v = get("MODEL_PATH")) c.model.path = *v;
  if (const auto* v = get("DEVICE")) {
    auto d = device_from_env(*v);
    if (!d) return fail(d.error());
    c.model.device = *d;
  }
  if (const auto* v = get("BATCH_SIZE")) {
    try {
      std::size_t used = 0;
      c.batch_max = std::stoi(*v, &used);
      if (used != v->size()) throw std::invalid_argument(*v);
    } catch (...) {
      return fail(ErrorCode::kInvalidArgument, "BATCH_SIZE: '" + *v + "' is not an integer");
    }
  }
  if (const auto* v = get("SUBSTREAM_SCALE")) {
    try {
      std::size_t used = 0;
      const double scale = std::stod(*v, &used);
      if (used != v->size()) throw std::invalid_argument(*v);
      for (auto& s : c.streams) s.substream.scale = scale;
    } catch (...) {
      return fail(ErrorCode::kInvalidArgument, "SUBSTREAM_SCALE: '" + *v + "' is not a number");
    }
  }
  return validate_config(c);
}

}  // namespace vigil
