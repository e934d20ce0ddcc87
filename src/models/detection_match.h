// Agreement between two detectors' answers on the same image: a candidate
// detection matches an unmatched reference detection of the same class with
// IoU >= iou_min (greedy, candidates by descending score, each taking the
// reference it overlaps most). Used by `vigil bench agreement` (fast path vs
// exact path) and by the tests that compare model variants (rectangular
// input, INT8) with the fp32 square letterbox. Pure functions, no threads.
#pragma once

#include <cstdint>
#include <vector>

#include "core/detection.h"

namespace vigil {

struct MatchCounts {
  std::int64_t matched = 0;    // candidate detections matched to a reference one
  std::int64_t reference = 0;  // reference detections considered
  std::int64_t candidate = 0;  // candidate detections considered

  // matched / reference and matched / candidate; 1 when there is nothing to find.
  double recall() const { return reference > 0 ? static_cast<double>(matched) / static_cast<double>(reference) : 1.0; }
  double precision() const {
    return candidate > 0 ? static_cast<double>(matched) / static_cast<double>(candidate) : 1.0;
  }
  MatchCounts& operator+=(const MatchCounts& o) {
    matched += o.matched;
    reference += o.reference;
    candidate += o.candidate;
    return *this;
  }
};

// Detections scoring below min_score (on either side) are not considered.
MatchCounts match_detections(const std::vector<Detection>& reference, const std::vector<Detection>& candidate,
                             float iou_min = 0.5F, float min_score = 0.0F);

}  // namespace vigil
