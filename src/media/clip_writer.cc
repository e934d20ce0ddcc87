#include "media/clip_writer.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>
}

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

namespace vigil {
namespace {

std::string av_err(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

struct OutputCloser {
  void operator()(AVFormatContext* ctx) const {
    if (!ctx) return;
    if (ctx->pb) avio_closep(&ctx->pb);
    avformat_free_context(ctx);
  }
};
using OutputPtr = std::unique_ptr<AVFormatContext, OutputCloser>;

struct PacketFreer {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
using PacketPtr = std::unique_ptr<AVPacket, PacketFreer>;

auto clip_error(const std::string& path, const std::string& what) {
  return fail(ErrorCode::kRuntime, "clip " + path + ": " + what);
}

Result<OutputPtr> open_output(const ClipFeed& feed, const std::string& part, const std::string& path) {
  AVFormatContext* raw = nullptr;
  int err = avformat_alloc_output_context2(&raw, nullptr, "mp4", part.c_str());
  OutputPtr out(raw);
  if (err < 0 || !out) return clip_error(path, "no MP4 muxer: " + av_err(err));
  AVStream* st = avformat_new_stream(out.get(), nullptr);
  if (!st) return clip_error(path, "out of memory");
  err = avcodec_parameters_copy(st->codecpar, feed.codec_parameters());
  if (err < 0) return clip_error(path, "codec parameters: " + av_err(err));
  st->codecpar->codec_tag = 0;  // let the MP4 muxer choose (AVI/MKV tags differ)
  st->time_base = feed.time_base();
  err = avio_open(&out->pb, part.c_str(), AVIO_FLAG_WRITE);
  if (err < 0) return clip_error(path, "cannot write: " + av_err(err));
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "movflags", "+faststart", 0);
  err = avformat_write_header(out.get(), &opts);
  av_dict_free(&opts);
  if (err < 0) return clip_error(path, "the " + std::string(avcodec_get_name(feed.codec_parameters()->codec_id)) +
                                           " stream cannot go into MP4: " + av_err(err));
  return out;
}

}  // namespace

Result<ClipInfo> write_mp4_clip(ClipFeed& feed, const std::string& path, int idle_ms, const std::atomic<bool>* stop) {
  const std::string part = path + ".part";
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  auto out = open_output(feed, part, path);
  if (!out) return fail(out.error());
  AVStream* st = (*out)->streams[0];
  ClipInfo info;
  std::int64_t origin = AV_NOPTS_VALUE;  // dts of the first packet: the clip starts at 0
  while (!(stop && *stop)) {
    PacketPtr p(feed.next(idle_ms));
    if (!p) break;  // closed or idle
    const double t = feed.seconds_of(p.get());
    if (std::isfinite(t) && info.packets > 0 && t > feed.end_s()) {
      info.complete = true;
      break;
    }
    if (origin == AV_NOPTS_VALUE) origin = p->dts != AV_NOPTS_VALUE ? p->dts : p->pts;
    if (p->pts != AV_NOPTS_VALUE) p->pts -= origin;
    if (p->dts != AV_NOPTS_VALUE) p->dts -= origin;
    if (p->pts == AV_NOPTS_VALUE) p->pts = p->dts;
    if (p->dts == AV_NOPTS_VALUE) p->dts = p->pts;
    av_packet_rescale_ts(p.get(), feed.time_base(), st->time_base);
    p->stream_index = 0;
    p->pos = -1;
    if (std::isfinite(t)) {
      if (info.packets == 0) info.first_s = t;
      info.last_s = t;
    }
    const int err = av_interleaved_write_frame(out->get(), p.get());
    if (err < 0) return clip_error(path, "writing a packet failed: " + av_err(err));
    ++info.packets;
  }
  if (info.packets == 0) {
    out->reset();
    std::filesystem::remove(part, ec);
    return clip_error(path, "no packets");
  }
  int err = av_write_trailer(out->get());
  out->reset();  // closes the file
  if (err < 0) return clip_error(path, "finishing the file failed: " + av_err(err));
  std::filesystem::rename(part, path, ec);
  if (ec) return clip_error(path, "rename failed: " + ec.message());
  return info;
}

}  // namespace vigil
