#include "media/video_source.h"

#include "media/frame_rotation.h"
#include "media/h264_nal.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdarg>
#include <filesystem>
#include <limits>

#include <spdlog/spdlog.h>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavdevice/avdevice.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/hwcontext.h>
#include <libavutil/opt.h>
}

namespace vigil {
namespace {

std::string av_error(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct FormatCloser {
  void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
struct CodecFreer {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct PacketFreer {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FrameFreer {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct BufferUnref {
  void operator()(AVBufferRef* b) const { av_buffer_unref(&b); }
};

// FFmpeg's own messages go to our log at debug level: every failure that
// matters is reported by VideoSource with the source's name instead.
void ffmpeg_log(void* avcl, int level, const char* fmt, va_list args) {
  if (level > AV_LOG_WARNING || !spdlog::should_log(spdlog::level::debug)) return;
  char line[1024];
  int prefix = 1;
  av_log_format_line2(avcl, level, fmt, args, line, sizeof line, &prefix);
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  spdlog::debug("ffmpeg: {}", redact_urls_in(text));  // FFmpeg may echo the URL, password included
}

void register_devices_once() {
  static const bool done = [] {
    avdevice_register_all();
    av_log_set_callback(&ffmpeg_log);
    return true;
  }();
  (void)done;
}

// The clockwise quarter turn the stream's display matrix asks for.
Rotation display_rotation_of(const AVStream* st) {
  const std::uint8_t* matrix = nullptr;
#if LIBAVCODEC_VERSION_INT >= AV_VERSION_INT(60, 29, 100)
  const AVPacketSideData* sd = av_packet_side_data_get(st->codecpar->coded_side_data,
                                                       st->codecpar->nb_coded_side_data, AV_PKT_DATA_DISPLAYMATRIX);
  if (sd && sd->size >= 9 * sizeof(std::int32_t)) matrix = sd->data;
#else
  std::size_t size = 0;
  matrix = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
  if (size < 9 * sizeof(std::int32_t)) matrix = nullptr;
#endif
  if (!matrix) return Rotation::k0;
  return display_rotation_from_ccw_degrees(av_display_rotation_get(reinterpret_cast<const std::int32_t*>(matrix)));
}

}  // namespace

std::map<std::string, std::string> ffmpeg_versions() {
  auto v = [](unsigned x) {
    return std::to_string(x >> 16) + "." + std::to_string((x >> 8) & 0xFF) + "." + std::to_string(x & 0xFF);
  };
  return {{"libavformat", v(avformat_version())}, {"libavcodec", v(avcodec_version())}};
}

struct VideoSource::Impl {
  VideoSourceOptions options;
  SourceSpec spec;
  const std::atomic<bool>* stop = nullptr;
  std::atomic<std::int64_t> deadline_ms{0};  // read by the interrupt callback; 0 = none
  std::int64_t frame_deadline_ms = 0;         // the frame watchdog's; 0 = off
  // Set by the interrupt callback when a deadline ended a call. FFmpeg may
  // still hand out a packet after that (the parser flushes what it held), so
  // read() checks this flag, not only the error code.
  std::atomic<bool> interrupted{false};
  std::unique_ptr<AVFormatContext, FormatCloser> fmt;
  std::unique_ptr<AVCodecContext, CodecFreer> codec;
  std::unique_ptr<AVBufferRef, BufferUnref> hw_device;
  std::unique_ptr<AVPacket, PacketFreer> packet{av_packet_alloc()};
  std::unique_ptr<AVFrame, FrameFreer> frame{av_frame_alloc()};
  std::unique_ptr<AVFrame, FrameFreer> sw_frame{av_frame_alloc()};
  int stream_index = -1;
  Rotation rotation = Rotation::k0;  // applied to every frame read() returns
  AVRational time_base{1, 1};
  std::int64_t start_pts = AV_NOPTS_VALUE;
  double fps = 0;
  double duration = 0;
  std::string codec_name;
  std::string hwaccel_name = "none";
  bool draining = false;
  std::int64_t frames_out = 0;
  std::int64_t corrupt = 0;
  int consecutive_errors = 0;
  PacketFilter filter;
  std::shared_ptr<PacketRing> ring;
  int h264_length_size = -1;  // -1: not H.264
  double last_packet = -std::numeric_limits<double>::infinity();
  std::int64_t packets_decoded = 0;
  std::int64_t packets_dropped = 0;

  double ts_seconds(std::int64_t ts) const {
    if (ts == AV_NOPTS_VALUE) return std::numeric_limits<double>::quiet_NaN();
    if (start_pts != AV_NOPTS_VALUE) ts -= start_pts;
    return static_cast<double>(ts) * av_q2d(time_base);
  }
  std::int64_t seconds_ts(double t) const {
    auto ts = static_cast<std::int64_t>(std::floor(t / av_q2d(time_base)));
    if (start_pts != AV_NOPTS_VALUE) ts += start_pts;
    return ts;
  }
  std::string at(double t) const {
    char buf[48];
    std::snprintf(buf, sizeof buf, " at %.3f s", t);
    return std::isfinite(t) ? buf : "";
  }

  // Closing sends RTSP's TEARDOWN: bounded like any other call.
  ~Impl() {
    deadline_ms = now_ms() + 1000;
    codec.reset();
    fmt.reset();
  }

  // The deadline of the next blocking call: the I/O timeout, or the frame
  // watchdog's deadline when that comes first.
  void arm() {
    std::int64_t d = now_ms() + options.timeout_ms;
    if (frame_deadline_ms > 0) d = std::min(d, frame_deadline_ms);
    deadline_ms = d;
  }
  bool watchdog_expired() const { return frame_deadline_ms > 0 && now_ms() > frame_deadline_ms; }
  void frame_out() {
    if (options.frame_timeout_ms > 0) frame_deadline_ms = now_ms() + options.frame_timeout_ms;
  }
  Error watchdog_error() const {
    char buf[64];
    std::snprintf(buf, sizeof buf, ": no frame for %.1f s (watchdog)", options.frame_timeout_ms / 1000.0);
    return Error{ErrorCode::kRuntime, "source " + spec.display + buf};
  }

  static int interrupt_cb(void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    if (self->stop && self->stop->load(std::memory_order_relaxed)) return 1;
    const std::int64_t d = self->deadline_ms.load(std::memory_order_relaxed);
    if (d <= 0 || now_ms() <= d) return 0;
    self->interrupted = true;
    return 1;
  }

  Result<void> open_input() {
    const std::string& url = spec.display;  // messages name the source without its secrets
    if (spec.kind == SourceKind::kFile) {
      std::error_code ec;
      if (!std::filesystem::exists(spec.ffmpeg_url, ec)) return fail(ErrorCode::kNotFound, "source " + url + ": no such file");
      if (std::filesystem::is_directory(spec.ffmpeg_url, ec))
        return fail(ErrorCode::kBadInput, "source " + url + ": is a directory");
      if (std::filesystem::file_size(spec.ffmpeg_url, ec) == 0)
        return fail(ErrorCode::kBadInput, "source " + url + ": the file is empty");
    }
    AVFormatContext* raw = avformat_alloc_context();
    raw->interrupt_callback.callback = &Impl::interrupt_cb;
    raw->interrupt_callback.opaque = this;
    AVDictionary* opts = nullptr;
    av_dict_set(&opts, "protocol_whitelist", spec.protocol_whitelist.c_str(), 0);
    const std::string timeout_us = std::to_string(static_cast<std::int64_t>(options.timeout_ms) * 1000);
    if (spec.kind == SourceKind::kRtsp) {
      av_dict_set(&opts, "rtsp_transport", "tcp", 0);
      av_dict_set(&opts, "timeout", timeout_us.c_str(), 0);
    } else if (spec.kind == SourceKind::kHttp) {
      av_dict_set(&opts, "rw_timeout", timeout_us.c_str(), 0);
      av_dict_set(&opts, "reconnect", "0", 0);
    }
    const AVInputFormat* forced = nullptr;
    if (!spec.input_format.empty()) {
      forced = av_find_input_format(spec.input_format.c_str());
      if (!forced) {
        av_dict_free(&opts);
        avformat_free_context(raw);
        return fail(ErrorCode::kUnsupported, "source " + url + ": this FFmpeg has no " + spec.input_format + " input");
      }
    }
    arm();
    int err = avformat_open_input(&raw, spec.ffmpeg_url.c_str(), forced, &opts);
    av_dict_free(&opts);
    if (err < 0) {
      // avformat_open_input frees raw on failure.
      if (err == AVERROR_EXIT) return fail(ErrorCode::kRuntime, "source " + url + ": timed out opening the input");
      return fail(err == AVERROR(ENOENT) ? ErrorCode::kNotFound : ErrorCode::kBadInput,
                  "source " + url + ": cannot open: " + av_error(err));
    }
    fmt.reset(raw);
    arm();
    err = avformat_find_stream_info(fmt.get(), nullptr);
    if (err < 0) return fail(ErrorCode::kBadInput, "source " + url + ": cannot read stream info: " + av_error(err));
    const AVCodec* dec = nullptr;
    stream_index = av_find_best_stream(fmt.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &dec, 0);
    if (stream_index == AVERROR_STREAM_NOT_FOUND)
      return fail(ErrorCode::kBadInput, "source " + url + ": has no video stream (audio-only or not a video)");
    if (stream_index < 0 || !dec)
      return fail(ErrorCode::kUnsupported, "source " + url + ": no decoder for its video codec");
    for (unsigned i = 0; i < fmt->nb_streams; ++i)
      if (static_cast<int>(i) != stream_index) fmt->streams[i]->discard = AVDISCARD_ALL;
    AVStream* st = fmt->streams[stream_index];
    const AVCodecParameters* par = st->codecpar;
    if (par->width <= 0 || par->height <= 0)
      return fail(ErrorCode::kBadInput, "source " + url + ": video stream has no frame size");
    if (static_cast<std::int64_t>(par->width) * par->height > options.max_pixels)
      return fail(ErrorCode::kBadInput, "source " + url + ": frames of " + std::to_string(par->width) + "x" +
                                            std::to_string(par->height) + " exceed max_pixels " +
                                            std::to_string(options.max_pixels));
    rotation = display_rotation_of(st);
    time_base = st->time_base;
    start_pts = st->start_time;
    const AVRational r = av_guess_frame_rate(fmt.get(), st, nullptr);
    fps = r.num > 0 && r.den > 0 ? av_q2d(r) : 0;
    if (fps > 1000) fps = 0;
    duration = fmt->duration > 0 ? static_cast<double>(fmt->duration) / AV_TIME_BASE : 0;
    codec_name = dec->name;

    codec.reset(avcodec_alloc_context3(dec));
    if (!codec) return fail(ErrorCode::kRuntime, "source " + url + ": out of memory");
    avcodec_parameters_to_context(codec.get(), par);
    codec->thread_count = options.decode_threads;
    codec->pkt_timebase = st->time_base;
    switch (options.skip_frame) {
      case SkipFrame::kNone: break;
      case SkipFrame::kNonRef: codec->skip_frame = AVDISCARD_NONREF; break;
      case SkipFrame::kNonKey: codec->skip_frame = AVDISCARD_NONKEY; break;
    }
    if (options.strict) codec->err_recognition |= AV_EF_EXPLODE | AV_EF_CRCCHECK | AV_EF_BITSTREAM;
    if (par->codec_id == AV_CODEC_ID_H264)
      h264_length_size = h264_length_size_of(par);
    setup_hwaccel(dec);
    err = avcodec_open2(codec.get(), dec, nullptr);
    if (err < 0) return fail(ErrorCode::kUnsupported, "source " + url + ": cannot open the " + codec_name + " decoder: " + av_error(err));
    deadline_ms = 0;
    frame_out();  // the watchdog counts from the open
    return {};
  }

  void setup_hwaccel(const AVCodec* dec) {
    std::vector<AVHWDeviceType> tries;
    switch (options.hwaccel) {
      case HwAccel::kNone: return;
      case HwAccel::kCuda: tries = {AV_HWDEVICE_TYPE_CUDA}; break;
      case HwAccel::kVaapi: tries = {AV_HWDEVICE_TYPE_VAAPI}; break;
      case HwAccel::kAuto: tries = {AV_HWDEVICE_TYPE_CUDA, AV_HWDEVICE_TYPE_VAAPI}; break;
    }
    std::string why;
    for (AVHWDeviceType type : tries) {
      bool supported = false;
      for (int i = 0;; ++i) {
        const AVCodecHWConfig* cfg = avcodec_get_hw_config(dec, i);
        if (!cfg) break;
        if (cfg->device_type == type && (cfg->methods & AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX)) supported = true;
      }
      const char* name = av_hwdevice_get_type_name(type);
      if (!supported) {
        why += std::string(name) + ": not supported by the " + dec->name + " decoder; ";
        continue;
      }
      AVBufferRef* dev = nullptr;
      const int err = av_hwdevice_ctx_create(&dev, type, nullptr, nullptr, 0);
      if (err < 0) {
        why += std::string(name) + ": " + av_error(err) + "; ";
        continue;
      }
      hw_device.reset(dev);
      codec->hw_device_ctx = av_buffer_ref(dev);
      hwaccel_name = name;
      spdlog::info("source {}: hardware decoding with {}", spec.display, name);
      return;
    }
    if (options.hwaccel == HwAccel::kAuto) {
      spdlog::info("source {}: software decoding (no hardware decoder: {})", spec.display,
                   why.empty() ? "none tried" : why.substr(0, why.size() - 2));
    } else {
      spdlog::warn("source {}: hardware decoding unavailable, software decoding ({})", spec.display, why);
    }
  }

  static int h264_length_size_of(const AVCodecParameters* par) {
    return vigil::h264_length_size(par->extradata, par->extradata_size > 0 ? static_cast<std::size_t>(par->extradata_size) : 0);
  }

  double pts_seconds(const AVFrame* f) {
    std::int64_t ts = f->best_effort_timestamp;
    if (ts == AV_NOPTS_VALUE) return fps > 0 ? static_cast<double>(frames_out) / fps : 0;
    if (start_pts != AV_NOPTS_VALUE) ts -= start_pts;
    return static_cast<double>(ts) * av_q2d(time_base);
  }

  // --- read() steps -------------------------------------------------------
  enum class DecoderState { kFrame, kNeedsInput, kEnded };
  enum class PacketRead { kPacket, kSkipped, kEnded };
  static constexpr int kMaxConsecutiveErrors = 1000;  // undecodable packets in a row before giving up

  // Takes the next decoded frame, if the decoder has one, into `out`.
  Result<DecoderState> receive_frame(std::optional<DecodedFrame>& out) {
    const int err = avcodec_receive_frame(codec.get(), frame.get());
    if (err == AVERROR_EOF) return DecoderState::kEnded;
    if (err == AVERROR(EAGAIN)) return DecoderState::kNeedsInput;
    if (err != 0)
      return fail(ErrorCode::kBadInput, "source " + spec.display + ": decoding failed" + at(last_packet) + ": " +
                                            av_error(err));
    consecutive_errors = 0;
    auto df = take_frame();
    av_frame_unref(frame.get());
    if (!df) return fail(df.error());
    ++frames_out;
    frame_out();
    out = std::move(*df);
    return DecoderState::kFrame;
  }

  // The received frame as a DecodedFrame: checked (strict), downloaded from
  // the GPU, turned upright. The caller unrefs `frame`.
  Result<DecodedFrame> take_frame() {
    if (options.strict && (frame->decode_error_flags != 0 || (frame->flags & AV_FRAME_FLAG_CORRUPT)))
      return fail(ErrorCode::kBadInput, "source " + spec.display + ": corrupt frame" + at(pts_seconds(frame.get())));
    AVFrame* out = frame.get();
    if (hw_device && out->format != codec->sw_pix_fmt) {
      av_frame_unref(sw_frame.get());
      if (av_hwframe_transfer_data(sw_frame.get(), out, 0) < 0)
        return fail(ErrorCode::kRuntime, "source " + spec.display + ": cannot download a hardware frame");
      av_frame_copy_props(sw_frame.get(), out);
      out = sw_frame.get();
    }
    DecodedFrame df;
    df.pts = pts_seconds(frame.get());
    if (rotation == Rotation::k0) {
      df.frame = std::make_shared<const VideoFrame>(out);
      return df;
    }
    auto turned = rotate_frame(out, rotation);
    if (!turned)
      return fail(ErrorCode::kUnsupported, "source " + spec.display + ": cannot apply its display rotation of " +
                                               std::to_string(static_cast<int>(rotation)) + " degrees: " +
                                               turned.error().message);
    df.frame = std::make_shared<const VideoFrame>(*turned);
    av_frame_free(&*turned);
    return df;
  }

  // Reads one packet and hands it to the decoder, or drops it (another
  // stream, the packet filter), or starts draining at the end of the input.
  Result<void> feed_decoder() {
    auto got = read_packet();
    if (!got) return fail(got.error());
    if (*got == PacketRead::kEnded) {
      draining = true;
      avcodec_send_packet(codec.get(), nullptr);
      return {};
    }
    if (*got == PacketRead::kSkipped) return {};
    const double dts = ts_seconds(packet->dts != AV_NOPTS_VALUE ? packet->dts : packet->pts);
    if (std::isfinite(dts)) last_packet = dts;
    if (ring) ring->push(packet.get());
    if (filter && !filter(packet_info(dts))) {
      ++packets_dropped;
      av_packet_unref(packet.get());
      return {};
    }
    return send_packet(dts);
  }

  // av_read_frame under the deadline, with its errors sorted: a silent input
  // (timeout, watchdog), the end, a damaged stretch of a file (skipped).
  Result<PacketRead> read_packet() {
    arm();
    interrupted = false;
    const int err = av_read_frame(fmt.get(), packet.get());
    deadline_ms = 0;
    // A deadline ended a wait inside FFmpeg (whatever it returned: RTSP turns
    // an interrupted read into EOF, and the parser may still flush a packet):
    // the input is silent, and its demuxer state is not to be trusted.
    if (interrupted.exchange(false) || err == AVERROR_EXIT) {
      av_packet_unref(packet.get());
      if (watchdog_expired()) return fail(watchdog_error());
      if (!stop || !stop->load())
        return fail(ErrorCode::kRuntime, "source " + spec.display + ": no data for " +
                                             std::to_string(options.timeout_ms) + " ms (timeout)");
      return fail(ErrorCode::kRuntime, "source " + spec.display + ": stopped");
    }
    if (watchdog_expired() && (err == AVERROR(ETIMEDOUT) || err == AVERROR(EAGAIN) || err == AVERROR(EIO)))
      return fail(watchdog_error());
    if (err == AVERROR_EOF) return PacketRead::kEnded;
    if (err < 0) return read_error(err);
    if (packet->stream_index != stream_index) {
      av_packet_unref(packet.get());
      return PacketRead::kSkipped;
    }
    return PacketRead::kPacket;
  }

  Result<PacketRead> read_error(int err) {
    if (options.strict)
      return fail(ErrorCode::kBadInput, "source " + spec.display + ": read failed" + at(last_packet) + ": " +
                                            av_error(err));
    if (spec.kind == SourceKind::kFile && frames_out > 0 && err == AVERROR_INVALIDDATA) {
      // A damaged stretch inside a file: skip it, the decoder resyncs at the next keyframe.
      ++corrupt;
      if (++consecutive_errors < kMaxConsecutiveErrors) return PacketRead::kSkipped;
    }
    if (spec.kind == SourceKind::kFile && err == AVERROR(EIO) && frames_out > 0) return PacketRead::kEnded;
    return fail(ErrorCode::kBadInput, "source " + spec.display + ": read failed: " + av_error(err));
  }

  PacketInfo packet_info(double dts) const {
    const AVPacket* pkt = packet.get();
    PacketInfo info;
    info.pts = ts_seconds(pkt->pts);
    info.dts = dts;
    info.key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
    info.nonref = !info.key && ((pkt->flags & AV_PKT_FLAG_DISPOSABLE) != 0 ||
                                (h264_length_size >= 0 && pkt->data &&
                                 h264_is_nonref(pkt->data, static_cast<std::size_t>(pkt->size), h264_length_size)));
    return info;
  }

  Result<void> send_packet(double dts) {
    ++packets_decoded;
    const int err = avcodec_send_packet(codec.get(), packet.get());
    av_packet_unref(packet.get());
    if (err >= 0 || err == AVERROR(EAGAIN)) return {};
    if (options.strict)
      return fail(ErrorCode::kBadInput, "source " + spec.display + ": corrupt packet" + at(dts) + ": " + av_error(err));
    ++corrupt;  // a corrupt packet: the decoder drops it and goes on
    if (++consecutive_errors >= kMaxConsecutiveErrors)
      return fail(ErrorCode::kBadInput, "source " + spec.display + ": too many undecodable packets: " + av_error(err));
    return {};
  }
};

VideoSource::VideoSource(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VideoSource::~VideoSource() = default;

Result<std::unique_ptr<VideoSource>> VideoSource::open(const VideoSourceOptions& options, const std::atomic<bool>* stop) {
  register_devices_once();
  auto spec = parse_source_url(options.url);
  if (!spec) return fail(spec.error());
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->spec = *spec;
  impl->stop = stop;
  if (auto r = impl->open_input(); !r) return fail(r.error());
  return std::unique_ptr<VideoSource>(new VideoSource(std::move(impl)));
}

// read() = receive a frame from the decoder; when it needs input, read a
// packet from the demuxer and feed it; repeat.
Result<std::optional<DecodedFrame>> VideoSource::read() {
  Impl& s = *impl_;
  for (;;) {
    std::optional<DecodedFrame> out;
    auto state = s.receive_frame(out);
    if (!state) return fail(state.error());
    if (*state == Impl::DecoderState::kFrame) return out;
    if (*state == Impl::DecoderState::kEnded || s.draining) return std::optional<DecodedFrame>();
    // Packets that yield no frame (other streams, parameter sets, a decoder
    // that only takes and never gives) do not hold the watchdog off either.
    if (s.watchdog_expired()) return fail(s.watchdog_error());
    if (auto fed = s.feed_decoder(); !fed) return fail(fed.error());
  }
}

bool VideoSource::rewind() {
  Impl& s = *impl_;
  s.arm();
  const int err = av_seek_frame(s.fmt.get(), s.stream_index, s.start_pts == AV_NOPTS_VALUE ? 0 : s.start_pts,
                                AVSEEK_FLAG_BACKWARD);
  s.deadline_ms = 0;
  if (err < 0) return false;
  avcodec_flush_buffers(s.codec.get());
  s.draining = false;
  return true;
}

std::optional<double> VideoSource::index_keyframe_before(double t) const {
  const Impl& s = *impl_;
  AVStream* st = s.fmt->streams[s.stream_index];
  const int idx = av_index_search_timestamp(st, s.seconds_ts(t), AVSEEK_FLAG_BACKWARD);
  if (idx < 0) return std::nullopt;
  const AVIndexEntry* e = avformat_index_get_entry(st, idx);
  if (!e || !(e->flags & AVINDEX_KEYFRAME)) return std::nullopt;
  return s.ts_seconds(e->timestamp);
}

Result<void> VideoSource::seek_keyframe_before(double t) {
  Impl& s = *impl_;
  s.arm();
  const int err = av_seek_frame(s.fmt.get(), s.stream_index, s.seconds_ts(t), AVSEEK_FLAG_BACKWARD);
  s.deadline_ms = 0;
  if (err < 0) return fail(ErrorCode::kBadInput, "source " + s.spec.display + ": cannot seek to" + s.at(t) + ": " + av_error(err));
  avcodec_flush_buffers(s.codec.get());
  s.draining = false;
  s.last_packet = -std::numeric_limits<double>::infinity();
  return {};
}

void VideoSource::flush_decoder() { avcodec_flush_buffers(impl_->codec.get()); }

double VideoSource::last_packet_time() const { return impl_->last_packet; }
void VideoSource::set_packet_filter(PacketFilter filter) { impl_->filter = std::move(filter); }
void VideoSource::set_packet_ring(std::shared_ptr<PacketRing> ring) {
  impl_->ring = std::move(ring);
  if (impl_->ring) {
    const AVStream* st = impl_->fmt->streams[impl_->stream_index];
    impl_->ring->begin_source(st->codecpar, st->time_base, st->start_time);
  }
}
std::int64_t VideoSource::packets_decoded() const { return impl_->packets_decoded; }
std::int64_t VideoSource::packets_dropped() const { return impl_->packets_dropped; }

bool VideoSource::realtime() const {
  const Impl& s = *impl_;
  if (s.fmt->iformat->flags & AVFMT_NOTIMESTAMPS) return false;  // e.g. mpjpeg: pts made up at a guessed rate
  switch (s.spec.kind) {
    case SourceKind::kRtsp:
    case SourceKind::kWebcam: return true;
    case SourceKind::kHttp: return s.duration <= 0 && std::string(s.fmt->iformat->name).find("hls") == std::string::npos;
    case SourceKind::kFile: return false;
  }
  return false;
}

const SourceSpec& VideoSource::spec() const { return impl_->spec; }
double VideoSource::fps() const { return impl_->fps; }
double VideoSource::duration_s() const { return impl_->duration; }
bool VideoSource::byte_seekable() const {
  const AVIOContext* pb = impl_->fmt->pb;
  return pb && (pb->seekable & AVIO_SEEKABLE_NORMAL);
}
int VideoSource::width() const { return rotated_size(impl_->codec->width, impl_->codec->height, impl_->rotation).first; }
int VideoSource::height() const {
  return rotated_size(impl_->codec->width, impl_->codec->height, impl_->rotation).second;
}
int VideoSource::rotation() const { return static_cast<int>(impl_->rotation); }
const std::string& VideoSource::codec() const { return impl_->codec_name; }
const std::string& VideoSource::hwaccel() const { return impl_->hwaccel_name; }
std::int64_t VideoSource::corrupt_packets() const { return impl_->corrupt; }

}  // namespace vigil
