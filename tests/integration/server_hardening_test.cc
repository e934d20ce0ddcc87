// Issue 10, the HTTP side: requests that used to crash or bloat the server,
// DNS rebinding, login throttling, security headers, connection caps,
// variant caps, secrets in what the API shows, and the live overlay in a calm
// scene. Real servers on 127.0.0.1 over a real Engine.
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "http_test_client.h"
#include "jobs/job_manager.h"
#include "pipeline/engine.h"
#include "render/mjpeg_hub.h"
#include "server/http_server.h"
#include "test_engine.h"
#include "test_support.h"

namespace vigil {
namespace {

using namespace http_test;

const std::string kVideos = VIGIL_TEST_VIDEOS_DIR;

// Polls `ok` every 50 ms until it holds or `limit` passes.
template <class F>
bool wait_until(F ok, std::chrono::milliseconds limit = 20s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (ok()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return ok();
}

std::string host_header(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

// {"a":[[[[...]]]]} nested `depth` levels.
std::string deep_json(int depth) {
  std::string s = "{\"id\":\"deep\",\"url\":";
  s += std::string(static_cast<std::size_t>(depth), '[');
  s += std::string(static_cast<std::size_t>(depth), ']');
  s += "}";
  return s;
}

class HardeningTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto e = test::start_looping_engine("server_hardening");
    ASSERT_TRUE(e) << e.error().message;
    engine_ = e->release();
  }
  static void TearDownTestSuite() {
    if (engine_) engine_->stop();
    delete engine_;
    engine_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(engine_, nullptr); }

  std::unique_ptr<HttpServer> start(ServerOptions o) {
    o.listen = "127.0.0.1:0";
    auto srv = HttpServer::start(o, *engine_);
    EXPECT_TRUE(srv) << srv.error().message;
    return srv ? std::move(*srv) : nullptr;
  }
  std::unique_ptr<HttpServer> start_with_media() {
    ServerOptions o;
    o.media_dir = kVideos;
    return start(o);
  }
  bool alive(std::uint16_t port) { return get(port, "/healthz").status == 200; }

  static Engine* engine_;
};
Engine* HardeningTest::engine_ = nullptr;

// ---------------------------------------------------------------- crashes

TEST_F(HardeningTest, NumbersThatOverflowADoubleAre400) {
  auto srv = start_with_media();
  ASSERT_TRUE(srv);
  const std::uint16_t port = srv->port();
  expect_error(request(port, http::verb::post, "/api/streams",
                       R"({"id":"big","url":"rtsp://127.0.0.1:1/x","every":1e400})"),
               400, "out of range");
  expect_error(request(port, http::verb::patch, "/api/streams/cam1", R"({"every":1e400})"), 400, "out of range");
  expect_error(request(port, http::verb::patch, "/api/streams/cam1", R"({"every":-1e400})"), 400, "out of range");
  EXPECT_FALSE(engine_->stream("big"));
  EXPECT_TRUE(alive(port));
}

TEST_F(HardeningTest, LoginWithAnOverflowingTokenIs400AndTheServerLives) {
  ServerOptions o;
  o.token = "right-token";
  auto srv = start(o);
  ASSERT_TRUE(srv);
  const Reply r = request(srv->port(), http::verb::post, "/login", R"({"token": 1e400})");
  expect_error(r, 400, "out of range");
  EXPECT_TRUE(alive(srv->port()) || get(srv->port(), "/healthz").status == 401);
  EXPECT_EQ(get(srv->port(), "/healthz", {{"Authorization", "Bearer right-token"}}).status, 200);
}

TEST_F(HardeningTest, JobWithAnOverflowingNumberIs400) {
  const std::string dir = test::tmp_dir("server_hardening_jobs");
  std::filesystem::remove_all(dir);
  JobManagerOptions jo;
  jo.jobs.dir = dir;
  jo.model_path = VIGIL_DEFAULT_MODEL;
  jo.device = "cpu";
  auto jm = JobManager::create(jo);
  ASSERT_TRUE(jm) << jm.error().message;
  ServerOptions o;
  o.media_dir = kVideos;
  o.jobs = jm->get();
  auto srv = start(o);
  ASSERT_TRUE(srv);
  expect_error(request(srv->port(), http::verb::post, "/api/jobs", R"({"path":"vtest20.mp4","sample_fps":1e400})"),
               400, "out of range");
  EXPECT_TRUE(alive(srv->port()));
  srv.reset();
}

TEST_F(HardeningTest, DeeplyNestedBodiesAre400NamingTheLimit) {
  ServerOptions o;
  auto srv = start(o);
  ASSERT_TRUE(srv);
  const std::uint16_t port = srv->port();
  const std::string deep = deep_json(100000);  // ~200 KB, under the body limit
  ASSERT_LT(deep.size(), HttpServer::kBodyLimit);
  expect_error(request(port, http::verb::post, "/api/streams", deep), 400, "nested deeper than 64");
  expect_error(request(port, http::verb::patch, "/api/streams/cam1", deep), 400, "nested deeper than 64");
  // Just inside the limit is parsed (and refused for what it says, not for its depth).
  const Reply shallow = request(port, http::verb::post, "/api/streams", deep_json(60));
  EXPECT_EQ(shallow.status, 400) << shallow.body;
  EXPECT_EQ(shallow.body.find("nested deeper"), std::string::npos) << shallow.body;
  EXPECT_TRUE(alive(port));
  EXPECT_TRUE(engine_->stream("cam1"));
}

// ---------------------------------------------------------------- WebSocket and connection limits

TEST_F(HardeningTest, AWebSocketClientSendingABigMessageIsClosedWithTooBig) {
  ServerOptions o;
  auto srv = start(o);
  ASSERT_TRUE(srv);
  const std::string big(1024 * 1024, 'x');
  for (const char* target : {"/ws/events", "/ws/streams/cam1?video=0"}) {
    asio::io_context ioc;
    auto ws = ws_connect(ioc, srv->port(), target);
    beast::error_code ec;
    ws->write(asio::buffer(big), ec);  // may fail part-way: the server closes as soon as the header says 1 MB
    // Read until the server ends the connection (frames may come first); a
    // read that is still pending at the deadline means it kept the client.
    bool ended = false;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!ended && std::chrono::steady_clock::now() < deadline) {
      beast::flat_buffer buffer;
      bool done = false;
      ws->async_read(buffer, [&](beast::error_code read_ec, std::size_t) {
        done = true;
        ended = static_cast<bool>(read_ec);
      });
      ioc.restart();
      ioc.run_for(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
      if (!done) break;
    }
    EXPECT_TRUE(ended) << target << ": the server kept a client that sent 1 MB";
    // The close frame says why when no frame of ours was being written at that moment.
    const auto code = ws->reason().code;
    EXPECT_TRUE(code == beast::websocket::close_code::too_big || code == beast::websocket::close_code::none)
        << target << " " << code;
  }
  EXPECT_TRUE(alive(srv->port()));
}

TEST_F(HardeningTest, ConnectionsOverThePerAddressCapGet503) {
  ServerOptions o;
  o.max_connections_per_address = 3;
  auto srv = start(o);
  ASSERT_TRUE(srv);
  const std::uint16_t port = srv->port();
  {
    std::vector<std::unique_ptr<MjpegClient>> viewers;
    for (int i = 0; i < 3; ++i) {
      viewers.push_back(std::make_unique<MjpegClient>(port, "/api/streams/cam1/mjpeg?fps=1"));
      EXPECT_NE(viewers.back()->head().find("200 OK"), std::string::npos);
    }
    const Reply over = get(port, "/api/stats");
    expect_error(over, 503, "too many connections");
    EXPECT_EQ(over.header("Retry-After"), "5");
  }
  // The viewers are gone: their places are free again.
  EXPECT_TRUE(wait_until([&] { return get(port, "/api/stats").status == 200; }));
}

TEST_F(HardeningTest, ConnectionsOverTheTotalCapGet503) {
  ServerOptions o;
  o.max_connections = 2;
  auto srv = start(o);
  ASSERT_TRUE(srv);
  MjpegClient a(srv->port(), "/api/streams/cam1/mjpeg?fps=1");
  MjpegClient b(srv->port(), "/api/streams/cam1/mjpeg?fps=1");
  EXPECT_NE(a.head().find("200 OK"), std::string::npos);
  EXPECT_NE(b.head().find("200 OK"), std::string::npos);
  expect_error(get(srv->port(), "/healthz"), 503, "too many connections");
}

// ---------------------------------------------------------------- DNS rebinding

TEST_F(HardeningTest, ForeignHostNamesAre421AndChangeNothing) {
  ServerOptions o;
  o.allowed_hosts = {"cams.example.org", ".lan"};
  auto srv = start(o);
  ASSERT_TRUE(srv);
  const std::uint16_t port = srv->port();
  const std::string evil = "attacker.example:" + std::to_string(port);
  const Reply r = request(port, http::verb::post, "/api/streams", R"({"id":"rebound","url":"rtsp://127.0.0.1:1/x"})",
                          {{"Host", evil}, {"Origin", "http://" + evil}});
  expect_error(r, 421, "attacker.example");
  EXPECT_FALSE(engine_->stream("rebound"));
  expect_error(get(port, "/api/stats", {{"Host", evil}}), 421);
  expect_error(get(port, "/api/streams/cam1/snapshot.jpg", {{"Host", evil}}), 421);
  expect_error(get(port, "/", {{"Host", evil}}), 421);
  // What is served: IP literals, localhost, the listed names.
  const std::string p = std::to_string(port);
  for (const std::string& host : std::vector<std::string>{host_header(port), "localhost:" + p, "LOCALHOST",
                                                          "[::1]:" + p, "192.168.1.20:" + p,
                                                          "cams.example.org:" + p, "nvr.lan", "lan"})
    EXPECT_EQ(get(port, "/api/stats", {{"Host", host}}).status, 200) << host;
  EXPECT_EQ(get(port, "/api/stats", {{"Host", "evil.cams.example.org"}}).status, 421);
  // A WebSocket upgrade with a foreign Host is refused before the upgrade.
  const Reply upgrade = get(port, "/ws/events",
                            {{"Host", evil},
                             {"Connection", "Upgrade"},
                             {"Upgrade", "websocket"},
                             {"Sec-WebSocket-Version", "13"},
                             {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}});
  expect_error(upgrade, 421, "attacker.example");
}

// ---------------------------------------------------------------- login, headers, static files

TEST_F(HardeningTest, FailedLoginsAreThrottledPerAddressAndLoggedWithoutTheGuess) {
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256);
  spdlog::default_logger()->sinks().push_back(sink);
  ServerOptions o;
  o.token = "the-right-token";
  o.login_free_attempts = 5;
  auto srv = start(o);
  ASSERT_TRUE(srv);
  const std::uint16_t port = srv->port();
  const Headers form = {{"Content-Type", "application/x-www-form-urlencoded"}};
  for (int i = 0; i < 6; ++i)
    expect_error(request(port, http::verb::post, "/login", "token=guess-number-" + std::to_string(i), form), 401);
  // The 6th failure set a delay: the next attempt, even with the right token, must wait.
  const Reply blocked = request(port, http::verb::post, "/login", "token=the-right-token", form);
  expect_error(blocked, 429, "too many failed sign-in attempts");
  EXPECT_FALSE(blocked.header("Retry-After").empty());
  // Once the delay is over the right token signs in (and clears the count).
  Reply ok;
  EXPECT_TRUE(wait_until([&] {
    ok = request(port, http::verb::post, "/login", "token=the-right-token", form);
    return ok.status == 303;
  }, 10s)) << ok.status << " " << ok.body;
  expect_error(request(port, http::verb::post, "/login", "token=wrong-again", form), 401);
  spdlog::default_logger()->sinks().pop_back();
  std::string log;
  for (const auto& line : sink->last_formatted()) log += line;
  EXPECT_NE(log.find("login: wrong token from 127.0.0.1"), std::string::npos) << log;
  EXPECT_EQ(log.find("guess-number"), std::string::npos) << log;
  EXPECT_EQ(log.find("wrong-again"), std::string::npos) << log;
}

TEST_F(HardeningTest, TheBearerSchemeIsCaseInsensitive) {
  ServerOptions o;
  o.token = "tok123";
  auto srv = start(o);
  ASSERT_TRUE(srv);
  for (const char* auth : {"Bearer tok123", "bearer tok123", "BEARER  tok123"})
    EXPECT_EQ(get(srv->port(), "/api/stats", {{"Authorization", auth}}).status, 200) << auth;
  EXPECT_EQ(get(srv->port(), "/api/stats", {{"Authorization", "Basic tok123"}}).status, 401);
  EXPECT_EQ(get(srv->port(), "/api/stats", {{"Authorization", "bearer tok12"}}).status, 401);
}

TEST_F(HardeningTest, SecurityHeadersAndNoDotfiles) {
  const std::string web = test::tmp_dir("hardening_web");
  std::ofstream(web + "/index.html") << "<!doctype html><title>t</title>";
  std::ofstream(web + "/.env") << "SECRET=1";
  std::filesystem::create_directories(web + "/.git");
  std::ofstream(web + "/.git/config") << "[core]";
  ServerOptions o;
  o.web_dir = web;
  auto srv = start(o);
  ASSERT_TRUE(srv);
  const std::uint16_t port = srv->port();
  const Reply page = get(port, "/");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(page.header("X-Frame-Options"), "DENY");
  EXPECT_NE(page.header("Content-Security-Policy").find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_NE(page.header("Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  const Reply api = get(port, "/api/stats");
  EXPECT_EQ(api.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(api.header("X-Frame-Options"), "DENY");
  EXPECT_EQ(get(port, "/static/.env").status, 404);
  EXPECT_EQ(get(port, "/static/.git/config").status, 404);
  EXPECT_EQ(get(port, "/static/%2eenv").status, 404);
}

// ---------------------------------------------------------------- variants

TEST_F(HardeningTest, ViewerVariantsAreQuantisedAndCappedPerStream) {
  ServerOptions o;
  auto srv = start(o);
  ASSERT_TRUE(srv);
  const std::uint16_t port = srv->port();
  std::vector<std::unique_ptr<MjpegClient>> viewers;
  for (int q = 41; q <= 100; q += 3)  // 20 different qualities
    viewers.push_back(std::make_unique<MjpegClient>(
        port, "/api/streams/cam1/mjpeg?fps=" + std::to_string(1 + q % 7) + "&quality=" + std::to_string(q)));
  std::string jpeg, type;
  for (auto& v : viewers) {
    ASSERT_NE(v->head().find("200 OK"), std::string::npos);
    ASSERT_TRUE(v->part(type, jpeg));
  }
  const json stats = get(port, "/api/stats").parsed();
  json video;
  for (const auto& s : stats["streams"])
    if (s["id"] == "cam1") video = s["video"];
  ASSERT_TRUE(video.is_object()) << stats.dump();
  std::size_t watched = 0;
  for (const auto& v : video["variants"]) {
    if (v["viewers"].get<int>() == 0) continue;
    ++watched;
    const int q = v["quality"].get<int>();
    EXPECT_TRUE(q == 30 || q == 50 || q == 60 || q == 70 || q == 75 || q == 85 || q == 95) << q;
  }
  EXPECT_GE(watched, 2u);
  EXPECT_LE(watched, MjpegHub::kMaxVariants);
  EXPECT_EQ(video["viewers"].get<std::size_t>(), viewers.size());
}

// ---------------------------------------------------------------- secrets

TEST_F(HardeningTest, CameraPasswordsNeverLeaveTheServer) {
  ServerOptions o;
  auto srv = start(o);
  ASSERT_TRUE(srv);
  const std::uint16_t port = srv->port();
  // Nothing listens on port 1: the stream goes down with an error about the URL.
  const Reply added = request(port, http::verb::post, "/api/streams",
                              R"({"id":"secretcam","url":"rtsp://admin:s3cret@127.0.0.1:1/live","watchdog_s":2,"timeout_s":1})");
  ASSERT_EQ(added.status, 201) << added.body;
  EXPECT_EQ(added.body.find("s3cret"), std::string::npos) << added.body;
  EXPECT_NE(added.body.find("rtsp://admin:***@127.0.0.1:1/live"), std::string::npos) << added.body;
  // Wait until the stream has an error to show, then look everywhere.
  EXPECT_TRUE(wait_until([&] {
    const json s = get(port, "/api/streams/secretcam").parsed();
    return s.contains("status") && s["status"].is_object() && !s["status"].value("last_error", "").empty();
  }));
  for (const char* target : {"/api/streams", "/api/streams/secretcam", "/api/stats", "/metrics",
                             "/api/events?stream=secretcam"}) {
    const Reply r = get(port, target);
    EXPECT_EQ(r.status, 200) << target;
    EXPECT_EQ(r.body.find("s3cret"), std::string::npos) << target << ": " << r.body;
  }
  // PATCH keeps the real URL (only the view is redacted): the stream still
  // tries the real address, so the error still names it, redacted.
  const Reply patched = request(port, http::verb::patch, "/api/streams/secretcam", R"({"every":3})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  ASSERT_TRUE(engine_->stream("secretcam"));
  EXPECT_EQ(engine_->stream("secretcam")->config().url, "rtsp://admin:s3cret@127.0.0.1:1/live");
  EXPECT_EQ(request(port, http::verb::delete_, "/api/streams/secretcam").status, 200);
}

// ---------------------------------------------------------------- the overlay in a calm scene

TEST_F(HardeningTest, EveryAnalysedFrameReachesViewersInACalmScene) {
  auto srv = start_with_media();
  ASSERT_TRUE(srv);
  const std::uint16_t port = srv->port();
  ASSERT_EQ(request(port, http::verb::post, "/api/streams", R"({"id":"calm","url":"still.mp4","loop":true,"every":2})")
                .status,
            201);
  asio::io_context ioc;
  auto ws = ws_connect(ioc, port, "/ws/streams/calm?video=0");
  // The still photo gives its tracks once (track events), then nothing
  // changes: analysed frames without events must keep coming.
  int calm_analysed = 0, with_tracks = 0;
  for (int i = 0; i < 400 && calm_analysed < 15; ++i) {
    const WsMessage m = ws_read(ioc, *ws, 5000ms);
    ASSERT_TRUE(m.ok);
    const json j = json::parse(m.data, nullptr, false);
    if (!j.is_object() || !j.value("analysed", false) || !j["events"].empty()) continue;
    ++calm_analysed;
    if (!j["tracks"].empty()) ++with_tracks;
  }
  EXPECT_GE(calm_analysed, 15);
  EXPECT_GE(with_tracks, 10);  // the dog, the bicycle... are drawn on each of them
  EXPECT_EQ(request(port, http::verb::delete_, "/api/streams/calm").status, 200);
}

}  // namespace
}  // namespace vigil
