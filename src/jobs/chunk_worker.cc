#include "jobs/chunk_worker.h"

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "describe/captioner.h"
#include "jobs/analyze_job.h"
#include "jobs/chunk_analyzer.h"
#include "jobs/chunk_result.h"
#include "jobs/chunk_tasks.h"
#include "metrics/stage_metrics.h"
#include "pipeline/batch_scheduler.h"
#include "pipeline/caption_service.h"

namespace vigil {
namespace {

using clock_type = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kMinClaimIdle{100};
constexpr std::chrono::milliseconds kMaxHeartbeatEvery{1000};
constexpr std::chrono::milliseconds kRetryAfterRedisError{500};

// One model on this worker: its detector and the offline scheduler the chunk
// threads share (as the local job's workers share theirs).
struct ModelRunner {
  std::unique_ptr<Detector> detector;
  StageMetrics metrics;
  std::unique_ptr<BatchScheduler> scheduler;  // after metrics_: it reports into them
};

// A job as this worker runs it: the spec, its model and its captioner.
struct PreparedJob {
  JobSpec spec;
  std::shared_ptr<ModelRunner> model;
  std::shared_ptr<Captioner> captioner;
};

// What the chunk threads share: prepared jobs and models, by key.
class WorkerState {
 public:
  explicit WorkerState(const ChunkWorkerOptions& options) : options_(options) {}

  // The job `jid`, read from Redis and checked the first time.
  Result<std::shared_ptr<const PreparedJob>> job(RedisClient& redis, const std::string& jid) {
    {
      std::lock_guard lock(mu_);
      if (auto it = jobs_.find(jid); it != jobs_.end()) return it->second;
    }
    auto text = redis.call({"GET", job_spec_key(jid)});
    if (!text) return fail(text.error());
    if (text->is_nil()) return fail(ErrorCode::kNotFound, "job " + jid + ": no job spec in Redis (the job was dropped)");
    auto spec = parse_job_spec(text->str);
    if (!spec) return fail(spec.error());
    auto prepared = std::make_shared<PreparedJob>();
    prepared->spec = std::move(*spec);
    if (auto r = check_here(prepared->spec); !r) return fail(r.error());
    auto model = model_for(prepared->spec.settings);
    if (!model) return fail(model.error());
    prepared->model = *model;
    if (prepared->spec.settings.captions) {
      fill_local_api_key(prepared->spec.settings.stream, options_.secrets);  // the spec carries no key
      auto c = make_captioner(prepared->spec.settings.stream.describe, "describe");
      if (!c) return fail(c.error());
      prepared->captioner = std::move(*c);
    }
    std::lock_guard lock(mu_);
    return jobs_.emplace(jid, std::move(prepared)).first->second;
  }

 private:
  // The files of the job must be here, and the same as the coordinator's.
  Result<void> check_here(const JobSpec& spec) const {
    namespace fs = std::filesystem;
    const AnalyzeSettings& s = spec.settings;
    std::error_code ec;
    // A URL is opened with the chunk: an error there fails the task naming it.
    if (spec.video_access == VideoAccess::kPath && !fs::is_regular_file(s.video, ec))
      return fail(ErrorCode::kNotFound, "video " + s.video + ": no such file on this worker (workers need the path on shared storage)");
    if (!fs::is_regular_file(s.model_path, ec))
      return fail(ErrorCode::kNotFound, "model " + s.model_path + ": no such file on this worker");
    if (s.key() != spec.key)
      return fail(ErrorCode::kBadInput, "video " + s.video + " or model " + s.model_path +
                                            ": not the same file as the coordinator's (size or modification time differ)");
    if (spec.video_access != video_access_for(s.video))
      return fail(ErrorCode::kBadInput, "job spec: video_access '" + std::string(to_string(spec.video_access)) +
                                            "' does not fit video " + s.video);
    return {};
  }

  Result<std::shared_ptr<ModelRunner>> model_for(const AnalyzeSettings& s) {
    const std::string key = s.model_path + (s.rectangular ? "#rect" : "#square");
    std::lock_guard lock(mu_);
    if (auto it = models_.find(key); it != models_.end()) return it->second;
    auto det = open_analysis_detector(s.model_path, options_.device, options_.threads, s.rectangular);
    if (!det) return fail(det.error());
    auto m = std::make_shared<ModelRunner>();
    m->detector = std::move(*det);
    BatchSchedulerOptions bo;
    bo.max_batch = std::max(1, options_.batch);
    bo.wait_ms = 0;
    bo.workers = 1;
    bo.offline = true;
    m->scheduler = std::make_unique<BatchScheduler>(*m->detector, bo, m->metrics);
    return models_.emplace(key, std::move(m)).first->second;
  }

  const ChunkWorkerOptions& options_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const PreparedJob>> jobs_;
  std::map<std::string, std::shared_ptr<ModelRunner>> models_;
};

// The first entry of an XAUTOCLAIM / XREADGROUP entry list, if any.
std::optional<TaskDelivery> first_entry(const RedisReply& entries) {
  if (!entries.is_array()) return std::nullopt;
  for (const auto& e : entries.elements) {
    if (!e.is_array() || e.elements.size() < 2 || !e.elements[1].is_array()) continue;
    const auto& fields = e.elements[1].elements;
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2)
      if (fields[i].str == "task") return TaskDelivery{e.elements[0].str, fields[i + 1].str};
  }
  return std::nullopt;
}

// Heartbeats of one running chunk on its own thread and connection.
class Heartbeat {
 public:
  Heartbeat(RedisClient& redis, const TaskDelivery& d, std::string consumer, std::chrono::milliseconds every,
            const std::atomic<bool>& stop)
      : redis_(redis), d_(d), consumer_(std::move(consumer)), every_(every), global_stop_(stop) {
    thread_ = std::thread([this] { loop(); });
  }
  ~Heartbeat() {
    {
      std::lock_guard lock(mu_);
      ended_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

  void progress(std::size_t done, std::size_t total) {
    done_ = done;
    total_ = total;
  }
  // Set when the chunk must stop: the worker stops, or the task was taken over.
  const std::atomic<bool>& chunk_stop() const { return chunk_stop_; }
  bool lost() const { return lost_; }

 private:
  void loop() {
    std::unique_lock lock(mu_);
    while (!ended_) {
      const auto next = clock_type::now() + every_;
      while (!ended_ && clock_type::now() < next) {
        if (global_stop_) chunk_stop_ = true;
        cv_.wait_for(lock, std::chrono::milliseconds(50));
      }
      if (ended_) return;
      lock.unlock();
      auto alive = heartbeat_task(redis_, d_, consumer_, done_, total_);
      lock.lock();
      if (alive && !*alive) {
        lost_ = true;
        chunk_stop_ = true;
      } else if (!alive) {
        spdlog::warn("worker {}: heartbeat of {}: {}", consumer_, d_.task, alive.error().message);
      }
    }
  }

  RedisClient& redis_;
  const TaskDelivery d_;
  const std::string consumer_;
  const std::chrono::milliseconds every_;
  const std::atomic<bool>& global_stop_;
  std::atomic<std::size_t> done_{0}, total_{0};
  std::atomic<bool> chunk_stop_{false}, lost_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool ended_ = false;
  std::thread thread_;
};

// One chunk thread: a consumer of the group.
class ChunkThread {
 public:
  ChunkThread(const ChunkWorkerOptions& options, WorkerState& state, int index, const std::atomic<bool>& stop)
      : options_(options), state_(state), consumer_(options.name + "/" + std::to_string(index)), stop_(stop) {}

  Result<void> connect() {
    RedisClientOptions ro = options_.redis;
    ro.stop = &stop_;
    ro.command_timeout = std::max(ro.command_timeout, options_.block + std::chrono::seconds(5));
    auto main = RedisClient::connect(ro);
    if (!main) return fail(main.error());
    auto hb = RedisClient::connect(ro);
    if (!hb) return fail(hb.error());
    redis_ = std::move(*main);
    heartbeat_redis_ = std::move(*hb);
    return {};
  }

  void run() {
    while (!stop_) {
      auto d = next_delivery();
      if (!d) {
        if (stop_) return;
        spdlog::warn("worker {}: {}", consumer_, d.error().message);
        if (d.error().message.find("NOGROUP") != std::string::npos) (void)ensure_worker_group(*redis_);
        std::this_thread::sleep_for(kRetryAfterRedisError);
        continue;
      }
      if (*d) handle(**d);
    }
  }

 private:
  // A task idle past claim_idle (its worker died), else a new one; nullopt after BLOCK ms without any.
  Result<std::optional<TaskDelivery>> next_delivery() {
    auto claimed = redis_->call({"XAUTOCLAIM", kChunkStream, kWorkerGroup, consumer_,
                                 std::to_string(options_.claim_idle.count()), cursor_, "COUNT", "1"});
    if (!claimed) return fail(claimed.error());
    if (claimed->is_array() && claimed->elements.size() >= 2) {
      cursor_ = claimed->elements[0].str.empty() ? "0-0" : claimed->elements[0].str;
      if (auto d = first_entry(claimed->elements[1])) {
        spdlog::info("worker {}: took over {} (idle for more than {} ms)", consumer_, d->task,
                     options_.claim_idle.count());
        return std::optional<TaskDelivery>(*d);
      }
    }
    auto read = redis_->call({"XREADGROUP", "GROUP", kWorkerGroup, consumer_, "COUNT", "1", "BLOCK",
                              std::to_string(options_.block.count()), "STREAMS", kChunkStream, ">"});
    if (!read) return fail(read.error());
    if (!read->is_array() || read->elements.empty()) return std::optional<TaskDelivery>{};
    const RedisReply& stream = read->elements[0];
    if (!stream.is_array() || stream.elements.size() < 2) return std::optional<TaskDelivery>{};
    return first_entry(stream.elements[1]);
  }

  std::chrono::milliseconds heartbeat_every() const {
    return std::clamp(options_.claim_idle / 3, std::chrono::milliseconds(20), kMaxHeartbeatEvery);
  }

  void handle(const TaskDelivery& d) {
    auto started = start_task(*redis_, d, options_.name);
    if (!started) return spdlog::warn("worker {}: {}: {}", consumer_, d.task, started.error().message);
    if (!*started) return;  // done or failed already: a duplicate delivery
    const Chunk chunk = **started;
    const auto parsed = parse_task_key(d.task);
    auto job = parsed ? state_.job(*redis_, parsed->first)
                      : Result<std::shared_ptr<const PreparedJob>>(
                            fail(ErrorCode::kBadInput, "task key " + d.task + ": not vigil:task:<job>:<chunk>"));
    if (!job) return give_up(d, "worker " + options_.name + ": " + job.error().message, 2);
    const PreparedJob& pj = **job;
    spdlog::info("worker {}: chunk {} [{:.0f}-{:.0f} s] of {}", consumer_, chunk.index, chunk.start_s, chunk.end_s,
                 pj.spec.settings.video);
    const auto t0 = clock_type::now();
    Result<ChunkResult> result = fail(ErrorCode::kRuntime, "not run");
    bool lost = false;
    {
      Heartbeat hb(*heartbeat_redis_, d, consumer_, heartbeat_every(), stop_);
      ChunkRunContext ctx{pj.spec.settings, *pj.model->scheduler, pj.model->detector->info(), &hb.chunk_stop()};
      ctx.captioner = pj.captioner.get();
      result = analyze_chunk(ctx, chunk, [&](std::size_t done, std::size_t total) { hb.progress(done, total); });
      lost = hb.lost();
    }
    const double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
    if (lost) return spdlog::warn("worker {}: chunk {}: taken over by another worker; dropped", consumer_, chunk.index);
    if (stop_) {
      (void)fail_task(*redis_, d, "stopped", pj.spec.max_attempts, false);
      return;
    }
    if (!result)
      return give_up(d, "worker " + options_.name + ": " + result.error().message, pj.spec.max_attempts);
    if (auto r = complete_task(*redis_, d, to_text(*result), secs); !r)
      return spdlog::warn("worker {}: chunk {}: {}", consumer_, chunk.index, r.error().message);
    spdlog::info("worker {}: chunk {} done in {:.1f} s: {} samples", consumer_, chunk.index, secs,
                 result->samples.size());
  }

  void give_up(const TaskDelivery& d, const std::string& error, int max_attempts) {
    spdlog::warn("{}: {}", d.task, error);
    if (auto r = fail_task(*redis_, d, error, max_attempts); !r)
      spdlog::warn("worker {}: {}: {}", consumer_, d.task, r.error().message);
  }

  const ChunkWorkerOptions& options_;
  WorkerState& state_;
  const std::string consumer_;
  const std::atomic<bool>& stop_;
  std::unique_ptr<RedisClient> redis_, heartbeat_redis_;
  std::string cursor_ = "0-0";
};

}  // namespace

Result<void> run_chunk_workers(const ChunkWorkerOptions& options, const std::atomic<bool>& stop) {
  if (options.workers < 1) return fail(ErrorCode::kInvalidArgument, "--workers: must be 1 or more");
  if (options.claim_idle < kMinClaimIdle)
    return fail(ErrorCode::kInvalidArgument, "--claim-idle: must be at least 0.1 s");
  if (options.name.empty()) return fail(ErrorCode::kInvalidArgument, "--name: must not be empty");
  {
    auto redis = RedisClient::connect(options.redis);
    if (!redis) return fail(redis.error());
    if (auto r = ensure_worker_group(**redis); !r) return r;
  }
  WorkerState state(options);
  std::vector<std::unique_ptr<ChunkThread>> chunk_threads;
  for (int i = 1; i <= options.workers; ++i) {
    auto t = std::make_unique<ChunkThread>(options, state, i, stop);
    if (auto r = t->connect(); !r) return r;
    chunk_threads.push_back(std::move(t));
  }
  spdlog::info("worker {}: {} chunk threads on {} (group {}, stream {}, claim idle {} ms)", options.name,
               options.workers, options.redis.url.redacted(), kWorkerGroup, kChunkStream, options.claim_idle.count());
  std::vector<std::thread> threads;
  for (auto& t : chunk_threads) threads.emplace_back([&t] { t->run(); });
  for (auto& t : threads) t.join();
  return {};
}

}  // namespace vigil
