// ApiRouter: the routes of the HTTP API (docs/api.md, "HTTP API"), free of
// any socket code: one parsed request in, one complete response out.
// HttpServer does the networking and calls handle() for each request, and
// sample() once a second for the /api/stats history.
//
// Static files (GET / and /static/<path>, from ServerOptions::web_dir) need
// no token: they are the dashboard's code, no data. With a token, a browser
// (Accept: text/html) asking for `/` without valid credentials is sent to
// /login (303) instead. /login (GET: a form; POST: token -> cookie
// vigil_token) needs no token; without a configured token it is 404.
// Checks, in order: Host (a name that is not an IP literal, localhost, the
// listen host or in allowed_hosts: 421), token (Authorization: Bearer, any
// case of the scheme, or the vigil_token cookie; 401), cross-origin non-GET
// (403), route (404), method (405 with Allow), body (400: not JSON, nested
// deeper than kMaxJsonDepth, a number out of range), then the engine's
// answer. No exception escapes handle() or media(): one that would is a 500.
// Failed logins are counted per address; after login_free_attempts each
// further attempt must wait (429, Retry-After), and is logged without the
// guessed value.
// Every error is {"error": "..."} with Content-Type application/json.
//
// Threads: handle() and sample() may be called from any thread, at the same
// time. Stream changes (POST, PATCH, DELETE) are serialised among themselves
// so PATCH's remove + add cannot interleave with another change.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "render/mjpeg_hub.h"
#include "server/server_options.h"

namespace vigil {

class Engine;
struct EngineStats;

struct ApiRequest {
  std::string method;         // "GET", "POST", ...
  std::string target;         // "/api/events?stream=cam1&limit=5"
  std::string body;
  std::string host;           // Host header ("" if none)
  std::string origin;         // Origin header ("" if none)
  std::string authorization;  // Authorization header ("" if none)
  std::string cookie;         // Cookie header(s), joined with "; " ("" if none)
  std::string accept;         // Accept header ("" if none)
  std::string content_type;   // Content-Type header ("" if none)
  std::string remote;         // the client's IP address ("" if unknown)
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string allow;  // Allow header of a 405
  std::vector<std::pair<std::string, std::string>> headers;  // more headers (Location, Set-Cookie, ...)
};

ApiResponse json_error(int status, const std::string& message);

// A request for live media (MJPEG, snapshot, WebSocket): HttpServer serves
// these itself, on the connection's socket, after ApiRouter::media() has
// checked access and parsed the parameters.
struct MediaRequest {
  enum class Kind { kNone, kMjpeg, kSnapshot, kStreamSocket, kEventSocket, kJobSocket };
  Kind kind = Kind::kNone;  // kNone: an ordinary route, call handle()
  std::string stream;       // stream id (kMjpeg, kSnapshot, kStreamSocket)
  std::int64_t job = 0;     // job id (kJobSocket)
  MjpegVariant variant;     // JPEG variant (kMjpeg, kSnapshot, kStreamSocket with video)
  bool video = true;        // kStreamSocket: send JPEG frames as binary messages
  bool has_error = false;   // answer `error` instead of serving the media
  ApiResponse error;
};

class VideoRegistry;

class ApiRouter {
 public:
  static constexpr std::size_t kHistorySamples = 120;  // one a second: two minutes

  // engine must outlive the router.
  ApiRouter(Engine& engine, ServerOptions options);

  ApiResponse handle(const ApiRequest& request);
  // Classifies a media route (GET /api/streams/{id}/mjpeg, .../snapshot.jpg,
  // WS /ws/streams/{id}, WS /ws/events) and checks it: token (the
  // Authorization header, the vigil_token cookie, or `token=` in the query
  // since browsers cannot set headers on <img> and WebSocket), Origin (a
  // WebSocket upgrade from another origin is refused: 403), method, stream
  // (404), parameters (400).
  MediaRequest media(const ApiRequest& request, bool websocket_upgrade);
  // Per-stream encoder figures in /api/stats (streams[].video); null = none.
  void set_video(VideoRegistry* video) { video_ = video; }
  // Appends one sample of the stats history (fps sum, inference avg ms, CPU %, RSS MiB).
  void sample();

 private:
  ApiResponse handle_checked(const ApiRequest& request);
  MediaRequest media_checked(const ApiRequest& request, bool websocket_upgrade);
  ApiResponse route(const ApiRequest& request, const std::string& path, const std::string& query);
  ApiResponse get_stats();
  ApiResponse get_streams();
  ApiResponse get_stream(const std::string& id);
  ApiResponse post_stream(const std::string& body);
  ApiResponse patch_stream(const std::string& id, const std::string& body);
  ApiResponse delete_stream(const std::string& id);
  ApiResponse get_events(const std::string& query);
  ApiResponse jobs_route(const ApiRequest& request, const std::string& path);
  ApiResponse get_static(const std::string& method, const std::string& relative);
  ApiResponse login(const ApiRequest& request);
  // The Host check (DNS rebinding); true when the request may go on.
  bool host_allowed(const std::string& host) const;
  // Login throttling: seconds the address must still wait (0 = may try now),
  // and the outcome of an attempt.
  double login_wait_s(const std::string& remote);
  void login_failed(const std::string& remote);
  void login_succeeded(const std::string& remote);
  nlohmann::json stream_json(const std::string& id, const EngineStats& stats);

  Engine& engine_;
  const ServerOptions options_;
  const std::string web_dir_;  // canonical web root; "" = none found
  VideoRegistry* video_ = nullptr;
  std::mutex change_mu_;  // serialises stream changes

  struct Sample {
    double fps = 0, inference_ms = 0, cpu_percent = 0, ram_mb = 0;
  };
  struct LoginFailures {
    int count = 0;
    std::chrono::steady_clock::time_point next_allowed{};
  };
  static constexpr std::size_t kLoginTableMax = 4096;  // addresses remembered; the oldest go first
  static constexpr double kLoginMaxDelay_s = 60;
  std::mutex login_mu_;
  std::map<std::string, LoginFailures> login_failures_;  // by remote address

  std::mutex history_mu_;
  std::deque<Sample> history_;  // oldest first, at most kHistorySamples
};

}  // namespace vigil
