// The seed systems' documents mapped from EngineStats (server/seed_compat.h).
#include "server/seed_compat.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

EngineStats two_streams() {
  EngineStats st;
  StreamSnapshot a, b;
  a.id = "a";
  a.every = 4;
  a.frames = 100;
  a.detections = 30;
  a.display_fps = 10;
  b.id = "b";
  b.every = 2;
  b.frames = 50;
  b.detections = 5;
  b.display_fps = 5;
  st.streams = {a, b};
  st.ram_mb = 512;
  auto& inference = st.stages[static_cast<std::size_t>(Stage::kInference)].latency;
  inference = {10, 30.0, 28.0, 40.0, 45.0, 50.0};
  auto& encode = st.stages[static_cast<std::size_t>(Stage::kEncode)].latency;
  encode = {5, 2.0, 2.0, 3.0, 3.0, 3.5};
  st.stages[static_cast<std::size_t>(Stage::kDecode)].latency = {100, 1.25, 1, 2, 2, 3};
  st.stages[static_cast<std::size_t>(Stage::kConvert)].latency = {100, 0.5, 0.5, 1, 1, 1};
  st.bottleneck = "inference";
  return st;
}

TEST(SeedCompat, TrigoKeysWithoutAGpuAreNull) {
  const auto j = trigo_stats(two_streams(), 4096);
  EXPECT_EQ(j["detection_skip"], 2);
  EXPECT_EQ(j["total_detections"], 35);
  EXPECT_EQ(j["frames_processed"], 150);
  EXPECT_DOUBLE_EQ(j["frame_time_ms"].get<double>(), 1.75);
  EXPECT_DOUBLE_EQ(j["ram_percent"].get<double>(), 12.5);
  EXPECT_EQ(j["gpu_available"], false);
  for (const char* k : {"gpu_name", "gpu_percent", "gpu_temperature"}) EXPECT_TRUE(j[k].is_null()) << k;
  EXPECT_TRUE(trigo_stats(EngineStats{}, 0)["detection_skip"].is_null());
  EXPECT_TRUE(trigo_stats(EngineStats{}, 0)["ram_percent"].is_null());
}

TEST(SeedCompat, TrigoGpuKeysAreTheFirstGpus) {
  EngineStats st = two_streams();
  GpuSample g;
  g.name = "NVIDIA H200";
  g.utilization_percent = 38;
  g.temperature_c = 61;
  st.gpus = {g};
  const auto j = trigo_stats(st, 4096);
  EXPECT_EQ(j["gpu_available"], true);
  EXPECT_EQ(j["gpu_name"], "NVIDIA H200");
  EXPECT_EQ(j["gpu_percent"], 38.0);
  EXPECT_EQ(j["gpu_temperature"], 61.0);
  st.gpus[0].temperature_c.reset();
  EXPECT_TRUE(trigo_stats(st, 4096)["gpu_temperature"].is_null());
}

TEST(SeedCompat, OverwatchPerformanceUsesItsNamesForStagesThatRan) {
  const auto j = overwatch_performance(two_streams());
  EXPECT_EQ(j["current_fps"], 15.0);
  const auto& ops = j["operations"];
  EXPECT_EQ(ops["model_inference"], (nlohmann::json{{"avg_ms", 30.0}, {"p95_ms", 40.0}, {"max_ms", 50.0}, {"count", 10}}));
  EXPECT_TRUE(ops.contains("jpeg_encoding"));
  EXPECT_TRUE(ops.contains("decode"));
  EXPECT_FALSE(ops.contains("xray_visualization"));  // did not run
  EXPECT_FALSE(ops.contains("inference"));
  EXPECT_EQ(j["bottlenecks"], (nlohmann::json::array({{{"operation", "model_inference"}, {"avg_ms", 30.0}}})));
  EXPECT_EQ(overwatch_performance(EngineStats{})["bottlenecks"], nlohmann::json::array());
  EXPECT_STREQ(overwatch_operation(Stage::kOverlay), "xray_visualization");
  EXPECT_STREQ(overwatch_operation(Stage::kTrack), "track");
}

}  // namespace
}  // namespace vigil
