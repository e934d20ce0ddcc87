// run_analysis: one offline analysis job from start (or resume) to outputs.
//
// A JobRun in three phases: prepare (check the settings against the model,
// probe the video, plan chunks, open the job store, create the job or
// resume the one with the same key), run workers, finish (merge, write).
// Prepare probes the video, plans chunks, opens the job store (SQLite) and creates
// the job or resumes the one with the same key, then runs `workers` chunk
// workers that claim chunks, analyse them (chunk_analyzer.h) through one
// offline BatchScheduler and commit each chunk's result (or its failure: a
// chunk is tried max_attempts times). When no chunk is left it merges the
// stored results and writes results.json, events.jsonl, timeline.csv,
// report.html and run.json into out_dir.
//
// Distributed (options.redis_url): every chunk not done in the store is
// claimed by this run, queued in Redis (idempotently: the job key names the
// tasks, so running again resumes), and completed in the store as its
// worker's result arrives; a failed task is a failed chunk. Progress comes
// from the task states (running chunks with their samples so far).
//
// Crash safety: every chunk state change is one SQLite transaction; after a
// kill -9 the same call resumes the job and, since outputs are made only from
// stored chunk results, writes the same bytes an uninterrupted run would.
// Cancel (stop flag): running chunks go back to pending; the job is marked
// cancelled and can be resumed later.
//
// Threads: run_analysis blocks; on_progress is called from worker threads
// (serialised, by ProgressTracker), at most every 250 ms plus on every chunk
// event and at the end.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "jobs/analyze_settings.h"
#include "jobs/job_state.h"
#include "jobs/job_store.h"
#include "jobs/results_merge.h"
#include "pipeline/detector.h"

namespace vigil {

// Chunk workers when AnalyzeJobOptions::workers is 0: one per core, at most
// this many (more decoders than this only contend for the one scheduler).
inline constexpr int kMaxAutoWorkers = 8;

struct AnalyzeJobOptions {
  AnalyzeSettings settings;
  std::string out_dir;
  std::string db_path;  // empty: out_dir/job.db
  int workers = 0;      // chunk workers; 0 = one per core (at most 8, kMaxAutoWorkers)
  int batch = 1;        // images per inference batch
  int max_attempts = 2;
  // Server jobs: the id the job was created with; if the store's job of that
  // id no longer has these settings' key (the video or model file changed
  // while it waited), the run fails instead of starting a new job.
  std::int64_t expected_job_id = 0;
  // Distributed: a redis:// URL; the chunks are queued there as tasks
  // (jobs/chunk_tasks.h) and analysed by `vigil worker`s (jobs/chunk_worker.h)
  // instead of this process's workers; the results come back into the job
  // store, so the outputs are made exactly as for a local run. Empty: local.
  std::string redis_url;
  // Distributed: how often task states are read (progress, results).
  std::chrono::milliseconds poll_every{200};
};

struct ChunkProgress {
  int index = 0;
  double start_s = 0, end_s = 0;
  std::size_t done = 0, total = 0;  // samples
};

struct JobProgress {
  std::int64_t job_id = 0;
  JobStatus state = JobStatus::kRunning;  // running | done | failed | cancelled (pending: queued again)
  int chunks = 0, chunks_done = 0, chunks_failed = 0;
  double source_s = 0;       // media seconds in the job
  double source_done_s = 0;  // media seconds analysed (done chunks + parts of running ones)
  double elapsed_s = 0;      // this run
  double speed = 0;          // media seconds analysed per second, this run
  double eta_s = -1;         // -1: unknown yet
  std::vector<ChunkProgress> running;
  std::vector<ChunkStatus> chunk_states;  // [index]
  std::string message;                    // the latest chunk event, e.g. "chunk 3 done in 12.1 s"
  // "state" by api_name (queued for pending), "chunk_states" by to_string.
  nlohmann::json to_json() const;
};

// The progress of one run, updated by its chunk workers: keeps JobProgress
// (media seconds done, speed, ETA over this run) and calls on_progress at
// most every kReportEvery, and at once for every chunk leaving `running`
// and at the end. Thread-safe: one mutex; on_progress is called under it
// (so calls never overlap).
class ProgressTracker {
 public:
  static constexpr std::chrono::milliseconds kReportEvery{250};

  // initial: the job's chunks as stored when the run starts (done and
  // failed ones count as finished); started: when the run began (elapsed
  // and speed count from there).
  ProgressTracker(std::int64_t job_id, double source_s, const std::vector<ChunkState>& initial,
                  std::function<void(const JobProgress&)> on_progress,
                  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now());

  void started(const Chunk& chunk);                               // claimed by a worker
  void advanced(int index, std::size_t done, std::size_t total);  // samples analysed so far
  void left(const Chunk& chunk, ChunkStatus state, std::string message);  // committed as `state`
  void ended(JobStatus state, std::string message);                       // the run is over

  // Elapsed seconds as of the last report.
  double elapsed_s() const;

 private:
  void refresh_locked();
  void report_locked(bool force);

  mutable std::mutex mu_;
  JobProgress p_;
  double done_at_start_ = 0;  // media seconds finished before this run
  double finished_s_ = 0;     // media seconds of chunks finished (done or failed)
  std::function<void(const JobProgress&)> on_progress_;
  std::chrono::steady_clock::time_point started_, last_report_;
};

struct AnalyzeOutcome {
  std::int64_t job_id = 0;
  JobStatus state = JobStatus::kDone;  // done | failed | cancelled
  bool resumed = false;
  nlohmann::json summary;  // results.json "summary"
  double wall_s = 0;
};

// The detector for offline analysis: threads 0 = one per core; no spinning
// (decoders share the cores); rectangular = model.rectangular.
Result<std::unique_ptr<Detector>> open_analysis_detector(const std::string& model_path, const std::string& device,
                                                         int threads, bool rectangular = true);

// Opens the file (or the http(s) URL of one) and reads its duration, size,
// rate and codec. Errors name the path: missing, empty, not a video,
// audio-only, unknown duration, a live source, a server without byte ranges.
Result<VideoInfo> probe_video(const std::string& path);

Result<AnalyzeOutcome> run_analysis(const AnalyzeJobOptions& options, const Detector& detector,
                                    const std::function<void(const JobProgress&)>& on_progress,
                                    const std::atomic<bool>* stop = nullptr);

}  // namespace vigil
