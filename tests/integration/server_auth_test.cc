// Access to the HTTP API on real sockets over a real Engine (tests/server_fixture.h):
// static files, token, cookie login, cross-origin refusals, non-loopback listening.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>
#include <utility>  // before Boost 1.74 asio: its awaitable.hpp uses std::exchange

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server_fixture.h"

namespace vigil {
namespace {

using namespace http_test;
using test::kVideos;
using test::video_stats;
using test::frames_of;

class ServerAuthTest : public test::ServerFixture {};

TEST_F(ServerAuthTest, StaticFilesComeFromTheWebDirAndNeverFromOutside) {
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

TEST_F(ServerAuthTest, CrossOriginChangesAreRefused) {
  const std::string self = "http://127.0.0.1:" + std::to_string(port_);
  expect_error(request(port_, http::verb::post, "/api/stats/reset", "", {{"Origin", "http://evil.example"}}), 403,
               "Origin");
  expect_error(request(port_, http::verb::delete_, "/api/streams/cam1", "", {{"Origin", "http://127.0.0.1:1"}}), 403);
  EXPECT_EQ(request(port_, http::verb::post, "/api/stats/reset", "", {{"Origin", self}}).status, 200);
  EXPECT_EQ(get(port_, "/healthz", {{"Origin", "http://evil.example"}}).status, 200);  // reads are not refused
  EXPECT_TRUE(engine_->stream("cam1"));
}

TEST_F(ServerAuthTest, TokenIsRequiredOnEveryRouteWhenSet) {
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

TEST_F(ServerAuthTest, LoginIsNotFoundWithoutAToken) {
  expect_error(get(port_, "/login"), 404);
  expect_error(request(port_, http::verb::post, "/login", "token=x",
                       {{"Content-Type", "application/x-www-form-urlencoded"}}),
               404);
  EXPECT_NE(get(port_, "/", {{"Accept", "text/html"}}).status, 303);
}

TEST_F(ServerAuthTest, NonLoopbackWithoutTokenIsRefused) {
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

// ---------------------------------------------------------------- login page and cookie

class LoginTest : public test::ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
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

}  // namespace
}  // namespace vigil
