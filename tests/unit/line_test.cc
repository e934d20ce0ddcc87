#include "analytics/line.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "analytics/analytics_evaluator.h"
#include "analytics/geometry.h"

namespace vigil {
namespace {

constexpr int kW = 1000;
constexpr int kH = 1000;
const std::vector<std::string> kClasses = {"person", "bicycle", "car"};

Track track_at(std::int64_t id, float x, float y, int class_id = 0, TrackState state = TrackState::kConfirmed) {
  Track t;
  t.id = id;
  t.box = Box{x - 10, y - 40, x + 10, y};  // bottom centre at (x, y)
  t.class_id = class_id;
  t.state = state;
  return t;
}

// Horizontal line across the middle, drawn left to right: the upper half is
// its left side, so moving down is "in".
LineConfig middle_line(int min_frames = 2) {
  LineConfig l;
  l.name = "middle";
  l.a = {0.0F, 0.5F};
  l.b = {1.0F, 0.5F};
  l.min_frames = min_frames;
  return l;
}

AnalyticsEvaluator evaluator(std::vector<LineConfig> lines) {
  auto r = AnalyticsEvaluator::create("cam1", {}, std::move(lines), kClasses, "streams[0]");
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return std::move(*r);
}

// Feeds one track through the given bottom-centre y positions (x fixed),
// one analysed frame each, and returns every event.
std::vector<Event> walk(AnalyticsEvaluator& ev, std::int64_t id, float x, const std::vector<float>& ys,
                        int class_id = 0) {
  std::vector<Event> all;
  double pts = 0;
  for (const float y : ys) {
    auto e = ev.update({track_at(id, x, y, class_id)}, pts, kW, kH, 1000 + pts);
    all.insert(all.end(), e.begin(), e.end());
    pts += 0.1;
  }
  return all;
}

std::string error_of(const Result<void>& r) { return r ? std::string("(ok)") : r.error().message; }

TEST(LineGeometry, SideOfLineFollowsTheConvention) {
  const PointF a{0, 5}, b{10, 5};  // walking right along y = 5
  EXPECT_LT(side_of_line(a, b, {5, 0}), 0);   // above on screen: the walker's left
  EXPECT_GT(side_of_line(a, b, {5, 10}), 0);  // below: right
  EXPECT_EQ(side_of_line(a, b, {5, 5}), 0);
}

TEST(LineGeometry, StepMustPassThroughTheSegment) {
  const PointF a{0, 5}, b{10, 5};
  EXPECT_TRUE(step_crosses_segment(a, b, {5, 0}, {5, 10}));
  EXPECT_TRUE(step_crosses_segment(a, b, {0, 0}, {0, 10}));     // through the end point
  EXPECT_FALSE(step_crosses_segment(a, b, {15, 0}, {15, 10}));  // beyond b
  EXPECT_FALSE(step_crosses_segment(a, b, {-1, 0}, {-1, 10}));  // before a
  EXPECT_TRUE(step_crosses_segment(a, b, {-5, 0}, {5, 10}));    // diagonal, meets it at x = 0
}

TEST(LineConfigValidate, MessagesNameTheFieldPath) {
  EXPECT_TRUE(middle_line().validate("streams[1].lines[0]"));

  LineConfig l = middle_line();
  l.b = l.a;
  EXPECT_EQ(error_of(l.validate("streams[1].lines[0]")), "streams[1].lines[0].b: must differ from a (both are 0, 0.5)");

  l = middle_line(0);
  EXPECT_EQ(error_of(l.validate("streams[1].lines[0]")), "streams[1].lines[0].min_frames: must be >= 1 (got 0)");

  l = middle_line();
  l.a = {-0.1F, 0.5F};
  EXPECT_NE(error_of(l.validate("streams[1].lines[0]")).find("streams[1].lines[0].a: normalized coordinates"),
            std::string::npos);

  l = middle_line();
  l.name = "gate#1";
  EXPECT_NE(error_of(l.validate("streams[1].lines[0]")).find("streams[1].lines[0].name:"), std::string::npos);

  auto dup = AnalyticsEvaluator::create("cam1", {}, {middle_line(), middle_line()}, kClasses, "streams[1]");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().message, "streams[1].lines[1].name: \"middle\" is already the name of lines[0]");

  l = middle_line();
  l.classes = {"truck"};
  auto unknown = AnalyticsEvaluator::create("cam1", {}, {l}, kClasses, "streams[1]");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("streams[1].lines[0].classes[0]: unknown class \"truck\""), std::string::npos);
}

TEST(LineCross, CleanCrossingDownIsInExactlyOnce) {
  AnalyticsEvaluator ev = evaluator({middle_line()});
  auto events = walk(ev, 3, 500, {300, 400, 480, 520, 600, 700, 800, 900, 950});
  ASSERT_EQ(events.size(), 1U);
  const Event& e = events[0];
  EXPECT_EQ(e.kind, EventKind::kLineCross);
  EXPECT_EQ(e.line, "middle");
  EXPECT_EQ(e.direction, "in");
  EXPECT_EQ(e.stream, "cam1");
  EXPECT_EQ(e.track_id, 3);
  EXPECT_EQ(e.class_name, "person");
  EXPECT_NEAR(e.pts, 0.4, 1e-9);  // second analysed frame below the line (min_frames = 2)
  EXPECT_NEAR(e.wall_time, 1000.4, 1e-9);
  const LineCounts& c = ev.line_counts().at("middle");
  EXPECT_EQ(c.total.in, 1);
  EXPECT_EQ(c.total.out, 0);
}

TEST(LineCross, CleanCrossingUpIsOut) {
  AnalyticsEvaluator ev = evaluator({middle_line()});
  auto events = walk(ev, 3, 500, {900, 700, 550, 450, 300, 100});
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].direction, "out");
  EXPECT_EQ(ev.line_counts().at("middle").total.out, 1);
  EXPECT_EQ(ev.line_counts().at("middle").total.in, 0);
}

TEST(LineCross, SwappingTheEndPointsSwapsTheDirection) {
  LineConfig l = middle_line();
  l.a = {1.0F, 0.5F};
  l.b = {0.0F, 0.5F};
  AnalyticsEvaluator ev = evaluator({l});
  auto events = walk(ev, 3, 500, {300, 400, 600, 700});
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].direction, "out");
}

TEST(LineCross, FlickeringOnTheLineProducesNoCrossing) {
  AnalyticsEvaluator ev = evaluator({middle_line()});
  std::vector<float> ys;
  for (int i = 0; i < 40; ++i) ys.push_back(i % 2 == 0 ? 495.0F : 505.0F);  // jitter across y = 500
  EXPECT_TRUE(walk(ev, 1, 500, ys).empty());
  EXPECT_EQ(ev.line_counts().at("middle").total.in, 0);
  EXPECT_EQ(ev.line_counts().at("middle").total.out, 0);
}

TEST(LineCross, FlickerThenStayCountsOnce) {
  AnalyticsEvaluator ev = evaluator({middle_line()});
  auto events = walk(ev, 1, 500, {450, 495, 505, 495, 505, 495, 505, 510, 520, 600, 700});
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].direction, "in");
}

TEST(LineCross, MinFramesIsTheNumberOfFramesOnTheNewSide) {
  AnalyticsEvaluator three = evaluator({middle_line(3)});
  EXPECT_TRUE(walk(three, 1, 500, {400, 600, 650}).empty());  // two frames below: not yet
  AnalyticsEvaluator three_b = evaluator({middle_line(3)});
  EXPECT_EQ(walk(three_b, 1, 500, {400, 600, 650, 700}).size(), 1U);
  AnalyticsEvaluator one = evaluator({middle_line(1)});
  auto e = walk(one, 1, 500, {400, 600});
  ASSERT_EQ(e.size(), 1U);
  EXPECT_NEAR(e[0].pts, 0.1, 1e-9);
}

TEST(LineCross, CrossingOutsideTheSegmentIsNotCounted) {
  LineConfig l = middle_line();
  l.a = {0.2F, 0.5F};
  l.b = {0.4F, 0.5F};  // 200..400 px
  AnalyticsEvaluator ev = evaluator({l});
  EXPECT_TRUE(walk(ev, 1, 800, {300, 400, 600, 700, 800}).empty());  // x = 800: beyond b
  // ... and the side is now "below", so coming back up beyond the segment does not count either.
  EXPECT_TRUE(walk(ev, 1, 800, {700, 300, 200}).empty());
  // Through the segment: counted.
  EXPECT_EQ(walk(ev, 2, 300, {300, 400, 600, 700}).size(), 1U);
  EXPECT_EQ(ev.line_counts().at("middle").total.in, 1);
}

TEST(LineCross, TrackFirstSeenBeyondTheLineHasNotCrossed) {
  AnalyticsEvaluator ev = evaluator({middle_line()});
  EXPECT_TRUE(walk(ev, 1, 500, {700, 800, 900}).empty());
}

TEST(LineCross, RoundTripCountsBothWays) {
  AnalyticsEvaluator ev = evaluator({middle_line()});
  auto events = walk(ev, 1, 500, {300, 400, 600, 700, 800, 600, 400, 300});
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].direction, "in");
  EXPECT_EQ(events[1].direction, "out");
  EXPECT_EQ(ev.line_counts().at("middle").total.in, 1);
  EXPECT_EQ(ev.line_counts().at("middle").total.out, 1);
}

TEST(LineCross, CountsPerClassAndClassFilter) {
  LineConfig all = middle_line();
  LineConfig cars = middle_line();
  cars.name = "cars";
  cars.classes = {"car"};
  AnalyticsEvaluator ev = evaluator({all, cars});
  walk(ev, 1, 500, {300, 400, 600, 700}, /*person*/ 0);
  walk(ev, 2, 500, {300, 400, 600, 700}, /*car*/ 2);
  walk(ev, 3, 500, {700, 600, 400, 300}, /*car*/ 2);
  const auto& counts = ev.line_counts();
  ASSERT_EQ(counts.size(), 2U);
  EXPECT_EQ(counts.at("middle").total.in, 2);
  EXPECT_EQ(counts.at("middle").total.out, 1);
  EXPECT_EQ(counts.at("middle").by_class.at("person").in, 1);
  EXPECT_EQ(counts.at("middle").by_class.at("car").in, 1);
  EXPECT_EQ(counts.at("middle").by_class.at("car").out, 1);
  EXPECT_EQ(counts.at("cars").total.in, 1);
  EXPECT_EQ(counts.at("cars").total.out, 1);
  EXPECT_EQ(counts.at("cars").by_class.count("person"), 0U);
}

TEST(LineCross, PixelLine) {
  LineConfig l = middle_line();
  l.normalized = false;
  l.a = {0, 250};
  l.b = {640, 250};
  AnalyticsEvaluator ev = evaluator({l});
  std::vector<Event> all;
  double pts = 0;
  for (const float y : {200.0F, 240.0F, 260.0F, 300.0F}) {
    auto e = ev.update({track_at(1, 320, y)}, pts += 0.1, 640, 480, 0);
    all.insert(all.end(), e.begin(), e.end());
  }
  ASSERT_EQ(all.size(), 1U);
  EXPECT_EQ(all[0].direction, "in");
}

TEST(LineCross, CrossingWhileLostCountsWhenConfirmedAgain) {
  AnalyticsEvaluator ev = evaluator({middle_line()});
  EXPECT_TRUE(ev.update({track_at(1, 500, 400)}, 0.0, kW, kH, 0).empty());
  EXPECT_TRUE(ev.update({track_at(1, 500, 450, 0, TrackState::kLost)}, 0.1, kW, kH, 0).empty());
  EXPECT_TRUE(ev.update({track_at(1, 500, 600, 0, TrackState::kLost)}, 0.2, kW, kH, 0).empty());
  EXPECT_TRUE(ev.update({track_at(1, 500, 650)}, 0.3, kW, kH, 0).empty());  // first confirmed frame below
  auto e = ev.update({track_at(1, 500, 700)}, 0.4, kW, kH, 0);
  ASSERT_EQ(e.size(), 1U);
  EXPECT_EQ(e[0].direction, "in");
}

TEST(LineCross, TrackThatVanishesBeforeTheDebounceIsNotCounted) {
  AnalyticsEvaluator ev = evaluator({middle_line()});
  walk(ev, 1, 500, {400, 600});
  std::vector<Event> out;
  ev.remove_tracks({track_at(1, 500, 600)}, 1.0, 0, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(ev.line_counts().at("middle").total.in, 0);
}

TEST(LineCross, EveryLineIsListedBeforeAnyCrossing) {
  AnalyticsEvaluator ev = evaluator({middle_line()});
  ASSERT_EQ(ev.line_counts().count("middle"), 1U);
  EXPECT_EQ(ev.line_counts().at("middle").total.in, 0);
  EXPECT_TRUE(ev.line_counts().at("middle").by_class.empty());
}

}  // namespace
}  // namespace vigil
