// VideoFrame: one decoded picture, still in the decoder's pixel format
// (usually YUV 4:2:0). Colour conversion and scaling happen only when a stage
// asks for pixels (to_image), so frames nobody needs cost nothing more.
// Immutable once made; share it as std::shared_ptr<const VideoFrame>.
// FrameConverter (swscale) is per thread: not thread-safe.
#pragma once

#include <cstdint>
#include <memory>

#include "core/error.h"
#include "core/image.h"

struct AVFrame;
struct SwsContext;

namespace vigil {

class VideoFrame {
 public:
  explicit VideoFrame(AVFrame* frame);  // takes a new reference to frame's buffers
  ~VideoFrame();
  VideoFrame(const VideoFrame&) = delete;
  VideoFrame& operator=(const VideoFrame&) = delete;

  int width() const;
  int height() const;
  bool has_luma() const;  // a planar YUV/gray format: luma() points at Y
  // Y plane (8-bit) when has_luma(); nullptr otherwise.
  const std::uint8_t* luma() const;
  int luma_stride() const;
  const AVFrame* av() const { return frame_; }

 private:
  AVFrame* frame_;
};

class FrameConverter {
 public:
  FrameConverter() = default;
  ~FrameConverter();
  FrameConverter(const FrameConverter&) = delete;
  FrameConverter& operator=(const FrameConverter&) = delete;

  // Converts (and scales, bilinear) to an Image of out_w x out_h; 0 = source size.
  Result<Image> to_image(const VideoFrame& frame, PixelFormat format, int out_w = 0, int out_h = 0);

 private:
  SwsContext* sws_ = nullptr;
};

}  // namespace vigil
