// JobManager: the server's offline analysis jobs (POST /api/jobs ...,
// docs/api.md "Jobs"): a queue, `concurrency` runner threads, live progress
// and WebSocket listeners. It lives in jobs/ beside run_analysis (the server
// only routes requests to it); listeners are core/text_queue.h queues, so
// jobs/ does not depend on server/.
//
// All jobs live in one SQLite job store, <jobs.dir>/jobs.db (jobs/job_store.h);
// job N writes its outputs to <jobs.dir>/N/. A submitted job is created in the
// store at once (state pending = queued, chunk plan included), so its id is
// known and it survives a restart: create() queues again every job left
// pending or running by an earlier process, and run_analysis() resumes it
// from its committed chunks.
//
// Threads: every public method may be called from any thread (HTTP I/O
// threads); runner threads call run_analysis(); progress reaches listeners
// through their bounded TextQueue (drop-oldest) and LiveClient::wake(). The
// destructor stops the runners: running jobs are cancelled (chunks go back to
// pending, so the next start resumes them).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/engine_config.h"
#include "core/error.h"
#include "core/text_queue.h"
#include "jobs/analyze_job.h"
#include "jobs/job_store.h"

namespace vigil {

struct JobManagerOptions {
  JobsConfig jobs;
  std::string model_path;  // the engine's model
  std::string device = "auto";
  int threads = 0;
  EngineConfig config;      // stream settings, zones and lines for jobs (see make_analyze_settings)
  std::string config_text;  // the config file's text (part of each job's key)
  bool has_config = false;
};

class JobManager {
 public:
  static constexpr std::size_t kListenerQueue = 64;

  // Creates jobs.dir, opens jobs.db, queues unfinished jobs, starts the runners.
  static Result<std::unique_ptr<JobManager>> create(JobManagerOptions options);
  ~JobManager();
  JobManager(const JobManager&) = delete;
  JobManager& operator=(const JobManager&) = delete;

  // Validates (video probe, options, classes) and queues. The job JSON and
  // whether it is new (false: a job with the same video and options exists;
  // it is returned as it is, queued again if it had been cancelled).
  Result<std::pair<nlohmann::json, bool>> submit(const AnalyzeRequest& request);
  nlohmann::json list();
  // kNotFound for an unknown id.
  Result<nlohmann::json> get(std::int64_t id);
  // Queued: removed from the queue; running: stopped after the current
  // sample of each chunk. Both end as state "cancelled". kNotFound for an
  // unknown id, kConflict for a job already finished.
  Result<nlohmann::json> cancel(std::int64_t id);
  // The job's report.html path; kNotFound if there is none (yet).
  Result<std::string> report_path(std::int64_t id);
  // Progress messages of the job (JobProgress::to_json() + "type": "progress");
  // the current state is sent first; the queue is closed when the job ends.
  // null for an unknown job.
  std::shared_ptr<TextQueue> listen(std::int64_t id, std::weak_ptr<LiveClient> client);

 private:
  struct Live {
    AnalyzeSettings settings;
    std::atomic<bool> stop{false};
    bool user_cancel = false;
    bool requeue = false;      // submitted again while being cancelled: queue again once stopped
    bool running = false;
    bool has_progress = false;
    JobProgress progress;
    std::vector<std::pair<std::weak_ptr<LiveClient>, std::shared_ptr<TextQueue>>> listeners;
  };

  explicit JobManager(JobManagerOptions options);
  Result<void> requeue_unfinished();  // create(): jobs left pending or running by an earlier process
  void start_runners();
  // The settings checked against the model and the video, and the video's chunk plan.
  Result<std::vector<Chunk>> check_and_plan(const AnalyzeSettings& settings);
  // Queues job id unless it is queued or running (then a running one being
  // cancelled is queued again once it stops).
  void queue_unless_active(JobStore& store, std::int64_t id, const AnalyzeSettings& settings);
  void runner();
  Result<AnalyzeOutcome> run_job(std::int64_t id, Live& live);  // runner thread, mu_ not held
  void finish_job_locked(std::int64_t id, Live& live, const Result<AnalyzeOutcome>& outcome);
  void publish(std::int64_t id, Live& live, const nlohmann::json& message, bool close);
  nlohmann::json job_json(JobStore& store, const JobInfo& info, bool with_chunks);
  Result<JobStore*> store();  // opens (creating jobs.dir) on first use
  Result<void> lock_dir();    // one process per jobs.dir
  JobStore* store_if_open();
  std::string out_dir(std::int64_t id) const;
  Result<const Detector*> detector();

  const JobManagerOptions options_;
  std::mutex store_mu_;
  std::unique_ptr<JobStore> store_;  // null until the first job (or a jobs.db from earlier)
  int lock_fd_ = -1;                 // flock on <jobs.dir>/jobs.lock while the store is open
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::int64_t> queue_;
  std::map<std::int64_t, std::shared_ptr<Live>> live_;
  bool stopping_ = false;
  std::mutex detector_mu_;
  std::unique_ptr<Detector> detector_;
  std::vector<std::thread> runners_;
};

}  // namespace vigil
