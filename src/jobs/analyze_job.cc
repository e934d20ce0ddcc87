#include "jobs/analyze_job.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "analytics/analytics_evaluator.h"
#include "cluster/redis_client.h"
#include "core/round.h"
#include "describe/captioner.h"
#include "jobs/chunk_analyzer.h"
#include "jobs/chunk_result.h"
#include "jobs/chunk_tasks.h"
#include "jobs/job_store.h"
#include "jobs/report_html.h"
#include "media/video_source.h"
#include "metrics/stage_metrics.h"
#include "pipeline/batch_scheduler.h"
#include "pipeline/caption_service.h"

namespace vigil {
namespace {

using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

// A distributed job waits this long for Redis to come back before it fails.
constexpr std::chrono::minutes kRemoteReconnectFor{10};
// A distributed job reads at most this many task states per poll (the
// lowest outstanding chunks: workers take tasks in queue order).
constexpr std::size_t kPollWindow = 64;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

std::string iso_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json machine_json() {
  std::string cpu;
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  long mem_kb = 0;
  std::ifstream m("/proc/meminfo");
  for (std::string line; std::getline(m, line);)
    if (line.rfind("MemTotal:", 0) == 0) mem_kb = std::stol(line.substr(9));
  constexpr double kKibPerGib = 1024.0 * 1024.0;
  return {{"cpu", cpu}, {"cores", std::thread::hardware_concurrency()}, {"memory_gib", round1(mem_kb / kKibPerGib)}};
}

json totals_json(const ChunkStats& s) {
  return {{"frames_decoded", s.frames_decoded}, {"packets_decoded", s.packets_decoded},
          {"packets_dropped", s.packets_dropped}, {"seeks", s.seeks},
          {"damage_errors", s.damage_errors},    {"packets_skipped", s.packets_skipped},
          {"decode_ms", s.decode_ms},            {"convert_ms", s.convert_ms}};
}

// What a chunk attempt gives the job: the text the store keeps and its
// sample count for the progress message.
struct ChunkOutput {
  std::string text;
  std::size_t samples = 0;
};

ChunkOutput chunk_output(const ChunkResult& result) { return {to_text(result), result.samples.size()}; }

}  // namespace

json JobProgress::to_json() const {
  json running_j = json::array();
  for (const auto& r : running)
    running_j.push_back({{"index", r.index}, {"start_s", r.start_s}, {"end_s", r.end_s}, {"done", r.done}, {"total", r.total}});
  json states = json::array();
  for (ChunkStatus s : chunk_states) states.push_back(to_string(s));
  return {{"job_id", job_id},
          {"state", api_name(state)},
          {"chunks", chunks},
          {"chunks_done", chunks_done},
          {"chunks_failed", chunks_failed},
          {"source_s", source_s},
          {"source_done_s", round3(source_done_s)},
          {"progress", source_s > 0 ? std::min(1.0, source_done_s / source_s) : 0.0},
          {"elapsed_s", round3(elapsed_s)},
          {"speed", round2(speed)},
          {"eta_s", eta_s < 0 ? json(nullptr) : json(round1(eta_s))},
          {"running", running_j},
          {"chunk_states", states},
          {"message", message}};
}

// ---- ProgressTracker ----

ProgressTracker::ProgressTracker(std::int64_t job_id, double source_s, const std::vector<ChunkState>& initial,
                                 std::function<void(const JobProgress&)> on_progress, clock_type::time_point started)
    : on_progress_(std::move(on_progress)), started_(started), last_report_(started - kReportEvery) {
  p_.job_id = job_id;
  p_.state = JobStatus::kRunning;
  p_.chunks = static_cast<int>(initial.size());
  p_.source_s = source_s;
  for (const auto& c : initial) {
    // A chunk left running by a process that died is claimed again: pending for this run.
    p_.chunk_states.push_back(c.state == ChunkStatus::kRunning ? ChunkStatus::kPending : c.state);
    if (c.state == ChunkStatus::kDone || c.state == ChunkStatus::kFailed) {
      (c.state == ChunkStatus::kDone ? p_.chunks_done : p_.chunks_failed)++;
      done_at_start_ += c.chunk.end_s - c.chunk.start_s;
    }
  }
  p_.source_done_s = done_at_start_;
  finished_s_ = done_at_start_;
}

void ProgressTracker::started(const Chunk& chunk) {
  std::lock_guard lock(mu_);
  p_.running.push_back({chunk.index, chunk.start_s, chunk.end_s, 0, 0});
  p_.chunk_states[static_cast<std::size_t>(chunk.index)] = ChunkStatus::kRunning;
  report_locked(false);
}

void ProgressTracker::advanced(int index, std::size_t done, std::size_t total) {
  std::lock_guard lock(mu_);
  for (auto& r : p_.running)
    if (r.index == index) r.done = done, r.total = total;
  report_locked(false);
}

void ProgressTracker::left(const Chunk& chunk, ChunkStatus state, std::string message) {
  std::lock_guard lock(mu_);
  std::erase_if(p_.running, [&](const ChunkProgress& r) { return r.index == chunk.index; });
  p_.chunk_states[static_cast<std::size_t>(chunk.index)] = state;
  if (state == ChunkStatus::kDone || state == ChunkStatus::kFailed) {
    finished_s_ += chunk.end_s - chunk.start_s;
    ++(state == ChunkStatus::kDone ? p_.chunks_done : p_.chunks_failed);
  }
  p_.message = std::move(message);
  report_locked(true);
}

void ProgressTracker::ended(JobStatus state, std::string message) {
  std::lock_guard lock(mu_);
  p_.state = state;
  p_.message = std::move(message);
  report_locked(true);
}

double ProgressTracker::elapsed_s() const {
  std::lock_guard lock(mu_);
  return p_.elapsed_s;
}

void ProgressTracker::refresh_locked() {
  double partial = 0;
  for (const auto& r : p_.running)
    if (r.total > 0) partial += (r.end_s - r.start_s) * static_cast<double>(r.done) / static_cast<double>(r.total);
  // A chunk that is retried starts its share again: progress never goes back.
  p_.source_done_s = std::max(p_.source_done_s, std::min(p_.source_s, finished_s_ + partial));
  p_.elapsed_s = seconds_since(started_);
  const double this_run = p_.source_done_s - done_at_start_;
  p_.speed = p_.elapsed_s > 0 ? this_run / p_.elapsed_s : 0;
  p_.eta_s = p_.speed > 0 && this_run > 0 ? (p_.source_s - p_.source_done_s) / p_.speed : -1;
}

void ProgressTracker::report_locked(bool force) {
  if (!on_progress_) return;
  const auto now = clock_type::now();
  if (!force && now - last_report_ < kReportEvery) return;
  last_report_ = now;
  refresh_locked();
  on_progress_(p_);
}

// ---- detector, probe ----

Result<std::unique_ptr<Detector>> open_analysis_detector(const std::string& model_path, const std::string& device,
                                                         int threads, bool rectangular) {
  BackendOptions bo;
  bo.model_path = model_path;
  auto provider = parse_execution_provider(device);
  if (!provider) return fail(ErrorCode::kInvalidArgument, "device: " + provider.error().message);
  bo.provider = *provider;
  bo.intra_threads = threads;
  bo.spin = false;
  return Detector::create(bo, DetectorOptions{.rectangular = rectangular});
}

Result<VideoInfo> probe_video(const std::string& path) {
  VideoSourceOptions vo;
  vo.url = path;
  vo.hwaccel = HwAccel::kNone;
  auto src = VideoSource::open(vo);
  if (!src) return fail(src.error());
  const SourceKind kind = (*src)->spec().kind;
  if (kind != SourceKind::kFile && kind != SourceKind::kHttp)
    return fail(ErrorCode::kInvalidArgument, "video " + path + ": offline analysis takes a file or an http(s) URL of one");
  if (kind == SourceKind::kHttp && !(*src)->byte_seekable())
    return fail(ErrorCode::kBadInput, "video " + path +
                                          ": the server does not answer byte-range requests (no Accept-Ranges), so the "
                                          "chunks cannot seek in it; serve it from a server with Range support or give "
                                          "a path");
  VideoInfo v;
  v.path = path;
  v.duration_s = (*src)->duration_s();
  v.width = (*src)->width();
  v.height = (*src)->height();
  v.fps = (*src)->fps();
  v.codec = (*src)->codec();
  if (!(v.duration_s > 0)) return fail(ErrorCode::kBadInput, "video " + path + ": its duration is unknown (not a seekable video file?)");
  return v;
}

// ---- JobRun ----

namespace {

// One run of run_analysis: prepare (check, probe, plan, open the store,
// create or resume the job), run the chunk workers, finish (merge and
// write the outputs). Lives on the calling thread; its workers share it.
class JobRun {
 public:
  JobRun(const AnalyzeJobOptions& options, const Detector& detector,
         const std::function<void(const JobProgress&)>& on_progress, const std::atomic<bool>* stop)
      : options_(options), settings_(options.settings), detector_(detector), on_progress_(on_progress), stop_(stop) {}

  Result<AnalyzeOutcome> run() {
    if (auto r = prepare(); !r) return fail(r.error());
    if (options_.redis_url.empty()) run_workers();
    else run_remote();
    if (!fatal_.empty()) {
      (void)store_->set_job_state(outcome_.job_id, JobStatus::kFailed);
      return fail(ErrorCode::kRuntime, "job " + std::to_string(outcome_.job_id) + " in " + db_path_ + ": " + fatal_);
    }
    if (stopped()) return cancelled();
    return finish();
  }

 private:
  bool stopped() const { return stop_ && stop_->load(); }

  // ---- prepare ----

  Result<void> prepare() {
    if (auto r = check_settings(); !r) return r;
    auto video = probe_video(settings_.video);
    if (!video) return fail(video.error());
    video_ = std::move(*video);
    auto plan = plan_chunks(video_.duration_s, {settings_.chunk_s, settings_.sample_fps});
    if (!plan) return fail(plan.error());
    if (auto r = open_store(); !r) return r;
    if (auto r = create_or_resume(*plan); !r) return r;
    return start_scheduler();
  }

  // Classes and zones/lines against the model, before anything is written.
  Result<void> check_settings() const {
    if (!settings_.stream.classes.empty())
      if (auto m = class_mask_from_names(detector_.info(), settings_.stream.classes); !m) return fail(m.error());
    if (auto ev = AnalyticsEvaluator::create(settings_.stream.id, settings_.stream.zones, settings_.stream.lines,
                                             detector_.info().class_names, "stream");
        !ev)
      return fail(ev.error());
    return {};
  }

  Result<void> open_store() {
    namespace fs = std::filesystem;
    const std::string& dir = options_.out_dir;
    std::error_code ec;
    if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
      return fail(ErrorCode::kBadInput, "output directory " + dir + ": exists and is not a directory");
    fs::create_directories(dir, ec);
    if (ec) return fail(ErrorCode::kBadInput, "output directory " + dir + ": " + ec.message());
    db_path_ = options_.db_path.empty() ? (fs::path(dir) / "job.db").string() : options_.db_path;
    auto store = JobStore::open(db_path_);
    if (!store) return fail(store.error());
    store_ = std::move(*store);
    return {};
  }

  json options_json() const {
    return {{"video", settings_.video},     {"sample_fps", settings_.sample_fps}, {"chunk_s", settings_.chunk_s},
            {"model", settings_.model_path}, {"classes", settings_.stream.classes}, {"out_dir", options_.out_dir},
            {"captions", settings_.captions}};
  }

  // A server job must still be the one queued (same key) when it starts.
  Result<void> check_expected_job() const {
    if (options_.expected_job_id <= 0) return {};
    auto all = store_->jobs();
    if (!all) return fail(all.error());
    for (const auto& j : *all)
      if (j.id == options_.expected_job_id && j.key == settings_.key()) return {};
    return fail(ErrorCode::kBadInput, "job " + std::to_string(options_.expected_job_id) + ": " + settings_.video +
                                          " or the model changed since the job was queued; submit it again");
  }

  Result<void> create_or_resume(const std::vector<Chunk>& plan) {
    if (auto r = check_expected_job(); !r) return r;
    auto job = store_->create_or_resume(settings_.key(), settings_.video,
                                        options_json().dump(-1, ' ', false, json::error_handler_t::replace), plan);
    if (!job) return fail(job.error());
    outcome_.job_id = *job;
    auto initial = store_->chunks(*job);
    if (!initial) return fail(initial.error());
    outcome_.resumed = std::any_of(initial->begin(), initial->end(),
                                   [](const ChunkState& c) { return c.state != ChunkStatus::kPending; });
    if (auto r = store_->set_job_state(*job, JobStatus::kRunning); !r) return fail(r.error());
    progress_.emplace(*job, video_.duration_s, *initial, on_progress_, t_start_);
    return {};
  }

  Result<void> start_scheduler() {
    BatchSchedulerOptions bo;
    bo.max_batch = std::max(1, options_.batch);
    bo.wait_ms = 0;
    bo.workers = 1;
    bo.offline = true;
    batch_ = bo.max_batch;
    scheduler_ = std::make_unique<BatchScheduler>(detector_, bo, metrics_);
    ctx_.emplace(ChunkRunContext{settings_, *scheduler_, detector_.info(), stop_});
    if (settings_.captions) {
      auto c = make_captioner(settings_.stream.describe, "describe");
      if (!c) return fail(c.error());
      captioner_ = std::move(*c);
      ctx_->captioner = captioner_.get();
    }
    return {};
  }

  // ---- workers ----

  void run_workers() {
    const int asked = options_.workers > 0 ? options_.workers : static_cast<int>(std::thread::hardware_concurrency());
    workers_ = std::clamp(asked, 1, kMaxAutoWorkers);
    std::vector<std::thread> threads;
    for (int i = 0; i < workers_; ++i) threads.emplace_back([this] { work(); });
    for (auto& t : threads) t.join();
  }

  // One worker: claims and runs chunks until none is left, the job is
  // stopped or the store failed.
  void work() {
    while (!stopped()) {
      auto claimed = store_->claim_next(outcome_.job_id);
      if (!claimed) return set_fatal(claimed.error().message);
      if (!*claimed) return;
      run_chunk(**claimed);
      std::lock_guard lock(mu_);
      if (!fatal_.empty()) return;
    }
  }

  // ---- distributed (chunk_tasks.h) ----

  // Claims every chunk left in the store, queues them as tasks and takes
  // their results in as workers finish them, until none is left, the job
  // is stopped or Redis fails for good.
  void run_remote() {
    auto url = parse_redis_url(options_.redis_url);
    if (!url) return set_fatal(url.error().message);
    RedisClientOptions ro;
    ro.url = *url;
    ro.stop = stop_;
    ro.reconnect_for = kRemoteReconnectFor;
    auto redis = RedisClient::connect(ro);
    if (!redis) return set_fatal(redis.error().message);
    RedisClient& r = **redis;
    std::vector<Chunk> outstanding;
    while (true) {
      auto claimed = store_->claim_next(outcome_.job_id);
      if (!claimed) return set_fatal(claimed.error().message);
      if (!*claimed) break;
      outstanding.push_back(**claimed);
    }
    if (outstanding.empty()) return;
    const std::vector<Chunk> queued = outstanding;
    const std::string jid = distributed_job_id(settings_.key());
    const JobSpec spec{settings_.key(), options_.max_attempts, video_access_for(settings_.video), settings_};
    auto queue = [&]() -> Result<void> {
      if (auto g = ensure_worker_group(r); !g) return g;
      if (auto p = publish_job(r, jid, spec); !p) return p;
      auto n = enqueue_tasks(r, jid, outstanding);
      if (!n) return fail(n.error());
      spdlog::info("job {}: {} chunks queued in {} as job {} ({} new tasks)", outcome_.job_id, outstanding.size(),
                   url->redacted(), jid, *n);
      return {};
    };
    if (auto q = queue(); !q) return release_all(outstanding, q.error().message);
    std::string seen_version;  // the job's state-change counter when last read ("": read now)
    while (!outstanding.empty()) {
      if (stopped()) return release_all(outstanding, "");
      auto version = read_job_version(r, jid);
      if (!version) return release_all(outstanding, version.error().message);
      // A state changed: the first kPollWindow chunks; else the running ones' progress.
      std::vector<Chunk> look;
      const bool moved = *version != seen_version;
      for (const auto& c : outstanding)
        if (moved ? look.size() < kPollWindow : remote_running_.count(c.index) > 0) look.push_back(c);
      seen_version = *version;
      auto states = read_tasks(r, jid, look);
      if (!states) return release_all(outstanding, states.error().message);
      std::set<int> gone;
      std::vector<Chunk> missing;
      for (std::size_t i = 0; i < look.size(); ++i)
        if (take_task_state(r, jid, look[i], (*states)[i], missing)) gone.insert(look[i].index);
      // Chunks left: read again at once (others beyond the window may be done too).
      if (!gone.empty() || !missing.empty()) seen_version.clear();
      std::vector<Chunk> left;
      for (const auto& c : outstanding)
        if (!gone.count(c.index)) left.push_back(c);
      if (!missing.empty())
        if (auto q = publish_job(r, jid, spec); !q || !enqueue_tasks(r, jid, missing))
          spdlog::warn("job {}: could not queue {} lost tasks again", outcome_.job_id, missing.size());
      outstanding = std::move(left);
      {
        std::lock_guard lock(mu_);
        if (!fatal_.empty()) return release_all(outstanding, "");
      }
      if (!outstanding.empty()) wait_poll();
    }
    if (auto d = drop_tasks(r, jid, queued); !d) spdlog::warn("job {}: {}", outcome_.job_id, d.error().message);
  }

  // One task's state into the store and the progress; true when the chunk
  // left (done or failed). A task that does not exist goes to `missing`.
  bool take_task_state(RedisClient& r, const std::string& jid, const Chunk& c, const TaskState& t,
                       std::vector<Chunk>& missing) {
    if (!t.exists) {
      missing.push_back(c);
      return false;
    }
    if (t.state == ChunkStatus::kDone) return take_result(r, jid, c, t);
    if (t.state == ChunkStatus::kFailed) {
      leave_remote(c, nullptr, t.error, t.worker, 0);
      return true;
    }
    const bool shown = remote_running_.count(c.index) > 0;
    if (t.state == ChunkStatus::kRunning) {
      if (!shown) progress_->started(c), remote_running_.insert(c.index);
      progress_->advanced(c.index, t.done, t.total);
    } else if (shown) {  // back to pending: a retry or a worker that stopped
      remote_running_.erase(c.index);
      progress_->left(c, ChunkStatus::kPending, "chunk " + std::to_string(c.index) + " queued again" +
                                                    (t.error.empty() ? std::string() : ": " + t.error));
    }
    return false;
  }

  bool take_result(RedisClient& r, const std::string& jid, const Chunk& c, const TaskState& t) {
    auto text = read_task_result(r, jid, c.index);
    if (!text) {
      spdlog::warn("job {}: chunk {}: {}", outcome_.job_id, c.index, text.error().message);
      return false;  // read again next time
    }
    auto parsed = parse_chunk_result(*text);
    if (!parsed) {
      leave_remote(c, nullptr, "worker " + t.worker + ": unreadable result: " + parsed.error().message, t.worker, 0);
      return true;
    }
    const ChunkOutput out{std::move(*text), parsed->samples.size()};
    leave_remote(c, &out, "", t.worker, parsed->stats.elapsed_s, &parsed->stats);
    // In the store now (committed, synchronous): Redis need not hold it until the job ends.
    std::lock_guard lock(mu_);
    if (fatal_.empty()) (void)r.command({"HDEL", task_key(jid, c.index), "result"});
    return true;
  }

  // A remote chunk's outcome committed to the store (failed: for good, the
  // workers tried max_attempts times) and reported.
  void leave_remote(const Chunk& c, const ChunkOutput* out, const std::string& error, const std::string& worker,
                    double secs, const ChunkStats* stats = nullptr) {
    Result<void> committed = out ? store_->complete(outcome_.job_id, c.index, out->text)
                                 : store_->fail_chunk(outcome_.job_id, c.index, error, 0);
    if (!committed) set_fatal(committed.error().message);
    const ChunkStatus state = out ? ChunkStatus::kDone : ChunkStatus::kFailed;
    json run = {{"index", c.index}, {"seconds", round3(secs)}, {"outcome", to_string(state)}, {"worker", worker}};
    if (stats) run["stats"] = stats_json(*stats);
    else run["error"] = error;
    {
      std::lock_guard lock(mu_);
      chunk_runs_.push_back(std::move(run));
    }
    if (!remote_running_.count(c.index)) progress_->started(c);
    remote_running_.erase(c.index);
    const std::string msg = chunk_message(c, state, false, secs, out ? out->samples : 0, error) +
                            (worker.empty() ? std::string() : " (worker " + worker + ")");
    progress_->left(c, state, msg);
  }

  // Stopped or Redis failed: the chunks go back to pending in the store (the
  // tasks stay queued; running the job again takes up their results).
  void release_all(const std::vector<Chunk>& chunks, const std::string& error) {
    if (!error.empty()) set_fatal(error);
    for (const auto& c : chunks) (void)store_->release(outcome_.job_id, c.index);
  }

  void wait_poll() const {
    const auto until = clock_type::now() + options_.poll_every;
    while (clock_type::now() < until && !stopped()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  void set_fatal(const std::string& message) {
    std::lock_guard lock(mu_);
    if (fatal_.empty()) fatal_ = message;
  }

  // Analyses one claimed chunk and commits what came of it.
  void run_chunk(const Chunk& chunk) {
    progress_->started(chunk);
    const auto c0 = clock_type::now();
    auto result = analyze_chunk(*ctx_, chunk, [&](std::size_t done, std::size_t total) {
      progress_->advanced(chunk.index, done, total);
    });
    const double secs = seconds_since(c0);
    const bool cancelled = stopped() || (!result && result.error().code == ErrorCode::kCancelled);
    std::optional<ChunkOutput> out;
    if (result && !cancelled) out = chunk_output(*result);
    const std::string error = result ? std::string() : result.error().message;
    const ChunkStatus state = commit(chunk, cancelled, out ? &*out : nullptr, error);

    json run = {{"index", chunk.index}, {"seconds", round3(secs)}, {"outcome", to_string(state)}};
    if (result) run["stats"] = stats_json(result->stats);  // as stored
    else run["error"] = error;
    {
      std::lock_guard lock(mu_);
      chunk_runs_.push_back(std::move(run));
    }
    const std::string msg = chunk_message(chunk, state, cancelled, secs, out ? out->samples : 0, error);
    if (!cancelled) spdlog::debug("job {}: {}", outcome_.job_id, msg);
    progress_->left(chunk, state, msg);
  }

  // Stores the attempt's outcome; the chunk's state after it.
  ChunkStatus commit(const Chunk& chunk, bool cancelled, const ChunkOutput* out, const std::string& error) {
    Result<void> committed;
    ChunkStatus state = ChunkStatus::kFailed;
    if (cancelled) {
      committed = store_->release(outcome_.job_id, chunk.index);
      state = ChunkStatus::kPending;
    } else if (out) {
      committed = store_->complete(outcome_.job_id, chunk.index, out->text);
      state = ChunkStatus::kDone;
    } else {
      committed = store_->fail_chunk(outcome_.job_id, chunk.index, error, options_.max_attempts);
      auto after = store_->chunks(outcome_.job_id, false);
      if (after && static_cast<std::size_t>(chunk.index) < after->size())
        state = (*after)[static_cast<std::size_t>(chunk.index)].state;
    }
    if (!committed) set_fatal(committed.error().message);
    return state;
  }

  static std::string chunk_message(const Chunk& chunk, ChunkStatus state, bool cancelled, double secs,
                                   std::size_t samples, const std::string& error) {
    char msg[512];
    if (state == ChunkStatus::kDone)
      std::snprintf(msg, sizeof msg, "chunk %d [%.0f-%.0f s] done in %.1f s: %zu samples", chunk.index, chunk.start_s,
                    chunk.end_s, secs, samples);
    else if (state == ChunkStatus::kFailed)
      std::snprintf(msg, sizeof msg, "chunk %d [%.0f-%.0f s] failed: %s", chunk.index, chunk.start_s, chunk.end_s,
                    error.c_str());
    else if (cancelled)
      std::snprintf(msg, sizeof msg, "chunk %d [%.0f-%.0f s] stopped (cancelled)", chunk.index, chunk.start_s,
                    chunk.end_s);
    else
      std::snprintf(msg, sizeof msg, "chunk %d [%.0f-%.0f s] failed, retrying: %s", chunk.index, chunk.start_s,
                    chunk.end_s, error.c_str());
    return msg;
  }

  // ---- finish ----

  Result<AnalyzeOutcome> cancelled() {
    if (auto r = store_->set_job_state(outcome_.job_id, JobStatus::kCancelled); !r) return fail(r.error());
    progress_->ended(JobStatus::kCancelled, "cancelled");
    outcome_.state = JobStatus::kCancelled;
    outcome_.wall_s = progress_->elapsed_s();
    return outcome_;
  }

  Result<AnalyzeOutcome> finish() {
    auto chunks = store_->chunks(outcome_.job_id);
    if (!chunks) return fail(chunks.error());
    auto merged = merge_results(settings_, video_, detector_.info().class_names, *chunks);
    if (!merged) return fail(merged.error());
    if (captioner_) add_caption_summary(*merged);
    if (auto r = write_outputs(options_.out_dir, *merged); !r) return fail(r.error());
    const std::filesystem::path out(options_.out_dir);
    if (auto r = write_file_atomic((out / "report.html").string(), render_report_html(*merged)); !r)
      return fail(r.error());

    const bool any_done = std::any_of(chunks->begin(), chunks->end(),
                                      [](const ChunkState& c) { return c.state == ChunkStatus::kDone; });
    outcome_.state = any_done || chunks->empty() ? JobStatus::kDone : JobStatus::kFailed;
    outcome_.summary = merged->results["summary"];
    outcome_.wall_s = seconds_since(t_start_);
    if (auto r = write_file_atomic((out / "run.json").string(), run_json(*chunks, merged->totals).dump(2) + "\n"); !r)
      return fail(r.error());
    if (auto r = store_->set_job_state(outcome_.job_id, outcome_.state); !r) return fail(r.error());
    progress_->ended(outcome_.state, "finished: " + out.string());
    return outcome_;
  }

  // One last caption over the chunk captions: for a VLM a request with
  // their times, for the template the most frequent ones.
  void add_caption_summary(MergedResults& merged) const {
    std::vector<std::string> texts;
    const bool timed = captioner_->timed_summary();
    for (const auto& c : merged.results["captions"]) {
      if (!c.contains("text")) continue;
      const double t = c.value("pts", 0.0);
      char stamp[32];
      std::snprintf(stamp, sizeof stamp, "[%02d:%02d:%02d] ", static_cast<int>(t / 3600),
                    static_cast<int>(t / 60) % 60, static_cast<int>(t) % 60);
      texts.push_back((timed ? std::string(stamp) : std::string()) + c.value("text", ""));
    }
    auto summary = captioner_->summarize(texts);
    merged.results["caption_summary"] = summary ? json{{"text", summary->text}} : json{{"error", summary.error().message}};
  }

  json run_json(const std::vector<ChunkState>& chunks, const ChunkStats& totals) const {
    json chunk_attempts = json::array();
    for (const auto& c : chunks) {
      chunk_attempts.push_back(
          {{"index", c.chunk.index}, {"state", to_string(c.state)}, {"attempts", c.attempts}, {"error", c.error}});
    }
    const BatchScheduler::Stats ss = scheduler_->stats();
    json versions = ffmpeg_versions();
    versions["onnxruntime"] = onnxruntime_version();
    const double wall = outcome_.wall_s;
    return {{"vigil", VIGIL_VERSION},
            {"versions", versions},
            {"machine", machine_json()},
            {"provider", detector_.backend().provider()},
            {"job_id", outcome_.job_id},
            {"db", db_path_},
            {"state", to_string(outcome_.state)},
            {"resumed", outcome_.resumed},
            {"started", started_},
            {"finished", iso_now()},
            {"wall_s", round3(wall)},
            {"realtime_factor", wall > 0 ? round2(video_.duration_s / wall) : 0.0},
            {"workers", workers_},
            {"batch", batch_},
            {"video", video_.to_json()},
            {"this_run", {{"chunks", chunk_runs_}, {"inference_batches", ss.batches}, {"inference_images", ss.images}}},
            {"chunks", chunk_attempts},
            {"totals_all_runs", totals_json(totals)}};
  }

  const AnalyzeJobOptions& options_;
  const AnalyzeSettings& settings_;
  const Detector& detector_;
  const std::function<void(const JobProgress&)>& on_progress_;
  const std::atomic<bool>* stop_;
  const clock_type::time_point t_start_ = clock_type::now();
  const std::string started_ = iso_now();

  VideoInfo video_;
  std::string db_path_;
  std::unique_ptr<JobStore> store_;
  AnalyzeOutcome outcome_;
  std::optional<ProgressTracker> progress_;
  StageMetrics metrics_;
  std::unique_ptr<BatchScheduler> scheduler_;  // after metrics_: it reports into them
  std::shared_ptr<Captioner> captioner_;
  std::optional<ChunkRunContext> ctx_;
  int workers_ = 1, batch_ = 1;

  std::set<int> remote_running_;  // distributed: chunks shown running (the calling thread only)

  std::mutex mu_;  // guards fatal_ and chunk_runs_ (workers)
  std::string fatal_;
  json chunk_runs_ = json::array();
};

}  // namespace

Result<AnalyzeOutcome> run_analysis(const AnalyzeJobOptions& options, const Detector& detector,
                                    const std::function<void(const JobProgress&)>& on_progress,
                                    const std::atomic<bool>* stop) {
  return JobRun(options, detector, on_progress, stop).run();
}

}  // namespace vigil
