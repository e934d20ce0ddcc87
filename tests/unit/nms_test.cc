#include "models/nms.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

Detection det(float x1, float y1, float x2, float y2, int cls, float score) {
  return Detection{Box{x1, y1, x2, y2}, cls, score};
}

TEST(Iou, KnownValues) {
  EXPECT_FLOAT_EQ(iou(Box{0, 0, 10, 10}, Box{0, 0, 10, 10}), 1.0F);
  EXPECT_FLOAT_EQ(iou(Box{0, 0, 10, 10}, Box{5, 0, 15, 10}), 50.0F / 150.0F);
  EXPECT_FLOAT_EQ(iou(Box{0, 0, 10, 10}, Box{20, 20, 30, 30}), 0.0F);
  EXPECT_FLOAT_EQ(iou(Box{0, 0, 0, 0}, Box{0, 0, 0, 0}), 0.0F);
}

TEST(Nms, SuppressesOverlapsOfTheSameClassOnly) {
  std::vector<Detection> in = {
      det(0, 0, 100, 100, 0, 0.6F),   // overlaps the 0.9 box: removed
      det(0, 0, 100, 100, 1, 0.5F),   // same box, other class: kept
      det(2, 2, 102, 102, 0, 0.9F),
      det(200, 200, 300, 300, 0, 0.4F),  // no overlap: kept
  };
  auto out = nms(in, 0.5F, 100);
  ASSERT_EQ(out.size(), 3U);
  EXPECT_FLOAT_EQ(out[0].score, 0.9F);
  EXPECT_EQ(out[1].class_id, 1);
  EXPECT_FLOAT_EQ(out[2].score, 0.4F);
}

TEST(Nms, ClassAgnosticSuppressesAcrossClasses) {
  std::vector<Detection> in = {det(0, 0, 100, 100, 0, 0.9F), det(0, 0, 100, 100, 1, 0.5F)};
  auto out = nms(in, 0.5F, 100, /*class_agnostic=*/true);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].class_id, 0);
}

TEST(Nms, ThresholdIsStrict) {
  // IoU exactly 1/3: suppressed above 0.3, kept at 1/3 (only IoU > threshold suppresses).
  std::vector<Detection> in = {det(0, 0, 10, 10, 0, 0.9F), det(5, 0, 15, 10, 0, 0.8F)};
  EXPECT_EQ(nms(in, 0.3F, 100).size(), 1U);
  EXPECT_EQ(nms(in, 0.34F, 100).size(), 2U);
}

TEST(Nms, MaxDetKeepsTheBest) {
  std::vector<Detection> in;
  for (int i = 0; i < 10; ++i)
    in.push_back(det(static_cast<float>(i) * 20, 0, static_cast<float>(i) * 20 + 10, 10, 0, 0.1F * static_cast<float>(i)));
  auto out = nms(in, 0.5F, 3);
  ASSERT_EQ(out.size(), 3U);
  EXPECT_FLOAT_EQ(out[0].score, 0.9F);
  EXPECT_FLOAT_EQ(out[1].score, 0.8F);
  EXPECT_FLOAT_EQ(out[2].score, 0.7F);
  EXPECT_TRUE(nms(in, 0.5F, 0).empty());
}

TEST(Nms, EmptyInput) { EXPECT_TRUE(nms({}, 0.5F, 10).empty()); }

}  // namespace
}  // namespace vigil
