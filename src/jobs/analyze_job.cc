#include "jobs/analyze_job.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>


#include "analytics/analytics_evaluator.h"
#include "describe/captioner.h"
#include "jobs/chunk_analyzer.h"
#include "pipeline/caption_service.h"
#include "jobs/job_store.h"
#include "jobs/report_html.h"
#include "media/video_source.h"
#include "metrics/stage_metrics.h"
#include "pipeline/batch_scheduler.h"

namespace vigil {
namespace {

using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

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
  return {{"cpu", cpu}, {"cores", std::thread::hardware_concurrency()}, {"memory_gib", std::round(mem_kb / 1048576.0 * 10) / 10}};
}


}  // namespace

json JobProgress::to_json() const {
  json running_j = json::array();
  for (const auto& r : running)
    running_j.push_back({{"index", r.index}, {"start_s", r.start_s}, {"end_s", r.end_s}, {"done", r.done}, {"total", r.total}});
  return {{"job_id", job_id},
          {"state", state},
          {"chunks", chunks},
          {"chunks_done", chunks_done},
          {"chunks_failed", chunks_failed},
          {"source_s", source_s},
          {"source_done_s", std::round(source_done_s * 1000) / 1000},
          {"progress", source_s > 0 ? std::min(1.0, source_done_s / source_s) : 0.0},
          {"elapsed_s", std::round(elapsed_s * 1000) / 1000},
          {"speed", std::round(speed * 100) / 100},
          {"eta_s", eta_s < 0 ? json(nullptr) : json(std::round(eta_s * 10) / 10)},
          {"running", running_j},
          {"chunk_states", chunk_states},
          {"message", message}};
}

Result<std::unique_ptr<Detector>> open_analysis_detector(const std::string& model_path, const std::string& device,
                                                         int threads) {
  BackendOptions bo;
  bo.model_path = model_path;
  auto provider = parse_execution_provider(device);
  if (!provider) return fail(ErrorCode::kInvalidArgument, "device: " + provider.error().message);
  bo.provider = *provider;
  bo.intra_threads = threads;
  bo.spin = false;
  return Detector::create(bo);
}

Result<VideoInfo> probe_video(const std::string& path) {
  VideoSourceOptions vo;
  vo.url = path;
  vo.hwaccel = HwAccel::kNone;
  auto src = VideoSource::open(vo);
  if (!src) return fail(src.error());
  if (!((*src)->spec().kind == SourceKind::kFile))
    return fail(ErrorCode::kInvalidArgument, "video " + path + ": offline analysis takes a file");
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

Result<AnalyzeOutcome> run_analysis(const AnalyzeJobOptions& options, const Detector& detector,
                                    const std::function<void(const JobProgress&)>& on_progress,
                                    const std::atomic<bool>* stop) {
  namespace fs = std::filesystem;
  const auto t_start = clock_type::now();
  const std::string started = iso_now();
  const AnalyzeSettings& settings = options.settings;

  if (!settings.stream.classes.empty())
    if (auto m = class_mask_from_names(detector.info(), settings.stream.classes); !m) return fail(m.error());
  if (auto ev = AnalyticsEvaluator::create(settings.stream.id, settings.stream.zones, settings.stream.lines,
                                           detector.info().class_names, "stream");
      !ev)
    return fail(ev.error());
  auto video = probe_video(settings.video);
  if (!video) return fail(video.error());
  auto plan = plan_chunks(video->duration_s, {settings.chunk_s, settings.sample_fps});
  if (!plan) return fail(plan.error());

  std::error_code ec;
  if (fs::exists(options.out_dir, ec) && !fs::is_directory(options.out_dir, ec))
    return fail(ErrorCode::kBadInput, "output directory " + options.out_dir + ": exists and is not a directory");
  fs::create_directories(options.out_dir, ec);
  if (ec) return fail(ErrorCode::kBadInput, "output directory " + options.out_dir + ": " + ec.message());
  const std::string db_path = options.db_path.empty() ? (fs::path(options.out_dir) / "job.db").string() : options.db_path;
  auto store = JobStore::open(db_path);
  if (!store) return fail(store.error());
  JobStore& js = **store;
  json options_json = {{"video", settings.video},     {"sample_fps", settings.sample_fps}, {"chunk_s", settings.chunk_s},
                       {"model", settings.model_path}, {"classes", settings.stream.classes}, {"out_dir", options.out_dir},
                       {"captions", settings.captions}};
  if (options.expected_job_id > 0) {
    auto all = js.jobs();
    if (!all) return fail(all.error());
    bool same = false;
    for (const auto& j : *all) same = same || (j.id == options.expected_job_id && j.key == settings.key());
    if (!same)
      return fail(ErrorCode::kBadInput, "job " + std::to_string(options.expected_job_id) + ": " + settings.video +
                                            " or the model changed since the job was queued; submit it again");
  }
  auto job = js.create_or_resume(settings.key(), settings.video, options_json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), *plan);
  if (!job) return fail(job.error());
  const std::int64_t job_id = *job;
  auto initial = js.chunks(job_id);
  if (!initial) return fail(initial.error());

  AnalyzeOutcome outcome;
  outcome.job_id = job_id;
  outcome.resumed = std::any_of(initial->begin(), initial->end(), [](const ChunkState& c) { return c.state != "pending"; });
  if (auto r = js.set_job_state(job_id, "running"); !r) return fail(r.error());

  // Progress bookkeeping, guarded by mu.
  std::mutex mu;
  JobProgress progress;
  progress.job_id = job_id;
  progress.state = "running";
  progress.chunks = static_cast<int>(plan->size());
  progress.source_s = video->duration_s;
  double done_at_start = 0;
  for (const auto& c : *initial) {
    progress.chunk_states.push_back(c.state == "running" ? "pending" : c.state);
    if (c.state == "done" || c.state == "failed") {
      (c.state == "done" ? progress.chunks_done : progress.chunks_failed)++;
      done_at_start += c.chunk.end_s - c.chunk.start_s;
    }
  }
  progress.source_done_s = done_at_start;
  double finished_s = done_at_start;  // media seconds of chunks finished (done or failed)
  auto last_report = clock_type::now() - std::chrono::seconds(1);
  auto refresh_locked = [&]() {
    double partial = 0;
    for (const auto& r : progress.running)
      if (r.total > 0) partial += (r.end_s - r.start_s) * static_cast<double>(r.done) / static_cast<double>(r.total);
    // A chunk that is retried starts its share again: progress never goes back.
    progress.source_done_s = std::max(progress.source_done_s, std::min(progress.source_s, finished_s + partial));
    progress.elapsed_s = std::chrono::duration<double>(clock_type::now() - t_start).count();
    const double this_run = progress.source_done_s - done_at_start;
    progress.speed = progress.elapsed_s > 0 ? this_run / progress.elapsed_s : 0;
    progress.eta_s = progress.speed > 0 && this_run > 0 ? (progress.source_s - progress.source_done_s) / progress.speed : -1;
  };
  auto report_locked = [&](bool force) {
    if (!on_progress) return;
    const auto now = clock_type::now();
    if (!force && now - last_report < std::chrono::milliseconds(250)) return;
    last_report = now;
    refresh_locked();
    on_progress(progress);
  };

  StageMetrics metrics;
  BatchSchedulerOptions bo;
  bo.max_batch = std::max(1, options.batch);
  bo.wait_ms = 0;
  bo.workers = 1;
  bo.offline = true;
  BatchScheduler scheduler(detector, bo, metrics);
  ChunkRunContext ctx{settings, scheduler, detector.info(), stop};
  std::shared_ptr<Captioner> captioner;
  if (settings.captions) {
    auto c = make_captioner(settings.stream.describe, "describe");
    if (!c) return fail(c.error());
    captioner = std::move(*c);
    ctx.captioner = captioner.get();
  }

  int workers = options.workers > 0 ? options.workers : static_cast<int>(std::thread::hardware_concurrency());
  workers = std::clamp(workers, 1, 8);
  json chunk_runs = json::array();
  std::string fatal;
  auto worker = [&]() {
    for (;;) {
      if (stop && stop->load()) return;
      auto claimed = js.claim_next(job_id);
      if (!claimed) {
        std::lock_guard lock(mu);
        if (fatal.empty()) fatal = claimed.error().message;
        return;
      }
      if (!*claimed) return;
      const Chunk chunk = **claimed;
      {
        std::lock_guard lock(mu);
        progress.running.push_back({chunk.index, chunk.start_s, chunk.end_s, 0, 0});
        progress.chunk_states[static_cast<std::size_t>(chunk.index)] = "running";
        report_locked(false);
      }
      const auto c0 = clock_type::now();
      auto result = analyze_chunk(ctx, chunk, [&](std::size_t done, std::size_t total) {
        std::lock_guard lock(mu);
        for (auto& r : progress.running)
          if (r.index == chunk.index) r.done = done, r.total = total;
        report_locked(false);
      });
      const double secs = std::chrono::duration<double>(clock_type::now() - c0).count();
      const bool cancelled = stop && stop->load();
      Result<void> committed;
      std::string state;
      if (cancelled) {
        committed = js.release(job_id, chunk.index);
        state = "pending";
      } else if (result) {
        committed = js.complete(job_id, chunk.index, to_text(*result));
        state = "done";
      } else {
        committed = js.fail_chunk(job_id, chunk.index, result.error().message, options.max_attempts);
        auto after = js.chunks(job_id);
        state = after && static_cast<std::size_t>(chunk.index) < after->size()
                    ? (*after)[static_cast<std::size_t>(chunk.index)].state
                    : "failed";
      }
      std::lock_guard lock(mu);
      if (!committed && fatal.empty()) fatal = committed.error().message;
      std::erase_if(progress.running, [&](const ChunkProgress& r) { return r.index == chunk.index; });
      progress.chunk_states[static_cast<std::size_t>(chunk.index)] = state;
      json run = {{"index", chunk.index}, {"seconds", std::round(secs * 1000) / 1000}, {"outcome", state}};
      if (result) run["stats"] = json::parse(to_text(*result))["stats"];  // run.json: the stored figures
      else run["error"] = result.error().message;
      chunk_runs.push_back(run);
      char msg[512];
      if (state == "done") {
        finished_s += chunk.end_s - chunk.start_s;
        ++progress.chunks_done;
        std::snprintf(msg, sizeof msg, "chunk %d [%.0f-%.0f s] done in %.1f s: %zu samples", chunk.index, chunk.start_s,
                      chunk.end_s, secs, result->samples.size());
      } else if (state == "failed") {
        finished_s += chunk.end_s - chunk.start_s;
        ++progress.chunks_failed;
        std::snprintf(msg, sizeof msg, "chunk %d [%.0f-%.0f s] failed: %s", chunk.index, chunk.start_s, chunk.end_s,
                      result ? "" : result.error().message.c_str());
      } else if (cancelled) {
        std::snprintf(msg, sizeof msg, "chunk %d [%.0f-%.0f s] stopped (cancelled)", chunk.index, chunk.start_s, chunk.end_s);
      } else {
        std::snprintf(msg, sizeof msg, "chunk %d [%.0f-%.0f s] failed, retrying: %s", chunk.index, chunk.start_s,
                      chunk.end_s, result ? "" : result.error().message.c_str());
      }
      progress.message = msg;
      if (!cancelled) spdlog::debug("job {}: {}", job_id, msg);
      report_locked(true);
      if (!fatal.empty()) return;
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < workers; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();

  if (!fatal.empty()) {
    (void)js.set_job_state(job_id, "failed");
    return fail(ErrorCode::kRuntime, "job " + std::to_string(job_id) + " in " + db_path + ": " + fatal);
  }
  if (stop && stop->load()) {
    if (auto r = js.set_job_state(job_id, "cancelled"); !r) return fail(r.error());
    std::lock_guard lock(mu);
    progress.state = "cancelled";
    progress.message = "cancelled";
    report_locked(true);
    outcome.state = "cancelled";
    outcome.wall_s = progress.elapsed_s;
    return outcome;
  }

  auto chunks = js.chunks(job_id);
  if (!chunks) return fail(chunks.error());
  auto merged = merge_results(settings, *video, detector.info().class_names, *chunks);
  if (!merged) return fail(merged.error());
  if (captioner) {
    // One last caption over the chunk captions: for a VLM a request with
    // their times, for the template the most frequent ones.
    std::vector<std::string> texts;
    const bool timed = captioner->timed_summary();
    for (const auto& c : merged->results["captions"]) {
      if (!c.contains("text")) continue;
      const double t = c.value("pts", 0.0);
      char stamp[32];
      std::snprintf(stamp, sizeof stamp, "[%02d:%02d:%02d] ", static_cast<int>(t / 3600),
                    static_cast<int>(t / 60) % 60, static_cast<int>(t) % 60);
      texts.push_back((timed ? std::string(stamp) : std::string()) + c.value("text", ""));
    }
    auto summary = captioner->summarize(texts);
    merged->results["caption_summary"] =
        summary ? nlohmann::json{{"text", summary->text}} : nlohmann::json{{"error", summary.error().message}};
  }
  if (auto r = write_outputs(options.out_dir, *merged); !r) return fail(r.error());
  const fs::path out(options.out_dir);
  if (auto r = write_file_atomic((out / "report.html").string(), render_report_html(*merged)); !r) return fail(r.error());

  const bool any_done = std::any_of(chunks->begin(), chunks->end(), [](const ChunkState& c) { return c.state == "done"; });
  outcome.state = any_done || chunks->empty() ? "done" : "failed";
  outcome.summary = merged->results["summary"];
  outcome.wall_s = std::chrono::duration<double>(clock_type::now() - t_start).count();

  json totals = {{"frames_decoded", 0}, {"packets_decoded", 0}, {"packets_dropped", 0}, {"seeks", 0},
                 {"damage_errors", 0},  {"packets_skipped", 0},  {"decode_ms", 0.0},      {"convert_ms", 0.0}};
  json chunk_attempts = json::array();
  for (const auto& c : *chunks) {
    chunk_attempts.push_back({{"index", c.chunk.index}, {"state", c.state}, {"attempts", c.attempts}, {"error", c.error}});
    if (c.state != "done") continue;
    const json r = json::parse(c.result, nullptr, false);
    if (r.is_discarded() || !r.contains("stats")) continue;
    for (auto& [k, v] : totals.items()) {
      if (!r["stats"].contains(k)) continue;
      if (v.is_number_integer()) v = v.get<std::int64_t>() + r["stats"][k].get<std::int64_t>();
      else v = v.get<double>() + r["stats"][k].get<double>();
    }
  }
  const BatchScheduler::Stats ss = scheduler.stats();
  json versions = ffmpeg_versions();
  versions["onnxruntime"] = onnxruntime_version();
  json run = {{"vigil", VIGIL_VERSION},
              {"versions", versions},
              {"machine", machine_json()},
              {"provider", detector.backend().provider()},
              {"job_id", job_id},
              {"db", db_path},
              {"state", outcome.state},
              {"resumed", outcome.resumed},
              {"started", started},
              {"finished", iso_now()},
              {"wall_s", std::round(outcome.wall_s * 1000) / 1000},
              {"realtime_factor", outcome.wall_s > 0 ? std::round(video->duration_s / outcome.wall_s * 100) / 100 : 0.0},
              {"workers", workers},
              {"batch", bo.max_batch},
              {"video", video->to_json()},
              {"this_run", {{"chunks", chunk_runs}, {"inference_batches", ss.batches}, {"inference_images", ss.images}}},
              {"chunks", chunk_attempts},
              {"totals_all_runs", totals}};
  if (auto r = write_file_atomic((out / "run.json").string(), run.dump(2) + "\n"); !r) return fail(r.error());
  if (auto r = js.set_job_state(job_id, outcome.state); !r) return fail(r.error());
  {
    std::lock_guard lock(mu);
    progress.state = outcome.state;
    progress.message = "finished: " + out.string();
    report_locked(true);
  }
  return outcome;
}

}  // namespace vigil
