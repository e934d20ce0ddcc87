#include "render/overlay.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace vigil {
namespace {

constexpr int kW = 320;
constexpr int kH = 240;
constexpr std::uint8_t kGray = 100;

Image gray_image(int w = kW, int h = kH) {
  Image img(PixelFormat::kBgr24, w, h);
  std::fill(img.pixels.begin(), img.pixels.end(), kGray);
  return img;
}

std::array<std::uint8_t, 3> px(const Image& img, int x, int y) {
  const std::uint8_t* p = img.row(y) + x * 3;
  return {p[0], p[1], p[2]};
}

bool changed(const Image& img, int x, int y) { return px(img, x, y) != std::array<std::uint8_t, 3>{kGray, kGray, kGray}; }

// Any pixel of the (2r+1)^2 neighbourhood of (x, y) changed.
bool changed_near(const Image& img, int x, int y, int r = 1) {
  for (int dy = -r; dy <= r; ++dy)
    for (int dx = -r; dx <= r; ++dx)
      if (changed(img, x + dx, y + dy)) return true;
  return false;
}

Track track(std::int64_t id, Box box, int class_id = 0) {
  Track t;
  t.id = id;
  t.box = box;
  t.class_id = class_id;
  t.score = 0.9F;
  t.state = TrackState::kConfirmed;
  return t;
}

const std::vector<std::string> kClasses = {"person", "car"};

TEST(Overlay, TrackBoxBorderDrawnInsideAndFarPixelsUntouched) {
  Image img = gray_image();
  const std::vector<Track> tracks = {track(7, Box{50, 60, 150, 160})};
  OverlayInput in;
  in.tracks = &tracks;
  in.class_names = &kClasses;
  draw_overlay(img, in);
  EXPECT_TRUE(changed(img, 100, 160));   // bottom edge
  EXPECT_TRUE(changed(img, 150, 110));   // right edge
  EXPECT_FALSE(changed(img, 100, 110));  // inside the box: no fill
  EXPECT_FALSE(changed(img, 300, 230));  // far from everything
  const Rgb c = class_color(0);
  EXPECT_EQ(px(img, 100, 160), (std::array<std::uint8_t, 3>{c.b, c.g, c.r}));  // BGR, class colour
}

TEST(Overlay, CoordinatesScaleFromTheSourceFrame) {
  Image img = gray_image();  // drawn at half the source size
  const std::vector<Track> tracks = {track(1, Box{100, 120, 300, 320})};
  OverlayInput in;
  in.tracks = &tracks;
  in.source_w = 2 * kW;
  in.source_h = 2 * kH;
  draw_overlay(img, in);
  EXPECT_TRUE(changed(img, 100, 160));  // bottom edge at 320 / 2
  EXPECT_FALSE(changed(img, 100, 110));
  EXPECT_FALSE(changed(img, 250, 200));  // where the unscaled box's corner would be
}

TEST(Overlay, ZoneFillIsBlendedNotOpaque) {
  Image img = gray_image();
  ZoneConfig zone;
  zone.name = "yard";
  zone.polygon = {{0.5F, 0.5F}, {0.9F, 0.5F}, {0.9F, 0.9F}, {0.5F, 0.9F}};  // (160,120)-(288,216)
  const std::vector<ZoneConfig> zones = {zone};
  const std::map<std::string, std::map<std::string, int>> occupancy = {{"yard", {{"person", 2}, {"car", 1}}}};
  OverlayInput in;
  in.zones = &zones;
  in.occupancy = &occupancy;
  draw_overlay(img, in);
  const auto inside = px(img, 230, 180);
  const Rgb zc = zone_color(0);
  const std::array<std::uint8_t, 3> pure = {zc.b, zc.g, zc.r};
  EXPECT_NE(inside, (std::array<std::uint8_t, 3>{kGray, kGray, kGray}));
  EXPECT_NE(inside, pure);
  for (std::size_t ch = 0; ch < 3; ++ch) {  // between the original and the zone colour
    EXPECT_GE(inside[ch], std::min(kGray, pure[ch]));
    EXPECT_LE(inside[ch], std::max(kGray, pure[ch]));
  }
  EXPECT_TRUE(changed(img, 288, 180));   // outline
  EXPECT_FALSE(changed(img, 10, 230));   // outside every shape
  EXPECT_FALSE(changed(img, 100, 180));  // left of the zone, same rows
}

// The arrow points to the "in" side: walking a -> b, the right-hand side (line.h).
TEST(Overlay, LineArrowPointsToTheInSide) {
  LineConfig line;
  line.name = "door";
  line.a = {0.1F, 0.5F};  // left to right: "in" is moving down
  line.b = {0.9F, 0.5F};
  const std::map<std::string, std::map<std::string, std::int64_t>> counts = {{"door", {{"in", 3}, {"out", 1}}}};
  {
    Image img = gray_image();
    const std::vector<LineConfig> lines = {line};
    OverlayInput in;
    in.lines = &lines;
    in.line_counts = &counts;
    draw_overlay(img, in);
    EXPECT_TRUE(changed(img, 100, 120));  // the line itself
    // Arrow shaft at x=160 from y=90 to 150, head at y=150: its wing passes (152,142).
    EXPECT_TRUE(changed_near(img, 152, 142));
    EXPECT_FALSE(changed_near(img, 152, 98));
  }
  {
    std::swap(line.a, line.b);  // right to left: "in" is moving up
    Image img = gray_image();
    const std::vector<LineConfig> lines = {line};
    OverlayInput in;
    in.lines = &lines;
    draw_overlay(img, in);
    EXPECT_TRUE(changed_near(img, 152, 98));
    EXPECT_FALSE(changed_near(img, 152, 142));
  }
}

TEST(Overlay, TrailsAreDrawnFromHistory) {
  TrailHistory trails;
  std::vector<Track> tracks;
  for (int i = 0; i < 10; ++i) {
    tracks = {track(3, Box{20.0F + 10.0F * static_cast<float>(i), 20, 40.0F + 10.0F * static_cast<float>(i), 40})};
    trails.update(tracks, i * 0.04);
  }
  Image img = gray_image();
  OverlayInput in;
  in.tracks = &tracks;
  in.trails = &trails;
  draw_overlay(img, in);
  EXPECT_TRUE(changed_near(img, 60, 30));  // centre of an earlier box, outside the current one (110..130)
  EXPECT_FALSE(changed(img, 60, 100));
}

TEST(Overlay, NullInputAndGrayImagesAreLeftAlone) {
  Image img = gray_image();
  draw_overlay(img, OverlayInput{});
  EXPECT_FALSE(changed(img, 160, 120));
  Image gray(PixelFormat::kGray8, 32, 32);
  const std::vector<Track> tracks = {track(1, Box{2, 2, 20, 20})};
  OverlayInput in;
  in.tracks = &tracks;
  draw_overlay(gray, in);
  EXPECT_EQ(std::count(gray.pixels.begin(), gray.pixels.end(), 0), 32 * 32);
}

TEST(Overlay, DrawDetectionsStillDrawsBoxes) {
  Image img = gray_image();
  draw_detections(img, {Detection{Box{50, 60, 150, 160}, 1, 0.8F}}, kClasses);
  EXPECT_TRUE(changed_near(img, 100, 160));
  EXPECT_FALSE(changed(img, 300, 230));
}

TEST(TrailHistory, KeepsTheLastPointsPerTrack) {
  TrailHistory trails(20, 1.0);
  for (int i = 0; i < 30; ++i)
    trails.update({track(1, Box{static_cast<float>(i), 0, static_cast<float>(i) + 2, 2})}, i * 0.04);
  const auto* t = trails.trail(1);
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->size(), 20u);
  EXPECT_FLOAT_EQ(t->front().x, 11.0F);  // centres of boxes 10..29
  EXPECT_FLOAT_EQ(t->back().x, 30.0F);
  EXPECT_FLOAT_EQ(t->back().y, 1.0F);
}

TEST(TrailHistory, TracksNotSeenExpire) {
  TrailHistory trails(20, 1.0);
  trails.update({track(1, Box{0, 0, 2, 2}), track(2, Box{5, 5, 9, 9})}, 10.0);
  trails.update({track(2, Box{5, 5, 9, 9})}, 10.5);
  EXPECT_NE(trails.trail(1), nullptr);  // 0.5 s unseen: kept
  trails.update({track(2, Box{5, 5, 9, 9})}, 11.2);
  EXPECT_EQ(trails.trail(1), nullptr);  // 1.2 s unseen: gone
  EXPECT_NE(trails.trail(2), nullptr);
  EXPECT_EQ(trails.size(), 1u);
  trails.update({}, 12.5);
  EXPECT_EQ(trails.size(), 0u);
}

TEST(TrailHistory, RemovedTracksAndBackwardTimeForget) {
  TrailHistory trails;
  trails.update({track(1, Box{0, 0, 2, 2}), track(2, Box{0, 0, 2, 2})}, 5.0);
  Track gone = track(1, Box{0, 0, 2, 2});
  gone.state = TrackState::kRemoved;
  trails.update({gone, track(2, Box{0, 0, 2, 2})}, 5.04);
  EXPECT_EQ(trails.trail(1), nullptr);
  EXPECT_EQ(trails.trail(2)->size(), 2u);
  trails.update({track(2, Box{0, 0, 2, 2})}, 0.0);  // file looped
  EXPECT_EQ(trails.trail(2)->size(), 1u);
}

}  // namespace
}  // namespace vigil
