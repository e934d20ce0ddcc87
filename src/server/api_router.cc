#include "server/api_router.h"

#include <utility>

#include "server/cluster_routes.h"
#include "server/event_routes.h"
#include "jobs/job_manager.h"
#include "server/job_routes.h"
#include "server/openapi.h"
#include "server/static_files.h"
#include "server/stream_request.h"
#include "server/url_codec.h"

namespace vigil {
namespace {

bool safe_method(const std::string& method) { return method == "GET" || method == "HEAD"; }

bool accepts_html(const std::string& accept) {
  std::string a = accept;
  for (char& c : a)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return a.find("text/html") != std::string::npos;
}

ApiResponse jobs_disabled() { return json_error(503, "offline jobs are not enabled on this server"); }

}  // namespace

ApiRouter::ApiRouter(StreamEngine& engine, ServerOptions options)
    : engine_(engine),
      options_(std::move(options)),
      web_dir_(resolve_web_dir(options_.web_dir)),
      auth_(options_),
      streams_(engine, options_.media_dir),
      stats_(engine) {
  if (options_.jobs) jobs_ = std::make_unique<JobRoutes>(*options_.jobs, options_.media_dir);
  uploads_ = std::make_unique<UploadRoutes>(options_.media_dir, options_.upload_max_bytes);
  add_routes();
}

ApiRouter::~ApiRouter() = default;

void ApiRouter::add_routes() {
  add_static_routes();
  table_.add({"/healthz", RouteAccess::kToken, RouteNeeds::kNothing,
              {{"GET", [this](const RouteCall&) { return stats_.health(); },
                "Engine and stream health: ok, degraded (200), down or stopped (503), with the streams down"}}});
  table_.add({"/api/stats", RouteAccess::kToken, RouteNeeds::kNothing,
              {{"GET", [this](const RouteCall&) { return stats_.stats(); },
                "Engine statistics: streams, stages, bottleneck, history"}}});
  table_.add({"/api/stats/reset", RouteAccess::kToken, RouteNeeds::kNothing,
              {{"POST", [this](const RouteCall&) { return stats_.reset(); }, "Reset the stage timings and counters"}}});
  // Overwatch's (seed 002) names for the stage timings (docs/api.md, "Compatibility with Overwatch").
  table_.add({"/api/workflow-builder/performance", RouteAccess::kToken, RouteNeeds::kNothing,
              {{"GET", [this](const RouteCall&) { return stats_.performance(); },
                "Stage timings as Overwatch's performance document (current_fps, operations, bottlenecks)"}}});
  table_.add({"/api/workflow-builder/performance/reset", RouteAccess::kToken, RouteNeeds::kNothing,
              {{"POST", [this](const RouteCall&) { return stats_.reset(); },
                "Reset the stage timings (as POST /api/stats/reset)"}}});
  table_.add({"/metrics", RouteAccess::kToken, RouteNeeds::kNothing,
              {{"GET", [this](const RouteCall&) { return stats_.metrics(); }, "Prometheus metrics (text format 0.0.4)"}},
              "text/plain"});
  table_.add({"/api/events", RouteAccess::kToken, RouteNeeds::kNothing,
              {{"GET", [this](const RouteCall& c) { return get_events(engine_, c.query); },
                "Stored events (with --db), filtered by stream, kind, zone, line, time"}}});
  table_.add({"/api/events/{id}/snapshot.jpg", RouteAccess::kToken, RouteNeeds::kNothing,
              {{"GET",
                [this](const RouteCall& c) {
                  return get_event_media(engine_, c.param, EventMedia::kSnapshot, c.request.range);
                },
                "The event's snapshot: its frame with its boxes (record.snapshots); 404 none, 410 expired"}},
              "image/jpeg"});
  table_.add({"/api/events/{id}/clip.mp4", RouteAccess::kToken, RouteNeeds::kNothing,
              {{"GET",
                [this](const RouteCall& c) {
                  return get_event_media(engine_, c.param, EventMedia::kClip, c.request.range);
                },
                "The event's MP4 clip (record.clips; Range requests); 404 none, 410 expired"}},
              "video/mp4"});
  table_.add({"/api/cluster", RouteAccess::kToken, RouteNeeds::kNothing,
              {{"GET", [this](const RouteCall&) { return cluster_response(options_.cluster); },
                "The cluster (vigil run --node): nodes, heartbeats, capacity, each stream's node and its API URL"}}});
  add_stream_routes();
  add_job_routes();
  add_upload_routes();
  // Last: the document lists every route added before it, itself included.
  table_.add({"/api/openapi.json", RouteAccess::kToken, RouteNeeds::kNothing,
              {{"GET", [this](const RouteCall&) { return json_ok(openapi_document(table_)); },
                "This API as an OpenAPI 3.1 document, generated from the route table"}}});
}

void ApiRouter::add_static_routes() {
  const RouteHandler index = [this](const RouteCall& c) { return this->index(c.request); };
  const RouteHandler file = [this](const RouteCall& c) { return static_file_response(web_dir_, c.param); };
  const RouteHandler login_page = [this](const RouteCall&) { return static_file_response(web_dir_, "login.html"); };
  table_.add({"/login", RouteAccess::kPublic, RouteNeeds::kToken,
              {{"GET", login_page, "The sign-in page"},
               {"HEAD", login_page, "The sign-in page's headers"},
               {"POST", [this](const RouteCall& c) { return auth_.login(c.request); },
                "Sign in: the token in, the vigil_token cookie out"}},
              "text/html"});
  table_.add({"/", RouteAccess::kPublic, RouteNeeds::kNothing,
              {{"GET", index, "The dashboard (303 to /login without credentials)"},
               {"HEAD", index, "The dashboard's headers"}},
              "text/html"});
  table_.add({"/index.html", RouteAccess::kPublic, RouteNeeds::kNothing,
              {{"GET", index, "The dashboard"}, {"HEAD", index, "The dashboard's headers"}}, "text/html"});
  table_.add({"/static/{path*}", RouteAccess::kPublic, RouteNeeds::kNothing,
              {{"GET", file, "A file of the dashboard"}, {"HEAD", file, "A file of the dashboard: headers"}},
              "application/octet-stream"});
}

void ApiRouter::add_stream_routes() {
  const RouteHandler list = [this](const RouteCall&) { return streams_.list(); };
  const RouteHandler add = [this](const RouteCall& c) { return streams_.add(c.request.body); };
  for (const char* pattern : {"/api/streams", "/api/streams/"})
    table_.add({pattern, RouteAccess::kToken, RouteNeeds::kNothing,
                {{"GET", list, "The streams with their config and status"},
                 {"POST", add, "Add a stream (201)"}}});
  table_.add({"/api/streams/{id}", RouteAccess::kToken, RouteNeeds::kNothing,
              {{"GET", [this](const RouteCall& c) { return streams_.get(c.param); }, "One stream: config and status"},
               {"PATCH", [this](const RouteCall& c) { return streams_.patch(c.param, c.request.body); },
                "Change a stream's options, zones or lines"},
               {"DELETE", [this](const RouteCall& c) { return streams_.remove(c.param); }, "Remove a stream"}}});
}

void ApiRouter::add_job_routes() {
  // Registered with or without a JobManager: without one they answer 503.
  const RouteHandler list = [this](const RouteCall&) { return jobs_->list(); };
  const RouteHandler submit = [this](const RouteCall& c) { return jobs_->submit(c.request.body); };
  for (const char* pattern : {"/api/jobs", "/api/jobs/"})
    table_.add({pattern, RouteAccess::kToken, RouteNeeds::kJobs,
                {{"GET", list, "The offline analysis jobs"},
                 {"POST", submit, "Queue an offline analysis of a file in --media-dir (201), or of several: {\"paths\": [...]}"}}});
  table_.add({"/api/jobs/{id}/report", RouteAccess::kToken, RouteNeeds::kJobs,
              {{"GET", [this](const RouteCall& c) { return jobs_->report(c.param); }, "A finished job's HTML report"}},
              "text/html"});
  table_.add({"/api/jobs/{id}", RouteAccess::kToken, RouteNeeds::kJobs,
              {{"GET", [this](const RouteCall& c) { return jobs_->get(c.param); }, "One job: state, progress, results"},
               {"DELETE", [this](const RouteCall& c) { return jobs_->cancel(c.param); }, "Cancel a job"}}});
}

void ApiRouter::add_upload_routes() {
  // HttpServer streams POST bodies to disk (begin_upload); post_whole is the
  // same for a body already read (the router called in-process).
  table_.add({"/api/uploads", RouteAccess::kToken, RouteNeeds::kNothing,
              {{"POST", [this](const RouteCall& c) { return uploads_->post_whole(c.query, c.request.body); },
                "Upload a video into --media-dir: ?name=FILE.mp4, the raw body is the file (201); &offset=N "
                "continues a cut upload"}}});
  const RouteHandler status = [this](const RouteCall& c) { return uploads_->status(c.param); };
  table_.add({"/api/uploads/{id}", RouteAccess::kToken, RouteNeeds::kNothing,
              {{"GET", status, "An upload's bytes stored so far and whether it is complete"},
               {"HEAD", status, "An upload's bytes stored so far: the Upload-Offset header"}}});
}

bool ApiRouter::is_upload(const std::string& method, const std::string& target) {
  return method == "POST" && split_target(target).path == "/api/uploads";
}

UploadStart ApiRouter::begin_upload(const ApiRequest& req, std::optional<std::uint64_t> content_length) {
  UploadStart out;
  try {
    const RequestTarget target = split_target(req.target);
    const auto match = table_.find(target.path);
    if (auto error = check_access(req, match ? match->route : nullptr)) {
      out.error = std::move(*error);
      return out;
    }
    return uploads_->begin(target.query, content_length);
  } catch (const std::exception& e) {
    out.error = json_error(500, std::string("internal error: ") + e.what());
  } catch (...) {
    out.error = json_error(500, "internal error");
  }
  return out;
}

// `/`: the dashboard; a browser without credentials is sent to /login
// rather than to a dashboard that cannot load its data.
ApiResponse ApiRouter::index(const ApiRequest& req) {
  if (auth_.token_required() && accepts_html(req.accept) && !auth_.authorised(req)) return see_other("/login", "sign in");
  ApiResponse page = static_file_response(web_dir_, "index.html");
  if (page.status == 200) page.body = with_static_base(std::move(page.body));
  return page;
}

ApiResponse ApiRouter::handle(const ApiRequest& req) {
  // The boundary: nothing a request does may escape as an exception.
  try {
    return handle_checked(req);
  } catch (const std::exception& e) {
    return json_error(500, std::string("internal error: ") + e.what());
  } catch (...) {
    return json_error(500, "internal error");
  }
}

ApiResponse ApiRouter::handle_checked(const ApiRequest& req) {
  const RequestTarget target = split_target(req.target);
  const auto match = table_.find(target.path);
  if (auto error = check_access(req, match ? match->route : nullptr)) return std::move(*error);
  if (!match) return json_error(404, "no such route: " + target.path);
  const Route& route = *match->route;
  if (route.needs == RouteNeeds::kJobs && !jobs_) return jobs_disabled();
  if (route.needs == RouteNeeds::kToken && !auth_.token_required())
    return json_error(404, "no token is configured: " + target.path + " is not needed");
  const RouteHandler* handler = route.handler(req.method);
  if (!handler) return method_not_allowed(req.method, target.path, route.allow());
  return (*handler)(RouteCall{req, target.path, target.query, match->param});
}

std::optional<ApiResponse> ApiRouter::check_access(const ApiRequest& req, const Route* route) {
  if (!auth_.host_allowed(req.host)) return misdirected(req.host);
  // Unknown paths need the token too: without it, nothing about the API is told.
  if (!route || route->access == RouteAccess::kToken) {
    if (!auth_.authorised(req)) return unauthorized();
    if (!safe_method(req.method) && Auth::cross_origin(req)) return cross_origin_refused(req);
  }
  return std::nullopt;
}

MediaRequest ApiRouter::media(const ApiRequest& req, bool websocket_upgrade) {
  try {
    return media_checked(req, websocket_upgrade);
  } catch (const std::exception& e) {
    MediaRequest m;
    m.kind = MediaRequest::Kind::kSnapshot;  // any media kind: the error is answered
    m.has_error = true;
    m.error = json_error(500, std::string("internal error: ") + e.what());
    return m;
  }
}

MediaRequest ApiRouter::media_checked(const ApiRequest& req, bool websocket_upgrade) {
  const RequestTarget target = split_target(req.target);
  MediaRequest m = classify_media(target.path);
  if (m.kind == MediaRequest::Kind::kNone) return m;
  if (auto error = check_media(req, target, m, websocket_upgrade)) {
    m.has_error = true;
    m.error = std::move(*error);
  }
  return m;
}

// Verolux's gate check: a configured stream attaches; anything else is a URL
// that must pass the API's source check (as POST /api/streams).
std::optional<ApiResponse> ApiRouter::check_gate_source(MediaRequest& m,
                                                        const std::map<std::string, std::string>& query) {
  if (auto r = read_gate_params(m, query); !r) return bad_request(r.error());
  if (engine_.has_stream(m.source)) {
    m.stream = m.source;
    return std::nullopt;
  }
  auto url = check_api_source(m.source, options_.media_dir);
  if (!url) return bad_request(url.error());
  m.gate_url = *url;
  return std::nullopt;
}

std::optional<ApiResponse> ApiRouter::check_media(const ApiRequest& req, const RequestTarget& target, MediaRequest& m,
                                                  bool websocket_upgrade) {
  using Kind = MediaRequest::Kind;
  const auto query = parse_query(target.query);
  if (!auth_.host_allowed(req.host)) return misdirected(req.host);
  const auto token = query.find("token");
  if (!auth_.authorised(req, token == query.end() ? nullptr : &token->second)) return unauthorized();
  // A browser lets any page open a WebSocket to any host: only same-origin pages may.
  if ((m.websocket() || req.method != "GET") && Auth::cross_origin(req)) return cross_origin_refused(req);
  if (req.method != "GET") return method_not_allowed(req.method, target.path, "GET");
  if (m.websocket() && !websocket_upgrade)
    return json_error(400, target.path + " is a WebSocket endpoint: send a WebSocket upgrade request");
  if (m.kind == Kind::kJobSocket) {
    if (!options_.jobs) return jobs_disabled();
    const auto n = parse_job_id(m.stream);
    if (!n || !options_.jobs->get(*n)) return json_error(404, "job '" + m.stream + "' does not exist");
    m.job = *n;
    return std::nullopt;
  }
  if (m.kind == Kind::kEventSocket) {
    if (auto r = read_media_params(m, query); !r) return bad_request(r.error());
    return std::nullopt;
  }
  if (m.kind == Kind::kGateSocket) return check_gate_source(m, query);
  const auto stream = engine_.stream_config(m.stream);
  if (!stream) return json_error(404, "stream '" + m.stream + "' does not exist");
  if (auto r = read_media_params(m, query, stream->render); !r) return bad_request(r.error());
  return std::nullopt;
}

}  // namespace vigil
