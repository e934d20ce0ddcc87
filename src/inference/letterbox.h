// Letterbox preprocessing: scale the source image into the model input with its
// aspect ratio kept, pad the rest, normalise, and write the model's tensor
// layout. LetterboxTransform maps boxes exactly between the two pixel spaces.
// Pure functions, no threads; callers own every buffer.
#pragma once

#include <cstddef>

#include "core/detection.h"
#include "core/image.h"
#include "inference/model_info.h"

namespace vigil {

struct LetterboxTransform {
  int src_w = 0, src_h = 0;  // source image size
  int dst_w = 0, dst_h = 0;  // model input size
  float scale = 1;           // dst pixels per source pixel
  int new_w = 0, new_h = 0;  // size of the scaled image inside dst
  int pad_x = 0, pad_y = 0;  // offset of the scaled image inside dst

  // Model-input pixels -> source pixels, clipped to the source image.
  Box to_source(const Box& b) const;
  // Source pixels -> model-input pixels (not clipped).
  Box to_model(const Box& b) const;
};

// new = round(src * scale), scale = min(dst_w/src_w, dst_h/src_h); the scaled
// image is centred (pad = floor((dst - new) / 2)).
LetterboxTransform compute_letterbox(int src_w, int src_h, int dst_w, int dst_h);

// The model input a src_w x src_h frame is run at. Square (the model's
// nominal input_w x input_h) unless `rectangular` and the model's height and
// width are dynamic; then, per axis, the frame letterboxed at the nominal
// scale plus its square padding modulo the stride on each side, rounded up
// to a stride multiple, at most the nominal size: the picture lies on the
// same stride grid as in the square input, so the feature maps see the same
// windows of the frame and the detections stay the square input's (measured:
// docs/performance.md, "Fast path agreement"). 1280x720 into 416 -> 416x234,
// square padding 91 = 2 x 32 + 27 -> 416x288 (padding 27); 640x480 ->
// 416x312, padding 52 = 32 + 20 -> 416x352; 720x1280 -> 288x416. The scale,
// and so every box, is the square input's; only the padding shrinks.
InputSize choose_input_size(const ModelInfo& info, int src_w, int src_h, bool rectangular);

struct PreprocessSpec {
  int width = 0, height = 0;
  TensorLayout layout = TensorLayout::kNchw;
  ColorOrder color = ColorOrder::kRgb;
  float mean[3] = {0, 0, 0};  // in `color` order, 0..255 scale
  float std[3] = {255, 255, 255};
  float pad_value = 114;

  // At the model's nominal size; `size` overrides it (a dynamic-size model's call).
  static PreprocessSpec from(const ModelInfo& info);
  static PreprocessSpec from(const ModelInfo& info, InputSize size);
  std::size_t tensor_elements() const { return static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3; }
};

// Writes one image into `dst`: [3,H,W] (NCHW) or [H,W,3] (NHWC) float32,
// `spec.color` order, (value - mean) / std. `dst` holds tensor_elements().
// The source must be kBgr24 or kRgb24. Bilinear resize (OpenCV INTER_LINEAR).
LetterboxTransform letterbox_into(const Image& src, const PreprocessSpec& spec, float* dst);

}  // namespace vigil
