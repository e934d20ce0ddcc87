#include "models/detection_match.h"

#include <algorithm>

namespace vigil {

MatchCounts match_detections(const std::vector<Detection>& reference, const std::vector<Detection>& candidate,
                             float iou_min, float min_score) {
  std::vector<const Detection*> refs, cands;
  for (const Detection& d : reference)
    if (d.score >= min_score) refs.push_back(&d);
  for (const Detection& d : candidate)
    if (d.score >= min_score) cands.push_back(&d);
  std::stable_sort(cands.begin(), cands.end(), [](const Detection* a, const Detection* b) { return a->score > b->score; });
  MatchCounts counts;
  counts.reference = static_cast<std::int64_t>(refs.size());
  counts.candidate = static_cast<std::int64_t>(cands.size());
  std::vector<bool> taken(refs.size(), false);
  for (const Detection* c : cands) {
    int best = -1;
    float best_iou = iou_min;
    for (std::size_t r = 0; r < refs.size(); ++r) {
      if (taken[r] || refs[r]->class_id != c->class_id) continue;
      const float o = iou(refs[r]->box, c->box);
      if (o >= best_iou) {
        best_iou = o;
        best = static_cast<int>(r);
      }
    }
    if (best < 0) continue;
    taken[static_cast<std::size_t>(best)] = true;
    ++counts.matched;
  }
  return counts;
}

}  // namespace vigil
