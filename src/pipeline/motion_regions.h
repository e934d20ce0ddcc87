// Motion regions: what part of a frame the detector looks at.
//
// plan_regions decides, per analysis candidate, from the motion boxes
// (analytics/motion_detector.h) and the active tracks' predicted boxes:
//   kSkip   nothing moved and nothing is tracked: the frame is not analysed
//           (DropReason::kNoMotion);
//   kFull   the whole frame (calibrating, a global change, a refresh due,
//           crops off, or crops that would be too many, too large or dearer);
//   kCrops  regions of the model input's shape around each box (squares for a
//           square input, as Frigate sizes them; the stream's rectangular
//           input otherwise): each box's edges x margin fit, at least the
//           model's input size (an object gets at least the model's
//           resolution), shifted inside the frame,
//           merged while any two overlap; each is resized to the model input
//           and all of a frame's crops go in one detector call.
// Cost: model-input pixels (full_cost for the frame, crop_cost per crop); a
// region of the frame input's shape costs what the frame costs, so crops are
// chosen only for a single region (their gain is resolution on the object);
// with smaller per-crop inputs more regions pay.
//
// merge_crop_detections puts the crops' detections (already in full-frame
// pixels) back together: a box that touches an inner crop edge (an edge that
// is not the frame's) was probably cut by it; such a box is dropped when a box
// of the same class from another crop, not cut, covers at least half of it (the
// whole object wins over its piece); then per-class NMS at the stream's IoU.
//
// Pure functions, no threads.
#pragma once

#include <vector>

#include "core/detection.h"

namespace vigil {

enum class RegionDecision { kSkip, kFull, kCrops };
const char* to_string(RegionDecision d);

struct RegionPlanInput {
  std::vector<Box> motion;  // full-frame pixels
  std::vector<Box> tracks;  // active tracks predicted to this frame, full-frame pixels
  bool whole_frame = false;  // calibrating, global change or refresh due: analyse everything
  int frame_w = 0, frame_h = 0;
  int min_side = 0;          // smallest region's larger side, full-frame pixels (the model input's larger side)
  double aspect = 1;         // region width / height: the model input's shape for this stream (1 = square)
  double full_cost = 1;      // model-input pixels of the whole frame
  double crop_cost = 1;      // model-input pixels of one crop
};

struct RegionPlanOptions {
  bool crops = false;
  int max_crops = 4;
  double max_area = 0.5;  // fraction of the frame the crops may cover
  float margin = 1.35F;   // region side = longest box edge x margin (Frigate's cluster factor)
};

struct RegionPlan {
  RegionDecision decision = RegionDecision::kFull;
  std::vector<Box> regions;  // kCrops: full-frame pixels, integer corners, inside the frame
};

RegionPlan plan_regions(const RegionPlanInput& in, const RegionPlanOptions& options);

// The region of shape `aspect` (width / height) that holds `box` x margin and
// whose larger side is at least min_side, capped by the frame, centred on
// `box` and shifted inside the frame; integer corners.
Box region_around(const Box& box, float margin, int min_side, int frame_w, int frame_h, double aspect = 1);

// per_crop[i]: detections of crop regions[i], full-frame pixels. `edge_tol`:
// pixels within which a box counts as touching a crop edge.
std::vector<Detection> merge_crop_detections(const std::vector<Box>& regions,
                                             std::vector<std::vector<Detection>> per_crop, int frame_w,
                                             int frame_h, float iou, int max_det, float edge_tol = 2.0F,
                                             bool class_agnostic = false);

}  // namespace vigil
