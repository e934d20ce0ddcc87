// FrameEncoder: JPEG from a decoded VideoFrame, taking the cheapest path.
//
// - YUV420P / YUVJ420P at full size: TurboJPEG compresses the decoder's planes
//   directly (tjCompressFromYUVPlanes): no colour conversion at all. Limited
//   ("TV", 16..235) range frames get a lookup-table range expansion first,
//   since JPEG is full range (else blacks turn grey). JPEG's matrix is BT.601;
//   BT.709 sources show a slight hue shift, the usual trade of this path.
// - Anything else (other pixel formats, or max_width smaller than the frame):
//   swscale to BGR (FrameConverter) at the target size, then JpegEncoder.
//
// Not thread-safe: one FrameEncoder per thread (it reuses its TurboJPEG
// handle, swscale context and range-expansion buffer).
#pragma once

#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/image.h"
#include "media/video_frame.h"
#include "render/jpeg_encoder.h"

namespace vigil {

// Output size for a frame_w x frame_h frame limited to max_width (0 or
// >= frame_w: unchanged); the height keeps the aspect ratio, both even.
struct ScaledSize {
  int width = 0;
  int height = 0;
};
ScaledSize scaled_size(int frame_w, int frame_h, int max_width);

class FrameEncoder {
 public:
  FrameEncoder();
  ~FrameEncoder();
  FrameEncoder(const FrameEncoder&) = delete;
  FrameEncoder& operator=(const FrameEncoder&) = delete;

  // quality 1..100 (clamped); max_width 0 = the frame's width.
  Result<std::vector<std::uint8_t>> encode_yuv420(const VideoFrame& frame, int quality, int max_width);

  // BGR image of `frame` at scaled_size(max_width), for drawing an overlay on.
  Result<Image> to_bgr(const VideoFrame& frame, int max_width);
  // JPEG of an Image (BGR/RGB/gray).
  Result<std::vector<std::uint8_t>> encode(const Image& image, int quality) { return jpeg_.encode(image, quality); }

  // Frames that took the direct YUV path since construction (for stats/tests).
  std::uint64_t direct_yuv_frames() const { return direct_; }

 private:
  Result<std::vector<std::uint8_t>> compress_planes(const VideoFrame& frame, int quality);

  void* tj_ = nullptr;  // tjhandle
  FrameConverter converter_;
  JpegEncoder jpeg_;
  std::vector<std::uint8_t> expanded_;  // full-range copy of a limited-range frame: Y, then U, then V, packed
  std::uint64_t direct_ = 0;
};

// Convenience for one-off use (creates an encoder per call).
Result<std::vector<std::uint8_t>> encode_yuv420(const VideoFrame& frame, int quality, int max_width);

}  // namespace vigil
