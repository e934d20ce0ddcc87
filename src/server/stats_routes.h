// The figure routes: GET /api/stats (EngineStats' JSON, the dashboard's
// aliases, each stream's video encoder figures and a two-minute history),
// POST /api/stats/reset, GET /metrics (Prometheus text), GET /healthz
// (docs/api.md, "Stats" and "Health"), and Overwatch's GET
// /api/workflow-builder/performance (server/seed_compat.h).
//
// Threads: any, at the same time; sample() from the server's 1 s timer.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

#include "server/api_response.h"
#include "server/stream_engine.h"

namespace vigil {

class VideoRegistry;

// What /healthz says (docs/api.md, "Health"): stopped (the engine is not
// running: 503), down (at least one stream is down and none is up: 503),
// degraded (some streams down, some up: 200), ok (none down: 200, also with
// no streams). A stream is down when it is neither up nor ended.
enum class Health { kOk, kDegraded, kDown, kStopped };
const char* to_string(Health h);
// Pure: the engine's state and its stream counts (up, down) -> the health.
Health health_of(bool running, std::size_t up, std::size_t down);

class StatsRoutes {
 public:
  static constexpr std::size_t kHistorySamples = 120;  // one a second: two minutes

  // engine must outlive the routes.
  explicit StatsRoutes(StreamEngine& engine) : engine_(engine) {}
  // Per-stream encoder figures in /api/stats (streams[].video); null = none.
  void set_video(VideoRegistry* video) { video_ = video; }

  ApiResponse stats();
  ApiResponse reset();
  ApiResponse performance();  // Overwatch's document (overwatch_performance)
  ApiResponse metrics();
  ApiResponse health();  // {"status": to_string(Health), "down": [ids]}
  // Appends one sample of the history (fps sum, inference avg ms, CPU %,
  // RSS MiB, RSS % of memory, the first GPU's utilisation).
  void sample();

 private:
  struct Sample {
    double fps = 0, inference_ms = 0, cpu_percent = 0, ram_mb = 0;
    std::optional<double> ram_percent, gpu_percent;  // nullopt: not known (no GPU)
  };

  StreamEngine& engine_;
  VideoRegistry* video_ = nullptr;
  std::mutex history_mu_;
  std::deque<Sample> history_;  // oldest first, at most kHistorySamples
};

}  // namespace vigil
