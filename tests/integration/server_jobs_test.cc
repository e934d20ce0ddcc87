// Offline jobs through the HTTP API on real sockets (tests/server_fixture.h).
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>
#include <utility>  // before Boost 1.74 asio: its awaitable.hpp uses std::exchange

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "jobs/job_manager.h"
#include "server_fixture.h"

namespace vigil {
namespace {

using namespace http_test;
using test::kVideos;
using test::video_stats;
using test::frames_of;

// Offline jobs through the API: a second server over the same engine with a
// JobManager (one job at a time) on a fresh jobs directory.
class ServerJobsTest : public test::ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    jobs_dir_ = test::tmp_dir("jobs_api") + "/" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(jobs_dir_);
    JobManagerOptions jo;
    jo.jobs.dir = jobs_dir_;
    jo.jobs.concurrency = 1;
    jo.jobs.workers = 2;
    jo.model_path = VIGIL_DEFAULT_MODEL;
    jo.device = "cpu";
    auto jm = JobManager::create(jo);
    ASSERT_TRUE(jm) << jm.error().message;
    jobs_ = std::move(*jm);
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.media_dir = kVideos;
    o.jobs = jobs_.get();
    auto srv = HttpServer::start(o, *engine_);
    ASSERT_TRUE(srv) << srv.error().message;
    jobs_server_ = std::move(*srv);
    jport_ = jobs_server_->port();
  }
  void TearDown() override {
    jobs_server_.reset();
    jobs_.reset();
  }
  json submit(const json& body, int expect_status) {
    const Reply r = request(jport_, http::verb::post, "/api/jobs", body.dump());
    EXPECT_EQ(r.status, expect_status) << r.body;
    return r.parsed();
  }
  json job(std::int64_t id) { return get(jport_, "/api/jobs/" + std::to_string(id)).parsed(); }
  // Polls until the job's state is `state` (or 180 s pass).
  json wait_state(std::int64_t id, const std::string& state) {
    json j;
    test::eventually([&] { return (j = job(id)).value("state", "") == state; }, 180s, 100ms);
    return j;
  }

  std::string jobs_dir_;
  std::unique_ptr<JobManager> jobs_;
  std::unique_ptr<HttpServer> jobs_server_;
  std::uint16_t jport_ = 0;
};


TEST_F(ServerJobsTest, JobRunsWithProgressOverWebSocketAndServesItsReport) {
  const json created = submit({{"path", "long.mp4"}, {"sample_fps", 0.2}, {"chunk_s", 120}}, 201);
  ASSERT_TRUE(created.contains("id")) << created.dump();
  const std::int64_t id = created["id"];
  EXPECT_EQ(created["video"], (std::filesystem::path(kVideos) / "long.mp4").lexically_normal().string());
  // Progress events until the job ends: monotonic, the last one says done.
  asio::io_context ioc;
  auto ws = ws_connect(ioc, jport_, "/ws/jobs/" + std::to_string(id));
  double last = -1;
  int messages = 0;
  std::string state;
  for (int i = 0; i < 2000 && state != "done"; ++i) {
    const WsMessage m = ws_read(ioc, *ws, 60s);
    if (!m.ok) break;
    const json p = json::parse(m.data);
    EXPECT_EQ(p["type"], "progress");
    EXPECT_EQ(p["job_id"], id);
    const double f = p.value("progress", 0.0);
    EXPECT_GE(f, last) << m.data;
    last = f;
    state = p.value("state", "");
    ++messages;
  }
  EXPECT_EQ(state, "done");
  EXPECT_DOUBLE_EQ(last, 1.0);
  EXPECT_GE(messages, 3);
  const json done = wait_state(id, "done");
  ASSERT_EQ(done["chunks"].size(), 6u) << done.dump();  // 636 s in 120 s chunks
  for (const auto& c : done["chunks"]) EXPECT_EQ(c["state"], "done") << c.dump();
  EXPECT_EQ(done["report"], "/api/jobs/" + std::to_string(id) + "/report");
  const Reply report = get(jport_, "/api/jobs/" + std::to_string(id) + "/report");
  EXPECT_EQ(report.status, 200);
  EXPECT_EQ(report.content_type, "text/html; charset=utf-8");
  EXPECT_NE(report.body.find("<svg"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(jobs_dir_ + "/" + std::to_string(id) + "/timeline.csv"));
  // Listed; the same request again is the same job (200, not a new one).
  const json list = get(jport_, "/api/jobs").parsed();
  ASSERT_EQ(list["jobs"].size(), 1u);
  EXPECT_EQ(list["jobs"][0]["id"], id);
  const json again = submit({{"path", "long.mp4"}, {"sample_fps", 0.2}, {"chunk_s", 120}}, 200);
  EXPECT_EQ(again["id"], id);
  // A finished job cannot be cancelled.
  expect_error(request(jport_, http::verb::delete_, "/api/jobs/" + std::to_string(id)), 409, "already done");
}

TEST_F(ServerJobsTest, JobsQueueWithinTheConcurrencyAndCanBeCancelled) {
  const json a = submit({{"path", "long.mp4"}, {"sample_fps", 1}, {"chunk_s", 60}}, 201);
  const json b = submit({{"path", "vtest20.mp4"}, {"sample_fps", 1}}, 201);
  const std::int64_t ia = a["id"], ib = b["id"];
  wait_state(ia, "running");
  EXPECT_EQ(job(ib)["state"], "queued");  // concurrency 1: B waits for A
  // Cancel the queued one, then the running one.
  const Reply cb = request(jport_, http::verb::delete_, "/api/jobs/" + std::to_string(ib));
  EXPECT_EQ(cb.status, 200) << cb.body;
  EXPECT_EQ(job(ib)["state"], "cancelled");
  const Reply ca = request(jport_, http::verb::delete_, "/api/jobs/" + std::to_string(ia));
  EXPECT_EQ(ca.status, 200) << ca.body;
  const json cancelled = wait_state(ia, "cancelled");
  EXPECT_EQ(cancelled["state"], "cancelled");
  for (const auto& c : cancelled["chunks"]) EXPECT_NE(c["state"], "running") << c.dump();
  expect_error(request(jport_, http::verb::delete_, "/api/jobs/" + std::to_string(ia)), 409, "already cancelled");
}

TEST_F(ServerJobsTest, StoppingTheServerKeepsARunningJobForTheNextStartAndLocksTheDirectory) {
  const json a = submit({{"path", "long.mp4"}, {"sample_fps", 0.5}, {"chunk_s", 60}}, 201);
  const std::int64_t id = a["id"];
  wait_state(id, "running");
  // Another server on the same jobs.dir is refused while this one holds it.
  JobManagerOptions other;
  other.jobs.dir = jobs_dir_;
  other.model_path = VIGIL_DEFAULT_MODEL;
  const auto second = JobManager::create(other);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("in use by another vigil process"), std::string::npos) << second.error().message;
  // Stop while it runs: the job is not cancelled...
  jobs_server_.reset();
  jobs_.reset();
  // ... and a new start picks it up and finishes it.
  JobManagerOptions again;
  again.jobs.dir = jobs_dir_;
  again.jobs.workers = 2;
  again.model_path = VIGIL_DEFAULT_MODEL;
  again.device = "cpu";
  auto jm = JobManager::create(again);
  ASSERT_TRUE(jm) << jm.error().message;
  jobs_ = std::move(*jm);
  json j;
  test::eventually(
      [&] {
        auto g = jobs_->get(id);
        if (!g) {
          ADD_FAILURE() << g.error().message;
          return true;
        }
        j = *g;
        return j["state"] == "done" || j["state"] == "cancelled" || j["state"] == "failed";
      },
      180s, 100ms);
  EXPECT_EQ(j["state"], "done") << j.dump().substr(0, 400);
}

TEST_F(ServerJobsTest, BadJobRequestsAreClearErrors) {
  struct Case {
    json body;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{{"path", "/etc/hostname"}}, "media"},
      {{{"path", "../../../etc/passwd"}}, "media"},
      {{{"path", "missing.mp4"}}, "missing.mp4"},
      {{{"path", "random.mp4"}}, "random.mp4"},
      {{{"path", "empty.mp4"}}, "empty"},
      {{{"path", "audio_only.m4a"}}, "no video stream"},
      {{{"path", "rtsp://127.0.0.1/cam"}}, "file inside the media directory"},
      {{{"path", "long.mp4"}, {"sample_fps", 0}}, "sample_fps"},
      {{{"path", "long.mp4"}, {"chunk_s", -1}}, "chunk"},
      {{{"path", "long.mp4"}, {"chunk_s", 0.01}}, "at least 1 second"},
      {{{"path", "long.mp4"}, {"classes", {"unicorn"}}}, "unicorn"},
      {{{"path", "long.mp4"}, {"speed", 2}}, "unknown field 'speed'"},
      {{{"sample_fps", 1}}, "path"},
  };
  for (const auto& c : cases) expect_error(request(jport_, http::verb::post, "/api/jobs", c.body.dump()), 400, c.message);
  expect_error(request(jport_, http::verb::post, "/api/jobs", "{nope"), 400);
  expect_error(get(jport_, "/api/jobs/999"), 404, "does not exist");
  expect_error(get(jport_, "/api/jobs/abc"), 404);
  expect_error(get(jport_, "/api/jobs/999/report"), 404);
  expect_error(request(jport_, http::verb::delete_, "/api/jobs/999"), 404);
  expect_error(request(jport_, http::verb::put, "/api/jobs"), 405);
  expect_error(get(jport_, "/ws/jobs/999", {{"Upgrade", "websocket"}, {"Connection", "Upgrade"},
                                            {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                                            {"Sec-WebSocket-Version", "13"}}),
               404);
  EXPECT_TRUE(get(jport_, "/api/jobs").parsed()["jobs"].empty());  // nothing was queued
  // The main server has no JobManager: 503.
  expect_error(get(port_, "/api/jobs"), 503);
}

// A file name with a space and capitals (made by make_test_videos.sh): the
// job's stream id is the name's slug, the outputs keep the real name.
TEST_F(ServerJobsTest, FileNameWithSpacesIsAccepted) {
  const json created = submit({{"path", "My Video.mp4"}, {"sample_fps", 2}}, 201);
  ASSERT_TRUE(created.contains("id")) << created.dump();
  const std::int64_t id = created["id"].get<std::int64_t>();
  const json done = wait_state(id, "done");
  ASSERT_EQ(done.value("state", ""), "done") << done.dump();
  std::ifstream f(done["out_dir"].get<std::string>() + "/results.json");
  const json results = json::parse(f);
  EXPECT_EQ(results["video"]["name"], "My Video.mp4");
  EXPECT_EQ(results["video"]["stream"], "my_video");
  EXPECT_EQ(results["summary"]["samples"], 6);  // 3 s at 2 samples/s
}

}  // namespace
}  // namespace vigil
