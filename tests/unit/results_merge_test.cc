#include "jobs/results_merge.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobs/report_html.h"
#include "store/event_json.h"

namespace vigil {
namespace {

using json = nlohmann::json;

const std::vector<std::string> kClasses = {"person", "car", "dog"};

AnalyzeSettings settings() {
  AnalyzeSettings s;
  s.video = "/videos/cam.mp4";
  s.name = "cam";
  s.sample_fps = 1;
  s.chunk_s = 10;
  s.model_path = "/models/nanodet.onnx";
  s.stream = default_stream("cam", "/videos/cam.mp4");
  ZoneConfig door;
  door.name = "door";
  door.polygon = {{0.0F, 0.0F}, {0.5F, 0.0F}, {0.5F, 1.0F}, {0.0F, 1.0F}};
  s.stream.zones.push_back(door);
  return s;
}

VideoInfo video() {
  VideoInfo v;
  v.path = "/videos/cam.mp4";
  v.duration_s = 30;
  v.width = 640;
  v.height = 480;
  v.fps = 10;
  v.codec = "h264";
  return v;
}

// Event JSON as chunk_analyzer.cc writes it (store/event_json.h, no wall_time).
json event(const std::string& kind, double pts, std::int64_t track_id, int cls, bool boundary = false) {
  json e = {{"kind", kind}, {"stream", "cam"}, {"pts", pts}};
  if (track_id >= 0) e["track_id"] = track_id;
  if (cls >= 0) {
    e["class_id"] = cls;
    e["class"] = kClasses[static_cast<std::size_t>(cls)];
  }
  if (boundary) e["boundary"] = true;
  return e;
}
json zone_event(const std::string& kind, double pts, std::int64_t track_id, int cls, double dwell = -1,
                bool boundary = false) {
  json e = event(kind, pts, track_id, cls, boundary);
  e["zone"] = "door";
  if (dwell >= 0) e["dwell_s"] = dwell;
  return e;
}

json track(std::int64_t id, int cls, double first, double last, int hits, const json& first_box, const json& last_box,
           bool open) {
  return {{"id", id},       {"class", cls},         {"first", first},     {"last", last}, {"hits", hits},
          {"score", 0.875}, {"first_box", first_box}, {"last_box", last_box}, {"open", open}};
}

// samples [t, t, counts] for t in [from, to) (1 sample/s); counts(t) gives
// the counts object of each.
template <class F>
json samples(int from, int to, F counts) {
  json out = json::array();
  for (int t = from; t < to; ++t) out.push_back(json::array({double(t), double(t), counts(t)}));
  return out;
}

ChunkState done_chunk(int index, const json& result) {
  ChunkState c;
  c.chunk = Chunk{index, index * 10.0, index * 10.0 + 10.0};
  c.state = ChunkStatus::kDone;
  c.attempts = 1;
  c.result = result.dump();
  return c;
}

ChunkState failed_chunk(int index, const std::string& error) {
  ChunkState c;
  c.chunk = Chunk{index, index * 10.0, index * 10.0 + 10.0};
  c.state = ChunkStatus::kFailed;
  c.attempts = 3;
  c.error = error;
  return c;
}

json result(const json& samples_j, const json& tracks, const json& events) {
  return {{"samples", samples_j}, {"tracks", tracks}, {"events", events}, {"thumbs", json::array()},
          {"frame", {640, 480}},  {"stats", json::object()}};
}

const json kBoxA0 = {100.0, 100.0, 200.0, 300.0};
const json kBoxA1 = {110.0, 100.0, 210.0, 300.0};  // chunk 0's last box
const json kBoxB0 = {112.0, 102.0, 212.0, 302.0};  // chunk 1's first box: IoU with kBoxA1 ~0.94
const json kBoxB1 = {140.0, 100.0, 240.0, 300.0};
const json kBoxFar = {400.0, 100.0, 500.0, 300.0};  // IoU 0 with kBoxA1

// Chunk 0 [0,10): a person (local id 1) from 5 s, in the door zone from 6 s,
// still tracked and in the zone at the last sample (9 s).
json chunk0() {
  return result(samples(0, 10, [](int t) { return t >= 5 ? json{{"0", 1}} : json::object(); }),
                json::array({track(1, 0, 5, 9, 5, kBoxA0, kBoxA1, true)}),
                json::array({event("track_new", 5, 1, 0), zone_event("zone_enter", 6, 1, 0),
                             zone_event("zone_exit", 9, 1, 0, 3.0, true), event("track_lost", 9, 1, 0, true)}));
}

// Chunk 1 [10,20): a track of class cls (local id 1000001) born at its first
// sample with first box `box`, in the zone 10..12 s, lost at 15 s.
json chunk1(int cls, const json& box) {
  const std::string key = std::to_string(cls);
  return result(samples(10, 20, [&](int t) { return t <= 13 ? json{{key, 1}} : json::object(); }),
                json::array({track(1000001, cls, 10, 13, 4, box, kBoxB1, false)}),
                json::array({event("track_new", 10, 1000001, cls), zone_event("zone_enter", 10, 1000001, cls),
                             zone_event("zone_exit", 12, 1000001, cls, 2.0), event("track_lost", 15, 1000001, cls)}));
}

MergedResults merge_ok(const std::vector<ChunkState>& chunks) {
  auto m = merge_results(settings(), video(), kClasses, chunks);
  EXPECT_TRUE(m.has_value()) << m.error().message;
  return m ? std::move(*m) : MergedResults{};
}

// The merged events as events.jsonl has them.
std::vector<json> events_json(const MergedResults& m) {
  std::vector<json> out;
  for (const auto& e : m.events) out.push_back(to_offline_json(e));
  return out;
}

std::vector<json> events_of_kind(const MergedResults& m, const std::string& kind) {
  std::vector<json> out;
  for (const auto& e : events_json(m))
    if (e.value("kind", "") == kind) out.push_back(e);
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(ResultsMerge, StitchesATrackAcrossTheBoundary) {
  const MergedResults m = merge_ok({done_chunk(0, chunk0()), done_chunk(1, chunk1(0, kBoxB0))});

  const json& tracks = m.results["tracks"];
  ASSERT_EQ(tracks.size(), 1u) << tracks.dump();
  EXPECT_EQ(tracks[0]["id"], 1);
  EXPECT_EQ(tracks[0]["class"], "person");
  EXPECT_DOUBLE_EQ(tracks[0]["first_seen"].get<double>(), 5.0);
  EXPECT_DOUBLE_EQ(tracks[0]["last_seen"].get<double>(), 13.0);
  EXPECT_EQ(tracks[0]["samples"], 9);
  EXPECT_EQ(tracks[0]["chunks"], json::array({0, 1}));

  const json& stitches = m.results["stitches"];
  ASSERT_EQ(stitches.size(), 1u) << stitches.dump();
  EXPECT_EQ(stitches[0]["track"], 1);
  EXPECT_EQ(stitches[0]["chunk"], 1);
  EXPECT_DOUBLE_EQ(stitches[0]["t"].get<double>(), 10.0);
  EXPECT_EQ(m.results["summary"]["stitches"], 1);
  EXPECT_EQ(m.results["summary"]["tracks"], json({{"person", 1}}));

  // Events: one track_new (5 s), one enter (6 s), one exit (12 s, dwell from
  // 6 s), one track_lost (15 s); all with the global id and no "boundary".
  std::vector<std::string> kinds;
  const std::vector<json> events = events_json(m);
  for (const auto& e : events) {
    kinds.push_back(e.value("kind", ""));
    EXPECT_EQ(e.value("track_id", std::int64_t{-1}), 1) << e.dump();
    EXPECT_FALSE(e.contains("boundary")) << e.dump();
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"track_new", "zone_enter", "zone_exit", "track_lost"}));
  ASSERT_EQ(m.events.size(), 4u);
  EXPECT_DOUBLE_EQ(events[0]["pts"].get<double>(), 5.0);
  EXPECT_DOUBLE_EQ(events[1]["pts"].get<double>(), 6.0);
  EXPECT_DOUBLE_EQ(events[2]["pts"].get<double>(), 12.0);
  EXPECT_DOUBLE_EQ(events[2]["dwell_s"].get<double>(), 6.0);
  EXPECT_DOUBLE_EQ(events[3]["pts"].get<double>(), 15.0);
  EXPECT_FALSE(events[0].contains("wall_time"));  // offline events have no wall clock

  const json& door = m.results["summary"]["zones"]["door"];
  EXPECT_EQ(door["visits"], json({{"person", 1}}));
  EXPECT_EQ(door["exits"], 1);
  EXPECT_DOUBLE_EQ(door["dwell_max_s"].get<double>(), 6.0);
  EXPECT_DOUBLE_EQ(door["dwell_total_s"].get<double>(), 6.0);
  EXPECT_EQ(m.results["zone_events"].size(), 2u);
}

TEST(ResultsMerge, StitchesThroughSeveralChunks) {
  // Chunk 2 continues chunk 1's track, which is now open at its end too.
  json c1 = chunk1(0, kBoxB0);
  c1["tracks"][0]["open"] = true;
  c1["tracks"][0]["last"] = 19.0;
  c1["events"] = json::array({event("track_new", 10, 1000001, 0), zone_event("zone_enter", 10, 1000001, 0),
                              zone_event("zone_exit", 19, 1000001, 0, 9.0, true),
                              event("track_lost", 19, 1000001, 0, true)});
  const json c2 = result(samples(20, 30, [](int t) { return t <= 22 ? json{{"0", 1}} : json::object(); }),
                         json::array({track(2000001, 0, 20, 22, 3, kBoxB1, kBoxB1, false)}),
                         json::array({event("track_new", 20, 2000001, 0), zone_event("zone_enter", 20, 2000001, 0),
                                      zone_event("zone_exit", 21, 2000001, 0, 1.0),
                                      event("track_lost", 24, 2000001, 0)}));
  const MergedResults m = merge_ok({done_chunk(0, chunk0()), done_chunk(1, c1), done_chunk(2, c2)});
  ASSERT_EQ(m.results["tracks"].size(), 1u) << m.results["tracks"].dump();
  EXPECT_EQ(m.results["tracks"][0]["chunks"], json::array({0, 1, 2}));
  EXPECT_EQ(m.results["stitches"].size(), 2u);
  const auto exits = events_of_kind(m, "zone_exit");
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_DOUBLE_EQ(exits[0]["pts"].get<double>(), 21.0);
  EXPECT_DOUBLE_EQ(exits[0]["dwell_s"].get<double>(), 15.0);  // 6 s -> 21 s
  EXPECT_EQ(events_of_kind(m, "zone_enter").size(), 1u);
  EXPECT_EQ(events_of_kind(m, "track_new").size(), 1u);
  EXPECT_EQ(events_of_kind(m, "track_lost").size(), 1u);
}

void expect_not_stitched(const MergedResults& m, const std::string& second_class) {
  const json& tracks = m.results["tracks"];
  ASSERT_EQ(tracks.size(), 2u) << tracks.dump();
  EXPECT_EQ(tracks[0]["id"], 1);
  EXPECT_EQ(tracks[0]["class"], "person");
  EXPECT_EQ(tracks[0]["chunks"], json::array({0}));
  EXPECT_EQ(tracks[1]["id"], 2);
  EXPECT_EQ(tracks[1]["class"], second_class);
  EXPECT_EQ(tracks[1]["chunks"], json::array({1}));
  EXPECT_TRUE(m.results["stitches"].empty());
  EXPECT_EQ(m.results["summary"]["stitches"], 0);

  // Chunk 0's boundary closures are kept as real ends, without the key.
  const auto lost = events_of_kind(m, "track_lost");
  ASSERT_EQ(lost.size(), 2u);
  EXPECT_EQ(lost[0]["track_id"], 1);
  EXPECT_DOUBLE_EQ(lost[0]["pts"].get<double>(), 9.0);
  EXPECT_FALSE(lost[0].contains("boundary"));
  EXPECT_EQ(lost[1]["track_id"], 2);
  const auto born = events_of_kind(m, "track_new");
  ASSERT_EQ(born.size(), 2u);
  EXPECT_EQ(born[1]["track_id"], 2);
  EXPECT_DOUBLE_EQ(born[1]["pts"].get<double>(), 10.0);
  const auto exits = events_of_kind(m, "zone_exit");
  ASSERT_EQ(exits.size(), 2u);
  EXPECT_FALSE(exits[0].contains("boundary"));
  EXPECT_DOUBLE_EQ(exits[0]["dwell_s"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(exits[1]["dwell_s"].get<double>(), 2.0);
  EXPECT_EQ(events_of_kind(m, "zone_enter").size(), 2u);
  for (const auto& e : events_json(m)) EXPECT_FALSE(e.contains("boundary")) << e.dump();
}

TEST(ResultsMerge, DifferentClassIsNotStitched) {
  const MergedResults m = merge_ok({done_chunk(0, chunk0()), done_chunk(1, chunk1(1, kBoxB0))});
  expect_not_stitched(m, "car");
}

TEST(ResultsMerge, BoxesFarApartAreNotStitched) {
  const MergedResults m = merge_ok({done_chunk(0, chunk0()), done_chunk(1, chunk1(0, kBoxFar))});
  expect_not_stitched(m, "person");
}

TEST(ResultsMerge, TrackBornLaterInTheNextChunkIsNotStitched) {
  // Same class and box, but first seen at 14 s: not a continuation.
  json c1 = chunk1(0, kBoxB0);
  c1["tracks"][0]["first"] = 14.0;
  c1["tracks"][0]["last"] = 16.0;
  c1["events"] = json::array({event("track_new", 14, 1000001, 0), event("track_lost", 18, 1000001, 0)});
  const MergedResults m = merge_ok({done_chunk(0, chunk0()), done_chunk(1, c1)});
  EXPECT_EQ(m.results["tracks"].size(), 2u);
  EXPECT_TRUE(m.results["stitches"].empty());
  EXPECT_EQ(events_of_kind(m, "track_lost").size(), 2u);
}

TEST(ResultsMerge, GlobalIdsFollowFirstAppearance) {
  // Chunk 1 lists a car first (born 16 s) and the continuation second.
  json c1 = chunk1(0, kBoxB0);
  c1["tracks"] = json::array({track(1000002, 1, 16, 18, 3, kBoxFar, kBoxFar, false), c1["tracks"][0]});
  c1["events"].push_back(event("track_new", 16, 1000002, 1));
  // And chunk 0 a dog born before the person, listed after it.
  json c0 = chunk0();
  c0["tracks"].push_back(track(7, 2, 2, 3, 2, kBoxFar, kBoxFar, false));
  c0["events"] = json::array({event("track_new", 2, 7, 2), event("track_lost", 6, 7, 2)});
  const json more = chunk0()["events"];  // a copy: iterating a temporary's member would dangle
  for (const auto& e : more) c0["events"].push_back(e);
  const MergedResults m = merge_ok({done_chunk(0, c0), done_chunk(1, c1)});
  const json& tracks = m.results["tracks"];
  ASSERT_EQ(tracks.size(), 3u) << tracks.dump();
  EXPECT_EQ(tracks[0]["id"], 1);
  EXPECT_EQ(tracks[0]["class"], "dog");
  EXPECT_EQ(tracks[1]["id"], 2);
  EXPECT_EQ(tracks[1]["class"], "person");
  EXPECT_EQ(tracks[1]["chunks"], json::array({0, 1}));
  EXPECT_EQ(tracks[2]["id"], 3);
  EXPECT_EQ(tracks[2]["class"], "car");
  ASSERT_EQ(m.results["stitches"].size(), 1u);
  EXPECT_EQ(m.results["stitches"][0]["track"], 2);
}

TEST(ResultsMerge, FailedChunkIsReportedAndNotStitchedAcross) {
  // Chunk 2 starts with a person exactly where chunk 0's ended; chunk 1 failed.
  json c2 = chunk1(0, kBoxB0);
  for (auto& s : c2["samples"]) {
    s[0] = s[0].get<double>() + 10;
    s[1] = s[1].get<double>() + 10;
  }
  c2["tracks"][0]["id"] = 2000001;
  c2["tracks"][0]["first"] = 20.0;
  c2["tracks"][0]["last"] = 23.0;
  c2["events"] = json::array({event("track_new", 20, 2000001, 0), event("track_lost", 25, 2000001, 0)});
  const MergedResults m =
      merge_ok({done_chunk(0, chunk0()), failed_chunk(1, "corrupt packet at 12.300 s"), done_chunk(2, c2)});

  const json& summary = m.results["summary"];
  EXPECT_EQ(summary["chunks"], 3);
  EXPECT_EQ(summary["chunks_done"], 2);
  EXPECT_EQ(summary["chunks_failed"], 1);
  ASSERT_EQ(summary["failed"].size(), 1u);
  EXPECT_EQ(summary["failed"][0]["chunk"], 1);
  EXPECT_DOUBLE_EQ(summary["failed"][0]["start_s"].get<double>(), 10.0);
  EXPECT_DOUBLE_EQ(summary["failed"][0]["end_s"].get<double>(), 20.0);
  EXPECT_EQ(summary["failed"][0]["error"], "corrupt packet at 12.300 s");
  EXPECT_EQ(summary["samples"], 20);
  ASSERT_EQ(m.results["chunks"].size(), 3u);
  EXPECT_EQ(m.results["chunks"][1]["state"], "failed");

  EXPECT_EQ(m.results["tracks"].size(), 2u) << m.results["tracks"].dump();
  EXPECT_TRUE(m.results["stitches"].empty());
  const auto lost = events_of_kind(m, "track_lost");
  ASSERT_EQ(lost.size(), 2u);
  EXPECT_DOUBLE_EQ(lost[0]["pts"].get<double>(), 9.0);
  EXPECT_EQ(lost[0]["track_id"], 1);
  EXPECT_EQ(lost[1]["track_id"], 2);
  // No timeline rows for the failed range.
  const auto rows = lines_of(m.timeline_csv);
  ASSERT_EQ(rows.size(), 21u) << m.timeline_csv;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const double t = std::stod(rows[i]);
    EXPECT_FALSE(t >= 10 && t < 20) << rows[i];
  }
}

TEST(ResultsMerge, TimelineHasTheDetectedClassesAndRowsInOrder) {
  // Chunk 0: persons (class 0); chunk 1: dogs (class 2), two people at 11 s.
  const json c0 = result(samples(0, 10, [](int t) { return t % 2 ? json{{"0", 1}} : json::object(); }),
                         json::array(), json::array());
  const json c1 = result(samples(10, 20,
                                 [](int t) {
                                   if (t == 11) return json{{"0", 2}, {"2", 1}};
                                   return t < 13 ? json{{"2", 3}} : json::object();
                                 }),
                         json::array(), json::array());
  const MergedResults m = merge_ok({done_chunk(0, c0), done_chunk(1, c1)});
  const auto lines = lines_of(m.timeline_csv);
  ASSERT_EQ(lines.size(), 21u) << m.timeline_csv;
  EXPECT_EQ(lines[0], "t,pts,person,dog,total");  // no car: never detected
  EXPECT_EQ(lines[1], "0.000,0.000,0,0,0");
  EXPECT_EQ(lines[2], "1.000,1.000,1,0,1");
  EXPECT_EQ(lines[10], "9.000,9.000,1,0,1");
  EXPECT_EQ(lines[11], "10.000,10.000,0,3,3");
  EXPECT_EQ(lines[12], "11.000,11.000,2,1,3");
  EXPECT_EQ(lines[13], "12.000,12.000,0,3,3");
  EXPECT_EQ(lines[20], "19.000,19.000,0,0,0");
  for (std::size_t i = 1; i < lines.size(); ++i)
    EXPECT_EQ(lines[i].substr(0, lines[i].find(',')), std::to_string(i - 1) + ".000");

  const json& summary = m.results["summary"];
  EXPECT_EQ(summary["samples"], 20);
  EXPECT_EQ(summary["detections"], json({{"person", 7}, {"dog", 7}}));
  EXPECT_EQ(summary["max_in_frame"], json({{"person", 2}, {"dog", 3}}));
  EXPECT_EQ(summary["chunks_failed"], 0);
  EXPECT_TRUE(summary["failed"].empty());
  // Counts over time: every sample falls in exactly one bucket.
  std::int64_t n = 0;
  for (const auto& row : m.results["counts_over_time"]["rows"]) n += row["samples"].get<std::int64_t>();
  EXPECT_EQ(n, 20);
}

TEST(ResultsMerge, IsDeterministic) {
  const std::vector<ChunkState> chunks = {done_chunk(0, chunk0()), done_chunk(1, chunk1(0, kBoxB0)),
                                          failed_chunk(2, "boom")};
  const MergedResults a = merge_ok(chunks);
  const MergedResults b = merge_ok(chunks);
  EXPECT_FALSE(a.results.empty());
  EXPECT_EQ(a.results.dump(), b.results.dump());
  EXPECT_EQ(a.timeline_csv, b.timeline_csv);
  ASSERT_EQ(a.events.size(), b.events.size());
  EXPECT_EQ(events_jsonl(a.events), events_jsonl(b.events));
  EXPECT_EQ(render_report_html(a), render_report_html(b));
}

TEST(ResultsMerge, ChunkResultThatIsNotJsonIsBadInput) {
  ChunkState bad = done_chunk(1, json::object());
  bad.result = "{not json";
  auto m = merge_results(settings(), video(), kClasses, {done_chunk(0, chunk0()), bad});
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, ErrorCode::kBadInput);
  EXPECT_NE(m.error().message.find("chunk 1"), std::string::npos) << m.error().message;

  // Valid JSON of the wrong shape: also refused, naming the chunk.
  ChunkState wrong = done_chunk(3, json::object());
  wrong.result = R"({"samples": 1, "tracks": [], "events": []})";
  auto w = merge_results(settings(), video(), kClasses, {wrong});
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().code, ErrorCode::kBadInput);
  EXPECT_NE(w.error().message.find("chunk 3"), std::string::npos) << w.error().message;

  ChunkState missing_field = done_chunk(2, chunk0());
  json r = chunk0();
  r["tracks"][0].erase("first_box");
  missing_field.result = r.dump();
  auto f = merge_results(settings(), video(), kClasses, {missing_field});
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code, ErrorCode::kBadInput);
  EXPECT_NE(f.error().message.find("chunk 2"), std::string::npos) << f.error().message;
}

TEST(ResultsMerge, PendingChunksAreIgnored) {
  ChunkState pending;
  pending.chunk = Chunk{1, 10, 20};
  pending.state = ChunkStatus::kPending;
  pending.result = "garbage";  // never read
  const MergedResults m = merge_ok({done_chunk(0, chunk0()), pending});
  EXPECT_EQ(m.results["summary"]["chunks"], 2);
  EXPECT_EQ(m.results["summary"]["chunks_done"], 1);
  EXPECT_EQ(m.results["summary"]["samples"], 10);
}

// A stitched track that has left the zone by the next chunk's first sample:
// chunk 0 closed the visit at its end ("boundary" zone_exit), chunk 1's
// continuation never enters. An unchunked run would report the exit; the
// merge must not lose it (one enter, one exit). DISABLED: fails today, see
// the helper's report.
TEST(ResultsMerge, VisitEndingAtTheBoundaryOfAStitchedTrackKeepsItsExit) {
  json c1 = chunk1(0, kBoxB0);
  c1["events"] = json::array({event("track_new", 10, 1000001, 0), event("track_lost", 15, 1000001, 0)});
  const MergedResults m = merge_ok({done_chunk(0, chunk0()), done_chunk(1, c1)});
  ASSERT_EQ(m.results["stitches"].size(), 1u);
  SCOPED_TRACE(json(events_json(m)).dump());
  EXPECT_EQ(events_of_kind(m, "zone_enter").size(), 1u);
  EXPECT_EQ(events_of_kind(m, "zone_exit").size(), 1u);
  EXPECT_EQ(m.results["summary"]["zones"]["door"]["exits"], 1);
}

// Same, but the continuation re-enters the zone later (15 s): that is a new
// visit (an unchunked run reports exit then enter), not the old one going on.
TEST(ResultsMerge, LaterReEntryOfAStitchedTrackIsANewVisit) {
  json c1 = chunk1(0, kBoxB0);
  c1["events"] = json::array({event("track_new", 10, 1000001, 0), zone_event("zone_enter", 15, 1000001, 0),
                              zone_event("zone_exit", 17, 1000001, 0, 2.0), event("track_lost", 19, 1000001, 0)});
  const MergedResults m = merge_ok({done_chunk(0, chunk0()), done_chunk(1, c1)});
  ASSERT_EQ(m.results["stitches"].size(), 1u);
  SCOPED_TRACE(json(events_json(m)).dump());
  EXPECT_EQ(events_of_kind(m, "zone_enter").size(), 2u);
  const auto exits = events_of_kind(m, "zone_exit");
  ASSERT_EQ(exits.size(), 2u);
  EXPECT_DOUBLE_EQ(exits[1]["dwell_s"].get<double>(), 2.0);
}

// A zone with a 5 s dwell alert; the visit starts at 6 s in chunk 0 (3 s
// inside at the boundary) and goes on in chunk 1 until 13 s. An unchunked run
// emits one dwell event (at 11 s, dwell_s 5); chunk 1's own tracker only saw
// 3 s of it (10..13 s), so no chunk has a dwell event and the merge emits
// none. DISABLED: fails today, see the helper's report.
TEST(ResultsMerge, DwellReachedOnlyAcrossTheBoundaryIsReported) {
  AnalyzeSettings s = settings();
  s.stream.zones[0].dwell_s = 5;
  json c1 = chunk1(0, kBoxB0);
  c1["events"] = json::array({event("track_new", 10, 1000001, 0), zone_event("zone_enter", 10, 1000001, 0),
                              zone_event("zone_exit", 13, 1000001, 0, 3.0), event("track_lost", 15, 1000001, 0)});
  auto m = merge_results(s, video(), kClasses, {done_chunk(0, chunk0()), done_chunk(1, c1)});
  ASSERT_TRUE(m.has_value()) << m.error().message;
  ASSERT_EQ(m->results["stitches"].size(), 1u);
  const auto exits = events_of_kind(*m, "zone_exit");
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_DOUBLE_EQ(exits[0]["dwell_s"].get<double>(), 7.0);  // this part holds
  EXPECT_EQ(events_of_kind(*m, "dwell").size(), 1u);
  EXPECT_EQ(m->results["summary"]["zones"]["door"]["dwell_events"], 1);
}

TEST(ReportHtml, ShowsTheChartAndTheFailedRange) {
  const MergedResults m = merge_ok({done_chunk(0, chunk0()), failed_chunk(1, "corrupt <packet> & more")});
  const std::string html = render_report_html(m);
  EXPECT_EQ(html.rfind("<!doctype html>", 0), 0u);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("</svg>"), std::string::npos);
  EXPECT_NE(html.find("Failed time ranges"), std::string::npos);
  EXPECT_NE(html.find("0:00:10"), std::string::npos);
  EXPECT_NE(html.find("0:00:20"), std::string::npos);
  EXPECT_NE(html.find("corrupt &lt;packet&gt; &amp; more"), std::string::npos);
  EXPECT_EQ(html.find("corrupt <packet>"), std::string::npos);
  EXPECT_NE(html.find("person"), std::string::npos);
  EXPECT_NE(html.find("door"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
}

TEST(ReportHtml, NoFailedSectionWithoutFailures) {
  const MergedResults m = merge_ok({done_chunk(0, chunk0()), done_chunk(1, chunk1(0, kBoxB0))});
  const std::string html = render_report_html(m);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_EQ(html.find("Failed time ranges"), std::string::npos);
}

TEST(ReportHtml, EscapesTheVideoPath) {
  VideoInfo v = video();
  v.path = "/videos/<script>alert('x')</script>&.mp4";
  auto m = merge_results(settings(), v, kClasses, {done_chunk(0, chunk0())});
  ASSERT_TRUE(m.has_value()) << m.error().message;
  const std::string html = render_report_html(*m);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;.mp4"), std::string::npos);
}

TEST(ReportHtml, HtmlEscape) {
  EXPECT_EQ(html_escape("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
  EXPECT_EQ(html_escape("plain text 123"), "plain text 123");
  EXPECT_EQ(html_escape(""), "");
  EXPECT_EQ(html_escape("&amp;"), "&amp;amp;");
  EXPECT_EQ(html_escape("<<>>"), "&lt;&lt;&gt;&gt;");
}

}  // namespace
}  // namespace vigil
