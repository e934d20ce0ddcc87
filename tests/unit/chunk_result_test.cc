#include "jobs/chunk_result.h"

#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

namespace vigil {
namespace {

using json = nlohmann::json;

// A chunk result in the stored format, as chunk_analyzer.cc writes it into
// the job store: every key, times to 1e-3, boxes to 0.1 px, a boundary
// event, a failed caption, damaged data, figures of both number types.
const char* kStored = R"({
  "samples": [[10.0, 10.017, {"0": 2, "12": 1}], [10.5, 10.517, {}], [11.0, 11.034, {"2": 1}]],
  "tracks": [
    {"id": 1000001, "class": 0, "first": 10.017, "last": 11.034, "hits": 2, "score": 0.873,
     "first_box": [101.3, 20.5, 180.0, 300.9], "last_box": [110.1, 22.0, 190.7, 301.2], "open": true},
    {"id": 1000002, "class": 12, "first": 10.017, "last": 10.017, "hits": 1, "score": 0.5,
     "first_box": [0.0, 0.0, 33.3, 44.4], "last_box": [0.0, 0.0, 33.3, 44.4], "open": false}
  ],
  "events": [
    {"kind": "track_new", "stream": "cam", "pts": 10.017, "track_id": 1000001, "class_id": 0, "class": "person"},
    {"kind": "zone_enter", "stream": "cam", "pts": 10.517, "track_id": 1000001, "class_id": 0, "class": "person",
     "zone": "door"},
    {"kind": "line_cross", "stream": "cam", "pts": 10.517, "track_id": 1000002, "class_id": 12, "class": "stop sign",
     "line": "gate", "direction": "in"},
    {"kind": "track_lost", "stream": "cam", "pts": 10.517, "track_id": 1000002, "class_id": 12, "class": "stop sign"},
    {"kind": "zone_exit", "stream": "cam", "pts": 11.034, "track_id": 1000001, "class_id": 0, "class": "person",
     "zone": "door", "dwell_s": 0.517, "boundary": true},
    {"kind": "track_lost", "stream": "cam", "pts": 11.034, "track_id": 1000001, "class_id": 0, "class": "person",
     "boundary": true}
  ],
  "thumbs": [{"t": 10.0, "pts": 10.017, "count": 3, "jpeg": "/9j/4AAQSkZJRgABAQ=="}],
  "captions": [{"t": 10.0, "pts": 10.017, "text": "Two people and a stop sign."},
               {"t": 11.0, "pts": 11.034, "error": "describe: http://127.0.0.1:9/v1: connection refused"}],
  "damaged": [{"from": 10.6, "to": 10.9, "samples_lost": 1, "error": "Invalid data found when processing input"}],
  "frame": [1280, 720],
  "stats": {"seeks": 1, "frames_decoded": 31, "packets_decoded": 33, "packets_dropped": 2, "damage_errors": 1,
            "packets_skipped": 4, "decode_ms": 123.456789, "convert_ms": 7.25, "elapsed_s": 0.3141592653589793}
})";

TEST(ChunkResult, StoredJsonRoundTripsUnchanged) {
  const std::string stored = json::parse(kStored).dump();  // the bytes the job store holds
  auto parsed = parse_chunk_result(stored);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(to_text(*parsed), stored);
}

TEST(ChunkResult, ReadsEveryField) {
  auto r = parse_chunk_result(kStored);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->samples.size(), 3u);
  EXPECT_DOUBLE_EQ(r->samples[0].pts, 10.017);
  EXPECT_EQ(r->samples[0].counts, (std::map<int, int>{{0, 2}, {12, 1}}));
  EXPECT_TRUE(r->samples[1].counts.empty());
  ASSERT_EQ(r->tracks.size(), 2u);
  EXPECT_EQ(r->tracks[0].id, 1000001);
  EXPECT_TRUE(r->tracks[0].open);
  EXPECT_FLOAT_EQ(r->tracks[0].first_box.x1, 101.3F);
  EXPECT_EQ(r->tracks[1].class_id, 12);
  ASSERT_EQ(r->events.size(), 6u);
  EXPECT_EQ(r->events[1].event.kind, EventKind::kZoneEnter);
  EXPECT_EQ(r->events[1].event.zone, "door");
  EXPECT_EQ(r->events[2].event.direction, "in");
  EXPECT_FALSE(r->events[3].boundary);
  EXPECT_TRUE(r->events[4].boundary);
  EXPECT_DOUBLE_EQ(r->events[4].event.dwell_s, 0.517);
  EXPECT_EQ(r->events[4].event.wall_time, 0.0);
  ASSERT_EQ(r->thumbs.size(), 1u);
  EXPECT_EQ(r->thumbs[0].count, 3);
  ASSERT_TRUE(r->captions.has_value());
  ASSERT_EQ(r->captions->size(), 2u);
  EXPECT_TRUE((*r->captions)[0].ok);
  EXPECT_FALSE((*r->captions)[1].ok);
  EXPECT_NE((*r->captions)[1].text.find("connection refused"), std::string::npos);
  ASSERT_EQ(r->damaged.size(), 1u);
  EXPECT_EQ(r->damaged[0].samples_lost, 1);
  EXPECT_EQ(r->frame_w, 1280);
  EXPECT_EQ(r->frame_h, 720);
  EXPECT_EQ(r->stats.packets_skipped, 4);
  EXPECT_DOUBLE_EQ(r->stats.decode_ms, 123.456789);
}

TEST(ChunkResult, NoCaptionsKeyStaysAbsent) {
  json j = json::parse(kStored);
  j.erase("captions");
  auto r = parse_chunk_result(j.dump());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_FALSE(r->captions.has_value());
  EXPECT_EQ(to_text(*r), j.dump());
}

TEST(ChunkResult, WritingRoundsAsTheStoreExpects) {
  ChunkResult r;
  ChunkSample s;
  s.t = 1.0004;
  s.pts = 1.0336;
  s.counts[3] = 2;
  r.samples.push_back(s);
  ChunkTrack t;
  t.id = 7;
  t.first = t.last = 1.0336;
  t.score = 0.87654F;
  t.first_box = t.last_box = Box{10.04F, 20.06F, 30.0F, 40.0F};
  r.tracks.push_back(t);
  const json j = json::parse(to_text(r));
  EXPECT_EQ(j["samples"][0], json::array({1.0, 1.034, {{"3", 2}}}));
  EXPECT_DOUBLE_EQ(j["tracks"][0]["score"].get<double>(), 0.877);
  EXPECT_EQ(j["tracks"][0]["first_box"], json::array({10.0, 20.1, 30.0, 40.0}));
  EXPECT_FALSE(j.contains("captions"));  // none unless the job has captions
  EXPECT_EQ(j["damaged"], json::array());
}

// Each bad stored result is refused with kBadInput naming what is wrong.
TEST(ChunkResult, BadTextIsBadInputNamingTheField) {
  const auto error_of = [](const std::string& text) {
    auto r = parse_chunk_result(text);
    EXPECT_FALSE(r.has_value()) << text;
    if (r) return std::string();
    EXPECT_EQ(r.error().code, ErrorCode::kBadInput);
    return r.error().message;
  };
  EXPECT_NE(error_of("{not json").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of("[1, 2]").find("not an object"), std::string::npos);
  EXPECT_NE(error_of(R"({"tracks": [], "events": []})").find("samples: missing"), std::string::npos);
  EXPECT_NE(error_of(R"({"samples": 1, "tracks": [], "events": []})").find("samples: must be an array"),
            std::string::npos);

  json j = json::parse(kStored);
  j["tracks"][1].erase("first_box");
  EXPECT_NE(error_of(j.dump()).find("tracks[1].first_box: missing"), std::string::npos);

  j = json::parse(kStored);
  j["samples"][2][2] = {{"person", 1}};
  EXPECT_NE(error_of(j.dump()).find("samples[2][2]: key 'person' is not a class id"), std::string::npos);

  j = json::parse(kStored);
  j["events"][0]["kind"] = "teleport";
  EXPECT_NE(error_of(j.dump()).find("events[0]: event JSON: unknown kind 'teleport'"), std::string::npos);

  j = json::parse(kStored);
  j["stats"]["seeks"] = "one";
  EXPECT_NE(error_of(j.dump()).find("stats.seeks: must be an integer"), std::string::npos);
}

TEST(ChunkResult, OptionalPartsMayBeAbsent) {
  auto r = parse_chunk_result(R"({"samples": [], "tracks": [], "events": []})");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(r->thumbs.empty());
  EXPECT_TRUE(r->damaged.empty());
  EXPECT_EQ(r->frame_w, 0);
  EXPECT_EQ(r->stats.frames_decoded, 0);
}

TEST(ChunkResult, StatsAddUp) {
  ChunkStats a, b;
  a.frames_decoded = 3;
  a.decode_ms = 1.5;
  b.frames_decoded = 4;
  b.decode_ms = 2.0;
  b.seeks = 1;
  a += b;
  EXPECT_EQ(a.frames_decoded, 7);
  EXPECT_EQ(a.seeks, 1);
  EXPECT_DOUBLE_EQ(a.decode_ms, 3.5);
}

}  // namespace
}  // namespace vigil
