#include "analytics/interval_controller.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vigil {
namespace {

StreamLoad load(double fps, double activity, int configured = 1, int max_every = 30, bool adaptive = true) {
  StreamLoad s;
  s.fps = fps;
  s.activity = activity;
  s.config.every = configured;
  s.config.max_every = max_every;
  s.config.adaptive = adaptive;
  return s;
}

// Runs the controller `calls` times with constant inputs, feeding each
// result back as the current intervals (as the engine does).
std::vector<int> run(IntervalController& c, std::vector<StreamLoad>& streams, double capacity, double latency,
                     int calls, std::vector<std::vector<int>>* history = nullptr) {
  std::vector<int> every;
  for (int i = 0; i < calls; ++i) {
    every = c.step(streams, capacity, latency);
    for (std::size_t k = 0; k < streams.size(); ++k) streams[k].current_every = every[k];
    if (history) history->push_back(every);
  }
  return every;
}

TEST(IntervalController, NoChangeWhenThereIsRoomAtTheConfiguredInterval) {
  IntervalController c;
  std::vector<StreamLoad> s = {load(25, 0.5), load(25, 0.1, 2)};
  EXPECT_EQ(c.step(s, 100, 100), (std::vector<int>{1, 2}));
}

TEST(IntervalController, OverloadRaisesTheLeastActiveStreamFirst) {
  IntervalController c;
  std::vector<StreamLoad> s = {load(25, 0.9), load(25, 0.1), load(25, 0.5)};
  // demand 75 > 0.9 x 70 = 63: one step of the quietest stream (to 2: 62.5) is enough.
  EXPECT_EQ(c.step(s, 70, 100), (std::vector<int>{1, 2, 1}));
  // Twice as much overload: the quietest first, then the next quietest.
  EXPECT_EQ(c.step(s, 60, 100), (std::vector<int>{1, 2, 2}));
}

TEST(IntervalController, LatencyOverTargetRaisesOneStepOfTheLeastActive) {
  IntervalController c;
  std::vector<StreamLoad> s = {load(25, 0.9), load(25, 0.1), load(25, 0.5)};
  EXPECT_EQ(c.step(s, 1000, 800), (std::vector<int>{1, 2, 1}));
  s[1].current_every = 2;
  EXPECT_EQ(c.step(s, 1000, 800), (std::vector<int>{1, 3, 1}));
  // Capacity unknown: latency alone still works.
  s[1].current_every = 3;
  EXPECT_EQ(c.step(s, 0, 800), (std::vector<int>{1, 5, 1}));
}

TEST(IntervalController, SustainedOverloadConvergesUnderCapacity) {
  IntervalController c;
  std::vector<StreamLoad> s;
  for (int i = 0; i < 8; ++i) s.push_back(load(25, 0.1 * i));  // demand 200 at every = 1
  const double capacity = 40;
  std::vector<int> every = run(c, s, capacity, 100, 30);
  const double demand = analysis_demand_fps(s, every);
  EXPECT_LE(demand, capacity * 0.9);
  EXPECT_GT(demand, capacity * 0.5);  // not needlessly far below
  for (std::size_t i = 1; i < every.size(); ++i) EXPECT_GE(every[i - 1], every[i]) << i;  // quieter: slower
  // Converged: more calls change nothing.
  EXPECT_EQ(run(c, s, capacity, 100, 20), every);
}

TEST(IntervalController, RecoveryLowersBackToConfiguredMostActiveFirst) {
  IntervalController c;
  std::vector<StreamLoad> s = {load(25, 0.2, 2), load(25, 1.5, 1), load(25, 0.7, 1)};
  for (auto& stream : s) stream.current_every = 20;
  std::vector<std::vector<int>> history;
  const std::vector<int> every = run(c, s, 1000, 50, 200, &history);
  EXPECT_EQ(every, (std::vector<int>{2, 1, 1}));
  // The first lowering is of the most active stream.
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history[0], (std::vector<int>{20, 13, 20}));
  // Gradual: one stream, one step per call at most.
  for (std::size_t i = 1; i < history.size(); ++i) {
    int changed = 0;
    for (std::size_t k = 0; k < s.size(); ++k) changed += history[i][k] != history[i - 1][k] ? 1 : 0;
    EXPECT_LE(changed, 1) << "call " << i;
  }
}

TEST(IntervalController, NoRecoveryWhileLatencyIsNotWellBelowTarget) {
  IntervalController c;
  std::vector<StreamLoad> s = {load(25, 0.5)};
  s[0].current_every = 10;
  EXPECT_EQ(run(c, s, 1000, 300, 20), (std::vector<int>{10}));  // 300 ms: under 500 but not under 250
}

TEST(IntervalController, NeverBelowConfiguredNorAboveMax) {
  IntervalController c;
  std::vector<StreamLoad> s = {load(30, 0.1, 3, 5), load(30, 0.2, 2, 4, /*adaptive=*/false)};
  std::vector<std::vector<int>> history;
  run(c, s, 1, 5000, 50, &history);  // hopeless overload
  for (const auto& every : history) {
    EXPECT_GE(every[0], 3);
    EXPECT_LE(every[0], 5);
    EXPECT_EQ(every[1], 2);  // not adaptive: fixed
  }
  EXPECT_EQ(history.back()[0], 5);
  history.clear();
  run(c, s, 1e6, 1, 100, &history);  // endless room
  for (const auto& every : history) EXPECT_GE(every[0], 3);
  EXPECT_EQ(history.back()[0], 3);
  // Out-of-range current values are clamped.
  s[0].current_every = 99;
  EXPECT_LE(c.step(s, 1e6, 1)[0], 5);
  s[0].current_every = 1;
  EXPECT_GE(c.step(s, 1e6, 1)[0], 3);
}

TEST(IntervalController, StableWhenDemandIsNearCapacity) {
  IntervalController c;
  // 4 x 25 fps at every 3 = 33.3 analysed fps; capacity wobbles around 40
  // (+/-5%): always inside the 0.7..0.9 dead band, so nothing moves.
  std::vector<StreamLoad> s = {load(25, 0.1), load(25, 0.4), load(25, 0.8), load(25, 1.2)};
  for (auto& stream : s) stream.current_every = 3;
  for (int i = 0; i < 200; ++i) {
    const double capacity = i % 2 == 0 ? 38 : 42;
    const std::vector<int> every = c.step(s, capacity, 200);
    ASSERT_EQ(every, (std::vector<int>{3, 3, 3, 3})) << "call " << i;
  }
}

TEST(IntervalController, ReachesAFixedPointWithoutOscillating) {
  IntervalController c;
  std::vector<StreamLoad> s = {load(30, 0.3), load(25, 0.6), load(15, 0.9)};
  std::vector<std::vector<int>> history;
  // Overloaded first (capacity 30 for 70 fps of demand), then capacity
  // returns to 45, which fits neither "every = 1 everywhere" (70) nor is far
  // above what the overload left.
  run(c, s, 30, 100, 30, &history);
  run(c, s, 45, 100, 200, &history);
  const std::vector<int> final_every = history.back();
  int changes_in_last_100 = 0;
  for (std::size_t i = history.size() - 100; i < history.size(); ++i)
    changes_in_last_100 += history[i] != history[i - 1] ? 1 : 0;
  EXPECT_EQ(changes_in_last_100, 0);
  const double demand = analysis_demand_fps(s, final_every);
  EXPECT_LE(demand, 45 * 0.9);
  EXPECT_GE(demand, 45 * 0.5);
}

TEST(IntervalController, ActivityScore) {
  EXPECT_DOUBLE_EQ(activity_score(0, 0), 0);
  EXPECT_DOUBLE_EQ(activity_score(0.25, 5), 0.75);
  EXPECT_DOUBLE_EQ(activity_score(1.0, 50), 2.0);  // both parts capped
  EXPECT_DOUBLE_EQ(activity_score(-1, -3), 0);
}

TEST(IntervalConfigValidate, MessagesNameTheFieldPath) {
  EXPECT_TRUE(IntervalConfig{}.validate("streams[0].interval"));
  IntervalConfig c;
  c.every = 0;
  EXPECT_EQ(c.validate("streams[0].interval").error().message, "streams[0].interval.every: must be >= 1 (got 0)");
  c = IntervalConfig{};
  c.every = 10;
  c.max_every = 5;
  EXPECT_EQ(c.validate("i").error().message, "i.max_every: must be >= every (10, got 5)");
  c = IntervalConfig{};
  c.latency_target_ms = 0;
  EXPECT_EQ(c.validate("i").error().message, "i.latency_target_ms: must be a number > 0 (got 0)");
}

}  // namespace
}  // namespace vigil
