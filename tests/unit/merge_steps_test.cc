// Each step of merge_results alone, over typed chunk results (the whole
// merge is tested end to end in results_merge_test.cc).
#include "jobs/merge_steps.h"

#include <gtest/gtest.h>

namespace vigil::merge {
namespace {

const std::vector<std::string> kClasses = {"person", "car"};

ChunkTrack track(std::int64_t id, int cls, double first, double last, Box first_box, Box last_box, bool open,
                 int hits = 1, double score = 0.5) {
  ChunkTrack t;
  t.id = id;
  t.class_id = cls;
  t.first = first;
  t.last = last;
  t.hits = hits;
  t.score = score;
  t.first_box = first_box;
  t.last_box = last_box;
  t.open = open;
  return t;
}

ChunkEvent event(EventKind kind, double pts, std::int64_t track_id, const std::string& zone = "", double dwell = 0,
                 bool boundary = false) {
  ChunkEvent ce;
  ce.event.kind = kind;
  ce.event.stream = "cam";
  ce.event.pts = pts;
  ce.event.track_id = track_id;
  ce.event.class_id = 0;
  ce.event.class_name = "person";
  ce.event.zone = zone;
  ce.event.dwell_s = dwell;
  ce.boundary = boundary;
  return ce;
}

// Samples at t = from .. to-1 (1 per second), pts = t.
std::vector<ChunkSample> samples(int from, int to, std::map<int, int> counts = {}) {
  std::vector<ChunkSample> out;
  for (int t = from; t < to; ++t) out.push_back({double(t), double(t), counts});
  return out;
}

DoneChunk chunk(int index, std::vector<ChunkTrack> tracks, std::vector<ChunkEvent> events = {}) {
  DoneChunk d;
  d.chunk = Chunk{index, index * 10.0, index * 10.0 + 10.0};
  d.result.samples = samples(index * 10, index * 10 + 10);
  d.result.tracks = std::move(tracks);
  d.result.events = std::move(events);
  return d;
}

const Box kA{100, 100, 200, 300};
const Box kB{104, 100, 204, 300};  // IoU with kA ~0.92
const Box kFar{400, 100, 500, 300};
const StitchParams kParams{1.0, 1.0, 0.3};

TEST(MergeSteps, ParseDoneChunksSkipsOthersAndNamesABadOne) {
  ChunkState done;
  done.chunk = Chunk{0, 0, 10};
  done.state = ChunkStatus::kDone;
  done.result = to_text(chunk(0, {}).result);
  ChunkState pending;
  pending.chunk = Chunk{1, 10, 20};
  pending.result = "never read";
  auto parsed = parse_done_chunks({done, pending});
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ((*parsed)[0].result.samples.size(), 10u);

  ChunkState bad = done;
  bad.chunk.index = 4;
  bad.result = R"({"samples": [], "tracks": [{"id": 1}], "events": []})";
  auto err = parse_done_chunks({done, bad});
  ASSERT_FALSE(err.has_value());
  EXPECT_EQ(err.error().code, ErrorCode::kBadInput);
  EXPECT_NE(err.error().message.find("chunk 4 result: "), std::string::npos) << err.error().message;
  EXPECT_NE(err.error().message.find("tracks[0].class: missing"), std::string::npos) << err.error().message;
}

TEST(MergeSteps, StitchJoinsTheBestOverlapAndNumbersByFirstAppearance) {
  // Chunk 0: track 1 open at the end (box kA), track 2 closed. Chunk 1: two
  // tracks born at its first sample; 11 overlaps kA, 12 is far away.
  const std::vector<DoneChunk> done = {
      chunk(0, {track(1, 0, 5, 9, kA, kA, true, 5, 0.7), track(2, 0, 2, 3, kA, kA, false)}),
      chunk(1, {track(11, 0, 10, 12, kB, kB, false, 3, 0.9), track(12, 0, 10, 11, kFar, kFar, false)})};
  const StitchedTracks st = stitch_tracks(done, kParams);
  ASSERT_EQ(st.stitches.size(), 1u);
  EXPECT_EQ(st.stitches[0].chunk, 1);
  EXPECT_DOUBLE_EQ(st.stitches[0].t, 10.0);
  EXPECT_EQ(st.continues_from.at({1, 11}), 1);
  EXPECT_EQ(st.continues_to.at({0, 1}), 11);
  // Ids by first appearance: track 2 (2 s) is 1, track 1 (5 s) is 2, 12 is 3.
  EXPECT_EQ(st.global_id.at({0, 2}), 1);
  EXPECT_EQ(st.global_id.at({0, 1}), 2);
  EXPECT_EQ(st.global_id.at({1, 11}), 2);
  EXPECT_EQ(st.global_id.at({1, 12}), 3);
  ASSERT_EQ(st.tracks.size(), 3u);
  const GlobalTrack& joined = st.tracks[1];
  EXPECT_DOUBLE_EQ(joined.first, 5);
  EXPECT_DOUBLE_EQ(joined.last, 12);
  EXPECT_EQ(joined.hits, 8);
  EXPECT_DOUBLE_EQ(joined.score, 0.9);
  EXPECT_EQ(joined.chunks, (std::vector<int>{0, 1}));
}

TEST(MergeSteps, StitchNeedsAdjacentChunksAndABirthAtTheStart) {
  // A gap (chunk 1 missing): nothing is stitched.
  std::vector<DoneChunk> gap = {chunk(0, {track(1, 0, 5, 9, kA, kA, true)}), chunk(2, {track(21, 0, 20, 22, kB, kB, false)})};
  EXPECT_TRUE(stitch_tracks(gap, kParams).stitches.empty());
  // Born 2 s after the chunk's first sample (> 1.5 intervals): not a continuation.
  std::vector<DoneChunk> late = {chunk(0, {track(1, 0, 5, 9, kA, kA, true)}), chunk(1, {track(11, 0, 12, 13, kB, kB, false)})};
  EXPECT_TRUE(stitch_tracks(late, kParams).stitches.empty());
  // Another class: not a continuation.
  std::vector<DoneChunk> other = {chunk(0, {track(1, 0, 5, 9, kA, kA, true)}), chunk(1, {track(11, 1, 10, 13, kB, kB, false)})};
  EXPECT_TRUE(stitch_tracks(other, kParams).stitches.empty());
}

TEST(MergeSteps, EventsOfAStitchedVisitJoinAndDwellCountsFromTheFirstEnter) {
  // Chunk 0: enter at 6, boundary exit + lost at 9. Chunk 1: the
  // continuation enters at its birth (10) and exits at 12 (own dwell 2 s).
  const std::vector<DoneChunk> done = {
      chunk(0, {track(1, 0, 5, 9, kA, kA, true)},
            {event(EventKind::kTrackNew, 5, 1), event(EventKind::kZoneEnter, 6, 1, "door"),
             event(EventKind::kZoneExit, 9, 1, "door", 3, true), event(EventKind::kTrackLost, 9, 1, "", 0, true)}),
      chunk(1, {track(11, 0, 10, 12, kB, kB, false)},
            {event(EventKind::kTrackNew, 10, 11), event(EventKind::kZoneEnter, 10, 11, "door"),
             event(EventKind::kZoneExit, 12, 11, "door", 2), event(EventKind::kTrackLost, 13, 11)})};
  ZoneConfig door;
  door.name = "door";
  door.dwell_s = 4;  // reached only over the whole visit (6 -> 10)
  const std::vector<Event> events = merge_events(done, stitch_tracks(done, kParams), {door});
  std::vector<EventKind> kinds;
  for (const auto& e : events) {
    kinds.push_back(e.kind);
    EXPECT_EQ(e.track_id, 1);
  }
  EXPECT_EQ(kinds, (std::vector<EventKind>{EventKind::kTrackNew, EventKind::kZoneEnter, EventKind::kDwell,
                                           EventKind::kZoneExit, EventKind::kTrackLost}));
  ASSERT_EQ(events.size(), 5u);
  EXPECT_DOUBLE_EQ(events[2].pts, 10.0);   // the first sample at or after 6 + 4
  EXPECT_DOUBLE_EQ(events[2].dwell_s, 4.0);
  EXPECT_EQ(events[2].zone, "door");
  EXPECT_DOUBLE_EQ(events[3].dwell_s, 6.0);  // 12 - 6, not the continuation's 2
}

TEST(MergeSteps, TimelineCsvHasEveryClassSeen) {
  DoneChunk a = chunk(0, {});
  a.result.samples = {{0, 0.02, {{1, 2}}}, {1, 1.02, {}}};
  DoneChunk b = chunk(1, {});
  b.result.samples = {{10, 10.02, {{0, 1}, {1, 1}}}};
  const Timeline tl = build_timeline({a, b});
  EXPECT_EQ(tl.rows.size(), 3u);
  EXPECT_EQ(tl.classes, (std::set<int>{0, 1}));
  EXPECT_EQ(timeline_csv(tl, kClasses),
            "t,pts,person,car,total\n"
            "0.000,0.020,0,2,2\n"
            "1.000,1.020,0,0,0\n"
            "10.000,10.020,1,1,2\n");
  Timeline unknown;
  unknown.rows = {{0, 0, {{7, 1}}}};
  unknown.classes = {7};
  EXPECT_EQ(timeline_csv(unknown, kClasses), "t,pts,7,total\n0.000,0.000,1,1\n");
}

TEST(MergeSteps, CountsOverTimeBucketsEverySampleOnce) {
  Timeline tl;
  for (int t = 0; t < 7; ++t) tl.rows.push_back({double(t), double(t), t % 2 ? std::map<int, int>{{0, 3}} : std::map<int, int>{}});
  const Counts c = count_over_time(tl, 5, kClasses);
  ASSERT_EQ(c.rows.size(), 2u);
  EXPECT_DOUBLE_EQ(c.rows[0].t, 0);
  EXPECT_EQ(c.rows[0].samples, 5u);
  EXPECT_DOUBLE_EQ(c.rows[0].mean.at("person"), 1.2);  // (3 + 3) / 5
  EXPECT_EQ(c.rows[0].max.at("person"), 3);
  EXPECT_DOUBLE_EQ(c.rows[1].t, 5);
  EXPECT_EQ(c.rows[1].samples, 2u);
  EXPECT_EQ(c.detections.at("person"), 9);
  EXPECT_EQ(c.max_in_frame.at("person"), 3);
  EXPECT_DOUBLE_EQ(pick_bucket(30, 1), 1);
  EXPECT_DOUBLE_EQ(pick_bucket(3600, 1), 15);  // 3600 / 240
  EXPECT_DOUBLE_EQ(pick_bucket(30, 0.25), 5);  // not below one sample interval (4 s)
  EXPECT_DOUBLE_EQ(pick_bucket(1e9, 1), 86400);
}

TEST(MergeSteps, ZoneAndLineSummary) {
  std::vector<Event> events;
  const auto add = [&](EventKind k, const std::string& place, double dwell = 0, const std::string& dir = "") {
    Event e = event(k, 1, 1, "").event;
    if (k == EventKind::kLineCross) e.line = place;
    else e.zone = place;
    e.dwell_s = dwell;
    e.direction = dir;
    events.push_back(e);
  };
  add(EventKind::kZoneEnter, "door");
  add(EventKind::kDwell, "door", 2);
  add(EventKind::kZoneExit, "door", 2.5);
  add(EventKind::kZoneEnter, "door");
  add(EventKind::kZoneExit, "door", 1.25);
  add(EventKind::kLineCross, "gate", 0, "in");
  add(EventKind::kLineCross, "gate", 0, "out");
  add(EventKind::kLineCross, "gate", 0, "out");
  add(EventKind::kTrackNew, "");
  ZoneConfig door, yard;
  door.name = "door";
  yard.name = "yard";
  LineConfig gate;
  gate.name = "gate";
  const ZonesAndLines s = summarize_zones_and_lines(events, {door, yard}, {gate});
  EXPECT_EQ(s.zone_events.size(), 5u);
  EXPECT_EQ(s.line_events.size(), 3u);
  const ZoneSummary& d = s.zones.at("door");
  EXPECT_EQ(d.visits.at("person"), 2);
  EXPECT_EQ(d.dwell_events, 1);
  EXPECT_EQ(d.exits, 2);
  EXPECT_DOUBLE_EQ(d.dwell_max_s, 2.5);
  EXPECT_DOUBLE_EQ(d.dwell_total_s, 3.75);
  EXPECT_TRUE(s.zones.at("yard").visits.empty());  // configured, never visited: still listed
  const LineSummary& g = s.lines.at("gate");
  EXPECT_EQ(g.total.in, 1);
  EXPECT_EQ(g.total.out, 2);
  EXPECT_EQ(g.by_class.at("person").out, 2);
}

TEST(MergeSteps, BusiestMomentsMostDetectionsThenEarliest) {
  DoneChunk a = chunk(0, {}), b = chunk(1, {});
  for (int i = 0; i < 4; ++i) a.result.thumbs.push_back({double(i), double(i), 2, "a" + std::to_string(i)});
  b.result.thumbs.push_back({10, 10, 5, "b"});
  b.result.thumbs.push_back({11, 11, 2, "b2"});
  b.result.thumbs.push_back({12, 12, 1, "b3"});
  const auto top = busiest_moments({a, b});
  ASSERT_EQ(top.size(), kBusiestMoments);
  EXPECT_EQ(top[0].jpeg_base64, "b");
  EXPECT_EQ(top[1].jpeg_base64, "a0");
  EXPECT_EQ(top[5].jpeg_base64, "b2");
}

TEST(MergeSteps, DamagedRangesJoinWhereTheyOverlap) {
  DoneChunk a = chunk(0, {}), b = chunk(1, {});
  a.result.damaged = {{8.5, 10.5, 2, "first"}};
  b.result.damaged = {{9.0, 11.0, 1, "second"}, {15, 16, 1, "third"}};
  const auto m = merge_damaged({b, a});
  ASSERT_EQ(m.size(), 2u);
  EXPECT_DOUBLE_EQ(m[0].from, 8.5);
  EXPECT_DOUBLE_EQ(m[0].to, 11.0);
  EXPECT_EQ(m[0].samples_lost, 3);
  EXPECT_EQ(m[0].error, "first");
  EXPECT_EQ(m[1].error, "third");
}

}  // namespace
}  // namespace vigil::merge
