// Live media on real sockets over a real Engine (tests/server_fixture.h):
// MJPEG, snapshots, the stream WebSocket, and their life with streams and clients.
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

class ServerMediaTest : public test::ServerFixture {};

TEST_F(ServerMediaTest, MjpegStreamsJpegPartsAndDropsAClientThatStopsReading) {
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
  test::eventually([&] { return (v = video_stats(port_, "cam1")).is_object() && v["viewers"] == 2; }, 5s);
  ASSERT_TRUE(v.is_object()) << "no streams[].video in /api/stats";
  EXPECT_EQ(v["viewers"], 2);

  // A keeps its rate while B is stuck: at least 9 parts a second over 10 s
  // (the source gives 10), i.e. 90 parts within 10 s.
  constexpr int kWindowParts = 90;
  const int parts_before = parts.load();
  const auto window_start = std::chrono::steady_clock::now();
  test::eventually([&] { return parts.load() - parts_before >= kWindowParts; }, 10s, 100ms);
  const int received = parts.load() - parts_before;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start).count();
  EXPECT_GE(received, kWindowParts) << received << " parts in " << secs << " s while another client was stuck";
  EXPECT_GE(received / secs, 9.0) << received << " parts in " << secs << " s while another client was stuck";

  // B is disconnected: its viewer is gone within ~10-15 s of its writes sticking.
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(17s - (std::chrono::steady_clock::now() - b_start));
  const bool dropped = test::eventually(
      [&] { return (v = video_stats(port_, "cam1")).is_object() && v["viewers"] == 1; }, left, 200ms);
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

TEST_F(ServerMediaTest, SnapshotIsOneJpeg) {
  wait_frames(3);
  const Reply r = get(port_, "/api/streams/cam1/snapshot.jpg");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "image/jpeg");
  EXPECT_TRUE(is_jpeg(r.body)) << r.body.size();
}

TEST_F(ServerMediaTest, LiveRoutesOfAnUnknownStreamAreJson404) {
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

TEST_F(ServerMediaTest, WebSocketSendsJpegFramesAndAnalysisJson) {
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

TEST_F(ServerMediaTest, WebSocketWithoutVideoSendsOnlyJson) {
  wait_frames(3);
  asio::io_context ioc;
  auto ws = ws_connect(ioc, port_, "/ws/streams/cam1?video=0");
  // 30 messages (about 3 s of the stream's JSON): none may be a JPEG frame.
  constexpr int kMessages = 30;
  int text = 0;
  for (int i = 0; i < kMessages; ++i) {
    const WsMessage m = ws_read(ioc, *ws, 5000ms);
    ASSERT_TRUE(m.ok) << "message " << i;
    EXPECT_FALSE(m.binary) << "video=0 got a binary message";
    ++text;
  }
  EXPECT_EQ(text, kMessages);
}

TEST_F(ServerMediaTest, AbortedWebSocketsLeaveNoThreadsOrDescriptors) {
  wait_frames(3);
  // The baseline once earlier connections are gone: no WebSocket client and
  // the same descriptor count twice in a row.
  int fds_before = -1;
  test::eventually(
      [&] {
        const int now = proc_fds();
        const bool steady = now == fds_before && video_stats(port_, "cam1").value("ws_clients", -1) == 0;
        fds_before = now;
        return steady;
      },
      10s, 300ms);
  const int threads0 = proc_threads();
  const int fds0 = proc_fds();
  for (int i = 0; i < 200; ++i) {
    asio::io_context ioc;
    auto ws = ws_connect(ioc, port_, i % 2 ? "/ws/streams/cam1?video=1" : "/ws/events");
    beast::get_lowest_layer(*ws).socket().set_option(asio::socket_base::linger(true, 0));  // RST, no FIN
    beast::get_lowest_layer(*ws).close();
  }
  int threads = 0, fds = 0;
  test::eventually(
      [&] {
        threads = proc_threads();
        fds = proc_fds();
        return threads <= threads0 + 2 && fds <= fds0 + 2 && video_stats(port_, "cam1").value("ws_clients", -1) == 0;
      },
      30s, 200ms);
  EXPECT_LE(threads, threads0 + 2) << "baseline " << threads0;
  EXPECT_LE(fds, fds0 + 2) << "baseline " << fds0;
  EXPECT_EQ(video_stats(port_, "cam1")["ws_clients"], 0);
  EXPECT_EQ(get(port_, "/healthz").status, 200);
}

TEST_F(ServerMediaTest, LiveFeedsFollowStreamsAddedAndRemoved) {
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

}  // namespace
}  // namespace vigil
