#include "config/engine_config.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <algorithm>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "media/source_url.h"

namespace vigil {
namespace {

// ---- the documented options ---------------------------------------------------
const std::vector<ConfigOption> kOptions = {
    {"model.path", "models/nanodet-m-416.onnx", "ONNX detection model (NanoDet, YOLOv5/8/10/11/26); env MODEL_PATH"},
    {"model.device", "auto", "execution provider: auto (TensorRT, CUDA, else CPU), cpu, cuda, tensorrt; env DEVICE"},
    {"model.threads", "0", "ONNX Runtime intra-op threads per inference call; 0 = one per core"},
    {"model.arena", "false", "ONNX Runtime CPU memory arena: ~10% more inference throughput under load for ~40 MB more memory"},
    {"batch.max", "8", "most frames in one inference call, across streams; env BATCH_SIZE"},
    {"batch.wait_ms", "10", "live mode: longest wait for a batch to fill after its first frame"},
    {"workers", "1", "inference threads of the batch scheduler"},
    {"offline", "false", "process files as fast as possible, never drop, exit when they end (same as --offline)"},
    {"adaptive", "true", "raise a stream's analysis interval when inference cannot keep up, lower it back when it can"},
    {"max_every", "30", "the adaptive interval never goes above this"},
    {"latency_target_ms", "500", "adaptive interval goal: analysis latency (capture to result) p95 below this"},
    {"stats_interval_s", "30", "seconds between the performance reports on the log; 0 = none"},
    {"events.jsonl", "(none)", "JSON Lines event file; \"-\" = stdout (same as --events)"},
    {"events.sqlite", "(none)", "SQLite event database (WAL)"},
    {"jobs.dir", "vigil-jobs", "offline jobs of the server (POST /api/jobs): jobs.db and one output directory per job"},
    {"jobs.concurrency", "1", "offline jobs analysed at once; later ones wait in the queue"},
    {"jobs.workers", "0", "chunk workers per offline job; 0 = one per core"},
    {"server.allowed_hosts", "[]",
     "Host names the HTTP server answers besides IP addresses, localhost and the listen host (DNS rebinding "
     "protection; others get 421); \"*\" = any, \".example.org\" = the name and its subdomains"},
    {"server.max_connections", "512", "open HTTP connections at once (API and live video); more get 503"},
    {"server.max_connections_per_address", "64", "open HTTP connections from one client address; more get 503"},
    {"server.login_free_attempts", "5",
     "failed /login attempts per address before each further one waits (1 s, doubling, at most 60 s; 429)"},
    {"streams", "(none)", "the list of streams; each takes `id`, `url` and any `defaults` key"},
    {"streams[].id", "(required)", "stream name: [a-z0-9_-]+, unique"},
    {"streams[].url", "(required)", "a file path, rtsp://, rtsps://, http(s):// (file, HLS, MJPEG) or webcam:N (/dev/videoN)"},
    {"defaults.loop", "false", "files: start again at the end"},
    {"defaults.every", "1", "analyse every Nth frame (tracks are predicted on the frames between)"},
    {"defaults.substream.scale", "0", "analyse a copy scaled by this factor (0..1); 0 = full frame; env SUBSTREAM_SCALE"},
    {"defaults.substream.width", "0", "analyse a copy this many pixels wide (aspect kept); 0 = full frame"},
    {"defaults.gate.enabled", "false", "skip analysing frames too similar to the last analysed one"},
    {"defaults.gate.similarity", "0.95", "similarity (0..1) at or above which a frame is skipped"},
    {"defaults.gate.max_skip", "0", "analyse anyway after this many consecutive skips; 0 = never force"},
    {"defaults.hwaccel", "auto", "hardware decoding: auto (try CUDA, VAAPI, else software), none, cuda, vaapi"},
    {"defaults.skip_frame", "none", "decoder frame skipping for heavy sources: none, nonref, nonkey"},
    {"defaults.timeout_s", "10", "network open/read timeout"},
    {"defaults.watchdog_s", "10", "no frame for this long: the stream is marked down and reconnected"},
    {"defaults.max_pixels", "35389440", "frames larger than this (width x height) are refused"},
    {"defaults.decode_threads", "1", "FFmpeg decoder threads per stream; 0 = FFmpeg's choice"},
    {"defaults.conf", "0.35", "minimum detection score"},
    {"defaults.iou", "0.5", "NMS IoU threshold"},
    {"defaults.max_det", "100", "detections kept per frame"},
    {"defaults.classes", "[] (all)", "class names to detect, e.g. [person, car]"},
    {"defaults.tracker.high_thresh", "0.5", "detections at or above this start and continue tracks"},
    {"defaults.tracker.low_thresh", "0.1", "detections between this and high_thresh only continue confirmed tracks"},
    {"defaults.tracker.new_track_thresh", "0.6", "score an unmatched detection needs to start a track"},
    {"defaults.tracker.match_iou", "0.2", "minimum IoU for the first association"},
    {"defaults.tracker.second_match_iou", "0.5", "minimum IoU for the low-score association"},
    {"defaults.tracker.unconfirmed_match_iou", "0.3", "minimum IoU to continue a tentative track"},
    {"defaults.tracker.lost_buffer_s", "2", "seconds a lost track waits for its object before it is removed"},
    {"defaults.tracker.min_hits", "2", "matches a track needs to be confirmed (and reported)"},
    {"defaults.tracker.class_aware", "true", "a detection only continues a track of its own class"},
    {"defaults.zones", "[]", "polygons: zone_enter / zone_exit / dwell events and occupancy"},
    {"defaults.zones[].name", "(required)", "zone name: [a-z0-9_-]+"},
    {"defaults.zones[].polygon", "(required)", "at least 3 points [[x, y], ...]: fractions 0..1 of the frame, or pixels"},
    {"defaults.zones[].normalized", "auto", "true: coordinates are fractions of the frame; false: pixels; auto: fractions when all are within 0..1"},
    {"defaults.zones[].classes", "[] (all)", "classes that count in this zone"},
    {"defaults.zones[].dwell_s", "0", "emit a dwell event once a track has stayed this long; 0 = none"},
    {"defaults.zones[].anchor", "bottom_center", "point of the box tested: bottom_center or center"},
    {"defaults.lines", "[]", "segments: direction-aware line_cross counts"},
    {"defaults.lines[].name", "(required)", "line name: [a-z0-9_-]+"},
    {"defaults.lines[].a", "(required)", "first end point [x, y]; walking from a to b, left-to-right crossings are \"in\""},
    {"defaults.lines[].b", "(required)", "second end point [x, y]"},
    {"defaults.lines[].normalized", "auto", "as for zones"},
    {"defaults.lines[].classes", "[] (all)", "classes that count on this line"},
    {"defaults.lines[].min_frames", "2", "analysed frames a track must stay on the new side before a crossing counts"},
    {"defaults.lines[].anchor", "bottom_center", "point of the box tested: bottom_center or center"},
    {"describe", "(see keys)", "scene captions for every stream; `defaults.describe` and a stream's `describe` override keys"},
    {"describe.captioner", "template", "template (one sentence from tracks, zones, lines), vlm (OpenAI-compatible server) or off"},
    {"describe.endpoint", "http://127.0.0.1:8081", "vlm: server base URL (POST {endpoint}/v1/chat/completions)"},
    {"describe.model", "(none)", "vlm: model name in the request"},
    {"describe.api_key", "(none)", "vlm: sent as Authorization: Bearer"},
    {"describe.prompt", "Describe this scene in one short sentence.", "vlm: the instruction sent with the frame"},
    {"describe.every_frames", "0", "caption every N frames; 0 = off"},
    {"describe.every_s", "0", "caption every S seconds of video; 0 = off (`vigil analyze --captions`: default 60)"},
    {"describe.on_scene_change", "false", "caption when the frame differs from the last captioned one by scene_threshold"},
    {"describe.scene_threshold", "0.3", "scene change: thumbnail difference (0..1) above which the scene changed"},
    {"describe.max_tokens", "50", "vlm: most tokens in a caption"},
    {"describe.max_side", "512", "vlm: the frame is downscaled to this longer side (px) before sending"},
    {"describe.timeout_s", "10", "vlm: request timeout; a caption that takes longer is counted as an error"},
};

const std::set<std::string> kTopKeys = {"model",   "batch",    "workers",          "offline",
                                        "adaptive", "max_every", "latency_target_ms", "stats_interval_s",
                                        "events",  "defaults", "streams", "jobs", "describe", "server"};
const std::set<std::string> kStreamKeys = {"id",         "url",        "loop",       "every",   "substream",
                                           "gate",       "hwaccel",    "skip_frame", "timeout_s", "watchdog_s",
                                           "max_pixels", "decode_threads", "conf",   "iou",     "max_det",
                                           "classes",    "tracker",    "zones",      "lines",   "describe"};

std::string join_keys(const std::set<std::string>& keys) {
  std::string s;
  for (const auto& k : keys) s += (s.empty() ? "" : ", ") + k;
  return s;
}

std::string describe(const YAML::Node& n) {
  if (n.IsScalar()) return "'" + n.Scalar() + "'";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  return "nothing";
}

// Fails on a key that is not in `known`: a typo must not be silently ignored.
Result<void> check_keys(const YAML::Node& node, const std::set<std::string>& known, const std::string& path) {
  if (!node.IsMap()) return fail(ErrorCode::kInvalidArgument, (path.empty() ? "config" : path) + ": expected a mapping");
  for (const auto& kv : node) {
    if (!kv.first.IsScalar())
      return fail(ErrorCode::kInvalidArgument, (path.empty() ? "config" : path) + ": a key must be a name, got " +
                                                   describe(kv.first));
    const std::string key = kv.first.Scalar();
    if (!known.count(key))
      return fail(ErrorCode::kInvalidArgument, (path.empty() ? key : path + "." + key) +
                                                   ": unknown option (known: " + join_keys(known) + ")");
  }
  return {};
}


template <class T>
Result<void> read(const YAML::Node& parent, const char* key, T& out, const std::string& path, const char* what) {
  const YAML::Node n = parent[key];
  if (!n || n.IsNull()) return {};
  const std::string where = path.empty() ? key : path + "." + key;
  if (!n.IsScalar()) return fail(ErrorCode::kInvalidArgument, where + ": expected " + what + ", got " + describe(n));
  try {
    out = n.as<T>();
  } catch (const YAML::Exception&) {
    return fail(ErrorCode::kInvalidArgument, where + ": expected " + what + ", got " + describe(n));
  }
  return {};
}

Result<void> read_strings(const YAML::Node& parent, const char* key, std::vector<std::string>& out,
                          const std::string& path) {
  const YAML::Node n = parent[key];
  if (!n || n.IsNull()) return {};
  const std::string where = path + "." + key;
  out.clear();
  if (n.IsScalar()) {  // "person,car" is accepted too
    std::istringstream is(n.Scalar());
    std::string item;
    while (std::getline(is, item, ','))
      if (auto b = item.find_first_not_of(' '); b != std::string::npos) out.push_back(item.substr(b, item.find_last_not_of(' ') - b + 1));
    return {};
  }
  if (!n.IsSequence()) return fail(ErrorCode::kInvalidArgument, where + ": expected a list of names");
  for (std::size_t i = 0; i < n.size(); ++i) {
    if (!n[i].IsScalar()) return fail(ErrorCode::kInvalidArgument, where + "[" + std::to_string(i) + "]: expected a name");
    out.push_back(n[i].Scalar());
  }
  return {};
}

Result<PointF> read_point(const YAML::Node& n, const std::string& where) {
  if (!n.IsSequence() || n.size() != 2)
    return fail(ErrorCode::kInvalidArgument, where + ": expected a point [x, y], got " + describe(n));
  try {
    return PointF{n[0].as<float>(), n[1].as<float>()};
  } catch (const YAML::Exception&) {
    return fail(ErrorCode::kInvalidArgument, where + ": point coordinates must be numbers");
  }
}

Result<Anchor> read_anchor(const YAML::Node& parent, const std::string& path, Anchor def) {
  std::string s;
  if (auto r = read(parent, "anchor", s, path, "bottom_center or center"); !r) return fail(r.error());
  if (s.empty()) return def;
  if (s == "bottom_center") return Anchor::kBottomCenter;
  if (s == "center") return Anchor::kCenter;
  return fail(ErrorCode::kInvalidArgument, path + ".anchor: '" + s + "' is not bottom_center or center");
}

// normalized: explicit, or "all coordinates within 0..1".
bool auto_normalized(const YAML::Node& parent, const std::vector<PointF>& pts) {
  if (parent["normalized"] && parent["normalized"].IsScalar()) return parent["normalized"].as<bool>(true);
  for (const auto& p : pts)
    if (p.x < 0 || p.x > 1 || p.y < 0 || p.y > 1) return false;
  return true;
}

#define VIGIL_TRY(expr)                        \
  do {                                         \
    if (auto _r = (expr); !_r) return fail(_r.error()); \
  } while (0)

Result<ZoneConfig> parse_zone(const YAML::Node& n, const std::string& path) {
  VIGIL_TRY(check_keys(n, {"name", "polygon", "normalized", "classes", "dwell_s", "anchor"}, path));
  ZoneConfig z;
  VIGIL_TRY(read(n, "name", z.name, path, "a name"));
  const YAML::Node poly = n["polygon"];
  if (!poly || !poly.IsSequence())
    return fail(ErrorCode::kInvalidArgument, path + ".polygon: expected a list of points [[x, y], ...]");
  for (std::size_t i = 0; i < poly.size(); ++i) {
    auto p = read_point(poly[i], path + ".polygon[" + std::to_string(i) + "]");
    if (!p) return fail(p.error());
    z.polygon.push_back(*p);
  }
  VIGIL_TRY(read(n, "normalized", z.normalized, path, "true or false"));
  z.normalized = auto_normalized(n, z.polygon);
  VIGIL_TRY(read_strings(n, "classes", z.classes, path));
  VIGIL_TRY(read(n, "dwell_s", z.dwell_s, path, "seconds"));
  auto a = read_anchor(n, path, z.anchor);
  if (!a) return fail(a.error());
  z.anchor = *a;
  VIGIL_TRY(z.validate(path));
  return z;
}

Result<LineConfig> parse_line(const YAML::Node& n, const std::string& path) {
  VIGIL_TRY(check_keys(n, {"name", "a", "b", "normalized", "classes", "min_frames", "anchor"}, path));
  LineConfig l;
  VIGIL_TRY(read(n, "name", l.name, path, "a name"));
  for (const char* end : {"a", "b"}) {
    if (!n[end]) return fail(ErrorCode::kInvalidArgument, path + "." + end + ": required (a point [x, y])");
    auto p = read_point(n[end], path + "." + end);
    if (!p) return fail(p.error());
    (end[0] == 'a' ? l.a : l.b) = *p;
  }
  l.normalized = auto_normalized(n, {l.a, l.b});
  VIGIL_TRY(read_strings(n, "classes", l.classes, path));
  VIGIL_TRY(read(n, "min_frames", l.min_frames, path, "an integer"));
  auto a = read_anchor(n, path, l.anchor);
  if (!a) return fail(a.error());
  l.anchor = *a;
  VIGIL_TRY(l.validate(path));
  return l;
}

// Reads the stream keys present in `n` over `s` (which holds the defaults).
Result<void> parse_describe(const YAML::Node& d, DescribeConfig& c, const std::string& path) {
  VIGIL_TRY(check_keys(d, {"captioner", "endpoint", "model", "api_key", "prompt", "every_frames", "every_s",
                           "on_scene_change", "scene_threshold", "max_tokens", "max_side", "timeout_s"},
                       path));
  VIGIL_TRY(read(d, "captioner", c.captioner, path, "template, vlm or off"));
  VIGIL_TRY(read(d, "endpoint", c.endpoint, path, "a URL"));
  VIGIL_TRY(read(d, "model", c.model, path, "a model name"));
  VIGIL_TRY(read(d, "api_key", c.api_key, path, "a string"));
  VIGIL_TRY(read(d, "prompt", c.prompt, path, "a string"));
  VIGIL_TRY(read(d, "every_frames", c.every_frames, path, "an integer"));
  VIGIL_TRY(read(d, "every_s", c.every_s, path, "seconds"));
  VIGIL_TRY(read(d, "on_scene_change", c.on_scene_change, path, "true or false"));
  VIGIL_TRY(read(d, "scene_threshold", c.scene_threshold, path, "a number"));
  VIGIL_TRY(read(d, "max_tokens", c.max_tokens, path, "an integer"));
  VIGIL_TRY(read(d, "max_side", c.max_side, path, "an integer"));
  VIGIL_TRY(read(d, "timeout_s", c.timeout_s, path, "seconds"));
  return {};
}

Result<void> parse_stream_fields(const YAML::Node& n, StreamConfig& s, const std::string& path) {
  VIGIL_TRY(check_keys(n, kStreamKeys, path));
  VIGIL_TRY(read(n, "id", s.id, path, "a name"));
  VIGIL_TRY(read(n, "url", s.url, path, "a URL or file path"));
  VIGIL_TRY(read(n, "loop", s.loop, path, "true or false"));
  VIGIL_TRY(read(n, "every", s.every, path, "an integer"));
  if (const auto sub = n["substream"]; sub && !sub.IsNull()) {
    if (sub.IsScalar()) {
      VIGIL_TRY(read(n, "substream", s.substream.scale, path, "a scale or a mapping {scale, width}"));
    } else {
      VIGIL_TRY(check_keys(sub, {"scale", "width"}, path + ".substream"));
      VIGIL_TRY(read(sub, "scale", s.substream.scale, path + ".substream", "a number"));
      VIGIL_TRY(read(sub, "width", s.substream.width, path + ".substream", "an integer"));
    }
  }
  if (const auto g = n["gate"]; g && !g.IsNull()) {
    VIGIL_TRY(check_keys(g, {"enabled", "similarity", "max_skip"}, path + ".gate"));
    s.gate.enabled = true;  // writing a gate section turns it on unless it says otherwise
    VIGIL_TRY(read(g, "enabled", s.gate.enabled, path + ".gate", "true or false"));
    VIGIL_TRY(read(g, "similarity", s.gate.similarity, path + ".gate", "a number"));
    VIGIL_TRY(read(g, "max_skip", s.gate.max_skip, path + ".gate", "an integer"));
  }
  VIGIL_TRY(read(n, "hwaccel", s.hwaccel, path, "auto, none, cuda or vaapi"));
  VIGIL_TRY(read(n, "skip_frame", s.skip_frame, path, "none, nonref or nonkey"));
  VIGIL_TRY(read(n, "timeout_s", s.timeout_s, path, "seconds"));
  VIGIL_TRY(read(n, "watchdog_s", s.watchdog_s, path, "seconds"));
  VIGIL_TRY(read(n, "max_pixels", s.max_pixels, path, "an integer"));
  VIGIL_TRY(read(n, "decode_threads", s.decode_threads, path, "an integer"));
  VIGIL_TRY(read(n, "conf", s.conf, path, "a number"));
  VIGIL_TRY(read(n, "iou", s.iou, path, "a number"));
  VIGIL_TRY(read(n, "max_det", s.max_det, path, "an integer"));
  VIGIL_TRY(read_strings(n, "classes", s.classes, path));
  if (const auto t = n["tracker"]; t && !t.IsNull()) {
    const std::string tp = path + ".tracker";
    VIGIL_TRY(check_keys(t, {"high_thresh", "low_thresh", "new_track_thresh", "match_iou", "second_match_iou",
                             "unconfirmed_match_iou", "lost_buffer_s", "min_hits", "class_aware"},
                         tp));
    VIGIL_TRY(read(t, "high_thresh", s.tracker.high_thresh, tp, "a number"));
    VIGIL_TRY(read(t, "low_thresh", s.tracker.low_thresh, tp, "a number"));
    VIGIL_TRY(read(t, "new_track_thresh", s.tracker.new_track_thresh, tp, "a number"));
    VIGIL_TRY(read(t, "match_iou", s.tracker.match_iou, tp, "a number"));
    VIGIL_TRY(read(t, "second_match_iou", s.tracker.second_match_iou, tp, "a number"));
    VIGIL_TRY(read(t, "unconfirmed_match_iou", s.tracker.unconfirmed_match_iou, tp, "a number"));
    VIGIL_TRY(read(t, "lost_buffer_s", s.tracker.lost_buffer_s, tp, "seconds"));
    VIGIL_TRY(read(t, "min_hits", s.tracker.min_hits, tp, "an integer"));
    VIGIL_TRY(read(t, "class_aware", s.tracker.class_aware, tp, "true or false"));
  }
  if (const auto d = n["describe"]; d && !d.IsNull()) VIGIL_TRY(parse_describe(d, s.describe, path + ".describe"));
  if (const auto zs = n["zones"]; zs && !zs.IsNull()) {
    if (!zs.IsSequence()) return fail(ErrorCode::kInvalidArgument, path + ".zones: expected a list of zones");
    s.zones.clear();
    for (std::size_t i = 0; i < zs.size(); ++i) {
      auto z = parse_zone(zs[i], path + ".zones[" + std::to_string(i) + "]");
      if (!z) return fail(z.error());
      s.zones.push_back(std::move(*z));
    }
  }
  if (const auto ls = n["lines"]; ls && !ls.IsNull()) {
    if (!ls.IsSequence()) return fail(ErrorCode::kInvalidArgument, path + ".lines: expected a list of lines");
    s.lines.clear();
    for (std::size_t i = 0; i < ls.size(); ++i) {
      auto l = parse_line(ls[i], path + ".lines[" + std::to_string(i) + "]");
      if (!l) return fail(l.error());
      s.lines.push_back(std::move(*l));
    }
  }
  return {};
}

Result<void> range(bool ok, const std::string& where, const std::string& what) {
  if (ok) return {};
  return fail(ErrorCode::kInvalidArgument, where + ": " + what);
}

// "${NAME}" and "${NAME:-fallback}" in one scalar, from `env`; "$${" stays a literal "${".
Result<std::string> expand_env_in(const std::string& text, const EnvLookup& env, const std::string& where) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t at = text.find('$', pos);
    if (at == std::string::npos) break;
    out += text.substr(pos, at - pos);
    if (text.compare(at, 3, "$${") == 0) {
      out += "${";
      pos = at + 3;
      continue;
    }
    if (text.compare(at, 2, "${") != 0) {
      out += '$';
      pos = at + 1;
      continue;
    }
    const std::size_t close = text.find('}', at + 2);
    if (close == std::string::npos)
      return fail(ErrorCode::kInvalidArgument, where + ": '${' without a closing '}'");
    const std::string inner = text.substr(at + 2, close - at - 2);
    const std::size_t dash = inner.find(":-");
    const std::string name = inner.substr(0, dash);
    const bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
                       std::all_of(name.begin(), name.end(),
                                   [](unsigned char c) { return std::isalnum(c) || c == '_'; });
    if (!valid)
      return fail(ErrorCode::kInvalidArgument,
                  where + ": '${" + inner + "}' is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
    if (auto value = env(name); value && !value->empty()) {
      out += *value;
    } else if (dash != std::string::npos) {
      out += inner.substr(dash + 2);
    } else {
      return fail(ErrorCode::kInvalidArgument,
                  where + ": environment variable " + name + " is not set (or use ${" + name + ":-default})");
    }
    pos = close + 1;
  }
  out += text.substr(std::min(pos, text.size()));
  return out;
}

// Deeper than this, a config is refused: nothing real nests so deep, and an
// alias that refers to itself (`&a [*a]`) makes the tree a cycle.
constexpr int kMaxConfigDepth = 64;

// Replaces ${NAME} in every scalar value (not in keys) of the tree.
Result<void> expand_env_tree(YAML::Node node, const EnvLookup& env, const std::string& path, int depth = 0) {
  if (depth > kMaxConfigDepth)
    return fail(ErrorCode::kInvalidArgument, (path.empty() ? "config" : path) + ": nested deeper than " +
                                                 std::to_string(kMaxConfigDepth) +
                                                 " levels (or an alias refers to itself)");
  if (node.IsScalar()) {
    const std::string& text = node.Scalar();
    if (text.find('$') == std::string::npos) return {};
    auto expanded = expand_env_in(text, env, path.empty() ? "config" : path);
    if (!expanded) return fail(expanded.error());
    node = *expanded;
    return {};
  }
  if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i)
      VIGIL_TRY(expand_env_tree(node[i], env, path + "[" + std::to_string(i) + "]", depth + 1));
    return {};
  }
  if (node.IsMap()) {
    for (auto kv : node) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
      VIGIL_TRY(expand_env_tree(kv.second, env, path.empty() ? key : path + "." + key, depth + 1));
    }
  }
  return {};
}

}  // namespace

const std::vector<ConfigOption>& config_options() { return kOptions; }

StreamConfig default_stream(std::string id, std::string url) {
  StreamConfig s;
  s.id = std::move(id);
  s.url = std::move(url);
  return s;
}

Result<void> validate_describe(const DescribeConfig& d, const std::string& path) {
  VIGIL_TRY(range(d.captioner == "template" || d.captioner == "vlm" || d.captioner == "off", path + ".captioner",
                  "'" + d.captioner + "' is not one of template, vlm, off"));
  if (d.captioner == "vlm") {
    const bool http = d.endpoint.rfind("http://", 0) == 0 || d.endpoint.rfind("https://", 0) == 0;
    VIGIL_TRY(range(http && d.endpoint.size() > 8, path + ".endpoint",
                    "'" + d.endpoint + "' is not an http:// or https:// URL"));
  }
  VIGIL_TRY(range(!d.prompt.empty(), path + ".prompt", "must not be empty"));
  VIGIL_TRY(range(d.every_frames >= 0, path + ".every_frames", "must be >= 0"));
  VIGIL_TRY(range(d.every_s >= 0 && d.every_s <= 86400, path + ".every_s", "must be 0..86400"));
  VIGIL_TRY(range(d.scene_threshold > 0 && d.scene_threshold < 1, path + ".scene_threshold", "must be in (0, 1)"));
  VIGIL_TRY(range(d.max_tokens >= 1 && d.max_tokens <= 4096, path + ".max_tokens", "must be 1..4096"));
  VIGIL_TRY(range(d.max_side >= 32 && d.max_side <= 4096, path + ".max_side", "must be 32..4096"));
  VIGIL_TRY(range(d.timeout_s > 0 && d.timeout_s <= 600, path + ".timeout_s", "must be in (0, 600]"));
  return {};
}

Result<void> validate_stream(const StreamConfig& s, const std::string& path) {
  const bool id_ok = std::all_of(s.id.begin(), s.id.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
  });
  if (s.id.empty()) return fail(ErrorCode::kInvalidArgument, path + ".id: required");
  VIGIL_TRY(range(id_ok && s.id.size() <= 64, path + ".id",
                  "'" + s.id + "' must match [a-z0-9_-]+ (at most 64 characters)"));
  if (s.url.empty()) return fail(ErrorCode::kInvalidArgument, path + ".url: required");
  if (auto u = parse_source_url(s.url); !u) return fail(ErrorCode::kInvalidArgument, path + ".url: " + u.error().message);
  VIGIL_TRY(range(s.every >= 1 && s.every <= 1000, path + ".every", "must be between 1 and 1000"));
  VIGIL_TRY(range(s.substream.scale == 0 || (s.substream.scale > 0 && s.substream.scale <= 1), path + ".substream.scale",
                  "must be in (0, 1], or 0 for off"));
  VIGIL_TRY(range(s.substream.width == 0 || (s.substream.width >= 32 && s.substream.width <= 8192),
                  path + ".substream.width", "must be between 32 and 8192, or 0 for off"));
  VIGIL_TRY(range(s.gate.similarity > 0 && s.gate.similarity <= 1, path + ".gate.similarity", "must be in (0, 1]"));
  VIGIL_TRY(range(s.gate.max_skip >= 0, path + ".gate.max_skip", "must be >= 0"));
  VIGIL_TRY(range(s.hwaccel == "auto" || s.hwaccel == "none" || s.hwaccel == "cuda" || s.hwaccel == "vaapi",
                  path + ".hwaccel", "'" + s.hwaccel + "' is not one of auto, none, cuda, vaapi"));
  VIGIL_TRY(range(s.skip_frame == "none" || s.skip_frame == "nonref" || s.skip_frame == "nonkey", path + ".skip_frame",
                  "'" + s.skip_frame + "' is not one of none, nonref, nonkey"));
  VIGIL_TRY(range(s.timeout_s > 0 && s.timeout_s <= 600, path + ".timeout_s", "must be in (0, 600]"));
  VIGIL_TRY(range(s.watchdog_s > 0 && s.watchdog_s <= 3600, path + ".watchdog_s", "must be in (0, 3600]"));
  VIGIL_TRY(range(s.max_pixels >= 64 * 64, path + ".max_pixels", "must be at least 4096"));
  VIGIL_TRY(range(s.decode_threads >= 0 && s.decode_threads <= 64, path + ".decode_threads", "must be 0..64"));
  VIGIL_TRY(range(s.conf >= 0 && s.conf <= 1, path + ".conf", "must be in [0, 1]"));
  VIGIL_TRY(range(s.iou > 0 && s.iou <= 1, path + ".iou", "must be in (0, 1]"));
  VIGIL_TRY(range(s.max_det >= 1 && s.max_det <= 10000, path + ".max_det", "must be 1..10000"));
  if (auto t = s.tracker.validate(); !t) return fail(ErrorCode::kInvalidArgument, path + "." + t.error().message);
  VIGIL_TRY(validate_describe(s.describe, path + ".describe"));
  std::set<std::string> names;
  for (std::size_t i = 0; i < s.zones.size(); ++i) {
    const std::string zp = path + ".zones[" + std::to_string(i) + "]";
    VIGIL_TRY(s.zones[i].validate(zp));
    VIGIL_TRY(range(names.insert(s.zones[i].name).second, zp + ".name", "'" + s.zones[i].name + "' is used twice"));
  }
  names.clear();
  for (std::size_t i = 0; i < s.lines.size(); ++i) {
    const std::string lp = path + ".lines[" + std::to_string(i) + "]";
    VIGIL_TRY(s.lines[i].validate(lp));
    VIGIL_TRY(range(names.insert(s.lines[i].name).second, lp + ".name", "'" + s.lines[i].name + "' is used twice"));
  }
  return {};
}

Result<void> validate_config(const EngineConfig& c) {
  VIGIL_TRY(range(c.batch_max >= 1 && c.batch_max <= 64, "batch.max", "must be 1..64"));
  VIGIL_TRY(range(c.batch_wait_ms >= 0 && c.batch_wait_ms <= 1000, "batch.wait_ms", "must be 0..1000"));
  VIGIL_TRY(range(c.workers >= 1 && c.workers <= 16, "workers", "must be 1..16"));
  VIGIL_TRY(range(c.max_every >= 1 && c.max_every <= 1000, "max_every", "must be 1..1000"));
  VIGIL_TRY(range(c.latency_target_ms > 0, "latency_target_ms", "must be positive"));
  VIGIL_TRY(range(c.stats_interval_s >= 0, "stats_interval_s", "must be >= 0"));
  VIGIL_TRY(range(!c.jobs.dir.empty(), "jobs.dir", "must not be empty"));
  VIGIL_TRY(range(c.jobs.concurrency >= 1 && c.jobs.concurrency <= 16, "jobs.concurrency", "must be 1..16"));
  VIGIL_TRY(range(c.jobs.workers >= 0 && c.jobs.workers <= 8, "jobs.workers", "must be 0..8"));
  VIGIL_TRY(range(c.server.max_connections >= 1 && c.server.max_connections <= 100000, "server.max_connections",
                  "must be 1..100000"));
  VIGIL_TRY(range(c.server.max_connections_per_address >= 1 && c.server.max_connections_per_address <= 100000,
                  "server.max_connections_per_address", "must be 1..100000"));
  VIGIL_TRY(range(c.server.login_free_attempts >= 1 && c.server.login_free_attempts <= 1000,
                  "server.login_free_attempts", "must be 1..1000"));
  for (std::size_t i = 0; i < c.server.allowed_hosts.size(); ++i)
    VIGIL_TRY(range(!c.server.allowed_hosts[i].empty() &&
                        c.server.allowed_hosts[i].find_first_of(" /:@") == std::string::npos,
                    "server.allowed_hosts[" + std::to_string(i) + "]", "must be a host name without port or path"));
  VIGIL_TRY(range(c.model.threads >= 0 && c.model.threads <= 256, "model.threads", "must be 0..256"));
  VIGIL_TRY(range(c.model.device == "auto" || c.model.device == "cpu" || c.model.device == "cuda" ||
                      c.model.device == "tensorrt",
                  "model.device", "'" + c.model.device + "' is not one of auto, cpu, cuda, tensorrt"));
  std::set<std::string> ids;
  for (std::size_t i = 0; i < c.streams.size(); ++i) {
    const std::string p = "streams[" + std::to_string(i) + "]";
    VIGIL_TRY(validate_stream(c.streams[i], p));
    VIGIL_TRY(range(ids.insert(c.streams[i].id).second, p + ".id", "'" + c.streams[i].id + "' is used by another stream"));
  }
  return {};
}

namespace {

// The tree of a config (already loaded and expanded) -> EngineConfig.
Result<EngineConfig> read_config(const YAML::Node& root) {
  EngineConfig c;
  if (!root || root.IsNull()) return c;
  VIGIL_TRY(check_keys(root, kTopKeys, ""));
  if (const auto m = root["model"]; m && !m.IsNull()) {
    if (m.IsScalar()) {
      c.model.path = m.Scalar();
    } else {
      VIGIL_TRY(check_keys(m, {"path", "device", "threads", "arena"}, "model"));
      VIGIL_TRY(read(m, "path", c.model.path, "model", "a file path"));
      VIGIL_TRY(read(m, "device", c.model.device, "model", "auto, cpu, cuda or tensorrt"));
      VIGIL_TRY(read(m, "threads", c.model.threads, "model", "an integer"));
      VIGIL_TRY(read(m, "arena", c.model.arena, "model", "true or false"));
    }
  }
  if (const auto b = root["batch"]; b && !b.IsNull()) {
    VIGIL_TRY(check_keys(b, {"max", "wait_ms"}, "batch"));
    VIGIL_TRY(read(b, "max", c.batch_max, "batch", "an integer"));
    VIGIL_TRY(read(b, "wait_ms", c.batch_wait_ms, "batch", "an integer"));
  }
  VIGIL_TRY(read(root, "workers", c.workers, "", "an integer"));
  VIGIL_TRY(read(root, "offline", c.offline, "", "true or false"));
  VIGIL_TRY(read(root, "adaptive", c.adaptive, "", "true or false"));
  VIGIL_TRY(read(root, "max_every", c.max_every, "", "an integer"));
  VIGIL_TRY(read(root, "latency_target_ms", c.latency_target_ms, "", "milliseconds"));
  VIGIL_TRY(read(root, "stats_interval_s", c.stats_interval_s, "", "seconds"));
  if (const auto j = root["jobs"]; j && !j.IsNull()) {
    VIGIL_TRY(check_keys(j, {"dir", "concurrency", "workers"}, "jobs"));
    VIGIL_TRY(read(j, "dir", c.jobs.dir, "jobs", "a directory path"));
    VIGIL_TRY(read(j, "concurrency", c.jobs.concurrency, "jobs", "an integer"));
    VIGIL_TRY(read(j, "workers", c.jobs.workers, "jobs", "an integer"));
  }
  if (const auto sv = root["server"]; sv && !sv.IsNull()) {
    VIGIL_TRY(check_keys(sv, {"allowed_hosts", "max_connections", "max_connections_per_address", "login_free_attempts"},
                         "server"));
    VIGIL_TRY(read_strings(sv, "allowed_hosts", c.server.allowed_hosts, "server"));
    VIGIL_TRY(read(sv, "max_connections", c.server.max_connections, "server", "an integer"));
    VIGIL_TRY(read(sv, "max_connections_per_address", c.server.max_connections_per_address, "server", "an integer"));
    VIGIL_TRY(read(sv, "login_free_attempts", c.server.login_free_attempts, "server", "an integer"));
  }
  if (const auto e = root["events"]; e && !e.IsNull()) {
    VIGIL_TRY(check_keys(e, {"jsonl", "sqlite"}, "events"));
    VIGIL_TRY(read(e, "jsonl", c.events.jsonl, "events", "a file path or -"));
    VIGIL_TRY(read(e, "sqlite", c.events.sqlite, "events", "a file path"));
  }
  StreamConfig defaults;
  if (const auto d = root["describe"]; d && !d.IsNull()) VIGIL_TRY(parse_describe(d, defaults.describe, "describe"));
  if (const auto d = root["defaults"]; d && !d.IsNull()) {
    VIGIL_TRY(parse_stream_fields(d, defaults, "defaults"));
    if (!defaults.id.empty() || !defaults.url.empty())
      return fail(ErrorCode::kInvalidArgument, "defaults: id and url belong to each stream, not to defaults");
    // Check the defaults themselves, so their errors are named "defaults.*".
    StreamConfig probe = defaults;
    probe.id = "defaults";
    probe.url = "defaults.mp4";
    if (auto v = validate_stream(probe, "defaults"); !v) return fail(v.error());
  }
  c.defaults = defaults;
  if (const auto ss = root["streams"]; ss && !ss.IsNull()) {
    if (!ss.IsSequence()) return fail(ErrorCode::kInvalidArgument, "streams: expected a list of streams");
    for (std::size_t i = 0; i < ss.size(); ++i) {
      StreamConfig s = defaults;
      const std::string p = "streams[" + std::to_string(i) + "]";
      if (ss[i].IsScalar()) {  // "- rtsp://..." shorthand
        s.url = ss[i].Scalar();
        s.id = "stream" + std::to_string(i);
      } else {
        VIGIL_TRY(parse_stream_fields(ss[i], s, p));
      }
      c.streams.push_back(std::move(s));
    }
  }
  VIGIL_TRY(validate_config(c));
  return c;
}

}  // namespace

Result<EngineConfig> parse_config(const std::string& yaml_text, const std::string& source_name, const EnvLookup* env) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::kInvalidArgument, source_name + ": not valid YAML: " + e.what());
  }
  // The boundary of the parser: whatever yaml-cpp throws names the source.
  try {
    if (env && root) VIGIL_TRY(expand_env_tree(root, *env, ""));
    return read_config(root);
  } catch (const std::exception& e) {
    return fail(ErrorCode::kInvalidArgument, source_name + ": cannot be read: " + e.what());
  }
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

Result<void> apply_env_overrides(EngineConfig& c, const std::map<std::string, std::string>& env) {
  auto get = [&](const char* k) -> const std::string* {
    auto it = env.find(k);
    return it == env.end() || it->second.empty() ? nullptr : &it->second;
  };
  if (const auto* v = get("MODEL_PATH")) c.model.path = *v;
  if (const auto* v = get("DEVICE")) {
    std::string d = *v;
    if (d == "gpu") d = "cuda";
    c.model.device = d;
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
