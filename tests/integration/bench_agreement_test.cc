// `vigil bench agreement` through the real binary on a real video (vtest.avi
// as H.264, 10 fps): the JSON shape, the exact path against itself, the
// rectangular float32 path against the square one, and bad input.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace vigil {
namespace {

using test::run_process;

std::string video() { return std::string(VIGIL_TEST_VIDEOS_DIR) + "/vtest20.mp4"; }

nlohmann::json agreement(const std::string& flags) {
  const auto r = run_process(std::string(VIGIL_BINARY) + " bench agreement " + video() + " --frames 12 --every 4 --json " +
                             flags + " --model " + VIGIL_DEFAULT_MODEL);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  return j;
}

TEST(BenchAgreement, TheExactPathAgreesWithItselfCompletely) {
  // Fast path configured like the exact one: float32, square, whole frames.
  const auto j = agreement("--precision fp32 --rectangular false --motion off");
  ASSERT_TRUE(j.is_object());
  for (const char* k : {"frames", "recall", "precision", "speedup", "exact_ms", "fast_ms"}) EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["frames"], 12);
  EXPECT_GT(j["exact_detections"].get<int>(), 12);  // people in every frame of vtest
  EXPECT_EQ(j["matched"], j["exact_detections"]);
  EXPECT_DOUBLE_EQ(j["recall"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["precision"].get<double>(), 1.0);
  EXPECT_EQ(j["rectangular"], false);
  EXPECT_EQ(j["motion"], "off");
}

TEST(BenchAgreement, RectangularFloat32StaysCloseToTheSquareLetterbox) {
  // 768x576 (4:3) runs at 416x352 instead of 416x416, the picture on the
  // square input's stride grid. Measured on these 12 frames: recall 1.0 (105
  // of 105), precision 0.98 (107 boxes; 0.88 at 416x320 off the grid); the
  // goal, 0.95, is the bound.
  const auto j = agreement("--precision fp32 --rectangular true --motion off");
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["rectangular"], true);
  EXPECT_GE(j["recall"].get<double>(), 0.95) << j.dump();
  EXPECT_GE(j["precision"].get<double>(), 0.95) << j.dump();
}

TEST(BenchAgreement, MotionSkipCountsEveryFrameItAnalysesOrSkips) {
  const auto j = agreement("--precision fp32 --motion skip");
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["motion"], "skip");
  EXPECT_EQ(j["skipped"].get<int>() + j["full_frames"].get<int>() + j["crop_frames"].get<int>(), 12);
  EXPECT_GT(j["full_frames"].get<int>(), 0);  // the first frame calibrates: analysed whole
}

TEST(BenchAgreement, BadInputIsNamed) {
  const std::string bin = std::string(VIGIL_BINARY) + " bench agreement ";
  auto r = run_process(bin + video() + " --motion sideways");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--motion: 'sideways' is not one of off, skip, crops"), std::string::npos) << r.err;
  r = run_process(bin + video() + " --rectangular maybe");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--rectangular: 'maybe'"), std::string::npos) << r.err;
  r = run_process(bin + video() + " --precision int4");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--precision"), std::string::npos) << r.err;
  r = run_process(bin + "/nonexistent/clip.mp4");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/nonexistent/clip.mp4"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace vigil
