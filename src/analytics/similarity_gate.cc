#include "analytics/similarity_gate.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdlib>

#include "analytics/config_check.h"

namespace vigil {

namespace {

// The frame is judged region by region so that a small moving object is a
// large change of its region (see the header).
constexpr int kRegionsX = 4;
constexpr int kRegionsY = 3;
// Gaussian std from the median absolute deviation.
constexpr double kMadToSigma = 1.4826;
// A pixel changed when its difference exceeds this many noise stds.
constexpr double kNoiseSigmas = 4.0;
// The noise-adapted threshold never exceeds this multiple of pixel_threshold,
// so a frame where most pixels changed cannot hide its own change.
constexpr int kMaxThresholdFactor = 3;

// Lower median of values in [0, bins) given their histogram and count.
int histogram_median(const int* hist, int bins, int count) {
  const int rank = (count + 1) / 2;  // 1-based
  int seen = 0;
  for (int v = 0; v < bins; ++v) {
    seen += hist[v];
    if (seen >= rank) return v;
  }
  return bins - 1;
}

}  // namespace

Result<void> GateConfig::validate(const std::string& path) const {
  if (!std::isfinite(similarity) || similarity < 0 || similarity > 1)
    return fail(ErrorCode::kInvalidArgument,
                path + ".similarity: must be within 0..1 (got " + format_number(similarity) + ")");
  if (thumb_w < 4 || thumb_w > 256)
    return fail(ErrorCode::kInvalidArgument,
                path + ".thumb_w: must be within 4..256 (got " + std::to_string(thumb_w) + ")");
  if (thumb_h != 0 && (thumb_h < 4 || thumb_h > 256))
    return fail(ErrorCode::kInvalidArgument, path + ".thumb_h: must be within 4..256, or 0 to keep the aspect ratio (got " +
                                                 std::to_string(thumb_h) + ")");
  if (max_skip < 0)
    return fail(ErrorCode::kInvalidArgument,
                path + ".max_skip: must be >= 0 (got " + std::to_string(max_skip) + ")");
  if (pixel_threshold < 0 || pixel_threshold > 255)
    return fail(ErrorCode::kInvalidArgument,
                path + ".pixel_threshold: must be within 0..255 (got " + std::to_string(pixel_threshold) + ")");
  return {};
}

Thumbnail make_thumbnail(const std::uint8_t* plane, int width, int height, int stride, int tw, int th) {
  Thumbnail t;
  if (plane == nullptr || width <= 0 || height <= 0 || tw <= 0 || std::abs(static_cast<long>(stride)) < width)
    return t;
  tw = std::min(tw, width);
  if (th <= 0)
    th = std::max(1, static_cast<int>(std::lround(static_cast<double>(tw) * height / width)));
  th = std::min(th, height);
  t.width = tw;
  t.height = th;
  t.pixels.resize(static_cast<std::size_t>(tw) * static_cast<std::size_t>(th));

  std::vector<int> x_edges(static_cast<std::size_t>(tw) + 1);  // [tw+1] source column where each output column starts
  for (int ox = 0; ox <= tw; ++ox)
    x_edges[static_cast<std::size_t>(ox)] =
        static_cast<int>(static_cast<std::int64_t>(ox) * width / tw);
  std::vector<std::uint32_t> column_sums(static_cast<std::size_t>(width));  // [width] sums over this output row's source rows
  for (int oy = 0; oy < th; ++oy) {
    const int y0 = static_cast<int>(static_cast<std::int64_t>(oy) * height / th);
    const int y1 = static_cast<int>(static_cast<std::int64_t>(oy + 1) * height / th);
    std::fill(column_sums.begin(), column_sums.end(), 0U);
    for (int y = y0; y < y1; ++y) {
      const std::uint8_t* row = plane + static_cast<std::ptrdiff_t>(y) * stride;
      for (int x = 0; x < width; ++x) column_sums[static_cast<std::size_t>(x)] += row[x];
    }
    for (int ox = 0; ox < tw; ++ox) {
      const int x0 = x_edges[static_cast<std::size_t>(ox)];
      const int x1 = x_edges[static_cast<std::size_t>(ox) + 1];
      std::uint64_t sum = 0;
      for (int x = x0; x < x1; ++x) sum += column_sums[static_cast<std::size_t>(x)];
      const auto count = static_cast<std::uint64_t>(x1 - x0) * static_cast<std::uint64_t>(y1 - y0);
      t.pixels[static_cast<std::size_t>(oy) * static_cast<std::size_t>(tw) + static_cast<std::size_t>(ox)] =
          static_cast<std::uint8_t>((sum + count / 2) / count);
    }
  }
  return t;
}

double similarity(const Thumbnail& a, const Thumbnail& b, int pixel_threshold) {
  if (a.empty() || a.width != b.width || a.height != b.height) return 0.0;
  const std::size_t n = static_cast<std::size_t>(a.width) * static_cast<std::size_t>(a.height);
  if (a.pixels.size() != n || b.pixels.size() != n) return 0.0;
  const int count = static_cast<int>(n);

  // Differences lie in -255..255; histograms give exact medians in O(n).
  std::array<int, 511> diff_hist{};
  for (std::size_t i = 0; i < n; ++i) ++diff_hist[static_cast<std::size_t>(int{a.pixels[i]} - int{b.pixels[i]} + 255)];
  const int offset = histogram_median(diff_hist.data(), 511, count) - 255;
  std::array<int, 511> dev_hist{};
  for (int v = 0; v < 511; ++v) dev_hist[static_cast<std::size_t>(std::abs(v - 255 - offset))] += diff_hist[static_cast<std::size_t>(v)];
  const double noise = kMadToSigma * histogram_median(dev_hist.data(), 511, count);
  const double threshold = std::clamp(kNoiseSigmas * noise, static_cast<double>(pixel_threshold),
                                      static_cast<double>(kMaxThresholdFactor * pixel_threshold));

  const int regions_x = std::min(kRegionsX, a.width);
  const int regions_y = std::min(kRegionsY, a.height);
  double worst = 0.0;
  for (int ry = 0; ry < regions_y; ++ry) {
    const int y0 = ry * a.height / regions_y;
    const int y1 = (ry + 1) * a.height / regions_y;
    for (int rx = 0; rx < regions_x; ++rx) {
      const int x0 = rx * a.width / regions_x;
      const int x1 = (rx + 1) * a.width / regions_x;
      int changed = 0;
      for (int y = y0; y < y1; ++y) {
        const std::size_t row = static_cast<std::size_t>(y) * static_cast<std::size_t>(a.width);
        for (int x = x0; x < x1; ++x) {
          const std::size_t i = row + static_cast<std::size_t>(x);
          if (std::abs(int{a.pixels[i]} - int{b.pixels[i]} - offset) > threshold) ++changed;
        }
      }
      worst = std::max(worst, static_cast<double>(changed) / ((x1 - x0) * (y1 - y0)));
    }
  }
  return 1.0 - worst;
}

SimilarityGate::SimilarityGate(GateConfig config) : config_(config) {}

bool SimilarityGate::should_analyse(const Thumbnail& thumb) {
  if (!config_.enabled) {
    last_similarity_ = 1.0;
    ++passed_;
    return true;
  }
  const bool has_reference = !reference_.empty();
  const double s = has_reference ? similarity(reference_, thumb, config_.pixel_threshold) : 1.0;
  last_similarity_ = s;
  const bool forced = config_.max_skip > 0 && consecutive_skips_ >= config_.max_skip;
  if (has_reference && !forced && s >= config_.similarity) {
    ++consecutive_skips_;
    ++skipped_;
    return false;
  }
  reference_ = thumb;
  consecutive_skips_ = 0;
  ++passed_;
  return true;
}

void SimilarityGate::reset() {
  reference_ = Thumbnail{};
  consecutive_skips_ = 0;
  last_similarity_ = 1.0;
}

}  // namespace vigil
