// VideoSource: one opened input (file, RTSP, HTTP/HLS/MJPEG, v4l2) and its
// video decoder, as RAII over FFmpeg.
// Threading: owned and used by one capture thread; the stop flag and the
// timeout are enforced through FFmpeg's interrupt callback, so no call blocks
// longer than timeout_ms (or past a stop request).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/error.h"
#include "media/source_url.h"
#include "media/video_frame.h"

namespace vigil {

enum class SkipFrame { kNone, kNonRef, kNonKey };
enum class HwAccel { kAuto, kNone, kCuda, kVaapi };

Result<SkipFrame> parse_skip_frame(const std::string& s);
Result<HwAccel> parse_hwaccel(const std::string& s);

struct VideoSourceOptions {
  std::string url;
  int timeout_ms = 10000;                      // open / read / network I/O limit
  HwAccel hwaccel = HwAccel::kAuto;
  SkipFrame skip_frame = SkipFrame::kNone;
  std::int64_t max_pixels = 8192LL * 4320;     // larger frames are refused
  int decode_threads = 1;                      // 0 = FFmpeg's choice
};

struct DecodedFrame {
  std::shared_ptr<const VideoFrame> frame;
  double pts = 0;  // media seconds from the start of the input
};

class VideoSource {
 public:
  // Opens and probes the input and its best video stream. Errors name the URL:
  // missing file, not a video, no video stream, unsupported codec, too large.
  static Result<std::unique_ptr<VideoSource>> open(const VideoSourceOptions& options,
                                                   const std::atomic<bool>* stop = nullptr);
  ~VideoSource();
  VideoSource(const VideoSource&) = delete;
  VideoSource& operator=(const VideoSource&) = delete;

  // The next decoded frame; std::nullopt at the end of a file; an error for a
  // broken input (timeout, read error, corrupt data the decoder gives up on).
  Result<std::optional<DecodedFrame>> read();
  // Back to the start (files); false when the input cannot seek.
  bool rewind();

  const SourceSpec& spec() const;
  double fps() const;         // nominal frame rate (0 when unknown)
  double duration_s() const;  // 0 when unknown (live)
  int width() const;
  int height() const;
  const std::string& codec() const;
  const std::string& hwaccel() const;  // "none", "cuda", "vaapi"
  std::int64_t corrupt_packets() const;

 private:
  struct Impl;
  explicit VideoSource(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
