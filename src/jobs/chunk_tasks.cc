#include "jobs/chunk_tasks.h"

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "config/config_json.h"
#include "config/engine_config.h"

namespace vigil {
namespace {

using json = nlohmann::json;

// ---- ConfigNode <-> JSON (the stream of a job spec; as server/stream_request.cc) ----

// A double as text that reads back to the same double (chunk bounds).
std::string exact(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string now_ms() {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count());
}

std::int64_t to_int(const RedisReply& r) {
  if (r.type == RedisReply::Type::kInteger) return r.integer;
  return std::strtoll(r.text().c_str(), nullptr, 10);
}

// Lua scripts: one state change each (see the header).
constexpr const char* kEnqueueScript = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'state', 'pending', 'job', ARGV[1], 'idx', ARGV[2], 'start_s', ARGV[3],
           'end_s', ARGV[4], 'attempts', 0)
redis.call('XADD', KEYS[2], '*', 'task', KEYS[1])
redis.call('INCR', KEYS[3])
return 1
)lua";

constexpr const char* kStartScript = R"lua(
local s = redis.call('HGET', KEYS[1], 'state')
if (not s) or s == 'done' or s == 'failed' then
  redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
  redis.call('XDEL', KEYS[2], ARGV[2])
  return {}
end
local a = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], 'state', 'running', 'worker', ARGV[3], 'done', 0, 'total', 0, 'heartbeat', ARGV[4])
return {redis.call('HGET', KEYS[1], 'idx'), redis.call('HGET', KEYS[1], 'start_s'),
        redis.call('HGET', KEYS[1], 'end_s'), a}
)lua";

constexpr const char* kHeartbeatScript = R"lua(
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #p == 0 or p[1][2] ~= ARGV[3] then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2], 'JUSTID')
redis.call('HSET', KEYS[2], 'done', ARGV[4], 'total', ARGV[5], 'heartbeat', ARGV[6])
return 1
)lua";

constexpr const char* kCompleteScript = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'state', 'done', 'result', ARGV[3], 'elapsed_s', ARGV[4])
  redis.call('HDEL', KEYS[1], 'error')
  redis.call('INCR', KEYS[3])
end
redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
return 1
)lua";

constexpr const char* kFailScript = R"lua(
redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 0 then return 'gone' end
redis.call('INCR', KEYS[3])
local a = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')
if ARGV[5] == '0' then
  a = a - 1
  redis.call('HSET', KEYS[1], 'attempts', a)
end
if ARGV[5] == '0' or a < tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[1], 'state', 'pending')
  if ARGV[5] == '1' then redis.call('HSET', KEYS[1], 'error', ARGV[3]) end
  redis.call('XADD', KEYS[2], '*', 'task', KEYS[1])
  return 'pending'
end
redis.call('HSET', KEYS[1], 'state', 'failed', 'error', ARGV[3])
return 'failed'
)lua";

std::vector<std::string> eval(const char* script, std::vector<std::string> keys, std::vector<std::string> args) {
  std::vector<std::string> argv{"EVAL", script, std::to_string(keys.size())};
  for (auto& k : keys) argv.push_back(std::move(k));
  for (auto& a : args) argv.push_back(std::move(a));
  return argv;
}

Result<void> check_replies(const RedisClient& redis, const std::vector<RedisReply>& replies, const char* what) {
  for (const auto& r : replies)
    if (r.is_error()) return fail(ErrorCode::kRuntime, "redis " + redis.url().redacted() + ": " + what + ": " + r.str);
  return {};
}

}  // namespace

const char* to_string(VideoAccess a) {
  switch (a) {
    case VideoAccess::kPath: return "path";
    case VideoAccess::kUrl: return "url";
  }
  return "path";
}

std::optional<VideoAccess> parse_video_access(std::string_view text) {
  if (text == "path") return VideoAccess::kPath;
  if (text == "url") return VideoAccess::kUrl;
  return std::nullopt;
}

VideoAccess video_access_for(const std::string& video) {
  return is_http_video_url(video) ? VideoAccess::kUrl : VideoAccess::kPath;
}

std::string distributed_job_id(const std::string& job_key) {
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a 64
  for (const unsigned char c : job_key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, h);
  return buf;
}

std::string job_spec_key(const std::string& jid) { return "vigil:job:" + jid; }
std::string job_version_key(const std::string& jid) { return "vigil:jobver:" + jid; }
std::string task_key(const std::string& jid, int idx) { return "vigil:task:" + jid + ":" + std::to_string(idx); }

std::optional<std::pair<std::string, int>> parse_task_key(const std::string& task) {
  static const std::string kPrefix = "vigil:task:";
  if (task.rfind(kPrefix, 0) != 0) return std::nullopt;
  const auto colon = task.rfind(':');
  if (colon <= kPrefix.size()) return std::nullopt;
  const std::string jid = task.substr(kPrefix.size(), colon - kPrefix.size());
  const std::string idx = task.substr(colon + 1);
  if (idx.empty() || idx.size() > 9 || idx.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::make_pair(jid, std::stoi(idx));
}

std::string job_spec_text(const JobSpec& spec) {
  const AnalyzeSettings& s = spec.settings;
  json settings = {{"video", s.video},
                   {"name", s.name},
                   {"sample_fps", s.sample_fps},
                   {"chunk_s", s.chunk_s},
                   {"model", s.model_path},
                   {"rectangular", s.rectangular},
                   {"stream", json_from_node(stream_config_node(s.stream))},
                   {"config_text", s.config_text},
                   {"stitch_iou", s.stitch_iou},
                   {"captions", s.captions}};
  json j = {{"key", spec.key},
            {"max_attempts", spec.max_attempts},
            {"video_access", to_string(spec.video_access)},
            {"settings", settings}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<JobSpec> parse_job_spec(std::string_view text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail(ErrorCode::kBadInput, "job spec: not a JSON object");
  auto bad = [](const std::string& field) { return fail(ErrorCode::kBadInput, "job spec: " + field + ": missing or mistyped"); };
  JobSpec spec;
  try {
    if (!j.contains("key") || !j["key"].is_string()) return bad("key");
    spec.key = j["key"].get<std::string>();
    spec.max_attempts = j.value("max_attempts", 2);
    const auto access = parse_video_access(j.value("video_access", "path"));
    if (!access)
      return fail(ErrorCode::kUnsupported, "job spec: video_access '" + j.value("video_access", "") +
                                               "' is not one this worker knows (path, url)");
    spec.video_access = *access;
    if (!j.contains("settings") || !j["settings"].is_object()) return bad("settings");
    const json& s = j["settings"];
    AnalyzeSettings& out = spec.settings;
    out.video = s.at("video").get<std::string>();
    out.name = s.at("name").get<std::string>();
    out.sample_fps = s.at("sample_fps").get<double>();
    out.chunk_s = s.at("chunk_s").get<double>();
    out.model_path = s.at("model").get<std::string>();
    out.rectangular = s.at("rectangular").get<bool>();
    out.config_text = s.at("config_text").get<std::string>();
    out.stitch_iou = s.at("stitch_iou").get<double>();
    out.captions = s.at("captions").get<bool>();
    if (!s.contains("stream") || !s["stream"].is_object()) return bad("settings.stream");
    auto stream = stream_config_from_node(node_from_json(s["stream"]), "settings.stream");
    if (!stream) return fail(ErrorCode::kBadInput, "job spec: " + stream.error().message);
    out.stream = std::move(*stream);
  } catch (const json::exception& e) {
    return fail(ErrorCode::kBadInput, std::string("job spec: settings: ") + e.what());
  }
  return spec;
}

Result<void> ensure_worker_group(RedisClient& redis) {
  auto r = redis.command({"XGROUP", "CREATE", kChunkStream, kWorkerGroup, "0", "MKSTREAM"});
  if (!r) return fail(r.error());
  if (r->is_error() && r->str.find("BUSYGROUP") == std::string::npos)
    return fail(ErrorCode::kRuntime, "redis " + redis.url().redacted() + ": XGROUP CREATE: " + r->str);
  return {};
}

Result<void> publish_job(RedisClient& redis, const std::string& jid, const JobSpec& spec) {
  auto r = redis.call({"SET", job_spec_key(jid), job_spec_text(spec)});
  if (!r) return fail(r.error());
  return {};
}

Result<int> enqueue_tasks(RedisClient& redis, const std::string& jid, const std::vector<Chunk>& chunks) {
  std::vector<std::vector<std::string>> cmds;
  for (const auto& c : chunks)
    cmds.push_back(eval(kEnqueueScript, {task_key(jid, c.index), kChunkStream, job_version_key(jid)},
                        {jid, std::to_string(c.index), exact(c.start_s), exact(c.end_s)}));
  auto replies = redis.pipeline(cmds);
  if (!replies) return fail(replies.error());
  if (auto r = check_replies(redis, *replies, "enqueue"); !r) return fail(r.error());
  int created = 0;
  for (const auto& r : *replies) created += static_cast<int>(r.integer);
  return created;
}

Result<std::vector<TaskState>> read_tasks(RedisClient& redis, const std::string& jid, const std::vector<Chunk>& chunks) {
  std::vector<std::vector<std::string>> cmds;
  for (const auto& c : chunks)
    cmds.push_back({"HMGET", task_key(jid, c.index), "state", "attempts", "worker", "done", "total", "error"});
  auto replies = redis.pipeline(cmds);
  if (!replies) return fail(replies.error());
  if (auto r = check_replies(redis, *replies, "HMGET"); !r) return fail(r.error());
  std::vector<TaskState> out;
  for (const auto& r : *replies) {
    TaskState t;
    if (r.is_array() && r.elements.size() == 6 && !r.elements[0].is_nil()) {
      const auto state = parse_chunk_status(r.elements[0].str);
      t.exists = state.has_value();
      t.state = state.value_or(ChunkStatus::kPending);
      t.attempts = static_cast<int>(to_int(r.elements[1]));
      t.worker = r.elements[2].text();
      t.done = static_cast<std::size_t>(to_int(r.elements[3]));
      t.total = static_cast<std::size_t>(to_int(r.elements[4]));
      t.error = r.elements[5].text();
    }
    out.push_back(std::move(t));
  }
  return out;
}

Result<std::string> read_job_version(RedisClient& redis, const std::string& jid) {
  auto r = redis.call({"GET", job_version_key(jid)});
  if (!r) return fail(r.error());
  return r->is_nil() ? std::string("none") : r->text();
}

Result<std::string> read_task_result(RedisClient& redis, const std::string& jid, int idx) {
  auto r = redis.call({"HGET", task_key(jid, idx), "result"});
  if (!r) return fail(r.error());
  if (r->is_nil()) return fail(ErrorCode::kNotFound, "task " + task_key(jid, idx) + ": no result stored");
  return std::move(r->str);
}

Result<void> drop_tasks(RedisClient& redis, const std::string& jid, const std::vector<Chunk>& chunks) {
  std::vector<std::string> argv{"DEL", job_spec_key(jid), job_version_key(jid)};
  for (const auto& c : chunks) argv.push_back(task_key(jid, c.index));
  auto r = redis.call(argv);
  if (!r) return fail(r.error());
  return {};
}

namespace {
std::string version_key_of(const std::string& task) {
  const auto parsed = parse_task_key(task);
  return job_version_key(parsed ? parsed->first : std::string("?"));
}
}  // namespace

Result<std::optional<Chunk>> start_task(RedisClient& redis, const TaskDelivery& d, const std::string& worker) {
  auto r = redis.call(eval(kStartScript, {d.task, kChunkStream, version_key_of(d.task)}, {kWorkerGroup, d.entry_id, worker, now_ms()}));
  if (!r) return fail(r.error());
  if (!r->is_array() || r->elements.empty()) return std::optional<Chunk>{};
  if (r->elements.size() != 4)
    return fail(ErrorCode::kBadInput, "task " + d.task + ": unexpected reply of the start script");
  Chunk c;
  c.index = static_cast<int>(to_int(r->elements[0]));
  c.start_s = std::strtod(r->elements[1].text().c_str(), nullptr);
  c.end_s = std::strtod(r->elements[2].text().c_str(), nullptr);
  return std::optional<Chunk>(c);
}

Result<bool> heartbeat_task(RedisClient& redis, const TaskDelivery& d, const std::string& consumer, std::size_t done,
                            std::size_t total) {
  auto r = redis.call(eval(kHeartbeatScript, {kChunkStream, d.task},
                           {kWorkerGroup, d.entry_id, consumer, std::to_string(done), std::to_string(total), now_ms()}));
  if (!r) return fail(r.error());
  return r->integer == 1;
}

Result<void> complete_task(RedisClient& redis, const TaskDelivery& d, const std::string& result, double elapsed_s) {
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.3f", elapsed_s);
  auto r = redis.call(eval(kCompleteScript, {d.task, kChunkStream, version_key_of(d.task)}, {kWorkerGroup, d.entry_id, result, secs}));
  if (!r) return fail(r.error());
  return {};
}

Result<ChunkStatus> fail_task(RedisClient& redis, const TaskDelivery& d, const std::string& error, int max_attempts,
                              bool count_attempt) {
  auto r = redis.call(eval(kFailScript, {d.task, kChunkStream, version_key_of(d.task)},
                           {kWorkerGroup, d.entry_id, error, std::to_string(max_attempts), count_attempt ? "1" : "0"}));
  if (!r) return fail(r.error());
  return r->str == "failed" ? ChunkStatus::kFailed : ChunkStatus::kPending;
}

}  // namespace vigil
