// JobStore: the offline-analysis job store, one SQLite file in WAL mode
// (synchronous=FULL: a commit survives kill -9 and power loss).
//
// Schema (PRAGMA user_version = kSchemaVersion = 1):
//   jobs(id INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL, input TEXT,
//        options_json TEXT, state TEXT, created REAL, updated REAL)
//     key identifies the job (input path + options), so running the same
//     command again resumes it; state: pending|running|done|failed|cancelled
//     (JobStatus, jobs/job_state.h: its to_string is the stored text);
//     created/updated: Unix seconds.
//   chunks(job_id, idx, start_s, end_s, state TEXT, attempts INTEGER,
//          error TEXT, result TEXT, PRIMARY KEY(job_id, idx))
//     state: pending|running|done|failed (ChunkStatus); result: the chunk's
//     ChunkResult as JSON text (jobs/chunk_result.h; NULL until done);
//     error: the last failure's message.
//
// Every mutating call is ONE transaction: after kill -9 at any moment the file
// holds either all of a call's effect or none of it.
//
// Crash recovery: one process owns a job. A chunk left `running` by a process
// that died is claimed again by claim_next() of a later JobStore (attempts + 1:
// an interrupted attempt counts). Chunks that THIS JobStore object claimed and
// has not completed or failed yet are never handed out twice, so several
// worker threads may share one JobStore.
//
// Threads: every method may be called from any thread; one mutex serialises
// all use of the single connection (calls are short: one transaction each).
//
// A file that is not an SQLite database, an SQLite database that is not a
// Vigil job store, or one with a newer schema version is refused by open() and
// left untouched.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "jobs/chunk_plan.h"
#include "jobs/job_state.h"

namespace vigil {

struct ChunkState {
  Chunk chunk;
  ChunkStatus state = ChunkStatus::kPending;
  int attempts = 0;    // claims so far
  std::string error;   // last failure; empty if none
  std::string result;  // JSON text; empty until done
};

struct JobInfo {
  std::int64_t id = 0;
  std::string key;
  std::string input;
  std::string options_json;
  JobStatus state = JobStatus::kPending;
  double created = 0;
  double updated = 0;
};

class JobStore {
 public:
  static constexpr int kSchemaVersion = 1;

  // Opens or creates the database at path (its directory must exist). Errors
  // name the path: kNotFound (no such directory), kBadInput (not an SQLite
  // database / not a Vigil job store / read-only / a directory), kUnsupported
  // (newer schema version), kInvalidArgument (not a file path, e.g.
  // ":memory:"), kRuntime (SQLite failed).
  static Result<std::unique_ptr<JobStore>> open(const std::string& path, int busy_timeout_ms = 5000);

  ~JobStore();
  JobStore(const JobStore&) = delete;
  JobStore& operator=(const JobStore&) = delete;

  // The id of the job with this key if there is one (its job row and chunks
  // are kept as they are; kBadInput if its stored chunk plan differs from
  // plan), else a new job in state pending with every chunk of plan pending,
  // all in one transaction. kInvalidArgument for an empty key or plan, or a
  // plan whose indices are not 0..n-1.
  Result<std::int64_t> create_or_resume(const std::string& key, const std::string& input,
                                        const std::string& options_json, const std::vector<Chunk>& plan);

  // The lowest-index chunk that is pending, or running but not claimed by this
  // object (left by a crashed process), now running with attempts + 1.
  // nullopt when none is left. kNotFound for an unknown job.
  Result<std::optional<Chunk>> claim_next(std::int64_t job_id);

  // The running chunk becomes done with result_json. kNotFound for an unknown
  // job or chunk, kInvalidArgument if the chunk is not running.
  Result<void> complete(std::int64_t job_id, int idx, const std::string& result_json);

  // The running chunk goes back to pending if attempts < max_attempts, else to
  // failed; error is recorded either way. Errors as complete().
  Result<void> fail_chunk(std::int64_t job_id, int idx, const std::string& error, int max_attempts);

  // The running chunk goes back to pending without counting the attempt (the
  // job was cancelled or stopped, the chunk did not fail). Errors as complete().
  Result<void> release(std::int64_t job_id, int idx);

  // Failed chunks of the job go back to pending with attempts 0 (a job
  // submitted again). kNotFound for an unknown job.
  Result<void> reset_failed(std::int64_t job_id);

  // All chunks of the job by index. kNotFound for an unknown job, kBadInput
  // for a stored state this build does not know (naming the row).
  // with_results false: `result` is left empty (cheap: states only).
  Result<std::vector<ChunkState>> chunks(std::int64_t job_id, bool with_results = true) const;

  // kNotFound for an unknown job.
  Result<void> set_job_state(std::int64_t job_id, JobStatus state);

  // All jobs by id. kBadInput for a stored state this build does not know.
  Result<std::vector<JobInfo>> jobs() const;

  const std::string& path() const;

 private:
  struct Impl;
  explicit JobStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
