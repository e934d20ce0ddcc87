#include "media/frame_rotation.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

namespace vigil {

Rotation display_rotation_from_ccw_degrees(double ccw_degrees) {
  if (!std::isfinite(ccw_degrees)) return Rotation::k0;
  // Clockwise turn = -ccw, to the nearest quarter, in [0, 360).
  long quarters = std::lround(-ccw_degrees / 90.0) % 4;
  if (quarters < 0) quarters += 4;
  return static_cast<Rotation>(quarters * 90);
}

std::pair<int, int> rotated_size(int w, int h, Rotation r) {
  return r == Rotation::k90 || r == Rotation::k270 ? std::pair{h, w} : std::pair{w, h};
}

std::pair<int, int> rotate_point(int x, int y, int w, int h, Rotation r) {
  switch (r) {
    case Rotation::k0: return {x, y};
    case Rotation::k90: return {h - 1 - y, x};
    case Rotation::k180: return {w - 1 - x, h - 1 - y};
    case Rotation::k270: return {y, w - 1 - x};
  }
  return {x, y};
}

namespace {

// One element of kBytes (0: `bytes`, not known at compile time).
template <int kBytes>
inline void copy_element(std::uint8_t* dst, const std::uint8_t* src, int bytes) {
  if constexpr (kBytes > 0) {
    std::memcpy(dst, src, kBytes);
  } else {
    std::memcpy(dst, src, static_cast<std::size_t>(bytes));
  }
}

template <int kBytes>
void rotate_elements(const std::uint8_t* src, int src_stride, int w, int h, int bytes, std::uint8_t* dst,
                     int dst_stride, Rotation r) {
  const std::ptrdiff_t n = kBytes > 0 ? kBytes : bytes;
  const std::ptrdiff_t ss = src_stride, ds = dst_stride;
  if (r == Rotation::k180) {
    for (int y = 0; y < h; ++y) {
      const std::uint8_t* in = src + y * ss;
      std::uint8_t* out = dst + (h - 1 - y) * ds + (w - 1) * n;
      for (int x = 0; x < w; ++x, in += n, out -= n) copy_element<kBytes>(out, in, bytes);
    }
    return;
  }
  // Quarter turns: 32x32 tiles keep both the rows read and the rows written
  // in cache. 90: (x, y) -> (h - 1 - y, x); 270: (x, y) -> (y, w - 1 - x).
  constexpr int kTile = 32;
  const bool cw = r == Rotation::k90;
  for (int ty = 0; ty < h; ty += kTile) {
    const int ye = std::min(h, ty + kTile);
    for (int tx = 0; tx < w; tx += kTile) {
      const int xe = std::min(w, tx + kTile);
      for (int x = tx; x < xe; ++x) {
        std::uint8_t* out = cw ? dst + x * ds + (h - 1 - ty) * n : dst + (w - 1 - x) * ds + ty * n;
        const std::ptrdiff_t step = cw ? -n : n;
        const std::uint8_t* in = src + ty * ss + x * n;
        for (int y = ty; y < ye; ++y, in += ss, out += step) copy_element<kBytes>(out, in, bytes);
      }
    }
  }
}

// Bytes per element of each plane when every component of a plane has the
// same resolution (so the plane can be turned element by element); 0 entries
// for planes not used. False when the format cannot be turned as it is.
bool plane_layout(const AVPixFmtDescriptor* d, Rotation r, int bytes[4], bool subsampled[4]) {
  if (!d || (d->flags & (AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_PAL))) return false;
  const bool quarter = r == Rotation::k90 || r == Rotation::k270;
  if (quarter && d->log2_chroma_w != d->log2_chroma_h) return false;
  for (int p = 0; p < 4; ++p) bytes[p] = 0;
  bool seen[4] = {false, false, false, false};
  const bool yuv = !(d->flags & AV_PIX_FMT_FLAG_RGB) && d->nb_components >= 3;
  for (int c = 0; c < d->nb_components; ++c) {
    const AVComponentDescriptor& comp = d->comp[c];
    const bool sub = yuv && (c == 1 || c == 2) && (d->log2_chroma_w || d->log2_chroma_h);
    if (comp.step <= 0 || comp.depth <= 0) return false;
    if (seen[comp.plane] && (subsampled[comp.plane] != sub || bytes[comp.plane] != comp.step)) return false;
    seen[comp.plane] = true;
    subsampled[comp.plane] = sub;
    bytes[comp.plane] = comp.step;
  }
  return true;
}

struct FrameFree {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameFree>;

Result<FramePtr> to_yuv420p(const AVFrame* f) {
  FramePtr out(av_frame_alloc());
  if (!out) return fail(ErrorCode::kRuntime, "out of memory");
  out->format = AV_PIX_FMT_YUV420P;
  out->width = f->width;
  out->height = f->height;
  if (av_frame_get_buffer(out.get(), 0) < 0) return fail(ErrorCode::kRuntime, "out of memory");
  SwsContext* sws = sws_getContext(f->width, f->height, static_cast<AVPixelFormat>(f->format), f->width, f->height,
                                   AV_PIX_FMT_YUV420P, SWS_BILINEAR, nullptr, nullptr, nullptr);
  if (!sws) {
    const char* name = av_get_pix_fmt_name(static_cast<AVPixelFormat>(f->format));
    return fail(ErrorCode::kUnsupported, std::string("cannot turn frames of pixel format ") + (name ? name : "?"));
  }
  sws_scale(sws, f->data, f->linesize, 0, f->height, out->data, out->linesize);
  sws_freeContext(sws);
  av_frame_copy_props(out.get(), f);
  return out;
}

}  // namespace

void rotate_plane(const std::uint8_t* src, int src_stride, int w, int h, int bytes, std::uint8_t* dst, int dst_stride,
                  Rotation r) {
  switch (bytes) {
    case 1: rotate_elements<1>(src, src_stride, w, h, bytes, dst, dst_stride, r); break;
    case 2: rotate_elements<2>(src, src_stride, w, h, bytes, dst, dst_stride, r); break;
    default: rotate_elements<0>(src, src_stride, w, h, bytes, dst, dst_stride, r); break;
  }
}

Result<AVFrame*> rotate_frame(const AVFrame* frame, Rotation r) {
  FramePtr converted;
  const AVFrame* src = frame;
  int bytes[4];
  bool subsampled[4] = {false, false, false, false};
  const auto* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(src->format));
  if (!plane_layout(desc, r, bytes, subsampled)) {
    auto c = to_yuv420p(src);
    if (!c) return fail(c.error());
    converted = std::move(*c);
    src = converted.get();
    desc = av_pix_fmt_desc_get(AV_PIX_FMT_YUV420P);
    plane_layout(desc, r, bytes, subsampled);
  }
  FramePtr out(av_frame_alloc());
  if (!out) return fail(ErrorCode::kRuntime, "out of memory");
  const auto [ow, oh] = rotated_size(src->width, src->height, r);
  out->format = src->format;
  out->width = ow;
  out->height = oh;
  if (av_frame_get_buffer(out.get(), 0) < 0) return fail(ErrorCode::kRuntime, "out of memory");
  for (int p = 0; p < 4; ++p) {
    if (!bytes[p] || !src->data[p]) continue;
    const int pw = subsampled[p] ? AV_CEIL_RSHIFT(src->width, desc->log2_chroma_w) : src->width;
    const int ph = subsampled[p] ? AV_CEIL_RSHIFT(src->height, desc->log2_chroma_h) : src->height;
    rotate_plane(src->data[p], src->linesize[p], pw, ph, bytes[p], out->data[p], out->linesize[p], r);
  }
  av_frame_copy_props(out.get(), src);
  return out.release();
}

}  // namespace vigil
