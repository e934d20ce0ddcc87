// The HTTP API on real sockets (127.0.0.1, ephemeral ports) over a real
// Engine running a looping file stream, with a small blocking Beast client.
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>
#include <vector>
#include <utility>  // before Boost 1.74 asio: its awaitable.hpp uses std::exchange

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "pipeline/engine.h"
#include "server/http_server.h"
#include "jobs/job_manager.h"
#include "http_test_client.h"
#include "test_engine.h"
#include "test_support.h"

namespace vigil {
namespace {

const std::string kVideos = VIGIL_TEST_VIDEOS_DIR;
using namespace http_test;

std::uint64_t frames_of(std::uint16_t port, const std::string& id) {
  const json j = get(port, "/api/streams/" + id).parsed();
  return j.contains("status") && j["status"].is_object() ? j["status"]["frames"].get<std::uint64_t>() : 0;
}

json video_stats(std::uint16_t port, const std::string& id) {
  const json j = get(port, "/api/stats").parsed();
  for (const auto& s : j["streams"])
    if (s["id"] == id && s.contains("video")) return s["video"];
  return json();
}


class ServerApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto e = test::start_looping_engine("server_api");
    ASSERT_TRUE(e) << e.error().message;
    engine_ = e->release();
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.media_dir = kVideos;
    auto srv = HttpServer::start(o, *engine_);
    ASSERT_TRUE(srv) << srv.error().message;
    server_ = srv->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    if (engine_) engine_->stop();
    delete engine_;
    engine_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    port_ = server_->port();
    ASSERT_NE(port_, 0);
  }
  // Waits until cam1 has shown some frames.
  void wait_frames(std::uint64_t at_least) {
    for (int i = 0; i < 100 && frames_of(port_, "cam1") < at_least; ++i) std::this_thread::sleep_for(100ms);
  }

  static Engine* engine_;
  static HttpServer* server_;
  std::uint16_t port_ = 0;
};
Engine* ServerApiTest::engine_ = nullptr;
HttpServer* ServerApiTest::server_ = nullptr;

TEST_F(ServerApiTest, HealthzAnswersOk) {
  const Reply r = get(port_, "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.parsed(), json({{"status", "ok"}}));
}

TEST_F(ServerApiTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(30s);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  beast::flat_buffer buffer;
  for (int i = 0; i < 3; ++i) {
    http::request<http::string_body> req(http::verb::get, "/healthz", 11);
    req.set(http::field::host, "127.0.0.1");
    http::write(stream, req);
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    EXPECT_EQ(res.result_int(), 200U);
    EXPECT_TRUE(res.keep_alive());
  }
}

TEST_F(ServerApiTest, StatsHaveEngineFieldsAliasesAndHistory) {
  wait_frames(5);
  std::this_thread::sleep_for(2200ms);  // at least two history samples
  const Reply r = get(port_, "/api/stats");
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = r.parsed();
  for (const char* key : {"streams", "stages", "bottleneck", "inferences_per_sec", "batch_size_avg", "queue_size",
                          "cpu_percent", "ram_mb", "inference_time_ms", "inference_avg_ms", "current_fps",
                          "batch_size", "active_streams", "ram_used_mb", "history"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_GE(j["active_streams"].get<int>(), 1);
  EXPECT_GT(j["current_fps"].get<double>(), 0.0);
  EXPECT_GT(j["ram_used_mb"].get<double>(), 0.0);
  for (const char* series : {"fps", "inference_avg_ms", "cpu_percent", "ram_mb"}) {
    ASSERT_TRUE(j["history"][series].is_array()) << series;
    EXPECT_GE(j["history"][series].size(), 2U) << series;
    EXPECT_LE(j["history"][series].size(), 120U) << series;
  }
  EXPECT_EQ(request(port_, http::verb::post, "/api/stats/reset").status, 200);
}

TEST_F(ServerApiTest, AddPatchDeleteStreamWhileTheFirstKeepsRunning) {
  wait_frames(3);
  const std::uint64_t before = frames_of(port_, "cam1");

  Reply r = request(port_, http::verb::post, "/api/streams",
                    R"({"id": "cam2", "url": "vtest20.mp4", "loop": true, "every": 2,
                        "zones": [{"name": "left", "polygon": [[0,0],[0.5,0],[0.5,1],[0,1]]}]})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.parsed()["config"]["url"], kVideos + "/vtest20.mp4");

  r = get(port_, "/api/streams");
  ASSERT_EQ(r.status, 200);
  const json list = r.parsed();
  std::vector<std::string> ids;
  for (const auto& s : list["streams"]) ids.push_back(s["id"]);
  EXPECT_EQ(ids, (std::vector<std::string>{"cam1", "cam2"}));

  expect_error(request(port_, http::verb::post, "/api/streams", R"({"id": "cam2", "url": "vtest20.mp4"})"), 409,
               "cam2");

  r = request(port_, http::verb::patch, "/api/streams/cam2", R"({"every": 5, "gate": {"enabled": true, "similarity": 0.9}})");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = r.parsed();
  EXPECT_EQ(j["id"], "cam2");
  EXPECT_EQ(j["config"]["every"], 5);
  EXPECT_EQ(j["config"]["gate"]["enabled"], true);
  EXPECT_NEAR(j["config"]["gate"]["similarity"].get<double>(), 0.9, 1e-9);
  EXPECT_EQ(j["config"]["zones"].size(), 1U);  // kept
  EXPECT_EQ(j["config"]["loop"], true);        // kept
  // Objects merge: a later PATCH of one gate field keeps the others.
  r = request(port_, http::verb::patch, "/api/streams/cam2", R"({"gate": {"max_skip": 7}})");
  ASSERT_EQ(r.status, 200) << r.body;
  j = r.parsed();
  EXPECT_EQ(j["config"]["gate"]["enabled"], true);
  EXPECT_EQ(j["config"]["gate"]["max_skip"], 7);
  EXPECT_EQ(get(port_, "/api/streams/cam2").parsed()["config"]["every"], 5);

  expect_error(request(port_, http::verb::patch, "/api/streams/cam2", R"({"url": "rtsp://x/y"})"), 400, "url");
  expect_error(request(port_, http::verb::patch, "/api/streams/cam2", R"({"every": 0})"), 400, "every");
  EXPECT_EQ(get(port_, "/api/streams/cam2").parsed()["config"]["every"], 5);  // a failed PATCH changes nothing

  r = request(port_, http::verb::delete_, "/api/streams/cam2");
  EXPECT_EQ(r.status, 200) << r.body;
  expect_error(get(port_, "/api/streams/cam2"), 404, "cam2");
  expect_error(request(port_, http::verb::delete_, "/api/streams/cam2"), 404, "cam2");

  std::uint64_t after = before;
  for (int i = 0; i < 50 && after <= before + 5; ++i) {
    std::this_thread::sleep_for(100ms);
    after = frames_of(port_, "cam1");
  }
  EXPECT_GT(after, before + 5) << "cam1 stopped while cam2 was added, patched and removed";
}

TEST_F(ServerApiTest, ErrorsAreJsonWithTheRightStatus) {
  expect_error(get(port_, "/api/streams/nope"), 404, "nope");
  expect_error(request(port_, http::verb::patch, "/api/streams/nope", R"({"every": 2})"), 404);
  expect_error(get(port_, "/no/such/route"), 404);
  expect_error(request(port_, http::verb::post, "/api/streams", "{not json"), 400, "JSON");
  expect_error(request(port_, http::verb::post, "/api/streams", "[1, 2]"), 400);
  expect_error(request(port_, http::verb::post, "/api/streams", R"({"id": "x", "url": "concat:a.mp4|b.mp4"})"), 400,
               "concat:");
  expect_error(request(port_, http::verb::post, "/api/streams", R"({"id": "x", "url": "/etc/passwd"})"), 400,
               "outside the media directory");
  expect_error(request(port_, http::verb::post, "/api/streams", R"({"id": "x", "url": "../../../etc/passwd"})"), 400,
               "outside the media directory");
  expect_error(request(port_, http::verb::post, "/api/streams", R"({"id": "x", "url": "missing.mp4"})"), 400,
               "missing.mp4");
  expect_error(request(port_, http::verb::post, "/api/streams", R"({"id": "Bad Id", "url": "vtest20.mp4"})"), 400,
               "id");
  expect_error(request(port_, http::verb::post, "/api/streams", R"({"id": "x", "url": "vtest20.mp4", "evry": 2})"),
               400, "evry");
  const std::string big = R"({"id": "x", "url": ")" + std::string(1024 * 1024 + 100, 'a') + "\"}";
  expect_error(request(port_, http::verb::post, "/api/streams", big), 413);
  const Reply r = request(port_, http::verb::delete_, "/healthz");
  expect_error(r, 405);
  EXPECT_EQ(r.allow, "GET");
  expect_error(request(port_, http::verb::put, "/api/streams/cam1", "{}"), 405);
  expect_error(get(port_, "/api/events?limit=abc"), 400, "limit");
  expect_error(get(port_, "/api/events?limit=0"), 400);
  // The server is still fine after all of that.
  EXPECT_EQ(get(port_, "/healthz").status, 200);
}

TEST_F(ServerApiTest, EventsComeFromTheStore) {
  const Reply r = get(port_, "/api/events?stream=cam1&limit=5");
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = r.parsed();
  ASSERT_TRUE(j["events"].is_array());
  EXPECT_LE(j["events"].size(), 5U);
  for (const auto& e : j["events"]) EXPECT_EQ(e["stream"], "cam1");
}

TEST_F(ServerApiTest, MetricsPassPromtool) {
  wait_frames(3);
  const Reply r = get(port_, "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type.rfind("text/plain; version=0.0.4", 0), 0U) << r.content_type;
  for (const char* needle : {"# TYPE vigil_stage_latency_seconds summary", "vigil_stream_fps{stream=\"cam1\",kind=\"display\"}",
                             "# TYPE vigil_drops_total counter", "vigil_batch_size_avg ", "vigil_inferences_total ",
                             "vigil_process_cpu_percent ", "vigil_process_resident_memory_bytes "})
    EXPECT_NE(r.body.find(needle), std::string::npos) << needle << "\n" << r.body;
  const std::string file = test::tmp_dir("server_api") + "/metrics.txt";
  {
    FILE* f = std::fopen(file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fwrite(r.body.data(), 1, r.body.size(), f);
    std::fclose(f);
  }
  const auto check = test::run_process("/usr/bin/promtool check metrics < " + file);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err << "\n" << r.body;
}

TEST_F(ServerApiTest, MjpegStreamsJpegPartsAndDropsAClientThatStopsReading) {
  wait_frames(3);
  MjpegClient a(port_, "/api/streams/cam1/mjpeg?fps=10&quality=70");
  const std::string head = a.head();
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0U) << head;
  EXPECT_NE(head.find("Content-Type: multipart/x-mixed-replace; boundary=vigilframe"), std::string::npos) << head;
  std::string type, jpeg;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(a.part(type, jpeg)) << "part " << i;
    EXPECT_EQ(type, "image/jpeg");
    ASSERT_TRUE(is_jpeg(jpeg)) << "part " << i << " is not a whole JPEG (" << jpeg.size() << " bytes)";
  }

  // Client A keeps reading in a thread; B connects and never reads.
  std::atomic<int> parts{0};
  std::atomic<bool> stop{false}, bad{false};
  std::thread reader([&] {
    std::string t, j;
    while (!stop) {
      if (!a.part(t, j) || t != "image/jpeg" || !is_jpeg(j)) {
        bad = true;
        return;
      }
      ++parts;
    }
  });
  MjpegClient b(port_, "/api/streams/cam1/mjpeg?fps=10&quality=70", 16 * 1024);
  const auto b_start = std::chrono::steady_clock::now();
  json v;
  for (int i = 0; i < 50; ++i) {
    v = video_stats(port_, "cam1");
    if (v.is_object() && v["viewers"] == 2) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(v.is_object()) << "no streams[].video in /api/stats";
  EXPECT_EQ(v["viewers"], 2);

  const int parts_before = parts.load();
  const auto window_start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(10s);
  const int received = parts.load() - parts_before;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start).count();
  EXPECT_GE(received / secs, 9.0) << received << " parts in " << secs << " s while another client was stuck";

  // B is disconnected: its viewer is gone within ~10-15 s of its writes sticking.
  bool dropped = false;
  while (std::chrono::steady_clock::now() - b_start < 17s) {
    v = video_stats(port_, "cam1");
    if (v.is_object() && v["viewers"] == 1) {
      dropped = true;
      break;
    }
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_TRUE(dropped) << "the client that stopped reading is still connected: " << v.dump();
  EXPECT_FALSE(bad) << "client A got a bad part";
  stop = true;
  beast::error_code ec;
  a.socket().shutdown(tcp::socket::shutdown_both, ec);
  reader.join();

  // Encoder figures.
  v = video_stats(port_, "cam1");
  ASSERT_TRUE(v.is_object());
  EXPECT_GT(v["frames_encoded"].get<std::uint64_t>(), 20U);
  for (const char* key : {"viewers", "frames_seen", "drops", "variants", "ws_clients", "ws_drops"})
    EXPECT_TRUE(v.contains(key)) << key;
}

TEST_F(ServerApiTest, SnapshotIsOneJpeg) {
  wait_frames(3);
  const Reply r = get(port_, "/api/streams/cam1/snapshot.jpg");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "image/jpeg");
  EXPECT_TRUE(is_jpeg(r.body)) << r.body.size();
}

TEST_F(ServerApiTest, LiveRoutesOfAnUnknownStreamAreJson404) {
  expect_error(get(port_, "/api/streams/nope/mjpeg"), 404, "nope");
  expect_error(get(port_, "/api/streams/nope/snapshot.jpg"), 404, "nope");
  const Headers upgrade = {{"Upgrade", "websocket"},
                           {"Connection", "Upgrade"},
                           {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                           {"Sec-WebSocket-Version", "13"}};
  expect_error(get(port_, "/ws/streams/nope", upgrade), 404, "nope");
  expect_error(get(port_, "/api/streams/cam1/mjpeg?fps=99"), 400, "fps");
  expect_error(get(port_, "/ws/streams/cam1"), 400, "WebSocket");
  expect_error(get(port_, "/ws/streams/cam1", {{"Upgrade", "websocket"}, {"Connection", "Upgrade"},
                                               {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                                               {"Sec-WebSocket-Version", "13"}, {"Origin", "http://evil.example"}}),
               403, "Origin");
}

TEST_F(ServerApiTest, WebSocketSendsJpegFramesAndAnalysisJson) {
  wait_frames(3);
  asio::io_context ioc;
  auto ws = ws_connect(ioc, port_, "/ws/streams/cam1?video=1");
  int binary = 0, text = 0;
  json last;
  const auto start = std::chrono::steady_clock::now();
  while ((binary < 3 || text < 1) && std::chrono::steady_clock::now() - start < 15s) {
    const WsMessage m = ws_read(ioc, *ws, 5000ms);
    ASSERT_TRUE(m.ok) << "no WebSocket message within 5 s";
    if (m.binary) {
      EXPECT_TRUE(is_jpeg(m.data));
      ++binary;
    } else {
      last = json::parse(m.data, nullptr, false);
      ASSERT_TRUE(last.is_object()) << m.data;
      ++text;
    }
  }
  EXPECT_GE(binary, 3);
  ASSERT_GE(text, 1);
  for (const char* key : {"stream", "seq", "pts", "tracks", "events", "fps", "width", "height"})
    EXPECT_TRUE(last.contains(key)) << key << " in " << last.dump();
  EXPECT_EQ(last["stream"], "cam1");
  EXPECT_TRUE(last["tracks"].is_array());
  EXPECT_EQ(last["width"], 768);
  for (const auto& t : last["tracks"]) {
    for (const char* key : {"id", "class", "score", "box"}) EXPECT_TRUE(t.contains(key)) << key;
    EXPECT_EQ(t["box"].size(), 4U);
  }
  ws->close(beast::websocket::close_code::normal);
}

TEST_F(ServerApiTest, WebSocketWithoutVideoSendsOnlyJson) {
  wait_frames(3);
  asio::io_context ioc;
  auto ws = ws_connect(ioc, port_, "/ws/streams/cam1?video=0");
  int text = 0;
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < 3s) {
    const WsMessage m = ws_read(ioc, *ws, 5000ms);
    ASSERT_TRUE(m.ok);
    EXPECT_FALSE(m.binary) << "video=0 got a binary message";
    ++text;
  }
  EXPECT_GE(text, 1);
}

TEST_F(ServerApiTest, EventSocketSendsEngineEvents) {
  asio::io_context ioc;
  auto ws = ws_connect(ioc, port_, "/ws/events");
  const WsMessage m = ws_read(ioc, *ws, 20000ms);
  ASSERT_TRUE(m.ok) << "no event within 20 s";
  EXPECT_FALSE(m.binary);
  const json e = json::parse(m.data, nullptr, false);
  ASSERT_TRUE(e.is_object()) << m.data;
  EXPECT_TRUE(e.contains("kind") && e.contains("stream")) << m.data;
}

TEST_F(ServerApiTest, CaptionEventsReachTheEventSocket) {
  StreamConfig s = default_stream("captioned", kVideos + "/vtest20.mp4");
  s.loop = true;
  s.every = 2;
  s.describe.every_s = 1;  // template captioner
  ASSERT_TRUE(engine_->add_stream(s));
  asio::io_context ioc;
  auto ws = ws_connect(ioc, port_, "/ws/events");
  json caption;
  for (int i = 0; i < 500 && caption.is_null(); ++i) {
    const WsMessage m = ws_read(ioc, *ws, 20000ms);
    if (!m.ok) break;
    const json e = json::parse(m.data, nullptr, false);
    if (e.is_object() && e.value("kind", "") == "caption" && e.value("stream", "") == "captioned") caption = e;
  }
  EXPECT_TRUE(engine_->remove_stream("captioned"));
  ASSERT_TRUE(caption.is_object()) << "no caption event within the time";
  EXPECT_EQ(caption["captioner"], "template");
  EXPECT_FALSE(caption.value("text", "").empty());
  EXPECT_TRUE(caption.contains("latency_ms"));
}

TEST_F(ServerApiTest, PatchChangesCaptionsAndKeepsTheHiddenApiKey) {
  const json body = {{"id", "vlmcam"},
                     {"url", "vtest20.mp4"},
                     {"loop", true},
                     {"describe", {{"captioner", "vlm"}, {"endpoint", "http://127.0.0.1:9"}, {"api_key", "s3cret"}}}};
  const Reply added = request(port_, http::verb::post, "/api/streams", body.dump());
  ASSERT_EQ(added.status, 201) << added.body;
  const json shown = added.parsed()["config"]["describe"];
  EXPECT_EQ(shown["captioner"], "vlm");
  EXPECT_FALSE(shown.contains("api_key"));  // never sent back
  const Reply patched = request(port_, http::verb::patch, "/api/streams/vlmcam",
                                json{{"describe", {{"every_s", 30}}}, {"every", 3}}.dump());
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.parsed()["config"]["describe"]["every_s"], 30);
  EXPECT_EQ(patched.parsed()["config"]["describe"]["endpoint"], "http://127.0.0.1:9");
  ASSERT_TRUE(engine_->stream("vlmcam"));
  EXPECT_EQ(engine_->stream("vlmcam")->config().describe.api_key, "s3cret");
  expect_error(request(port_, http::verb::patch, "/api/streams/vlmcam",
                       json{{"describe", {{"captioner", "gpt"}}}}.dump()),
               400, "describe.captioner");
  EXPECT_TRUE(engine_->remove_stream("vlmcam"));
}

TEST_F(ServerApiTest, AbortedWebSocketsLeaveNoThreadsOrDescriptors) {
  wait_frames(3);
  auto settle = [] { std::this_thread::sleep_for(1500ms); };
  settle();
  const int threads0 = proc_threads();
  const int fds0 = proc_fds();
  for (int i = 0; i < 200; ++i) {
    asio::io_context ioc;
    auto ws = ws_connect(ioc, port_, i % 2 ? "/ws/streams/cam1?video=1" : "/ws/events");
    beast::get_lowest_layer(*ws).socket().set_option(asio::socket_base::linger(true, 0));  // RST, no FIN
    beast::get_lowest_layer(*ws).close();
  }
  int threads = 0, fds = 0;
  for (int i = 0; i < 20; ++i) {
    settle();
    threads = proc_threads();
    fds = proc_fds();
    if (threads <= threads0 + 2 && fds <= fds0 + 2) break;
  }
  EXPECT_LE(threads, threads0 + 2) << "baseline " << threads0;
  EXPECT_LE(fds, fds0 + 2) << "baseline " << fds0;
  EXPECT_EQ(video_stats(port_, "cam1")["ws_clients"], 0);
  EXPECT_EQ(get(port_, "/healthz").status, 200);
}

TEST_F(ServerApiTest, StaticFilesComeFromTheWebDirAndNeverFromOutside) {
  const std::string dir = test::tmp_dir("server_api_web");
  std::filesystem::create_directories(dir + "/js");
  std::ofstream(dir + "/index.html") << "<!doctype html><title>vigil test</title>";
  std::ofstream(dir + "/js/app.js") << "console.log(1);";
  std::ofstream(dir + "/style.css") << "body{}";
  std::filesystem::remove(dir + "/escape.txt");
  std::filesystem::create_symlink("/etc/passwd", dir + "/escape.txt");
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.web_dir = dir;
  o.token = "tok";
  auto srv = HttpServer::start(o, *engine_);
  ASSERT_TRUE(srv) << srv.error().message;
  const std::uint16_t port = (*srv)->port();

  Reply r = get(port, "/");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type.rfind("text/html", 0), 0U) << r.content_type;
  EXPECT_EQ(r.body, "<!doctype html><title>vigil test</title>");
  r = get(port, "/static/js/app.js");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type.rfind("text/javascript", 0), 0U) << r.content_type;
  EXPECT_EQ(get(port, "/static/style.css").content_type.rfind("text/css", 0), 0U);
  expect_error(get(port, "/static/missing.js"), 404);
  for (const char* evil : {"/static/../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd",
                           "/static/..%2f..%2f..%2fetc%2fpasswd", "/static/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
                           "/static/js/../../../../etc/passwd", "/static//etc/passwd", "/static/escape.txt",
                           "/static/..\\..\\etc\\passwd"}) {
    r = get(port, evil);
    EXPECT_TRUE(r.status == 400 || r.status == 404) << evil << " -> " << r.status;
    EXPECT_EQ(r.content_type, "application/json") << evil;
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << evil;
  }
  // The token guards the data, also for media (as a query parameter for <img> and WebSocket).
  expect_error(get(port, "/api/streams/cam1/snapshot.jpg"), 401);
  r = get(port, "/api/streams/cam1/snapshot.jpg?token=tok");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(is_jpeg(r.body));
  (*srv)->stop();
}

TEST_F(ServerApiTest, LiveFeedsFollowStreamsAddedAndRemoved) {
  Reply r = request(port_, http::verb::post, "/api/streams", R"({"id": "cam3", "url": "vtest20.mp4", "loop": true})");
  ASSERT_EQ(r.status, 201) << r.body;
  MjpegClient c(port_, "/api/streams/cam3/mjpeg?fps=5&overlay=0");
  EXPECT_EQ(c.head().rfind("HTTP/1.1 200", 0), 0U);
  std::string type, jpeg;
  ASSERT_TRUE(c.part(type, jpeg));
  EXPECT_TRUE(is_jpeg(jpeg));
  ASSERT_EQ(request(port_, http::verb::delete_, "/api/streams/cam3").status, 200);
  // The response ends once the stream is gone.
  int more = 0;
  while (c.part(type, jpeg) && more < 100) ++more;
  EXPECT_LT(more, 100);
  expect_error(get(port_, "/api/streams/cam3/mjpeg"), 404);
}

TEST_F(ServerApiTest, CrossOriginChangesAreRefused) {
  const std::string self = "http://127.0.0.1:" + std::to_string(port_);
  expect_error(request(port_, http::verb::post, "/api/stats/reset", "", {{"Origin", "http://evil.example"}}), 403,
               "Origin");
  expect_error(request(port_, http::verb::delete_, "/api/streams/cam1", "", {{"Origin", "http://127.0.0.1:1"}}), 403);
  EXPECT_EQ(request(port_, http::verb::post, "/api/stats/reset", "", {{"Origin", self}}).status, 200);
  EXPECT_EQ(get(port_, "/healthz", {{"Origin", "http://evil.example"}}).status, 200);  // reads are not refused
  EXPECT_TRUE(engine_->stream("cam1"));
}

TEST_F(ServerApiTest, TokenIsRequiredOnEveryRouteWhenSet) {
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.token = "s3cret";
  auto srv = HttpServer::start(o, *engine_);
  ASSERT_TRUE(srv) << srv.error().message;
  const std::uint16_t port = (*srv)->port();
  for (const char* target : {"/healthz", "/api/stats", "/metrics", "/api/streams"}) {
    expect_error(get(port, target), 401);
    expect_error(get(port, target, {{"Authorization", "Bearer wrong"}}), 401);
    EXPECT_EQ(get(port, target, {{"Authorization", "Bearer s3cret"}}).status, 200) << target;
  }
  expect_error(request(port, http::verb::delete_, "/api/streams/cam1"), 401);
  EXPECT_TRUE(engine_->stream("cam1"));
  (*srv)->stop();
}

// ---------------------------------------------------------------- login page and cookie

class LoginTest : public ServerApiTest {
 protected:
  void SetUp() override {
    ServerApiTest::SetUp();
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.token = "s3cret";
    auto srv = HttpServer::start(o, *engine_);
    ASSERT_TRUE(srv) << srv.error().message;
    srv_ = std::move(*srv);
    port_ = srv_->port();
  }
  void TearDown() override {
    if (srv_) srv_->stop();
  }
  Reply login(const std::string& body, const std::string& type, const Headers& more = {}) {
    Headers h = more;
    h["Content-Type"] = type;
    return request(port_, http::verb::post, "/login", body, h);
  }
  std::unique_ptr<HttpServer> srv_;
};

TEST_F(LoginTest, LoginPageIsServedWithoutAToken) {
  const Reply r = get(port_, "/login");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type.rfind("text/html", 0), 0U) << r.content_type;
  EXPECT_NE(r.body.find("<form method=\"post\" action=\"/login\">"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("type=\"password\""), std::string::npos);
  EXPECT_NE(r.body.find("name=\"token\""), std::string::npos);
  EXPECT_EQ(r.body.find("<script"), std::string::npos);
  expect_error(request(port_, http::verb::put, "/login"), 405);
}

TEST_F(LoginTest, RightTokenSetsACookieThatAuthorisesApiAndMedia) {
  const std::string cookie_attrs = "; Path=/; HttpOnly; SameSite=Strict";
  Reply r = login("token=s3cret", "application/x-www-form-urlencoded");
  ASSERT_EQ(r.status, 303) << r.body;
  EXPECT_EQ(r.location, "/");
  EXPECT_EQ(r.set_cookie, "vigil_token=s3cret" + cookie_attrs);
  EXPECT_EQ(r.set_cookie.find("Secure"), std::string::npos);  // plain HTTP: no Secure
  r = login(R"({"token": "s3cret"})", "application/json; charset=utf-8");
  EXPECT_EQ(r.status, 303) << r.body;
  EXPECT_EQ(r.set_cookie, "vigil_token=s3cret" + cookie_attrs);

  // The cookie authorises the API, alone or among other cookies.
  expect_error(get(port_, "/api/stats"), 401);
  for (const char* cookie : {"vigil_token=s3cret", "a=1; vigil_token=s3cret; b=2", "theme=dark;vigil_token=s3cret",
                             "  x=\"y\" ;  vigil_token=\"s3cret\"  "}) {
    r = get(port_, "/api/stats", {{"Cookie", cookie}});
    EXPECT_EQ(r.status, 200) << cookie << ": " << r.body;
  }
  EXPECT_EQ(request(port_, http::verb::post, "/api/stats/reset", "", {{"Cookie", "vigil_token=s3cret"}}).status, 200);
  // ... and media: a snapshot and a WebSocket upgrade.
  r = get(port_, "/api/streams/cam1/snapshot.jpg", {{"Cookie", "vigil_token=s3cret"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(is_jpeg(r.body));
  asio::io_context ioc;
  WebSocket ws(ioc);
  beast::get_lowest_layer(ws).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  ws.set_option(beast::websocket::stream_base::decorator(
      [](beast::websocket::request_type& req) { req.set(http::field::cookie, "a=b; vigil_token=s3cret"); }));
  ASSERT_NO_THROW(ws.handshake("127.0.0.1:" + std::to_string(port_), "/ws/streams/cam1?video=0"));
  const WsMessage m = ws_read(ioc, ws, 10s);
  EXPECT_TRUE(m.ok);
  EXPECT_FALSE(m.binary);
  // Without the cookie the upgrade is refused.
  asio::io_context ioc2;
  WebSocket ws2(ioc2);
  beast::get_lowest_layer(ws2).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  EXPECT_ANY_THROW(ws2.handshake("127.0.0.1:" + std::to_string(port_), "/ws/streams/cam1?video=0"));
}

TEST_F(LoginTest, WrongTokenOrCookieIs401) {
  Reply r = login("token=nope", "application/x-www-form-urlencoded");
  expect_error(r, 401);
  EXPECT_TRUE(r.set_cookie.empty());
  expect_error(login(R"({"token": "s3cre"})", "application/json"), 401);
  expect_error(login("token=s3cretX", "application/x-www-form-urlencoded"), 401);
  expect_error(login("password=s3cret", "application/x-www-form-urlencoded"), 400);
  for (const char* cookie : {"vigil_token=wrong", "vigil_token=", "other=s3cret", "xvigil_token=s3cret",
                             "vigil_token=s3cret2"}) {
    expect_error(get(port_, "/api/stats", {{"Cookie", cookie}}), 401);
    expect_error(get(port_, "/api/streams/cam1/snapshot.jpg", {{"Cookie", cookie}}), 401);
  }
}

TEST_F(LoginTest, CrossOriginLoginIsRefused) {
  const Reply r = login("token=s3cret", "application/x-www-form-urlencoded", {{"Origin", "http://evil.example"}});
  expect_error(r, 403, "Origin");
  EXPECT_TRUE(r.set_cookie.empty());
  const std::string self = "http://127.0.0.1:" + std::to_string(port_);
  EXPECT_EQ(login("token=s3cret", "application/x-www-form-urlencoded", {{"Origin", self}}).status, 303);
}

TEST_F(LoginTest, BrowserWithoutCredentialsIsSentToLogin) {
  const Headers browser = {{"Accept", "text/html,application/xhtml+xml,*/*;q=0.8"}};
  Reply r = get(port_, "/", browser);
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(r.location, "/login");
  Headers wrong = browser;
  wrong["Cookie"] = "vigil_token=wrong";
  EXPECT_EQ(get(port_, "/", wrong).status, 303);
  // With the cookie (or not a browser), / is the dashboard as before; only / redirects.
  Headers signed_in = browser;
  signed_in["Cookie"] = "vigil_token=s3cret";
  EXPECT_NE(get(port_, "/", signed_in).status, 303);
  EXPECT_NE(get(port_, "/").status, 303);
  expect_error(get(port_, "/api/stats", browser), 401);
}

TEST_F(ServerApiTest, LoginIsNotFoundWithoutAToken) {
  expect_error(get(port_, "/login"), 404);
  expect_error(request(port_, http::verb::post, "/login", "token=x",
                       {{"Content-Type", "application/x-www-form-urlencoded"}}),
               404);
  EXPECT_NE(get(port_, "/", {{"Accept", "text/html"}}).status, 303);
}

TEST_F(ServerApiTest, NonLoopbackWithoutTokenIsRefused) {
  ServerOptions o;
  o.listen = "0.0.0.0:0";
  auto srv = HttpServer::start(o, *engine_);
  ASSERT_FALSE(srv);
  EXPECT_NE(srv.error().message.find("without a token"), std::string::npos) << srv.error().message;
  EXPECT_NE(srv.error().message.find("0.0.0.0"), std::string::npos) << srv.error().message;

  o.token = "t";
  auto with_token = HttpServer::start(o, *engine_);
  ASSERT_TRUE(with_token) << with_token.error().message;
  EXPECT_EQ(get((*with_token)->port(), "/healthz", {{"Authorization", "Bearer t"}}).status, 200);

  o.listen = "127.0.0.1";
  EXPECT_FALSE(HttpServer::start(o, *engine_));
  o.listen = "not-an-ip:80";
  EXPECT_FALSE(HttpServer::start(o, *engine_));
}

// Offline jobs through the API: a second server over the same engine with a
// JobManager (one job at a time) on a fresh jobs directory.
class JobsApiTest : public ServerApiTest {
 protected:
  void SetUp() override {
    ServerApiTest::SetUp();
    jobs_dir_ = test::tmp_dir("jobs_api") + "/" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(jobs_dir_);
    JobManagerOptions jo;
    jo.jobs.dir = jobs_dir_;
    jo.jobs.concurrency = 1;
    jo.jobs.workers = 2;
    jo.model_path = VIGIL_DEFAULT_MODEL;
    jo.device = "cpu";
    auto jm = JobManager::create(jo);
    ASSERT_TRUE(jm) << jm.error().message;
    jobs_ = std::move(*jm);
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.media_dir = kVideos;
    o.jobs = jobs_.get();
    auto srv = HttpServer::start(o, *engine_);
    ASSERT_TRUE(srv) << srv.error().message;
    jobs_server_ = std::move(*srv);
    jport_ = jobs_server_->port();
  }
  void TearDown() override {
    jobs_server_.reset();
    jobs_.reset();
  }
  json submit(const json& body, int expect_status) {
    const Reply r = request(jport_, http::verb::post, "/api/jobs", body.dump());
    EXPECT_EQ(r.status, expect_status) << r.body;
    return r.parsed();
  }
  json job(std::int64_t id) { return get(jport_, "/api/jobs/" + std::to_string(id)).parsed(); }
  // Polls until the job's state is `state` (or 180 s pass).
  json wait_state(std::int64_t id, const std::string& state) {
    json j;
    for (int i = 0; i < 1800; ++i) {
      j = job(id);
      if (j.value("state", "") == state) break;
      std::this_thread::sleep_for(100ms);
    }
    return j;
  }

  std::string jobs_dir_;
  std::unique_ptr<JobManager> jobs_;
  std::unique_ptr<HttpServer> jobs_server_;
  std::uint16_t jport_ = 0;
};

TEST_F(JobsApiTest, JobRunsWithProgressOverWebSocketAndServesItsReport) {
  const json created = submit({{"path", "long.mp4"}, {"sample_fps", 0.2}, {"chunk_s", 120}}, 201);
  ASSERT_TRUE(created.contains("id")) << created.dump();
  const std::int64_t id = created["id"];
  EXPECT_EQ(created["video"], (std::filesystem::path(kVideos) / "long.mp4").lexically_normal().string());
  // Progress events until the job ends: monotonic, the last one says done.
  asio::io_context ioc;
  auto ws = ws_connect(ioc, jport_, "/ws/jobs/" + std::to_string(id));
  double last = -1;
  int messages = 0;
  std::string state;
  for (int i = 0; i < 2000 && state != "done"; ++i) {
    const WsMessage m = ws_read(ioc, *ws, 60s);
    if (!m.ok) break;
    const json p = json::parse(m.data);
    EXPECT_EQ(p["type"], "progress");
    EXPECT_EQ(p["job_id"], id);
    const double f = p.value("progress", 0.0);
    EXPECT_GE(f, last) << m.data;
    last = f;
    state = p.value("state", "");
    ++messages;
  }
  EXPECT_EQ(state, "done");
  EXPECT_DOUBLE_EQ(last, 1.0);
  EXPECT_GE(messages, 3);
  const json done = wait_state(id, "done");
  ASSERT_EQ(done["chunks"].size(), 6u) << done.dump();  // 636 s in 120 s chunks
  for (const auto& c : done["chunks"]) EXPECT_EQ(c["state"], "done") << c.dump();
  EXPECT_EQ(done["report"], "/api/jobs/" + std::to_string(id) + "/report");
  const Reply report = get(jport_, "/api/jobs/" + std::to_string(id) + "/report");
  EXPECT_EQ(report.status, 200);
  EXPECT_EQ(report.content_type, "text/html; charset=utf-8");
  EXPECT_NE(report.body.find("<svg"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(jobs_dir_ + "/" + std::to_string(id) + "/timeline.csv"));
  // Listed; the same request again is the same job (200, not a new one).
  const json list = get(jport_, "/api/jobs").parsed();
  ASSERT_EQ(list["jobs"].size(), 1u);
  EXPECT_EQ(list["jobs"][0]["id"], id);
  const json again = submit({{"path", "long.mp4"}, {"sample_fps", 0.2}, {"chunk_s", 120}}, 200);
  EXPECT_EQ(again["id"], id);
  // A finished job cannot be cancelled.
  expect_error(request(jport_, http::verb::delete_, "/api/jobs/" + std::to_string(id)), 409, "already done");
}

TEST_F(JobsApiTest, JobsQueueWithinTheConcurrencyAndCanBeCancelled) {
  const json a = submit({{"path", "long.mp4"}, {"sample_fps", 1}, {"chunk_s", 60}}, 201);
  const json b = submit({{"path", "vtest20.mp4"}, {"sample_fps", 1}}, 201);
  const std::int64_t ia = a["id"], ib = b["id"];
  wait_state(ia, "running");
  EXPECT_EQ(job(ib)["state"], "queued");  // concurrency 1: B waits for A
  // Cancel the queued one, then the running one.
  const Reply cb = request(jport_, http::verb::delete_, "/api/jobs/" + std::to_string(ib));
  EXPECT_EQ(cb.status, 200) << cb.body;
  EXPECT_EQ(job(ib)["state"], "cancelled");
  const Reply ca = request(jport_, http::verb::delete_, "/api/jobs/" + std::to_string(ia));
  EXPECT_EQ(ca.status, 200) << ca.body;
  const json cancelled = wait_state(ia, "cancelled");
  EXPECT_EQ(cancelled["state"], "cancelled");
  for (const auto& c : cancelled["chunks"]) EXPECT_NE(c["state"], "running") << c.dump();
  expect_error(request(jport_, http::verb::delete_, "/api/jobs/" + std::to_string(ia)), 409, "already cancelled");
}

TEST_F(JobsApiTest, StoppingTheServerKeepsARunningJobForTheNextStartAndLocksTheDirectory) {
  const json a = submit({{"path", "long.mp4"}, {"sample_fps", 0.5}, {"chunk_s", 60}}, 201);
  const std::int64_t id = a["id"];
  wait_state(id, "running");
  // Another server on the same jobs.dir is refused while this one holds it.
  JobManagerOptions other;
  other.jobs.dir = jobs_dir_;
  other.model_path = VIGIL_DEFAULT_MODEL;
  const auto second = JobManager::create(other);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("in use by another vigil process"), std::string::npos) << second.error().message;
  // Stop while it runs: the job is not cancelled...
  jobs_server_.reset();
  jobs_.reset();
  // ... and a new start picks it up and finishes it.
  JobManagerOptions again;
  again.jobs.dir = jobs_dir_;
  again.jobs.workers = 2;
  again.model_path = VIGIL_DEFAULT_MODEL;
  again.device = "cpu";
  auto jm = JobManager::create(again);
  ASSERT_TRUE(jm) << jm.error().message;
  jobs_ = std::move(*jm);
  json j;
  for (int i = 0; i < 1800; ++i) {
    auto g = jobs_->get(id);
    ASSERT_TRUE(g) << g.error().message;
    j = *g;
    if (j["state"] == "done" || j["state"] == "cancelled" || j["state"] == "failed") break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(j["state"], "done") << j.dump().substr(0, 400);
}

TEST_F(JobsApiTest, BadJobRequestsAreClearErrors) {
  struct Case {
    json body;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{{"path", "/etc/hostname"}}, "media"},
      {{{"path", "../../../etc/passwd"}}, "media"},
      {{{"path", "missing.mp4"}}, "missing.mp4"},
      {{{"path", "random.mp4"}}, "random.mp4"},
      {{{"path", "empty.mp4"}}, "empty"},
      {{{"path", "audio_only.m4a"}}, "no video stream"},
      {{{"path", "rtsp://127.0.0.1/cam"}}, "file inside the media directory"},
      {{{"path", "long.mp4"}, {"sample_fps", 0}}, "sample_fps"},
      {{{"path", "long.mp4"}, {"chunk_s", -1}}, "chunk"},
      {{{"path", "long.mp4"}, {"chunk_s", 0.01}}, "at least 1 second"},
      {{{"path", "long.mp4"}, {"classes", {"unicorn"}}}, "unicorn"},
      {{{"path", "long.mp4"}, {"speed", 2}}, "unknown field 'speed'"},
      {{{"sample_fps", 1}}, "path"},
  };
  for (const auto& c : cases) expect_error(request(jport_, http::verb::post, "/api/jobs", c.body.dump()), 400, c.message);
  expect_error(request(jport_, http::verb::post, "/api/jobs", "{nope"), 400);
  expect_error(get(jport_, "/api/jobs/999"), 404, "does not exist");
  expect_error(get(jport_, "/api/jobs/abc"), 404);
  expect_error(get(jport_, "/api/jobs/999/report"), 404);
  expect_error(request(jport_, http::verb::delete_, "/api/jobs/999"), 404);
  expect_error(request(jport_, http::verb::put, "/api/jobs"), 405);
  expect_error(get(jport_, "/ws/jobs/999", {{"Upgrade", "websocket"}, {"Connection", "Upgrade"},
                                            {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                                            {"Sec-WebSocket-Version", "13"}}),
               404);
  EXPECT_TRUE(get(jport_, "/api/jobs").parsed()["jobs"].empty());  // nothing was queued
  // The main server has no JobManager: 503.
  expect_error(get(port_, "/api/jobs"), 503);
}

// A file name with a space and capitals (made by make_test_videos.sh): the
// job's stream id is the name's slug, the outputs keep the real name.
TEST_F(JobsApiTest, FileNameWithSpacesIsAccepted) {
  const json created = submit({{"path", "My Video.mp4"}, {"sample_fps", 2}}, 201);
  ASSERT_TRUE(created.contains("id")) << created.dump();
  const std::int64_t id = created["id"].get<std::int64_t>();
  const json done = wait_state(id, "done");
  ASSERT_EQ(done.value("state", ""), "done") << done.dump();
  std::ifstream f(done["out_dir"].get<std::string>() + "/results.json");
  const json results = json::parse(f);
  EXPECT_EQ(results["video"]["name"], "My Video.mp4");
  EXPECT_EQ(results["video"]["stream"], "my_video");
  EXPECT_EQ(results["summary"]["samples"], 6);  // 3 s at 2 samples/s
}

}  // namespace
}  // namespace vigil
