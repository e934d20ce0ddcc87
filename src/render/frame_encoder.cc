#include "render/frame_encoder.h"

#include <algorithm>
#include <array>
#include <string>

#include <turbojpeg.h>

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
}

namespace vigil {

namespace {

// Limited-range (Y 16..235, Cb/Cr 16..240) to full-range lookup tables.
struct RangeTables {
  std::array<std::uint8_t, 256> luma{};
  std::array<std::uint8_t, 256> chroma{};
  RangeTables() {
    for (int v = 0; v < 256; ++v) {
      const int y = ((v - 16) * 255 * 2 + 219) / (219 * 2);
      const int c = 128 + ((v - 128) * 255 * 2 + (v >= 128 ? 224 : -224)) / (224 * 2);
      luma[static_cast<std::size_t>(v)] = static_cast<std::uint8_t>(std::clamp(y, 0, 255));
      chroma[static_cast<std::size_t>(v)] = static_cast<std::uint8_t>(std::clamp(c, 0, 255));
    }
  }
};

const RangeTables& range_tables() {
  static const RangeTables tables;
  return tables;
}

void expand_plane(const std::uint8_t* src, int src_stride, int w, int h, const std::array<std::uint8_t, 256>& lut,
                  std::uint8_t* dst) {
  for (int y = 0; y < h; ++y) {
    const std::uint8_t* s = src + static_cast<std::ptrdiff_t>(y) * src_stride;
    std::uint8_t* d = dst + static_cast<std::ptrdiff_t>(y) * w;
    for (int x = 0; x < w; ++x) d[x] = lut[s[x]];
  }
}

bool is_yuv420(const AVFrame* f) {
  return f && (f->format == AV_PIX_FMT_YUV420P || f->format == AV_PIX_FMT_YUVJ420P) && f->data[0] && f->data[1] &&
         f->data[2] && f->linesize[0] > 0 && f->linesize[1] > 0 && f->linesize[2] > 0;
}

bool full_range(const AVFrame* f) {
  return f->format == AV_PIX_FMT_YUVJ420P || f->color_range == AVCOL_RANGE_JPEG;
}

}  // namespace

ScaledSize scaled_size(int frame_w, int frame_h, int max_width) {
  if (max_width <= 0 || max_width >= frame_w || frame_w <= 0) return {frame_w, frame_h};
  const int w = std::max(2, max_width & ~1);
  const long long h = static_cast<long long>(frame_h) * w / frame_w;  // NOLINT(google-runtime-int)
  return {w, std::max(2, static_cast<int>(h) & ~1)};
}

FrameEncoder::FrameEncoder() : tj_(tjInitCompress()) {}
FrameEncoder::~FrameEncoder() {
  if (tj_) tjDestroy(static_cast<tjhandle>(tj_));
}

Result<Image> FrameEncoder::to_bgr(const VideoFrame& frame, int max_width) {
  const ScaledSize size = scaled_size(frame.width(), frame.height(), max_width);
  return converter_.to_image(frame, PixelFormat::kBgr24, size.width, size.height);
}

Result<std::vector<std::uint8_t>> FrameEncoder::encode_yuv420(const VideoFrame& frame, int quality, int max_width) {
  const AVFrame* f = frame.av();
  if (!f || f->width <= 0 || f->height <= 0) return fail(ErrorCode::kInvalidArgument, "JPEG: empty video frame");
  const bool scale = max_width > 0 && max_width < f->width;
  if (!scale && is_yuv420(f)) return compress_planes(frame, quality);
  auto image = to_bgr(frame, max_width);
  if (!image) return fail(image.error());
  return jpeg_.encode(*image, quality);
}

Result<std::vector<std::uint8_t>> FrameEncoder::compress_planes(const VideoFrame& frame, int quality) {
  if (!tj_) return fail(ErrorCode::kRuntime, "TurboJPEG: cannot create a compressor");
  const AVFrame* f = frame.av();
  const int w = f->width, h = f->height;
  const int cw = (w + 1) / 2, ch = (h + 1) / 2;
  const unsigned char* planes[3] = {f->data[0], f->data[1], f->data[2]};
  int strides[3] = {f->linesize[0], f->linesize[1], f->linesize[2]};
  if (!full_range(f)) {
    const std::size_t luma_size = static_cast<std::size_t>(w) * static_cast<std::size_t>(h);
    const std::size_t chroma_size = static_cast<std::size_t>(cw) * static_cast<std::size_t>(ch);
    expanded_.resize(luma_size + 2 * chroma_size);
    const RangeTables& lut = range_tables();
    std::uint8_t* y = expanded_.data();
    std::uint8_t* u = y + luma_size;
    std::uint8_t* v = u + chroma_size;
    expand_plane(f->data[0], f->linesize[0], w, h, lut.luma, y);
    expand_plane(f->data[1], f->linesize[1], cw, ch, lut.chroma, u);
    expand_plane(f->data[2], f->linesize[2], cw, ch, lut.chroma, v);
    planes[0] = y;
    planes[1] = u;
    planes[2] = v;
    strides[0] = w;
    strides[1] = cw;
    strides[2] = cw;
  }
  unsigned char* buf = nullptr;
  unsigned long size = 0;  // NOLINT(google-runtime-int): TurboJPEG's type
  if (tjCompressFromYUVPlanes(static_cast<tjhandle>(tj_), planes, w, strides, h, TJSAMP_420, &buf, &size,
                              std::clamp(quality, 1, 100), TJFLAG_FASTDCT) != 0) {
    std::string msg = tjGetErrorStr2(static_cast<tjhandle>(tj_));
    tjFree(buf);
    return fail(ErrorCode::kRuntime, "JPEG encoding of a " + std::to_string(w) + "x" + std::to_string(h) +
                                         " YUV 4:2:0 frame failed: " + msg);
  }
  std::vector<std::uint8_t> out(buf, buf + size);
  tjFree(buf);
  ++direct_;
  return out;
}

Result<std::vector<std::uint8_t>> encode_yuv420(const VideoFrame& frame, int quality, int max_width) {
  FrameEncoder encoder;
  return encoder.encode_yuv420(frame, quality, max_width);
}

}  // namespace vigil
