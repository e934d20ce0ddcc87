// Streams through the HTTP API on real sockets (127.0.0.1) over a real Engine
// running a looping file stream (tests/server_fixture.h): add, list, patch,
// delete, their errors, and the connection basics (health, keep-alive).
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

class ServerStreamsTest : public test::ServerFixture {};

TEST_F(ServerStreamsTest, HealthzAnswersOk) {
  wait_frames(1);  // cam1 is up
  const Reply r = get(port_, "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.parsed(), json({{"status", "ok"}, {"down", json::array()}}));
}

TEST_F(ServerStreamsTest, KeepAliveServesSeveralRequestsOnOneConnection) {
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

TEST_F(ServerStreamsTest, AddPatchDeleteStreamWhileTheFirstKeepsRunning) {
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
  test::eventually([&] { return (after = frames_of(port_, "cam1")) > before + 5; }, 5s);
  EXPECT_GT(after, before + 5) << "cam1 stopped while cam2 was added, patched and removed";
}

TEST_F(ServerStreamsTest, ErrorsAreJsonWithTheRightStatus) {
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

TEST_F(ServerStreamsTest, PatchChangesCaptionsAndKeepsTheHiddenApiKey) {
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

}  // namespace
}  // namespace vigil
