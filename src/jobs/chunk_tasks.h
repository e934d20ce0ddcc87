// Chunk tasks in Redis: the shared schema of a distributed offline analysis
// (`vigil analyze --redis`, POST /api/jobs with jobs.redis: the coordinator;
// `vigil worker`: jobs/chunk_worker.h).
//
// Keys (jid: 16 hex digits of FNV-1a 64 over the job key, AnalyzeSettings::key(),
// so the same video and options are the same distributed job):
//   vigil:chunks           stream of task deliveries; entry: {task: <task key>}
//                          consumer group vigil-workers (XREADGROUP, XAUTOCLAIM)
//   vigil:job:<jid>        string: the job spec (job_spec_text below)
//   vigil:jobver:<jid>     integer: bumped by every task state change (the
//                          coordinator reads the task states when it moved)
//   vigil:task:<jid>:<i>   hash of chunk i: state (ChunkStatus spelling), job,
//                          idx, start_s, end_s, attempts, worker, done, total
//                          (samples so far), heartbeat (Unix ms), error, result
//                          (the ChunkResult text, exactly what the local job
//                          store keeps; deleted once the coordinator committed
//                          it to its store), elapsed_s
// Every state change is one Lua script (EVAL), so a task never is half-moved:
// enqueue creates the hash and its stream entry together, only if the hash
// did not exist (running the coordinator again enqueues nothing twice);
// complete stores the result and XACKs in one step.
//
// The job spec (JSON, keys sorted): {"key", "max_attempts", "video_access":
// "path" (a path every worker sees: shared storage) or "url" (an http(s) URL
// every worker can fetch with byte ranges), "settings": {...every
// field of AnalyzeSettings; the stream as its config-file keys, without
// describe.api_key (a worker takes its own: `vigil worker -c`); the config
// text with its secrets redacted}}. A worker rebuilds the settings and checks that their
// key equals the job key (same video and model files, same options) before
// it analyses anything.
//
// Pure functions apart from those taking a RedisClient (one connection, the
// caller's thread).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/redis_client.h"
#include "core/error.h"
#include "jobs/analyze_settings.h"
#include "jobs/chunk_plan.h"
#include "jobs/job_state.h"

namespace vigil {

inline constexpr const char* kChunkStream = "vigil:chunks";
inline constexpr const char* kWorkerGroup = "vigil-workers";

enum class VideoAccess {
  kPath,  // "path": the same path on every worker (shared storage)
  kUrl,   // "url": an http(s) URL each worker reads with byte ranges
};
const char* to_string(VideoAccess a);
std::optional<VideoAccess> parse_video_access(std::string_view text);
// kUrl for an http(s) URL (is_http_video_url), else kPath.
VideoAccess video_access_for(const std::string& video);

struct JobSpec {
  std::string key;  // AnalyzeSettings::key() on the coordinator
  int max_attempts = 2;
  VideoAccess video_access = VideoAccess::kPath;
  AnalyzeSettings settings;
};

std::string distributed_job_id(const std::string& job_key);
std::string job_spec_key(const std::string& jid);
std::string job_version_key(const std::string& jid);
std::string task_key(const std::string& jid, int idx);

std::string job_spec_text(const JobSpec& spec);
// kBadInput naming the field for text that is not a job spec.
Result<JobSpec> parse_job_spec(std::string_view text);

// What the coordinator reads of a task (not its result).
struct TaskState {
  bool exists = false;  // false: no such task (lost, or dropped): enqueue it again
  ChunkStatus state = ChunkStatus::kPending;
  int attempts = 0;
  std::string worker;
  std::size_t done = 0, total = 0;
  std::string error;
};

// XGROUP CREATE vigil:chunks vigil-workers 0 MKSTREAM (an existing group is fine).
Result<void> ensure_worker_group(RedisClient& redis);

// SET vigil:job:<jid> spec (replacing: the same jid is the same key).
Result<void> publish_job(RedisClient& redis, const std::string& jid, const JobSpec& spec);

// Creates the tasks that do not exist yet, each with its stream entry, in one
// round trip; how many were created.
Result<int> enqueue_tasks(RedisClient& redis, const std::string& jid, const std::vector<Chunk>& chunks);

// The states of these chunks' tasks, in the order given, in one round trip.
Result<std::vector<TaskState>> read_tasks(RedisClient& redis, const std::string& jid, const std::vector<Chunk>& chunks);

// The job's state-change counter ("none" when it has none: a new or lost job).
Result<std::string> read_job_version(RedisClient& redis, const std::string& jid);

// The stored result text of a done task (kNotFound when it has none).
Result<std::string> read_task_result(RedisClient& redis, const std::string& jid, int idx);

// Deletes the job spec and these tasks (the coordinator has their results).
Result<void> drop_tasks(RedisClient& redis, const std::string& jid, const std::vector<Chunk>& chunks);

// ---- the worker's side (jobs/chunk_worker.cc) ----

struct TaskDelivery {
  std::string entry_id;  // the stream entry
  std::string task;      // the task key
};

// The task's job id and chunk index from its key; nullopt for a key of another form.
std::optional<std::pair<std::string, int>> parse_task_key(const std::string& task);

// Starts a delivered task: nullopt if it is already done or failed (a
// duplicate delivery: acknowledged here), else it is running on `worker`
// with attempts + 1 and the task's chunk is returned.
Result<std::optional<Chunk>> start_task(RedisClient& redis, const TaskDelivery& d, const std::string& worker);

// While a chunk runs: resets the entry's idle time (XCLAIM JUSTID) if
// `consumer` still owns it and records progress; false when another worker
// took the task over (stop working on it).
Result<bool> heartbeat_task(RedisClient& redis, const TaskDelivery& d, const std::string& consumer,
                            std::size_t done, std::size_t total);

// Done: result stored, state done, entry acknowledged.
Result<void> complete_task(RedisClient& redis, const TaskDelivery& d, const std::string& result, double elapsed_s);

// Failed attempt: back to pending with a new stream entry when attempts <
// max_attempts, else failed; the error stored either way; the old entry
// acknowledged. count_attempt false (the worker stopped): pending again and
// the attempt given back.
Result<ChunkStatus> fail_task(RedisClient& redis, const TaskDelivery& d, const std::string& error, int max_attempts,
                              bool count_attempt = true);

}  // namespace vigil
