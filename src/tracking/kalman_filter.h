// KalmanFilter: constant-velocity filter over one box, in continuous time.
//
// The state is 8 numbers, all in source pixels and pixels per second:
//   [cx, cy, w, h, vcx, vcy, vw, vh]
// (box centre, width, height and their velocities). ByteTrack keeps the aspect
// ratio instead of the width; plain pixels make the velocities directly usable
// as Track::vx/vy and avoid a division by a height that can be near zero.
//
// Time is in seconds, not frames: Vigil analyses every Nth frame with a varying
// N, and the display loop asks for boxes at arbitrary times in between.
//
// Noise follows ByteTrack: every standard deviation is a weight times the box
// height. ByteTrack's weights are calibrated per frame at 30 fps; here they are
// converted once to per-second rates (see KalmanNoise) so that predict(1/30)
// reproduces ByteTrack's per-frame step exactly for cx, cy and h, and a longer
// gap grows the uncertainty as that many frames' worth of random walk would.
//
// Value type: cheap to copy (two fixed arrays), no allocation, no threads.
#pragma once

#include <array>

#include "core/detection.h"

namespace vigil {

struct KalmanNoise {
  // Position noise std per reference frame, as a fraction of the box height
  // (ByteTrack std_weight_position).
  double std_weight_position = 1.0 / 20;
  // Velocity noise std per reference frame, in box heights per frame
  // (ByteTrack std_weight_velocity).
  double std_weight_velocity = 1.0 / 160;
  // The frame rate the two weights were tuned at. Process-noise variance grows
  // linearly with dt (a random walk), at the rate that gives ByteTrack's
  // per-frame variance after 1/reference_rate_hz seconds.
  double reference_rate_hz = 30;
};

class KalmanFilter {
 public:
  static constexpr int kStateDim = 8;
  static constexpr int kMeasureDim = 4;
  using StateVector = std::array<double, kStateDim>;      // [cx,cy,w,h,vcx,vcy,vw,vh] px, px/s
  using StateMatrix = std::array<StateVector, kStateDim>;  // [8][8] covariance, row-major
  using MeasureVector = std::array<double, kMeasureDim>;   // [cx,cy,w,h] px
  using MeasureMatrix = std::array<MeasureVector, kMeasureDim>;

  // The state mapped into measurement space: what the next measurement is
  // expected to be, and how uncertain that expectation is (including the
  // measurement noise).
  struct Projection {
    MeasureVector mean{};
    MeasureMatrix covariance{};
  };

  explicit KalmanFilter(KalmanNoise noise = {});

  // Starts a new track at `measurement` with zero velocity and ByteTrack's
  // initial uncertainty (large on velocity, since one box says nothing of it).
  void initiate(const Box& measurement);

  // Advances the state by dt_s seconds (negative values are treated as 0).
  void predict(double dt_s);

  // The current state in measurement space; does not change the filter.
  Projection project() const;

  // Corrects the state with an observed box.
  void update(const Box& measurement);

  // The box predict(dt_s) would give, without changing the filter: used on
  // every displayed frame between analysed frames.
  Box predicted_box(double dt_s) const;

  // Stops the size from drifting while a track is unobserved (ByteTrack zeroes
  // the height velocity of lost tracks for the same reason).
  void hold_size();

  Box box() const;                     // current box, width and height clamped at 0
  float vx() const;                    // centre velocity, px/s
  float vy() const;                    // centre velocity, px/s
  const StateVector& mean() const { return mean_; }
  const StateMatrix& covariance() const { return covariance_; }

 private:
  KalmanNoise noise_;
  StateVector mean_{};
  StateMatrix covariance_{};
};

}  // namespace vigil
