// Scene captions in the live engine: a real Engine on a real video file, with
// the VLM captioner talking to a LOCAL FAKE chat-completions server (a test
// double, tests/fake_chat_server.h: no vision-language model can run on this
// machine). Captions must reach JSON Lines, SQLite and the stats; a slow or
// failing server must cost skips and errors, never video or detection.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <turbojpeg.h>

#include "core/base64.h"
#include "fake_chat_server.h"
#include "pipeline/engine.h"
#include "server/prometheus_text.h"
#include "server/stats_json.h"
#include "store/sqlite_store.h"
#include "test_support.h"

namespace vigil {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using test::chat_answer;
using test::FakeChatServer;
using test::Reply;
using test::SeenRequest;

const std::string kVideo = std::string(VIGIL_TEST_VIDEOS_DIR) + "/vtest20.mp4";

EngineConfig engine_config(const DescribeConfig& describe, const std::string& dir) {
  EngineConfig c;
  c.model.path = VIGIL_DEFAULT_MODEL;
  c.model.device = "cpu";
  c.stats_interval_s = 0;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  c.events.jsonl = dir + "/events.jsonl";
  c.events.sqlite = dir + "/events.db";
  StreamConfig s = default_stream("cam1", kVideo);
  s.loop = true;
  s.every = 2;
  s.describe = describe;
  c.streams.push_back(s);
  return c;
}

// Runs the engine until `done(stats)` holds (polled every 50 ms; a failure
// after 60 s) and returns the stats that met it.
template <class Done>
EngineStats run_until(Engine& e, Done done) {
  e.start();
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  EngineStats stats = e.stats();
  while (!done(stats) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    stats = e.stats();
  }
  EXPECT_TRUE(done(stats)) << "not reached in 60 s: " << to_json(stats).dump();
  e.stop();
  return stats;
}

std::uint64_t analysed(const EngineStats& s) { return s.streams.empty() ? 0 : s.streams[0].analysed; }

// The stream loop took (nearly) every frame the capture decoded.
void expect_video_kept_up(const json& stream) {
  const auto frames = stream["frames"].get<std::uint64_t>();
  const auto overwritten = stream["drops"].value("capture_overwritten", std::uint64_t{0});
  EXPECT_LE(overwritten, frames / 20) << stream.dump();
}

std::vector<json> jsonl_captions(const std::string& path) {
  std::vector<json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    const json e = json::parse(line, nullptr, false);
    if (e.is_object() && e.value("kind", "") == "caption") out.push_back(e);
  }
  return out;
}

TEST(Captions, VlmCaptionsReachJsonlSqliteStatsAndMetrics) {
  FakeChatServer server([](const SeenRequest&, int) { return Reply{200, chat_answer("  People walk across a plaza.\n"), 0.05}; });
  DescribeConfig d;
  d.captioner = CaptionerKind::kVlm;
  d.endpoint = server.url();
  d.model = "SmolVLM-500M-Instruct";
  d.every_s = 1;
  d.max_side = 256;
  const std::string dir = test::tmp_dir("captions") + "/vlm";
  auto engine = Engine::create(engine_config(d, dir));
  ASSERT_TRUE(engine) << engine.error().message;
  const EngineStats typed = run_until(**engine, [](const EngineStats& s) { return s.captions.done >= 2; });
  const json stats = to_json(typed);

  // The request: a JPEG of the frame downscaled to max_side (768x576 -> 256x192).
  const auto seen = server.requests();
  ASSERT_GE(seen.size(), 2u);
  const json body = json::parse(seen[0].body);
  EXPECT_EQ(body["model"], "SmolVLM-500M-Instruct");
  const std::string url = body["messages"][0]["content"][1]["image_url"]["url"];
  ASSERT_EQ(url.rfind("data:image/jpeg;base64,", 0), 0u);
  const auto jpeg = base64_decode(url.substr(23));
  ASSERT_TRUE(jpeg);
  tjhandle h = tjInitDecompress();
  int w = 0, hh = 0, sub = 0, cs = 0;
  ASSERT_EQ(tjDecompressHeader3(h, jpeg->data(), static_cast<unsigned long>(jpeg->size()), &w, &hh, &sub, &cs), 0);
  tjDestroy(h);
  EXPECT_EQ(w, 256);
  EXPECT_EQ(hh, 192);

  // JSON Lines.
  const auto captions = jsonl_captions(dir + "/events.jsonl");
  ASSERT_GE(captions.size(), 2u);
  EXPECT_EQ(captions[0]["text"], "People walk across a plaza.");
  EXPECT_EQ(captions[0]["captioner"], "vlm");
  EXPECT_EQ(captions[0]["stream"], "cam1");
  EXPECT_GT(captions[0]["latency_ms"].get<double>(), 0);
  // SQLite.
  auto store = SqliteStore::open(dir + "/events.db");
  ASSERT_TRUE(store) << store.error().message;
  EventQuery q;
  q.kind = "caption";
  auto rows = (*store)->query(q);
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), captions.size());
  EXPECT_EQ(rows->at(0).text, "People walk across a plaza.");
  EXPECT_EQ(rows->at(0).captioner, "vlm");
  EXPECT_GT(rows->at(0).latency_ms, 0);
  // Stats and metrics.
  const json& c = stats["captions"];
  EXPECT_GE(c["done"].get<int>(), 2) << c.dump();
  EXPECT_EQ(c["errors"], 0) << c.dump();
  EXPECT_EQ(c["captioners"][0]["captioner"], "vlm");
  EXPECT_GT(c["captioners"][0]["latency_ms"]["avg"].get<double>(), 0);
  EXPECT_EQ(stats["streams"][0]["caption"], "People walk across a plaza.");
  const std::string metrics = prometheus_text(typed);
  EXPECT_NE(metrics.find("vigil_caption_requests_total{captioner=\"vlm\",endpoint=\"" + server.url() +
                         "\",outcome=\"done\"}"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("vigil_caption_latency_seconds_count{captioner=\"vlm\""), std::string::npos);
}

TEST(Captions, SlowServerSkipsCaptionsButNotVideo) {
  // Each answer takes 2 s; a caption is asked for on every analysed frame (5/s).
  FakeChatServer server([](const SeenRequest&, int) { return Reply{200, chat_answer("slow"), 2.0}; });
  DescribeConfig d;
  d.captioner = CaptionerKind::kVlm;
  d.endpoint = server.url();
  d.every_frames = 1;
  const std::string dir = test::tmp_dir("captions") + "/slow";
  auto engine = Engine::create(engine_config(d, dir));
  ASSERT_TRUE(engine) << engine.error().message;
  bool bounded = true;  // at most 2 requests waiting or in flight, at every look
  const json stats = to_json(run_until(**engine, [&](const EngineStats& s) {
    bounded = bounded && s.captions.requests - s.captions.done - s.captions.errors <= 2;
    return s.captions.skipped > 10 && analysed(s) >= 20;
  }));
  const json& c = stats["captions"];
  EXPECT_TRUE(bounded) << c.dump();
  EXPECT_GT(c["skipped"].get<int>(), 10) << c.dump();
  // The server sees only requests the scheduler accepted (read once stopped:
  // a request may start between the stats above and the stop).
  const json after = to_json((*engine)->stats())["captions"];
  EXPECT_LE(server.requests().size(), after["requests"].get<std::size_t>()) << after.dump();
  // Video and detection went on (the rates: bench/slow_detector.sh).
  const json& s = stats["streams"][0];
  expect_video_kept_up(s);
  EXPECT_GE(s["analysed"].get<int>(), 20) << s.dump();
}

TEST(Captions, ServerErrorsTimeoutsAndRefusalsAreCountedWhileThePipelineRuns) {
  // 500, then invalid JSON, then an answer slower than the timeout, in turn.
  FakeChatServer server([](const SeenRequest&, int i) {
    if (i % 3 == 0) return Reply{500, R"({"error":"model not loaded"})"};
    if (i % 3 == 1) return Reply{200, "this is not json"};
    return Reply{200, chat_answer("late"), 3.0};
  });
  DescribeConfig d;
  d.captioner = CaptionerKind::kVlm;
  d.endpoint = server.url();
  d.every_s = 0.5;
  d.timeout_s = 1;
  const std::string dir = test::tmp_dir("captions") + "/errors";
  auto engine = Engine::create(engine_config(d, dir));
  ASSERT_TRUE(engine) << engine.error().message;
  const json stats =
      to_json(run_until(**engine, [](const EngineStats& s) { return s.captions.errors >= 3 && analysed(s) >= 20; }));
  const json& c = stats["captions"];
  EXPECT_GE(c["errors"].get<int>(), 3) << c.dump();
  EXPECT_EQ(c["done"], 0) << c.dump();
  EXPECT_FALSE(c["captioners"][0]["last_error"].get<std::string>().empty());
  EXPECT_TRUE(jsonl_captions(dir + "/events.jsonl").empty());
  const json& s = stats["streams"][0];
  expect_video_kept_up(s);
  EXPECT_GE(s["analysed"].get<int>(), 20) << s.dump();

  // Nothing listening at all.
  d.endpoint = "http://127.0.0.1:" + std::to_string(test::closed_port());
  const std::string dir2 = test::tmp_dir("captions") + "/refused";
  auto refused = Engine::create(engine_config(d, dir2));
  ASSERT_TRUE(refused) << refused.error().message;
  const json stats2 =
      to_json(run_until(**refused, [](const EngineStats& st) { return st.captions.errors >= 2 && analysed(st) >= 10; }));
  EXPECT_GE(stats2["captions"]["errors"].get<int>(), 2) << stats2["captions"].dump();
  EXPECT_GE(stats2["streams"][0]["analysed"].get<int>(), 10);
}

TEST(Captions, TemplateCaptionsAreDeterministicOffline) {
  DescribeConfig d;
  d.every_s = 2;  // captioner: template (the default)
  std::vector<std::vector<std::string>> runs;
  for (int run = 0; run < 2; ++run) {
    const std::string dir = test::tmp_dir("captions") + "/template" + std::to_string(run);
    EngineConfig c = engine_config(d, dir);
    c.offline = true;
    c.streams[0].loop = false;
    auto engine = Engine::create(c);
    ASSERT_TRUE(engine) << engine.error().message;
    (*engine)->start();
    for (int i = 0; i < 600 && !(*engine)->all_finished(); ++i) std::this_thread::sleep_for(100ms);
    (*engine)->stop();
    std::vector<std::string> texts;
    for (const auto& e : jsonl_captions(dir + "/events.jsonl"))
      texts.push_back(std::to_string(e["pts"].get<double>()) + " " + e["text"].get<std::string>());
    runs.push_back(texts);
  }
  ASSERT_EQ(runs[0].size(), 10u);  // 20 s, every 2 s of video
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_NE(runs[0][1].find("people"), std::string::npos) << runs[0][1];
}

TEST(Captions, BadDescribeConfigIsRefusedWithItsPath) {
  const auto bad = parse_config("streams:\n  - {id: a, url: x.mp4, describe: {captioner: gpt, every_s: 1}}\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("streams[0].describe.captioner"), std::string::npos) << bad.error().message;
  const auto bad2 = parse_config("describe: {captioner: vlm, endpoint: ftp://x, every_s: 1}\nstreams: [x.mp4]\n");
  ASSERT_FALSE(bad2);
  EXPECT_NE(bad2.error().message.find("describe.endpoint"), std::string::npos) << bad2.error().message;
  const auto bad3 = parse_config("describe: {every_s: 1, colour: red}\n");
  ASSERT_FALSE(bad3);
  EXPECT_NE(bad3.error().message.find("colour"), std::string::npos) << bad3.error().message;
  // Top-level describe applies to every stream; a stream overrides single keys.
  const auto ok = parse_config(
      "describe: {captioner: vlm, endpoint: 'http://127.0.0.1:9', every_s: 5}\n"
      "streams:\n  - {id: a, url: a.mp4}\n  - {id: b, url: b.mp4, describe: {every_s: 30}}\n");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->streams[0].describe.every_s, 5);
  EXPECT_EQ(ok->streams[1].describe.every_s, 30);
  EXPECT_EQ(ok->streams[1].describe.captioner, CaptionerKind::kVlm);
}

}  // namespace
}  // namespace vigil
