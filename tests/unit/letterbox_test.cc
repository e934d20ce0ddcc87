#include "inference/letterbox.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

TEST(Letterbox, LandscapeIntoSquare) {
  const auto t = compute_letterbox(1280, 720, 640, 640);
  EXPECT_FLOAT_EQ(t.scale, 0.5F);
  EXPECT_EQ(t.new_w, 640);
  EXPECT_EQ(t.new_h, 360);
  EXPECT_EQ(t.pad_x, 0);
  EXPECT_EQ(t.pad_y, 140);
}

TEST(Letterbox, PortraitIntoSquare) {
  const auto t = compute_letterbox(300, 600, 416, 416);
  EXPECT_EQ(t.new_w, 208);
  EXPECT_EQ(t.new_h, 416);
  EXPECT_EQ(t.pad_x, 104);
  EXPECT_EQ(t.pad_y, 0);
}

TEST(Letterbox, MapsBoxesToSourcePixelsExactly) {
  const auto t = compute_letterbox(1280, 720, 640, 640);
  const Box s = t.to_source(Box{100, 190, 300, 290});
  EXPECT_FLOAT_EQ(s.x1, 200);
  EXPECT_FLOAT_EQ(s.y1, 100);
  EXPECT_FLOAT_EQ(s.x2, 600);
  EXPECT_FLOAT_EQ(s.y2, 300);
}

TEST(Letterbox, RoundTripOnOddSizes) {
  for (auto [w, h] : {std::pair{768, 576}, std::pair{641, 333}, std::pair{99, 1001}, std::pair{416, 416}}) {
    const auto t = compute_letterbox(w, h, 416, 416);
    const Box src{static_cast<float>(w) * 0.1F, static_cast<float>(h) * 0.2F, static_cast<float>(w) * 0.7F,
                  static_cast<float>(h) * 0.9F};
    const Box back = t.to_source(t.to_model(src));
    EXPECT_NEAR(back.x1, src.x1, 1e-3F * static_cast<float>(w)) << w << "x" << h;
    EXPECT_NEAR(back.y1, src.y1, 1e-3F * static_cast<float>(h));
    EXPECT_NEAR(back.x2, src.x2, 1e-3F * static_cast<float>(w));
    EXPECT_NEAR(back.y2, src.y2, 1e-3F * static_cast<float>(h));
  }
}

TEST(Letterbox, ClipsToTheSourceImage) {
  const auto t = compute_letterbox(1280, 720, 640, 640);
  const Box s = t.to_source(Box{-20, 100, 700, 560});  // reaches into the padding
  EXPECT_FLOAT_EQ(s.x1, 0);
  EXPECT_FLOAT_EQ(s.y1, 0);
  EXPECT_FLOAT_EQ(s.x2, 1280);
  EXPECT_FLOAT_EQ(s.y2, 720);
}

Image solid(int w, int h, std::uint8_t b, std::uint8_t g, std::uint8_t r) {
  Image img(PixelFormat::kBgr24, w, h);
  for (std::size_t i = 0; i < img.pixels.size(); i += 3) {
    img.pixels[i] = b;
    img.pixels[i + 1] = g;
    img.pixels[i + 2] = r;
  }
  return img;
}

TEST(Letterbox, WritesNormalisedNchwWithPadding) {
  const Image img = solid(8, 4, 10, 20, 30);
  PreprocessSpec spec;
  spec.width = 8;
  spec.height = 8;
  spec.color = ColorOrder::kRgb;
  for (int c = 0; c < 3; ++c) {
    spec.mean[c] = 10;
    spec.std[c] = 2;
  }
  spec.pad_value = 114;
  std::vector<float> t(spec.tensor_elements(), -999);
  const auto lb = letterbox_into(img, spec, t.data());
  EXPECT_EQ(lb.pad_y, 2);
  auto at = [&](int c, int y, int x) { return t[static_cast<std::size_t>((c * 8 + y) * 8 + x)]; };
  EXPECT_FLOAT_EQ(at(0, 0, 0), (114 - 10) / 2.0F);  // padding
  EXPECT_FLOAT_EQ(at(0, 7, 7), (114 - 10) / 2.0F);
  EXPECT_FLOAT_EQ(at(0, 3, 4), (30 - 10) / 2.0F);  // R first
  EXPECT_FLOAT_EQ(at(1, 3, 4), (20 - 10) / 2.0F);
  EXPECT_FLOAT_EQ(at(2, 3, 4), (10 - 10) / 2.0F);
}

TEST(Letterbox, WritesBgrNhwc) {
  const Image img = solid(4, 4, 10, 20, 30);
  PreprocessSpec spec;
  spec.width = 4;
  spec.height = 4;
  spec.layout = TensorLayout::kNhwc;
  spec.color = ColorOrder::kBgr;
  std::vector<float> t(spec.tensor_elements());
  letterbox_into(img, spec, t.data());
  EXPECT_FLOAT_EQ(t[0], 10 / 255.0F);
  EXPECT_FLOAT_EQ(t[1], 20 / 255.0F);
  EXPECT_FLOAT_EQ(t[2], 30 / 255.0F);
}

}  // namespace
}  // namespace vigil
