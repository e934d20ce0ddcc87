// Source URLs: which inputs a stream may open, and how FFmpeg opens them.
// Pure: parses and validates, opens nothing.
#pragma once

#include <string>

#include "core/error.h"

namespace vigil {

enum class SourceKind { kFile, kRtsp, kHttp, kWebcam };

struct SourceSpec {
  SourceKind kind = SourceKind::kFile;
  std::string ffmpeg_url;          // what avformat_open_input gets
  std::string input_format;        // forced demuxer ("video4linux2"), empty = probe
  std::string protocol_whitelist;  // FFmpeg protocols this source may use
  bool is_live() const { return kind != SourceKind::kFile; }
};

// Accepted: a local file path (absolute or relative, no scheme), rtsp:// and
// rtsps://, http:// and https:// (progressive files, HLS, MJPEG), webcam:N
// (/dev/videoN). Everything else (concat:, subfile:, file:, pipe:, data:,
// ftp://, ...) is rejected with a message naming the URL.
Result<SourceSpec> parse_source_url(const std::string& url);

}  // namespace vigil
