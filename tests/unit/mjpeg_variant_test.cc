// Viewer variants are quantised and capped, so many clients asking for many
// parameters cost a few encodes per frame.
#include <set>

#include <gtest/gtest.h>

#include "render/mjpeg_hub.h"

namespace vigil {
namespace {

MjpegVariant variant(int quality, double fps, int width = 0, bool overlay = true) {
  MjpegVariant v;
  v.quality = quality;
  v.fps = fps;
  v.max_width = width;
  v.overlay = overlay;
  return v;
}

TEST(MjpegVariant, QuantisedToTheSteps) {
  EXPECT_EQ(variant(75, 15).quantised(), variant(75, 15));
  EXPECT_EQ(variant(77, 14, 700).quantised(), variant(75, 10, 640));
  EXPECT_EQ(variant(1, 0.2, 10).quantised(), variant(30, 1, 160));
  EXPECT_EQ(variant(100, 30, 100000).quantised(), variant(95, 30, 3840));
  EXPECT_EQ(variant(80, 24).quantised().quality, 85);  // a tie goes to the higher quality
  EXPECT_EQ(variant(99, 99).quantised().fps, 30);
}

TEST(MjpegHub, AtMostKMaxVariantsAreWatchedAtOnce) {
  MjpegHub hub;
  std::vector<std::shared_ptr<MjpegViewer>> viewers;
  for (int q = 1; q <= 100; ++q)
    for (double fps : {1.0, 5.0, 15.0, 30.0}) viewers.push_back(hub.subscribe(variant(q, fps, q * 20, q % 2 == 0)));
  std::set<MjpegVariant> distinct;
  for (const auto& v : viewers) distinct.insert(v->variant());
  EXPECT_LE(distinct.size(), MjpegHub::kMaxVariants);
  EXPECT_GE(distinct.size(), 2u);
  // Overlay and plain viewers both keep their kind while there is one of each.
  bool overlay = false, plain = false;
  for (const auto& v : distinct) (v.overlay ? overlay : plain) = true;
  EXPECT_TRUE(overlay && plain);
}

TEST(MjpegHub, AVariantFreedByItsViewersCanBeTakenByAnother) {
  MjpegHub hub;
  std::vector<std::shared_ptr<MjpegViewer>> viewers;
  for (int i = 0; i < static_cast<int>(MjpegHub::kMaxVariants); ++i)
    viewers.push_back(hub.subscribe(variant(75, MjpegVariant::kFpsSteps[i])));
  EXPECT_NE(hub.subscribe(variant(30, 1, 160))->variant(), variant(30, 1, 160));  // full: the nearest one
  viewers.pop_back();
  EXPECT_EQ(hub.subscribe(variant(30, 1, 160))->variant(), variant(30, 1, 160));
}

}  // namespace
}  // namespace vigil
