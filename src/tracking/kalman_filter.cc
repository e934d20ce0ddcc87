#include "tracking/kalman_filter.h"

#include <algorithm>
#include <cmath>

namespace vigil {
namespace {

constexpr int kN = KalmanFilter::kStateDim;
constexpr int kM = KalmanFilter::kMeasureDim;
constexpr int kVel = kM;  // index of the first velocity component

using StateVector = KalmanFilter::StateVector;
using StateMatrix = KalmanFilter::StateMatrix;
using MeasureVector = KalmanFilter::MeasureVector;
using MeasureMatrix = KalmanFilter::MeasureMatrix;

// Noise is proportional to the height; a degenerate box must still leave the
// covariance positive definite.
constexpr double kMinNoiseHeight = 1.0;

MeasureVector to_measurement(const Box& b) {
  return {0.5 * (static_cast<double>(b.x1) + b.x2), 0.5 * (static_cast<double>(b.y1) + b.y2),
          static_cast<double>(b.x2) - b.x1, static_cast<double>(b.y2) - b.y1};
}

Box to_box(const StateVector& s) {
  const double w = std::max(0.0, s[2]);
  const double h = std::max(0.0, s[3]);
  return Box{static_cast<float>(s[0] - w / 2), static_cast<float>(s[1] - h / 2),
             static_cast<float>(s[0] + w / 2), static_cast<float>(s[1] + h / 2)};
}

// Standard deviations for a box of height h, converted from ByteTrack's
// per-frame weights to pixel (px) and pixel-per-second (px/s) units.
struct NoiseStd {
  double position;  // px, one reference frame's worth
  double velocity;  // px/s, one reference frame's worth
};

NoiseStd noise_std(const KalmanNoise& n, double h) {
  const double height = std::max(kMinNoiseHeight, h);
  return {n.std_weight_position * height, n.std_weight_velocity * height * n.reference_rate_hz};
}

void predict_mean(StateVector& mean, double dt) {
  for (int i = 0; i < kM; ++i) mean[i] += mean[i + kVel] * dt;
}

StateMatrix transition(double dt) {
  StateMatrix f{};
  for (int i = 0; i < kN; ++i) f[i][i] = 1;
  for (int i = 0; i < kM; ++i) f[i][i + kVel] = dt;
  return f;
}

StateMatrix multiply(const StateMatrix& a, const StateMatrix& b) {
  StateMatrix out{};
  for (int i = 0; i < kN; ++i)
    for (int k = 0; k < kN; ++k)
      for (int j = 0; j < kN; ++j) out[i][j] += a[i][k] * b[k][j];
  return out;
}

StateMatrix transpose(const StateMatrix& a) {
  StateMatrix out{};
  for (int i = 0; i < kN; ++i)
    for (int j = 0; j < kN; ++j) out[i][j] = a[j][i];
  return out;
}

// Rounding makes F P F^T and P - K H P drift from exact symmetry; left alone
// the drift compounds over thousands of updates.
void symmetrize(StateMatrix& p) {
  for (int i = 0; i < kN; ++i)
    for (int j = i + 1; j < kN; ++j) p[i][j] = p[j][i] = 0.5 * (p[i][j] + p[j][i]);
}

// Lower-triangular Cholesky factor of a symmetric positive-definite 4x4.
MeasureMatrix cholesky(const MeasureMatrix& a) {
  MeasureMatrix l{};
  for (int i = 0; i < kM; ++i) {
    for (int j = 0; j <= i; ++j) {
      double sum = a[i][j];
      for (int k = 0; k < j; ++k) sum -= l[i][k] * l[j][k];
      l[i][j] = (i == j) ? std::sqrt(std::max(sum, 1e-12)) : sum / l[j][j];
    }
  }
  return l;
}

// Solves (L L^T) x = b in place.
void cholesky_solve(const MeasureMatrix& l, MeasureVector& b) {
  for (int i = 0; i < kM; ++i) {
    for (int k = 0; k < i; ++k) b[i] -= l[i][k] * b[k];
    b[i] /= l[i][i];
  }
  for (int i = kM - 1; i >= 0; --i) {
    for (int k = i + 1; k < kM; ++k) b[i] -= l[k][i] * b[k];
    b[i] /= l[i][i];
  }
}

}  // namespace

KalmanFilter::KalmanFilter(KalmanNoise noise) : noise_(noise) {}

void KalmanFilter::initiate(const Box& measurement) {
  const MeasureVector z = to_measurement(measurement);
  mean_ = {};
  for (int i = 0; i < kM; ++i) mean_[i] = z[i];
  const NoiseStd s = noise_std(noise_, z[3]);
  covariance_ = {};
  for (int i = 0; i < kM; ++i) {
    covariance_[i][i] = (2 * s.position) * (2 * s.position);
    covariance_[i + kVel][i + kVel] = (10 * s.velocity) * (10 * s.velocity);
  }
}

void KalmanFilter::predict(double dt_s) {
  const double dt = std::max(0.0, dt_s);
  const NoiseStd s = noise_std(noise_, mean_[3]);
  predict_mean(mean_, dt);
  const StateMatrix f = transition(dt);
  covariance_ = multiply(multiply(f, covariance_), transpose(f));
  // Variance grows linearly with elapsed time: dt * rate reference frames.
  const double frames = dt * noise_.reference_rate_hz;
  for (int i = 0; i < kM; ++i) {
    covariance_[i][i] += s.position * s.position * frames;
    covariance_[i + kVel][i + kVel] += s.velocity * s.velocity * frames;
  }
  symmetrize(covariance_);
}

KalmanFilter::Projection KalmanFilter::project() const {
  const double r = noise_std(noise_, mean_[3]).position;
  Projection p;
  for (int i = 0; i < kM; ++i) {
    p.mean[i] = mean_[i];
    for (int j = 0; j < kM; ++j) p.covariance[i][j] = covariance_[i][j];
    p.covariance[i][i] += r * r;
  }
  return p;
}

void KalmanFilter::update(const Box& measurement) {
  const Projection proj = project();
  const MeasureMatrix chol = cholesky(proj.covariance);
  const MeasureVector z = to_measurement(measurement);

  // The measurement picks the first four components, so H P is the first
  // four rows of P and the gain is K = (H P)^T S^-1, solved column by column.
  std::array<MeasureVector, kN> gain{};  // [8][4]
  for (int col = 0; col < kN; ++col) {
    MeasureVector hp_col;
    for (int i = 0; i < kM; ++i) hp_col[i] = covariance_[i][col];
    cholesky_solve(chol, hp_col);
    gain[col] = hp_col;
  }

  MeasureVector innovation;
  for (int i = 0; i < kM; ++i) innovation[i] = z[i] - proj.mean[i];

  StateMatrix new_cov = covariance_;
  for (int r = 0; r < kN; ++r) {
    for (int i = 0; i < kM; ++i) mean_[r] += gain[r][i] * innovation[i];
    for (int c = 0; c < kN; ++c)
      for (int i = 0; i < kM; ++i) new_cov[r][c] -= gain[r][i] * covariance_[i][c];
  }
  covariance_ = new_cov;
  symmetrize(covariance_);
}

Box KalmanFilter::predicted_box(double dt_s) const {
  StateVector mean = mean_;
  predict_mean(mean, std::max(0.0, dt_s));
  return to_box(mean);
}

void KalmanFilter::hold_size() {
  mean_[2 + kVel] = 0;
  mean_[3 + kVel] = 0;
}

Box KalmanFilter::box() const { return to_box(mean_); }
float KalmanFilter::vx() const { return static_cast<float>(mean_[0 + kVel]); }
float KalmanFilter::vy() const { return static_cast<float>(mean_[1 + kVel]); }

}  // namespace vigil
