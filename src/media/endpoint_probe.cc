#include "media/endpoint_probe.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

namespace vigil {
namespace {

// host and port of scheme://[user@]host[:port]/...; [v6] hosts supported.
bool host_port(const std::string& url, std::string& host, std::string& port) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return false;
  const std::string scheme = url.substr(0, scheme_end);
  std::string rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest[0] == '[') {
    const auto close = rest.find(']');
    if (close == std::string::npos) return false;
    host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    port = !rest.empty() && rest[0] == ':' ? rest.substr(1) : "";
  } else {
    const auto colon = rest.rfind(':');
    host = rest.substr(0, colon);
    port = colon == std::string::npos ? "" : rest.substr(colon + 1);
  }
  if (port.empty()) {
    if (scheme == "rtsp") port = "554";
    else if (scheme == "rtsps") port = "322";
    else if (scheme == "https") port = "443";
    else port = "80";
  }
  return !host.empty();
}

bool tcp_connect(const std::string& host, const std::string& port, int timeout_ms) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || !res) return false;
  bool ok = false;
  for (addrinfo* ai = res; ai && !ok; ai = ai->ai_next) {
    const int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      ok = true;
    } else if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, timeout_ms) == 1) {
        int err = 0;
        socklen_t len = sizeof err;
        ok = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
      }
    }
    close(fd);
  }
  freeaddrinfo(res);
  return ok;
}

}  // namespace

bool endpoint_reachable(const SourceSpec& spec, int timeout_ms) {
  std::error_code ec;
  switch (spec.kind) {
    case SourceKind::kFile:
    case SourceKind::kWebcam:
      return std::filesystem::exists(spec.ffmpeg_url, ec);
    case SourceKind::kRtsp:
    case SourceKind::kHttp: {
      std::string host, port;
      return host_port(spec.ffmpeg_url, host, port) && tcp_connect(host, port, timeout_ms);
    }
  }
  return false;
}

}  // namespace vigil
