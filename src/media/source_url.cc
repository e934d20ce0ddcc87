#include "media/source_url.h"

#include <algorithm>
#include <cctype>

namespace vigil {
namespace {

bool starts_with_ci(const std::string& s, const std::string& prefix) {
  if (s.size() < prefix.size()) return false;
  return std::equal(prefix.begin(), prefix.end(), s.begin(),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

}  // namespace

Result<SourceSpec> parse_source_url(const std::string& url) {
  SourceSpec spec;
  if (url.empty()) return fail(ErrorCode::kInvalidArgument, "source URL is empty");
  if (url.find('\n') != std::string::npos || url.find('\0') != std::string::npos)
    return fail(ErrorCode::kInvalidArgument, "source '" + url + "': contains control characters");
  if (starts_with_ci(url, "rtsp://") || starts_with_ci(url, "rtsps://")) {
    spec.kind = SourceKind::kRtsp;
    spec.ffmpeg_url = url;
    spec.protocol_whitelist = "rtsp,rtsps,rtp,srtp,udp,tcp,tls";
    return spec;
  }
  if (starts_with_ci(url, "http://") || starts_with_ci(url, "https://")) {
    spec.kind = SourceKind::kHttp;
    spec.ffmpeg_url = url;
    spec.protocol_whitelist = "http,https,tcp,tls,crypto,hls";
    return spec;
  }
  if (starts_with_ci(url, "webcam:")) {
    const std::string n = url.substr(7);
    if (n.empty() || n.size() > 3 || !std::all_of(n.begin(), n.end(), [](unsigned char c) { return std::isdigit(c); }))
      return fail(ErrorCode::kInvalidArgument, "source '" + url + "': webcam needs a device number, e.g. webcam:0");
    spec.kind = SourceKind::kWebcam;
    spec.ffmpeg_url = "/dev/video" + n;
    spec.input_format = "video4linux2";
    spec.protocol_whitelist = "file";
    return spec;
  }
  // Anything that looks like "scheme:" is refused (concat:, subfile:, pipe:, file:, data:, ...).
  const auto colon = url.find(':');
  if (colon != std::string::npos && colon > 0 && url.find('/') > colon) {
    const std::string scheme = url.substr(0, colon);
    if (std::all_of(scheme.begin(), scheme.end(),
                    [](unsigned char c) { return std::isalnum(c) || c == '+' || c == '-' || c == '.'; }))
      return fail(ErrorCode::kInvalidArgument, "source '" + url + "': scheme '" + scheme +
                                                   ":' is not allowed (use a file path, rtsp://, http(s)://, or webcam:N)");
  }
  spec.kind = SourceKind::kFile;
  spec.ffmpeg_url = url;
  spec.protocol_whitelist = "file";
  return spec;
}

}  // namespace vigil
