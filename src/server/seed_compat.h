// The documents of the five systems Vigil replaces (docs/api.md,
// "Compatibility with ..."), mapped from our own figures: no figure is made
// up; a key we cannot measure is null.
// Pure: no I/O, no threads.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "pipeline/engine_stats.h"

namespace vigil {

// Trigo's /api/stats keys (added beside ours): frame_time_ms (decode +
// convert averages: the capture's work per frame), detection_skip (the
// smallest `every` of the streams; null without streams),
// total_detections, frames_processed, ram_percent (RSS of physical
// memory; null when unknown), gpu_available, gpu_name, gpu_percent,
// gpu_temperature (the first GPU; null without one).
nlohmann::json trigo_stats(const EngineStats& stats, double system_memory_mb);

// RSS as percent of the machine's memory (0.001); nullopt when the memory is unknown.
std::optional<double> ram_percent(double ram_mb, double system_memory_mb);
// The first GPU's utilisation; nullopt without one.
std::optional<double> gpu_percent(const EngineStats& stats);

// Overwatch's GET /api/workflow-builder/performance:
// {"current_fps", "operations": {name: {avg_ms, p95_ms, max_ms, count}},
//  "bottlenecks": [{operation, avg_ms}]}. Operations are our stages that
// ran since the start or the last reset, under Overwatch's names where it
// has one (inference: model_inference, overlay: xray_visualization,
// encode: jpeg_encoding), else ours; bottlenecks: the stage with the
// largest load (EngineStats::bottleneck), none when nothing ran.
nlohmann::json overwatch_performance(const EngineStats& stats);
// Overwatch's name of a stage (see above); ours when it has none.
const char* overwatch_operation(Stage stage);

}  // namespace vigil
