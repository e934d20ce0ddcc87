// The HTTP API's router in-process, without sockets: the route table, the
// URL codec, the access checks, and every route family over an in-memory
// StreamEngine (tests/memory_engine.h says why a double here). The same
// router over the real Engine and real sockets: tests/integration/server_*_test.cc.
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "memory_engine.h"
#include "server/api_router.h"
#include "server/job_routes.h"
#include "server/static_files.h"
#include "server/url_codec.h"
#include "test_support.h"

namespace vigil {
namespace {

using nlohmann::json;

// ---------------------------------------------------------------- pure parts

TEST(UrlCodec, DecodesEscapesAndKeepsMalformedOnes) {
  EXPECT_EQ(url_decode("a%20b%2Fc", false), "a b/c");
  EXPECT_EQ(url_decode("a+b", false), "a+b");
  EXPECT_EQ(url_decode("a+b", true), "a b");
  EXPECT_EQ(url_decode("%", false), "%");
  EXPECT_EQ(url_decode("%4", false), "%4");
  EXPECT_EQ(url_decode("%zz%41", false), "%zzA");
  EXPECT_EQ(url_decode("%2e%2E", false), "..");
  EXPECT_EQ(hex_digit('f'), 15);
  EXPECT_EQ(hex_digit('G'), -1);
}

TEST(UrlCodec, QueriesAndTargets) {
  const auto q = parse_query("a=1&b=x%20y+z&c&&a=2&=e");
  EXPECT_EQ(q.at("a"), "2");
  EXPECT_EQ(q.at("b"), "x y z");
  EXPECT_EQ(q.at("c"), "");
  EXPECT_EQ(q.at(""), "e");
  EXPECT_TRUE(parse_query("").empty());
  const RequestTarget t = split_target("/api/streams/cam%201?token=a%20b&x=1");
  EXPECT_EQ(t.path, "/api/streams/cam 1");
  EXPECT_EQ(t.query, "token=a%20b&x=1");
  EXPECT_EQ(split_target("/a+b").path, "/a+b");
  EXPECT_EQ(split_target("/x").query, "");
}

TEST(RouteTable, PatternsMatchSegmentsAndRest) {
  std::string p;
  EXPECT_TRUE(match_route("/api/streams/{id}", "/api/streams/cam1", &p));
  EXPECT_EQ(p, "cam1");
  EXPECT_TRUE(match_route("/api/streams/{id}", "/api/streams/", &p));
  EXPECT_EQ(p, "");
  EXPECT_FALSE(match_route("/api/streams/{id}", "/api/streams/a/b", &p));
  EXPECT_TRUE(match_route("/api/streams/{id}/mjpeg", "/api/streams/a/mjpeg", &p));
  EXPECT_EQ(p, "a");
  EXPECT_FALSE(match_route("/api/streams/{id}/mjpeg", "/api/streams/a/mjpeg/x", &p));
  EXPECT_TRUE(match_route("/static/{path*}", "/static/js/app.js", &p));
  EXPECT_EQ(p, "js/app.js");
  EXPECT_FALSE(match_route("/static/{path*}", "/static", &p));
  EXPECT_TRUE(match_route("/healthz", "/healthz", nullptr));
  EXPECT_FALSE(match_route("/healthz", "/healthz/", nullptr));
  EXPECT_FALSE(match_route("/healthz", "/health", nullptr));
}

TEST(HttpStatus, OneMappingFromErrorCodes) {
  EXPECT_EQ(http_status(ErrorCode::kInvalidArgument), 400);
  EXPECT_EQ(http_status(ErrorCode::kBadInput), 400);
  EXPECT_EQ(http_status(ErrorCode::kUnsupported), 400);
  EXPECT_EQ(http_status(ErrorCode::kNotFound), 404);
  EXPECT_EQ(http_status(ErrorCode::kConflict), 409);
  EXPECT_EQ(http_status(ErrorCode::kRuntime), 500);
  const ApiResponse r = error_response({ErrorCode::kNotFound, "x is gone"});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body), json({{"error", "x is gone"}}));
}

TEST(AuthHelpers, SecretsCookiesBearerAndOrigins) {
  EXPECT_TRUE(same_secret("s3cret", "s3cret"));
  EXPECT_FALSE(same_secret("s3cre", "s3cret"));
  EXPECT_FALSE(same_secret("s3cretX", "s3cret"));
  EXPECT_FALSE(same_secret("", "s3cret"));
  EXPECT_EQ(cookie_values("a=1; vigil_token=x;b=2;vigil_token=\"y%20z\"", "vigil_token"),
            (std::vector<std::string>{"x", "y z"}));
  EXPECT_TRUE(cookie_values("xvigil_token=1", "vigil_token").empty());
  for (const std::string token : {"plain", "with space", "semi;colon", "quote\"", "100%", "é"}) {
    const std::string encoded = cookie_encode(token);
    EXPECT_EQ(encoded.find_first_of(" ;\",\\"), std::string::npos) << encoded;
    EXPECT_EQ(cookie_values("vigil_token=" + encoded, "vigil_token"), std::vector<std::string>{token});
  }
  EXPECT_EQ(bearer_token("Bearer abc").value_or("-"), "abc");
  EXPECT_EQ(bearer_token("  bEaReR   abc  ").value_or("-"), "abc");
  EXPECT_FALSE(bearer_token("Basic abc"));
  EXPECT_FALSE(bearer_token("Bearer"));
  EXPECT_TRUE(same_origin("http://127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_TRUE(same_origin("http://localhost", "localhost:80"));
  EXPECT_TRUE(same_origin("https://cam.example:443", "CAM.example"));
  EXPECT_FALSE(same_origin("http://evil.example", "127.0.0.1:8080"));
  EXPECT_FALSE(same_origin("http://127.0.0.1:1", "127.0.0.1:8080"));
  EXPECT_EQ(host_name("[::1]:8080"), "::1");
  EXPECT_EQ(host_name("LocalHost.:80"), "localhost");
  EXPECT_EQ(media_type("Application/JSON; charset=utf-8"), "application/json");
}

TEST(JobRequest, BodyFieldsAndMediaDirAreChecked) {
  const std::string media = test::tmp_dir("api_router_media");
  std::ofstream(media + "/clip.mp4") << "x";
  auto ok = parse_job_request({{"path", "clip.mp4"}, {"sample_fps", 2}, {"chunk_s", 60}, {"classes", {"person"}}},
                              media);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->video, std::filesystem::weakly_canonical(media + "/clip.mp4").string());
  EXPECT_EQ(ok->sample_fps, 2);
  EXPECT_EQ(ok->chunk_s, 60);
  EXPECT_EQ(ok->classes, std::vector<std::string>{"person"});
  struct Case {
    json body;
    std::string dir, message;
  };
  for (const Case& c : std::vector<Case>{{json::array(), media, "JSON object"},
                                         {{{"sample_fps", 1}}, media, "path"},
                                         {{{"path", 3}}, media, "path"},
                                         {{{"path", "clip.mp4"}, {"speed", 2}}, media, "unknown field 'speed'"},
                                         {{{"path", "clip.mp4"}, {"chunk_s", 0.5}}, media, "at least 1 second"},
                                         {{{"path", "clip.mp4"}, {"chunk_s", "long"}}, media, "bad field type"},
                                         {{{"path", "clip.mp4"}}, "", "no media directory"},
                                         {{{"path", "rtsp://127.0.0.1/cam"}}, media, "file inside the media"},
                                         {{{"path", "../../etc/passwd"}}, media, "media"}}) {
    auto r = parse_job_request(c.body, c.dir);
    ASSERT_FALSE(r) << c.body.dump();
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find(c.message), std::string::npos) << r.error().message;
  }
  EXPECT_EQ(parse_job_id("12").value_or(0), 12);
  for (const char* bad : {"", "0", "-1", "1x", "1234567890123456789", " 1"}) EXPECT_FALSE(parse_job_id(bad)) << bad;
}

TEST(MediaRequestParse, KindsAndParameters) {
  using Kind = MediaRequest::Kind;
  EXPECT_EQ(classify_media("/api/streams/cam1/mjpeg").kind, Kind::kMjpeg);
  EXPECT_EQ(classify_media("/api/streams/cam1/mjpeg").stream, "cam1");
  EXPECT_EQ(classify_media("/api/streams/cam1/snapshot.jpg").kind, Kind::kSnapshot);
  EXPECT_EQ(classify_media("/ws/streams/cam1").kind, Kind::kStreamSocket);
  EXPECT_EQ(classify_media("/ws/events").kind, Kind::kEventSocket);
  EXPECT_EQ(classify_media("/ws/jobs/7").stream, "7");
  EXPECT_EQ(classify_media("/api/streams/cam1").kind, Kind::kNone);
  EXPECT_EQ(classify_media("/ws/streams/a/b").kind, Kind::kNone);

  MediaRequest m = classify_media("/api/streams/cam1/snapshot.jpg");
  ASSERT_TRUE(read_media_params(m, {}));
  EXPECT_EQ(m.variant.quality, kSnapshotDefaultQuality);
  EXPECT_TRUE(m.variant.overlay);
  EXPECT_EQ(m.variant.fps, MjpegVariant::kMaxFps);
  m = classify_media("/ws/streams/cam1");
  ASSERT_TRUE(read_media_params(m, {{"video", "0"}, {"fps", "15"}}));
  EXPECT_FALSE(m.variant.overlay);  // the browser draws it
  EXPECT_FALSE(m.video);
  EXPECT_FALSE(read_media_params(m, {{"fps", "16"}}));
  m = classify_media("/api/streams/cam1/mjpeg");
  ASSERT_TRUE(read_media_params(m, {{"overlay", "0"}, {"fps", "30"}, {"width", "320"}}));
  EXPECT_FALSE(m.variant.overlay);
  EXPECT_EQ(m.variant.max_width, 320);
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"fps", "0"}, {"fps", "31"}, {"quality", "101"}, {"width", "-1"}, {"overlay", "2"}, {"fps", "1x"}}) {
    auto r = read_media_params(m, {{key, value}});
    ASSERT_FALSE(r) << key << "=" << value;
    EXPECT_NE(r.error().message.find(key), std::string::npos) << r.error().message;
  }
}

TEST(JobRequest, SeveralPathsAreAllCheckedAndNamedByIndex) {
  const std::string media = std::string(VIGIL_TEST_TMP) + "/job_paths_media";
  std::filesystem::create_directories(media);
  std::ofstream(media + "/a.mp4") << "x";
  std::ofstream(media + "/b.mp4") << "x";
  auto ok = parse_job_requests(json{{"paths", {"a.mp4", "b.mp4"}}, {"sample_fps", 2}}, media);
  ASSERT_TRUE(ok) << ok.error().message;
  ASSERT_EQ(ok->size(), 2U);
  EXPECT_EQ((*ok)[1].sample_fps, 2);
  EXPECT_NE((*ok)[1].video.find("b.mp4"), std::string::npos);
  for (const auto& [body, message] : std::vector<std::pair<json, std::string>>{
           {json{{"paths", json::array()}}, "paths: must be a list of 1..100"},
           {json{{"paths", {"a.mp4", "missing.mp4"}}}, "paths[1]: "},
           {json{{"paths", {"a.mp4"}}, {"path", "b.mp4"}}, "give path or paths, not both"},
           {json{{"paths", {"a.mp4"}}, {"colour", 1}}, "paths[0]: unknown field 'colour'"}}) {
    auto r = parse_job_requests(body, media);
    ASSERT_FALSE(r) << body.dump();
    EXPECT_NE(r.error().message.find(message), std::string::npos) << r.error().message;
  }
}

// AI Director's WebSocket (quality 85, captions), Overwatch's render defaults, Verolux's gate check.
TEST(MediaRequestParse, SeedDefaultsAndParameters) {
  using Kind = MediaRequest::Kind;
  MediaRequest m = classify_media("/ws/streams/cam1");
  ASSERT_TRUE(read_media_params(m, {}));
  EXPECT_EQ(m.variant.quality, 85);
  EXPECT_FALSE(m.captions);
  ASSERT_TRUE(read_media_params(m, {{"captions", "1"}}));
  EXPECT_TRUE(m.captions);
  auto bad = read_media_params(m, {{"captions", "yes"}});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("captions"), std::string::npos) << bad.error().message;

  RenderConfig render;
  render.jpeg_quality = 60;
  render.max_fps = 20;
  m = classify_media("/api/streams/cam1/mjpeg");
  ASSERT_TRUE(read_media_params(m, {}, render));
  EXPECT_EQ(m.variant.quality, 60);
  EXPECT_EQ(m.variant.fps, 20);
  ASSERT_TRUE(read_media_params(m, {{"quality", "95"}, {"fps", "5"}}, render));  // the viewer's own win
  EXPECT_EQ(m.variant.quality, 95);
  EXPECT_EQ(m.variant.fps, 5);
  m = classify_media("/ws/streams/cam1");
  ASSERT_TRUE(read_media_params(m, {}, render));
  EXPECT_EQ(m.variant.fps, kSocketMaxFps);  // capped for WebSocket views
  EXPECT_EQ(m.variant.quality, 60);

  m = classify_media("/ws/gate-check");
  EXPECT_EQ(m.kind, Kind::kGateSocket);
  EXPECT_TRUE(m.websocket());
  ASSERT_TRUE(read_gate_params(m, {{"source", "cam1"}}));
  EXPECT_EQ(m.source, "cam1");
  EXPECT_TRUE(m.use_substream);
  ASSERT_TRUE(read_gate_params(m, {{"source", "cam1"}, {"use_substream", "false"}}));
  EXPECT_FALSE(m.use_substream);
  for (const auto& [query, name] : std::vector<std::pair<std::map<std::string, std::string>, std::string>>{
           {{}, "source"}, {{{"source", ""}}, "source"}, {{{"source", "cam1"}, {"use_substream", "yes"}}, "use_substream"}}) {
    auto r = read_gate_params(m, query);
    ASSERT_FALSE(r) << name;
    EXPECT_NE(r.error().message.find(name), std::string::npos) << r.error().message;
  }
}

// ---------------------------------------------------------------- the router over MemoryEngine

ApiRequest req(std::string method, std::string target, std::string body = "") {
  ApiRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  r.host = "127.0.0.1:8080";
  r.remote = "127.0.0.1";
  return r;
}

json body_of(const ApiResponse& r) { return json::parse(r.body, nullptr, false); }

void expect_error(const ApiResponse& r, int status, const std::string& needle = "") {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  const json j = body_of(r);
  ASSERT_TRUE(j.is_object() && j.contains("error")) << r.body;
  EXPECT_NE(j["error"].get<std::string>().find(needle), std::string::npos) << r.body;
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::tmp_dir("api_router") + "/" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ + "/media");
    std::ofstream(dir_ + "/media/clip.mp4") << "not really a video";
  }
  ApiRouter& router(ServerOptions o = {}) {
    o.listen = "127.0.0.1:8080";
    o.media_dir = dir_ + "/media";
    router_ = std::make_unique<ApiRouter>(engine_, o);
    return *router_;
  }

  std::string dir_;
  test::MemoryEngine engine_;
  std::unique_ptr<ApiRouter> router_;
};

TEST_F(RouterTest, UnknownRoutesMethodsAndHosts) {
  ApiRouter& r = router();
  ApiResponse a = r.handle(req("GET", "/healthz"));
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(body_of(a), json({{"status", "ok"}, {"down", json::array()}}));
  expect_error(r.handle(req("GET", "/no/such/route")), 404, "/no/such/route");
  expect_error(r.handle(req("GET", "/api/cluster")), 404, "cluster node");  // not started with --node
  a = r.handle(req("DELETE", "/healthz"));
  expect_error(a, 405, "DELETE");
  EXPECT_EQ(a.allow, "GET");
  a = r.handle(req("PUT", "/api/streams/cam1", "{}"));
  expect_error(a, 405);
  EXPECT_EQ(a.allow, "GET, PATCH, DELETE");
  EXPECT_EQ(r.handle(req("HEAD", "/api/stats")).status, 405);  // the API answers GET only
  ApiRequest rebound = req("GET", "/healthz");
  rebound.host = "attacker.example:8080";
  expect_error(r.handle(rebound), 421, "attacker.example");
  rebound.host = "localhost:8080";
  EXPECT_EQ(r.handle(rebound).status, 200);
  // Every route of the table has a method and a pattern that starts at /.
  for (const Route& route : r.routes().routes()) {
    EXPECT_EQ(route.pattern.front(), '/');
    EXPECT_FALSE(route.methods.empty()) << route.pattern;
  }
}

// GET /api/openapi.json: valid JSON, OpenAPI 3.1.0, and every route of the
// table with each of its methods, a summary, its path parameter, responses
// and the security its access implies.
TEST_F(RouterTest, OpenApiDocumentListsEveryRouteAndMethod) {
  ServerOptions o;
  o.token = "t";
  ApiRouter& r = router(o);
  expect_error(r.handle(req("GET", "/api/openapi.json")), 401);  // describing the API needs the token too
  ApiRequest get = req("GET", "/api/openapi.json");
  get.authorization = "Bearer t";
  const ApiResponse a = r.handle(get);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.content_type, "application/json");
  const json doc = json::parse(a.body);  // throws (fails the test) when it is not JSON
  EXPECT_EQ(doc["openapi"], "3.1.0");
  ASSERT_TRUE(doc["info"].is_object());
  EXPECT_TRUE(doc["info"]["title"].is_string());
  EXPECT_TRUE(doc["info"]["version"].is_string());
  ASSERT_TRUE(doc["paths"].is_object());
  EXPECT_EQ(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
  std::size_t operations = 0;
  for (const Route& route : r.routes().routes()) {
    std::string path = route.pattern;
    if (const auto star = path.find("*}"); star != std::string::npos) path.erase(star, 1);
    ASSERT_TRUE(doc["paths"].contains(path)) << route.pattern << " missing from the document";
    const json& item = doc["paths"][path];
    std::size_t listed = 0;
    for (const auto& [key, value] : item.items())
      if (key != "parameters" && key != "summary" && key != "description") ++listed;
    EXPECT_EQ(listed, route.methods.size()) << path << ": operations that are not methods of the route";
    for (const RouteMethod& m : route.methods) {
      std::string method = m.method;
      for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      ASSERT_TRUE(item.contains(method)) << m.method << " " << path;
      const json& op = item[method];
      ++operations;
      EXPECT_FALSE(m.summary.empty()) << m.method << " " << route.pattern << ": no summary in the route table";
      EXPECT_EQ(op["summary"], m.summary);
      EXPECT_TRUE(op["operationId"].is_string());
      ASSERT_TRUE(op["responses"].is_object()) << m.method << " " << path;
      EXPECT_TRUE(op["responses"].contains("200")) << m.method << " " << path;
      for (const auto& [code, resp] : op["responses"].items())
        EXPECT_TRUE(resp["description"].is_string()) << m.method << " " << path << " " << code;
      EXPECT_EQ(op["responses"].contains("401"), route.access == RouteAccess::kToken) << m.method << " " << path;
      EXPECT_EQ(op.contains("security") && op["security"].empty(), route.access == RouteAccess::kPublic) << path;
      const std::string param = route_param_name(route.pattern);
      if (param.empty()) {
        EXPECT_FALSE(op.contains("parameters")) << path;
      } else {
        ASSERT_TRUE(op["parameters"].is_array()) << path;
        EXPECT_EQ(op["parameters"][0]["name"], param);
        EXPECT_EQ(op["parameters"][0]["in"], "path");
        EXPECT_EQ(op["parameters"][0]["required"], true);
        EXPECT_NE(path.find("{" + param + "}"), std::string::npos) << path;
      }
    }
  }
  // Operation ids are unique (OpenAPI requires it).
  std::set<std::string> ids;
  for (const auto& [path, item] : doc["paths"].items())
    for (const auto& [method, op] : item.items()) EXPECT_TRUE(ids.insert(op["operationId"]).second) << op["operationId"];
  EXPECT_EQ(ids.size(), operations);
  // The table has what the API documents (a sample: the document is derived, this guards the derivation).
  EXPECT_TRUE(doc["paths"]["/api/streams/{id}"].contains("patch"));
  EXPECT_TRUE(doc["paths"]["/static/{path}"].contains("head"));
  EXPECT_TRUE(doc["paths"]["/api/openapi.json"].contains("get"));
  EXPECT_TRUE(doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"].contains("text/plain"));
}

TEST_F(RouterTest, StreamsAddListPatchDelete) {
  ApiRouter& r = router();
  ApiResponse a = r.handle(req("POST", "/api/streams", R"({"id": "cam1", "url": "rtsp://user:pw@127.0.0.1:8554/x"})"));
  ASSERT_EQ(a.status, 201) << a.body;
  json j = body_of(a);
  EXPECT_EQ(j["id"], "cam1");
  EXPECT_EQ(j["config"]["url"].get<std::string>().find("pw"), std::string::npos) << j.dump();  // redacted
  EXPECT_EQ(j["status"]["display_fps"], test::MemoryEngine::kDisplayFps);
  ASSERT_EQ(r.handle(req("POST", "/api/streams/", R"({"id": "cam2", "url": "clip.mp4", "loop": true})")).status, 201);
  ASSERT_TRUE(engine_.stream_config("cam2"));
  EXPECT_EQ(engine_.stream_config("cam2")->url, std::filesystem::weakly_canonical(dir_ + "/media/clip.mp4").string());
  expect_error(r.handle(req("POST", "/api/streams", R"({"id": "cam2", "url": "clip.mp4"})")), 409, "cam2");
  expect_error(r.handle(req("POST", "/api/streams", R"({"id": "x", "url": "../../etc/passwd"})")), 400, "media");
  expect_error(r.handle(req("POST", "/api/streams", "{not json")), 400, "JSON");
  expect_error(r.handle(req("POST", "/api/streams", R"({"id": "x", "url": "clip.mp4", "evry": 2})")), 400, "evry");

  j = body_of(r.handle(req("GET", "/api/streams")));
  ASSERT_EQ(j["streams"].size(), 2U);
  EXPECT_EQ(j["streams"][0]["id"], "cam1");
  EXPECT_EQ(j["streams"][1]["id"], "cam2");

  a = r.handle(req("PATCH", "/api/streams/cam2", R"({"every": 4})"));
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(body_of(a)["config"]["every"], 4);
  EXPECT_EQ(body_of(a)["config"]["loop"], true);  // kept
  EXPECT_EQ(engine_.stream_config("cam2")->every, 4);
  // The engine refuses the new config: the old one is back.
  engine_.refuse_every(7);
  expect_error(r.handle(req("PATCH", "/api/streams/cam2", R"({"every": 7})")), 500, "refused");
  ASSERT_TRUE(engine_.stream_config("cam2"));
  EXPECT_EQ(engine_.stream_config("cam2")->every, 4);
  expect_error(r.handle(req("PATCH", "/api/streams/cam2", R"({"url": "rtsp://127.0.0.1/y"})")), 400, "url");
  expect_error(r.handle(req("PATCH", "/api/streams/nope", R"({"every": 2})")), 404, "nope");

  EXPECT_EQ(r.handle(req("DELETE", "/api/streams/cam2")).status, 200);
  expect_error(r.handle(req("GET", "/api/streams/cam2")), 404, "cam2");
  expect_error(r.handle(req("DELETE", "/api/streams/cam2")), 404, "cam2");
  EXPECT_EQ(engine_.stream_ids(), std::vector<std::string>{"cam1"});
}

// `enabled` through the API: false keeps the stream (config and all) but
// does not run it; listed with state "disabled" and no status; true runs it.
TEST_F(RouterTest, DisabledStreamsAreListedAndToggledByPatch) {
  ApiRouter& r = router();
  ASSERT_EQ(r.handle(req("POST", "/api/streams", R"({"id": "a", "url": "rtsp://127.0.0.1/a", "every": 3})")).status, 201);
  ApiResponse p = r.handle(req("POST", "/api/streams", R"({"id": "b", "url": "rtsp://127.0.0.1/b", "enabled": false})"));
  ASSERT_EQ(p.status, 201) << p.body;
  EXPECT_EQ(body_of(p)["state"], "disabled");
  EXPECT_TRUE(body_of(p)["status"].is_null());
  json j = body_of(r.handle(req("GET", "/api/streams")));
  ASSERT_EQ(j["streams"].size(), 2U);
  EXPECT_EQ(j["streams"][0]["state"], "up");
  EXPECT_EQ(j["streams"][1]["state"], "disabled");
  EXPECT_EQ(j["streams"][1]["config"]["enabled"], false);

  p = r.handle(req("PATCH", "/api/streams/a", R"({"enabled": false})"));
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(body_of(p)["state"], "disabled");
  EXPECT_EQ(body_of(p)["config"]["every"], 3) << "its config is kept";
  EXPECT_FALSE(engine_.stream_config("a")->enabled);
  expect_error(r.handle(req("PATCH", "/api/streams/a", R"({"enabled": "no"})")), 400, "enabled");
  p = r.handle(req("PATCH", "/api/streams/b", R"({"enabled": true})"));
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(body_of(p)["state"], "up");
  EXPECT_EQ(body_of(p)["status"]["id"], "b");
  j = body_of(r.handle(req("GET", "/api/streams/a")));
  EXPECT_EQ(j["state"], "disabled");
  EXPECT_EQ(j["config"]["every"], 3);
}

TEST_F(RouterTest, StatsAliasesHistoryResetAndMetrics) {
  ApiRouter& r = router();
  ASSERT_EQ(r.handle(req("POST", "/api/streams", R"({"id": "a", "url": "rtsp://127.0.0.1/a"})")).status, 201);
  ASSERT_EQ(r.handle(req("POST", "/api/streams", R"({"id": "b", "url": "rtsp://127.0.0.1/b"})")).status, 201);
  for (int i = 0; i < 3; ++i) r.sample();
  const json j = body_of(r.handle(req("GET", "/api/stats")));
  EXPECT_EQ(j["current_fps"], 2 * test::MemoryEngine::kDisplayFps);
  EXPECT_EQ(j["active_streams"], 2);
  EXPECT_EQ(j["inference_avg_ms"], test::MemoryEngine::kInferenceAvgMs);
  EXPECT_EQ(j["inference_time_ms"], test::MemoryEngine::kInferenceAvgMs);
  EXPECT_EQ(j["batch_size"], 2);
  EXPECT_EQ(j["ram_used_mb"], 100);
  EXPECT_EQ(j["provider"], "memory");
  EXPECT_EQ(j["history"]["fps"], json({25.0, 25.0, 25.0}));
  EXPECT_EQ(j["history"]["cpu_percent"].size(), 3U);
  for (std::size_t i = 0; i < ApiRouter::kHistorySamples + 5; ++i) r.sample();
  EXPECT_EQ(body_of(r.handle(req("GET", "/api/stats")))["history"]["ram_mb"].size(), ApiRouter::kHistorySamples);

  EXPECT_EQ(r.handle(req("POST", "/api/stats/reset")).status, 200);
  EXPECT_EQ(engine_.resets(), 1);
  expect_error(r.handle(req("GET", "/api/stats/reset")), 405);

  const ApiResponse m = r.handle(req("GET", "/metrics"));
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.content_type.rfind("text/plain; version=0.0.4", 0), 0U);
  EXPECT_NE(m.body.find("vigil_stream_fps{stream=\"b\",kind=\"display\"} 12.5\n"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("vigil_drops_total{stream=\"a\",reason=\"gate\"} 3\n"), std::string::npos) << m.body;
}

TEST_F(RouterTest, EventsNeedAStoreAndAGoodQuery) {
  ApiRouter& r = router();
  expect_error(r.handle(req("GET", "/api/events")), 503, "event store");
  auto store = SqliteStore::open(dir_ + "/events.db");
  ASSERT_TRUE(store) << store.error().message;
  engine_.set_store(std::move(*store));
  for (int i = 0; i < 4; ++i) {
    Event e;
    e.kind = i == 3 ? EventKind::kZoneEnter : EventKind::kTrackNew;
    e.stream = i % 2 ? "cam2" : "cam1";
    e.wall_time = 1.7e9 + i;
    e.zone = i == 3 ? "door" : "";
    e.class_name = "person";
    ASSERT_TRUE(engine_.store()->add(e));
  }
  engine_.store()->flush();
  json j = body_of(r.handle(req("GET", "/api/events?stream=cam1&limit=5")));
  ASSERT_EQ(j["events"].size(), 2U) << j.dump();
  for (const auto& e : j["events"]) EXPECT_EQ(e["stream"], "cam1");
  j = body_of(r.handle(req("GET", "/api/events?zone=door")));
  ASSERT_EQ(j["events"].size(), 1U);
  EXPECT_EQ(j["events"][0]["kind"], "zone_enter");
  EXPECT_EQ(body_of(r.handle(req("GET", "/api/events?since=1700000002.5")))["events"].size(), 1U);
  expect_error(r.handle(req("GET", "/api/events?limit=abc")), 400, "limit");
  expect_error(r.handle(req("GET", "/api/events?limit=0")), 400);
  expect_error(r.handle(req("GET", "/api/events?colour=red")), 400, "colour");
}

TEST_F(RouterTest, JobsWithoutAManagerAre503) {
  ApiRouter& r = router();
  expect_error(r.handle(req("GET", "/api/jobs")), 503, "not enabled");
  expect_error(r.handle(req("POST", "/api/jobs/", "{}")), 503);
  expect_error(r.handle(req("GET", "/api/jobs/3/report")), 503);
  ApiRequest ws = req("GET", "/ws/jobs/3");
  const MediaRequest m = r.media(ws, true);
  EXPECT_EQ(m.kind, MediaRequest::Kind::kJobSocket);
  ASSERT_TRUE(m.has_error);
  expect_error(m.error, 503);
}

TEST_F(RouterTest, TokenCookieAndCrossOrigin) {
  ServerOptions o;
  o.token = "s3cret";
  ApiRouter& r = router(o);
  expect_error(r.handle(req("GET", "/api/stats")), 401, "token");
  expect_error(r.handle(req("GET", "/no/such/route")), 401);  // unknown paths tell nothing without the token
  ApiRequest bearer = req("GET", "/api/stats");
  bearer.authorization = "Bearer s3cret";
  EXPECT_EQ(r.handle(bearer).status, 200);
  bearer.target = "/no/such/route";
  expect_error(r.handle(bearer), 404);
  ApiRequest cookie = req("POST", "/api/stats/reset");
  cookie.cookie = "a=1; vigil_token=s3cret";
  EXPECT_EQ(r.handle(cookie).status, 200);
  cookie.origin = "http://evil.example";
  expect_error(r.handle(cookie), 403, "Origin");
  cookie.origin = "http://127.0.0.1:8080";
  EXPECT_EQ(r.handle(cookie).status, 200);
  ApiRequest read = req("GET", "/healthz");
  read.cookie = "vigil_token=s3cret";
  read.origin = "http://evil.example";
  EXPECT_EQ(r.handle(read).status, 200);  // reads are not refused
  ApiRequest query_token = req("GET", "/api/stats?token=s3cret");
  expect_error(r.handle(query_token), 401);  // the query carries the token on media routes only
}

TEST_F(RouterTest, LoginPageCookieAndThrottle) {
  expect_error(router().handle(req("GET", "/login")), 404, "no token");
  ServerOptions o;
  o.token = "s3cret";
  o.login_free_attempts = 2;
  ApiRouter& r = router(o);
  ApiResponse a = r.handle(req("GET", "/login"));
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.content_type.rfind("text/html", 0), 0U);
  EXPECT_NE(a.body.find("<form method=\"post\" action=\"/login\">"), std::string::npos) << a.body;
  EXPECT_EQ(a.body.find("<script"), std::string::npos);
  bool csp = false;
  for (const auto& [name, value] : a.headers)
    if (name == "Content-Security-Policy") csp = value.find("form-action 'self'") != std::string::npos;
  EXPECT_TRUE(csp);
  // Its style sheet is a static file: no inline style, no token needed.
  a = r.handle(req("GET", "/static/login.css"));
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.content_type.rfind("text/css", 0), 0U);
  expect_error(r.handle(req("PUT", "/login")), 405);

  ApiRequest post = req("POST", "/login", "token=s3cret");
  post.content_type = "application/x-www-form-urlencoded";
  a = r.handle(post);
  EXPECT_EQ(a.status, 303);
  std::map<std::string, std::string> headers(a.headers.begin(), a.headers.end());
  EXPECT_EQ(headers["Location"], "/");
  EXPECT_EQ(headers["Set-Cookie"], "vigil_token=s3cret; Path=/; HttpOnly; SameSite=Strict");
  post.content_type = "application/json";
  post.body = R"({"token": "s3cret"})";
  EXPECT_EQ(r.handle(post).status, 303);
  post.content_type = "text/plain";
  expect_error(r.handle(post), 415, "text/plain");
  post.content_type = "application/x-www-form-urlencoded";
  post.body = "password=s3cret";
  expect_error(r.handle(post), 400, "token=");
  post.body = "token=s3cret";
  post.origin = "http://evil.example";
  expect_error(r.handle(post), 403, "Origin");

  // Failed attempts from one address: free ones, then a wait (429, Retry-After).
  post.origin.clear();
  post.body = "token=wrong";
  post.remote = "192.0.2.7";
  expect_error(r.handle(post), 401, "wrong token");
  expect_error(r.handle(post), 401);
  expect_error(r.handle(post), 401);  // the third failure sets a 1 s wait
  a = r.handle(post);
  expect_error(a, 429, "too many");
  headers = std::map<std::string, std::string>(a.headers.begin(), a.headers.end());
  EXPECT_EQ(headers["Retry-After"], "1");
  post.remote = "192.0.2.8";  // another address is not throttled
  expect_error(r.handle(post), 401);
}

TEST_F(RouterTest, BrowserWithoutCredentialsGoesToLoginAndStaticFilesStayInside) {
  ServerOptions o;
  o.token = "s3cret";
  ApiRouter& r = router(o);
  ApiRequest browser = req("GET", "/");
  browser.accept = "text/html,*/*;q=0.8";
  ApiResponse a = r.handle(browser);
  EXPECT_EQ(a.status, 303);
  browser.cookie = "vigil_token=s3cret";
  a = r.handle(browser);
  EXPECT_EQ(a.status, 200);
  EXPECT_NE(a.body.find("<!doctype html>"), std::string::npos);
  // Served at "/", the page's relative assets resolve under /static/ from its first element on.
  EXPECT_NE(a.body.find("<head>\n<base href=\"/static/\">"), std::string::npos);
  const ApiResponse direct = r.handle(req("GET", "/static/index.html"));
  ASSERT_EQ(direct.status, 200);
  EXPECT_EQ(direct.body.find("<base"), std::string::npos);  // there the assets are next to the page
  EXPECT_EQ(r.handle(req("GET", "/")).status, 200);  // not a browser: the page, which asks for the token
  for (const char* evil : {"/static/../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd", "/static//etc/passwd"}) {
    a = r.handle(req("GET", evil));
    EXPECT_TRUE(a.status == 400 || a.status == 404) << evil << " -> " << a.status;
    EXPECT_EQ(a.body.find("root:"), std::string::npos);
  }
}

TEST(StaticBase, GoesFirstInTheHeadOnceAndOnlyWhereThereIsAHead) {
  EXPECT_EQ(with_static_base("<html><head><title>t</title></head>"),
            "<html><head>\n<base href=\"/static/\"><title>t</title></head>");
  EXPECT_EQ(with_static_base("<head><base href=\"/x/\"></head>"), "<head><base href=\"/x/\"></head>");
  EXPECT_EQ(with_static_base("<title>no head</title>"), "<title>no head</title>");
}

TEST_F(RouterTest, MediaRoutesAreCheckedBeforeTheyAreServed) {
  ServerOptions o;
  o.token = "tok";
  ApiRouter& r = router(o);
  ASSERT_TRUE(engine_.add_stream(default_stream("cam1", "rtsp://127.0.0.1/cam1")));
  EXPECT_EQ(r.media(req("GET", "/api/streams"), false).kind, MediaRequest::Kind::kNone);
  MediaRequest m = r.media(req("GET", "/api/streams/cam1/mjpeg?fps=5"), false);
  ASSERT_TRUE(m.has_error);
  expect_error(m.error, 401);
  m = r.media(req("GET", "/api/streams/cam1/mjpeg?fps=5&token=tok"), false);
  EXPECT_FALSE(m.has_error) << m.error.body;
  EXPECT_EQ(m.variant.fps, 5);
  m = r.media(req("GET", "/api/streams/nope/snapshot.jpg?token=tok"), false);
  ASSERT_TRUE(m.has_error);
  expect_error(m.error, 404, "nope");
  m = r.media(req("GET", "/api/streams/cam1/mjpeg?fps=99&token=tok"), false);
  ASSERT_TRUE(m.has_error);
  expect_error(m.error, 400, "fps");
  m = r.media(req("GET", "/ws/streams/cam1?token=tok"), false);
  ASSERT_TRUE(m.has_error);
  expect_error(m.error, 400, "WebSocket");
  ApiRequest ws = req("GET", "/ws/events?token=tok");
  ws.origin = "http://evil.example";
  m = r.media(ws, true);
  ASSERT_TRUE(m.has_error);
  expect_error(m.error, 403, "Origin");
  ws.origin = "http://127.0.0.1:8080";
  EXPECT_FALSE(r.media(ws, true).has_error);
  m = r.media(req("POST", "/api/streams/cam1/snapshot.jpg?token=tok"), false);
  ASSERT_TRUE(m.has_error);
  expect_error(m.error, 405);
}

TEST_F(RouterTest, AnExceptionIsA500NotACrash) {
  ApiRouter& r = router();
  engine_.throw_on_stats(true);
  expect_error(r.handle(req("GET", "/api/stats")), 500, "stats exploded");
  expect_error(r.handle(req("GET", "/metrics")), 500, "internal error");
  engine_.throw_on_stats(false);
  EXPECT_EQ(r.handle(req("GET", "/api/stats")).status, 200);
}

}  // namespace
}  // namespace vigil
