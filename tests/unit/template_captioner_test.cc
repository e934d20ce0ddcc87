#include "describe/template_captioner.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vigil {
namespace {

const std::vector<std::string> kClasses = {"person", "bicycle", "car", "motorcycle", "airplane", "bus"};
constexpr int kPerson = 0, kCar = 2, kBus = 5;

// A confirmed track at (x, y) moving at (vx, vy) px/s.
Track track(std::int64_t id, int class_id, float vx = 0, float vy = 0) {
  Track t;
  t.id = id;
  t.class_id = class_id;
  t.box = Box{100, 100, 140, 200};
  t.state = TrackState::kConfirmed;
  t.vx = vx;
  t.vy = vy;
  return t;
}

CaptionScene scene(std::vector<Track> tracks = {}) {
  CaptionScene s;
  s.stream = "cam1";
  s.frame_w = 1000;  // motion threshold: 0.02 x 1000 = 20 px/s
  s.frame_h = 500;
  s.class_names = kClasses;
  s.tracks = std::move(tracks);
  return s;
}

std::string describe(const CaptionScene& s) { return TemplateCaptioner().describe(s); }

// --- words -------------------------------------------------------------------

TEST(TemplateCaptionerWords, PluralsOfCocoNames) {
  EXPECT_EQ(plural_of("person"), "people");
  EXPECT_EQ(plural_of("car"), "cars");
  EXPECT_EQ(plural_of("bus"), "buses");
  EXPECT_EQ(plural_of("bench"), "benches");
  EXPECT_EQ(plural_of("sandwich"), "sandwiches");
  EXPECT_EQ(plural_of("toothbrush"), "toothbrushes");
  EXPECT_EQ(plural_of("couch"), "couches");
  EXPECT_EQ(plural_of("wine glass"), "wine glasses");
  EXPECT_EQ(plural_of("knife"), "knives");
  EXPECT_EQ(plural_of("mouse"), "mice");
  EXPECT_EQ(plural_of("sheep"), "sheep");
  EXPECT_EQ(plural_of("skis"), "skis");
  EXPECT_EQ(plural_of("scissors"), "scissors");
  EXPECT_EQ(plural_of("broccoli"), "broccoli");
  EXPECT_EQ(plural_of("traffic light"), "traffic lights");
  EXPECT_EQ(plural_of("teddy bear"), "teddy bears");
  EXPECT_EQ(plural_of("hair drier"), "hair driers");
  EXPECT_EQ(plural_of("sports ball"), "sports balls");
  EXPECT_EQ(plural_of("pizza"), "pizzas");
  EXPECT_EQ(plural_of("bicycle"), "bicycles");
  EXPECT_EQ(plural_of("box"), "boxes");
  EXPECT_EQ(plural_of("butterfly"), "butterflies");
  EXPECT_EQ(plural_of("toy"), "toys");
  EXPECT_EQ(plural_of(""), "");
}

TEST(TemplateCaptionerWords, CountPhrase) {
  EXPECT_EQ(count_phrase(1, "person"), "1 person");
  EXPECT_EQ(count_phrase(3, "person"), "3 people");
  EXPECT_EQ(count_phrase(0, "car"), "0 cars");
  EXPECT_EQ(count_phrase(2, "fire hydrant"), "2 fire hydrants");
}

TEST(TemplateCaptionerWords, Durations) {
  EXPECT_EQ(format_duration(0), "0 s");
  EXPECT_EQ(format_duration(42.7), "42 s");
  EXPECT_EQ(format_duration(59.99), "59 s");
  EXPECT_EQ(format_duration(60), "1 min");
  EXPECT_EQ(format_duration(130), "2 min");
  EXPECT_EQ(format_duration(3599), "59 min");
  EXPECT_EQ(format_duration(3600), "1 h");
  EXPECT_EQ(format_duration(3900), "1 h 5 min");
  EXPECT_EQ(format_duration(7200), "2 h");
  EXPECT_EQ(format_duration(-5), "0 s");
}

TEST(TemplateCaptionerWords, MotionOfATrack) {
  const TemplateCaptionerOptions o;  // 0.02 x longer side
  EXPECT_EQ(motion_of(track(1, 0, 0, 0), 1000, 500, o), Motion::kStill);
  EXPECT_EQ(motion_of(track(1, 0, 19, 0), 1000, 500, o), Motion::kStill);   // 19 < 20 px/s
  EXPECT_EQ(motion_of(track(1, 0, -30, 5), 1000, 500, o), Motion::kLeft);
  EXPECT_EQ(motion_of(track(1, 0, 30, -5), 1000, 500, o), Motion::kRight);
  EXPECT_EQ(motion_of(track(1, 0, 5, -30), 1000, 500, o), Motion::kUp);      // image y grows downwards
  EXPECT_EQ(motion_of(track(1, 0, -5, 30), 1000, 500, o), Motion::kDown);
  EXPECT_EQ(motion_of(track(1, 0, 15, 15), 1000, 500, o), Motion::kRight);   // 21 px/s diagonal: tie -> horizontal
  EXPECT_EQ(motion_of(track(1, 0, 15, 0), 500, 250, o), Motion::kRight);     // threshold scales: 10 px/s
  EXPECT_EQ(motion_of(track(1, 0, 9, 0), 0, 0, o), Motion::kStill);          // unknown size: 10 px/s
  EXPECT_EQ(motion_of(track(1, 0, 11, 0), 0, 0, o), Motion::kRight);
}

TEST(TemplateCaptionerWords, MotionOfAGroup) {
  using M = Motion;
  EXPECT_EQ(motion_phrase({}), "");
  EXPECT_EQ(motion_phrase({M::kStill, M::kStill}), "");
  EXPECT_EQ(motion_phrase({M::kLeft}), " moving left");
  EXPECT_EQ(motion_phrase({M::kLeft, M::kLeft}), ", all moving left");
  EXPECT_EQ(motion_phrase({M::kLeft, M::kStill, M::kStill}), ", 1 moving left, 2 still");
  EXPECT_EQ(motion_phrase({M::kRight, M::kLeft, M::kRight}), ", 2 moving right, 1 moving left");
  EXPECT_EQ(motion_phrase({M::kDown, M::kUp}), ", 1 moving up, 1 moving down");  // ties: left, right, up, down
}

TEST(TemplateCaptionerWords, OptionsValidation) {
  EXPECT_TRUE(TemplateCaptionerOptions{}.validate("describe"));
  TemplateCaptionerOptions o;
  o.min_speed = 2;
  auto r = o.validate("describe");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("describe.min_speed"), std::string::npos);
  o = {};
  o.min_speed_px = -1;
  EXPECT_FALSE(o.validate("describe"));
}

// --- sentences -----------------------------------------------------------------

TEST(TemplateCaptioner, EmptySceneSaysNoObjects) {
  EXPECT_EQ(describe(scene()), "No objects.");
  // Tentative, lost and removed tracks are not objects yet / any more.
  Track t = track(1, kPerson);
  t.state = TrackState::kTentative;
  Track l = track(2, kPerson);
  l.state = TrackState::kLost;
  EXPECT_EQ(describe(scene({t, l})), "No objects.");
}

TEST(TemplateCaptioner, CountsPerClassWithoutZones) {
  auto s = scene({track(1, kPerson), track(2, kCar), track(3, kPerson), track(4, kPerson)});
  EXPECT_EQ(describe(s), "3 people; 1 car.");
}

TEST(TemplateCaptioner, OrderIsCountDescThenName) {
  auto s = scene({track(1, kCar), track(2, kBus), track(3, kBus), track(4, kPerson), track(5, kCar)});
  EXPECT_EQ(describe(s), "2 buses; 2 cars; 1 person.");
  // Track order does not matter.
  auto r = scene({track(5, kCar), track(4, kPerson), track(3, kBus), track(1, kCar), track(2, kBus)});
  EXPECT_EQ(describe(r), describe(s));
}

TEST(TemplateCaptioner, MotionWithoutZones) {
  auto s = scene({track(1, kPerson, -50, 0), track(2, kPerson), track(3, kPerson), track(4, kCar, 100, 0)});
  EXPECT_EQ(describe(s), "3 people, 1 moving left, 2 still; 1 car moving right.");
  auto all = scene({track(1, kPerson, 0, 40), track(2, kPerson, 3, 60)});
  EXPECT_EQ(describe(all), "2 people, all moving down.");
}

TEST(TemplateCaptioner, UnnamedClassIds) {
  auto s = scene({track(1, 42), track(2, 42)});
  EXPECT_EQ(describe(s), "2 class-42 objects.");
}

TEST(TemplateCaptioner, ZonesWithDwellAndLines) {
  auto s = scene({track(1, kPerson, -50, 0), track(2, kPerson), track(3, kPerson), track(4, kCar)});
  s.occupancy = {{"entrance", {{"person", 3}}}, {"lot", {{"car", 1}}}, {"empty", {}}};
  s.zone_dwell_max_s = {{"lot", {{"car", 130}}}, {"entrance", {{"person", 0.4}}}};  // < 1 s: not said
  s.track_zones = {{1, {"entrance"}}, {2, {"entrance"}}, {3, {"entrance"}}, {4, {"lot"}}};
  s.line_counts = {{"door", {12, 3}}, {"gate", {0, 0}}};
  EXPECT_EQ(describe(s), "3 people in 'entrance', 1 moving left, 2 still; 1 car in 'lot' for 2 min; "
                         "12 in/3 out across 'door'.");
}

TEST(TemplateCaptioner, DwellWithSeveralObjectsIsAnUpperBound) {
  auto s = scene({track(1, kPerson), track(2, kPerson)});
  s.occupancy = {{"queue", {{"person", 2}}}};
  s.zone_dwell_max_s = {{"queue", {{"person", 45.5}}}};
  EXPECT_EQ(describe(s), "2 people in 'queue' for up to 45 s.");
}

TEST(TemplateCaptioner, ZonesSortedByTotalThenNameAndClassesWithin) {
  auto s = scene();
  s.occupancy = {{"b", {{"person", 1}, {"car", 1}}}, {"a", {{"car", 2}}}, {"c", {{"bus", 1}}}};
  // a and b both hold 2: by name; within b, 1 car before 1 person (name).
  EXPECT_EQ(describe(s), "2 cars in 'a'; 1 car in 'b'; 1 person in 'b'; 1 bus in 'c'.");
}

TEST(TemplateCaptioner, TracksOutsideZonesAreElsewhere) {
  auto s = scene({track(1, kPerson), track(2, kPerson, 0, -80), track(3, kCar, 40, 0), track(4, kCar)});
  s.occupancy = {{"door", {{"person", 1}}}};
  s.track_zones = {{1, {"door"}}, {2, {}}};  // 3 and 4 are in no zone either
  EXPECT_EQ(describe(s), "1 person in 'door'; 2 cars elsewhere, 1 moving right, 1 still; 1 person elsewhere moving up.");
}

TEST(TemplateCaptioner, OccupancyCountingUnseenTracksDoesNotClaimAllMove) {
  // Occupancy counts 3 people (one is lost right now); the 2 confirmed ones move left.
  auto s = scene({track(1, kPerson, -40, 0), track(2, kPerson, -40, 0)});
  s.occupancy = {{"hall", {{"person", 3}}}};
  s.track_zones = {{1, {"hall"}}, {2, {"hall"}}};
  EXPECT_EQ(describe(s), "3 people in 'hall', 2 moving left.");
}

TEST(TemplateCaptioner, TrackInTwoZonesCountsInBoth) {
  auto s = scene({track(1, kPerson, 30, 0)});
  s.occupancy = {{"inner", {{"person", 1}}}, {"outer", {{"person", 1}}}};
  s.track_zones = {{1, {"inner", "outer"}}};
  EXPECT_EQ(describe(s), "1 person in 'inner' moving right; 1 person in 'outer' moving right.");
}

TEST(TemplateCaptioner, ZonesWithoutTrackZonesReportMotionApart) {
  auto s = scene({track(1, kPerson, -50, 0), track(2, kPerson), track(3, kCar, 0, 50), track(4, kPerson, -45, 1)});
  s.occupancy = {{"entrance", {{"person", 3}}}};
  EXPECT_EQ(describe(s), "3 people in 'entrance'; 2 people moving left; 1 car moving down.");
}

TEST(TemplateCaptioner, LinesOnlySceneAndLineOrder) {
  auto s = scene();
  s.line_counts = {{"a", {1, 0}}, {"b", {2, 3}}, {"c", {0, 1}}};
  EXPECT_EQ(describe(s), "No objects; 2 in/3 out across 'b'; 1 in/0 out across 'a'; 0 in/1 out across 'c'.");
}

TEST(TemplateCaptioner, AllZonesEmptyFallsBackToClassCounts) {
  auto s = scene({track(1, kPerson), track(2, kPerson, 25, 0)});
  s.occupancy = {{"door", {}}, {"lot", {{"car", 0}}}};
  EXPECT_EQ(describe(s), "2 people, 1 moving right, 1 still.");
}

TEST(TemplateCaptioner, CaptionIsDeterministicAndNamesItself) {
  TemplateCaptioner c;
  auto s = scene({track(1, kPerson, -50, 0), track(2, kCar)});
  auto a = c.caption(s);
  auto b = c.caption(s);
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(a->text, b->text);
  EXPECT_EQ(a->text, "1 car; 1 person moving left.");
  EXPECT_EQ(a->captioner, "template");
  EXPECT_STREQ(c.name(), "template");
  EXPECT_GE(a->latency_ms, 0);
  // The image is not needed.
  EXPECT_EQ(s.image, nullptr);
}

TEST(TemplateCaptioner, CustomSpeedThreshold) {
  TemplateCaptionerOptions o;
  o.min_speed = 0.1;  // 100 px/s in a 1000-wide frame
  auto s = scene({track(1, kPerson, -50, 0)});
  EXPECT_EQ(TemplateCaptioner(o).describe(s), "1 person.");
  EXPECT_EQ(TemplateCaptioner().describe(s), "1 person moving left.");
}

TEST(TemplateCaptioner, SummarizeCountsMostFrequent) {
  TemplateCaptioner c;
  auto none = c.summarize({});
  ASSERT_TRUE(none);
  EXPECT_EQ(none->text, "No captions.");
  auto r = c.summarize({"No objects.", "1 person moving left.", "No objects.", "  ", "2 cars.", "1 person moving left",
                        "No objects.", "3 buses."});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->text, "7 captions; most frequent: \"No objects\" (x3), \"1 person moving left\" (x2), \"2 cars\" (x1).");
  EXPECT_EQ(r->captioner, "template");
  auto one = c.summarize({"1 car."});
  ASSERT_TRUE(one);
  EXPECT_EQ(one->text, "1 caption; most frequent: \"1 car\" (x1).");
}

}  // namespace
}  // namespace vigil
