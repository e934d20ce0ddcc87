// HttpServer: the HTTP/1.1 API (docs/api.md, "HTTP API") on Boost.Beast.
//
// Owns an asio io_context run by options.threads threads, one listener on
// options.listen, and a once-a-second timer that samples the /api/stats
// history. Connections are plain HTTP/1.1 with keep-alive; reading a request
// and writing its response each have request_timeout_s; an idle kept-alive
// connection is closed after keep_alive_timeout_s. A request body over 1 MiB
// gets 413 and the connection is closed, except POST /api/uploads: checked
// on its header (ApiRouter::begin_upload), its body is written to disk piece
// by piece (the timeout per piece), at most server.upload_max_mb. Routes live
// in ApiRouter. Live
// media (MJPEG, snapshot, WebSocket upgrades; live_session.h) take the
// connection over from the HTTP session; their feeds come from a
// VideoRegistry (one StreamVideo per stream, kept in step with the engine
// after every stream change and once a second).
//
// Security: start() refuses a non-loopback address without a token; see
// ApiRouter for the token, Origin and source checks.
//
// Threads: start() and stop() from the owning thread; the engine must outlive
// the server. Route handlers run on the I/O threads and may block briefly
// (stream removal joins the stream's threads).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/error.h"
#include "server/server_options.h"

namespace vigil {

class Engine;

class HttpServer {
 public:
  static constexpr std::size_t kBodyLimit = 1024 * 1024;

  // Binds and starts serving. Errors (kInvalidArgument) name the option:
  // a malformed listen address, non-loopback without a token, a port in use.
  static Result<std::unique_ptr<HttpServer>> start(ServerOptions options, Engine& engine);
  ~HttpServer();  // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Closes the listener and every connection, joins the I/O threads. Idempotent.
  void stop();
  std::uint16_t port() const;  // the bound port (the ephemeral one for port 0)
  std::string host() const;    // the bound address, e.g. "127.0.0.1"

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
