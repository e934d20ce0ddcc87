// POST and PATCH /api/streams on a real server (127.0.0.1, ephemeral port)
// over a real Engine: JSON bodies are read by the stream field table with
// their JSON types, so a string where a number or a boolean belongs is a 400
// naming the field and the type, and nothing already running changes.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "pipeline/engine.h"
#include "server/http_server.h"
#include "http_test_client.h"
#include "test_engine.h"
#include "test_support.h"

namespace vigil {
namespace {

using namespace http_test;

class StreamConfigApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto e = test::start_looping_engine("stream_config_api");
    ASSERT_TRUE(e) << e.error().message;
    engine_ = std::move(*e);
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.media_dir = VIGIL_TEST_VIDEOS_DIR;
    auto srv = HttpServer::start(o, *engine_);
    ASSERT_TRUE(srv) << srv.error().message;
    server_ = std::move(*srv);
    port_ = server_->port();
  }
  void TearDown() override {
    server_.reset();
    if (engine_) engine_->stop();
  }

  std::unique_ptr<Engine> engine_;
  std::unique_ptr<HttpServer> server_;
  std::uint16_t port_ = 0;
};

TEST_F(StreamConfigApiTest, PostRefusesStringsForNumbersAndBooleans) {
  auto r = request(port_, http::verb::post, "/api/streams", R"({"id": "typed", "url": "vtest20.mp4", "every": "4"})");
  expect_error(r, 400, "streams[0].every: expected an integer, got the string \"4\"");
  r = request(port_, http::verb::post, "/api/streams", R"({"id": "typed", "url": "vtest20.mp4", "loop": "yes"})");
  expect_error(r, 400, "streams[0].loop: expected true or false, got the string \"yes\"");
  // Several problems: all in one answer.
  r = request(port_, http::verb::post, "/api/streams",
              R"({"id": "typed", "url": "vtest20.mp4", "every": "4", "loop": "yes", "conf": "high"})");
  expect_error(r, 400, "3 errors:");
  EXPECT_NE(r.body.find("streams[0].conf: expected a number"), std::string::npos) << r.body;
  expect_error(get(port_, "/api/streams/typed"), 404);  // nothing was added

  r = request(port_, http::verb::post, "/api/streams", R"({"id": "typed", "url": "vtest20.mp4", "every": 4, "loop": true})");
  ASSERT_EQ(r.status, 201) << r.body;
  const json config = r.parsed()["config"];
  EXPECT_EQ(config["every"], 4);
  EXPECT_EQ(config["loop"], true);
}

TEST_F(StreamConfigApiTest, PatchRefusesWrongTypesAndKeepsTheStream) {
  auto r = request(port_, http::verb::patch, "/api/streams/cam1", R"({"every": "2"})");
  expect_error(r, 400, "streams[0].every: expected an integer, got the string \"2\"");
  r = request(port_, http::verb::patch, "/api/streams/cam1", R"({"gate": {"enabled": "true"}})");
  expect_error(r, 400, "streams[0].gate.enabled: expected true or false, got the string \"true\"");
  const json config = get(port_, "/api/streams/cam1").parsed()["config"];
  EXPECT_EQ(config["every"], engine_->stream("cam1")->config().every);
  EXPECT_EQ(config["gate"]["enabled"], false);
  r = request(port_, http::verb::patch, "/api/streams/cam1", R"({"every": 3})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.parsed()["config"]["every"], 3);
}

}  // namespace
}  // namespace vigil
