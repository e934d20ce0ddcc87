#include "analytics/zone.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "analytics/analytics_evaluator.h"
#include "analytics/geometry.h"

namespace vigil {
namespace {

constexpr int kW = 1000;  // frame size used by most tests: 0.1 normalised = 100 px
constexpr int kH = 1000;
const std::vector<std::string> kClasses = {"person", "bicycle", "car"};

// A 20x40 box whose bottom centre is (x, y).
Track track_at(std::int64_t id, float x, float y, int class_id = 0, TrackState state = TrackState::kConfirmed) {
  Track t;
  t.id = id;
  t.box = Box{x - 10, y - 40, x + 10, y};
  t.class_id = class_id;
  t.state = state;
  return t;
}

ZoneConfig square_zone(const std::string& name = "square") {
  ZoneConfig z;
  z.name = name;
  z.polygon = {{0.2F, 0.2F}, {0.6F, 0.2F}, {0.6F, 0.6F}, {0.2F, 0.6F}};
  return z;
}

AnalyticsEvaluator evaluator(std::vector<ZoneConfig> zones) {
  auto r = AnalyticsEvaluator::create("cam1", std::move(zones), {}, kClasses, "streams[0]");
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return std::move(*r);
}

std::string error_of(const Result<void>& r) { return r ? std::string("(ok)") : r.error().message; }

// --- geometry ---------------------------------------------------------------

TEST(PointInPolygon, Square) {
  const std::vector<PointF> sq = {{0, 0}, {10, 0}, {10, 10}, {0, 10}};
  EXPECT_TRUE(point_in_polygon(sq, {5, 5}));
  EXPECT_TRUE(point_in_polygon(sq, {0.1F, 9.9F}));
  EXPECT_FALSE(point_in_polygon(sq, {-1, 5}));
  EXPECT_FALSE(point_in_polygon(sq, {5, 11}));
  EXPECT_FALSE(point_in_polygon(sq, {15, 5}));
}

TEST(PointInPolygon, ConcaveUShapeExcludesTheNotch) {
  // A "U": two arms (x 0..3 and 7..10) joined at the bottom (y 7..10); the
  // notch x 3..7, y 0..7 is outside.
  const std::vector<PointF> u = {{0, 0}, {3, 0}, {3, 7}, {7, 7}, {7, 0}, {10, 0}, {10, 10}, {0, 10}};
  EXPECT_TRUE(point_in_polygon(u, {1.5F, 2}));   // left arm
  EXPECT_TRUE(point_in_polygon(u, {8.5F, 2}));   // right arm
  EXPECT_TRUE(point_in_polygon(u, {5, 8.5F}));   // bottom bar
  EXPECT_FALSE(point_in_polygon(u, {5, 3}));     // the notch
  EXPECT_FALSE(point_in_polygon(u, {5, 6.9F}));  // just above the bar, in the notch
}

TEST(PointInPolygon, WindingDoesNotMatterAndDegenerateIsEmpty) {
  const std::vector<PointF> cw = {{0, 0}, {10, 0}, {10, 10}, {0, 10}};
  const std::vector<PointF> ccw = {{0, 10}, {10, 10}, {10, 0}, {0, 0}};
  EXPECT_TRUE(point_in_polygon(ccw, {5, 5}));
  EXPECT_DOUBLE_EQ(signed_area(cw), 100.0);
  EXPECT_DOUBLE_EQ(signed_area(ccw), -100.0);
  EXPECT_FALSE(point_in_polygon({{0, 0}, {10, 10}}, {5, 5}));
}

TEST(AnchorPoint, BottomCenterAndCenter) {
  const Box b{10, 20, 30, 60};
  EXPECT_FLOAT_EQ(anchor_point(b, Anchor::kBottomCenter).x, 20);
  EXPECT_FLOAT_EQ(anchor_point(b, Anchor::kBottomCenter).y, 60);
  EXPECT_FLOAT_EQ(anchor_point(b, Anchor::kCenter).x, 20);
  EXPECT_FLOAT_EQ(anchor_point(b, Anchor::kCenter).y, 40);
}

// --- validation ---------------------------------------------------------------

TEST(ZoneConfigValidate, AcceptsAGoodZone) { EXPECT_TRUE(square_zone().validate("streams[2].zones[0]")); }

TEST(ZoneConfigValidate, MessagesNameTheFieldPath) {
  ZoneConfig z = square_zone();
  z.polygon.resize(2);
  EXPECT_EQ(error_of(z.validate("streams[2].zones[0]")),
            "streams[2].zones[0].polygon: needs at least 3 points (got 2)");

  z = square_zone();
  z.name = "";
  EXPECT_EQ(error_of(z.validate("streams[2].zones[0]")), "streams[2].zones[0].name: must not be empty");

  z = square_zone();
  z.name = "Front Door";
  EXPECT_NE(error_of(z.validate("streams[2].zones[0]")).find("streams[2].zones[0].name: \"Front Door\" may only"),
            std::string::npos);

  z = square_zone();
  z.polygon[1] = {1.5F, 0.2F};
  EXPECT_NE(error_of(z.validate("streams[2].zones[0]")).find("streams[2].zones[0].polygon[1]: normalized"),
            std::string::npos);

  z = square_zone();
  z.polygon[2].y = std::numeric_limits<float>::quiet_NaN();
  EXPECT_NE(error_of(z.validate("streams[2].zones[0]")).find("streams[2].zones[0].polygon[2]: coordinates must be finite"),
            std::string::npos);

  z = square_zone();
  z.polygon = {{0.1F, 0.1F}, {0.5F, 0.5F}, {0.9F, 0.9F}};  // collinear
  EXPECT_EQ(error_of(z.validate("streams[2].zones[0]")),
            "streams[2].zones[0].polygon: encloses no area (the points are collinear or repeated)");

  z = square_zone();
  z.dwell_s = -1;
  EXPECT_EQ(error_of(z.validate("streams[2].zones[0]")), "streams[2].zones[0].dwell_s: must be a number >= 0 (got -1)");

  z = square_zone();
  z.classes = {"person", ""};
  EXPECT_EQ(error_of(z.validate("streams[2].zones[0]")),
            "streams[2].zones[0].classes[1]: class name must not be empty");
}

TEST(ZoneConfigValidate, PixelCoordinatesMayExceedOneButNotBeNegative) {
  ZoneConfig z = square_zone();
  z.normalized = false;
  z.polygon = {{100, 100}, {900, 100}, {900, 700}};
  EXPECT_TRUE(z.validate("z"));
  z.polygon[0].x = -5;
  EXPECT_NE(error_of(z.validate("z")).find("z.polygon[0]: pixel coordinates must not be negative"), std::string::npos);
}

TEST(AnalyticsEvaluatorCreate, RejectsDuplicateNamesAndUnknownClasses) {
  auto dup = AnalyticsEvaluator::create("cam1", {square_zone("a"), square_zone("a")}, {}, kClasses, "streams[1]");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().message, "streams[1].zones[1].name: \"a\" is already the name of zones[0]");

  ZoneConfig z = square_zone();
  z.classes = {"person", "persn"};
  auto unknown = AnalyticsEvaluator::create("cam1", {z}, {}, kClasses, "streams[1]");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("streams[1].zones[0].classes[1]: unknown class \"persn\""), std::string::npos);
  EXPECT_NE(unknown.error().message.find("person, bicycle, car"), std::string::npos);

  z.polygon.clear();
  auto invalid = AnalyticsEvaluator::create("cam1", {z}, {}, kClasses, "streams[1]");
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().message.rfind("streams[1].zones[0].polygon:", 0), 0U);
}

// --- events -----------------------------------------------------------------

TEST(ZoneEvents, EnterThenExitWithTimeInside) {
  AnalyticsEvaluator ev = evaluator({square_zone()});
  EXPECT_TRUE(ev.update({track_at(7, 100, 100)}, 0.0, kW, kH, 1000.0).empty());  // outside

  auto enter = ev.update({track_at(7, 300, 300)}, 1.0, kW, kH, 1001.0);
  ASSERT_EQ(enter.size(), 1U);
  EXPECT_EQ(enter[0].kind, EventKind::kZoneEnter);
  EXPECT_EQ(enter[0].stream, "cam1");
  EXPECT_EQ(enter[0].zone, "square");
  EXPECT_EQ(enter[0].track_id, 7);
  EXPECT_EQ(enter[0].class_id, 0);
  EXPECT_EQ(enter[0].class_name, "person");
  EXPECT_DOUBLE_EQ(enter[0].pts, 1.0);
  EXPECT_DOUBLE_EQ(enter[0].wall_time, 1001.0);

  EXPECT_TRUE(ev.update({track_at(7, 350, 400)}, 2.0, kW, kH, 1002.0).empty());  // still inside

  auto exit = ev.update({track_at(7, 800, 400)}, 3.5, kW, kH, 1003.5);
  ASSERT_EQ(exit.size(), 1U);
  EXPECT_EQ(exit[0].kind, EventKind::kZoneExit);
  EXPECT_EQ(exit[0].zone, "square");
  EXPECT_DOUBLE_EQ(exit[0].dwell_s, 2.5);
  EXPECT_DOUBLE_EQ(exit[0].pts, 3.5);

  EXPECT_TRUE(ev.update({track_at(7, 900, 400)}, 4.0, kW, kH, 1004.0).empty());
}

TEST(ZoneEvents, DwellOncePerVisitAfterTheConfiguredTime) {
  ZoneConfig z = square_zone();
  z.dwell_s = 2.0;
  AnalyticsEvaluator ev = evaluator({z});
  std::vector<Event> all;
  for (int i = 0; i <= 12; ++i) {  // inside from t=0 to t=3, one analysed frame every 0.25 s
    auto e = ev.update({track_at(1, 300, 300)}, i * 0.25, kW, kH, 0);
    all.insert(all.end(), e.begin(), e.end());
  }
  ASSERT_EQ(all.size(), 2U);
  EXPECT_EQ(all[0].kind, EventKind::kZoneEnter);
  EXPECT_EQ(all[1].kind, EventKind::kDwell);
  EXPECT_DOUBLE_EQ(all[1].pts, 2.0);
  EXPECT_DOUBLE_EQ(all[1].dwell_s, 2.0);
  EXPECT_EQ(all[1].zone, "square");

  // Leave and come back: a new visit gets its own dwell event.
  ASSERT_EQ(ev.update({track_at(1, 900, 900)}, 3.5, kW, kH, 0).size(), 1U);  // exit
  EXPECT_EQ(ev.update({track_at(1, 300, 300)}, 4.0, kW, kH, 0).size(), 1U);  // enter
  EXPECT_TRUE(ev.update({track_at(1, 300, 300)}, 5.0, kW, kH, 0).empty());
  auto dwell = ev.update({track_at(1, 300, 300)}, 6.5, kW, kH, 0);
  ASSERT_EQ(dwell.size(), 1U);
  EXPECT_EQ(dwell[0].kind, EventKind::kDwell);
  EXPECT_DOUBLE_EQ(dwell[0].dwell_s, 2.5);
}

TEST(ZoneEvents, NoDwellEventsWhenDwellIsZero) {
  AnalyticsEvaluator ev = evaluator({square_zone()});
  int events = 0;
  for (int i = 0; i < 100; ++i) events += static_cast<int>(ev.update({track_at(1, 300, 300)}, i, kW, kH, 0).size());
  EXPECT_EQ(events, 1);  // the enter
}

TEST(ZoneEvents, ClassFilter) {
  ZoneConfig z = square_zone();
  z.classes = {"car"};
  AnalyticsEvaluator ev = evaluator({z});
  auto e = ev.update({track_at(1, 300, 300, /*person*/ 0), track_at(2, 310, 310, /*car*/ 2)}, 0, kW, kH, 0);
  ASSERT_EQ(e.size(), 1U);
  EXPECT_EQ(e[0].track_id, 2);
  EXPECT_EQ(e[0].class_name, "car");
  EXPECT_EQ(ev.occupancy().at("square").size(), 1U);
  EXPECT_EQ(ev.occupancy().at("square").at("car"), 1);
}

TEST(ZoneEvents, PixelAndNormalisedZonesAgree) {
  ZoneConfig norm = square_zone("norm");
  ZoneConfig px = square_zone("px");
  px.normalized = false;
  px.polygon = {{400, 200}, {1200, 200}, {1200, 600}, {400, 600}};  // 0.2..0.6 of a 2000x1000 frame
  AnalyticsEvaluator ev = evaluator({norm, px});
  auto e = ev.update({track_at(1, 500, 300)}, 0, 2000, 1000, 0);
  ASSERT_EQ(e.size(), 2U);
  EXPECT_EQ(e[0].zone, "norm");
  EXPECT_EQ(e[1].zone, "px");
  // x = 300 is inside neither (normalised zone starts at 0.2 * 2000 = 400).
  auto out = ev.update({track_at(1, 300, 300)}, 1, 2000, 1000, 0);
  EXPECT_EQ(out.size(), 2U);
}

TEST(ZoneEvents, NormalisedZoneFollowsAResolutionChange) {
  AnalyticsEvaluator ev = evaluator({square_zone()});
  ASSERT_EQ(ev.update({track_at(1, 300, 300)}, 0, 1000, 1000, 0).size(), 1U);  // inside (0.3, 0.3)
  // Same point in pixels, but the frame is now 500x500: (0.6+, 0.6+) is outside.
  auto e = ev.update({track_at(1, 320, 320)}, 1, 500, 500, 0);
  ASSERT_EQ(e.size(), 1U);
  EXPECT_EQ(e[0].kind, EventKind::kZoneExit);
  // (150, 150) of 500x500 is (0.3, 0.3): inside again.
  EXPECT_EQ(ev.update({track_at(1, 150, 150)}, 2, 500, 500, 0).size(), 1U);
}

TEST(ZoneEvents, AnchorChoosesThePointTested) {
  ZoneConfig bottom = square_zone("bottom");
  ZoneConfig center = square_zone("center");
  center.anchor = Anchor::kCenter;
  AnalyticsEvaluator ev = evaluator({bottom, center});
  // Box 20x40 with its bottom at y=615 (outside, below 600) and centre at y=595 (inside).
  auto e = ev.update({track_at(1, 300, 615)}, 0, kW, kH, 0);
  ASSERT_EQ(e.size(), 1U);
  EXPECT_EQ(e[0].zone, "center");
}

TEST(ZoneEvents, OnlyConfirmedTracksAndLostTracksKeepTheirVisit) {
  AnalyticsEvaluator ev = evaluator({square_zone()});
  EXPECT_TRUE(ev.update({track_at(1, 300, 300, 0, TrackState::kTentative)}, 0, kW, kH, 0).empty());
  EXPECT_EQ(ev.update({track_at(1, 300, 300)}, 1, kW, kH, 0).size(), 1U);  // confirmed: enter
  // Lost with a predicted box outside: neither in nor out, still counted.
  EXPECT_TRUE(ev.update({track_at(1, 900, 900, 0, TrackState::kLost)}, 2, kW, kH, 0).empty());
  EXPECT_EQ(ev.occupancy().at("square").at("person"), 1);
  // Back, confirmed, inside: no second enter.
  EXPECT_TRUE(ev.update({track_at(1, 310, 310)}, 3, kW, kH, 0).empty());
}

TEST(ZoneEvents, OccupancyPerZonePerClass) {
  ZoneConfig left = square_zone("left");
  ZoneConfig right = square_zone("right");
  right.polygon = {{0.7F, 0.2F}, {0.9F, 0.2F}, {0.9F, 0.6F}, {0.7F, 0.6F}};
  AnalyticsEvaluator ev = evaluator({left, right});
  ev.update({track_at(1, 300, 300, 0), track_at(2, 400, 300, 0), track_at(3, 500, 300, 2), track_at(4, 800, 300, 1)},
            0, kW, kH, 0);
  auto occ = ev.occupancy();
  ASSERT_EQ(occ.size(), 2U);
  EXPECT_EQ(occ["left"]["person"], 2);
  EXPECT_EQ(occ["left"]["car"], 1);
  EXPECT_EQ(occ["right"]["bicycle"], 1);
  EXPECT_EQ(occ["right"].size(), 1U);

  ev.update({track_at(1, 50, 50, 0), track_at(2, 400, 300, 0), track_at(3, 500, 300, 2), track_at(4, 50, 50, 1)}, 1,
            kW, kH, 0);
  occ = ev.occupancy();
  EXPECT_EQ(occ["left"]["person"], 1);
  EXPECT_TRUE(occ["right"].empty());  // present, nobody inside
}

TEST(ZoneEvents, RemoveTracksExitsOpenVisits) {
  AnalyticsEvaluator ev = evaluator({square_zone()});
  ev.update({track_at(1, 300, 300), track_at(2, 900, 900)}, 10.0, kW, kH, 0);
  ev.update({track_at(1, 310, 300), track_at(2, 900, 900)}, 12.0, kW, kH, 0);
  // Track 1 then lost (predicted elsewhere) and finally removed at t=20.
  ev.update({track_at(1, 900, 300, 0, TrackState::kLost)}, 13.0, kW, kH, 0);
  EXPECT_EQ(ev.tracks_remembered(), 2U);
  std::vector<Event> out;
  ev.remove_tracks({track_at(1, 900, 300, 0, TrackState::kRemoved), track_at(2, 900, 900), track_at(99, 0, 0)}, 20.0,
                   2020.0, out);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].kind, EventKind::kZoneExit);
  EXPECT_EQ(out[0].track_id, 1);
  EXPECT_EQ(out[0].zone, "square");
  EXPECT_DOUBLE_EQ(out[0].pts, 20.0);
  EXPECT_DOUBLE_EQ(out[0].wall_time, 2020.0);
  EXPECT_DOUBLE_EQ(out[0].dwell_s, 2.0);  // last seen inside at 12, entered at 10
  EXPECT_EQ(ev.tracks_remembered(), 0U);
  EXPECT_EQ(ev.occupancy().at("square").size(), 0U);
}

TEST(ZoneEvents, RemovedStateInUpdateAlsoExits) {
  AnalyticsEvaluator ev = evaluator({square_zone()});
  ev.update({track_at(5, 300, 300)}, 1, kW, kH, 0);
  auto e = ev.update({track_at(5, 300, 300, 0, TrackState::kRemoved)}, 4, kW, kH, 0);
  ASSERT_EQ(e.size(), 1U);
  EXPECT_EQ(e[0].kind, EventKind::kZoneExit);
  EXPECT_DOUBLE_EQ(e[0].dwell_s, 0.0);  // only ever seen inside at t=1
  EXPECT_EQ(ev.tracks_remembered(), 0U);
}

TEST(ZoneEvents, ClassWithoutANameUsesItsId) {
  AnalyticsEvaluator ev = evaluator({square_zone()});
  auto e = ev.update({track_at(1, 300, 300, 42)}, 0, kW, kH, 0);
  ASSERT_EQ(e.size(), 1U);
  EXPECT_EQ(e[0].class_id, 42);
  EXPECT_EQ(e[0].class_name, "42");
}

TEST(ZoneEvents, ConcaveZoneNotchIsOutside) {
  ZoneConfig u;
  u.name = "u";
  u.normalized = false;
  u.polygon = {{0, 0}, {300, 0}, {300, 700}, {700, 700}, {700, 0}, {1000, 0}, {1000, 1000}, {0, 1000}};
  AnalyticsEvaluator ev = evaluator({u});
  EXPECT_TRUE(ev.update({track_at(1, 500, 300)}, 0, kW, kH, 0).empty());  // in the notch
  EXPECT_EQ(ev.update({track_at(1, 500, 800)}, 1, kW, kH, 0).size(), 1U);  // in the bar
}

}  // namespace
}  // namespace vigil
