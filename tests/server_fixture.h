// The fixture of the HTTP API integration tests (tests/integration/server_*_test.cc):
// one real Engine per test suite running a looping file stream `cam1`
// (test_engine.h), served by a real HttpServer on 127.0.0.1 (ephemeral
// port, media dir = the test videos), talked to with the blocking Beast
// client of http_test_client.h.
#pragma once

#include <cstdint>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http_test_client.h"
#include "pipeline/engine.h"
#include "server/http_server.h"
#include "test_engine.h"
#include "test_support.h"
#include "wait.h"

namespace vigil::test {

inline const std::string kVideos = VIGIL_TEST_VIDEOS_DIR;

// cam1's frames so far (0 when it has no status yet).
inline std::uint64_t frames_of(std::uint16_t port, const std::string& id) {
  const nlohmann::json j = http_test::get(port, "/api/streams/" + id).parsed();
  return j.contains("status") && j["status"].is_object() ? j["status"]["frames"].get<std::uint64_t>() : 0;
}

// streams[].video of /api/stats for `id` (null when absent).
inline nlohmann::json video_stats(std::uint16_t port, const std::string& id) {
  const nlohmann::json j = http_test::get(port, "/api/stats").parsed();
  for (const auto& s : j["streams"])
    if (s["id"] == id && s.contains("video")) return s["video"];
  return nlohmann::json();
}

class ServerFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto e = start_looping_engine("server_api");
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
  // Waits (up to 10 s) until cam1 has shown `at_least` frames.
  void wait_frames(std::uint64_t at_least) {
    EXPECT_TRUE(eventually([&] { return frames_of(port_, "cam1") >= at_least; }, std::chrono::seconds(10)))
        << "cam1 showed fewer than " << at_least << " frames in 10 s";
  }

  inline static Engine* engine_ = nullptr;
  inline static HttpServer* server_ = nullptr;
  std::uint16_t port_ = 0;
};

}  // namespace vigil::test
