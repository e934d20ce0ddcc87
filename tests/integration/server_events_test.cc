// Events through the HTTP API: the SQLite store behind /api/events and the
// /ws/events WebSocket, on real sockets over a real Engine (tests/server_fixture.h).
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

class ServerEventsTest : public test::ServerFixture {};

TEST_F(ServerEventsTest, EventsComeFromTheStore) {
  const Reply r = get(port_, "/api/events?stream=cam1&limit=5");
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = r.parsed();
  ASSERT_TRUE(j["events"].is_array());
  EXPECT_LE(j["events"].size(), 5U);
  for (const auto& e : j["events"]) EXPECT_EQ(e["stream"], "cam1");
}

TEST_F(ServerEventsTest, EventSocketSendsEngineEvents) {
  asio::io_context ioc;
  auto ws = ws_connect(ioc, port_, "/ws/events");
  const WsMessage m = ws_read(ioc, *ws, 20000ms);
  ASSERT_TRUE(m.ok) << "no event within 20 s";
  EXPECT_FALSE(m.binary);
  const json e = json::parse(m.data, nullptr, false);
  ASSERT_TRUE(e.is_object()) << m.data;
  EXPECT_TRUE(e.contains("kind") && e.contains("stream")) << m.data;
}

TEST_F(ServerEventsTest, CaptionEventsReachTheEventSocket) {
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

}  // namespace
}  // namespace vigil
