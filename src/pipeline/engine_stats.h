// EngineStats: one typed reading of the engine's figures, made by
// Engine::stats() and read by the log report, the HTTP API (/api/stats,
// the stream routes) and the Prometheus writer. JSON exists only at the
// edges: server/stats_json.h turns it into the /api/stats and --stats
// document (docs/api.md, "Stats").
//
// Figures are rounded where the engine makes them (rates, milliseconds,
// percent, MiB and seconds to 0.001 with round3(); caption latencies to
// 0.1 ms with round1(); core/round.h), so the log, /api/stats and /metrics
// show the same numbers.
// A plain value: copy it, read it from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/round.h"
#include "metrics/gpu_stats.h"
#include "metrics/latency_summary.h"
#include "metrics/latency_window.h"
#include "metrics/stage_metrics.h"
#include "notify/notify_stats.h"
#include "pipeline/caption_service.h"
#include "pipeline/stream_pipeline.h"
#include "record/recorder.h"

namespace vigil {

struct StageStats {
  LatencySummary latency;               // over the stage's latency window (last 2048 calls)
  LatencyWindow::Histogram histogram;   // cumulative since start or the last reset (Prometheus)
  double load_ms_per_s = 0;             // ms of stage work per second of wall time, smoothed over ~5 s
};

// The threads the engine chose at start (core/cpu_budget.h; model.threads
// and decode_threads set to 0 take these).
struct CpuBudget {
  int cores = 1;              // usable cores (affinity mask, cgroup quota)
  int workers = 1;            // inference workers
  int inference_threads = 0;  // ONNX Runtime intra-op threads per worker; 0 = its own default
  int decode_threads = 1;     // FFmpeg threads of each stream's decoder (auto) at start
  bool cpu_budget = true;     // false: VIGIL_CPU_BUDGET=off (the defaults before the budget)
};

// Counters of an event sink (SQLite store or JSON Lines file).
struct EventSinkStats {
  std::uint64_t stored = 0;   // SQLite only: events committed
  std::uint64_t dropped = 0;  // queue full
  std::uint64_t errors = 0;   // lost in failed writes
};

// What a stream is doing, as the API tells it (`state` of /api/streams):
// running and up, running and down (opening, reconnecting, no frame for
// watchdog_s), its file ended (no loop), or disabled (`enabled: false`: kept,
// not run, so neither up nor down: /healthz and /metrics leave it out).
enum class StreamRunState { kUp, kDown, kEnded, kDisabled };
const char* to_string(StreamRunState s);
// A running stream's state from its snapshot: kUp, kEnded or kDown.
StreamRunState run_state_of(const StreamSnapshot& s);

struct EngineStats {
  bool running = false;                 // between Engine::start() and stop()
  std::vector<StreamSnapshot> streams;  // in stream id order
  std::array<StageStats, kStageCount> stages{};  // indexed by Stage
  LatencySummary analysis_latency;      // capture -> result applied
  double batch_size_avg = 0;            // images per inference call
  std::map<std::size_t, std::uint64_t> batch_histogram;  // batch size -> calls (sizes that occurred)
  std::uint64_t inferences = 0;         // images inferred
  std::uint64_t batches = 0;            // inference calls
  std::size_t queue_size = 0;           // requests waiting in the scheduler
  std::uint64_t scheduler_replaced = 0; // live: pending requests replaced by a newer frame
  std::uint64_t events_published = 0;
  CaptionServiceStats captions;
  std::optional<EventSinkStats> events_store;  // with events.sqlite
  std::optional<EventSinkStats> events_jsonl;  // with events.jsonl
  std::optional<MqttStats> mqtt;               // with mqtt.url
  std::vector<WebhookStats> webhooks;          // one per webhooks[] entry, in config order
  std::optional<RecorderStats> record;         // when some stream records snapshots or clips
  std::string bottleneck;               // the stage with the largest load; "" when nothing ran
  double inferences_per_sec = 0, batches_per_sec = 0;
  double cpu_percent = 0;               // percent of one core
  double ram_mb = 0;                    // resident set size, MiB
  std::vector<GpuSample> gpus;          // empty without NVML
  std::string provider;                 // execution provider in use
  CpuBudget budget;
  double uptime_s = 0;

  const StageStats& stage(Stage s) const { return stages[static_cast<std::size_t>(s)]; }
  // The stream with this id; null when there is none.
  const StreamSnapshot* find_stream(const std::string& id) const;
  double display_fps_sum() const;       // rounded to 0.001
  std::size_t active_streams() const;   // streams that are up
  // Ids of the streams that are down: not up and not ended (a file that
  // reached its end without loop is finished, not down); in stream id order.
  std::vector<std::string> down_streams() const;
};

// The stages in the order of their names (the order /metrics and the JSON
// objects keyed by stage name list them).
std::array<Stage, kStageCount> stages_by_name();

}  // namespace vigil
