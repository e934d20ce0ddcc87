#include "server/api_router.h"

#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <spdlog/spdlog.h>

#include "media/source_url.h"
#include "pipeline/engine.h"
#include "server/job_manager.h"
#include "server/json_body.h"
#include "server/prometheus_text.h"
#include "server/stats_json.h"
#include "server/static_files.h"
#include "server/stream_request.h"
#include "server/video_registry.h"
#include "store/event_json.h"
#include "store/sqlite_store.h"

namespace vigil {
namespace {

using nlohmann::json;

ApiResponse json_ok(const json& j, int status = 200) {
  ApiResponse r;
  r.status = status;
  r.body = j.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

// A job id: decimal digits only, > 0.
std::optional<std::int64_t> parse_job_id(const std::string& s) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const std::int64_t v = std::stoll(s);
  if (v <= 0) return std::nullopt;
  return v;
}

int status_of(const Error& e) {
  switch (e.code) {
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kRuntime:
      return 500;
    default:
      return 400;
  }
}

ApiResponse method_not_allowed(const std::string& method, const std::string& path, const std::string& allow) {
  ApiResponse r = json_error(405, "method " + method + " is not allowed on " + path + " (allowed: " + allow + ")");
  r.allow = allow;
  return r;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX and (in queries) '+' decoding; a malformed escape is kept as written.
std::string url_decode(const std::string& s, bool plus_is_space) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(const std::string& q) {
  std::map<std::string, std::string> out;
  std::size_t pos = 0;
  while (pos <= q.size() && !q.empty()) {
    const std::size_t amp = q.find('&', pos);
    const std::string part = q.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    if (!part.empty()) {
      const std::size_t eq = part.find('=');
      out[url_decode(part.substr(0, eq), true)] = eq == std::string::npos ? "" : url_decode(part.substr(eq + 1), true);
    }
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return out;
}

// Constant time in the length of the expected value, so the token cannot be
// guessed byte by byte from response times.
bool same_secret(const std::string& given, const std::string& expected) {
  unsigned diff = given.size() == expected.size() ? 0U : 1U;
  for (std::size_t i = 0; i < expected.size(); ++i)
    diff |= static_cast<unsigned>(static_cast<unsigned char>(expected[i]) ^
                                  static_cast<unsigned char>(i < given.size() ? given[i] : 0));
  return diff == 0;
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// "http://host:port/whatever" -> "host:port" (lower case).
std::string origin_authority(const std::string& origin) {
  const std::size_t scheme = origin.find("://");
  std::string rest = scheme == std::string::npos ? origin : origin.substr(scheme + 3);
  const std::size_t slash = rest.find('/');
  if (slash != std::string::npos) rest.resize(slash);
  return lower(rest);
}

// Host header without a default port: "localhost:80" from an http:// origin "http://localhost".
bool same_origin(const std::string& origin, const std::string& host) {
  const std::string o = origin_authority(origin);
  const std::string h = lower(host);
  if (o == h) return true;
  const bool https = lower(origin).rfind("https://", 0) == 0;
  const std::string default_port = https ? ":443" : ":80";
  return o + default_port == h || o == h + default_port;
}

Result<json> parse_body(const std::string& body) { return parse_json_body(body); }

}  // namespace

ApiResponse json_error(int status, const std::string& message) {
  ApiResponse r;
  r.status = status;
  r.body = json{{"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

ApiRouter::ApiRouter(Engine& engine, ServerOptions options)
    : engine_(engine), options_(std::move(options)), web_dir_(resolve_web_dir(options_.web_dir)) {}

namespace {

const char* const kCookieName = "vigil_token";

std::string trim(const std::string& s) {
  const std::size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// The values of the cookies called `name` in a Cookie header
// ("a=1; vigil_token=x;b=2"), %-decoded; a value in double quotes loses them.
std::vector<std::string> cookie_values(const std::string& header, const std::string& name) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < header.size()) {
    std::size_t semi = header.find(';', pos);
    if (semi == std::string::npos) semi = header.size();
    const std::string part = header.substr(pos, semi - pos);
    const std::size_t eq = part.find('=');
    if (eq != std::string::npos && trim(part.substr(0, eq)) == name) {
      std::string v = trim(part.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      out.push_back(url_decode(v, false));
    }
    pos = semi + 1;
  }
  return out;
}

// A cookie value (RFC 6265 cookie-octets) that cookie_values() decodes back
// to `s`: '%' and anything outside the cookie-octet set become %XX.
std::string cookie_encode(const std::string& s) {
  static const char* const digits = "0123456789ABCDEF";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const bool octet = c > 0x20 && c < 0x7F && c != '"' && c != ',' && c != ';' && c != '\\' && c != '%';
    if (octet) {
      out += ch;
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

// The token from the Authorization header (Bearer), the vigil_token cookie,
// or (media routes) the query; true when no token is configured.
// The credentials of an `Authorization: Bearer TOKEN` header (the scheme in
// any case, RFC 7235); nullopt for another scheme or none.
std::optional<std::string> bearer_token(const std::string& authorization) {
  const std::string a = trim(authorization);
  const std::size_t space = a.find_first_of(" \t");
  if (space == std::string::npos || lower(a.substr(0, space)) != "bearer") return std::nullopt;
  return trim(a.substr(space));
}

bool token_ok(const std::string& expected, const ApiRequest& req, const std::string* query_token) {
  if (expected.empty()) return true;
  if (const auto given = bearer_token(req.authorization); given && same_secret(*given, expected)) return true;
  bool cookie_ok = false;
  for (const auto& v : cookie_values(req.cookie, kCookieName)) cookie_ok |= same_secret(v, expected);
  if (cookie_ok) return true;
  return query_token != nullptr && same_secret(*query_token, expected);
}

// The media type of a Content-Type header, lower case, without parameters.
std::string media_type(const std::string& content_type) {
  return lower(trim(content_type.substr(0, content_type.find(';'))));
}

const char* const kLoginPage = R"(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vigil: sign in</title>
<style>
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
background:#111418;color:#e6e8eb;font:16px system-ui,sans-serif}
form{background:#1b2027;padding:2rem;border-radius:8px;width:18rem;box-shadow:0 4px 24px #0008}
h1{margin:0 0 1rem;font-size:1.25rem}
label{display:block;margin-bottom:.4rem;color:#a8b0ba}
input{box-sizing:border-box;width:100%;padding:.6rem;border:1px solid #3a424d;border-radius:4px;
background:#0e1114;color:inherit;font:inherit}
button{margin-top:1rem;width:100%;padding:.6rem;border:0;border-radius:4px;background:#2f81f7;
color:#fff;font:inherit;cursor:pointer}
</style>
</head>
<body>
<form method="post" action="/login">
<h1>Vigil</h1>
<label for="token">Access token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
</form>
</body>
</html>
)";

// The host name of a Host header, lower case, without the port or IPv6 brackets.
std::string host_name(const std::string& host) {
  std::string h = lower(trim(host));
  if (!h.empty() && h.front() == '[') {
    const std::size_t close = h.find(']');
    return close == std::string::npos ? h : h.substr(1, close - 1);
  }
  const std::size_t colon = h.find(':');
  if (colon != std::string::npos && h.find(':', colon + 1) == std::string::npos) h.resize(colon);
  if (!h.empty() && h.back() == '.') h.pop_back();  // "localhost." is "localhost"
  return h;
}

bool is_ip_literal(const std::string& name) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, name.c_str(), buf) == 1 || ::inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

ApiResponse misdirected(const std::string& host) {
  return json_error(421, "Host '" + host +
                             "' is not served here (DNS rebinding protection): use an IP address or localhost, "
                             "or list the name in server.allowed_hosts");
}

// The dashboard loads its code, styles and pictures from this server only and
// talks to this server only (fetch and WebSocket); no page may frame it.
const char* const kDashboardCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

ApiResponse unauthorized() {
  return json_error(401, "missing or wrong token (send Authorization: Bearer TOKEN, or sign in at /login)");
}

// Query parameter `key` as an integer in [lo, hi]; `fallback` when absent.
Result<int> int_param(const std::map<std::string, std::string>& q, const std::string& key, int fallback, int lo,
                      int hi) {
  const auto it = q.find(key);
  if (it == q.end()) return fallback;
  try {
    std::size_t used = 0;
    const int v = std::stoi(it->second, &used);
    if (used == it->second.size() && v >= lo && v <= hi) return v;
  } catch (const std::logic_error&) {
  }
  return fail(ErrorCode::kInvalidArgument, "query parameter " + key + "='" + it->second + "' must be an integer in " +
                                               std::to_string(lo) + ".." + std::to_string(hi));
}

}  // namespace

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

bool ApiRouter::host_allowed(const std::string& host) const {
  if (trim(host).empty()) return true;  // HTTP/1.0 without Host: no browser
  const std::string name = host_name(host);
  if (is_ip_literal(name) || name == "localhost" || ends_with(name, ".localhost")) return true;
  if (name == host_name(options_.listen)) return true;
  for (const auto& allowed : options_.allowed_hosts) {
    const std::string a = lower(trim(allowed));
    if (a == "*" || a == name) return true;
    if (a.size() > 1 && a.front() == '.' && (ends_with(name, a) || name == a.substr(1))) return true;
  }
  return false;
}

double ApiRouter::login_wait_s(const std::string& remote) {
  std::lock_guard lock(login_mu_);
  const auto it = login_failures_.find(remote);
  if (it == login_failures_.end()) return 0;
  const auto left = it->second.next_allowed - std::chrono::steady_clock::now();
  return std::max(0.0, std::chrono::duration<double>(left).count());
}

void ApiRouter::login_failed(const std::string& remote) {
  int count = 0;
  double delay = 0;
  {
    std::lock_guard lock(login_mu_);
    if (login_failures_.size() >= kLoginTableMax && !login_failures_.count(remote)) {
      // Forget the address allowed soonest: the table stays bounded.
      auto oldest = std::min_element(login_failures_.begin(), login_failures_.end(), [](const auto& a, const auto& b) {
        return a.second.next_allowed < b.second.next_allowed;
      });
      login_failures_.erase(oldest);
    }
    LoginFailures& f = login_failures_[remote];
    count = ++f.count;
    const int over = count - options_.login_free_attempts;
    if (over > 0) delay = std::min(kLoginMaxDelay_s, std::ldexp(1.0, std::min(over - 1, 16)));
    f.next_allowed = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                           std::chrono::duration<double>(delay));
  }
  spdlog::warn("login: wrong token from {} ({} failed attempt{}{})", remote.empty() ? "an unknown address" : remote,
               count, count == 1 ? "" : "s", delay > 0 ? fmt::format(", next attempt allowed in {:.0f} s", delay) : "");
}

void ApiRouter::login_succeeded(const std::string& remote) {
  std::lock_guard lock(login_mu_);
  login_failures_.erase(remote);
}

ApiResponse ApiRouter::handle_checked(const ApiRequest& req) {
  const std::size_t q = req.target.find('?');
  const std::string path = url_decode(req.target.substr(0, q), false);
  const std::string query = q == std::string::npos ? "" : req.target.substr(q + 1);
  if (!host_allowed(req.host)) return misdirected(req.host);
  if (path == "/login") return login(req);
  // A browser without credentials gets the login page rather than a dashboard that cannot load its data.
  if (path == "/" && !options_.token.empty() && (req.method == "GET" || req.method == "HEAD") &&
      lower(req.accept).find("text/html") != std::string::npos && !token_ok(options_.token, req, nullptr)) {
    ApiResponse r;
    r.status = 303;
    r.content_type = "text/html; charset=utf-8";
    r.body = "<a href=\"/login\">sign in</a>\n";
    r.headers.emplace_back("Location", "/login");
    return r;
  }
  if (path == "/" || path == "/index.html") return get_static(req.method, "index.html");
  if (path.rfind("/static/", 0) == 0) return get_static(req.method, path.substr(8));
  if (!token_ok(options_.token, req, nullptr)) return unauthorized();
  if (req.method != "GET" && req.method != "HEAD" && !req.origin.empty() && !same_origin(req.origin, req.host))
    return json_error(403, "cross-origin request refused: Origin " + req.origin + " does not match Host " + req.host);
  return route(req, path, query);
}

ApiResponse ApiRouter::route(const ApiRequest& req, const std::string& path, const std::string& query) {
  const std::string& m = req.method;
  if (path == "/healthz") {
    if (m != "GET") return method_not_allowed(m, path, "GET");
    return json_ok({{"status", "ok"}});
  }
  if (path == "/api/stats") {
    if (m != "GET") return method_not_allowed(m, path, "GET");
    return get_stats();
  }
  if (path == "/api/stats/reset") {
    if (m != "POST") return method_not_allowed(m, path, "POST");
    engine_.reset_stats();
    return json_ok({{"status", "ok"}});
  }
  if (path == "/metrics") {
    if (m != "GET") return method_not_allowed(m, path, "GET");
    ApiResponse r;
    r.content_type = kPrometheusContentType;
    r.body = prometheus_text(engine_.stats());
    return r;
  }
  if (path == "/api/events") {
    if (m != "GET") return method_not_allowed(m, path, "GET");
    return get_events(query);
  }
  if (path == "/api/streams" || path == "/api/streams/") {
    if (m == "GET") return get_streams();
    if (m == "POST") return post_stream(req.body);
    return method_not_allowed(m, path, "GET, POST");
  }
  if (path == "/api/jobs" || path == "/api/jobs/" || path.rfind("/api/jobs/", 0) == 0) return jobs_route(req, path);
  const std::string prefix = "/api/streams/";
  if (path.rfind(prefix, 0) == 0 && path.find('/', prefix.size()) == std::string::npos) {
    const std::string id = path.substr(prefix.size());
    if (m == "GET") return get_stream(id);
    if (m == "PATCH") return patch_stream(id, req.body);
    if (m == "DELETE") return delete_stream(id);
    return method_not_allowed(m, path, "GET, PATCH, DELETE");
  }
  return json_error(404, "no such route: " + path);
}

MediaRequest ApiRouter::media_checked(const ApiRequest& req, bool websocket_upgrade) {
  MediaRequest m;
  const std::size_t qpos = req.target.find('?');
  const std::string path = url_decode(req.target.substr(0, qpos), false);
  const auto query = parse_query(qpos == std::string::npos ? "" : req.target.substr(qpos + 1));
  const std::string streams = "/api/streams/";
  const std::string sockets = "/ws/streams/";
  std::string id;
  if (path.rfind(streams, 0) == 0) {
    const std::string rest = path.substr(streams.size());
    const std::size_t slash = rest.find('/');
    if (slash == std::string::npos) return m;
    const std::string what = rest.substr(slash + 1);
    if (what == "mjpeg") {
      m.kind = MediaRequest::Kind::kMjpeg;
    } else if (what == "snapshot.jpg") {
      m.kind = MediaRequest::Kind::kSnapshot;
    } else {
      return m;
    }
    id = rest.substr(0, slash);
  } else if (path.rfind(sockets, 0) == 0 && path.find('/', sockets.size()) == std::string::npos) {
    m.kind = MediaRequest::Kind::kStreamSocket;
    id = path.substr(sockets.size());
  } else if (path == "/ws/events") {
    m.kind = MediaRequest::Kind::kEventSocket;
  } else if (path.rfind("/ws/jobs/", 0) == 0) {
    m.kind = MediaRequest::Kind::kJobSocket;
    id = path.substr(9);
  } else {
    return m;
  }
  m.stream = id;
  auto error = [&](ApiResponse r) {
    m.has_error = true;
    m.error = std::move(r);
    return m;
  };
  if (!host_allowed(req.host)) return error(misdirected(req.host));
  const auto token = query.find("token");
  if (!token_ok(options_.token, req, token == query.end() ? nullptr : &token->second))
    return error(unauthorized());
  const bool socket = m.kind == MediaRequest::Kind::kStreamSocket || m.kind == MediaRequest::Kind::kEventSocket ||
                      m.kind == MediaRequest::Kind::kJobSocket;
  // A browser lets any page open a WebSocket to any host: only same-origin pages may.
  if ((socket || req.method != "GET") && !req.origin.empty() && !same_origin(req.origin, req.host))
    return error(json_error(403, "cross-origin request refused: Origin " + req.origin + " does not match Host " + req.host));
  if (req.method != "GET") return error(method_not_allowed(req.method, path, "GET"));
  if (socket && !websocket_upgrade)
    return error(json_error(400, path + " is a WebSocket endpoint: send a WebSocket upgrade request"));
  if (m.kind == MediaRequest::Kind::kJobSocket) {
    if (!options_.jobs) return error(json_error(503, "offline jobs are not enabled on this server"));
    const auto n = parse_job_id(id);
    if (!n || !options_.jobs->get(*n)) return error(json_error(404, "job '" + id + "' does not exist"));
    m.job = *n;
    return m;
  }
  if (m.kind != MediaRequest::Kind::kEventSocket && !engine_.stream(id))
    return error(json_error(404, "stream '" + id + "' does not exist"));

  const bool mjpeg = m.kind == MediaRequest::Kind::kMjpeg;
  const int max_fps = m.kind == MediaRequest::Kind::kStreamSocket ? 15 : static_cast<int>(MjpegVariant::kMaxFps);
  auto fps = int_param(query, "fps", 15, 1, max_fps);
  auto quality = int_param(query, "quality", m.kind == MediaRequest::Kind::kSnapshot ? 85 : 75, 1, 100);
  auto width = int_param(query, "width", 0, 0, 16384);
  auto overlay = int_param(query, "overlay", 1, 0, 1);
  auto video = int_param(query, "video", 1, 0, 1);
  for (const auto* r : {&fps, &quality, &width, &overlay, &video})
    if (!*r) return error(json_error(400, r->error().message));
  m.variant.fps = m.kind == MediaRequest::Kind::kSnapshot ? MjpegVariant::kMaxFps : *fps;
  m.variant.quality = *quality;
  m.variant.max_width = *width;
  // The WebSocket feed sends plain frames: the browser draws the overlay from the JSON.
  m.variant.overlay = m.kind == MediaRequest::Kind::kStreamSocket ? false : (mjpeg ? *overlay == 1 : true);
  if (m.kind == MediaRequest::Kind::kSnapshot && query.count("overlay")) m.variant.overlay = *overlay == 1;
  m.video = *video == 1;
  return m;
}

ApiResponse ApiRouter::jobs_route(const ApiRequest& req, const std::string& path) {
  const std::string& m = req.method;
  if (!options_.jobs) return json_error(503, "offline jobs are not enabled on this server");
  JobManager& jobs = *options_.jobs;
  if (path == "/api/jobs" || path == "/api/jobs/") {
    if (m == "GET") return json_ok({{"jobs", jobs.list()}});
    if (m != "POST") return method_not_allowed(m, path, "GET, POST");
    auto j = parse_body(req.body);
    if (!j) return json_error(400, j.error().message);
    if (!j->is_object()) return json_error(400, "the body must be a JSON object");
    AnalyzeRequest ar;
    try {
      if (!j->contains("path") || !(*j)["path"].is_string()) return json_error(400, "path: required, a string");
      ar.sample_fps = j->value("sample_fps", 1.0);
      ar.chunk_s = j->value("chunk_s", 300.0);
      if (j->contains("classes")) ar.classes = (*j)["classes"].get<std::vector<std::string>>();
      ar.captions = j->value("captions", false);
      for (const auto& [k, v] : j->items())
        if (k != "path" && k != "sample_fps" && k != "chunk_s" && k != "classes" && k != "captions")
          return json_error(400, "unknown field '" + k + "' (expected path, sample_fps, chunk_s, classes, captions)");
    } catch (const json::exception& e) {
      return json_error(400, std::string("bad field type: ") + e.what());
    }
    if (!(ar.chunk_s >= 1))
      return json_error(400, "chunk_s: must be at least 1 second, got " + std::to_string(ar.chunk_s));
    const std::string path_in = (*j)["path"];
    if (options_.media_dir.empty())
      return json_error(400, "path '" + path_in + "': this server has no media directory (start it with --media-dir)");
    if (path_in.find("://") != std::string::npos || path_in.rfind("webcam:", 0) == 0)
      return json_error(400, "path '" + path_in + "': offline jobs take a file inside the media directory");
    auto file = check_api_source(path_in, options_.media_dir);
    if (!file) return json_error(400, file.error().message);
    ar.video = *file;
    auto r = jobs.submit(ar);
    if (!r) return json_error(r.error().code == ErrorCode::kRuntime ? 500 : 400, r.error().message);
    return json_ok(r->first, r->second ? 201 : 200);
  }
  std::string rest = path.substr(std::string("/api/jobs/").size());
  const bool report = rest.size() > 7 && rest.compare(rest.size() - 7, 7, "/report") == 0;
  if (report) rest.resize(rest.size() - 7);
  const auto id = parse_job_id(rest);
  if (!id) return json_error(404, "job '" + rest + "' does not exist");
  if (report) {
    if (m != "GET") return method_not_allowed(m, path, "GET");
    auto file = jobs.report_path(*id);
    if (!file) return json_error(404, file.error().message);
    std::ifstream in(*file, std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    ApiResponse resp;
    resp.content_type = "text/html; charset=utf-8";
    resp.body = body.str();
    return resp;
  }
  if (m == "GET") {
    auto j = jobs.get(*id);
    if (!j) return json_error(404, j.error().message);
    return json_ok(*j);
  }
  if (m == "DELETE") {
    auto j = jobs.cancel(*id);
    if (!j) return json_error(j.error().code == ErrorCode::kNotFound ? 404 : 409, j.error().message);
    return json_ok(*j);
  }
  return method_not_allowed(m, path, "GET, DELETE");
}

ApiResponse ApiRouter::get_static(const std::string& method, const std::string& relative) {
  if (method != "GET" && method != "HEAD") return method_not_allowed(method, "/" + relative, "GET, HEAD");
  auto file = resolve_static_path(web_dir_, relative);
  if (!file) return json_error(status_of(file.error()), file.error().message);
  std::ifstream in(*file, std::ios::binary);
  if (!in) return json_error(404, "static path '" + relative + "' cannot be read");
  std::ostringstream body;
  body << in.rdbuf();
  ApiResponse r;
  r.content_type = static_content_type(*file);
  r.body = body.str();
  if (r.content_type.rfind("text/html", 0) == 0) r.headers.emplace_back("Content-Security-Policy", kDashboardCsp);
  return r;
}

ApiResponse ApiRouter::login(const ApiRequest& req) {
  if (options_.token.empty()) return json_error(404, "no token is configured: /login is not needed");
  if (req.method == "GET" || req.method == "HEAD") {
    ApiResponse r;
    r.content_type = "text/html; charset=utf-8";
    r.body = kLoginPage;
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'");
    return r;
  }
  if (req.method != "POST") return method_not_allowed(req.method, "/login", "GET, HEAD, POST");
  if (!req.origin.empty() && !same_origin(req.origin, req.host))
    return json_error(403, "cross-origin request refused: Origin " + req.origin + " does not match Host " + req.host);
  if (const double wait = login_wait_s(req.remote); wait > 0) {
    const long seconds = std::lround(std::ceil(wait));
    ApiResponse r = json_error(429, "too many failed sign-in attempts from this address: try again in " +
                                        std::to_string(seconds) + " s");
    r.headers.emplace_back("Retry-After", std::to_string(seconds));
    return r;
  }
  std::string given;
  const std::string type = media_type(req.content_type);
  if (type == "application/json") {
    auto j = parse_body(req.body);
    if (!j) return json_error(400, j.error().message);
    if (!j->is_object() || !j->contains("token") || !(*j)["token"].is_string())
      return json_error(400, "body: expected {\"token\": \"...\"}");
    given = (*j)["token"].get<std::string>();
  } else if (type == "application/x-www-form-urlencoded" || type.empty()) {
    const auto form = parse_query(req.body);
    const auto it = form.find("token");
    if (it == form.end()) return json_error(400, "body: expected token=... (application/x-www-form-urlencoded)");
    given = it->second;
  } else {
    return json_error(415, "Content-Type " + req.content_type +
                               " is not supported: send application/x-www-form-urlencoded or application/json");
  }
  if (!same_secret(given, options_.token)) {
    login_failed(req.remote);
    return json_error(401, "wrong token");
  }
  login_succeeded(req.remote);
  ApiResponse r;
  r.status = 303;
  r.content_type = "text/html; charset=utf-8";
  r.body = "<a href=\"/\">continue</a>\n";
  r.headers.emplace_back("Location", "/");
  // No `Secure`: this server speaks plain HTTP only and cannot tell whether a
  // TLS proxy sits in front, and a Secure cookie set over plain HTTP would be
  // dropped. Behind an HTTPS proxy, the proxy may add it.
  r.headers.emplace_back("Set-Cookie", std::string(kCookieName) + "=" + cookie_encode(options_.token) +
                                         "; Path=/; HttpOnly; SameSite=Strict");
  return r;
}

ApiResponse ApiRouter::get_stats() {
  const EngineStats st = engine_.stats();
  json j = to_json(st);
  if (video_) {
    const json video = video_->stats_json();
    for (auto& s : j["streams"]) {
      const std::string id = s.value("id", "");
      if (video.contains(id)) s["video"] = video[id];
    }
  }
  const double inference_avg = st.stage(Stage::kInference).latency.avg;
  j["inference_time_ms"] = inference_avg;
  j["inference_avg_ms"] = inference_avg;
  j["current_fps"] = st.display_fps_sum();
  j["batch_size"] = st.batch_size_avg;
  j["active_streams"] = st.active_streams();
  j["ram_used_mb"] = st.ram_mb;
  json h = {{"fps", json::array()}, {"inference_avg_ms", json::array()}, {"cpu_percent", json::array()},
            {"ram_mb", json::array()}};
  {
    std::lock_guard lock(history_mu_);
    for (const auto& s : history_) {
      h["fps"].push_back(s.fps);
      h["inference_avg_ms"].push_back(s.inference_ms);
      h["cpu_percent"].push_back(s.cpu_percent);
      h["ram_mb"].push_back(s.ram_mb);
    }
  }
  j["history"] = std::move(h);
  return json_ok(j);
}

void ApiRouter::sample() {
  const EngineStats st = engine_.stats();
  Sample s;
  s.fps = st.display_fps_sum();
  s.inference_ms = st.stage(Stage::kInference).latency.avg;
  s.cpu_percent = st.cpu_percent;
  s.ram_mb = st.ram_mb;
  std::lock_guard lock(history_mu_);
  history_.push_back(s);
  while (history_.size() > kHistorySamples) history_.pop_front();
}

json ApiRouter::stream_json(const std::string& id, const EngineStats& stats) {
  json out = {{"id", id}};
  if (auto p = engine_.stream(id)) {
    json config = stream_config_json(p->config());
    // Shown, never the secrets: PATCH merges into the stored config, not into this.
    config["url"] = redact_url(p->config().url);
    config["describe"]["endpoint"] = redact_url(p->config().describe.endpoint);
    out["config"] = std::move(config);
  }
  const StreamSnapshot* status = stats.find_stream(id);
  out["status"] = status ? to_json(*status) : json(nullptr);
  return out;
}

ApiResponse ApiRouter::get_streams() {
  const EngineStats stats = engine_.stats();
  json list = json::array();
  for (const auto& id : engine_.stream_ids()) list.push_back(stream_json(id, stats));
  return json_ok({{"streams", list}});
}

ApiResponse ApiRouter::get_stream(const std::string& id) {
  if (!engine_.stream(id)) return json_error(404, "stream '" + id + "' does not exist");
  return json_ok(stream_json(id, engine_.stats()));
}

ApiResponse ApiRouter::post_stream(const std::string& body) {
  auto j = parse_body(body);
  if (!j) return json_error(400, j.error().message);
  auto config = stream_config_from_json(*j);
  if (!config) return json_error(status_of(config.error()), config.error().message);
  auto url = check_api_source(config->url, options_.media_dir);
  if (!url) return json_error(400, url.error().message);
  config->url = *url;
  std::lock_guard lock(change_mu_);
  if (engine_.stream(config->id)) return json_error(409, "stream '" + config->id + "' already exists");
  const std::string id = config->id;
  const std::string shown_url = redact_url(config->url);
  if (auto r = engine_.add_stream(std::move(*config)); !r) return json_error(status_of(r.error()), r.error().message);
  spdlog::info("API: stream '{}' added ({})", id, shown_url);
  return json_ok(stream_json(id, engine_.stats()), 201);
}

ApiResponse ApiRouter::patch_stream(const std::string& id, const std::string& body) {
  auto j = parse_body(body);
  if (!j) return json_error(400, j.error().message);
  std::lock_guard lock(change_mu_);
  const auto current = engine_.stream(id);
  if (!current) return json_error(404, "stream '" + id + "' does not exist");
  const StreamConfig old_config = current->config();
  auto merged = merge_stream_patch(stream_config_json(old_config), *j);
  if (!merged) return json_error(400, merged.error().message);
  auto config = stream_config_from_json(*merged);
  if (!config) return json_error(400, config.error().message);
  if (!(j->contains("describe") && (*j)["describe"].is_object() && (*j)["describe"].contains("api_key")))
    config->describe.api_key = old_config.describe.api_key;
  // Restart the stream with the merged config: its counters start again.
  if (auto r = engine_.remove_stream(id); !r) return json_error(status_of(r.error()), r.error().message);
  if (auto r = engine_.add_stream(std::move(*config)); !r) {
    (void)engine_.add_stream(old_config);  // put the old one back
    return json_error(status_of(r.error()), r.error().message);
  }
  std::string keys;
  for (const auto& [key, value] : j->items()) keys += (keys.empty() ? "" : ", ") + key;
  spdlog::info("API: stream '{}' changed ({}) and restarted", id, keys.empty() ? "no fields" : keys);
  return json_ok(stream_json(id, engine_.stats()));
}

ApiResponse ApiRouter::delete_stream(const std::string& id) {
  std::lock_guard lock(change_mu_);
  if (auto r = engine_.remove_stream(id); !r) return json_error(status_of(r.error()), r.error().message);
  spdlog::info("API: stream '{}' removed", id);
  return json_ok({{"deleted", id}});
}

ApiResponse ApiRouter::get_events(const std::string& query) {
  SqliteStore* store = engine_.store();
  if (!store) return json_error(503, "no event store: start the engine with events.sqlite to query events");
  EventQuery q;
  for (const auto& [key, value] : parse_query(query)) {
    try {
      std::size_t used = 0;
      if (key == "stream") {
        q.stream = value;
      } else if (key == "zone") {
        q.zone = value;
      } else if (key == "kind") {
        q.kind = value;
      } else if (key == "since") {
        q.since = std::stod(value, &used);
        if (used != value.size()) throw std::invalid_argument(value);
      } else if (key == "limit") {
        q.limit = std::stoi(value, &used);
        if (used != value.size()) throw std::invalid_argument(value);
      } else {
        return json_error(400, "query parameter '" + key + "' is unknown (stream, zone, kind, since, limit)");
      }
    } catch (const std::logic_error&) {
      return json_error(400, "query parameter " + key + "='" + value + "' is not a number");
    }
  }
  auto events = store->query(q);
  if (!events) return json_error(status_of(events.error()), events.error().message);
  json list = json::array();
  for (const auto& e : *events) list.push_back(to_json(e));
  return json_ok({{"events", list}});
}

}  // namespace vigil
