// vigil worker --redis URL: analyses chunk tasks of distributed offline jobs
// (`vigil analyze --redis`, the server's jobs with jobs.redis) until stopped.
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cluster/redis_client.h"
#include "config/engine_config.h"
#include "jobs/chunk_worker.h"

namespace vigil::cli {
namespace {

std::atomic<bool> g_stop{false};
void on_stop_signal(int) { g_stop = true; }

struct WorkerArgs {
  std::string redis;
  int workers = 1;
  std::string name;  // empty: <hostname>-<pid>
  double claim_idle_s = 30;
  int batch = 1;
  int threads = 0;
  std::string device;
  std::string config;  // -c: only its secrets are used (describe.api_key)
};

std::string default_worker_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || !host[0]) std::snprintf(host, sizeof host, "worker");
  return std::string(host) + "-" + std::to_string(::getpid());
}

int bad_input(const std::string& message) {
  std::cerr << "vigil worker: " << message << "\n";
  return kExitBadInput;
}

int run_worker(const WorkerArgs& a) {
  auto url = parse_redis_url(a.redis);
  if (!url) return bad_input("--redis: " + url.error().message);
  if (a.workers < 1 || a.workers > 64) return bad_input("--workers: must be from 1 to 64, got " + std::to_string(a.workers));
  if (!std::isfinite(a.claim_idle_s) || a.claim_idle_s < 0.1)
    return bad_input("--claim-idle: must be a number of seconds >= 0.1, got " + std::to_string(a.claim_idle_s));
  if (a.batch < 1) return bad_input("--batch: must be 1 or more, got " + std::to_string(a.batch));
  auto device = resolve_device(a.device, "auto");
  if (!device) return bad_input(device.error().message);
  ChunkWorkerOptions o;
  o.redis.url = *url;
  o.redis.reconnect_for = std::chrono::minutes(10);
  o.name = a.name.empty() ? default_worker_name() : a.name;
  if (o.name.find_first_of(" /\t\n") != std::string::npos)
    return bad_input("--name: '" + o.name + "' must not contain spaces or '/'");
  o.workers = a.workers;
  o.batch = a.batch;
  o.threads = a.threads;
  o.device = *device;
  if (!a.config.empty()) {
    auto cfg = load_config_file(a.config);
    if (!cfg) return bad_input(cfg.error().message);
    o.secrets = {cfg->streams, cfg->defaults};
  }
  o.claim_idle = std::chrono::milliseconds(static_cast<long>(std::lround(a.claim_idle_s * 1000)));
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  auto r = run_chunk_workers(o, g_stop);
  if (!r) {
    std::cerr << "vigil worker: " << r.error().message << "\n";
    return r.error().code == ErrorCode::kInvalidArgument ? kExitBadInput : kExitRuntime;
  }
  return kExitOk;
}

}  // namespace

std::function<int()> add_worker_command(CLI::App& app) {
  auto args = std::make_shared<WorkerArgs>();
  CLI::App* cmd = app.add_subcommand("worker", "Analyse chunks of distributed offline jobs from Redis until stopped");
  cmd->add_option("--redis", args->redis, "Redis URL: redis://[user:password@]host[:port][/db]")->required();
  cmd->add_option("--workers", args->workers, "Chunks analysed at once")->capture_default_str();
  cmd->add_option("--name", args->name, "This worker's name in task states (default: hostname-pid)");
  cmd->add_option("--claim-idle", args->claim_idle_s,
                  "Take over a task whose worker sent no heartbeat for this many seconds")
      ->capture_default_str();
  cmd->add_option("--batch", args->batch, "Images per inference batch")->capture_default_str();
  cmd->add_option("--threads", args->threads, "Inference threads (0 = one per core)")->capture_default_str();
  cmd->add_option("--device", args->device, "Execution provider: auto|cpu|cuda|tensorrt (default: $DEVICE, else auto)");
  cmd->add_option("-c,--config", args->config,
                  "A config whose describe.api_key (of defaults, or of a stream with the video's id) the tasks' "
                  "captioners use when their endpoint is the same (Redis never holds keys)");
  return [args] { return run_worker(*args); };
}

}  // namespace vigil::cli
