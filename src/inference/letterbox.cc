#include "inference/letterbox.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include <opencv2/imgproc.hpp>

namespace vigil {

LetterboxTransform compute_letterbox(int src_w, int src_h, int dst_w, int dst_h) {
  LetterboxTransform t;
  t.src_w = src_w;
  t.src_h = src_h;
  t.dst_w = dst_w;
  t.dst_h = dst_h;
  t.scale = std::min(static_cast<float>(dst_w) / static_cast<float>(src_w),
                     static_cast<float>(dst_h) / static_cast<float>(src_h));
  t.new_w = std::clamp(static_cast<int>(std::lround(static_cast<float>(src_w) * t.scale)), 1, dst_w);
  t.new_h = std::clamp(static_cast<int>(std::lround(static_cast<float>(src_h) * t.scale)), 1, dst_h);
  t.pad_x = (dst_w - t.new_w) / 2;
  t.pad_y = (dst_h - t.new_h) / 2;
  return t;
}

Box LetterboxTransform::to_source(const Box& b) const {
  // The scaled image spans new_w x new_h pixels for src_w x src_h, so the exact
  // per-axis factor is new/src (differs from `scale` by the rounding of new).
  const float sx = static_cast<float>(new_w) / static_cast<float>(src_w);
  const float sy = static_cast<float>(new_h) / static_cast<float>(src_h);
  auto cx = [&](float x) { return std::clamp((x - static_cast<float>(pad_x)) / sx, 0.0F, static_cast<float>(src_w)); };
  auto cy = [&](float y) { return std::clamp((y - static_cast<float>(pad_y)) / sy, 0.0F, static_cast<float>(src_h)); };
  return Box{cx(b.x1), cy(b.y1), cx(b.x2), cy(b.y2)};
}

Box LetterboxTransform::to_model(const Box& b) const {
  const float sx = static_cast<float>(new_w) / static_cast<float>(src_w);
  const float sy = static_cast<float>(new_h) / static_cast<float>(src_h);
  return Box{b.x1 * sx + static_cast<float>(pad_x), b.y1 * sy + static_cast<float>(pad_y),
             b.x2 * sx + static_cast<float>(pad_x), b.y2 * sy + static_cast<float>(pad_y)};
}

namespace {

// One axis of a rectangular input: the square letterbox's scaled size plus,
// on each side, its padding modulo the stride, so the picture starts at the
// same offset modulo the stride as in the square input and every feature
// map's cells cover the same pixels of the frame (the model sees the frame
// through the same windows; only padding far from the picture is gone).
// Grown by a stride on each side while it is under the exact scaled size
// (which keeps the nominal scale), rounded up to a stride multiple (the
// centred padding stays the same: the sum is one pixel short of a multiple
// at most), at most the nominal size (which is the square input itself).
int grid_aligned_extent(int scaled, int square_pad, float exact, int stride, int nominal) {
  int extent = scaled + 2 * (square_pad % stride);
  while (static_cast<float>(extent) < exact) extent += 2 * stride;
  return std::min(nominal, (extent + stride - 1) / stride * stride);
}

}  // namespace

InputSize choose_input_size(const ModelInfo& info, int src_w, int src_h, bool rectangular) {
  const InputSize nominal = info.input_size();
  if (!rectangular || !info.dynamic_hw || src_w <= 0 || src_h <= 0 || info.stride <= 0) return nominal;
  const LetterboxTransform square = compute_letterbox(src_w, src_h, nominal.width, nominal.height);
  return {grid_aligned_extent(square.new_w, square.pad_x, static_cast<float>(src_w) * square.scale, info.stride,
                              nominal.width),
          grid_aligned_extent(square.new_h, square.pad_y, static_cast<float>(src_h) * square.scale, info.stride,
                              nominal.height)};
}

PreprocessSpec PreprocessSpec::from(const ModelInfo& info) { return from(info, info.input_size()); }

PreprocessSpec PreprocessSpec::from(const ModelInfo& info, InputSize size) {
  PreprocessSpec s;
  s.width = size.width;
  s.height = size.height;
  s.layout = info.layout;
  s.color = info.color;
  for (int c = 0; c < 3; ++c) {
    s.mean[c] = info.mean[static_cast<std::size_t>(c)];
    s.std[c] = info.std[static_cast<std::size_t>(c)];
  }
  s.pad_value = info.pad_value;
  return s;
}

LetterboxTransform letterbox_into(const Image& src, const PreprocessSpec& spec, float* dst) {
  assert(src.format == PixelFormat::kBgr24 || src.format == PixelFormat::kRgb24);
  const LetterboxTransform t = compute_letterbox(src.width, src.height, spec.width, spec.height);
  const cv::Mat in(src.height, src.width, CV_8UC3, const_cast<std::uint8_t*>(src.pixels.data()),
                   static_cast<std::size_t>(src.stride()));
  cv::Mat scaled;
  if (t.new_w == src.width && t.new_h == src.height) {
    scaled = in;
  } else {
    cv::resize(in, scaled, cv::Size(t.new_w, t.new_h), 0, 0, cv::INTER_LINEAR);
  }
  // Channel c of the tensor comes from source channel src_ch[c].
  const bool src_bgr = src.format == PixelFormat::kBgr24;
  const bool want_bgr = spec.color == ColorOrder::kBgr;
  const int src_ch[3] = {src_bgr == want_bgr ? 0 : 2, 1, src_bgr == want_bgr ? 2 : 0};
  float inv_std[3], pad_norm[3];
  for (int c = 0; c < 3; ++c) {
    inv_std[c] = 1.0F / spec.std[c];
    pad_norm[c] = (spec.pad_value - spec.mean[c]) * inv_std[c];
  }
  const int W = spec.width, H = spec.height;
  const std::size_t plane = static_cast<std::size_t>(W) * static_cast<std::size_t>(H);
  if (spec.layout == TensorLayout::kNchw) {
    for (int c = 0; c < 3; ++c) std::fill(dst + plane * static_cast<std::size_t>(c), dst + plane * static_cast<std::size_t>(c + 1), pad_norm[c]);
    for (int y = 0; y < t.new_h; ++y) {
      const std::uint8_t* row = scaled.ptr<std::uint8_t>(y);
      const std::size_t base = static_cast<std::size_t>(y + t.pad_y) * static_cast<std::size_t>(W) + static_cast<std::size_t>(t.pad_x);
      for (int c = 0; c < 3; ++c) {
        float* out = dst + plane * static_cast<std::size_t>(c) + base;
        const int sc = src_ch[c];
        const float m = spec.mean[c], is = inv_std[c];
        for (int x = 0; x < t.new_w; ++x) out[x] = (static_cast<float>(row[x * 3 + sc]) - m) * is;
      }
    }
  } else {
    for (std::size_t i = 0; i < plane; ++i)
      for (int c = 0; c < 3; ++c) dst[i * 3 + static_cast<std::size_t>(c)] = pad_norm[c];
    for (int y = 0; y < t.new_h; ++y) {
      const std::uint8_t* row = scaled.ptr<std::uint8_t>(y);
      float* out = dst + (static_cast<std::size_t>(y + t.pad_y) * static_cast<std::size_t>(W) + static_cast<std::size_t>(t.pad_x)) * 3;
      for (int x = 0; x < t.new_w; ++x)
        for (int c = 0; c < 3; ++c)
          out[x * 3 + c] = (static_cast<float>(row[x * 3 + src_ch[c]]) - spec.mean[c]) * inv_std[c];
    }
  }
  return t;
}

}  // namespace vigil
