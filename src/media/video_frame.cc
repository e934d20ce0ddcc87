#include "media/video_frame.h"

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

namespace vigil {

VideoFrame::VideoFrame(AVFrame* frame) : frame_(av_frame_clone(frame)) {}
VideoFrame::~VideoFrame() { av_frame_free(&frame_); }
int VideoFrame::width() const { return frame_ ? frame_->width : 0; }
int VideoFrame::height() const { return frame_ ? frame_->height : 0; }

bool VideoFrame::has_luma() const {
  if (!frame_) return false;
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(frame_->format));
  return d && !(d->flags & AV_PIX_FMT_FLAG_RGB) && !(d->flags & AV_PIX_FMT_FLAG_HWACCEL) &&
         (d->flags & AV_PIX_FMT_FLAG_PLANAR || d->nb_components == 1) && d->comp[0].depth == 8 &&
         d->comp[0].plane == 0 && d->comp[0].step == 1;
}
const std::uint8_t* VideoFrame::luma() const { return has_luma() ? frame_->data[0] : nullptr; }
int VideoFrame::luma_stride() const { return frame_ ? frame_->linesize[0] : 0; }

FrameConverter::~FrameConverter() { sws_freeContext(sws_); }

Result<Image> FrameConverter::to_image(const VideoFrame& frame, PixelFormat format, int out_w, int out_h) {
  const AVFrame* f = frame.av();
  if (!f || f->width <= 0 || f->height <= 0) return fail(ErrorCode::kInvalidArgument, "empty video frame");
  if (out_w <= 0) out_w = f->width;
  if (out_h <= 0) out_h = f->height;
  const AVPixelFormat dst = format == PixelFormat::kBgr24   ? AV_PIX_FMT_BGR24
                            : format == PixelFormat::kRgb24 ? AV_PIX_FMT_RGB24
                                                            : AV_PIX_FMT_GRAY8;
  sws_ = sws_getCachedContext(sws_, f->width, f->height, static_cast<AVPixelFormat>(f->format), out_w, out_h, dst,
                              SWS_BILINEAR, nullptr, nullptr, nullptr);
  if (!sws_) return fail(ErrorCode::kRuntime, "swscale cannot convert this frame format");
  Image img(format, out_w, out_h);
  std::uint8_t* dst_data[4] = {img.pixels.data(), nullptr, nullptr, nullptr};
  int dst_stride[4] = {img.stride(), 0, 0, 0};
  sws_scale(sws_, f->data, f->linesize, 0, f->height, dst_data, dst_stride);
  return img;
}

}  // namespace vigil
