// Typed configuration of `vigil run`: the YAML file (defaults, model, streams),
// environment overrides and validation.
// Each option is declared once: its default is the member initialiser below,
// its key, type, range and meaning are one row of its section's field table
// (engine_config.cc, config_table.h). Parsing, unknown-key checks, validation,
// the API's JSON view of a stream, `vigil config-doc` and the options table of
// docs/config.md (checked by a test) all come from those tables.
// Pure: parsing and validation only; load_config_file() reads one file.
// Thread-safe (the tables are immutable after their first use).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "analytics/interval_controller.h"
#include "analytics/line.h"
#include "analytics/motion_detector.h"
#include "analytics/similarity_gate.h"
#include "analytics/zone.h"
#include "config/config_node.h"
#include "core/decode_options.h"
#include "core/enum_names.h"
#include "core/error.h"
#include "core/model_precision.h"
#include "tracking/tracker.h"

namespace vigil {

struct SubstreamConfig {
  double scale = 0;  // analyse a copy scaled by this factor (0 < scale < 1); 0 = off
  int width = 0;     // or: analyse a copy this many pixels wide (aspect kept); 0 = off
};

// Defaults of the live views (MJPEG, snapshots, WebSocket frames) for
// viewers whose URL does not set its own `quality` / `fps` (Overwatch's
// X-RAY view: `render: {jpeg_quality: 60, max_fps: 15}`); 0 = the route's
// own default (server/media_request.h).
struct RenderConfig {
  int jpeg_quality = 0;  // 1..100
  int max_fps = 0;       // 1..30 (WebSocket views: at most 15)
};

// Scene captions (src/describe): which captioner and when. A top-level
// `describe:` section sets them for every stream; `defaults.describe` and a
// stream's own `describe:` override single keys.
enum class CaptionerKind { kTemplate, kVlm, kOff };
inline constexpr EnumName<CaptionerKind> kCaptionerNames[] = {
    {CaptionerKind::kTemplate, "template"}, {CaptionerKind::kVlm, "vlm"}, {CaptionerKind::kOff, "off"}};
inline const char* to_string(CaptionerKind k) { return enum_name<CaptionerKind>(kCaptionerNames, k); }

struct DescribeConfig {
  CaptionerKind captioner = CaptionerKind::kTemplate;
  std::string endpoint = "http://127.0.0.1:8081";  // vlm: OpenAI-compatible server
  std::string model;                   // vlm: model name sent in the request
  std::string api_key;                 // vlm: Authorization: Bearer (optional)
  std::string prompt = "Describe this scene in one short sentence.";
  int every_frames = 0;                // caption every N frames; 0 = off
  double every_s = 0;                  // caption every S seconds of video; 0 = off
  bool on_scene_change = false;        // caption when the scene changes
  double scene_threshold = 0.3;        // scene change: thumbnail difference above this (0..1)
  int max_tokens = 50;
  int max_side = 512;                  // vlm: frame downscaled to this longer side
  double timeout_s = 10;
  // Captions are asked for at all (captioner not off and some schedule set).
  bool enabled() const { return captioner != CaptionerKind::kOff && (every_frames > 0 || every_s > 0 || on_scene_change); }
};

// Snapshots and clips of a stream's events (src/record/recorder.h). A
// top-level `record:` section sets these for every stream (with the
// recorder's own keys, RecorderConfig); `defaults.record` and a stream's
// `record:` override single keys. Off unless snapshots or clips is true.
struct RecordConfig {
  bool snapshots = false;  // a JPEG of the event's frame with its boxes
  bool clips = false;      // an MP4 from pre_s before to post_s after the event
  double pre_s = 5;        // seconds of video kept before an event (the packet ring)
  double post_s = 5;       // seconds recorded after it
  std::vector<std::string> kinds = {"zone_enter", "line_cross", "dwell"};  // event kinds recorded
  bool enabled() const { return snapshots || clips; }
};

// Where the recorder writes and how long files stay (top-level `record:` only).
struct RetentionConfig {
  double days = 0;    // files older than this are deleted; 0 = no age limit
  double max_gb = 0;  // the oldest files go while all of them take more; 0 = no size limit
};

struct RecorderConfig {
  std::string dir = "vigil-media";  // dir/<stream>/<event id>.jpg|.mp4
  RetentionConfig retention;
  double retention_every_s = 60;    // how often retention runs
  int queue = 64;                   // snapshots waiting for the writer (overflow: the new one is dropped, counted)
  int max_clips = 8;                // clips written at once (one thread each); more: dropped, counted
};

struct StreamConfig {
  std::string id;   // [a-z0-9_-]+, unique
  std::string url;  // file path, rtsp://, http(s)://, webcam:N
  bool loop = false;
  bool enabled = true;  // false: kept in the config, not run (cli/run_command.cc)
  int every = 1;
  SubstreamConfig substream;
  GateConfig gate;
  MotionConfig motion;
  HwAccel hwaccel = HwAccel::kAuto;
  SkipFrame skip_frame = SkipFrame::kNone;
  double timeout_s = 10;
  double watchdog_s = 10;
  std::int64_t max_pixels = 8192LL * 4320;
  int decode_threads = 0;  // 0 = auto (core/cpu_budget.h: from streams and cores)
  float conf = 0.35F;
  float iou = 0.5F;
  int max_det = 100;
  std::vector<std::string> classes;
  TrackerConfig tracker;
  std::vector<ZoneConfig> zones;
  std::vector<LineConfig> lines;
  DescribeConfig describe;
  RecordConfig record;
  RenderConfig render;
  // Not a config key: started by WS /ws/gate-check for its clients
  // (server/gate_streams.h); never written to the state file.
  bool on_demand = false;
};

struct ModelConfig {
  std::string path;  // empty = the default model
  std::string device = "auto";
  int threads = 0;  // 0 = auto (core/cpu_budget.h: cores / workers)
  bool arena = false;  // ONNX Runtime CPU memory arena (faster, more memory)
  // TensorRT (device tensorrt, or auto when it loads): FP16 / INT8 kernels
  // and the folder where built engines are kept between runs ("" = none).
  bool trt_fp16 = false;
  bool trt_int8 = false;
  std::string trt_cache_dir;
  bool rectangular = true;  // dynamic-size models: smallest stride-multiple input per frame shape
  // float32 model or its INT8 copy "<stem>-int8.onnx" (inference/model_choice.h)
  // fp32 by default: the INT8 copy is ~2x faster here, but on vtest 7% of its
  // detections are not float32's (bench agreement precision 0.93,
  // docs/performance.md), under the 0.95 the fast path is held to; auto or
  // int8 trade that for speed.
  ModelPrecision precision = ModelPrecision::kFp32;
};

struct EventsConfig {
  std::string jsonl;   // JSON Lines file, "-" = stdout, empty = none
  std::string sqlite;  // SQLite database file, empty = none
};

// MQTT (src/notify/mqtt_sink.h): events, occupancy, line counts and stream
// state to a broker; Home Assistant discovery. Off while url is empty.
struct MqttConfig {
  std::string url;                   // mqtt://host[:port] (1883 when absent), mqtts:// (TLS, 8883); empty = off
  std::string ca_file;               // mqtts://: PEM CA certificates; empty = the system's (/etc/ssl/certs)
  std::string username;              // optional
  std::string password;              // optional; ${NAME} in the file
  std::string client_id = "vigil";
  std::string topic_prefix = "vigil";
  int qos = 1;
  bool home_assistant = true;        // publish MQTT discovery configs (homeassistant/...)
  int queue = 1000;                  // messages kept while the broker is away (drop-oldest)
  bool enabled() const { return !url.empty(); }
};

// One webhook (src/notify/webhook_sink.h): events POSTed as JSON.
struct WebhookConfig {
  std::string url;                           // http:// or https://
  std::vector<std::string> kinds;            // event kinds sent; empty = every kind
  std::vector<std::string> streams;          // streams whose events are sent; empty = every stream
  std::map<std::string, std::string> headers;  // extra request headers
  int retries = 5;                           // further attempts after a failed one (backoff 0.5 s doubling, <= 30 s)
  double timeout_s = 5;                      // per attempt
  int queue = 100;                           // events waiting per hook (drop-oldest)
};

struct JobsConfig {
  std::string dir = "vigil-jobs";  // job database (jobs.db) and one output directory per job
  int concurrency = 1;             // jobs analysed at once; the rest wait in the queue
  int workers = 0;                 // chunk workers per job; 0 = one per core
  std::string redis;               // set: jobs are distributed to `vigil worker`s through this Redis URL
};

// Live streams shared by several `vigil run --node NAME` processes through
// Redis (src/node/cluster_node.h, docs/architecture.md "Cluster").
// Off while redis is empty.
struct ClusterConfig {
  std::string redis;           // redis://[user:password@]host[:port][/db]; empty = no cluster
  double lease_s = 10;         // a stream's lease; renewed every lease_s / 3
  int max_streams = 0;         // streams this node runs at most; 0 = no limit
  bool measure_capacity = false;  // capacity from this node's measured load (node/lease_plan.h CapacityMeter)
  std::string advertise_url;   // this node's API for the others' links; empty = from --listen
  int events_maxlen = 100000;  // vigil:events keeps about this many entries (XADD MAXLEN ~)
  bool enabled() const { return !redis.empty(); }
};

// The HTTP server's protections (ServerOptions has their meaning).
struct ServerConfig {
  std::vector<std::string> allowed_hosts;
  int max_connections = 512;
  int max_connections_per_address = 64;
  int login_free_attempts = 5;
  int upload_max_mb = 4096;
};

struct EngineConfig {
  ModelConfig model;
  int batch_max = 8;
  int batch_wait_ms = 10;
  int workers = 1;
  bool offline = false;
  bool adaptive = true;
  int max_every = 30;
  double latency_target_ms = 500;
  double stats_interval_s = 30;
  EventsConfig events;
  JobsConfig jobs;
  ServerConfig server;
  MqttConfig mqtt;
  std::vector<WebhookConfig> webhooks;
  RecorderConfig record;  // the recorder's own keys of `record:` (the rest are defaults.record)
  ClusterConfig cluster;
  // The `defaults:` (and top-level `describe:`) settings, id and url empty:
  // what streams not listed in the file start from (vigil analyze, jobs).
  StreamConfig defaults;
  std::vector<StreamConfig> streams;
  // Test-only (not in YAML; env VIGIL_TEST_INFERENCE_DELAY_MS for the CLI):
  // extra milliseconds per inference batch, to emulate a slow detector.
  int test_inference_delay_ms = 0;
  // Not in YAML (env VIGIL_CPU_BUDGET=off for the CLI, to measure without
  // it): false = 0 threads mean what they did before the budget: ONNX
  // Runtime's default pool (one pinned thread per core) and FFmpeg's own
  // decoder thread count.
  bool cpu_budget = true;
};

// The rows of the options table, in table order: every option with its
// path ("defaults.gate.similarity"; stream options under "defaults.", each
// also valid per stream), type, default, range and meaning.
std::vector<OptionDoc> config_options();
// The options table of docs/config.md (Markdown), as `vigil config-doc` prints it.
std::string config_doc_markdown();
// docs/config.md holds that table between these two lines.
inline constexpr const char* kConfigDocBegin = "<!-- options: generated by `vigil config-doc --update docs/config.md` -->";
inline constexpr const char* kConfigDocEnd = "<!-- end of options -->";
// `page` with the text between the markers replaced by config_doc_markdown();
// kInvalidArgument when the page lacks the markers.
Result<std::string> with_config_doc(const std::string& page);
// The text between the markers (the table as the page has it).
Result<std::string> config_doc_of(const std::string& page);

// Parses YAML text. Every problem is reported at once, one a line, each
// naming the field path, the problem and its position in the text, e.g.
// "streams[2].zones[0].polygon: needs at least 3 points (got 2) (vigil.yaml:14:29)".
// With `env`, every scalar value may use ${NAME} (an error names the field
// and the variable when it is unset or empty) or ${NAME:-fallback}; "$${"
// is a literal "${". Without it (API bodies) nothing is substituted, so a
// request cannot read the server's environment.
Result<EngineConfig> parse_config(const std::string& yaml_text, const std::string& source_name = "config",
                                  const EnvLookup* env = nullptr);
// Reads the file and parses it with the process environment as `env`.
Result<EngineConfig> load_config_file(const std::string& path);

// Seed-compatible environment overrides: DEVICE, BATCH_SIZE, SUBSTREAM_SCALE,
// MODEL_PATH (applied to every stream for SUBSTREAM_SCALE). `env` maps names
// to values (the caller passes the real environment).
Result<void> apply_env_overrides(EngineConfig& config, const std::map<std::string, std::string>& env);
// The device named by the DEVICE variable: auto, cpu, cuda (or gpu),
// tensorrt (or trt), any case; kInvalidArgument naming DEVICE otherwise.
// Every command takes it as its default device.
// What DEVICE=value falls back to and why, for the log: "mps" (Apple's
// Metal, which Linux has not: the CPU is used); nullopt for every other value.
std::optional<std::string> device_fallback_note(const std::string& value);
Result<std::string> device_from_env(const std::string& value);

// Checks one stream (as added at run time through the API too); `path` is
// its name in messages ("streams[2]"). All problems at once, one a line.
Result<void> validate_stream(const StreamConfig& stream, const std::string& path);
Result<void> validate_describe(const DescribeConfig& describe, const std::string& path);
Result<void> validate_config(const EngineConfig& config);

// A stream from a tree (the HTTP API's JSON body), over `base` (the config's
// `defaults:`, or the built-in defaults), checked; `path` names it in
// messages ("streams[0]"). Typed: a string where an integer belongs is an
// error naming the field and the type.
Result<StreamConfig> stream_config_from_node(const ConfigNode& node, const std::string& path,
                                             const StreamConfig& base = StreamConfig{});
// One stream of a tree read over `out` and checked, every problem added to
// `issues` under `path` (the state file's streams).
void read_stream_node(const ConfigNode& node, StreamConfig& out, const std::string& path, ConfigIssues& issues);
// Every field of a stream, typed, in the shape of a config file stream,
// without secrets (describe.api_key): stream_config_from_node of it gives the
// stream back (with an empty api_key).
ConfigNode stream_config_node(const StreamConfig& stream);
// The whole config by the engine field table's writer (secrets left out).
ConfigNode engine_config_node(const EngineConfig& config);
// The stream keys PATCH /api/streams may change: every per-stream key but
// id (the stream's name) and url (an API url passes the media-dir check of
// POST: delete and add the stream to change it).
std::vector<std::string> patchable_stream_keys();

// A stream config with the defaults, for `vigil run SOURCE...`.
StreamConfig default_stream(std::string id, std::string url);

}  // namespace vigil
