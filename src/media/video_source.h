// VideoSource: one opened input (file, RTSP, HTTP/HLS/MJPEG, v4l2) and its
// video decoder, as RAII over FFmpeg.
// Threading: owned and used by one capture thread; the stop flag, the I/O
// timeout and the frame watchdog are enforced through FFmpeg's interrupt
// callback, so no call blocks longer than timeout_ms, past the watchdog's
// deadline, or past a stop request.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/decode_options.h"
#include "core/error.h"
#include "media/packet_ring.h"
#include "media/source_url.h"
#include "media/video_frame.h"

namespace vigil {

// {"libavformat": "59.27.100", "libavcodec": "59.37.100"}: the FFmpeg in use.
std::map<std::string, std::string> ffmpeg_versions();

struct VideoSourceOptions {
  std::string url;
  int timeout_ms = 10000;                      // open / read / network I/O limit
  // Live watchdog: read() fails once no frame has come out for this long
  // (since the previous frame, or the open), whatever FFmpeg is waiting on:
  // the deadline is enforced by the interrupt callback on every blocking call
  // (socket reads, RTSP's own reply waits) and between packets that yield no
  // frame. 0 = off (files: a paced or blocked caller is not a silent source).
  int frame_timeout_ms = 0;
  HwAccel hwaccel = HwAccel::kAuto;
  SkipFrame skip_frame = SkipFrame::kNone;
  std::int64_t max_pixels = 8192LL * 4320;     // larger frames are refused
  int decode_threads = 1;                      // 0 = FFmpeg's choice
  // Offline analysis: any damaged data (a read error, a packet the decoder
  // rejects, a frame it had to conceal errors in) is an error naming the media
  // time, instead of being skipped.
  bool strict = false;
};

// What a packet filter sees of a packet before it is decoded. Times in media
// seconds on the same scale as DecodedFrame::pts (NaN when unknown).
struct PacketInfo {
  double pts = 0;
  double dts = 0;
  bool key = false;     // a keyframe
  bool nonref = false;  // no other frame references it (H.264 nal_ref_idc 0, or flagged disposable)
};
// Returns false to drop the packet without decoding it.
using PacketFilter = std::function<bool(const PacketInfo&)>;

struct DecodedFrame {
  std::shared_ptr<const VideoFrame> frame;
  double pts = 0;  // media seconds from the start of the input
};

class VideoSource {
 public:
  // Opens and probes the input and its best video stream. Errors name the
  // URL (spec().display: its password and secret query values as ***; so do
  // the errors of read() and the log lines): missing file, not a video, no
  // video stream, unsupported codec, too large. Only FFmpeg gets the real URL.
  static Result<std::unique_ptr<VideoSource>> open(const VideoSourceOptions& options,
                                                   const std::atomic<bool>* stop = nullptr);
  ~VideoSource();
  VideoSource(const VideoSource&) = delete;
  VideoSource& operator=(const VideoSource&) = delete;

  // The next decoded frame; std::nullopt at the end of a file; an error for a
  // broken input (timeout, no frame within frame_timeout_ms, read error,
  // corrupt data the decoder gives up on).
  Result<std::optional<DecodedFrame>> read();
  // Back to the start (files); false when the input cannot seek.
  bool rewind();

  // Files: the time of the last keyframe at or before t in the container's
  // index (MP4/MOV: its decode time), nullopt when the index has none.
  std::optional<double> index_keyframe_before(double t) const;
  // Files: the next read() decodes from the keyframe at or before t (the
  // decoder is flushed). An error names the source and t.
  Result<void> seek_keyframe_before(double t);
  // Drops every frame the decoder holds (damaged or not); decoding goes on
  // afresh with the next packet, which should be a keyframe. Offline
  // analysis resynchronises this way after damaged data; it may be called
  // from the packet filter (before the packet it sees is decoded).
  void flush_decoder();
  // Decode time of the last packet handed to the decoder (or dropped by the
  // filter), media seconds; -infinity before the first one and after a seek.
  double last_packet_time() const;
  // Called for every packet of the video stream before it is decoded.
  void set_packet_filter(PacketFilter filter);
  // Every packet of the video stream also goes to `ring` (a reference, before
  // the filter sees it); setting it starts a new source there.
  void set_packet_ring(std::shared_ptr<PacketRing> ring);
  std::int64_t packets_decoded() const;  // sent to the decoder
  std::int64_t packets_dropped() const;  // dropped by the filter

  // Frames arrive in real time with meaningful timestamps: RTSP, webcams, and
  // live HTTP streams (no duration, not HLS, a demuxer with timestamps). A
  // burst from such a source is a backlog (the capture drops it); HLS
  // segments, files served over HTTP and timestamp-less MJPEG are not.
  bool realtime() const;
  const SourceSpec& spec() const;
  double fps() const;         // nominal frame rate (0 when unknown)
  double duration_s() const;  // 0 when unknown (live)
  // The input can seek by bytes: a local file, or an HTTP server that
  // answers byte-range requests (Accept-Ranges / Content-Range).
  bool byte_seekable() const;
  // Display size: the decoded size turned by rotation() (frames from read()
  // are already turned).
  int width() const;
  int height() const;
  // Clockwise degrees (0, 90, 180, 270) the container's display matrix asks
  // for (phones, some cameras); read() applies it to every frame, so frames,
  // boxes and every output are in display orientation. Flips in the matrix
  // are not applied.
  int rotation() const;
  const std::string& codec() const;
  const std::string& hwaccel() const;  // "none", "cuda", "vaapi"
  std::int64_t corrupt_packets() const;

 private:
  struct Impl;
  explicit VideoSource(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
