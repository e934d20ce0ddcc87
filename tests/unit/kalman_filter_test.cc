#include "tracking/kalman_filter.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

Box box_at(float cx, float cy, float w, float h) { return Box{cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2}; }

// A filter that has seen a box moving at (vx, vy) px/s for a while, so its
// velocity estimate is non-zero.
KalmanFilter moving_filter(float vx, float vy) {
  KalmanFilter kf;
  kf.initiate(box_at(100, 200, 40, 80));
  for (int step = 1; step <= 10; ++step) {
    const float t = 0.1F * static_cast<float>(step);
    kf.predict(0.1);
    kf.update(box_at(100 + vx * t, 200 + vy * t, 40, 80));
  }
  return kf;
}

void expect_box_near(const Box& a, const Box& b, float tol) {
  EXPECT_NEAR(a.x1, b.x1, tol);
  EXPECT_NEAR(a.y1, b.y1, tol);
  EXPECT_NEAR(a.x2, b.x2, tol);
  EXPECT_NEAR(a.y2, b.y2, tol);
}

TEST(KalmanFilter, InitiateStartsAtTheMeasurementWithZeroVelocity) {
  KalmanFilter kf;
  kf.initiate(Box{10, 20, 50, 100});
  const auto& m = kf.mean();
  EXPECT_DOUBLE_EQ(m[0], 30);  // cx
  EXPECT_DOUBLE_EQ(m[1], 60);  // cy
  EXPECT_DOUBLE_EQ(m[2], 40);  // w
  EXPECT_DOUBLE_EQ(m[3], 80);  // h
  for (int i = 4; i < 8; ++i) EXPECT_DOUBLE_EQ(m[i], 0);
  expect_box_near(kf.box(), Box{10, 20, 50, 100}, 1e-4F);
}

TEST(KalmanFilter, PredictMovesTheMeanByVelocityTimesDt) {
  KalmanFilter kf = moving_filter(120, -40);
  const KalmanFilter::StateVector before = kf.mean();
  ASSERT_NEAR(before[4], 120, 10);
  ASSERT_NEAR(before[5], -40, 10);

  kf.predict(0.25);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(kf.mean()[i], before[i] + before[i + 4] * 0.25, 1e-9) << "component " << i;
  for (int i = 4; i < 8; ++i) EXPECT_DOUBLE_EQ(kf.mean()[i], before[i]) << "velocity " << i;
}

TEST(KalmanFilter, UncertaintyGrowsWithDt) {
  KalmanFilter base = moving_filter(50, 0);
  KalmanFilter zero = base;
  KalmanFilter short_gap = base;
  KalmanFilter long_gap = base;
  zero.predict(0);
  short_gap.predict(0.1);
  long_gap.predict(1.0);
  for (int i = 0; i < 8; ++i) {
    EXPECT_DOUBLE_EQ(zero.covariance()[i][i], base.covariance()[i][i]) << i;
    EXPECT_GT(short_gap.covariance()[i][i], base.covariance()[i][i]) << i;
    EXPECT_GT(long_gap.covariance()[i][i], short_gap.covariance()[i][i]) << i;
  }
}

TEST(KalmanFilter, OneReferenceFrameReproducesByteTrackPerFrameStep) {
  // Height 100: ByteTrack initial position var (2 * 100/20)^2 = 100, velocity
  // var (10 * 100/160)^2 px/frame; one predict adds vel var and (100/20)^2.
  KalmanFilter kf;
  kf.initiate(box_at(0, 0, 50, 100));
  kf.predict(1.0 / 30);
  const double vel_var_per_frame = (10 * 100.0 / 160) * (10 * 100.0 / 160);
  EXPECT_NEAR(kf.covariance()[1][1], 100 + vel_var_per_frame + 25, 1e-9);
  // Velocity variance in (px/s)^2 is the per-frame one times 30^2, plus one frame of noise.
  const double vel_noise_per_frame = (100.0 / 160) * (100.0 / 160);
  EXPECT_NEAR(kf.covariance()[5][5], (vel_var_per_frame + vel_noise_per_frame) * 900, 1e-6);
}

TEST(KalmanFilter, NegativeDtIsTreatedAsZero) {
  KalmanFilter kf = moving_filter(80, 20);
  const KalmanFilter before = kf;
  kf.predict(-0.5);
  EXPECT_EQ(kf.mean(), before.mean());
  EXPECT_EQ(kf.covariance(), before.covariance());
  expect_box_near(before.predicted_box(-0.5), before.box(), 0);
}

TEST(KalmanFilter, ProjectAddsMeasurementNoiseToThePositionBlock) {
  KalmanFilter kf = moving_filter(30, 30);
  const KalmanFilter::Projection p = kf.project();
  for (int i = 0; i < 4; ++i) {
    EXPECT_DOUBLE_EQ(p.mean[i], kf.mean()[i]);
    EXPECT_GT(p.covariance[i][i], kf.covariance()[i][i]);
  }
}

TEST(KalmanFilter, UpdatePullsTowardTheMeasurementAndShrinksCovariance) {
  KalmanFilter kf;
  kf.initiate(box_at(100, 100, 40, 80));
  kf.predict(0.1);
  const KalmanFilter::StateVector mean_before = kf.mean();
  const KalmanFilter::StateMatrix cov_before = kf.covariance();

  kf.update(box_at(110, 94, 40, 80));
  EXPECT_GT(kf.mean()[0], mean_before[0]);
  EXPECT_LT(kf.mean()[0], 110);
  EXPECT_LT(kf.mean()[1], mean_before[1]);
  EXPECT_GT(kf.mean()[1], 94);
  EXPECT_GT(kf.mean()[4], 0) << "moving right shows up as positive x velocity";
  for (int i = 0; i < 8; ++i) EXPECT_LT(kf.covariance()[i][i], cov_before[i][i]) << i;
}

TEST(KalmanFilter, PredictedBoxIsConstAndEqualsPredict) {
  KalmanFilter kf = moving_filter(-60, 25);
  const KalmanFilter& view = kf;
  const KalmanFilter::StateVector mean_before = view.mean();
  const KalmanFilter::StateMatrix cov_before = view.covariance();

  const Box predicted = view.predicted_box(0.37);
  EXPECT_EQ(view.mean(), mean_before);
  EXPECT_EQ(view.covariance(), cov_before);

  kf.predict(0.37);
  expect_box_near(predicted, kf.box(), 1e-4F);
}

TEST(KalmanFilter, HoldSizeStopsSizeDriftButNotMotion) {
  KalmanFilter kf;
  kf.initiate(box_at(100, 100, 40, 80));
  for (int step = 1; step <= 10; ++step) {
    const float t = 0.1F * static_cast<float>(step);
    kf.predict(0.1);
    kf.update(box_at(100 + 100 * t, 100, 40 + 20 * t, 80 + 40 * t));  // moving and growing
  }
  const Box before = kf.box();
  kf.hold_size();
  const Box after = kf.predicted_box(1.0);
  EXPECT_NEAR(after.width(), before.width(), 1e-3F);
  EXPECT_NEAR(after.height(), before.height(), 1e-3F);
  EXPECT_GT(after.x1, before.x1 + 50);
}

TEST(KalmanFilter, ShrinkingBoxNeverGetsNegativeSize) {
  KalmanFilter kf;
  kf.initiate(box_at(100, 100, 40, 80));
  for (int step = 1; step <= 10; ++step) {
    const float t = 0.1F * static_cast<float>(step);
    kf.predict(0.1);
    kf.update(box_at(100, 100, 40 - 30 * t, 80 - 60 * t));
  }
  const Box far = kf.predicted_box(10.0);
  EXPECT_GE(far.x2, far.x1);
  EXPECT_GE(far.y2, far.y1);
}

}  // namespace
}  // namespace vigil
