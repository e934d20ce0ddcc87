#include "analytics/similarity_gate.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace vigil {
namespace {

// Deterministic pseudo-random numbers (no <random> distribution differences across libraries).
struct Lcg {
  std::uint32_t state = 12345;
  std::uint32_t next() {
    state = state * 1664525U + 1013904223U;
    return state >> 8;
  }
  int uniform(int lo, int hi) { return lo + static_cast<int>(next() % static_cast<std::uint32_t>(hi - lo + 1)); }
};

std::uint8_t clamp_u8(int v) { return static_cast<std::uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v)); }

// A textured 64x36 thumbnail (diagonal gradient with a checker pattern).
Thumbnail textured_thumb(int w = 64, int h = 36) {
  Thumbnail t{w, h, std::vector<std::uint8_t>(static_cast<std::size_t>(w * h))};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      t.pixels[static_cast<std::size_t>(y * w + x)] = clamp_u8(40 + x + 2 * y + (((x / 4) + (y / 4)) % 2) * 30);
  return t;
}

Thumbnail with_noise(const Thumbnail& t, int amplitude, std::uint32_t seed) {
  Lcg rng{seed};
  Thumbnail out = t;
  for (auto& p : out.pixels) p = clamp_u8(p + rng.uniform(-amplitude, amplitude));
  return out;
}

// A full-size gray frame: textured background plus a dark block.
std::vector<std::uint8_t> frame_with_block(int w, int h, int bx, int by, int bw, int bh) {
  std::vector<std::uint8_t> f(static_cast<std::size_t>(w * h));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const bool in_block = x >= bx && x < bx + bw && y >= by && y < by + bh;
      f[static_cast<std::size_t>(y * w + x)] = in_block ? 20 : clamp_u8(120 + ((x / 16 + y / 16) % 2) * 40 + x / 20);
    }
  return f;
}

GateConfig enabled_config() {
  GateConfig c;
  c.enabled = true;
  return c;
}

// --- thumbnails ---------------------------------------------------------------

TEST(MakeThumbnail, AreaAverageOfEachBlock) {
  // 4x2 plane -> 2x1: each output pixel is the mean of a 2x2 block (rounded).
  const std::uint8_t plane[] = {0, 10, 100, 101,  //
                                20, 30, 102, 102};
  Thumbnail t = make_thumbnail(plane, 4, 2, 4, 2, 1);
  ASSERT_EQ(t.width, 2);
  ASSERT_EQ(t.height, 1);
  EXPECT_EQ(t.pixels[0], 15);   // (0+10+20+30)/4
  EXPECT_EQ(t.pixels[1], 101);  // 405/4 = 101.25
}

TEST(MakeThumbnail, HonoursStrideAndNegativeStride) {
  // Rows padded to 8 bytes; the padding (255) must not leak into the average.
  std::vector<std::uint8_t> padded = {10, 10, 30, 30, 255, 255, 255, 255,  //
                                      10, 10, 30, 30, 255, 255, 255, 255};
  Thumbnail t = make_thumbnail(padded.data(), 4, 2, 8, 2, 1);
  ASSERT_EQ(t.pixels.size(), 2U);
  EXPECT_EQ(t.pixels[0], 10);
  EXPECT_EQ(t.pixels[1], 30);
  // Bottom-up: start at the last row, stride -8: row 0 of the image is {50,...}.
  std::vector<std::uint8_t> bottom_up = {70, 70, 70, 70, 0, 0, 0, 0,  //
                                         50, 50, 50, 50, 0, 0, 0, 0};
  Thumbnail flipped = make_thumbnail(bottom_up.data() + 8, 4, 2, -8, 1, 2);
  ASSERT_EQ(flipped.pixels.size(), 2U);
  EXPECT_EQ(flipped.pixels[0], 50);
  EXPECT_EQ(flipped.pixels[1], 70);
}

TEST(MakeThumbnail, KeepsAspectAndClampsToTheSource) {
  std::vector<std::uint8_t> plane(768 * 576, 128);
  Thumbnail keep = make_thumbnail(plane.data(), 768, 576, 768, 64, 0);
  EXPECT_EQ(keep.width, 64);
  EXPECT_EQ(keep.height, 48);
  Thumbnail small = make_thumbnail(plane.data(), 16, 8, 16, 64, 36);
  EXPECT_EQ(small.width, 16);
  EXPECT_EQ(small.height, 8);
  for (const auto p : small.pixels) EXPECT_EQ(p, 128);
  EXPECT_TRUE(make_thumbnail(nullptr, 16, 8, 16, 64, 36).empty());
  EXPECT_TRUE(make_thumbnail(plane.data(), 16, 8, 4, 64, 36).empty());  // stride < width
}

// --- similarity ---------------------------------------------------------------

TEST(Similarity, IdenticalIsOne) {
  const Thumbnail t = textured_thumb();
  EXPECT_DOUBLE_EQ(similarity(t, t), 1.0);
}

TEST(Similarity, SmallUniformNoiseIsSimilar) {
  const Thumbnail base = textured_thumb();
  for (std::uint32_t seed = 1; seed <= 20; ++seed)
    EXPECT_GE(similarity(with_noise(base, 3, seed), with_noise(base, 3, seed + 100)), 0.95) << seed;
}

TEST(Similarity, HeavyNoiseRaisesTheThresholdInsteadOfLookingLikeMotion) {
  // +/-20 on every thumbnail pixel (difference std ~16): far above the
  // 12-level floor, but it is noise, spread evenly over the frame.
  const Thumbnail base = textured_thumb();
  EXPECT_GE(similarity(with_noise(base, 20, 1), with_noise(base, 20, 2)), 0.95);
}

TEST(Similarity, GlobalBrightnessShiftIsNotChange) {
  const Thumbnail base = textured_thumb();
  Thumbnail brighter = base;
  for (auto& p : brighter.pixels) p = clamp_u8(p + 25);
  EXPECT_GE(similarity(base, brighter), 0.99);
}

TEST(Similarity, MovingBlockOfFivePercentIsNotSimilar) {
  const int w = 640, h = 360;
  const int bw = 144, bh = 80;  // 11520 px = 5% of the frame
  const auto before = frame_with_block(w, h, 100, 140, bw, bh);
  const auto after = frame_with_block(w, h, 124, 140, bw, bh);  // moved 24 px right
  const Thumbnail a = make_thumbnail(before.data(), w, h, w, 64, 36);
  const Thumbnail b = make_thumbnail(after.data(), w, h, w, 64, 36);
  EXPECT_LT(similarity(a, b), 0.95);
  // Appearing where there was nothing is a change too.
  const auto empty = frame_with_block(w, h, 0, 0, 0, 0);
  EXPECT_LT(similarity(make_thumbnail(empty.data(), w, h, w, 64, 36), a), 0.95);
}

TEST(Similarity, DifferentSizesOrEmptyAreNotSimilar) {
  EXPECT_DOUBLE_EQ(similarity(textured_thumb(64, 36), textured_thumb(64, 48)), 0.0);
  EXPECT_DOUBLE_EQ(similarity(Thumbnail{}, Thumbnail{}), 0.0);
}

// --- gate ---------------------------------------------------------------------

TEST(SimilarityGate, DisabledAnalysesEverything) {
  SimilarityGate gate;  // enabled = false by default
  const Thumbnail t = textured_thumb();
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(gate.should_analyse(t));
  EXPECT_EQ(gate.passed(), 5U);
  EXPECT_EQ(gate.skipped(), 0U);
}

TEST(SimilarityGate, SkipsAStillNoisySceneAndPassesChange) {
  SimilarityGate gate(enabled_config());
  const Thumbnail base = textured_thumb();
  EXPECT_TRUE(gate.should_analyse(with_noise(base, 3, 1)));  // first: no reference yet
  for (std::uint32_t seed = 2; seed < 30; ++seed) EXPECT_FALSE(gate.should_analyse(with_noise(base, 3, seed)));
  EXPECT_EQ(gate.skipped(), 28U);
  EXPECT_EQ(gate.passed(), 1U);
  EXPECT_GE(gate.last_similarity(), 0.95);

  Thumbnail changed = base;
  for (int y = 10; y < 20; ++y)
    for (int x = 5; x < 15; ++x) changed.pixels[static_cast<std::size_t>(y * 64 + x)] = 250;
  EXPECT_TRUE(gate.should_analyse(changed));
  EXPECT_LT(gate.last_similarity(), 0.95);
  EXPECT_EQ(gate.passed(), 2U);
}

TEST(SimilarityGate, ComparesWithTheLastAnalysedFrameSoSlowDriftPasses) {
  SimilarityGate gate(enabled_config());
  const int w = 640, h = 360;
  auto frame = [&](int x) {
    const auto f = frame_with_block(w, h, x, 140, 40, 40);
    return make_thumbnail(f.data(), w, h, w, 64, 36);
  };
  ASSERT_TRUE(gate.should_analyse(frame(100)));
  // One pixel per frame is too little between consecutive frames, but the
  // gate compares with the frame it last passed, so the change accumulates.
  int passed_at = -1;
  for (int step = 1; step <= 60 && passed_at < 0; ++step)
    if (gate.should_analyse(frame(100 + step))) passed_at = step;
  EXPECT_GT(passed_at, 1);
  EXPECT_LT(passed_at, 60);
}

TEST(SimilarityGate, MaxSkipForcesAnalysis) {
  GateConfig c = enabled_config();
  c.max_skip = 3;
  SimilarityGate gate(c);
  const Thumbnail t = textured_thumb();
  std::vector<bool> decisions;
  for (int i = 0; i < 9; ++i) decisions.push_back(gate.should_analyse(t));
  EXPECT_EQ(decisions, (std::vector<bool>{true, false, false, false, true, false, false, false, true}));
  EXPECT_EQ(gate.skipped(), 6U);
  EXPECT_EQ(gate.passed(), 3U);
}

TEST(SimilarityGate, ResetForgetsTheReference) {
  SimilarityGate gate(enabled_config());
  const Thumbnail t = textured_thumb();
  EXPECT_TRUE(gate.should_analyse(t));
  EXPECT_FALSE(gate.should_analyse(t));
  gate.reset();
  EXPECT_TRUE(gate.should_analyse(t));
}

TEST(GateConfigValidate, MessagesNameTheFieldPath) {
  EXPECT_TRUE(GateConfig{}.validate("streams[0].gate"));
  GateConfig c;
  c.similarity = 1.5;
  ASSERT_FALSE(c.validate("streams[0].gate"));
  EXPECT_EQ(c.validate("streams[0].gate").error().message, "streams[0].gate.similarity: must be within 0..1 (got 1.5)");
  c = GateConfig{};
  c.thumb_w = 2;
  EXPECT_EQ(c.validate("g").error().message, "g.thumb_w: must be within 4..256 (got 2)");
  c = GateConfig{};
  c.thumb_h = 0;
  EXPECT_TRUE(c.validate("g"));
  c.thumb_h = 1000;
  EXPECT_EQ(c.validate("g").error().message.rfind("g.thumb_h:", 0), 0U);
  c = GateConfig{};
  c.max_skip = -1;
  EXPECT_EQ(c.validate("g").error().message, "g.max_skip: must be >= 0 (got -1)");
  c = GateConfig{};
  c.pixel_threshold = 300;
  EXPECT_EQ(c.validate("g").error().message, "g.pixel_threshold: must be within 0..255 (got 300)");
}

}  // namespace
}  // namespace vigil
