#include "tracking/tracker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>

namespace vigil {
namespace {

constexpr int kPerson = 0;
constexpr int kCar = 2;

Box box_at(double cx, double cy, double w = 50, double h = 100) {
  return Box{static_cast<float>(cx - w / 2), static_cast<float>(cy - h / 2), static_cast<float>(cx + w / 2),
             static_cast<float>(cy + h / 2)};
}

Detection det(const Box& box, float score = 0.9F, int class_id = kPerson) { return Detection{box, class_id, score}; }

// Analysed-frame times k * step, computed without accumulating rounding.
double at(int k, double step = 0.1) { return k * step; }

void expect_box_near(const Box& a, const Box& b, float tol) {
  EXPECT_NEAR(a.x1, b.x1, tol);
  EXPECT_NEAR(a.y1, b.y1, tol);
  EXPECT_NEAR(a.x2, b.x2, tol);
  EXPECT_NEAR(a.y2, b.y2, tol);
}

const Track* find_id(const std::vector<Track>& tracks, std::int64_t id) {
  for (const Track& t : tracks)
    if (t.id == id) return &t;
  return nullptr;
}

// Feeds a static confirmed track: first analysed frame, so confirmed at once.
std::int64_t establish(Tracker& tracker, const Box& box, int frames, int class_id = kPerson) {
  std::int64_t id = 0;
  for (int k = 0; k < frames; ++k) {
    const auto u = tracker.update({det(box, 0.9F, class_id)}, at(k));
    EXPECT_EQ(u.tracks.size(), 1U);
    if (!u.tracks.empty()) id = u.tracks[0].id;
  }
  return id;
}

TEST(Tracker, ConstantVelocityKeepsOneIdAndPredictInterpolates) {
  TrackIdAllocator ids;
  Tracker tracker(TrackerConfig{}, ids);
  const double vx = 120;
  const double vy = -30;
  auto truth = [&](double t) { return box_at(200 + vx * t, 400 + vy * t); };
  const double intervals[] = {0.1, 0.2, 0.133, 0.067};  // analysis interval varies

  double t = 0;
  std::int64_t id = 0;
  int born = 0;
  for (int frame = 0; frame < 50; ++frame) {
    const auto u = tracker.update({det(truth(t))}, t);
    ASSERT_EQ(u.tracks.size(), 1U) << "frame " << frame;
    if (frame == 0) id = u.tracks[0].id;
    EXPECT_EQ(u.tracks[0].id, id) << "frame " << frame;
    EXPECT_TRUE(u.lost.empty());
    born += static_cast<int>(u.born.size());

    const double next = t + intervals[frame % 4];
    if (frame >= 10) {
      const double mid = (t + next) / 2;
      const auto p = tracker.predict(mid);
      ASSERT_EQ(p.size(), 1U);
      EXPECT_EQ(p[0].id, id);
      expect_box_near(p[0].box, truth(mid), 2.0F);
    }
    t = next;
  }
  EXPECT_EQ(born, 1);
  const auto final_tracks = tracker.predict(t);
  ASSERT_EQ(final_tracks.size(), 1U);
  EXPECT_NEAR(final_tracks[0].vx, vx, 5.0);
  EXPECT_NEAR(final_tracks[0].vy, vy, 5.0);
  EXPECT_EQ(final_tracks[0].hits, 50);
  EXPECT_DOUBLE_EQ(final_tracks[0].first_seen, 0.0);
}

TEST(Tracker, TwoCrossingObjectsKeepTheirIds) {
  TrackIdAllocator ids;
  Tracker tracker(TrackerConfig{}, ids);
  // Same size, opposite directions, 10 px apart vertically: they overlap
  // heavily around t = 1.0 s.
  auto box_a = [](double t) { return box_at(100 + 200 * t, 300, 60, 120); };
  auto box_b = [](double t) { return box_at(500 - 200 * t, 310, 60, 120); };

  std::int64_t id_a = 0;
  std::int64_t id_b = 0;
  for (int k = 0; k <= 25; ++k) {
    const double t = at(k);
    const auto u = tracker.update({det(box_b(t)), det(box_a(t))}, t);
    ASSERT_EQ(u.tracks.size(), 2U) << "t=" << t;
    for (const Track& track : u.tracks) {
      const bool is_a = iou(track.box, box_a(t)) > iou(track.box, box_b(t));
      std::int64_t& expected = is_a ? id_a : id_b;
      if (k == 0) expected = track.id;
      EXPECT_EQ(track.id, expected) << "t=" << t << (is_a ? " object A" : " object B");
    }
  }
  EXPECT_NE(id_a, id_b);
}

TEST(Tracker, ShortGapKeepsTheId) {
  TrackIdAllocator ids;
  Tracker tracker(TrackerConfig{}, ids);
  auto truth = [](double t) { return box_at(300 + 40 * t, 300); };
  std::int64_t id = 0;
  for (int k = 0; k < 10; ++k) id = tracker.update({det(truth(at(k)))}, at(k)).tracks.at(0).id;

  for (int k = 10; k < 20; ++k) {  // 1.1 s without the object, under lost_buffer_s
    const auto u = tracker.update({}, at(k));
    EXPECT_TRUE(u.tracks.empty()) << "lost tracks are not active";
    EXPECT_TRUE(u.lost.empty());
    EXPECT_EQ(tracker.size(), 1U) << "the lost track is kept";
    EXPECT_TRUE(tracker.predict(at(k) + 0.05).empty()) << "lost tracks are not displayed";
  }

  const auto back = tracker.update({det(truth(at(20)))}, at(20));
  ASSERT_EQ(back.tracks.size(), 1U);
  EXPECT_EQ(back.tracks[0].id, id);
  EXPECT_EQ(back.tracks[0].state, TrackState::kConfirmed);
  EXPECT_EQ(back.tracks[0].misses, 0);
  EXPECT_DOUBLE_EQ(back.tracks[0].last_seen, at(20));
  EXPECT_TRUE(back.born.empty()) << "a track coming back is not born again";
  EXPECT_TRUE(back.lost.empty());
}

TEST(Tracker, LongGapGivesANewIdAndReportsTheOldOneLostOnce) {
  TrackIdAllocator ids;
  Tracker tracker(TrackerConfig{}, ids);
  const Box where = box_at(300, 300);
  const std::int64_t old_id = establish(tracker, where, 10);  // last seen at 0.9 s

  std::vector<Track> reported;
  for (int k = 10; k <= 40; ++k) {
    const auto u = tracker.update({}, at(k));
    reported.insert(reported.end(), u.lost.begin(), u.lost.end());
    if (!u.lost.empty()) {
      EXPECT_GT(at(k) - 0.9, 2.0 - 1e-9) << "reported before lost_buffer_s ran out";
    }
  }
  ASSERT_EQ(reported.size(), 1U);
  EXPECT_EQ(reported[0].id, old_id);
  EXPECT_EQ(reported[0].state, TrackState::kRemoved);
  EXPECT_DOUBLE_EQ(reported[0].last_seen, at(9));
  expect_box_near(reported[0].box, where, 1e-3F);
  EXPECT_EQ(tracker.size(), 0U);

  const auto back = tracker.update({det(where)}, at(41));
  ASSERT_EQ(back.tracks.size(), 1U);
  EXPECT_NE(back.tracks[0].id, old_id);
  EXPECT_EQ(back.tracks[0].state, TrackState::kTentative);
  const auto confirmed = tracker.update({det(where)}, at(42));
  ASSERT_EQ(confirmed.born.size(), 1U);
  EXPECT_EQ(confirmed.born[0].id, back.tracks[0].id);
  EXPECT_TRUE(confirmed.lost.empty());
}

TEST(Tracker, LowScoreDetectionsNeverCreateTracks) {
  TrackIdAllocator ids;
  Tracker tracker(TrackerConfig{}, ids);
  for (int k = 0; k < 10; ++k) {
    const auto u = tracker.update({det(box_at(300, 300), 0.3F)}, at(k));
    EXPECT_TRUE(u.tracks.empty());
    EXPECT_TRUE(u.born.empty());
  }
  EXPECT_EQ(tracker.size(), 0U);
}

TEST(Tracker, LowScoreDetectionsExtendAConfirmedTrack) {
  TrackIdAllocator ids;
  Tracker tracker(TrackerConfig{}, ids);
  auto truth = [](double t) { return box_at(300 + 50 * t, 300); };
  std::int64_t id = 0;
  for (int k = 0; k < 5; ++k) id = tracker.update({det(truth(at(k)))}, at(k)).tracks.at(0).id;

  for (int k = 5; k < 15; ++k) {
    const auto u = tracker.update({det(truth(at(k)), 0.3F)}, at(k));
    ASSERT_EQ(u.tracks.size(), 1U) << "t=" << at(k);
    EXPECT_EQ(u.tracks[0].id, id);
    EXPECT_EQ(u.tracks[0].state, TrackState::kConfirmed);
    EXPECT_FLOAT_EQ(u.tracks[0].score, 0.3F);
    EXPECT_TRUE(u.lost.empty());
    EXPECT_TRUE(u.born.empty());
  }

  // Below low_thresh a detection is ignored altogether.
  const auto u = tracker.update({det(truth(at(15)), 0.05F)}, at(15));
  EXPECT_TRUE(u.tracks.empty());
  EXPECT_EQ(tracker.size(), 1U);
}

TEST(Tracker, HighScoreBelowNewTrackThreshExtendsButDoesNotCreate) {
  TrackIdAllocator ids;
  Tracker tracker(TrackerConfig{}, ids);  // high 0.5, new track 0.6
  EXPECT_TRUE(tracker.update({det(box_at(100, 100), 0.55F)}, 0).tracks.empty());

  const std::int64_t id = tracker.update({det(box_at(400, 400), 0.9F)}, 0.1).tracks.at(0).id;
  tracker.update({det(box_at(400, 400), 0.9F)}, 0.2);
  const auto u = tracker.update({det(box_at(400, 400), 0.55F)}, 0.3);
  ASSERT_EQ(u.tracks.size(), 1U);
  EXPECT_EQ(u.tracks[0].id, id);
}

TEST(Tracker, TrackersSharingAnAllocatorNeverShareAnId) {
  TrackIdAllocator ids;
  Tracker cam1(TrackerConfig{}, ids);
  Tracker cam2(TrackerConfig{}, ids);
  const std::vector<Detection> scene = {det(box_at(100, 100)), det(box_at(300, 100)), det(box_at(500, 100))};

  std::set<std::int64_t> ids1;
  std::set<std::int64_t> ids2;
  for (int k = 0; k < 10; ++k) {
    std::vector<Detection> dets = scene;
    if (k >= 5) dets.push_back(det(box_at(700, 400)));  // a newcomer in both streams
    for (const Track& t : cam1.update(dets, at(k)).tracks) ids1.insert(t.id);
    for (const Track& t : cam2.update(dets, at(k)).tracks) ids2.insert(t.id);
  }
  EXPECT_EQ(ids1.size(), 4U);
  EXPECT_EQ(ids2.size(), 4U);
  for (std::int64_t id : ids1) EXPECT_EQ(ids2.count(id), 0U) << "id " << id << " in both streams";
}

TEST(Tracker, ClassAwarePreventsAPersonFromContinuingACarTrack) {
  TrackIdAllocator ids;
  Tracker tracker(TrackerConfig{}, ids);
  const Box where = box_at(300, 300, 120, 80);
  const std::int64_t car_id = establish(tracker, where, 5, kCar);

  const auto u = tracker.update({det(where, 0.9F, kPerson)}, at(5));
  ASSERT_EQ(u.tracks.size(), 1U);
  EXPECT_NE(u.tracks[0].id, car_id);
  EXPECT_EQ(u.tracks[0].class_id, kPerson);
  EXPECT_EQ(u.tracks[0].state, TrackState::kTentative);
  EXPECT_EQ(find_id(u.tracks, car_id), nullptr) << "the car track is lost, not continued";
  EXPECT_EQ(tracker.size(), 2U);
}

TEST(Tracker, ClassAgnosticLetsAnyClassContinueATrack) {
  TrackIdAllocator ids;
  TrackerConfig config;
  config.class_aware = false;
  Tracker tracker(config, ids);
  const Box where = box_at(300, 300, 120, 80);
  const std::int64_t car_id = establish(tracker, where, 5, kCar);

  const auto u = tracker.update({det(where, 0.9F, kPerson)}, at(5));
  ASSERT_EQ(u.tracks.size(), 1U);
  EXPECT_EQ(u.tracks[0].id, car_id);
  EXPECT_EQ(u.tracks[0].class_id, kPerson) << "the class follows the latest detection";
}

TEST(Tracker, TrackInTheFirstAnalysedFrameIsBornAtOnce) {
  TrackIdAllocator ids;
  Tracker tracker(TrackerConfig{}, ids);
  const auto u = tracker.update({det(box_at(100, 100))}, 5.0);
  ASSERT_EQ(u.born.size(), 1U);
  EXPECT_EQ(u.born[0].state, TrackState::kConfirmed);
  EXPECT_DOUBLE_EQ(u.born[0].first_seen, 5.0);
  ASSERT_EQ(u.tracks.size(), 1U);
  EXPECT_EQ(u.tracks[0].id, u.born[0].id);
  EXPECT_EQ(tracker.predict(5.1).size(), 1U);
}

TEST(Tracker, BornReportsATrackOnceWhenItIsConfirmed) {
  TrackIdAllocator ids;
  Tracker tracker(TrackerConfig{}, ids);
  tracker.update({}, 0.0);  // the stream's first analysed frame is empty

  const auto first = tracker.update({det(box_at(200, 200))}, 0.1);
  ASSERT_EQ(first.tracks.size(), 1U);
  EXPECT_EQ(first.tracks[0].state, TrackState::kTentative);
  EXPECT_TRUE(first.born.empty());
  EXPECT_TRUE(tracker.predict(0.15).empty()) << "tentative tracks are not displayed";

  const auto second = tracker.update({det(box_at(200, 200))}, 0.2);
  ASSERT_EQ(second.born.size(), 1U);
  EXPECT_EQ(second.born[0].id, first.tracks[0].id);
  EXPECT_EQ(second.born[0].state, TrackState::kConfirmed);
  EXPECT_EQ(second.born[0].hits, 2);

  for (int k = 3; k < 10; ++k) EXPECT_TRUE(tracker.update({det(box_at(200, 200))}, at(k)).born.empty());
}

TEST(Tracker, MinHitsSetsHowManyMatchesConfirm) {
  TrackIdAllocator ids;
  TrackerConfig config;
  config.min_hits = 3;
  Tracker tracker(config, ids);
  tracker.update({}, 0.0);
  EXPECT_TRUE(tracker.update({det(box_at(200, 200))}, 0.1).born.empty());
  EXPECT_TRUE(tracker.update({det(box_at(200, 200))}, 0.2).born.empty());
  EXPECT_EQ(tracker.update({det(box_at(200, 200))}, 0.3).born.size(), 1U);
}

TEST(Tracker, UnmatchedTentativeTrackIsDroppedSilently) {
  TrackIdAllocator ids;
  Tracker tracker(TrackerConfig{}, ids);
  tracker.update({}, 0.0);
  tracker.update({det(box_at(200, 200))}, 0.1);
  const auto u = tracker.update({}, 0.2);
  EXPECT_TRUE(u.tracks.empty());
  EXPECT_TRUE(u.lost.empty()) << "never confirmed, so never reported";
  EXPECT_EQ(tracker.size(), 0U);
}

TEST(Tracker, YoungerDuplicateOfALostTrackIsDroppedAndReported) {
  TrackIdAllocator ids;
  Tracker tracker(TrackerConfig{}, ids);
  const Box parked = box_at(300, 300);
  // A stands at `parked` for 2 s, then disappears; B arrives at 100 px/s and
  // stops exactly where A stood, while A is still in the lost buffer.
  auto box_b = [](int k) { return box_at(300 + 10.0 * std::max(0, 25 - k), 300); };
  std::int64_t id_a = 0;
  std::int64_t id_b = 0;
  for (int k = 0; k < 25; ++k) {
    std::vector<Detection> dets;
    if (k < 20) dets.push_back(det(parked));
    if (k >= 10) dets.push_back(det(box_b(k)));
    const auto u = tracker.update(dets, at(k));
    if (k == 0) id_a = u.tracks.at(0).id;
    if (k == 11) id_b = u.born.at(0).id;
    EXPECT_TRUE(u.lost.empty()) << "t=" << at(k);
  }
  ASSERT_NE(id_b, 0);

  // B now overlaps the lost A almost entirely: A, tracked for longer, stays.
  const auto merged = tracker.update({det(box_b(25))}, at(25));
  ASSERT_EQ(merged.lost.size(), 1U);
  EXPECT_EQ(merged.lost[0].id, id_b);
  EXPECT_EQ(find_id(merged.tracks, id_b), nullptr);

  const auto after = tracker.update({det(box_b(26))}, at(26));
  ASSERT_EQ(after.tracks.size(), 1U);
  EXPECT_EQ(after.tracks[0].id, id_a);
  EXPECT_TRUE(after.lost.empty());
  EXPECT_TRUE(after.born.empty());
}

TEST(Tracker, PredictChangesNothing) {
  TrackIdAllocator ids_a;
  TrackIdAllocator ids_b;
  Tracker observed(TrackerConfig{}, ids_a);
  Tracker twin(TrackerConfig{}, ids_b);
  auto truth = [](double t) { return box_at(100 + 80 * t, 200 + 20 * t); };
  for (int k = 0; k < 20; ++k) {
    const auto a = observed.update({det(truth(at(k)))}, at(k));
    const auto b = twin.update({det(truth(at(k)))}, at(k));
    ASSERT_EQ(a.tracks.size(), b.tracks.size());
    expect_box_near(a.tracks[0].box, b.tracks[0].box, 0);

    const auto p1 = observed.predict(at(k) + 0.03);
    const auto p2 = observed.predict(at(k) + 0.03);
    ASSERT_EQ(p1.size(), 1U);
    expect_box_near(p1[0].box, p2[0].box, 0);
    // Earlier than the last update means "at the last update".
    expect_box_near(observed.predict(at(k) - 1.0).at(0).box, a.tracks[0].box, 1e-4F);
  }
}

TEST(Tracker, TimeGoingBackwardsIsTreatedAsNoTimePassing) {
  TrackIdAllocator ids;
  Tracker tracker(TrackerConfig{}, ids);
  const std::int64_t id = establish(tracker, box_at(100, 100), 5);
  const auto u = tracker.update({det(box_at(100, 100))}, 0.1);
  ASSERT_EQ(u.tracks.size(), 1U);
  EXPECT_EQ(u.tracks[0].id, id);
  EXPECT_DOUBLE_EQ(u.tracks[0].last_seen, at(4));
}

TEST(Tracker, ResetForgetsTracksAndStartsAFreshStream) {
  TrackIdAllocator ids;
  Tracker tracker(TrackerConfig{}, ids);
  const std::int64_t id = establish(tracker, box_at(100, 100), 5);
  tracker.reset();
  EXPECT_EQ(tracker.size(), 0U);
  EXPECT_TRUE(tracker.predict(1.0).empty());
  const auto u = tracker.update({det(box_at(100, 100))}, 0.0);
  ASSERT_EQ(u.born.size(), 1U) << "first analysed frame again";
  EXPECT_NE(u.born[0].id, id) << "ids are never reused";
}

TEST(Tracker, NonFiniteDetectionsAreIgnored) {
  TrackIdAllocator ids;
  Tracker tracker(TrackerConfig{}, ids);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const auto u = tracker.update({det(Box{nan, 0, 10, 10}), det(box_at(100, 100))}, 0.0);
  ASSERT_EQ(u.tracks.size(), 1U);
  EXPECT_FLOAT_EQ(u.tracks[0].box.x1, 75.0F);
}

struct BadConfig {
  const char* field;
  void (*spoil)(TrackerConfig&);
};

TEST(TrackerConfig, DefaultsAreValid) { EXPECT_TRUE(TrackerConfig{}.validate().has_value()); }

TEST(TrackerConfig, ValidateNamesTheBadField) {
  const BadConfig cases[] = {
      {"high_thresh", [](TrackerConfig& c) { c.high_thresh = 0; }},
      {"high_thresh", [](TrackerConfig& c) { c.high_thresh = 1.5F; }},
      {"high_thresh", [](TrackerConfig& c) { c.high_thresh = std::numeric_limits<float>::quiet_NaN(); }},
      {"low_thresh", [](TrackerConfig& c) { c.low_thresh = -0.1F; }},
      {"low_thresh", [](TrackerConfig& c) { c.low_thresh = c.high_thresh; }},
      {"new_track_thresh", [](TrackerConfig& c) { c.new_track_thresh = 0.4F; }},
      {"new_track_thresh", [](TrackerConfig& c) { c.new_track_thresh = 1.1F; }},
      {"match_iou", [](TrackerConfig& c) { c.match_iou = 0; }},
      {"second_match_iou", [](TrackerConfig& c) { c.second_match_iou = 1.5F; }},
      {"unconfirmed_match_iou", [](TrackerConfig& c) { c.unconfirmed_match_iou = -1; }},
      {"lost_buffer_s", [](TrackerConfig& c) { c.lost_buffer_s = -1; }},
      {"lost_buffer_s", [](TrackerConfig& c) { c.lost_buffer_s = std::numeric_limits<double>::infinity(); }},
      {"min_hits", [](TrackerConfig& c) { c.min_hits = 0; }},
  };
  for (const BadConfig& bad : cases) {
    TrackerConfig config;
    bad.spoil(config);
    const auto result = config.validate();
    ASSERT_FALSE(result.has_value()) << bad.field;
    EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
    const std::string expected = std::string("tracker.") + bad.field + ":";
    EXPECT_EQ(result.error().message.rfind(expected, 0), 0U) << result.error().message;
  }
}

TEST(TrackerConfig, ConstructorRejectsABadConfig) {
  TrackIdAllocator ids;
  TrackerConfig config;
  config.min_hits = 0;
  EXPECT_THROW(Tracker(config, ids), std::invalid_argument);
}

}  // namespace
}  // namespace vigil
