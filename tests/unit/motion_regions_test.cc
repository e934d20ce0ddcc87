// Region planning (skip / full / crops), region sizing and merging, and
// putting crop detections back together (edges, NMS).
#include "pipeline/motion_regions.h"

#include <gtest/gtest.h>

#include <vector>

namespace vigil {
namespace {

RegionPlanInput input_1280x720() {
  RegionPlanInput in;
  in.frame_w = 1280;
  in.frame_h = 720;
  in.min_side = 416;
  in.full_cost = 416.0 * 416.0;
  in.crop_cost = 416.0 * 416.0;
  return in;
}

RegionPlanOptions crops_on() {
  RegionPlanOptions o;
  o.crops = true;
  return o;
}

TEST(RegionPlan, NoMotionAndNoTracksSkips) {
  const RegionPlan p = plan_regions(input_1280x720(), crops_on());
  EXPECT_EQ(p.decision, RegionDecision::kSkip);
  EXPECT_TRUE(p.regions.empty());
}

TEST(RegionPlan, WholeFrameWinsOverEverything) {
  RegionPlanInput in = input_1280x720();
  in.whole_frame = true;  // calibrating, lighting change or refresh
  EXPECT_EQ(plan_regions(in, crops_on()).decision, RegionDecision::kFull);
  in.motion = {{100, 100, 150, 200}};
  EXPECT_EQ(plan_regions(in, crops_on()).decision, RegionDecision::kFull);
}

TEST(RegionPlan, ATrackAloneKeepsTheFrameAnalysed) {
  RegionPlanInput in = input_1280x720();
  in.tracks = {{600, 300, 680, 500}};
  EXPECT_EQ(plan_regions(in, RegionPlanOptions{}).decision, RegionDecision::kFull);  // crops off
  const RegionPlan p = plan_regions(in, crops_on());
  ASSERT_EQ(p.decision, RegionDecision::kCrops);
  ASSERT_EQ(p.regions.size(), 1U);
  // A square of the model's size around the track, inside the frame.
  EXPECT_EQ(p.regions[0].width(), 416);
  EXPECT_EQ(p.regions[0].height(), 416);
  EXPECT_LE(p.regions[0].x1, 600);
  EXPECT_GE(p.regions[0].x2, 680);
  EXPECT_LE(p.regions[0].y1, 300);
  EXPECT_GE(p.regions[0].y2, 500);
}

TEST(RegionPlan, SmallMotionNearAnEdgeGivesOneSquareShiftedInside) {
  RegionPlanInput in = input_1280x720();
  in.motion = {{1240, 690, 1270, 715}};
  const RegionPlan p = plan_regions(in, crops_on());
  ASSERT_EQ(p.decision, RegionDecision::kCrops);
  ASSERT_EQ(p.regions.size(), 1U);
  const Box& r = p.regions[0];
  EXPECT_EQ(r.x2, 1280);
  EXPECT_EQ(r.y2, 720);
  EXPECT_EQ(r.width(), 416);
  EXPECT_EQ(r.height(), 416);
}

TEST(RegionPlan, OverlappingRegionsMergeAndABigObjectGetsItsMargin) {
  RegionPlanInput in = input_1280x720();
  in.motion = {{300, 200, 340, 260}, {420, 230, 460, 300}};  // 80 px apart: their squares overlap
  RegionPlan p = plan_regions(in, crops_on());
  ASSERT_EQ(p.decision, RegionDecision::kCrops);
  ASSERT_EQ(p.regions.size(), 1U);
  EXPECT_LE(p.regions[0].x1, 300);
  EXPECT_GE(p.regions[0].x2, 460);
  // An object of 400 px: side = 400 x 1.35 = 540.
  in.motion = {{400, 100, 600, 500}};
  p = plan_regions(in, crops_on());
  ASSERT_EQ(p.regions.size(), 1U);
  EXPECT_EQ(p.regions[0].width(), 540);
  EXPECT_EQ(p.regions[0].height(), 540);
}

TEST(RegionPlan, FullFrameWhenCropsAreDearerTooManyOrTooLarge) {
  RegionPlanInput in = input_1280x720();
  in.motion = {{50, 50, 80, 80}, {1150, 600, 1200, 650}};  // two far apart: 2 crops cost 2 frames
  EXPECT_EQ(plan_regions(in, crops_on()).decision, RegionDecision::kFull);
  in.crop_cost = in.full_cost / 4;  // a model with smaller per-crop inputs: two crops pay
  RegionPlan p = plan_regions(in, crops_on());
  ASSERT_EQ(p.decision, RegionDecision::kCrops);
  EXPECT_EQ(p.regions.size(), 2U);
  RegionPlanOptions few = crops_on();
  few.max_crops = 1;
  EXPECT_EQ(plan_regions(in, few).decision, RegionDecision::kFull);
  RegionPlanOptions tiny = crops_on();
  tiny.max_area = 0.2;  // two 416x416 squares are 37.5% of 1280x720
  EXPECT_EQ(plan_regions(in, tiny).decision, RegionDecision::kFull);
}

TEST(RegionPlan, RegionsAreClippedToASmallFrame) {
  RegionPlanInput in;
  in.frame_w = 320;
  in.frame_h = 240;
  in.min_side = 416;
  in.motion = {{10, 10, 40, 40}};
  const Box r = region_around(in.motion[0], 1.35F, in.min_side, in.frame_w, in.frame_h);
  EXPECT_EQ(r.x1, 0);
  EXPECT_EQ(r.y1, 0);
  EXPECT_EQ(r.x2, 320);
  EXPECT_EQ(r.y2, 240);
}

TEST(RegionPlan, RegionsTakeARectangularInputsShape) {
  // A 16:9 frame with a rectangular input of 416x256 (aspect 1.625).
  RegionPlanInput in = input_1280x720();
  in.aspect = 416.0 / 256.0;
  in.tracks = {{600, 300, 680, 500}};  // 80x200: height x margin x aspect = 439 > 416
  const RegionPlan p = plan_regions(in, crops_on());
  ASSERT_EQ(p.decision, RegionDecision::kCrops);
  ASSERT_EQ(p.regions.size(), 1U);
  EXPECT_EQ(p.regions[0].width(), 439);
  EXPECT_EQ(p.regions[0].height(), 271);  // ceil(439 / 1.625)
  EXPECT_LE(p.regions[0].y1, 300);
  EXPECT_GE(p.regions[0].y2, 500);
  // A small box: the model's size, 416 x 256.
  const Box r = region_around({100, 100, 120, 120}, 1.35F, 416, 1280, 720, 1.625);
  EXPECT_EQ(r.width(), 416);
  EXPECT_EQ(r.height(), 256);
}

Detection det(float x1, float y1, float x2, float y2, float score, int cls = 0) {
  return Detection{Box{x1, y1, x2, y2}, cls, score};
}

TEST(MergeCropDetections, DuplicatesAcrossCropsKeepTheBest) {
  const std::vector<Box> regions = {{0, 0, 416, 416}, {300, 0, 716, 416}};
  std::vector<std::vector<Detection>> per = {{det(320, 100, 380, 250, 0.9F)}, {det(322, 102, 381, 251, 0.8F)}};
  const auto out = merge_crop_detections(regions, per, 1280, 720, 0.5F, 100);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_FLOAT_EQ(out[0].score, 0.9F);
}

TEST(MergeCropDetections, AFragmentCutByAnInnerEdgeGivesWayToTheWholeObject) {
  const std::vector<Box> regions = {{0, 0, 416, 416}, {300, 0, 716, 416}};
  // Crop 0 sees the left part of an object, cut at its right edge x = 416; crop 1 sees all of it.
  std::vector<std::vector<Detection>> per = {{det(380, 100, 416, 250, 0.95F)}, {det(380, 100, 480, 250, 0.7F)}};
  const auto out = merge_crop_detections(regions, per, 1280, 720, 0.5F, 100);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_FLOAT_EQ(out[0].box.x2, 480);
  // Touching the frame's border is not a cut: a box at x = 0 stays, as does a
  // cut box that nothing else covers (the best we have).
  per = {{det(0, 100, 40, 250, 0.9F), det(390, 300, 416, 400, 0.6F)}, {}};
  EXPECT_EQ(merge_crop_detections(regions, per, 1280, 720, 0.5F, 100).size(), 2U);
  // Another class does not cover it.
  per = {{det(380, 100, 416, 250, 0.95F)}, {det(380, 100, 480, 250, 0.7F, 2)}};
  EXPECT_EQ(merge_crop_detections(regions, per, 1280, 720, 0.5F, 100).size(), 2U);
}

TEST(MergeCropDetections, NmsIsPerClassAndMaxDetHolds) {
  const std::vector<Box> regions = {{0, 0, 416, 416}};
  std::vector<std::vector<Detection>> per = {
      {det(10, 10, 100, 100, 0.9F, 0), det(12, 12, 101, 101, 0.8F, 1), det(200, 200, 300, 300, 0.7F, 0)}};
  auto out = merge_crop_detections(regions, per, 1280, 720, 0.5F, 100);
  EXPECT_EQ(out.size(), 3U);
  out = merge_crop_detections(regions, per, 1280, 720, 0.5F, 2);
  ASSERT_EQ(out.size(), 2U);
  EXPECT_FLOAT_EQ(out[1].score, 0.8F);
}

}  // namespace
}  // namespace vigil
