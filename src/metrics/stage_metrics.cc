#include "metrics/stage_metrics.h"

namespace vigil {

const char* to_string(Stage s) {
  switch (s) {
    case Stage::kDecode: return "decode";
    case Stage::kConvert: return "convert";
    case Stage::kGate: return "gate";
    case Stage::kPreprocess: return "preprocess";
    case Stage::kInference: return "inference";
    case Stage::kPostprocess: return "postprocess";
    case Stage::kTrack: return "track";
    case Stage::kAnalytics: return "analytics";
    case Stage::kOverlay: return "overlay";
    case Stage::kEncode: return "encode";
    case Stage::kCount: break;
  }
  return "?";
}

void StageMetrics::reset() {
  for (auto& w : windows_) w.reset();
}

std::string_view name_bottleneck(const std::array<StageLoad, kStageCount>& loads) {
  const StageLoad* best = nullptr;
  for (const auto& l : loads)
    if (l.busy_ms_per_s > 0 && (!best || l.busy_ms_per_s > best->busy_ms_per_s)) best = &l;
  return best ? to_string(best->stage) : "";
}

}  // namespace vigil
