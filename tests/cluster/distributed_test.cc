// Distributed offline analysis end to end: a real redis-server started here
// (a free loopback port, a temp dir, AOF on), real `vigil worker` processes
// and the real `vigil analyze --redis` coordinator on a 60 s video made from
// vtest.avi by ffmpeg. Every distributed run must give the bytes of the
// local run with the same chunking (results.json, events.jsonl,
// timeline.csv): plain, after a worker is killed -9 mid-chunk (its task is
// taken over after --claim-idle), after the coordinator is killed -9 and run
// again (it resumes: nothing queued twice), across a Redis restart, and with
// the video given as an http:// URL served with byte ranges
// (tests/cluster/range_file_server.py; Debian's python3 -m http.server
// serves none, and such a URL is refused).
// Waits are conditions with deadlines (tests/wait.h), read from Redis.
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cluster/redis_client.h"
#include "cluster/redis_fixture.h"
#include "test_support.h"
#include "wait.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::ChildProcess;

const std::string kVtest = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";
// 3 chunks of 20 s, 60 samples each: long enough to kill a worker inside one.
const std::vector<std::string> kOpts = {"--sample-fps", "3", "--chunk", "20", "--progress", "lines"};
const std::vector<std::string> kOutputs = {"results.json", "events.jsonl", "timeline.csv"};

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string fresh_dir(const std::string& name) {
  const std::string d = std::string(VIGIL_TEST_TMP) + "/distributed_" + name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// The fixture video, made once per build: 60 s of vtest.avi, H.264, a keyframe a second.
const std::string& video() {
  static const std::string path = [] {
    const std::string p = std::string(VIGIL_TEST_TMP) + "/distributed_vtest60.mp4";
    if (!fs::exists(p)) {
      const auto r = test::run_process("ffmpeg -nostdin -hide_banner -loglevel error -y -i " + kVtest +
                                       " -t 60 -c:v libx264 -preset veryfast -pix_fmt yuv420p -g 10 " + p + ".tmp.mp4 && mv " +
                                       p + ".tmp.mp4 " + p);
      EXPECT_EQ(r.exit_code, 0) << r.err;
    }
    return p;
  }();
  return path;
}

std::vector<std::string> analyze_argv(const std::string& out, const std::string& redis_url) {
  std::vector<std::string> argv{VIGIL_BINARY, "analyze", video()};
  argv.insert(argv.end(), kOpts.begin(), kOpts.end());
  argv.insert(argv.end(), {"-o", out});
  if (!redis_url.empty()) argv.insert(argv.end(), {"--redis", redis_url});
  return argv;
}

std::string join(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

// The local run with the same chunking (reused while newer than the binary).
const std::string& local_dir() {
  static const std::string dir = [] {
    const std::string d = std::string(VIGIL_TEST_TMP) + "/distributed_local";
    std::error_code ec;
    const auto done = fs::last_write_time(d + "/run.json", ec);
    if (!ec && done > fs::last_write_time(VIGIL_BINARY)) return d;
    fs::remove_all(d);
    auto argv = analyze_argv(d, "");
    argv.insert(argv.end(), {"--workers", "1"});
    const auto r = test::run_process(join(argv));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return d;
  }();
  return dir;
}

void expect_same_outputs(const std::string& dist) {
  for (const auto& f : kOutputs) {
    const std::string want = slurp(local_dir() + "/" + f);
    ASSERT_FALSE(want.empty()) << f;
    EXPECT_EQ(slurp(dist + "/" + f), want) << f << " of " << dist << " differs from the local run's";
  }
}

class DistributedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(local_dir().empty());
    dir_ = fresh_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    redis_ = std::make_unique<test::RedisServer>(dir_ + "/redis");
    ASSERT_TRUE(redis_->start()) << "redis-server did not start: " << dir_ << "/redis/redis.log";
    RedisClientOptions o;
    o.url = *parse_redis_url(redis_->url());
    auto c = RedisClient::connect(o);
    ASSERT_TRUE(c) << c.error().message;
    client_ = std::move(*c);
  }

  std::unique_ptr<ChildProcess> worker(const std::string& name, const std::string& claim_idle = "1.5") {
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{VIGIL_BINARY, "worker", "--redis", redis_->url(), "--name", name, "--workers", "1",
                                 "--claim-idle", claim_idle},
        dir_ + "/" + name + ".log");
  }
  std::unique_ptr<ChildProcess> coordinator(const std::string& out, const std::string& log) {
    return std::make_unique<ChildProcess>(analyze_argv(out, redis_->url()), dir_ + "/" + log);
  }
  int wait_exit(ChildProcess& p, std::chrono::seconds timeout = 240s) {
    EXPECT_TRUE(test::eventually([&] { return p.exited(); }, timeout, 100ms)) << "still running after " << timeout.count() << " s";
    return p.wait();
  }

  // state and worker of every task in Redis (task key -> {state, worker}).
  std::map<std::string, std::pair<std::string, std::string>> tasks() {
    std::map<std::string, std::pair<std::string, std::string>> out;
    auto keys = client_->call({"KEYS", "vigil:task:*"});
    if (!keys) return out;
    for (const auto& k : keys->elements) {
      auto r = client_->call({"HMGET", k.str, "state", "worker"});
      if (r && r->elements.size() == 2) out[k.str] = {r->elements[0].text(), r->elements[1].text()};
    }
    return out;
  }
  int count_tasks(const std::string& state) {
    int n = 0;
    for (const auto& [key, t] : tasks()) n += t.first == state;
    return n;
  }
  nlohmann::json run_json(const std::string& out) { return nlohmann::json::parse(slurp(out + "/run.json")); }

  std::string dir_;
  std::unique_ptr<test::RedisServer> redis_;
  std::unique_ptr<RedisClient> client_;
};

TEST_F(DistributedTest, ThreeWorkersGiveTheLocalBytes) {
  // --claim-idle 0.5: shorter than any chunk here (60 samples), so only heartbeats keep them.
  auto a = worker("wa", "0.5"), b = worker("wb", "0.5"), c = worker("wc", "0.5");
  const std::string out = dir_ + "/out";
  auto coord = coordinator(out, "coordinator.log");
  ASSERT_EQ(wait_exit(*coord), 0) << slurp(dir_ + "/coordinator.log");
  expect_same_outputs(out);
  const auto run = run_json(out);
  std::set<std::string> workers;
  for (const auto& ch : run["this_run"]["chunks"]) workers.insert(ch.value("worker", ""));
  EXPECT_EQ(run["this_run"]["chunks"].size(), 3u);
  EXPECT_GE(workers.size(), 1u);
  for (const auto& w : workers) EXPECT_TRUE(w == "wa" || w == "wb" || w == "wc") << w;
  // Chunks run longer than --claim-idle: the heartbeats keep them
  // from being taken over by the other, idle, workers.
  for (const std::string w : {"wa", "wb", "wc"})
    EXPECT_EQ(slurp(dir_ + "/" + w + ".log").find("took over"), std::string::npos) << w;
  for (const auto& ch : run["this_run"]["chunks"]) EXPECT_GT(ch.value("seconds", 0.0), 0.5) << ch.dump();
  // Finished: the job's tasks and spec are gone from Redis, the stream is empty.
  EXPECT_TRUE(tasks().empty());
  EXPECT_EQ(client_->call({"XLEN", "vigil:chunks"})->integer, 0);
  EXPECT_TRUE(client_->call({"KEYS", "vigil:job:*"})->elements.empty());
}

TEST_F(DistributedTest, AWorkerKilledMidChunkIsTakenOverWithTheSameBytes) {
  auto a = worker("wa");
  const std::string out = dir_ + "/out";
  auto coord = coordinator(out, "coordinator.log");
  // wa is inside a chunk: its task is running and not done.
  std::string victim;
  ASSERT_TRUE(test::eventually(
      [&] {
        for (const auto& [key, t] : tasks())
          if (t.first == "running" && t.second == "wa") victim = key;
        return !victim.empty();
      },
      120s, 20ms));
  a->signal(SIGKILL);
  ASSERT_EQ(tasks()[victim].first, "running") << "the chunk finished before the kill";
  auto b = worker("wb");
  ASSERT_EQ(wait_exit(*coord), 0) << slurp(dir_ + "/coordinator.log");
  expect_same_outputs(out);
  const int idx = std::stoi(victim.substr(victim.rfind(':') + 1));
  bool taken_over = false;
  const auto run = run_json(out);
  for (const auto& ch : run["this_run"]["chunks"])
    if (ch.value("index", -1) == idx) taken_over = ch.value("worker", "") == "wb";
  EXPECT_TRUE(taken_over) << "chunk " << idx << " was not finished by wb";
  EXPECT_NE(slurp(dir_ + "/wb.log").find("took over " + victim), std::string::npos) << slurp(dir_ + "/wb.log");
}

TEST_F(DistributedTest, TheCoordinatorKilledAndRunAgainResumesWithoutDuplicates) {
  auto a = worker("wa");
  const std::string out = dir_ + "/out";
  auto first = coordinator(out, "coordinator1.log");
  ASSERT_TRUE(test::eventually([&] { return count_tasks("done") >= 1; }, 120s, 20ms));
  first->signal(SIGKILL);
  const std::size_t queued = tasks().size();
  EXPECT_EQ(queued, 3u);
  auto second = coordinator(out, "coordinator2.log");
  ASSERT_EQ(wait_exit(*second), 0) << slurp(dir_ + "/coordinator2.log");
  expect_same_outputs(out);
  const std::string log = slurp(dir_ + "/coordinator2.log");
  EXPECT_NE(log.find("(resumed)"), std::string::npos) << log;
  EXPECT_NE(log.find("(0 new tasks)"), std::string::npos) << "the rerun queued tasks again:\n" << log;
}

TEST_F(DistributedTest, RedisRestartedMidJobIsWaitedOut) {
  auto a = worker("wa");
  const std::string out = dir_ + "/out";
  auto coord = coordinator(out, "coordinator.log");
  ASSERT_TRUE(test::eventually([&] { return count_tasks("done") >= 1; }, 120s, 20ms));
  ASSERT_LT(count_tasks("done"), 3) << "the job finished before the restart";
  redis_->stop();
  ASSERT_TRUE(redis_->start());
  ASSERT_EQ(wait_exit(*coord), 0) << slurp(dir_ + "/coordinator.log");
  expect_same_outputs(out);
}

TEST_F(DistributedTest, AWorkerThatCannotOpenTheVideoFailsTheTaskNamingBoth) {
  // The video is copied, queued, then moved away before any worker runs.
  const std::string copy = dir_ + "/moved.mp4";
  fs::copy_file(video(), copy);
  std::vector<std::string> argv{VIGIL_BINARY, "analyze", copy, "--sample-fps", "1", "--chunk", "30",
                                "--progress", "lines", "-o", dir_ + "/out", "--redis", redis_->url()};
  ChildProcess coord(argv, dir_ + "/coordinator.log");
  ASSERT_TRUE(test::eventually([&] { return tasks().size() == 2; }, 60s, 20ms));
  fs::rename(copy, dir_ + "/elsewhere.mp4");
  auto a = worker("wa");
  ASSERT_TRUE(test::eventually([&] { return coord.exited(); }, 120s, 100ms));
  EXPECT_EQ(coord.wait(), 1);
  const std::string log = slurp(dir_ + "/coordinator.log");
  EXPECT_NE(log.find("failed: worker wa: video " + copy + ": no such file on this worker"), std::string::npos) << log;
}

// A file server on a free loopback port: range_file_server.py (byte ranges)
// or Debian's python3 -m http.server (none), serving `dir`.
class FileServer {
 public:
  FileServer(const std::string& dir, bool ranges, const std::string& log) : port_(test::free_port()) {
    std::vector<std::string> argv = ranges ? std::vector<std::string>{"/usr/bin/python3", kRangeServer, dir, std::to_string(port_)}
                                           : std::vector<std::string>{"/usr/bin/python3", "-m", "http.server", "--bind",
                                                                      "127.0.0.1", "--directory", dir, std::to_string(port_)};
    process_ = std::make_unique<ChildProcess>(argv, log);
    started_ = test::eventually([&] { return test::port_open(port_); }, 20s, 20ms);
  }
  bool started() const { return started_; }
  std::string url(const std::string& file) const { return "http://127.0.0.1:" + std::to_string(port_) + "/" + file; }

 private:
  static constexpr const char* kRangeServer = VIGIL_SOURCE_DIR "/tests/cluster/range_file_server.py";
  int port_;
  std::unique_ptr<ChildProcess> process_;
  bool started_ = false;
};

// results.json of a URL run names the URL where the local run names the path.
nlohmann::json results_without_video_path(const std::string& dir) {
  auto j = nlohmann::json::parse(slurp(dir + "/results.json"));
  j["video"].erase("path");
  return j;
}

TEST_F(DistributedTest, AnHttpUrlWithByteRangesGivesTheLocalBytes) {
  const std::string www = dir_ + "/www";
  fs::create_directories(www);
  const std::string name = fs::path(video()).filename().string();
  fs::copy_file(video(), www + "/" + name);
  FileServer server(www, true, dir_ + "/http.log");
  ASSERT_TRUE(server.started()) << slurp(dir_ + "/http.log");
  auto a = worker("wa"), b = worker("wb");
  const std::string out = dir_ + "/out";
  std::vector<std::string> argv{VIGIL_BINARY, "analyze", server.url(name)};
  argv.insert(argv.end(), kOpts.begin(), kOpts.end());
  argv.insert(argv.end(), {"-o", out, "--redis", redis_->url()});
  ChildProcess coord(argv, dir_ + "/coordinator.log");
  ASSERT_EQ(wait_exit(coord), 0) << slurp(dir_ + "/coordinator.log");
  for (const std::string f : {"events.jsonl", "timeline.csv"})
    EXPECT_EQ(slurp(out + "/" + f), slurp(local_dir() + "/" + f)) << f << " of the URL run differs from the local run's";
  EXPECT_EQ(results_without_video_path(out), results_without_video_path(local_dir()));
  EXPECT_EQ(run_json(out)["this_run"]["chunks"].size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(slurp(out + "/results.json"))["video"]["path"], server.url(name));
  // The chunks after the first were read from where they start: range requests.
  const std::string http_log = slurp(dir_ + "/http.log");
  EXPECT_NE(http_log.find("\" 206 "), std::string::npos) << http_log;
}

TEST_F(DistributedTest, AWorkerThatCannotFetchTheUrlFailsTheTaskNamingIt) {
  const std::string www = dir_ + "/www";
  fs::create_directories(www);
  fs::copy_file(video(), www + "/gone.mp4");
  FileServer server(www, true, dir_ + "/http.log");
  ASSERT_TRUE(server.started()) << slurp(dir_ + "/http.log");
  std::vector<std::string> argv{VIGIL_BINARY, "analyze", server.url("gone.mp4"), "--sample-fps", "1", "--chunk", "30",
                                "--progress", "lines", "-o", dir_ + "/out", "--redis", redis_->url()};
  ChildProcess coord(argv, dir_ + "/coordinator.log");
  ASSERT_TRUE(test::eventually([&] { return tasks().size() == 2; }, 60s, 20ms));
  fs::remove(www + "/gone.mp4");
  auto a = worker("wa");
  ASSERT_TRUE(test::eventually([&] { return coord.exited(); }, 120s, 100ms));
  EXPECT_EQ(coord.wait(), 1);
  const std::string log = slurp(dir_ + "/coordinator.log");
  EXPECT_NE(log.find("failed: worker wa: source " + server.url("gone.mp4") + ": cannot open"), std::string::npos) << log;
}

TEST(DistributedErrorsTest, UrlsWithoutByteRangesOrWithSecretsAreRefused) {
  const std::string www = fresh_dir("no_ranges");
  fs::copy_file(video(), www + "/plain.mp4");
  FileServer plain(www, false, www + "/http.log");
  ASSERT_TRUE(plain.started()) << slurp(www + "/http.log");
  auto r = test::run_process(std::string(VIGIL_BINARY) + " analyze " + plain.url("plain.mp4") + " -o " + www + "/out");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("video " + plain.url("plain.mp4") + ": the server does not answer byte-range requests"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(www + "/out")) << "a refused video must not leave an output folder";
  r = test::run_process(std::string(VIGIL_BINARY) + " analyze 'http://me:hush@127.0.0.1:1/a.mp4' -o " + www + "/out2");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("video http://me:***@127.0.0.1:1/a.mp4: a URL with a password or token"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("hush"), std::string::npos) << r.err;
  r = test::run_process(std::string(VIGIL_BINARY) + " analyze rtsp://127.0.0.1:1/cam -o " + www + "/out3");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("video rtsp://127.0.0.1:1/cam: offline analysis reads files and http(s) URLs"), std::string::npos)
      << r.err;
}

TEST(DistributedErrorsTest, BadRedisUrlsAndUnreachableRedisAreClear) {
  auto r = test::run_process(std::string(VIGIL_BINARY) + " worker --redis http://127.0.0.1:1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--redis: redis URL 'http://127.0.0.1:1': does not start with redis://"), std::string::npos) << r.err;
  r = test::run_process(std::string(VIGIL_BINARY) + " worker --redis redis://127.0.0.1:6379 --claim-idle 0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--claim-idle"), std::string::npos) << r.err;
  r = test::run_process(std::string(VIGIL_BINARY) + " analyze " + video() + " --redis redis://u:hush@h:0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--redis: redis URL 'redis://u:***@h:0': port '0'"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("hush"), std::string::npos) << r.err;
  const std::string bad_config = fresh_dir("bad_config") + "/vigil.yaml";
  std::ofstream(bad_config) << "jobs:\n  redis: \"redis://:pw@host:99999\"\n";
  r = test::run_process(std::string(VIGIL_BINARY) + " analyze " + video() + " -c " + bad_config);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("jobs.redis: redis URL 'redis://:***@host:99999': port '99999'"), std::string::npos) << r.err;
  const int closed = test::free_port();
  r = test::run_process(std::string(VIGIL_BINARY) + " worker --redis redis://127.0.0.1:" + std::to_string(closed));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("redis redis://127.0.0.1:" + std::to_string(closed)), std::string::npos) << r.err;
}

}  // namespace
}  // namespace vigil
