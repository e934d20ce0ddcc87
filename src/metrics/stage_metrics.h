// StageMetrics: latency windows for the pipeline stages, shared by all
// streams (one per engine), plus the rule that names the bottleneck.
// Thread-safe.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "metrics/latency_window.h"

namespace vigil {

enum class Stage {
  kDecode,
  kConvert,
  kGate,
  kPreprocess,
  kInference,
  kPostprocess,
  kTrack,
  kAnalytics,
  kOverlay,
  kEncode,
  kCount,
};
constexpr std::size_t kStageCount = static_cast<std::size_t>(Stage::kCount);

const char* to_string(Stage s);

class StageMetrics {
 public:
  void add(Stage s, double ms) { windows_[static_cast<std::size_t>(s)].add(ms); }
  LatencySummary summary(Stage s) const { return windows_[static_cast<std::size_t>(s)].summary(); }
  const LatencyWindow& window(Stage s) const { return windows_[static_cast<std::size_t>(s)]; }
  void reset();

 private:
  std::array<LatencyWindow, kStageCount> windows_;
};

// The bottleneck is the stage with the largest total busy time per second of
// wall time across the window (avg latency x calls per second), since that is
// the stage whose thread saturates first. inference is weighed per batch
// call; decode per frame. Returns the stage name, or "" when nothing ran.
struct StageLoad {
  Stage stage;
  double busy_ms_per_s;  // avg_ms * calls per second
};
std::string_view name_bottleneck(const std::array<StageLoad, kStageCount>& loads);

}  // namespace vigil
