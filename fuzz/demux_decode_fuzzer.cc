// libFuzzer harness: demux + decode a memory buffer through FFmpeg the way
// VideoSource does for a file (probe, best video stream, its decoder, frames
// to VideoFrame and FrameConverter), but reading the fuzz input through a
// custom AVIOContext (VideoSource opens URLs only).
// Input: byte 0 sets the decoder's frame skipping (as `skip_frame`) and
// strict error checks (as `vigil analyze`); the rest is the media.
// Bounds per input, so one input can neither exhaust memory nor stall the
// run: frames of at most kMaxPixels, kMaxPackets packets, kMaxFrames frames,
// kDeadlineMs of wall time (FFmpeg's interrupt callback), one thread.
// FFmpeg may open no other file or URL: io_open refuses everything (HLS,
// concat, image2 patterns and MOV references would otherwise open them).
// FFmpeg itself (Debian's build) is not instrumented: findings are in what
// Vigil's code does with what FFmpeg returns, or FFmpeg crashes on input.
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>
#include <libavutil/time.h>
}

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>

#include "media/h264_nal.h"
#include "media/video_frame.h"

namespace {

constexpr std::int64_t kMaxPixels = 1920LL * 1088;
constexpr int kMaxPackets = 300;
constexpr int kMaxFrames = 24;
constexpr std::int64_t kDeadlineMs = 1500;
constexpr int kIoBufferSize = 4096;

struct Input {
  const std::uint8_t* data = nullptr;
  std::int64_t size = 0;
  std::int64_t pos = 0;
  std::int64_t deadline_us = 0;
};

int read_input(void* opaque, std::uint8_t* buf, int n) {
  auto* in = static_cast<Input*>(opaque);
  // Custom I/O is not covered by the interrupt callback: check the deadline here.
  if (av_gettime_relative() > in->deadline_us) return AVERROR_EXIT;
  const std::int64_t left = in->size - in->pos;
  if (left <= 0) return AVERROR_EOF;
  const int k = static_cast<int>(std::min<std::int64_t>(left, n));
  std::memcpy(buf, in->data + in->pos, static_cast<std::size_t>(k));
  in->pos += k;
  return k;
}

std::int64_t seek_input(void* opaque, std::int64_t offset, int whence) {
  auto* in = static_cast<Input*>(opaque);
  whence &= ~AVSEEK_FORCE;
  if (whence == AVSEEK_SIZE) return in->size;
  std::int64_t to = 0;
  if (whence == SEEK_SET) {
    to = offset;
  } else if (whence == SEEK_CUR) {
    to = in->pos + offset;
  } else if (whence == SEEK_END) {
    to = in->size + offset;
  } else {
    return AVERROR(EINVAL);
  }
  if (to < 0 || to > in->size) return AVERROR(EINVAL);
  in->pos = to;
  return to;
}

int past_deadline(void* opaque) { return av_gettime_relative() > static_cast<Input*>(opaque)->deadline_us ? 1 : 0; }

int refuse_open(AVFormatContext*, AVIOContext**, const char*, int, AVDictionary**) { return AVERROR(EPERM); }

struct Demuxer {
  AVIOContext* io = nullptr;
  AVFormatContext* fmt = nullptr;
  AVCodecContext* codec = nullptr;
  AVPacket* packet = av_packet_alloc();
  AVFrame* frame = av_frame_alloc();
  ~Demuxer() {
    av_frame_free(&frame);
    av_packet_free(&packet);
    avcodec_free_context(&codec);
    avformat_close_input(&fmt);  // custom I/O: the AVIOContext stays ours
    if (io) av_freep(&io->buffer);
    avio_context_free(&io);
  }
};

// The decoded picture through Vigil's frame code: luma access and a scaled
// colour conversion, as the pipeline's gate and detector use them.
void use_frame(const AVFrame* decoded, vigil::FrameConverter& converter) {
  vigil::VideoFrame frame(const_cast<AVFrame*>(decoded));
  if (const std::uint8_t* y = frame.luma()) {
    unsigned sum = 0;
    const int h = frame.height(), w = frame.width(), stride = frame.luma_stride();
    for (int r = 0; r < h; r += std::max(1, h / 8))
      for (int c = 0; c < w; c += std::max(1, w / 8)) sum += y[static_cast<std::ptrdiff_t>(r) * stride + c];
    (void)sum;
  }
  (void)converter.to_image(frame, vigil::PixelFormat::kBgr24, 64, 48);
}

void decode(const std::uint8_t* media, std::size_t size, std::uint8_t options) {
  Input in{media, static_cast<std::int64_t>(size), 0, av_gettime_relative() + kDeadlineMs * 1000};
  Demuxer d;
  auto* buffer = static_cast<unsigned char*>(av_malloc(kIoBufferSize));
  if (!buffer || !d.packet || !d.frame) return;
  d.io = avio_alloc_context(buffer, kIoBufferSize, 0, &in, &read_input, nullptr, &seek_input);
  if (!d.io) {
    av_free(buffer);
    return;
  }
  d.fmt = avformat_alloc_context();
  if (!d.fmt) return;
  d.fmt->pb = d.io;
  d.fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
  d.fmt->io_open = &refuse_open;
  d.fmt->interrupt_callback = {&past_deadline, &in};
  d.fmt->probesize = 256 * 1024;
  d.fmt->max_analyze_duration = 2 * AV_TIME_BASE;
  d.fmt->max_streams = 16;
  if (avformat_open_input(&d.fmt, nullptr, nullptr, nullptr) < 0) return;  // frees fmt on failure
  if (avformat_find_stream_info(d.fmt, nullptr) < 0) return;
  const AVCodec* dec = nullptr;
  const int index = av_find_best_stream(d.fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &dec, 0);
  if (index < 0 || !dec) return;
  for (unsigned i = 0; i < d.fmt->nb_streams; ++i)
    if (static_cast<int>(i) != index) d.fmt->streams[i]->discard = AVDISCARD_ALL;
  const AVStream* st = d.fmt->streams[index];
  const AVCodecParameters* par = st->codecpar;
  if (par->width <= 0 || par->height <= 0 || static_cast<std::int64_t>(par->width) * par->height > kMaxPixels)
    return;
  int length_size = -1;
  if (par->codec_id == AV_CODEC_ID_H264)
    length_size = vigil::h264_length_size(par->extradata, par->extradata_size > 0 ? static_cast<std::size_t>(par->extradata_size) : 0);

  d.codec = avcodec_alloc_context3(dec);
  if (!d.codec || avcodec_parameters_to_context(d.codec, par) < 0) return;
  d.codec->thread_count = 1;
  d.codec->pkt_timebase = st->time_base;
  d.codec->max_pixels = kMaxPixels;
  static constexpr AVDiscard kSkip[] = {AVDISCARD_DEFAULT, AVDISCARD_NONREF, AVDISCARD_NONKEY, AVDISCARD_DEFAULT};
  d.codec->skip_frame = kSkip[options & 3];
  if (options & 4) d.codec->err_recognition |= AV_EF_EXPLODE | AV_EF_CRCCHECK | AV_EF_BITSTREAM;
  if (avcodec_open2(d.codec, dec, nullptr) < 0) return;

  vigil::FrameConverter converter;
  int frames = 0;
  auto receive = [&] {
    while (frames < kMaxFrames && avcodec_receive_frame(d.codec, d.frame) == 0) {
      ++frames;
      if (static_cast<std::int64_t>(d.frame->width) * d.frame->height <= kMaxPixels) use_frame(d.frame, converter);
      av_frame_unref(d.frame);
    }
  };
  for (int packets = 0; packets < kMaxPackets && frames < kMaxFrames && !past_deadline(&in); ++packets) {
    if (av_read_frame(d.fmt, d.packet) < 0) break;
    if (d.packet->stream_index == index) {
      if (length_size >= 0 && d.packet->data)
        (void)vigil::h264_is_nonref(d.packet->data, static_cast<std::size_t>(d.packet->size), length_size);
      avcodec_send_packet(d.codec, d.packet);
      receive();
    }
    av_packet_unref(d.packet);
  }
  avcodec_send_packet(d.codec, nullptr);  // drain
  receive();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  av_log_set_level(AV_LOG_QUIET);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  decode(data + 1, size - 1, data[0]);
  return 0;
}
