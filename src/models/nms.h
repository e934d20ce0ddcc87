// Non-maximum suppression and the detection filters that go with it.
// Pure functions, no threads.
#pragma once

#include <vector>

#include "core/detection.h"

namespace vigil {

// Greedy NMS: keeps the highest-scoring box and drops every lower-scoring box
// whose IoU with it exceeds `iou_threshold`; only boxes of the same class
// suppress each other unless `class_agnostic`. Returns at most `max_det`
// detections sorted by score, descending (ties: lower class id, then input order).
std::vector<Detection> nms(std::vector<Detection> candidates, float iou_threshold, int max_det,
                           bool class_agnostic = false);

}  // namespace vigil
