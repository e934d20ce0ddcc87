// /api/stats and /metrics on real sockets over a real Engine (tests/server_fixture.h).
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

class ServerStatsTest : public test::ServerFixture {};

TEST_F(ServerStatsTest, StatsHaveEngineFieldsAliasesAndHistory) {
  wait_frames(5);
  // At least two history samples (the server takes one a second).
  ASSERT_TRUE(test::eventually([&] { return get(port_, "/api/stats").parsed()["history"]["fps"].size() >= 2; }, 10s));
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

TEST_F(ServerStatsTest, MetricsPassPromtool) {
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

}  // namespace
}  // namespace vigil
