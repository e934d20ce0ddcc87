#include "models/nms.h"

#include <algorithm>

namespace vigil {

std::vector<Detection> nms(std::vector<Detection> candidates, float iou_threshold, int max_det, bool class_agnostic) {
  std::stable_sort(candidates.begin(), candidates.end(), [](const Detection& a, const Detection& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.class_id < b.class_id;
  });
  std::vector<Detection> kept;
  if (max_det <= 0) return kept;
  std::vector<bool> removed(candidates.size(), false);
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (removed[i]) continue;
    kept.push_back(candidates[i]);
    if (static_cast<int>(kept.size()) >= max_det) break;
    for (std::size_t j = i + 1; j < candidates.size(); ++j) {
      if (removed[j]) continue;
      if (!class_agnostic && candidates[j].class_id != candidates[i].class_id) continue;
      if (iou(candidates[i].box, candidates[j].box) > iou_threshold) removed[j] = true;
    }
  }
  return kept;
}

}  // namespace vigil
