// The JSON of EngineStats: the --stats document and the base of /api/stats
// (docs/api.md, "Stats"). JSON at the edge only: the engine, the log report
// and the Prometheus writer read the typed EngineStats.
// Pure: no I/O, no threads.
#pragma once

#include <nlohmann/json.hpp>

#include "pipeline/engine_stats.h"

namespace vigil {

// {"streams": [...], "stages": {name: {avg_ms, p50_ms, p95_ms, p99_ms, max_ms, count}},
//  "analysis_latency", "stage_histograms", "batch_size_avg", "batch_histogram", "inferences",
//  "batches", "queue_size", "scheduler_replaced", "events_published", "captions",
//  "events_store"?, "events_jsonl"?, "bottleneck", "inferences_per_sec", "batches_per_sec",
//  "cpu_percent", "ram_mb", "stage_load_ms_per_s", "gpus"?, "provider", "uptime_s"}
// (? = only when present).
nlohmann::json to_json(const EngineStats& stats);

// One entry of "streams" (also a stream's "status" in /api/streams).
nlohmann::json to_json(const StreamSnapshot& stream);

}  // namespace vigil
