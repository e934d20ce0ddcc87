#include "models/decoder.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "models/nms.h"

namespace vigil {
namespace {

// Candidates beyond this many (highest scores first) are not considered by NMS,
// like Ultralytics' max_nms: bounds the quadratic NMS on noisy outputs.
constexpr std::size_t kMaxNmsCandidates = 30000;

bool class_allowed(const DecodeOptions& o, int class_idx) {
  return o.class_mask.empty() ||
         (class_idx >= 0 && class_idx < static_cast<int>(o.class_mask.size()) &&
          o.class_mask[static_cast<std::size_t>(class_idx)]);
}

float sigmoid(float x) { return 1.0F / (1.0F + std::exp(-x)); }

// [4+C, N]: rows cx, cy, w, h, then one score row per class.
void decode_yolov8(const float* p, std::int64_t rows, std::int64_t n, const DecodeOptions& o,
                   std::vector<Detection>& out) {
  const std::int64_t classes = rows - 4;
  for (std::int64_t i = 0; i < n; ++i) {
    int best = -1;
    float best_score = -1;
    for (std::int64_t c = 0; c < classes; ++c) {
      const float s = p[(4 + c) * n + i];
      if (s > best_score && class_allowed(o, static_cast<int>(c))) {
        best_score = s;
        best = static_cast<int>(c);
      }
    }
    if (best < 0 || best_score < o.conf) continue;
    const float cx = p[i], cy = p[n + i], w = p[2 * n + i], h = p[3 * n + i];
    out.push_back({Box{cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2}, best, best_score});
  }
}

// [N, 5+C]: cx, cy, w, h, objectness, class probabilities; score = obj * cls.
void decode_yolov5(const float* p, std::int64_t n, std::int64_t cols, const DecodeOptions& o,
                   std::vector<Detection>& out) {
  const std::int64_t classes = cols - 5;
  for (std::int64_t i = 0; i < n; ++i) {
    const float* r = p + i * cols;
    const float obj = r[4];
    if (obj < o.conf) continue;  // obj * cls <= obj
    int best = -1;
    float best_score = -1;
    for (std::int64_t c = 0; c < classes; ++c) {
      const float s = obj * r[5 + c];
      if (s > best_score && class_allowed(o, static_cast<int>(c))) {
        best_score = s;
        best = static_cast<int>(c);
      }
    }
    if (best < 0 || best_score < o.conf) continue;
    out.push_back({Box{r[0] - r[2] / 2, r[1] - r[3] / 2, r[0] + r[2] / 2, r[1] + r[3] / 2}, best, best_score});
  }
}

// [K, 6]: x1, y1, x2, y2, score, class id.
void decode_end2end(const float* p, std::int64_t k, const DecodeOptions& o, std::vector<Detection>& out) {
  for (std::int64_t i = 0; i < k; ++i) {
    const float* r = p + i * 6;
    const int cls = static_cast<int>(std::lround(r[5]));
    if (r[4] < o.conf || !class_allowed(o, cls)) continue;
    out.push_back({Box{r[0], r[1], r[2], r[3]}, cls, r[4]});
  }
}

// A head's grid at a call's input width/height.
int grid_cells(int pixels, int stride) { return (pixels + stride - 1) / stride; }

// One NanoDet level: cls [cells, C], dis [cells, 4*(reg_max+1)] (logits per bin),
// cell i at row i / grid_w, column i % grid_w.
void decode_nanodet_level(const ModelInfo& info, const NanoDetHead& head, int grid_w, const float* cls,
                          const float* dis, std::int64_t cells, std::int64_t classes, const DecodeOptions& o,
                          std::vector<Detection>& out) {
  const int bins = info.reg_max + 1;
  const auto stride = static_cast<float>(head.stride);
  std::vector<float> prob(static_cast<std::size_t>(bins));
  for (std::int64_t i = 0; i < cells; ++i) {
    const float* s = cls + i * classes;
    int best = -1;
    float best_score = -1;
    for (std::int64_t c = 0; c < classes; ++c) {
      const float v = info.scores_are_logits ? sigmoid(s[c]) : s[c];
      if (v > best_score && class_allowed(o, static_cast<int>(c))) {
        best_score = v;
        best = static_cast<int>(c);
      }
    }
    if (best < 0 || best_score < o.conf) continue;
    const float cx = (static_cast<float>(i % grid_w) + info.center_offset) * stride;
    const float cy = (static_cast<float>(i / grid_w) + info.center_offset) * stride;
    float dist[4];
    for (int side = 0; side < 4; ++side) {
      const float* d = dis + i * 4 * bins + side * bins;
      const float m = *std::max_element(d, d + bins);
      float sum = 0;
      for (int b = 0; b < bins; ++b) sum += (prob[static_cast<std::size_t>(b)] = std::exp(d[b] - m));
      float expect = 0;
      for (int b = 0; b < bins; ++b) expect += static_cast<float>(b) * prob[static_cast<std::size_t>(b)];
      dist[side] = expect / sum * stride;
    }
    out.push_back({Box{cx - dist[0], cy - dist[1], cx + dist[2], cy + dist[3]}, best, best_score});
  }
}

}  // namespace

Result<void> check_output_shapes(const ModelInfo& info, const std::vector<Tensor>& outputs, InputSize input) {
  if (input.width <= 0 || input.height <= 0) input = info.input_size();
  const auto shape_text = [](const std::vector<std::int64_t>& shape) {
    std::string t = "[";
    for (std::size_t d = 0; d < shape.size(); ++d) {
      if (d) t += ',';
      t += std::to_string(shape[d]);
    }
    t += ']';
    return t;
  };
  if (outputs.size() != info.outputs.size())
    return fail(ErrorCode::kRuntime, "model " + info.path + ": " + std::to_string(outputs.size()) +
                                         " outputs, expected " + std::to_string(info.outputs.size()));
  const std::vector<NanoDetHead> no_heads;
  for (const NanoDetHead& head : info.arch == ModelArch::kNanoDet ? info.heads : no_heads) {
    const std::int64_t cells = static_cast<std::int64_t>(grid_cells(input.width, head.stride)) *
                               grid_cells(input.height, head.stride);
    for (const int idx : {head.cls_output, head.dis_output}) {
      const Tensor& t = outputs.at(static_cast<std::size_t>(idx));
      if (t.shape.size() != 3 || t.shape[1] != cells)
        return fail(ErrorCode::kRuntime, "model " + info.path + ": output " + info.outputs[static_cast<std::size_t>(idx)].name +
                                             " has shape " + shape_text(t.shape) + ", expected " +
                                             std::to_string(cells) + " cells for a " + std::to_string(input.width) +
                                             "x" + std::to_string(input.height) + " input at stride " +
                                             std::to_string(head.stride));
    }
  }
  for (std::size_t i = 0; i < outputs.size(); ++i)
    if (outputs[i].shape.size() < 2)
      return fail(ErrorCode::kRuntime, "model " + info.path + ": output " + info.outputs[i].name + " has shape " +
                                           shape_text(outputs[i].shape));
  return {};
}

std::vector<Detection> decode_detections(const ModelInfo& info, const std::vector<Tensor>& outputs, int batch_idx,
                                         const DecodeOptions& options, InputSize input) {
  if (input.width <= 0 || input.height <= 0) input = info.input_size();
  std::vector<Detection> candidates;
  const auto b = static_cast<std::int64_t>(batch_idx);
  auto slice = [&](const Tensor& t) {
    std::int64_t per = 1;
    for (std::size_t d = 1; d < t.shape.size(); ++d) per *= t.shape[d];
    return t.data.data() + b * per;
  };
  switch (info.arch) {
    case ModelArch::kYoloV8: {
      const Tensor& t = outputs.at(0);
      decode_yolov8(slice(t), t.shape[1], t.shape[2], options, candidates);
      break;
    }
    case ModelArch::kYoloV5: {
      const Tensor& t = outputs.at(0);
      decode_yolov5(slice(t), t.shape[1], t.shape[2], options, candidates);
      break;
    }
    case ModelArch::kYoloEnd2End: {
      const Tensor& t = outputs.at(0);
      decode_end2end(slice(t), t.shape[1], options, candidates);
      // Already suppressed by the model: keep its ranking, only cap the count.
      std::stable_sort(candidates.begin(), candidates.end(),
                       [](const Detection& x, const Detection& y) { return x.score > y.score; });
      if (static_cast<int>(candidates.size()) > options.max_det)
        candidates.resize(static_cast<std::size_t>(std::max(0, options.max_det)));
      return candidates;
    }
    case ModelArch::kNanoDet:
      for (const NanoDetHead& head : info.heads) {
        const Tensor& cls = outputs.at(static_cast<std::size_t>(head.cls_output));
        const Tensor& dis = outputs.at(static_cast<std::size_t>(head.dis_output));
        decode_nanodet_level(info, head, grid_cells(input.width, head.stride), slice(cls), slice(dis), cls.shape[1],
                             cls.shape[2], options, candidates);
      }
      break;
  }
  if (candidates.size() > kMaxNmsCandidates) {
    std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(kMaxNmsCandidates),
                      candidates.end(), [](const Detection& x, const Detection& y) { return x.score > y.score; });
    candidates.resize(kMaxNmsCandidates);
  }
  return nms(std::move(candidates), options.iou, options.max_det, options.class_agnostic);
}

}  // namespace vigil
