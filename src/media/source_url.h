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
  std::string display;             // the URL for logs, errors and the API: redact_url(url)
  bool is_live() const { return kind != SourceKind::kFile; }
};

// Accepted: a local file path (absolute or relative, no scheme), rtsp:// and
// rtsps://, http:// and https:// (progressive files, HLS, MJPEG), webcam:N
// (/dev/videoN). Everything else (concat:, subfile:, file:, pipe:, data:,
// ftp://, ...) is rejected with a message naming the URL.
Result<SourceSpec> parse_source_url(const std::string& url);

// The URL with its secrets replaced by "***", for anything shown or stored
// (logs, errors, events, the API): the password of the userinfo
// ("rtsp://admin:***@host/..."; a user without a password keeps the user) and
// the values of query parameters that commonly carry one (password, passwd,
// pass, pwd, token, key, api_key, apikey, secret, auth, sig, signature).
// A string that is no URL comes back unchanged.
std::string redact_url(const std::string& url);
// redact_url() applied to every URL (scheme://...) found in free text such as
// an error message; the rest of the text is kept.
std::string redact_urls_in(const std::string& text);

}  // namespace vigil
