// vigil analyze VIDEO... : offline analysis of long videos in parallel chunks,
// resumable (SQLite job store), with merged results and a report.
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "cluster/redis_client.h"
#include "config/engine_config.h"
#include "jobs/analyze_job.h"
#include "jobs/job_dir_lock.h"
#include "jobs/job_store.h"

namespace vigil::cli {
namespace {

std::atomic<bool> g_stop{false};
void on_stop_signal(int) { g_stop = true; }

struct AnalyzeArgs {
  std::vector<std::string> videos;
  double sample_fps = 1;
  double chunk_s = 300;
  int workers = 0;
  int batch = 1;
  int threads = 0;
  std::string model;
  std::string device;  // empty: $DEVICE, else the config's model.device, else auto
  std::string precision;  // empty: the config's model.precision, else fp32
  std::string classes;
  std::string config;
  std::string out_dir = "vigil-analysis";
  bool resume = false;
  bool captions = false;
  std::string progress = "auto";
  std::string redis;  // distributed: chunks analysed by `vigil worker`s through this Redis
};

std::string duration_text(double s) {
  if (s < 0) return "--";
  const auto t = static_cast<long>(std::lround(s));
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else if (t >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%lds", t);
  return buf;
}

std::string bar(double fraction, int width) {
  const int full = static_cast<int>(std::lround(std::clamp(fraction, 0.0, 1.0) * width));
  return std::string(static_cast<std::size_t>(full), '#') + std::string(static_cast<std::size_t>(width - full), '.');
}

std::string overall_line(const JobProgress& p) {
  char buf[256];
  const double f = p.source_s > 0 ? p.source_done_s / p.source_s : 0;
  std::snprintf(buf, sizeof buf, "%5.1f%%  chunks %d/%d done%s  %.0f/%.0f s  speed %.1fx  ETA %s", f * 100,
                p.chunks_done, p.chunks,
                p.chunks_failed ? (", " + std::to_string(p.chunks_failed) + " failed").c_str() : "", p.source_done_s,
                p.source_s, p.speed, duration_text(p.eta_s).c_str());
  return buf;
}

constexpr int kOverallBarWidth = 30;  // characters of the whole job's bar
constexpr int kChunkBarWidth = 20;    // characters of each running chunk's bar

// Progress on a terminal: an overall bar and one bar per running chunk, redrawn
// in place. Elsewhere: one line per chunk event.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(std::string mode) : mode_(std::move(mode)) {
    if (mode_ == "auto") mode_ = isatty(STDOUT_FILENO) ? "bar" : "lines";
  }
  void operator()(const JobProgress& p) {
    if (mode_ == "none") return;
    if (mode_ == "lines") {
      if (!p.message.empty() && p.message != last_message_) {
        std::printf("%s | %s\n", p.message.c_str(), overall_line(p).c_str());
        std::fflush(stdout);
      }
      last_message_ = p.message;
      return;
    }
    std::string out;
    for (int i = 0; i < drawn_; ++i) out += "\x1b[1A\x1b[2K";
    out += "\r\x1b[2K";
    if (!p.message.empty() && p.message != last_message_) out += p.message + "\n";
    last_message_ = p.message;
    const double f = p.source_s > 0 ? p.source_done_s / p.source_s : 0;
    out += "[" + bar(f, kOverallBarWidth) + "] " + overall_line(p) + "\n";
    drawn_ = 1;
    for (const auto& r : p.running) {
      char buf[160];
      const double cf = r.total ? static_cast<double>(r.done) / static_cast<double>(r.total) : 0;
      std::snprintf(buf, sizeof buf, "  chunk %d [%.0f-%.0f s] [%s] %zu/%zu\n", r.index, r.start_s, r.end_s,
                    bar(cf, kChunkBarWidth).c_str(), r.done, r.total);
      out += buf;
      ++drawn_;
    }
    std::fputs(out.c_str(), stdout);
    std::fflush(stdout);
  }

 private:
  std::string mode_;
  std::string last_message_;
  int drawn_ = 0;
};

// The exit code for a failed step: kExitRuntime for failures at run time
// (when the step can have them), else kExitBadInput; the message on stderr.
int report_failure(const Error& e, bool runtime_possible = true) {
  std::cerr << "vigil analyze: " << e.message << "\n";
  return runtime_possible && e.code == ErrorCode::kRuntime ? kExitRuntime : kExitBadInput;
}

Result<void> bad_input(std::string message) { return fail(ErrorCode::kInvalidArgument, std::move(message)); }

// -c FILE: the config and its text (stored with each job).
struct AnalyzeConfig {
  EngineConfig config;
  std::string text;
  bool given = false;
};

Result<AnalyzeConfig> load_analyze_config(const std::string& path) {
  AnalyzeConfig c;
  if (path.empty()) return c;
  auto loaded = load_config_file(path);
  if (!loaded) return fail(loaded.error());
  c.config = std::move(*loaded);
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  c.text = ss.str();
  c.given = true;
  return c;
}

AnalyzeRequest base_request(const AnalyzeArgs& a) {
  AnalyzeRequest base;
  base.sample_fps = a.sample_fps;
  base.chunk_s = a.chunk_s;
  base.classes = split_list(a.classes);
  base.model = a.model;
  base.captions = a.captions;
  return base;
}

// --resume without a video: the video and options of the job stored in OUT_DIR.
Result<std::string> stored_job_video(const std::string& out_dir, AnalyzeRequest& base) {
  const std::string db = (std::filesystem::path(out_dir) / "job.db").string();
  std::error_code ec;
  if (!std::filesystem::exists(db, ec))
    return fail(ErrorCode::kInvalidArgument, "--resume: no job to resume in " + out_dir + " (no job.db)");
  auto store = JobStore::open(db);
  if (!store) return fail(ErrorCode::kInvalidArgument, "--resume: " + store.error().message);
  auto jobs = (*store)->jobs();
  if (!jobs || jobs->empty()) return fail(ErrorCode::kInvalidArgument, "--resume: " + db + " holds no job");
  const auto opts = nlohmann::json::parse(jobs->back().options_json, nullptr, false);
  if (opts.is_discarded()) return fail(ErrorCode::kInvalidArgument, "--resume: " + db + ": unreadable job options");
  base.sample_fps = opts.value("sample_fps", base.sample_fps);
  base.chunk_s = opts.value("chunk_s", base.chunk_s);
  if (base.model.empty()) base.model = opts.value("model", "");
  base.captions = base.captions || opts.value("captions", false);
  if (base.classes.empty() && opts.contains("classes")) base.classes = opts["classes"].get<std::vector<std::string>>();
  return opts.value("video", "");
}

// Several videos: one sub-folder each, named by stream id, made unique.
std::string output_dir_for(const AnalyzeArgs& a, std::size_t videos, const std::string& stream_id,
                           std::set<std::string>& used) {
  if (videos <= 1) return a.out_dir;
  std::string sub = stream_id;
  for (int n = 2; used.count(sub); ++n) sub = stream_id + "-" + std::to_string(n);
  used.insert(sub);
  return (std::filesystem::path(a.out_dir) / sub).string();
}

// --resume with a video: OUT_DIR must hold a job of it with these options.
Result<void> check_resumable(const std::string& out_dir, const std::string& key, const std::string& video) {
  const std::string db = (std::filesystem::path(out_dir) / "job.db").string();
  bool found = false;
  std::error_code ec;
  if (std::filesystem::exists(db, ec))
    if (auto store = JobStore::open(db))
      if (auto jobs = (*store)->jobs())
        for (const auto& j : *jobs) found = found || j.key == key;
  if (found) return {};
  return bad_input("--resume: no job for " + video + " with these options in " + out_dir +
                   " (run without --resume to start one)");
}

// The summary of one finished job on stdout, its damaged data and failed
// chunks on stderr; true when a chunk failed.
bool report_outcome(const std::string& video, const AnalyzeOutcome& outcome, const std::string& out_dir) {
  const auto& s = outcome.summary;
  std::printf("%s: %s in %.1f s%s -> %s/{results.json,events.jsonl,timeline.csv,report.html,run.json}\n",
              video.c_str(), to_string(outcome.state), outcome.wall_s, outcome.resumed ? " (resumed)" : "",
              out_dir.c_str());
  std::printf("  %d sampled frames, %d/%d chunks", s.value("samples", 0), s.value("chunks_done", 0), s.value("chunks", 0));
  for (const auto& [cls, n] : s["tracks"].items()) std::printf(", %s: %d tracks", cls.c_str(), n.get<int>());
  std::printf("\n");
  // Damaged data costs its frames, not the job: reported, exit code unchanged.
  for (const auto& d : s.value("damaged", nlohmann::json::array()))
    std::fprintf(stderr, "vigil analyze: %s: damaged data: frames between %.3f and %.3f s lost (%d samples): %s\n",
                 video.c_str(), d.value("from", 0.0), d.value("to", 0.0), d.value("samples_lost", 0),
                 d.value("error", "").c_str());
  bool chunk_failed = false;
  for (const auto& f : s["failed"]) {
    std::fprintf(stderr, "vigil analyze: %s: chunk %d [%.1f-%.1f s] failed: %s\n", video.c_str(), f.value("chunk", 0),
                 f.value("start_s", 0.0), f.value("end_s", 0.0), f.value("error", "").c_str());
    chunk_failed = true;
  }
  return chunk_failed;
}

// What all videos of one `vigil analyze` share.
struct AnalyzeRun {
  const AnalyzeArgs& args;
  const AnalyzeConfig& config;
  AnalyzeRequest base;
  std::size_t videos = 0;
  std::set<std::string> used_dirs;
  std::unique_ptr<Detector> detector;  // opened for the first video, reused
  bool chunk_failed = false;           // some video lost a chunk: exit kExitRuntime at the end
};

// settings -> probe -> lock the folder -> (resume check) -> detector -> run -> report.
// kExitOk to go on with the next video, else the exit code to stop with.
int analyze_video(AnalyzeRun& run, const std::string& video) {
  const AnalyzeArgs& a = run.args;
  AnalyzeRequest req = run.base;
  req.video = video;
  auto settings = make_analyze_settings(req, run.config.given ? &run.config.config : nullptr, run.config.text,
                                        default_model_path());
  if (!settings) return report_failure(settings.error(), false);
  // The file that runs is part of the job's key and of run.json.
  auto device = resolve_device(a.device, run.config.given ? run.config.config.model.device : "auto");
  if (!device) return report_failure(device.error(), false);
  auto choice = a.precision.empty()
                    ? choose_model_for(settings->model_path,
                                       run.config.given ? run.config.config.model.precision : ModelConfig{}.precision,
                                       "model.precision", *device)
                    : choose_model_for(settings->model_path, a.precision, "--precision", *device);
  if (!choice) return report_failure(choice.error(), false);
  settings->model_path = choice->path;
  AnalyzeJobOptions jo;
  jo.settings = *settings;
  jo.workers = a.workers;
  jo.batch = a.batch;
  jo.redis_url = a.redis;
  jo.out_dir = output_dir_for(a, run.videos, settings->stream.id, run.used_dirs);
  // A bad video is refused before its output folder is made; then the
  // folder is locked before anything reads or writes its job.db.
  if (auto probed = probe_video(settings->video); !probed) return report_failure(probed.error());
  auto lock = JobDirLock::acquire(jo.out_dir);
  if (!lock) return report_failure(lock.error(), false);
  if (a.resume)
    if (auto r = check_resumable(jo.out_dir, jo.settings.key(), video); !r) return report_failure(r.error(), false);
  if (!run.detector) {
    const EngineConfig& cfg = run.config.config;
    auto det = open_analysis_detector(jo.settings.model_path, *device, a.threads > 0 ? a.threads : cfg.model.threads,
                                      jo.settings.rectangular);
    if (!det) return report_failure(det.error());
    run.detector = std::move(*det);
  }
  ProgressPrinter printer(a.progress);
  auto outcome = run_analysis(jo, *run.detector, std::ref(printer), &g_stop);
  if (!outcome) return report_failure(outcome.error());
  if (outcome->state == JobStatus::kCancelled) {
    std::cerr << "vigil analyze: stopped; run the same command again to resume (job " << outcome->job_id << " in "
              << jo.out_dir << "/job.db)\n";
    return kExitRuntime;
  }
  if (report_outcome(video, *outcome, jo.out_dir)) run.chunk_failed = true;
  return kExitOk;
}

// Arguments -> config -> the videos (or the stored job) -> one job per video.
int run_analyze(const AnalyzeArgs& a) {
  if (a.progress != "auto" && a.progress != "bar" && a.progress != "lines" && a.progress != "none") {
    std::cerr << "vigil analyze: --progress: '" << a.progress << "' is not one of auto, bar, lines, none\n";
    return kExitBadInput;
  }
  if (!a.redis.empty())
    if (auto url = parse_redis_url(a.redis); !url)
      return report_failure(Error{ErrorCode::kInvalidArgument, "--redis: " + url.error().message}, false);
  auto config = load_analyze_config(a.config);
  if (!config) return report_failure(config.error(), false);
  AnalyzeRun run{a, *config, base_request(a), 0, {}, nullptr, false};
  std::vector<std::string> videos = a.videos;
  if (videos.empty()) {
    if (!a.resume) return report_failure(Error{ErrorCode::kInvalidArgument, "no video given (VIDEO... or --resume -o DIR)"});
    auto stored = stored_job_video(a.out_dir, run.base);
    if (!stored) return report_failure(stored.error(), false);
    videos.push_back(*stored);
  }
  run.videos = videos.size();
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  for (const auto& video : videos)
    if (const int rc = analyze_video(run, video); rc != kExitOk) return rc;
  return run.chunk_failed ? kExitRuntime : kExitOk;
}

}  // namespace

std::function<int()> add_analyze_command(CLI::App& app) {
  auto args = std::make_shared<AnalyzeArgs>();
  CLI::App* cmd = app.add_subcommand("analyze", "Analyse video files offline in parallel chunks (resumable)");
  cmd->add_option("videos", args->videos, "Video files");
  cmd->add_option("--sample-fps", args->sample_fps, "Frames analysed per second of video")->capture_default_str();
  cmd->add_option("--chunk", args->chunk_s, "Chunk length in seconds of video")->capture_default_str();
  cmd->add_option("--workers", args->workers, "Chunks analysed at once (0 = one per core)")->capture_default_str();
  cmd->add_option("--batch", args->batch, "Images per inference batch")->capture_default_str();
  cmd->add_option("--threads", args->threads, "Inference threads (0 = one per core)")->capture_default_str();
  cmd->add_option("--model", args->model, "ONNX model (default: the config's, else the embedded NanoDet-m)");
  cmd->add_option("--device", args->device,
                  "Execution provider: auto|cpu|cuda|tensorrt (default: $DEVICE, else the config's, else auto)");
  cmd->add_option("--precision", args->precision, "auto|fp32|int8 (default: the config's model.precision, else fp32)");
  cmd->add_option("--classes", args->classes, "Only these classes, comma-separated (e.g. person,car)");
  cmd->add_option("-c,--config", args->config, "YAML config: model, detection, tracker, zones and lines");
  cmd->add_option("-o,--out", args->out_dir, "Output directory (job.db, results, report)")->capture_default_str();
  cmd->add_flag("--captions", args->captions,
                "Scene captions (the config's describe: settings; template by default) every describe.every_s "
                "seconds, else once per chunk, and a summary");
  cmd->add_option("--redis", args->redis,
                  "Distribute the chunks: queue them in this Redis (redis://host[:port][/db]) for `vigil worker`s");
  cmd->add_flag("--resume", args->resume, "Resume the job stored in the output directory (error if none)");
  cmd->add_option("--progress", args->progress, "auto|bar|lines|none (auto: bar on a terminal)")->capture_default_str();
  return [args] { return run_analyze(*args); };
}

}  // namespace vigil::cli
