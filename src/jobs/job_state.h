// The states of offline-analysis jobs and their chunks, and their one
// spelling: the strings the job store keeps in SQLite and the API and
// progress JSON show (docs/api.md). Everything else compares enums.
//
// Pure functions; safe from any thread.
#pragma once

#include <optional>
#include <string_view>

namespace vigil {

// jobs.state in the job store.
enum class JobStatus {
  kPending,    // "pending": created or put back in the queue, not running
  kRunning,    // "running"
  kDone,       // "done": outputs written (some chunks may have failed)
  kFailed,     // "failed": no chunk could be analysed, or the store failed
  kCancelled,  // "cancelled": stopped by the user; resumable
};

// chunks.state in the job store.
enum class ChunkStatus {
  kPending,  // "pending"
  kRunning,  // "running": claimed by a worker (or left by a process that died)
  kDone,     // "done": result stored
  kFailed,   // "failed": tried max_attempts times
};

const char* to_string(JobStatus s);
const char* to_string(ChunkStatus s);
std::optional<JobStatus> parse_job_status(std::string_view s);
std::optional<ChunkStatus> parse_chunk_status(std::string_view s);

// The name the HTTP API and progress messages use: pending is "queued".
const char* api_name(JobStatus s);

// done, failed or cancelled: nothing runs it any more.
inline bool is_finished(JobStatus s) {
  return s == JobStatus::kDone || s == JobStatus::kFailed || s == JobStatus::kCancelled;
}

}  // namespace vigil
