// The pure parts of the HTTP API: Prometheus text, stream JSON and the
// API's source check. No engine, no sockets.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/prometheus_text.h"
#include "config/engine_config.h"
#include "server/stats_json.h"
#include "server/stats_routes.h"
#include "server/stream_request.h"
#include "test_support.h"

namespace vigil {
namespace {

using nlohmann::json;

StreamSnapshot stream(const std::string& id, double source, double display, double analysed, std::uint64_t frames,
                      DropCounts drops) {
  StreamSnapshot s;
  s.id = id;
  s.source_fps = source;
  s.display_fps = display;
  s.analysed_fps = analysed;
  s.frames = frames;
  s.drops = std::move(drops);
  return s;
}

LatencySummary latency(double avg, double p50, double p95, double p99, double max, std::size_t count) {
  LatencySummary l;
  l.avg = avg;
  l.p50 = p50;
  l.p95 = p95;
  l.p99 = p99;
  l.max = max;
  l.count = count;
  return l;
}

EngineStats sample_stats() {
  EngineStats st;
  st.streams = {stream("cam1", 10, 9.5, 2.5, 200, {{DropReason::kGate, 12}, {DropReason::kAnalysisReplaced, 3}}),
                stream("cam-2", 25, 25, 0, 0, {})};
  st.stages[static_cast<std::size_t>(Stage::kDecode)].latency = latency(1.2, 1.1, 2.0, 3.1, 9.0, 800);
  st.stages[static_cast<std::size_t>(Stage::kInference)].latency = latency(40, 39, 50, 60, 70, 0);
  st.analysis_latency = latency(100, 90, 150, 200, 300, 10);
  st.batch_size_avg = 3.33;
  st.inferences = 400;
  st.cpu_percent = 180.5;
  st.ram_mb = 320.5;
  return st;
}

int promtool(const std::string& text) {
  const std::string file = test::tmp_dir("server_pure") + "/metrics.txt";
  std::ofstream(file) << text;
  return test::run_process("/usr/bin/promtool check metrics < " + file).exit_code;
}

TEST(PrometheusText, HasEveryFamilyAndPassesPromtool) {
  const std::string t = prometheus_text(sample_stats());
  for (const char* line : {"vigil_stage_latency_seconds{stage=\"decode\",quantile=\"0.95\"} 0.002\n",
                           "vigil_stage_latency_seconds_count{stage=\"decode\"} 800\n",
                           "vigil_stage_latency_seconds_sum{stage=\"decode\"} 0.96\n",
                           "vigil_stream_fps{stream=\"cam1\",kind=\"display\"} 9.5\n",
                           "vigil_stream_fps{stream=\"cam-2\",kind=\"source\"} 25\n",
                           "vigil_drops_total{stream=\"cam1\",reason=\"gate\"} 12\n", "vigil_batch_size_avg 3.33\n",
                           "vigil_inferences_total 400\n", "vigil_process_cpu_percent 180.5\n",
                           "vigil_process_resident_memory_bytes 336068608\n",
                           "# TYPE vigil_drops_total counter\n", "# HELP vigil_inferences_total "})
    EXPECT_NE(t.find(line), std::string::npos) << line << "\n" << t;
  EXPECT_EQ(promtool(t), 0) << t;
}

TEST(PrometheusText, StreamStateZonesLinesAndEvents) {
  EngineStats st = sample_stats();
  StreamSnapshot& cam1 = st.streams[0];
  cam1.up = true;
  cam1.reconnects = 2;
  cam1.occupancy = {{"door \"A\"", {{"person", 3}, {"car", 0}}}};
  cam1.line_counts = {{"gate", {{"in", 7}, {"out", 4}}}};
  cam1.events = {{EventKind::kZoneEnter, 5}, {EventKind::kStreamUp, 1}};
  const std::string t = prometheus_text(st);
  for (const char* line : {"# TYPE vigil_stream_up gauge\n", "vigil_stream_up{stream=\"cam1\"} 1\n",
                           "vigil_stream_up{stream=\"cam-2\"} 0\n",
                           "# TYPE vigil_stream_reconnects_total counter\n",
                           "vigil_stream_reconnects_total{stream=\"cam1\"} 2\n",
                           "vigil_stream_reconnects_total{stream=\"cam-2\"} 0\n",
                           "vigil_zone_occupancy{stream=\"cam1\",zone=\"door \\\"A\\\"\",class=\"person\"} 3\n",
                           "vigil_zone_occupancy{stream=\"cam1\",zone=\"door \\\"A\\\"\",class=\"car\"} 0\n",
                           "vigil_line_crossings_total{stream=\"cam1\",line=\"gate\",direction=\"in\"} 7\n",
                           "vigil_line_crossings_total{stream=\"cam1\",line=\"gate\",direction=\"out\"} 4\n",
                           "vigil_events_total{stream=\"cam1\",kind=\"zone_enter\"} 5\n",
                           "vigil_events_total{stream=\"cam1\",kind=\"stream_up\"} 1\n",
                           "# TYPE vigil_events_total counter\n", "# TYPE vigil_zone_occupancy gauge\n",
                           "# TYPE vigil_line_crossings_total counter\n"})
    EXPECT_NE(t.find(line), std::string::npos) << line << "\n" << t;
  EXPECT_EQ(promtool(t), 0) << t;
}

TEST(Health, FromEngineStateAndStreamCounts) {
  EXPECT_EQ(health_of(false, 2, 0), Health::kStopped);
  EXPECT_EQ(health_of(false, 0, 0), Health::kStopped);
  EXPECT_EQ(health_of(true, 0, 0), Health::kOk);  // no streams
  EXPECT_EQ(health_of(true, 3, 0), Health::kOk);
  EXPECT_EQ(health_of(true, 1, 2), Health::kDegraded);
  EXPECT_EQ(health_of(true, 0, 1), Health::kDown);
  EXPECT_EQ(health_of(true, 0, 3), Health::kDown);
  EXPECT_STREQ(to_string(Health::kDegraded), "degraded");
  EXPECT_STREQ(to_string(Health::kDown), "down");
}

TEST(Health, DownStreamsAreNeitherUpNorEnded) {
  EngineStats st;
  st.streams.resize(3);
  st.streams[0].id = "a";
  st.streams[0].up = true;
  st.streams[1].id = "b";  // down
  st.streams[2].id = "c";
  st.streams[2].ended = true;  // a file that finished
  EXPECT_EQ(st.down_streams(), std::vector<std::string>{"b"});
}

TEST(PrometheusText, EmptyDocumentStillValid) {
  const std::string t = prometheus_text(EngineStats{});
  EXPECT_NE(t.find("vigil_inferences_total 0\n"), std::string::npos);
  EXPECT_EQ(promtool(t), 0) << t;
}

TEST(PrometheusText, StagesInNameOrderWithTheirHistograms) {
  EngineStats st = sample_stats();
  LatencyWindow w;
  for (double ms : {0.4, 3.0, 7000.0}) w.add(ms);
  st.stages[static_cast<std::size_t>(Stage::kTrack)].histogram = w.histogram();
  const std::string t = prometheus_text(st);
  std::size_t last = 0;
  for (const Stage s : stages_by_name()) {
    const std::size_t at = t.find(std::string("vigil_stage_latency_seconds_count{stage=\"") + to_string(s) + "\"}");
    ASSERT_NE(at, std::string::npos) << to_string(s);
    EXPECT_GT(at, last) << to_string(s) << " out of name order";
    last = at;
  }
  EXPECT_NE(t.find("vigil_stage_duration_seconds_bucket{stage=\"track\",le=\"0.0005\"} 1\n"), std::string::npos) << t;
  EXPECT_NE(t.find("vigil_stage_duration_seconds_bucket{stage=\"track\",le=\"+Inf\"} 3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("vigil_stage_duration_seconds_count{stage=\"track\"} 3\n"), std::string::npos) << t;
  EXPECT_EQ(t.find("vigil_stage_duration_seconds_count{stage=\"decode\"}"), std::string::npos);  // no histogram
  EXPECT_EQ(promtool(t), 0) << t;
}

TEST(StatsJson, HasTheDocumentedShape) {
  EngineStats st = sample_stats();
  st.bottleneck = "inference";
  st.batch_histogram = {{1, 5}, {10, 2}};
  const json j = to_json(st);
  for (const char* key : {"streams", "stages", "analysis_latency", "stage_histograms", "batch_size_avg",
                          "batch_histogram", "inferences", "batches", "queue_size", "scheduler_replaced",
                          "events_published", "captions", "bottleneck", "inferences_per_sec", "batches_per_sec",
                          "cpu_percent", "ram_mb", "stage_load_ms_per_s", "provider", "uptime_s"})
    EXPECT_TRUE(j.contains(key)) << key;
  for (const char* absent : {"events_store", "events_jsonl", "gpus"}) EXPECT_FALSE(j.contains(absent)) << absent;
  EXPECT_EQ(j["stages"].size(), kStageCount);
  EXPECT_EQ(j["stages"]["decode"], json::parse(R"({"avg_ms": 1.2, "p50_ms": 1.1, "p95_ms": 2.0, "p99_ms": 3.1,
                                                  "max_ms": 9.0, "count": 800})"));
  EXPECT_EQ(j["batch_histogram"], json::parse(R"({"1": 5, "10": 2})"));
  EXPECT_EQ(j["streams"][0]["drops"], json::parse(R"({"gate": 12, "analysis_replaced": 3})"));
  EXPECT_EQ(j["streams"][1]["id"], "cam-2");
  EXPECT_EQ(j["captions"], json::parse(R"({"captioners": [], "requests": 0, "done": 0, "errors": 0, "skipped": 0})"));
  st.events_store = EventSinkStats{7, 1, 0};
  EXPECT_EQ(to_json(st)["events_store"], json::parse(R"({"stored": 7, "dropped": 1, "errors": 0})"));
}

TEST(PrometheusText, EscapesLabelValues) { EXPECT_EQ(prometheus_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd"); }

TEST(StreamRequest, JsonRoundTripsThroughTheConfigParser) {
  auto s = stream_config_from_json(json::parse(R"({"id": "cam", "url": "rtsp://h/s", "every": 3, "loop": true,
      "substream": {"width": 320}, "gate": {"similarity": 0.9}, "classes": ["person"],
      "zones": [{"name": "z", "polygon": [[0,0],[1,0],[1,1]], "dwell_s": 2}],
      "lines": [{"name": "l", "a": [0, 0.5], "b": [1, 0.5]}]})"));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->every, 3);
  EXPECT_TRUE(s->gate.enabled);
  EXPECT_EQ(s->substream.width, 320);
  const json j = stream_config_json(*s);
  auto again = stream_config_from_json(j);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(stream_config_json(*again), j);
}

// The shape of a stream's config in /api/streams, as it was written out by
// hand before the field tables: the table-written view must not change it
// (keys, nesting, and the JSON type of every value).
json hand_written_view(const StreamConfig& s) {
  json zones = json::array();
  for (const auto& z : s.zones) {
    json poly = json::array();
    for (const auto& p : z.polygon) poly.push_back(json::array({p.x, p.y}));
    zones.push_back({{"name", z.name}, {"polygon", poly}, {"normalized", z.normalized}, {"classes", z.classes},
                     {"dwell_s", z.dwell_s}, {"anchor", to_string(z.anchor)}});
  }
  json lines = json::array();
  for (const auto& l : s.lines)
    lines.push_back({{"name", l.name}, {"a", json::array({l.a.x, l.a.y})}, {"b", json::array({l.b.x, l.b.y})},
                     {"normalized", l.normalized}, {"classes", l.classes}, {"min_frames", l.min_frames},
                     {"anchor", to_string(l.anchor)}});
  return {{"id", s.id}, {"url", s.url}, {"enabled", s.enabled}, {"loop", s.loop}, {"every", s.every},
          {"substream", {{"scale", s.substream.scale}, {"width", s.substream.width}}},
          {"gate", {{"enabled", s.gate.enabled}, {"similarity", s.gate.similarity}, {"max_skip", s.gate.max_skip}}},
          {"hwaccel", to_string(s.hwaccel)}, {"skip_frame", to_string(s.skip_frame)}, {"timeout_s", s.timeout_s},
          {"watchdog_s", s.watchdog_s}, {"max_pixels", s.max_pixels}, {"decode_threads", s.decode_threads},
          {"conf", s.conf}, {"iou", s.iou}, {"max_det", s.max_det}, {"classes", s.classes},
          {"tracker",
           {{"high_thresh", s.tracker.high_thresh}, {"low_thresh", s.tracker.low_thresh},
            {"new_track_thresh", s.tracker.new_track_thresh}, {"match_iou", s.tracker.match_iou},
            {"second_match_iou", s.tracker.second_match_iou}, {"unconfirmed_match_iou", s.tracker.unconfirmed_match_iou},
            {"lost_buffer_s", s.tracker.lost_buffer_s}, {"min_hits", s.tracker.min_hits},
            {"class_aware", s.tracker.class_aware}}},
          {"zones", zones}, {"lines", lines},
          {"motion",
           {{"enabled", s.motion.enabled}, {"threshold", s.motion.threshold}, {"min_area", s.motion.min_area},
            {"height", s.motion.height}, {"alpha", s.motion.alpha}, {"global_change", s.motion.global_change},
            {"crops", s.motion.crops}, {"max_crops", s.motion.max_crops}, {"max_crop_area", s.motion.max_crop_area},
            {"refresh_s", s.motion.refresh_s}}},
          {"describe",
           {{"captioner", to_string(s.describe.captioner)}, {"endpoint", s.describe.endpoint}, {"model", s.describe.model},
            {"prompt", s.describe.prompt}, {"every_frames", s.describe.every_frames}, {"every_s", s.describe.every_s},
            {"on_scene_change", s.describe.on_scene_change}, {"scene_threshold", s.describe.scene_threshold},
            {"max_tokens", s.describe.max_tokens}, {"max_side", s.describe.max_side},
            {"timeout_s", s.describe.timeout_s}}},
          {"record",
           {{"snapshots", s.record.snapshots}, {"clips", s.record.clips}, {"pre_s", s.record.pre_s},
            {"post_s", s.record.post_s}, {"kinds", s.record.kinds}}},
          {"render", {{"jpeg_quality", s.render.jpeg_quality}, {"max_fps", s.render.max_fps}}}};
}

TEST(StreamRequest, TheApiViewKeepsItsShape) {
  auto s = stream_config_from_json(json::parse(R"({"id": "cam", "url": "rtsp://h/s", "every": 3,
      "zones": [{"name": "z", "polygon": [[0,0],[1,0],[1,1]], "dwell_s": 2, "anchor": "center"}],
      "lines": [{"name": "l", "a": [0, 300], "b": [640, 300]}], "describe": {"api_key": "secret", "every_s": 5}})"));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(stream_config_json(*s).dump(), hand_written_view(*s).dump());
  EXPECT_EQ(stream_config_json(default_stream("a", "a.mp4")).dump(), hand_written_view(default_stream("a", "a.mp4")).dump());
  EXPECT_EQ(stream_config_json(*s).dump().find("secret"), std::string::npos);
}

// JSON is typed: no string for a number or a boolean (a config file's YAML
// text is another matter); every problem at once, each naming its field.
TEST(StreamRequest, WrongJsonTypesAreErrorsNamingFieldAndType) {
  auto s = stream_config_from_json(json::parse(
      R"({"id": "cam", "url": "rtsp://h/s", "every": "4", "loop": "yes", "conf": true, "gate": {"max_skip": 1.5},
          "classes": [1], "zones": [{"name": "z", "polygon": [["0", 0], [1, 0], [1, 1]]}]})"));
  ASSERT_FALSE(s);
  const std::string m = s.error().message;
  for (const char* part : {"streams[0].every: expected an integer, got the string \"4\"",
                           "streams[0].loop: expected true or false, got the string \"yes\"",
                           "streams[0].conf: expected a number, got the boolean true",
                           "streams[0].gate.max_skip: expected an integer, got the number 1.5",
                           "streams[0].classes[0]: expected a name, got the number 1",
                           "streams[0].zones[0].polygon[0]: point coordinates must be numbers"})
    EXPECT_NE(m.find(part), std::string::npos) << part << "\n" << m;
}

TEST(StreamRequest, ParserErrorsComeBack) {
  auto s = stream_config_from_json(json::parse(R"({"id": "cam", "url": "rtsp://h/s", "every": 0})"));
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("every"), std::string::npos) << s.error().message;
  EXPECT_FALSE(stream_config_from_json(json::array()));
  EXPECT_FALSE(stream_config_from_json(json::parse(R"({"id": "cam"})")));
}

TEST(StreamRequest, PatchTakesOnlyTheChangeableKeys) {
  const json current = {{"id", "a"}, {"every", 1}, {"gate", {{"enabled", false}, {"similarity", 0.95}}}};
  auto m = merge_stream_patch(current, {{"every", 4}, {"gate", {{"enabled", true}}}});
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["every"], 4);
  EXPECT_EQ((*m)["gate"]["enabled"], true);
  EXPECT_EQ((*m)["gate"]["similarity"], 0.95);
  EXPECT_FALSE(merge_stream_patch(current, {{"id", "b"}}));
  EXPECT_FALSE(merge_stream_patch(current, {{"every", nullptr}}));
  EXPECT_FALSE(merge_stream_patch(current, json::array()));
}

TEST(StreamRequest, SourceCheck) {
  namespace fs = std::filesystem;
  const fs::path media = test::tmp_dir("server_pure/media");
  const fs::path sibling = test::tmp_dir("server_pure/media2");
  std::ofstream(media / "a.mp4") << "x";
  std::ofstream(sibling / "b.mp4") << "x";
  EXPECT_TRUE(check_api_source("rtsp://cam/stream", ""));
  EXPECT_TRUE(check_api_source("https://cam/stream.m3u8", ""));
  EXPECT_FALSE(check_api_source("concat:a|b", media.string()));
  EXPECT_FALSE(check_api_source("file:/etc/passwd", media.string()));
  EXPECT_FALSE(check_api_source((media / "a.mp4").string(), ""));  // no media dir: no files at all
  auto ok = check_api_source("a.mp4", media.string() + "/");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(*ok, fs::weakly_canonical(media / "a.mp4").string());
  EXPECT_TRUE(check_api_source((media / "a.mp4").string(), media.string()));
  EXPECT_FALSE(check_api_source("../media2/b.mp4", media.string()));
  EXPECT_FALSE(check_api_source((sibling / "b.mp4").string(), media.string()));
  EXPECT_FALSE(check_api_source("missing.mp4", media.string()));
  fs::remove(media / "link.mp4");
  fs::create_symlink(sibling / "b.mp4", media / "link.mp4");
  EXPECT_FALSE(check_api_source("link.mp4", media.string()));  // a symlink out of the media dir
}

}  // namespace
}  // namespace vigil
