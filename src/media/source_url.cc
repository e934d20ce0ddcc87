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

bool secret_query_key(std::string key) {
  for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const char* const kKeys[] = {"password", "passwd", "pass", "pwd",  "token", "key",
                                      "api_key",  "apikey", "secret", "auth", "sig",   "signature"};
  return std::any_of(std::begin(kKeys), std::end(kKeys), [&](const char* k) { return key == k; });
}

// "a=1&password=x" -> "a=1&password=***".
std::string redact_query(const std::string& query) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const std::size_t amp = query.find('&', pos);
    const std::string part = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    const std::size_t eq = part.find('=');
    if (eq != std::string::npos && eq + 1 < part.size() && secret_query_key(part.substr(0, eq))) {
      out += part.substr(0, eq + 1) + "***";
    } else {
      out += part;
    }
    if (amp == std::string::npos) break;
    out += '&';
    pos = amp + 1;
  }
  return out;
}

bool scheme_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.'; }

// Characters that end a URL inside free text.
bool url_end(char c) {
  return std::isspace(static_cast<unsigned char>(c)) || c == '\'' || c == '"' || c == '<' || c == '>' || c == '`';
}

}  // namespace

std::string redact_url(const std::string& url) {
  const std::size_t sep = url.find("://");
  if (sep == std::string::npos || sep == 0) return url;
  if (!std::all_of(url.begin(), url.begin() + static_cast<std::ptrdiff_t>(sep), scheme_char)) return url;
  const std::size_t auth_begin = sep + 3;
  const std::size_t auth_end = std::min(url.find_first_of("/?#", auth_begin), url.size());
  std::string out = url.substr(0, auth_begin);
  const std::string authority = url.substr(auth_begin, auth_end - auth_begin);
  // The last '@' ends the userinfo (a password may itself contain '@').
  const std::size_t at = authority.rfind('@');
  if (at != std::string::npos) {
    const std::string userinfo = authority.substr(0, at);
    const std::size_t colon = userinfo.find(':');
    out += colon == std::string::npos ? userinfo : userinfo.substr(0, colon) + ":***";
    out += authority.substr(at);
  } else {
    out += authority;
  }
  std::string rest = url.substr(auth_end);
  const std::size_t q = rest.find('?');
  if (q != std::string::npos) {
    const std::size_t hash = rest.find('#', q);
    const std::string query = rest.substr(q + 1, hash == std::string::npos ? std::string::npos : hash - q - 1);
    rest = rest.substr(0, q + 1) + redact_query(query) + (hash == std::string::npos ? "" : rest.substr(hash));
  }
  return out + rest;
}

std::string redact_urls_in(const std::string& text) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t sep = text.find("://", pos);
    if (sep == std::string::npos) break;
    std::size_t begin = sep;
    while (begin > pos && scheme_char(text[begin - 1])) --begin;
    if (begin == sep) {  // "://" without a scheme before it
      out += text.substr(pos, sep + 3 - pos);
      pos = sep + 3;
      continue;
    }
    std::size_t end = sep + 3;
    while (end < text.size() && !url_end(text[end])) ++end;
    out += text.substr(pos, begin - pos);
    out += redact_url(text.substr(begin, end - begin));
    pos = end;
  }
  out += text.substr(pos);
  return out;
}

namespace {

Result<SourceSpec> parse_spec(const std::string& url) {
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

}  // namespace

Result<SourceSpec> parse_source_url(const std::string& url) {
  auto spec = parse_spec(url);
  if (!spec) return fail(spec.error().code, redact_urls_in(spec.error().message));
  spec->display = redact_url(url);
  return spec;
}

}  // namespace vigil
