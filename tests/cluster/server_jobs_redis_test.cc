// Server jobs with jobs.redis: POST /api/jobs queues the chunks in a real
// redis-server (started here), a real `vigil worker` analyses them, progress
// arrives on /ws/jobs/{id} as for a local job, and the outputs are the bytes
// of `vigil analyze` run locally on the same file with the same options.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>  // before Boost 1.74 asio: its awaitable.hpp uses std::exchange

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cluster/redis_fixture.h"
#include "jobs/job_manager.h"
#include "server_fixture.h"

namespace vigil {
namespace {

using namespace http_test;
using test::kVideos;

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class ServerJobsRedisTest : public test::ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    dir_ = test::tmp_dir("jobs_redis");
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    redis_ = std::make_unique<test::RedisServer>(dir_ + "/redis");
    ASSERT_TRUE(redis_->start());
    worker_ = std::make_unique<test::ChildProcess>(
        std::vector<std::string>{VIGIL_BINARY, "worker", "--redis", redis_->url(), "--name", "w1"}, dir_ + "/w1.log");
    JobManagerOptions jo;
    jo.jobs.dir = dir_ + "/jobs";
    jo.jobs.redis = redis_->url();
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

  std::string dir_;
  std::unique_ptr<test::RedisServer> redis_;
  std::unique_ptr<test::ChildProcess> worker_;
  std::unique_ptr<JobManager> jobs_;
  std::unique_ptr<HttpServer> jobs_server_;
  std::uint16_t jport_ = 0;
};

TEST_F(ServerJobsRedisTest, PostedJobIsDistributedWithProgressAndTheLocalBytes) {
  const Reply r = request(jport_, http::verb::post, "/api/jobs",
                          json{{"path", "vtest20.mp4"}, {"sample_fps", 2}, {"chunk_s", 5}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  const std::int64_t id = r.parsed()["id"];
  asio::io_context ioc;
  auto ws = ws_connect(ioc, jport_, "/ws/jobs/" + std::to_string(id));
  std::string state;
  int max_done = 0;
  for (int i = 0; i < 2000 && state != "done" && state != "failed"; ++i) {
    const WsMessage m = ws_read(ioc, *ws, 120s);
    if (!m.ok) break;
    const json p = json::parse(m.data);
    state = p.value("state", "");
    max_done = std::max(max_done, p.value("chunks_done", 0));
  }
  ASSERT_EQ(state, "done") << slurp(dir_ + "/w1.log");
  EXPECT_EQ(max_done, 4);  // 20 s in 5 s chunks
  // Analysed by the worker: its name is in the job's run.json.
  const std::string out = dir_ + "/jobs/" + std::to_string(id);
  EXPECT_NE(slurp(out + "/run.json").find("\"worker\": \"w1\""), std::string::npos);

  const std::string local = dir_ + "/local";
  const auto lr = test::run_process(std::string(VIGIL_BINARY) + " analyze " + kVideos +
                                    "/vtest20.mp4 --sample-fps 2 --chunk 5 --progress none --model " +
                                    VIGIL_DEFAULT_MODEL + " -o " + local);
  ASSERT_EQ(lr.exit_code, 0) << lr.err;
  for (const std::string f : {"results.json", "events.jsonl", "timeline.csv"})
    EXPECT_EQ(slurp(out + "/" + f), slurp(local + "/" + f)) << f;
}

}  // namespace
}  // namespace vigil
