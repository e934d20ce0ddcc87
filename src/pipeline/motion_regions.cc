#include "pipeline/motion_regions.h"

#include <algorithm>
#include <cmath>

#include "models/nms.h"

namespace vigil {
namespace {

bool intersect(const Box& a, const Box& b) { return a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2; }

Box union_of(const Box& a, const Box& b) {
  return Box{std::min(a.x1, b.x1), std::min(a.y1, b.y1), std::max(a.x2, b.x2), std::max(a.y2, b.y2)};
}

// Places a segment of length `len` centred on `centre` inside [0, limit].
float place(float centre, float len, float limit) {
  return std::clamp(std::floor(centre - len / 2), 0.0F, std::max(0.0F, limit - len));
}

float intersection_area(const Box& a, const Box& b) {
  const float ix = std::max(0.0F, std::min(a.x2, b.x2) - std::max(a.x1, b.x1));
  const float iy = std::max(0.0F, std::min(a.y2, b.y2) - std::max(a.y1, b.y1));
  return ix * iy;
}

// Touches an edge of `region` that is not on the frame's border.
bool cut_by(const Box& d, const Box& region, int frame_w, int frame_h, float tol) {
  const auto fw = static_cast<float>(frame_w), fh = static_cast<float>(frame_h);
  return (region.x1 > tol && d.x1 <= region.x1 + tol) || (region.y1 > tol && d.y1 <= region.y1 + tol) ||
         (region.x2 < fw - tol && d.x2 >= region.x2 - tol) || (region.y2 < fh - tol && d.y2 >= region.y2 - tol);
}

}  // namespace

const char* to_string(RegionDecision d) {
  switch (d) {
    case RegionDecision::kSkip: return "skip";
    case RegionDecision::kFull: return "full";
    case RegionDecision::kCrops: return "crops";
  }
  return "unknown";
}

Box region_around(const Box& box, float margin, int min_side, int frame_w, int frame_h, double aspect) {
  const auto a = static_cast<float>(aspect > 0 ? aspect : 1);
  const float min_w = a >= 1 ? static_cast<float>(min_side) : static_cast<float>(min_side) * a;
  const float want_w = std::ceil(std::max({box.width() * margin, box.height() * margin * a, min_w}));
  const float w = std::min(want_w, static_cast<float>(frame_w));
  const float h = std::min(std::ceil(want_w / a), static_cast<float>(frame_h));
  const float x = place((box.x1 + box.x2) / 2, w, static_cast<float>(frame_w));
  const float y = place((box.y1 + box.y2) / 2, h, static_cast<float>(frame_h));
  return Box{x, y, x + w, y + h};
}

RegionPlan plan_regions(const RegionPlanInput& in, const RegionPlanOptions& options) {
  RegionPlan plan;
  if (in.whole_frame) return plan;  // kFull
  if (in.motion.empty() && in.tracks.empty()) {
    plan.decision = RegionDecision::kSkip;
    return plan;
  }
  if (!options.crops || in.frame_w <= 0 || in.frame_h <= 0) return plan;
  std::vector<Box> regions;
  for (const auto* list : {&in.motion, &in.tracks})
    for (const Box& b : *list) regions.push_back(region_around(b, options.margin, in.min_side, in.frame_w, in.frame_h, in.aspect));
  // Merge until no two overlap: the union, in the region shape again (it already has its margins).
  for (bool merged = true; merged;) {
    merged = false;
    for (std::size_t i = 0; i < regions.size() && !merged; ++i)
      for (std::size_t j = i + 1; j < regions.size(); ++j) {
        if (!intersect(regions[i], regions[j])) continue;
        regions[i] = region_around(union_of(regions[i], regions[j]), 1.0F, in.min_side, in.frame_w, in.frame_h, in.aspect);
        regions.erase(regions.begin() + static_cast<std::ptrdiff_t>(j));
        merged = true;
        break;
      }
  }
  double area = 0;
  for (const Box& r : regions) area += r.area();
  const double frame_area = static_cast<double>(in.frame_w) * in.frame_h;
  const bool few = static_cast<int>(regions.size()) <= options.max_crops;
  const bool small = area <= options.max_area * frame_area;
  const bool cheap = static_cast<double>(regions.size()) * in.crop_cost <= in.full_cost;
  if (!few || !small || !cheap) return plan;  // kFull
  std::sort(regions.begin(), regions.end(),
            [](const Box& a, const Box& b) { return a.x1 != b.x1 ? a.x1 < b.x1 : a.y1 < b.y1; });
  plan.decision = RegionDecision::kCrops;
  plan.regions = std::move(regions);
  return plan;
}

std::vector<Detection> merge_crop_detections(const std::vector<Box>& regions,
                                             std::vector<std::vector<Detection>> per_crop, int frame_w,
                                             int frame_h, float iou, int max_det, float edge_tol,
                                             bool class_agnostic) {
  struct Candidate {
    Detection d;
    std::size_t crop;
    bool cut;
  };
  std::vector<Candidate> all;
  for (std::size_t i = 0; i < per_crop.size() && i < regions.size(); ++i)
    for (auto& d : per_crop[i])
      all.push_back({d, i, cut_by(d.box, regions[i], frame_w, frame_h, edge_tol)});
  std::vector<Detection> kept;
  kept.reserve(all.size());
  for (const auto& c : all) {
    bool covered = false;
    if (c.cut) {
      for (const auto& o : all) {
        if (o.cut || o.crop == c.crop || (!class_agnostic && o.d.class_id != c.d.class_id)) continue;
        if (intersection_area(o.d.box, c.d.box) >= 0.5F * c.d.box.area()) {
          covered = true;
          break;
        }
      }
    }
    if (!covered) kept.push_back(c.d);
  }
  return nms(std::move(kept), iou, max_det, class_agnostic);
}

}  // namespace vigil
