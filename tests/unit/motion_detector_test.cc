// MotionDetector on synthetic luma frames: a still picture, a moving square, a
// lighting change, noise; and the `motion:` config section's errors.
#include "analytics/motion_detector.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "config/engine_config.h"

namespace vigil {
namespace {

constexpr int kW = 640, kH = 360;

std::uint8_t clamp_u8(int v) { return static_cast<std::uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v)); }

// A textured background (gradient plus a checker), brightness shifted by `offset`,
// with a dark square of side `side` at (sx, sy) unless sx < 0.
std::vector<std::uint8_t> frame(int sx, int sy, int side = 60, int offset = 0) {
  std::vector<std::uint8_t> f(static_cast<std::size_t>(kW * kH));
  for (int y = 0; y < kH; ++y)
    for (int x = 0; x < kW; ++x) {
      int v = 60 + x / 8 + y / 6 + (((x / 16) + (y / 16)) % 2) * 25 + offset;
      if (sx >= 0 && x >= sx && x < sx + side && y >= sy && y < sy + side) v = 10;
      f[static_cast<std::size_t>(y * kW + x)] = clamp_u8(v);
    }
  return f;
}

MotionResult run(MotionDetector& d, const std::vector<std::uint8_t>& f) { return d.detect(f.data(), kW, kH, kW); }

bool contains(const Box& outer, const Box& inner, float tol) {
  return outer.x1 <= inner.x1 + tol && outer.y1 <= inner.y1 + tol && outer.x2 >= inner.x2 - tol &&
         outer.y2 >= inner.y2 - tol;
}

TEST(MotionDetector, FirstFrameCalibratesThenAStillPictureHasNoMotion) {
  MotionDetector d(MotionConfig{});
  const auto still = frame(100, 100);
  const MotionResult first = run(d, still);
  EXPECT_TRUE(first.calibrating);
  EXPECT_TRUE(first.boxes.empty());
  for (int i = 0; i < 20; ++i) {
    const MotionResult r = run(d, still);
    EXPECT_FALSE(r.calibrating);
    EXPECT_FALSE(r.global_change);
    EXPECT_TRUE(r.boxes.empty()) << "frame " << i;
    EXPECT_EQ(r.changed, 0.0);
  }
}

TEST(MotionDetector, AMovingSquareGivesOneRegionWhereItIs) {
  MotionDetector d(MotionConfig{});
  run(d, frame(-1, 0));  // background without the square
  for (int i = 0; i < 10; ++i) run(d, frame(-1, 0));
  for (int step = 0; step < 8; ++step) {
    const int x = 100 + step * 40, y = 150;
    const MotionResult r = run(d, frame(x, y));
    ASSERT_EQ(r.boxes.size(), 1U) << "step " << step;
    const Box& b = r.boxes[0];
    const Box square{static_cast<float>(x), static_cast<float>(y), static_cast<float>(x + 60), static_cast<float>(y + 60)};
    // The box holds the square where it is now, and little more (the
    // background took in only alpha = 2% of where it was: no trail).
    EXPECT_TRUE(contains(b, square, 8)) << "step " << step << ": " << b.x1 << "," << b.y1 << " " << b.x2 << "," << b.y2;
    EXPECT_GT(b.x1, x - 16);
    EXPECT_LT(b.x2, x + 60 + 16);
    EXPECT_GT(b.y1, y - 16);
    EXPECT_LT(b.y2, y + 60 + 16);
  }
}

TEST(MotionDetector, ALightingChangeGivesNoRegionsAndANewBackground) {
  MotionDetector d(MotionConfig{});
  for (int i = 0; i < 5; ++i) run(d, frame(100, 100));
  const MotionResult lit = run(d, frame(100, 100, 60, 70));  // the lights come on: every pixel +70
  EXPECT_TRUE(lit.global_change);
  EXPECT_TRUE(lit.boxes.empty());
  EXPECT_GT(lit.changed, 0.8);
  // The new picture is the background now: no spurious motion afterwards.
  for (int i = 0; i < 5; ++i) {
    const MotionResult r = run(d, frame(100, 100, 60, 70));
    EXPECT_FALSE(r.global_change);
    EXPECT_TRUE(r.boxes.empty()) << "frame " << i;
  }
}

TEST(MotionDetector, SmallBrightnessDriftAndNoiseAreNotMotion) {
  MotionDetector d(MotionConfig{});
  const auto base = frame(100, 100);
  run(d, base);
  std::uint32_t s = 7;
  for (int i = 0; i < 20; ++i) {
    auto f = frame(100, 100, 60, i % 3);  // auto-exposure wobble of up to 2 levels
    for (auto& p : f) {
      s = s * 1664525U + 1013904223U;
      p = clamp_u8(p + static_cast<int>((s >> 24) % 17) - 8);  // +-8 levels of sensor noise
    }
    EXPECT_TRUE(run(d, f).boxes.empty()) << "frame " << i;
  }
}

TEST(MotionDetector, MinAreaDropsSmallChangesAndTwoObjectsGiveTwoBoxes) {
  MotionConfig c;
  c.min_area = 2000;
  MotionDetector d(c);
  run(d, frame(-1, 0));
  auto f = frame(-1, 0);
  // A 20x20 change (400 px < 2000) and a 70x70 one far from it.
  for (int y = 50; y < 70; ++y)
    for (int x = 50; x < 70; ++x) f[static_cast<std::size_t>(y * kW + x)] = 0;
  for (int y = 200; y < 270; ++y)
    for (int x = 400; x < 470; ++x) f[static_cast<std::size_t>(y * kW + x)] = 0;
  const MotionResult r = run(d, f);
  ASSERT_EQ(r.boxes.size(), 1U);
  EXPECT_TRUE(contains(r.boxes[0], Box{400, 200, 470, 270}, 8));
  for (int y = 50; y < 120; ++y)
    for (int x = 50; x < 120; ++x) f[static_cast<std::size_t>(y * kW + x)] = 0;
  MotionDetector d2(c);
  run(d2, frame(-1, 0));
  EXPECT_EQ(run(d2, f).boxes.size(), 2U);
}

TEST(MotionDetector, MergeOverlappingJoinsChains) {
  const auto merged = merge_overlapping({{0, 0, 10, 10}, {50, 50, 60, 60}, {8, 8, 20, 20}, {19, 0, 30, 5}});
  ASSERT_EQ(merged.size(), 2U);
  EXPECT_EQ(merged[0].x1, 0);
  EXPECT_EQ(merged[0].x2, 30);
  EXPECT_EQ(merged[0].y2, 20);
  EXPECT_EQ(merged[1].x1, 50);
}

std::string error_of(const std::string& yaml) {
  auto c = parse_config(yaml);
  return c ? std::string() : c.error().message;
}

TEST(MotionConfig, SectionTurnsItOnAndKeysAreRead) {
  auto c = parse_config(
      "defaults: {motion: {threshold: 30, min_area: 900}}\n"
      "streams:\n  - {id: a, url: x.mp4}\n  - {id: b, url: y.mp4, motion: {enabled: false}}\n"
      "  - {id: c, url: z.mp4, motion: {crops: true, max_crops: 2, refresh_s: 0}}\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->defaults.motion.crops);
  ASSERT_EQ(c->streams.size(), 3U);
  EXPECT_TRUE(c->streams[0].motion.enabled);
  EXPECT_EQ(c->streams[0].motion.threshold, 30);
  EXPECT_EQ(c->streams[0].motion.min_area, 900);
  EXPECT_FALSE(c->streams[1].motion.enabled);
  EXPECT_TRUE(c->streams[2].motion.enabled);
  EXPECT_TRUE(c->streams[2].motion.crops);
  EXPECT_EQ(c->streams[2].motion.max_crops, 2);
  EXPECT_EQ(c->streams[2].motion.refresh_s, 0);
  auto off = parse_config("streams: [{id: a, url: x.mp4}]\n");
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->streams[0].motion.enabled);
}

TEST(MotionConfig, BadValuesNameTheField) {
  EXPECT_NE(error_of("streams: [{id: a, url: x.mp4, motion: {threshold: 0}}]").find("streams[0].motion.threshold"),
            std::string::npos);
  EXPECT_NE(error_of("streams: [{id: a, url: x.mp4, motion: {threshold: 300}}]").find("streams[0].motion.threshold"),
            std::string::npos);
  EXPECT_NE(error_of("defaults: {motion: {min_area: -1}}").find("defaults.motion.min_area"), std::string::npos);
  EXPECT_NE(error_of("defaults: {motion: {alpha: 0}}").find("defaults.motion.alpha"), std::string::npos);
  EXPECT_NE(error_of("defaults: {motion: {global_change: 1.5}}").find("defaults.motion.global_change"),
            std::string::npos);
  EXPECT_NE(error_of("defaults: {motion: {height: 4}}").find("defaults.motion.height"), std::string::npos);
  EXPECT_NE(error_of("defaults: {motion: {max_crops: 0}}").find("defaults.motion.max_crops"), std::string::npos);
  EXPECT_NE(error_of("defaults: {motion: {max_crop_area: 0}}").find("defaults.motion.max_crop_area"),
            std::string::npos);
  EXPECT_NE(error_of("defaults: {motion: {refresh_s: -1}}").find("defaults.motion.refresh_s"), std::string::npos);
  EXPECT_NE(error_of("defaults: {motion: {crops: maybe}}").find("defaults.motion.crops"), std::string::npos);
  EXPECT_NE(error_of("defaults: {motion: {treshold: 3}}").find("defaults.motion.treshold: unknown option"),
            std::string::npos);
  // The module's own check says the same for callers without the table.
  MotionConfig m;
  m.threshold = 0;
  ASSERT_FALSE(m.validate("motion"));
  EXPECT_EQ(m.validate("motion").error().message.rfind("motion.threshold:", 0), 0U);
}

}  // namespace
}  // namespace vigil
