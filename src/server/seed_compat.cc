#include "server/seed_compat.h"

#include <algorithm>
#include <cstring>

#include "core/round.h"

namespace vigil {
namespace {

using nlohmann::json;

template <class T>
json or_null(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

}  // namespace

std::optional<double> ram_percent(double ram_mb, double system_memory_mb) {
  if (system_memory_mb <= 0) return std::nullopt;
  return round3(ram_mb / system_memory_mb * 100.0);
}

std::optional<double> gpu_percent(const EngineStats& st) {
  if (st.gpus.empty()) return std::nullopt;
  return st.gpus.front().utilization_percent;
}

json trigo_stats(const EngineStats& st, double system_memory_mb) {
  std::optional<int> skip;
  std::uint64_t detections = 0, frames = 0;
  for (const auto& s : st.streams) {
    skip = skip ? std::min(*skip, s.every) : s.every;
    detections += s.detections;
    frames += s.frames;
  }
  const GpuSample* gpu = st.gpus.empty() ? nullptr : &st.gpus.front();
  json j;
  j["frame_time_ms"] = round3(st.stage(Stage::kDecode).latency.avg + st.stage(Stage::kConvert).latency.avg);
  j["detection_skip"] = or_null(skip);
  j["total_detections"] = detections;
  j["frames_processed"] = frames;
  j["ram_percent"] = or_null(ram_percent(st.ram_mb, system_memory_mb));
  j["gpu_available"] = gpu != nullptr;
  j["gpu_name"] = gpu ? json(gpu->name) : json(nullptr);
  j["gpu_percent"] = or_null(gpu_percent(st));
  j["gpu_temperature"] = gpu ? or_null(gpu->temperature_c) : json(nullptr);
  return j;
}

const char* overwatch_operation(Stage stage) {
  switch (stage) {
    case Stage::kInference: return "model_inference";
    case Stage::kOverlay: return "xray_visualization";
    case Stage::kEncode: return "jpeg_encoding";
    default: return to_string(stage);
  }
}

json overwatch_performance(const EngineStats& st) {
  json ops = json::object();
  json bottlenecks = json::array();
  for (std::size_t i = 0; i < kStageCount; ++i) {
    const auto stage = static_cast<Stage>(i);
    const LatencySummary& l = st.stage(stage).latency;
    if (l.count == 0) continue;
    ops[overwatch_operation(stage)] = {
        {"avg_ms", round3(l.avg)}, {"p95_ms", round3(l.p95)}, {"max_ms", round3(l.max)}, {"count", l.count}};
    if (st.bottleneck == to_string(stage))
      bottlenecks.push_back({{"operation", overwatch_operation(stage)}, {"avg_ms", round3(l.avg)}});
  }
  return {{"current_fps", st.display_fps_sum()}, {"operations", std::move(ops)}, {"bottlenecks", std::move(bottlenecks)}};
}

}  // namespace vigil
