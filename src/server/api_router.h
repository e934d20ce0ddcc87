// ApiRouter: the routes of the HTTP API (docs/api.md, "HTTP API"), free of
// any socket code: one parsed request in, one complete response out.
// HttpServer does the networking and calls handle() for each request, and
// sample() once a second for the /api/stats history. The engine is reached
// through StreamEngine only, so the router runs in-process in tests.
//
// The routes are one table (route_table.h), their handlers grouped by noun:
// auth.h (Host, token, origin, /login), stream_routes.h, job_routes.h,
// stats_routes.h, event_routes.h, media_request.h, static_files.h.
//
// Static files (GET / and /static/<path>, from ServerOptions::web_dir) need
// no token: they are the dashboard's code, no data. With a token, a browser
// (Accept: text/html) asking for `/` without valid credentials is sent to
// /login (303) instead. /login (GET: web/login.html; POST: token -> cookie
// vigil_token) needs no token; without a configured token it is 404.
// Checks, in order: Host (a name that is not an IP literal, localhost, the
// listen host or in allowed_hosts: 421), token for every route but the
// public ones and for unknown paths (Authorization: Bearer, any case of the
// scheme, or the vigil_token cookie; 401), cross-origin non-GET/HEAD (403),
// route (404), what the route needs (jobs: 503), method (405 with Allow),
// body (400: not JSON, nested deeper than kMaxJsonDepth, a number out of
// range), then the engine's answer (status from http_status(ErrorCode)).
// No exception escapes handle() or media(): one that would is a 500.
// Failed logins are counted per address; after login_free_attempts each
// further attempt must wait (429, Retry-After), and is logged without the
// guessed value.
// Every error is {"error": "..."} with Content-Type application/json.
//
// Threads: handle(), media() and sample() may be called from any thread, at
// the same time. Stream changes (POST, PATCH, DELETE) are serialised among
// themselves (StreamRoutes).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "server/api_response.h"
#include "server/auth.h"
#include "server/media_request.h"
#include "server/route_table.h"
#include "server/server_options.h"
#include "server/stats_routes.h"
#include "server/stream_engine.h"
#include "server/stream_routes.h"
#include "server/upload_routes.h"
#include "server/url_codec.h"

namespace vigil {

class JobRoutes;
class VideoRegistry;

class ApiRouter {
 public:
  static constexpr std::size_t kHistorySamples = StatsRoutes::kHistorySamples;

  // engine (and options.jobs, if set) must outlive the router.
  ApiRouter(StreamEngine& engine, ServerOptions options);
  ~ApiRouter();
  ApiRouter(const ApiRouter&) = delete;
  ApiRouter& operator=(const ApiRouter&) = delete;

  ApiResponse handle(const ApiRequest& request);
  // Classifies a media route (GET /api/streams/{id}/mjpeg, .../snapshot.jpg,
  // WS /ws/streams/{id}, WS /ws/events, WS /ws/jobs/{id}) and checks it:
  // token (the Authorization header, the vigil_token cookie, or `token=` in
  // the query since browsers cannot set headers on <img> and WebSocket),
  // Origin (a WebSocket upgrade from another origin is refused: 403),
  // method, stream or job (404), parameters (400).
  MediaRequest media(const ApiRequest& request, bool websocket_upgrade);
  // POST /api/uploads read as a stream (HttpServer): the checks of handle()
  // on the request's header (body empty), then UploadRoutes::begin().
  static bool is_upload(const std::string& method, const std::string& target);
  UploadStart begin_upload(const ApiRequest& request, std::optional<std::uint64_t> content_length);
  ApiResponse finish_upload(UploadFile& file) { return uploads_->finished(file); }
  ApiResponse upload_too_large() const { return uploads_->too_large(); }
  // Per-stream encoder figures in /api/stats (streams[].video); null = none.
  void set_video(VideoRegistry* video) { stats_.set_video(video); }
  // Appends one sample of the stats history (fps sum, inference avg ms, CPU %, RSS MiB).
  void sample() { stats_.sample(); }
  // The route table (docs and tests list it).
  const RouteTable& routes() const { return table_; }

 private:
  ApiResponse handle_checked(const ApiRequest& request);
  // Host, token and origin for a route (null: an unknown path); an error, or none.
  std::optional<ApiResponse> check_access(const ApiRequest& request, const Route* route);
  void add_upload_routes();
  MediaRequest media_checked(const ApiRequest& request, bool websocket_upgrade);
  // The media checks after classification; an error response, or none.
  std::optional<ApiResponse> check_gate_source(MediaRequest& m, const std::map<std::string, std::string>& query);
  std::optional<ApiResponse> check_media(const ApiRequest& request, const RequestTarget& target, MediaRequest& m,
                                         bool websocket_upgrade);
  void add_routes();
  void add_static_routes();
  void add_stream_routes();
  void add_job_routes();
  ApiResponse index(const ApiRequest& request);

  StreamEngine& engine_;
  const ServerOptions options_;
  const std::string web_dir_;  // canonical web root; "" = none found
  Auth auth_;
  StreamRoutes streams_;
  StatsRoutes stats_;
  std::unique_ptr<JobRoutes> jobs_;  // null without options.jobs
  std::unique_ptr<UploadRoutes> uploads_;
  RouteTable table_;
};

}  // namespace vigil
