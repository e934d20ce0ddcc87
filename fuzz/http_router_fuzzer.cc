// libFuzzer harness: raw HTTP request bytes -> Beast's request parser (the
// server's 1 MiB body limit) -> the ApiRequest HttpServer builds ->
// ApiRouter::media() and ApiRouter::handle() -> the response HttpServer
// would write, serialised. Up to kMaxRequests pipelined requests per input.
// Each request goes to two routers on one Engine: one with no token (the
// loopback default) and one with a token (login, cookies, 401 paths).
//
// Safety: the fuzzer never opens a network connection nor starts a stream.
// The Engine has no streams and is never started; requests that could add
// one (any method but GET/HEAD/DELETE on a path naming streams: POST
// /api/streams, PATCH /api/streams/{id}) do not reach handle(): their body
// goes through the same parse + validation instead (stream_config_from_json,
// check_api_source against a temp media dir, merge_stream_patch), with no
// add. After every request the engine must still have no stream (abort
// otherwise). Media routes are classified by media() but never served.
// Jobs have no JobManager (503). Files: a temp web dir and media dir.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/event.h"
#include "pipeline/engine.h"
#include "server/api_router.h"
#include "server/beast_request.h"
#include "server/engine_adapter.h"
#include "server/http_server.h"
#include "server/json_body.h"
#include "server/stream_request.h"
#include "server/url_codec.h"

namespace {

namespace http = boost::beast::http;
using nlohmann::json;

constexpr int kMaxRequests = 4;
const char* const kToken = "fuzz-token";

struct World {
  std::string dir;  // temp root: web/, media/, events.db
  std::unique_ptr<vigil::Engine> engine;
  std::unique_ptr<vigil::EngineAdapter> engine_api;  // the routers' view of `engine`
  std::unique_ptr<vigil::ApiRouter> open;    // no token
  std::unique_ptr<vigil::ApiRouter> locked;  // token kToken
};
World* world = nullptr;

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "http_router_fuzzer: %s\n", what.c_str());
  std::abort();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) finding("cannot write " + path);
}

World* make_world() {
  auto* w = new World;
  char tmpl[] = "/tmp/vigil-fuzz-router-XXXXXX";
  if (!mkdtemp(tmpl)) finding("mkdtemp failed");
  w->dir = tmpl;
  std::filesystem::create_directories(w->dir + "/web/static/sub");
  std::filesystem::create_directories(w->dir + "/media");
  write_file(w->dir + "/web/index.html", "<!doctype html><title>vigil</title>\n");
  write_file(w->dir + "/web/login.html", "<!doctype html><form method=\"post\" action=\"/login\"></form>\n");
  write_file(w->dir + "/web/static/app.js", "console.log('vigil');\n");
  write_file(w->dir + "/web/static/style.css", "body{}\n");
  write_file(w->dir + "/web/static/sub/x.svg", "<svg/>\n");
  write_file(w->dir + "/web/static/.secret", "dotfile\n");
  write_file(w->dir + "/media/clip.mp4", "not really a video\n");

  vigil::EngineConfig c;
  c.model.path = VIGIL_DEFAULT_MODEL;
  c.model.device = "cpu";
  c.model.threads = 1;
  c.stats_interval_s = 0;
  c.events.sqlite = w->dir + "/events.db";
  auto e = vigil::Engine::create(c);
  if (!e) finding("Engine::create: " + e.error().message);
  w->engine = std::move(*e);
  // A few stored events for GET /api/events to find.
  for (int i = 0; i < 3; ++i) {
    vigil::Event ev;
    ev.kind = i == 2 ? vigil::EventKind::kZoneEnter : vigil::EventKind::kTrackNew;
    ev.stream = i == 0 ? "cam1" : "cam2";
    ev.pts = i;
    ev.wall_time = 1.7e9 + i;
    ev.track_id = i;
    ev.class_id = 0;
    ev.class_name = "person";
    ev.zone = i == 2 ? "door" : "";
    w->engine->events().publish(ev);
  }
  vigil::ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.media_dir = w->dir + "/media";
  o.web_dir = w->dir + "/web";
  w->engine_api = std::make_unique<vigil::EngineAdapter>(*w->engine);
  w->open = std::make_unique<vigil::ApiRouter>(*w->engine_api, o);
  o.token = kToken;
  w->locked = std::make_unique<vigil::ApiRouter>(*w->engine_api, o);
  for (int i = 0; i < 3; ++i) {
    w->open->sample();
    w->locked->sample();
  }
  return w;
}

// The path as the router sees it (%XX decoded once, vigil::split_target), lower case.
std::string routed_path(const std::string& target) {
  std::string out = vigil::split_target(target).path;
  for (char& ch : out)
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  return out;
}

// A request that could add a stream (see the file comment).
bool could_add_stream(const vigil::ApiRequest& r) {
  if (r.method == "GET" || r.method == "HEAD" || r.method == "DELETE") return false;
  std::string raw = r.target;
  for (char& ch : raw)
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  return routed_path(r.target).find("stream") != std::string::npos || raw.find("stream") != std::string::npos;
}

// POST /api/streams and PATCH without the engine: the router's body parsing
// and validation only.
void validate_stream_change(const vigil::ApiRequest& r) {
  auto parsed = vigil::parse_json_body(r.body);
  if (!parsed) return;
  const json& body = *parsed;
  if (auto s = vigil::stream_config_from_json(body)) (void)vigil::check_api_source(s->url, world->dir + "/media");
  vigil::StreamConfig base = vigil::default_stream("cam1", "rtsp://127.0.0.1:8554/cam1");
  if (auto merged = vigil::merge_stream_patch(vigil::stream_config_json(base), body))
    (void)vigil::stream_config_from_json(*merged);
}

// The response HttpServer::Session::on_read writes for `a`, serialised.
void write_response(const vigil::ApiResponse& a, const http::request<http::string_body>& req) {
  if (a.status < 100 || a.status > 599) finding("status " + std::to_string(a.status) + " for " + std::string(req.target()));
  http::response<http::string_body> res{static_cast<http::status>(a.status), req.version()};
  res.set(http::field::server, "vigil");
  res.set(http::field::content_type, a.content_type);
  res.set(http::field::cache_control, "no-store");
  if (!a.allow.empty()) res.set(http::field::allow, a.allow);
  for (const auto& [name, value] : a.headers) res.insert(name, value);
  if (req.method() != http::verb::head) res.body() = a.body;
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  std::ostringstream out;
  out << res;
}

void serve(vigil::ApiRouter& router, const http::request<http::string_body>& req, const vigil::ApiRequest& r) {
  const vigil::MediaRequest m = router.media(r, boost::beast::websocket::is_upgrade(req));
  if (m.kind != vigil::MediaRequest::Kind::kNone) {
    if (m.has_error) write_response(m.error, req);
    return;
  }
  if (could_add_stream(r)) {
    validate_stream_change(r);
    return;
  }
  const vigil::ApiResponse a = router.handle(r);
  // handle() turns exceptions into 500 "internal error: ...": for a client's
  // bytes that is a bug (bad input is a 4xx naming the problem).
  if (a.status == 500 && a.body.find("internal error") != std::string::npos)
    finding("500 for " + r.method + " " + r.target + ": " + a.body);
  write_response(a, req);
  if (!world->engine->stream_ids().empty()) finding("a request added a stream: " + r.method + " " + r.target);
}

// One request from the front of `bytes`, from client address `remote`;
// returns the bytes it used (0: none complete).
std::size_t one_request(const char* bytes, std::size_t size, const std::string& remote) {
  http::request_parser<http::string_body> parser;
  parser.body_limit(vigil::HttpServer::kBodyLimit);
  parser.eager(true);
  boost::beast::error_code ec;
  std::size_t used = 0;
  while (!parser.is_done() && used < size) {
    const std::size_t n = parser.put(boost::asio::buffer(bytes + used, size - used), ec);
    used += n;
    if (ec || n == 0) break;
  }
  if (!parser.is_done()) return 0;  // malformed or incomplete: the server answers 400/413 itself
  const auto& req = parser.get();
  vigil::ApiRequest r = vigil::to_api_request(req, remote);
  serve(*world->open, req, r);
  serve(*world->locked, req, r);
  return used;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // login failures and stream changes log; keep the output readable
  world = make_world();
  // The engine's threads stop before static destructors run; then the files go.
  std::atexit([] {
    world->open.reset();
    world->locked.reset();
    world->engine_api.reset();
    world->engine->stop();
    world->engine.reset();
    std::error_code ec;
    std::filesystem::remove_all(world->dir, ec);
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A new client address per input: login throttling (per address) then
  // depends on the input alone, not on the inputs before it.
  static std::uint64_t inputs = 0;
  ++inputs;
  const std::string remote = "fd00::" + std::to_string(inputs % 0xFFFF) + ":" + std::to_string(inputs / 0xFFFF % 0xFFFF);
  const char* bytes = reinterpret_cast<const char*>(data);
  for (int i = 0; i < kMaxRequests && size > 0; ++i) {
    const std::size_t used = one_request(bytes, size, remote);
    if (used == 0) break;
    bytes += used;
    size -= used;
  }
  return 0;
}
