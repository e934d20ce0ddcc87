// Options of the HTTP API server (`vigil run --listen ... --token ... --media-dir ...`).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vigil {

class ClusterNode;
class JobManager;

struct ServerOptions {
  // host:port to listen on; port 0 = an ephemeral port (HttpServer::port()).
  // A non-loopback host needs a token.
  std::string listen = "127.0.0.1:8080";
  // Non-empty: every route requires `Authorization: Bearer TOKEN` or the
  // vigil_token cookie set by POST /login.
  std::string token;
  // Directory whose files streams added through the API may open; empty =
  // no file paths through the API at all (network sources only).
  std::string media_dir;
  // Root of the dashboard's static files (GET /, GET /static/<path>); empty =
  // the first existing of <dir of the executable>/../web and <source dir>/web.
  std::string web_dir;
  // Offline jobs (/api/jobs, /ws/jobs/{id}); null = the routes answer 503.
  // Not owned; must outlive the server.
  JobManager* jobs = nullptr;
  // This process as a cluster node (`vigil run --node`): GET /api/cluster,
  // and stream changes go to the cluster's streams (Redis) instead of this
  // engine; null = not a cluster node (/api/cluster answers 404).
  // Not owned; must outlive the server.
  ClusterNode* cluster = nullptr;
  // Host header names accepted besides IP literals, "localhost" (and
  // *.localhost) and the listen host: a request naming any other host gets
  // 421, so a web page whose name was rebound to 127.0.0.1 (DNS rebinding)
  // cannot drive the API. "*" accepts any name. Matched case-insensitively,
  // without the port.
  std::vector<std::string> allowed_hosts;
  // Open connections (HTTP and live media) at once, and per remote address;
  // a connection beyond either cap is answered 503 and closed.
  int max_connections = 512;
  int max_connections_per_address = 64;
  // Failed POST /login attempts from one address before each further attempt
  // waits (429 with Retry-After): 1 s, doubling, at most kLoginMaxDelay_s.
  int login_free_attempts = 5;
  // POST /api/uploads: the most bytes one uploaded file may have (413 beyond).
  std::uint64_t upload_max_bytes = 4096ULL * 1024 * 1024;
  int threads = 2;               // I/O threads, 1..64
  int request_timeout_s = 30;    // reading a request / writing a response, >= 1
  int keep_alive_timeout_s = 60; // an idle kept-alive connection is closed after this, >= 1
};

}  // namespace vigil
