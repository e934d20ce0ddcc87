// vigil run [-c FILE] [SOURCE...]: the live engine (or --offline over files).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "config/engine_config.h"
#include "config/stream_state.h"
#include "jobs/analyze_settings.h"
#include "jobs/job_manager.h"
#include "node/cluster_node.h"
#include "pipeline/engine.h"
#include "server/http_server.h"
#include "server/stats_json.h"
#include "server/stream_request.h"
#include "store/event_json.h"

extern char** environ;

namespace vigil::cli {
namespace {

std::atomic<bool> g_interrupted{false};
std::atomic<bool> g_reload{false};
void on_signal(int) { g_interrupted = true; }
void on_hangup(int) { g_reload = true; }

struct RunArgs {
  std::string config;
  std::vector<std::string> sources;
  int every = 0;
  int frames = 0;  // --frames: every and describe.every_frames
  std::string model;
  std::string precision;  // empty: the config's model.precision
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
  std::string node;       // --node NAME: a cluster node (cluster.redis)
  std::string advertise;  // --advertise URL: this node's API for the others
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

// The state file of a run with a config (config/stream_state.h): the
// streams as the config and the command line give them (what the state is
// computed against), and whether the file may be written: not when it
// exists and cannot be read, so that nothing stored in it is lost.
struct StateFile {
  std::string path;  // empty: no config, nothing persists
  std::vector<StreamConfig> base;
  ConfigText config_text;  // the config as written: its ${NAME} references stay references in the file
  bool writable = true;
  std::mutex mu;  // one write at a time (API changes come from the HTTP threads)
};

// The process environment, as the config file reads it.
EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
}

std::string file_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream text;
  text << f.rdbuf();
  return text.str();
}

// The state file's streams over `cfg`'s; a file that cannot be read is
// reported (on stderr and the log) and kept, and the config's streams run.
void apply_state_file(StateFile& state, EngineConfig& cfg, const std::string& config_path) {
  state.base = cfg.streams;
  state.config_text = config_text_of(file_text(config_path));
  std::ifstream f(state.path);
  if (!f) return;  // none yet
  std::stringstream text;
  text << f.rdbuf();
  const EnvLookup env = process_env();
  auto parsed = parse_stream_state(text.str(), state.path, &env);
  if (!parsed) {
    state.writable = false;
    spdlog::error("state file {} cannot be read; it is kept as it is, the config's streams run, and changes made "
                  "through the API are not saved until it is fixed or removed:\n{}",
                  state.path, parsed.error().message);
    return;
  }
  cfg.streams = apply_stream_state(cfg.streams, *parsed);
  spdlog::info("state file {}: {} stream(s) added or changed, {} removed through the API", state.path,
               parsed->streams.size(), parsed->removed.size());
}

// Whole or not at all: a temp file beside it (mode 0600: it holds the
// streams' URLs, credentials included), fsync, rename, fsync of the folder.
Result<void> write_file_atomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail(ErrorCode::kRuntime, tmp + ": cannot create: " + std::strerror(errno));
  const bool written = [&] {
    std::size_t done = 0;
    while (done < content.size()) {
      const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return ::fsync(fd) == 0;
  }();
  const int err = errno;
  ::close(fd);
  if (!written) {
    ::unlink(tmp.c_str());
    return fail(ErrorCode::kRuntime, tmp + ": cannot write: " + std::strerror(err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int rerr = errno;
    ::unlink(tmp.c_str());
    return fail(ErrorCode::kRuntime, path + ": cannot replace: " + std::strerror(rerr));
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  if (const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

// After a stream was added, changed or removed: the state file again (one
// atomic write), from the engine's streams now, disabled ones included.
// Runs on the thread that changed the stream.
void save_state_file(StateFile& state, const Engine& e) {
  std::lock_guard lock(state.mu);
  if (state.path.empty() || !state.writable) return;
  std::vector<StreamConfig> current;
  for (auto& c : e.stream_configs())
    if (!c.on_demand) current.push_back(std::move(c));  // gate-check streams are never stored
  const StreamState changed = stream_state_of(state.base, current);
  const EnvLookup env = process_env();
  const std::string text = json_from_node(stream_state_node(changed, state.config_text, &env)).dump(2) + "\n";
  if (auto w = write_file_atomically(state.path, text); !w)
    spdlog::error("state file: {} (the change runs but is not saved)", w.error().message);
}

// --node and cluster.redis go together; --advertise only with them.
Result<void> check_cluster_args(const RunArgs& a, const EngineConfig& cfg) {
  if (a.node.empty()) {
    if (cfg.cluster.enabled())
      return fail(ErrorCode::kInvalidArgument, "cluster.redis is set: name this node with --node NAME");
    if (!a.advertise.empty()) return fail(ErrorCode::kInvalidArgument, "--advertise: only with --node NAME");
    return {};
  }
  if (auto n = check_node_name(a.node); !n) return fail(n.error());
  if (!cfg.cluster.enabled())
    return fail(ErrorCode::kInvalidArgument,
                "--node " + a.node + ": the config (-c FILE) must set cluster.redis (redis://host[:port][/db])");
  if (a.offline || cfg.offline)
    return fail(ErrorCode::kInvalidArgument, "--node: a cluster node runs live streams, not --offline");
  if (!a.advertise.empty() && a.advertise.rfind("http://", 0) != 0 && a.advertise.rfind("https://", 0) != 0)
    return fail(ErrorCode::kInvalidArgument, "--advertise: '" + a.advertise + "' must start with http:// or https://");
  return {};
}

// The config of a run: the file (if any), the sources on the command line
// (or the demo), then flags and environment over it; checked.
// Errors are messages for stderr (exit kExitBadInput).
Result<EngineConfig> run_config(const RunArgs& a, bool demo, StateFile& state) {
  EngineConfig cfg;
  if (!a.config.empty()) {
    auto loaded = load_config_file(a.config);
    if (!loaded) return fail(loaded.error());
    cfg = std::move(*loaded);
  }
  std::set<std::string> used;
  for (const auto& s : cfg.streams) used.insert(s.id);
  for (const auto& src : a.sources) cfg.streams.push_back(default_stream(id_for(src, used), src));
  if (demo) cfg.streams = demo_streams();
  if (auto c = check_cluster_args(a, cfg); !c) return fail(c.error());
  const bool cluster = !a.node.empty();
  if (!a.config.empty() && !cluster) {  // a cluster's streams live in Redis, not in a state file
    state.path = stream_state_path(a.config);
    apply_state_file(state, cfg, a.config);
  }
  if (a.every > 0)
    for (auto& s : cfg.streams) s.every = a.every;
  // AI Director's --frames N: analyse, and caption (unless describe.captioner is off), every N frames.
  if (a.frames > 0)
    for (auto& s : cfg.streams) {
      s.every = a.frames;
      s.describe.every_frames = a.frames;
    }
  if (a.offline) cfg.offline = true;
  if (!a.events.empty()) cfg.events.jsonl = a.events;
  if (!a.db.empty()) cfg.events.sqlite = a.db;
  const auto env_vars = environment();
  if (auto env = apply_env_overrides(cfg, env_vars); !env) return fail(env.error());
  if (const auto d = env_vars.find("DEVICE"); d != env_vars.end())
    if (auto note = device_fallback_note(d->second)) spdlog::warn("{}", *note);
  if (!a.model.empty()) cfg.model.path = a.model;
  if (const char* d = std::getenv("VIGIL_TEST_INFERENCE_DELAY_MS"); d && *d) cfg.test_inference_delay_ms = std::atoi(d);
  if (const char* b = std::getenv("VIGIL_CPU_BUDGET"); b && *b) {
    const std::string v = b;
    if (v != "on" && v != "off") return fail(ErrorCode::kInvalidArgument, "VIGIL_CPU_BUDGET: '" + v + "' is not on or off");
    cfg.cpu_budget = v == "on";
  }
  if (cfg.model.path.empty()) cfg.model.path = default_model_path();
  if (!a.precision.empty()) {
    auto p = parse_model_precision(a.precision);
    if (!p) return fail(p.error().code, "--precision: " + p.error().message);
    cfg.model.precision = *p;
  }
  if (cfg.offline)
    for (auto& s : cfg.streams) s.loop = false;  // an offline run ends
  if (auto v = validate_config(cfg); !v) return fail(v.error());
  if (cfg.streams.empty() && !cluster) return fail(ErrorCode::kInvalidArgument, "the config has no streams");
  auto choice = choose_model_for(cfg.model.path, cfg.model.precision, a.precision.empty() ? "model.precision" : "--precision",
                                 cfg.model.device);
  if (!choice) return fail(choice.error());
  cfg.model.path = choice->path;  // the engine and its jobs load this file
  return cfg;
}

// The demo logs its events, but for the many track births and losses.
void log_demo_events(Engine& e) {
  e.events().subscribe([](const Event& ev) {
    if (ev.kind == EventKind::kTrackNew || ev.kind == EventKind::kTrackLost) return;  // too many to read
    spdlog::info("event {}", to_json(ev).dump());
  });
}

JobManagerOptions job_manager_options(const RunArgs& a, const EngineConfig& cfg) {
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
  return jmo;
}

ServerOptions server_options(const RunArgs& a, const EngineConfig& cfg, JobManager* jobs) {
  ServerOptions so;
  so.jobs = jobs;
  so.listen = a.listen;
  so.token = a.token;
  if (so.token.empty())
    if (const char* t = std::getenv("VIGIL_TOKEN"); t && *t) so.token = t;
  so.media_dir = a.media_dir;
  so.allowed_hosts = cfg.server.allowed_hosts;
  so.max_connections = cfg.server.max_connections;
  so.max_connections_per_address = cfg.server.max_connections_per_address;
  so.login_free_attempts = cfg.server.login_free_attempts;
  so.upload_max_bytes = static_cast<std::uint64_t>(cfg.server.upload_max_mb) * 1024 * 1024;
  return so;
}

// The HTTP API and its job manager, for a live run with a server.
struct ApiServices {
  std::unique_ptr<JobManager> jobs;
  std::unique_ptr<HttpServer> server;
};

Result<ApiServices> start_api(const RunArgs& a, const EngineConfig& cfg, Engine& e, ClusterNode* cluster) {
  ApiServices api;
  auto jm = JobManager::create(job_manager_options(a, cfg));
  if (!jm) return fail(jm.error());
  api.jobs = std::move(*jm);
  ServerOptions so = server_options(a, cfg, api.jobs.get());
  so.cluster = cluster;
  auto started = HttpServer::start(std::move(so), e);
  if (!started) return fail(started.error().code, "--listen " + a.listen + ": " + started.error().message);
  api.server = std::move(*started);
  spdlog::info("API on http://{}:{}/ (/api/stats, /api/streams, /metrics)", api.server->host(), api.server->port());
  return api;
}

// The API URL the other nodes link to: --advertise, cluster.advertise_url,
// else the address the server listens on ("" without a server).
std::string advertise_url(const RunArgs& a, const EngineConfig& cfg, const ApiServices& api) {
  if (!a.advertise.empty()) return a.advertise;
  if (!cfg.cluster.advertise_url.empty()) return cfg.cluster.advertise_url;
  if (!api.server) return "";
  return "http://" + api.server->host() + ":" + std::to_string(api.server->port());
}

std::string joined(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ", ") + id;
  return out;
}

// SIGHUP: the config file again (with the state file, as at start); on an
// error the old streams keep running. Else the streams that differ by id
// (config/stream_state.h plan_reload) are removed, added or replaced; the
// others are not touched. Engine-wide changes are logged, not applied.
void reload_config(const RunArgs& a, EngineConfig& cfg, StateFile& state, Engine& e) {
  spdlog::info("SIGHUP: reloading {}", a.config);
  StateFile next;
  auto loaded = run_config(a, false, next);
  if (!loaded) {
    spdlog::error("SIGHUP: {} has errors; the running streams are kept:\n{}", a.config, loaded.error().message);
    return;
  }
  const ReloadPlan plan = plan_reload(e.stream_configs(), cfg, *loaded);
  {
    std::lock_guard lock(state.mu);
    state.base = next.base;
    state.config_text = std::move(next.config_text);
    state.writable = next.writable;
  }
  auto config_of = [&](const std::string& id) {
    return *std::find_if(loaded->streams.begin(), loaded->streams.end(), [&](const StreamConfig& s) { return s.id == id; });
  };
  auto log_failure = [](const char* what, const std::string& id, const Result<void>& r) {
    if (!r) spdlog::error("SIGHUP: {} stream '{}': {}", what, id, r.error().message);
  };
  for (const auto& id : plan.remove) log_failure("removing", id, e.remove_stream(id));
  for (const auto& id : plan.replace) log_failure("changing", id, e.replace_stream(config_of(id)));
  for (const auto& id : plan.add) log_failure("adding", id, e.add_stream(config_of(id)));
  spdlog::info("SIGHUP: {} stream(s) removed [{}], {} added [{}], {} changed [{}]", plan.remove.size(),
               joined(plan.remove), plan.add.size(), joined(plan.add), plan.replace.size(), joined(plan.replace));
  if (!plan.needs_restart.empty())
    spdlog::warn("SIGHUP: changed options that need a restart (not applied): {}", joined(plan.needs_restart));
  cfg.streams = std::move(loaded->streams);  // the rest runs as it started: compared again at the next reload
}

// Until Ctrl-C, --duration, or (offline, or live without a server: nothing
// else can happen) every stream has ended.
void wait_for_end(const RunArgs& a, EngineConfig& cfg, StateFile& state, Engine& e) {
  constexpr auto kPollInterval = std::chrono::milliseconds(100);
  const auto t0 = std::chrono::steady_clock::now();
  while (!g_interrupted) {
    std::this_thread::sleep_for(kPollInterval);
    if (a.duration > 0 && std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() >= a.duration)
      break;
    if ((cfg.offline || a.no_server) && e.all_finished()) break;
    if (g_reload.exchange(false) && !a.config.empty()) {
      if (a.node.empty()) reload_config(a, cfg, state, e);
      else spdlog::warn("SIGHUP: not applied on a cluster node: change the cluster's streams through the API");
    }
  }
}

int write_stats_file(const std::string& path, const nlohmann::json& stats) {
  std::ofstream f(path, std::ios::trunc);
  if (!f) {
    std::cerr << "vigil run: --stats " << path << ": cannot write\n";
    return kExitRuntime;
  }
  f << stats.dump(2) << "\n";
  return kExitOk;
}

// config -> engine -> API (live) -> wait -> stop -> stats file -> exit code.
int run_engine(const RunArgs& a) {
  const bool demo = a.config.empty() && a.sources.empty() && a.node.empty();
  StateFile state;
  auto cfg = run_config(a, demo, state);
  if (!cfg) {
    std::cerr << "vigil run: " << cfg.error().message << "\n";
    return kExitBadInput;
  }
  if (demo) spdlog::info("no source given: running the demo (vtest.avi as 4 looping streams with a zone and a line)");
  // A cluster node starts with no stream: its config's streams go to the
  // cluster, and the node runs those it claims.
  std::vector<StreamConfig> cluster_streams;
  LocalSecrets secrets;  // the api_keys of this config, for the streams this node runs from Redis
  if (!a.node.empty()) {
    secrets = {cfg->streams, cfg->defaults};
    for (auto& s : std::exchange(cfg->streams, {}))
      if (s.enabled) cluster_streams.push_back(std::move(s));  // a disabled config stream is not shared
  }
  auto engine = Engine::create(*cfg);
  if (!engine) {
    std::cerr << "vigil run: " << engine.error().message << "\n";
    return engine.error().code == ErrorCode::kRuntime ? kExitRuntime : kExitBadInput;
  }
  Engine& e = **engine;
  if (demo) log_demo_events(e);
  std::unique_ptr<ClusterNode> cluster;
  if (!a.node.empty()) {
    auto created = ClusterNode::create(ClusterNodeOptions{cfg->cluster, a.node, "", std::move(secrets)}, e);
    if (!created) {
      std::cerr << "vigil run: " << created.error().message << "\n";
      return kExitBadInput;
    }
    cluster = std::move(*created);
  }
  const int state_observer =
      e.add_stream_observer([&state, &e](Engine::StreamChange, const std::string&) { save_state_file(state, e); });
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGHUP, on_hangup);
  e.start();
  ApiServices api;
  if (!a.no_server && !cfg->offline) {
    auto started = start_api(a, *cfg, e, cluster.get());
    if (!started) {
      std::cerr << "vigil run: " << started.error().message << "\n";
      e.stop();
      return kExitBadInput;
    }
    api = std::move(*started);
  }
  if (cluster) {
    if (auto started = cluster->start(cluster_streams, advertise_url(a, *cfg, api)); !started) {
      std::cerr << "vigil run: " << started.error().message << "\n";
      if (api.server) api.server->stop();
      e.stop();
      return kExitRuntime;
    }
  }
  wait_for_end(a, *cfg, state, e);
  const auto stats = to_json(e.stats());
  if (api.server) api.server->stop();
  api.jobs.reset();  // cancels running jobs: their chunks resume at the next start
  if (cluster) cluster->stop();  // its streams stop and their leases go to the others
  e.remove_stream_observer(state_observer);
  e.stop();
  if (!a.stats.empty())
    if (int rc = write_stats_file(a.stats, stats); rc != kExitOk) return rc;
  return sources_exit_code(e, cfg->streams, cfg->offline);
}

}  // namespace

namespace {

// Rewrites the options table of a docs page (docs/config.md) in place.
int update_config_doc(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "vigil config-doc: " << path << ": cannot open\n";
    return kExitBadInput;
  }
  std::stringstream page;
  page << in.rdbuf();
  auto updated = with_config_doc(page.str());
  if (!updated) {
    std::cerr << "vigil config-doc: " << path << ": " << updated.error().message << "\n";
    return kExitBadInput;
  }
  in.close();
  std::ofstream(path) << *updated;
  return kExitOk;
}

}  // namespace

std::function<int()> add_config_doc_command(CLI::App& app) {
  // Hidden: the options table of docs/config.md, from the config field tables.
  CLI::App* cmd = app.add_subcommand("config-doc", "Print the configuration options as a Markdown table")->group("");
  auto update = std::make_shared<std::string>();
  cmd->add_option("--update", *update, "Rewrite the options table of this page (docs/config.md) instead");
  return [update] {
    if (!update->empty()) return update_config_doc(*update);
    std::cout << config_doc_markdown();
    return kExitOk;
  };
}

std::function<int()> add_run_command(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "Run the engine on live streams or files (no source: the demo)");
  cmd->add_option("-c,--config", a->config, "YAML config file (docs/config.md)");
  cmd->add_option("sources", a->sources, "Sources: file paths, rtsp://, http(s)://, webcam:N");
  cmd->add_option("--every", a->every, "Analyse every Nth frame (overrides the config)")->check(CLI::Range(1, 1000));
  cmd->add_option("--frames", a->frames,
                  "Analyse and caption every Nth frame: sets every and describe.every_frames (AI Director's knob)")
      ->check(CLI::Range(1, 1000))
      ->excludes("--every");
  cmd->add_option("--model", a->model, "ONNX model (default: the embedded NanoDet-m 416; env MODEL_PATH)");
  cmd->add_option("--precision", a->precision, "auto|fp32|int8 (overrides model.precision)");
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
  cmd->add_option("--node", a->node, "Run as this node of the cluster of cluster.redis (streams leased through Redis)");
  cmd->add_option("--advertise", a->advertise, "This node's API URL for the other nodes (default: from --listen)");
  return [a]() { return run_engine(*a); };
}

}  // namespace vigil::cli
