// The analysis stage without threads: scripted BatchResults in, AnalysisUpdates out.
#include "pipeline/analysis_stage.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vigil {
namespace {

constexpr int kW = 1000;
constexpr int kH = 1000;
constexpr double kStep = 0.1;  // seconds between analysed frames

ModelInfo model() {
  ModelInfo m;
  m.class_names = {"person", "bicycle", "car"};
  m.input_w = 416;
  m.input_h = 416;
  return m;
}

StreamConfig stream() {
  StreamConfig s;
  s.id = "cam1";
  ZoneConfig z;
  z.name = "square";
  z.polygon = {{0.2F, 0.2F}, {0.6F, 0.2F}, {0.6F, 0.6F}, {0.2F, 0.6F}};
  s.zones.push_back(z);
  LineConfig l;
  l.name = "door";
  l.a = {0.7F, 0.0F};
  l.b = {0.7F, 1.0F};
  s.lines.push_back(l);
  return s;
}

// One person (100 x 40 box, bottom centre at (x, 500)) or nobody at media time pts.
BatchResult frame(double pts, std::vector<float> xs) {
  BatchResult r;
  r.request.pts = pts;
  r.request.frame_w = kW;
  r.request.frame_h = kH;
  for (float x : xs) r.detections.push_back(Detection{Box{x - 50, 460, x + 50, 500}, 0, 0.9F});
  return r;
}

std::unique_ptr<AnalysisState> state(std::int64_t first_id = 5001) {
  static const ModelInfo m = model();
  auto s = AnalysisState::create(stream(), m, first_id, "streams[cam1]");
  EXPECT_TRUE(s) << (s ? "" : s.error().message);
  return std::move(*s);
}

// The person walks from x = 100 to 900 (20 px per frame), then the scene stays empty.
std::vector<BatchResult> walk() {
  std::vector<BatchResult> out;
  int i = 0;
  for (float x = 100; x <= 900; x += 20, ++i) out.push_back(frame(i * kStep, {x}));
  for (int k = 0; k < 30; ++k, ++i) out.push_back(frame(i * kStep, {}));
  return out;
}

std::string kinds(const std::vector<Event>& events) {
  std::string s;
  for (const auto& e : events) s += std::string(s.empty() ? "" : " ") + to_string(e.kind);
  return s;
}

TEST(AnalysisStage, BornZoneLineLostInOrder) {
  auto st = state();
  std::vector<Event> all;
  std::size_t born = 0, lost = 0;
  bool seen_inside = false;
  for (const auto& r : walk()) {
    const AnalysisUpdate u = analyse(*st, r, 1234.5);
    EXPECT_DOUBLE_EQ(u.pts, r.request.pts);
    born += u.born.size();
    lost += u.lost.size();
    const float x = r.detections.empty() ? 0 : (r.detections[0].box.x1 + r.detections[0].box.x2) / 2;
    if (x > 240 && x < 560) {  // well inside the zone
      seen_inside = true;
      EXPECT_EQ(u.occupancy.at("square").at("person"), 1);
      EXPECT_EQ(u.confirmed, 1u);
    }
    if (x > 640) {
      EXPECT_TRUE(u.occupancy.at("square").empty());
    }
    for (const auto& e : u.events) {
      EXPECT_EQ(e.stream, "cam1");
      EXPECT_DOUBLE_EQ(e.wall_time, 1234.5);
      EXPECT_DOUBLE_EQ(e.pts, r.request.pts);
      EXPECT_EQ(e.track_id, 5001);
      EXPECT_EQ(e.class_name, "person");
    }
    all.insert(all.end(), u.events.begin(), u.events.end());
  }
  EXPECT_TRUE(seen_inside);
  EXPECT_EQ(born, 1u);
  EXPECT_EQ(lost, 1u);
  EXPECT_EQ(kinds(all), "track_new zone_enter zone_exit line_cross track_lost");
  EXPECT_GT(all[2].dwell_s, 1.0);  // 200 -> 600 px at 200 px/s: about 2 s
  EXPECT_LT(all[2].dwell_s, 3.0);
  // Stand on a (top) and look at b (down): the person walks to your left: "out".
  EXPECT_EQ(all[3].direction, "out");
  const AnalysisUpdate last = analyse(*st, frame(100, {}), 0);
  EXPECT_EQ(last.line_counts.at("door").at("in"), 0);
  EXPECT_EQ(last.line_counts.at("door").at("out"), 1);
  EXPECT_TRUE(last.tracks.empty());
}

TEST(AnalysisStage, SameResultsGiveTheSameUpdates) {
  auto a = state();
  auto b = state();
  for (const auto& r : walk()) {
    const AnalysisUpdate ua = analyse(*a, r, 0);
    const AnalysisUpdate ub = analyse(*b, r, 0);
    ASSERT_EQ(kinds(ua.events), kinds(ub.events));
    for (std::size_t i = 0; i < ua.events.size(); ++i) {
      EXPECT_EQ(ua.events[i].track_id, ub.events[i].track_id);
      EXPECT_DOUBLE_EQ(ua.events[i].dwell_s, ub.events[i].dwell_s);
    }
    ASSERT_EQ(ua.tracks.size(), ub.tracks.size());
    for (std::size_t i = 0; i < ua.tracks.size(); ++i) EXPECT_EQ(ua.tracks[i].box.x1, ub.tracks[i].box.x1);
    EXPECT_EQ(ua.occupancy, ub.occupancy);
    EXPECT_EQ(ua.line_counts, ub.line_counts);
  }
}

TEST(AnalysisStage, EndTracksClosesOpenVisits) {
  auto st = state(7);
  AnalysisUpdate u;
  for (int i = 0; i < 5; ++i) u = analyse(*st, frame(i * kStep, {400}), 0);
  ASSERT_EQ(u.tracks.size(), 1u);
  Track open = u.tracks[0];
  open.state = TrackState::kRemoved;
  const auto events = end_tracks(*st, {open}, 0.4, 0);
  EXPECT_EQ(kinds(events), "zone_exit track_lost");
  EXPECT_EQ(events[0].track_id, 7);
  EXPECT_DOUBLE_EQ(events[0].dwell_s, 0.4);
  EXPECT_TRUE(st->analytics().occupancy().at("square").empty());
}

TEST(AnalysisStage, CaptionSceneSaysWhoIsWhereAndForHowLong) {
  auto st = state(1);
  AnalysisUpdate u;
  BatchResult r;
  for (int i = 0; i < 16; ++i) {
    r = frame(i * kStep, {300, 800});
    u = analyse(*st, r, 0);
  }
  const CaptionScene scene = caption_scene(*st, r, u);
  EXPECT_EQ(scene.stream, "cam1");
  EXPECT_EQ(scene.frame_w, kW);
  ASSERT_EQ(scene.tracks.size(), 2u);
  EXPECT_EQ(scene.occupancy.at("square").at("person"), 1);
  ASSERT_EQ(scene.track_zones.size(), 1u);
  EXPECT_EQ(scene.track_zones.begin()->second, std::vector<std::string>{"square"});
  EXPECT_NEAR(scene.zone_dwell_max_s.at("square").at("person"), 1.5, 1e-9);
  EXPECT_EQ(scene.line_counts.at("door"), (std::pair<std::int64_t, std::int64_t>{0, 0}));
  EXPECT_EQ(scene.class_names, model().class_names);
}

TEST(AnalysisStage, CreateRejectsUnknownClassesAndBadZones) {
  const ModelInfo m = model();
  StreamConfig s = stream();
  s.classes = {"person", "dragon"};
  auto bad = AnalysisState::create(s, m, 1, "streams[cam1]");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "streams[cam1].classes: 'dragon' is not a class of the model");
  StreamConfig z = stream();
  z.zones[0].polygon.resize(2);
  auto bad_zone = AnalysisState::create(z, m, 1, "streams[cam1]");
  ASSERT_FALSE(bad_zone);
  EXPECT_NE(bad_zone.error().message.find("streams[cam1].zones[0]"), std::string::npos) << bad_zone.error().message;
}

TEST(AnalysisStage, DecodeOptionsKeepLowScoresAndMaskClasses) {
  StreamConfig s = stream();
  s.conf = 0.4F;
  s.tracker.low_thresh = 0.1F;
  s.classes = {"car"};
  const DecodeOptions d = decode_options(s, model());
  EXPECT_FLOAT_EQ(d.conf, 0.1F);
  EXPECT_EQ(d.class_mask, (std::vector<bool>{false, false, true}));
  s.classes.clear();
  EXPECT_TRUE(decode_options(s, model()).class_mask.empty());
}

TEST(AnalysisStage, AnalysisSizeLiveSubstreamAndOfflineFit) {
  SubstreamConfig none;
  EXPECT_EQ(analysis_size(none, 0, 0, 1920, 1080), (std::pair<int, int>{1920, 1080}));
  SubstreamConfig width;
  width.width = 641;
  EXPECT_EQ(analysis_size(width, 0, 0, 1920, 1080), (std::pair<int, int>{640, 360}));
  SubstreamConfig scale;
  scale.scale = 0.5;
  EXPECT_EQ(analysis_size(scale, 0, 0, 1279, 719), (std::pair<int, int>{640, 360}));
  // Offline: fit the model input, never enlarge.
  EXPECT_EQ(analysis_size(none, 416, 416, 1920, 1080), (std::pair<int, int>{416, 234}));
  EXPECT_EQ(analysis_size(none, 416, 416, 320, 240), (std::pair<int, int>{320, 240}));
}

TEST(ClassName, OneLookupOneFallback) {
  const ModelInfo m = model();
  EXPECT_EQ(m.class_name(2), "car");
  EXPECT_EQ(m.class_name(3), "3");
  EXPECT_EQ(m.class_name(-1), "-1");
  Track t;
  t.id = 9;
  t.class_id = 7;
  const Event e = track_event(EventKind::kTrackNew, t, "cam1", m, 1.5, 2.5);
  EXPECT_EQ(e.class_name, "7");
  EXPECT_EQ(e.class_id, 7);
  EXPECT_EQ(e.track_id, 9);
  EXPECT_DOUBLE_EQ(e.pts, 1.5);
  EXPECT_DOUBLE_EQ(e.wall_time, 2.5);
}

}  // namespace
}  // namespace vigil
