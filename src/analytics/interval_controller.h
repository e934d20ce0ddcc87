// IntervalController: picks each stream's effective analysis interval
// ("analyse every Nth frame") so that the streams' total demand fits the
// measured inference capacity and the analysis latency stays under target.
//
// Rule (step(), called about once per second by the engine):
//   demand = sum over streams of fps / every_eff  (analysed frames per second)
//   overloaded when demand > headroom (0.9) x capacity, or latency p95 > target:
//     raise every_eff one step (x1.5, at least +1, at most max_every) for the
//     LEAST active adaptive streams first, each stream at most once per call,
//     until the projected demand fits headroom x capacity (when overloaded by
//     latency alone: only the least active stream, one step);
//   recovered when demand < 0.7 x capacity and latency p95 < 0.5 x target
//   (and no raise in the last hold_after_raise calls, no lowering in the last
//   hold_after_lower calls): lower ONE stream one step (/1.5, at least -1,
//   never below its configured every), the MOST active first, and only if
//   the projected demand stays <= 0.8 x capacity.
// Hysteresis comes from the dead band between 0.7 and 0.9 of capacity, the
// projection check (a lowering never re-creates the overload it recovered
// from), and the hold periods (the latency window needs time to reflect a
// change). With constant inputs the intervals reach a fixed point.
//
// capacity_fps must be what the inference stage could complete if it were
// always busy (analysed frames / busy seconds, or 1 / per-frame cost), not
// what it happened to complete: an idle scheduler completes only the demand.
// <= 0: unknown (then only latency drives the controller).
//
// Not thread-safe: called from the engine's control thread. The only state
// kept between calls is the hold counters; the current intervals come in with
// the loads, so streams may be added or removed between calls.
#pragma once

#include <string>
#include <vector>

#include "core/error.h"

namespace vigil {

struct IntervalConfig {
  // Configured analysis interval: analyse every Nth frame (1 = every frame).
  // The controller never goes below it.
  int every = 1;
  // Let the controller raise the interval under overload (false: fixed at `every`).
  bool adaptive = true;
  // Upper bound of the adaptive interval, >= every.
  int max_every = 30;
  // p95 analysis latency (ms, frame capture to results) above which the
  // engine counts as overloaded. The engine has one inference stage, so the
  // controller uses the smallest target among its streams.
  double latency_target_ms = 500;

  // `path` names this section in the config, e.g. "streams[2].interval".
  Result<void> validate(const std::string& path) const;
};

struct StreamLoad {
  double fps = 0;         // source frame rate (frames/s); <= 0: contributes no demand
  double activity = 0;    // activity_score(): larger = busier; decides who is raised/lowered first
  int current_every = 0;  // effective interval now in force (0: the configured every)
  IntervalConfig config;
};

// motion: 1 - SimilarityGate::last_similarity(), in 0..1; active_tracks:
// confirmed tracks on the stream. Returns motion + min(active_tracks, 10) / 10, in 0..2.
double activity_score(double motion, int active_tracks);

// Analysed frames per second that the streams ask for with these intervals ([stream_idx]).
double analysis_demand_fps(const std::vector<StreamLoad>& streams, const std::vector<int>& every);

struct IntervalTuning {
  double headroom = 0.9;          // overloaded above this fraction of capacity
  double recover_below = 0.7;     // lower intervals only below this fraction of capacity...
  double recover_latency = 0.5;   // ...and with p95 latency below this fraction of the target
  double lower_ceiling = 0.8;     // a lowering must keep projected demand <= this fraction of capacity
  int hold_after_raise = 5;       // calls after a raise before any lowering
  int hold_after_lower = 2;       // calls after a lowering before the next one
};

class IntervalController {
 public:
  explicit IntervalController(IntervalTuning tuning = {});

  // Returns the effective interval per stream, in the order of `streams`,
  // each within [config.every, max(config.every, config.max_every)]
  // (exactly config.every when not adaptive).
  std::vector<int> step(const std::vector<StreamLoad>& streams, double capacity_fps, double latency_p95_ms);

 private:
  IntervalTuning tuning_;
  int hold_ = 0;  // calls left before a lowering is allowed
};

}  // namespace vigil
