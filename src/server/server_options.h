// Options of the HTTP API server (`vigil run --listen ... --token ... --media-dir ...`).
#pragma once

#include <string>

namespace vigil {

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
  int threads = 2;               // I/O threads, 1..64
  int request_timeout_s = 30;    // reading a request / writing a response, >= 1
  int keep_alive_timeout_s = 60; // an idle kept-alive connection is closed after this, >= 1
};

}  // namespace vigil
