// vigil run [-c FILE] [SOURCE...]: the live engine (or --offline over files).
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "config/engine_config.h"
#include "jobs/analyze_settings.h"
#include "jobs/job_manager.h"
#include "pipeline/engine.h"
#include "server/http_server.h"
#include "server/stats_json.h"
#include "store/event_json.h"

extern char** environ;

namespace vigil::cli {
namespace {

std::atomic<bool> g_interrupted{false};
void on_signal(int) { g_interrupted = true; }

struct RunArgs {
  std::string config;
  std::vector<std::string> sources;
  int every = 0;
  std::string model;
  bool offline = false;
  double duration = 0;
  std::string events;
  std::string db;
  std::string stats;
  std::string listen = "127.0.0.1:8080";
  std::string token;
  std::string media_dir;
  std::string jobs_dir;
  bool no_server = false;
};

constexpr const char* kDemoVideo = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";

// A stream id from a source: the slug of its file stem (stream_id_for_file,
// shared with vigil analyze and the jobs API), made unique.
std::string id_for(const std::string& url, std::set<std::string>& used) {
  const std::string id = stream_id_for_file(url);
  std::string out = id;
  for (int n = 2; used.count(out); ++n) out = id + "-" + std::to_string(n);
  used.insert(out);
  return out;
}

// The demo: vtest.avi as 4 looping streams, each with a zone and a counting line.
std::vector<StreamConfig> demo_streams() {
  std::vector<StreamConfig> out;
  for (int i = 1; i <= 4; ++i) {
    StreamConfig s = default_stream("demo" + std::to_string(i), kDemoVideo);
    s.loop = true;
    s.every = 2;
    s.describe.every_s = 5;  // template captions under each video
    ZoneConfig z;
    z.name = "plaza";
    z.polygon = {{0.25F, 0.45F}, {0.75F, 0.45F}, {0.75F, 0.95F}, {0.25F, 0.95F}};
    z.dwell_s = 5;
    z.classes = {"person"};
    s.zones.push_back(z);
    LineConfig l;
    l.name = "crossing";
    l.a = {0.05F, 0.6F};
    l.b = {0.95F, 0.6F};
    l.classes = {"person"};
    s.lines.push_back(l);
    out.push_back(std::move(s));
  }
  return out;
}

std::map<std::string, std::string> environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const std::string kv = *e;
    const auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

// How the sources of a run ended: 2 when none yielded a frame (every source
// missing or unreadable), 1 when some did not or (offline) stopped on an
// error, 0 otherwise. Each failed source is named on stderr. Live, a source
// still opening (no frame, no error yet: the run was stopped early) is no failure.
int sources_exit_code(const Engine& e, const std::vector<StreamConfig>& streams, bool offline) {
  std::size_t failed = 0, unreadable = 0, considered = 0;
  for (std::size_t i = 0; i < streams.size(); ++i) {
    const auto p = e.stream(streams[i].id);
    if (!p) continue;  // removed through the API
    ++considered;
    const StreamSnapshot snap = p->snapshot();
    const std::string name = "streams[" + std::to_string(i) + "] '" + snap.id + "' (" + snap.url + ")";
    if (snap.frames == 0 && (offline || !snap.last_error.empty())) {
      ++failed;
      ++unreadable;
      std::cerr << "vigil run: " << name << ": no frame could be read"
                << (snap.last_error.empty() ? std::string() : ": " + snap.last_error) << "\n";
    } else if (offline && !snap.last_error.empty()) {
      ++failed;  // offline gives up on the first fatal error
      std::cerr << "vigil run: " << name << ": stopped after " << snap.frames << " frames: " << snap.last_error
                << "\n";
    }
  }
  if (failed == 0) return kExitOk;
  if (unreadable == considered) {
    std::cerr << "vigil run: no source could be read\n";
    return kExitBadInput;
  }
  std::cerr << "vigil run: " << failed << " of " << considered << " sources failed\n";
  return kExitRuntime;
}

int run_engine(const RunArgs& a) {
  EngineConfig cfg;
  if (!a.config.empty()) {
    auto loaded = load_config_file(a.config);
    if (!loaded) {
      std::cerr << "vigil run: " << loaded.error().message << "\n";
      return kExitBadInput;
    }
    cfg = std::move(*loaded);
  }
  std::set<std::string> used;
  for (const auto& s : cfg.streams) used.insert(s.id);
  for (const auto& src : a.sources) cfg.streams.push_back(default_stream(id_for(src, used), src));
  const bool demo = a.config.empty() && a.sources.empty();
  if (demo) {
    cfg.streams = demo_streams();
    spdlog::info("no source given: running the demo (vtest.avi as 4 looping streams with a zone and a line)");
  }
  if (a.every > 0)
    for (auto& s : cfg.streams) s.every = a.every;
  if (a.offline) cfg.offline = true;
  if (!a.events.empty()) cfg.events.jsonl = a.events;
  if (!a.db.empty()) cfg.events.sqlite = a.db;
  if (auto env = apply_env_overrides(cfg, environment()); !env) {
    std::cerr << "vigil run: " << env.error().message << "\n";
    return kExitBadInput;
  }
  if (!a.model.empty()) cfg.model.path = a.model;
  if (const char* d = std::getenv("VIGIL_TEST_INFERENCE_DELAY_MS"); d && *d) cfg.test_inference_delay_ms = std::atoi(d);
  if (cfg.model.path.empty()) cfg.model.path = default_model_path();
  if (cfg.offline)
    for (auto& s : cfg.streams) s.loop = false;  // an offline run ends
  if (auto v = validate_config(cfg); !v) {
    std::cerr << "vigil run: " << v.error().message << "\n";
    return kExitBadInput;
  }
  if (cfg.streams.empty()) {
    std::cerr << "vigil run: the config has no streams\n";
    return kExitBadInput;
  }

  auto engine = Engine::create(cfg);
  if (!engine) {
    std::cerr << "vigil run: " << engine.error().message << "\n";
    return engine.error().code == ErrorCode::kRuntime ? kExitRuntime : kExitBadInput;
  }
  Engine& e = **engine;
  if (demo) {
    e.events().subscribe([](const Event& ev) {
      if (ev.kind == EventKind::kTrackNew || ev.kind == EventKind::kTrackLost) return;  // too many to read
      spdlog::info("event {}", to_json(ev).dump());
    });
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  e.start();
  std::unique_ptr<JobManager> jobs;
  std::unique_ptr<HttpServer> server;
  if (!a.no_server && !cfg.offline) {
    JobManagerOptions jmo;
    jmo.jobs = cfg.jobs;
    if (!a.jobs_dir.empty()) jmo.jobs.dir = a.jobs_dir;
    jmo.model_path = cfg.model.path;
    jmo.device = cfg.model.device;
    jmo.threads = cfg.model.threads;
    jmo.config = cfg;
    jmo.has_config = !a.config.empty();
    if (jmo.has_config) {
      std::ifstream cf(a.config);
      std::stringstream text;
      text << cf.rdbuf();
      jmo.config_text = text.str();
    }
    auto jm = JobManager::create(std::move(jmo));
    if (!jm) {
      std::cerr << "vigil run: " << jm.error().message << "\n";
      e.stop();
      return kExitBadInput;
    }
    jobs = std::move(*jm);
    ServerOptions so;
    so.jobs = jobs.get();
    so.listen = a.listen;
    so.token = a.token;
    if (so.token.empty())
      if (const char* t = std::getenv("VIGIL_TOKEN"); t && *t) so.token = t;
    so.media_dir = a.media_dir;
    so.allowed_hosts = cfg.server.allowed_hosts;
    so.max_connections = cfg.server.max_connections;
    so.max_connections_per_address = cfg.server.max_connections_per_address;
    so.login_free_attempts = cfg.server.login_free_attempts;
    auto started = HttpServer::start(so, e);
    if (!started) {
      std::cerr << "vigil run: --listen " << a.listen << ": " << started.error().message << "\n";
      e.stop();
      return kExitBadInput;
    }
    server = std::move(*started);
    spdlog::info("API on http://{}:{}/ (/api/stats, /api/streams, /metrics)", server->host(), server->port());
  }
  const auto t0 = std::chrono::steady_clock::now();
  while (!g_interrupted) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (a.duration > 0 && std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() >= a.duration)
      break;
    // Offline, or live without a server (nothing else can happen): stop when
    // every stream ended (files that do not loop).
    if ((cfg.offline || a.no_server) && e.all_finished()) break;
  }
  const auto stats = to_json(e.stats());
  if (server) server->stop();
  jobs.reset();  // cancels running jobs: their chunks resume at the next start
  e.stop();
  if (!a.stats.empty()) {
    std::ofstream f(a.stats, std::ios::trunc);
    if (!f) {
      std::cerr << "vigil run: --stats " << a.stats << ": cannot write\n";
      return kExitRuntime;
    }
    f << stats.dump(2) << "\n";
  }
  return sources_exit_code(e, cfg.streams, cfg.offline);
}

}  // namespace

std::function<int()> add_config_doc_command(CLI::App& app) {
  // Hidden: prints the option table of docs/config.md from config_options().
  app.add_subcommand("config-doc", "Print the configuration options as a Markdown table")->group("");
  return [] {
    std::cout << "| option | default | meaning |\n|---|---|---|\n";
    for (const auto& o : config_options())
      std::cout << "| `" << o.path << "` | " << o.default_value << " | " << o.description << " |\n";
    return kExitOk;
  };
}

std::function<int()> add_run_command(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "Run the engine on live streams or files (no source: the demo)");
  cmd->add_option("-c,--config", a->config, "YAML config file (docs/config.md)");
  cmd->add_option("sources", a->sources, "Sources: file paths, rtsp://, http(s)://, webcam:N");
  cmd->add_option("--every", a->every, "Analyse every Nth frame (overrides the config)")->check(CLI::Range(1, 1000));
  cmd->add_option("--model", a->model, "ONNX model (default: the embedded NanoDet-m 416; env MODEL_PATH)");
  cmd->add_flag("--offline", a->offline, "Process files as fast as possible without drops; exit when they end");
  cmd->add_option("--duration", a->duration, "Stop after this many seconds")->check(CLI::Range(0.0, 1e9));
  cmd->add_option("--events", a->events, "Write events as JSON Lines to this file (- = stdout)");
  cmd->add_option("--db", a->db, "Store events in this SQLite database");
  cmd->add_option("--stats", a->stats, "Write the final stats as JSON to this file on exit");
  cmd->add_option("--listen", a->listen, "HTTP API address (host:port; non-loopback needs --token)")->capture_default_str();
  cmd->add_option("--token", a->token, "API token (Authorization: Bearer TOKEN); env VIGIL_TOKEN");
  cmd->add_option("--media-dir", a->media_dir, "Directory whose files the API may open (default: none)");
  cmd->add_option("--jobs-dir", a->jobs_dir, "Offline jobs' database and outputs (default: jobs.dir, vigil-jobs)");
  cmd->add_flag("--no-server", a->no_server, "Do not start the HTTP API");
  return [a]() { return run_engine(*a); };
}

}  // namespace vigil::cli
