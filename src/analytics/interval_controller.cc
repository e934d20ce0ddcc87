#include "analytics/interval_controller.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>

#include "analytics/config_check.h"

namespace vigil {

namespace {

constexpr int kFullActivityTracks = 10;  // activity_score(): this many tracks count as fully busy
constexpr double kIntervalStep = 1.5;    // an interval is raised by x1.5 (at least +1), lowered by /1.5 (at least -1)

int upper_bound_of(const IntervalConfig& c) { return std::max(c.every, c.max_every); }

int raised(int every, int max_every) {
  const int next = std::max(every + 1, static_cast<int>(std::lround(every * kIntervalStep)));
  return std::min(next, max_every);
}

int lowered(int every, int min_every) {
  const int next = std::min(every - 1, static_cast<int>(std::floor(every / kIntervalStep)));
  return std::max(next, min_every);
}

double stream_demand(const StreamLoad& s, int every) {
  return s.fps > 0 && std::isfinite(s.fps) ? s.fps / every : 0.0;
}

}  // namespace

Result<void> IntervalConfig::validate(const std::string& path) const {
  if (every < 1)
    return fail(ErrorCode::kInvalidArgument, path + ".every: must be >= 1 (got " + std::to_string(every) + ")");
  if (max_every < every)
    return fail(ErrorCode::kInvalidArgument, path + ".max_every: must be >= every (" + std::to_string(every) +
                                                 ", got " + std::to_string(max_every) + ")");
  if (!std::isfinite(latency_target_ms) || latency_target_ms <= 0)
    return fail(ErrorCode::kInvalidArgument, path + ".latency_target_ms: must be a number > 0 (got " +
                                                 format_number(latency_target_ms) + ")");
  return {};
}

double activity_score(double motion, int active_tracks) {
  const double m = std::isfinite(motion) ? std::clamp(motion, 0.0, 1.0) : 0.0;
  const int tracks = std::clamp(active_tracks, 0, kFullActivityTracks);
  return m + static_cast<double>(tracks) / kFullActivityTracks;
}

double analysis_demand_fps(const std::vector<StreamLoad>& streams, const std::vector<int>& every) {
  double demand = 0;
  for (std::size_t stream_idx = 0; stream_idx < streams.size() && stream_idx < every.size(); ++stream_idx)
    demand += stream_demand(streams[stream_idx], std::max(1, every[stream_idx]));
  return demand;
}

IntervalController::IntervalController(IntervalTuning tuning) : tuning_(tuning) {}

std::vector<int> IntervalController::step(const std::vector<StreamLoad>& streams, double capacity_fps,
                                          double latency_p95_ms) {
  const std::size_t n = streams.size();
  std::vector<int> every(n);
  double latency_target_ms = 0;
  for (std::size_t stream_idx = 0; stream_idx < n; ++stream_idx) {
    const StreamLoad& s = streams[stream_idx];
    const int configured = std::max(1, s.config.every);
    const int current = s.current_every > 0 ? s.current_every : configured;
    every[stream_idx] = s.config.adaptive ? std::clamp(current, configured, upper_bound_of(s.config)) : configured;
    if (s.config.latency_target_ms > 0 && (latency_target_ms == 0 || s.config.latency_target_ms < latency_target_ms))
      latency_target_ms = s.config.latency_target_ms;
  }
  if (latency_target_ms == 0) latency_target_ms = IntervalConfig{}.latency_target_ms;

  const bool capacity_known = capacity_fps > 0 && std::isfinite(capacity_fps);
  const bool latency_known = latency_p95_ms >= 0 && std::isfinite(latency_p95_ms);
  double demand = analysis_demand_fps(streams, every);
  const bool over_capacity = capacity_known && demand > tuning_.headroom * capacity_fps;
  const bool over_latency = latency_known && latency_p95_ms > latency_target_ms;

  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});

  if (over_capacity || over_latency) {
    // Least active first; among equals, the one asking for most frames.
    std::stable_sort(order.begin(), order.end(), [&](std::size_t l, std::size_t r) {
      if (streams[l].activity != streams[r].activity) return streams[l].activity < streams[r].activity;
      return stream_demand(streams[l], every[l]) > stream_demand(streams[r], every[r]);
    });
    const double budget = tuning_.headroom * capacity_fps;
    bool changed = false;
    for (const std::size_t stream_idx : order) {
      const StreamLoad& s = streams[stream_idx];
      if (!s.config.adaptive || every[stream_idx] >= upper_bound_of(s.config)) continue;
      // Latency alone says "too much" but not how much: one step per call.
      // Over capacity: as many streams as it takes for the projection to fit.
      if (changed && !(over_capacity && demand > budget)) break;
      const int next = raised(every[stream_idx], upper_bound_of(s.config));
      demand += stream_demand(s, next) - stream_demand(s, every[stream_idx]);
      every[stream_idx] = next;
      changed = true;
    }
    if (changed) hold_ = std::max(hold_, tuning_.hold_after_raise);
    return every;
  }

  if (hold_ > 0) {
    --hold_;
    return every;
  }
  const bool room = capacity_known ? demand < tuning_.recover_below * capacity_fps : latency_known;
  const bool fast = latency_known ? latency_p95_ms < tuning_.recover_latency * latency_target_ms : capacity_known;
  if (!room || !fast) return every;

  // Most active first.
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t l, std::size_t r) { return streams[l].activity > streams[r].activity; });
  for (const std::size_t stream_idx : order) {
    const StreamLoad& s = streams[stream_idx];
    const int configured = std::max(1, s.config.every);
    if (!s.config.adaptive || every[stream_idx] <= configured) continue;
    const int next = lowered(every[stream_idx], configured);
    const double projected = demand + stream_demand(s, next) - stream_demand(s, every[stream_idx]);
    if (capacity_known && projected > tuning_.lower_ceiling * capacity_fps) continue;
    every[stream_idx] = next;
    hold_ = tuning_.hold_after_lower;
    break;
  }
  return every;
}

}  // namespace vigil
