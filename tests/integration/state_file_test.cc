// Settings that survive a restart, through the real `vigil run` binary and
// real HTTP on 127.0.0.1 (curl): a stream added, a zone drawn (PATCH) and a
// config stream deleted through the API are so after a restart with the same
// config; streams added through the API start from the config's defaults; a
// state file that cannot be read is reported, kept, and the config's streams run;
// SIGHUP with an edited config removes and adds streams and leaves the
// unchanged one running; a SIGHUP with a bad config keeps what runs.
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"
#include "wait.h"

namespace vigil {
namespace {

using nlohmann::json;
constexpr const char* kVideoDir = "/usr/share/doc/opencv-doc/examples/data";
constexpr int kPort = 18937;

std::string read_all(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// `vigil run -c CONFIG` in the background, stderr to a file; SIGINT at the end.
class VigilRun {
 public:
  VigilRun(const std::string& config, const std::string& log) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string listen = "127.0.0.1:" + std::to_string(kPort);
      std::freopen(log.c_str(), "w", stderr);
      ::execl(VIGIL_BINARY, "vigil", "run", "-c", config.c_str(), "--listen", listen.c_str(), "--media-dir", kVideoDir,
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~VigilRun() { stop(); }
  void signal(int sig) const { ::kill(pid_, sig); }
  int stop() {
    if (pid_ <= 0) return status_;
    ::kill(pid_, SIGINT);
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return status_;
  }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

std::string curl(const std::string& method, const std::string& target, const std::string& body = "") {
  std::string cmd = "curl -s -X " + method + " http://127.0.0.1:" + std::to_string(kPort) + target;
  if (!body.empty()) cmd += " -d '" + body + "'";
  return test::run_process(cmd).out;
}

json streams_now() {
  const std::string out = curl("GET", "/api/streams");
  const json j = json::parse(out, nullptr, false);
  return j.is_object() && j.contains("streams") ? j["streams"] : json();
}

bool api_up() { return streams_now().is_array(); }

const json* find(const json& streams, const std::string& id) {
  for (const auto& s : streams)
    if (s["id"] == id) return &s;
  return nullptr;
}

std::string write_config(const std::string& dir) {
  const std::string path = dir + "/vigil.yaml";
  std::ofstream(path) << "defaults:\n  every: 3\n  conf: 0.4\nstreams:\n"
                      << "  - {id: keep, url: " << kVideoDir << "/vtest.avi, loop: true}\n"
                      << "  - {id: gone, url: " << kVideoDir << "/vtest.avi, loop: true}\n";
  std::filesystem::remove(path + ".state.json");
  return path;
}

TEST(StateFile, ApiChangesSurviveARestart) {
  const std::string dir = test::tmp_dir("state_file_restart");
  const std::string config = write_config(dir);
  {
    VigilRun run(config, dir + "/run1.log");
    ASSERT_TRUE(test::eventually(api_up, std::chrono::seconds(60))) << read_all(dir + "/run1.log");
    const json added = json::parse(curl("POST", "/api/streams", R"({"id": "added", "url": "vtest.avi", "loop": true})"));
    ASSERT_EQ(added["id"], "added") << added.dump();
    EXPECT_EQ(added["config"]["every"], 3) << "an API stream starts from the config's defaults";
    const json patched = json::parse(curl("PATCH", "/api/streams/keep",
        R"({"zones": [{"name": "door", "polygon": [[0, 0], [0.5, 0], [0.5, 0.5]]}], "motion": {"enabled": true},
            "tracker": {"min_hits": 4}, "describe": {"every_s": 7}})"));
    ASSERT_EQ(patched["config"]["zones"].size(), 1U) << patched.dump();
    EXPECT_EQ(json::parse(curl("DELETE", "/api/streams/gone"))["deleted"], "gone");
    EXPECT_EQ(run.stop(), 0) << read_all(dir + "/run1.log");
  }
  struct stat st {};
  ASSERT_EQ(::stat((config + ".state.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);

  VigilRun run(config, dir + "/run2.log");
  ASSERT_TRUE(test::eventually(api_up, std::chrono::seconds(60))) << read_all(dir + "/run2.log");
  const json streams = streams_now();
  EXPECT_EQ(find(streams, "gone"), nullptr) << "a deleted config stream stays deleted";
  const json* added = find(streams, "added");
  ASSERT_NE(added, nullptr) << streams.dump();
  EXPECT_EQ((*added)["config"]["every"], 3);
  const json* keep = find(streams, "keep");
  ASSERT_NE(keep, nullptr);
  ASSERT_EQ((*keep)["config"]["zones"].size(), 1U);
  EXPECT_EQ((*keep)["config"]["zones"][0]["name"], "door");
  EXPECT_EQ((*keep)["config"]["motion"]["enabled"], true);
  EXPECT_EQ((*keep)["config"]["tracker"]["min_hits"], 4);
  EXPECT_EQ((*keep)["config"]["describe"]["every_s"], 7.0);
}

TEST(StateFile, CorruptStateFileIsReportedAndKept) {
  const std::string dir = test::tmp_dir("state_file_corrupt");
  const std::string config = write_config(dir);
  const std::string state = config + ".state.json";
  const std::string broken = R"({"streams": [{"id": "x", "url": "rtsp://h/s", "every": "many"}]})";
  std::ofstream(state) << broken;
  VigilRun run(config, dir + "/run.log");
  ASSERT_TRUE(test::eventually(api_up, std::chrono::seconds(60))) << read_all(dir + "/run.log");
  const json streams = streams_now();
  EXPECT_NE(find(streams, "keep"), nullptr) << "the config's streams run";
  EXPECT_NE(find(streams, "gone"), nullptr);
  EXPECT_EQ(find(streams, "x"), nullptr);
  // A change through the API does not overwrite what the file holds.
  EXPECT_EQ(json::parse(curl("DELETE", "/api/streams/gone"))["deleted"], "gone");
  run.stop();
  EXPECT_EQ(read_all(state), broken);
  const std::string log = read_all(dir + "/run.log");
  EXPECT_NE(log.find(state), std::string::npos) << log;
  EXPECT_NE(log.find("streams[0].every"), std::string::npos) << log;
}

// Frames read so far by stream `id` (GET /api/stats), -1 when it is not listed.
long long frames_of(const std::string& id) {
  const json j = json::parse(curl("GET", "/api/stats"), nullptr, false);
  if (!j.is_object() || !j.contains("streams")) return -1;
  for (const auto& s : j["streams"])
    if (s["id"] == id) return s["frames"].get<long long>();
  return -1;
}

void write_streams(const std::string& path, const std::vector<std::string>& ids) {
  std::ofstream f(path);
  f << "streams:\n";
  for (const auto& id : ids) f << "  - {id: " << id << ", url: " << kVideoDir << "/vtest.avi, loop: true}\n";
}

bool lists_exactly(const std::vector<std::string>& ids) {
  const json streams = streams_now();
  if (!streams.is_array() || streams.size() != ids.size()) return false;
  for (const auto& id : ids)
    if (!find(streams, id)) return false;
  return true;
}

TEST(StateFile, SighupReloadsTheConfigWithoutTouchingUnchangedStreams) {
  const std::string dir = test::tmp_dir("state_file_sighup");
  const std::string config = dir + "/vigil.yaml";
  std::filesystem::remove(config + ".state.json");
  write_streams(config, {"a", "b"});
  const std::string log = dir + "/run.log";
  VigilRun run(config, log);
  ASSERT_TRUE(test::eventually([] { return frames_of("a") > 30 && frames_of("b") > 0; }, std::chrono::seconds(60)))
      << read_all(log);
  const long long a_before = frames_of("a");

  write_streams(config, {"a", "c"});
  run.signal(SIGHUP);
  ASSERT_TRUE(test::eventually([] { return lists_exactly({"a", "c"}); }, std::chrono::seconds(30)))
      << streams_now().dump() << read_all(log);
  ASSERT_TRUE(test::eventually([] { return frames_of("c") > 0; }, std::chrono::seconds(30))) << read_all(log);
  EXPECT_GE(frames_of("a"), a_before) << "stream a was restarted: its frame count went back";
  EXPECT_GT(frames_of("a"), frames_of("c")) << "stream a was restarted with c";
  EXPECT_NE(read_all(log).find("1 stream(s) removed [b], 1 added [c], 0 changed []"), std::string::npos)
      << read_all(log);

  std::ofstream(config) << "streams:\n  - {id: a, url: " << kVideoDir << "/vtest.avi, every: many}\n";
  run.signal(SIGHUP);
  ASSERT_TRUE(test::eventually([&] { return read_all(log).find("has errors") != std::string::npos; },
                               std::chrono::seconds(30)))
      << read_all(log);
  const std::string text = read_all(log);
  EXPECT_NE(text.find(config), std::string::npos) << text;
  EXPECT_NE(text.find("streams[0].every"), std::string::npos) << text;
  EXPECT_TRUE(lists_exactly({"a", "c"})) << streams_now().dump();
  const long long a_now = frames_of("a");
  EXPECT_TRUE(test::eventually([&] { return frames_of("a") > a_now; }, std::chrono::seconds(30))) << "a still runs";

  // `enabled: false`: in the config, listed as disabled, not run.
  std::ofstream(config) << "streams:\n  - {id: a, url: " << kVideoDir << "/vtest.avi, loop: true}\n"
                        << "  - {id: c, url: " << kVideoDir << "/vtest.avi, loop: true, enabled: false}\n";
  run.signal(SIGHUP);
  EXPECT_TRUE(test::eventually([] { return frames_of("c") == -1; }, std::chrono::seconds(30)))
      << streams_now().dump() << read_all(log);
  EXPECT_TRUE(lists_exactly({"a", "c"})) << streams_now().dump();
  EXPECT_EQ((*find(streams_now(), "c"))["state"], "disabled") << streams_now().dump();
  EXPECT_EQ(run.stop(), 0) << read_all(log);
  EXPECT_EQ(read_all(config + ".state.json").find("\"c\""), std::string::npos)
      << "a disabled stream is not recorded as removed";
}

// The state file's replacements (renames onto it) in `dir` since the last call.
class StateWrites {
 public:
  explicit StateWrites(const std::string& dir) : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
    ::inotify_add_watch(fd_, dir.c_str(), IN_MOVED_TO | IN_CLOSE_WRITE);
  }
  ~StateWrites() { ::close(fd_); }
  int take(const std::string& name) {
    int n = 0;
    alignas(inotify_event) char buf[8192];
    for (ssize_t len; (len = ::read(fd_, buf, sizeof buf)) > 0;)
      for (char* p = buf; p < buf + len;) {
        const auto* ev = reinterpret_cast<const inotify_event*>(p);
        if ((ev->mask & IN_MOVED_TO) && ev->len > 0 && name == ev->name) ++n;
        p += sizeof(inotify_event) + ev->len;
      }
    return n;
  }

 private:
  int fd_;
};

json get_json(const std::string& target) { return json::parse(curl("GET", target), nullptr, false); }

const json* listed(const std::string& id) {
  static json last;
  last = streams_now();
  return find(last, id);
}

// One PATCH, one atomic write; secrets kept (an api_key given through the API
// survives a restart), ${NAME} references written as references; `enabled`
// through PATCH: listed as disabled, not counted as down, kept over a restart.
TEST(StateFile, OneWritePerPatchSecretsKeptAndStreamsDisabledThroughTheApi) {
  const std::string dir = test::tmp_dir("state_file_secrets");
  const std::string config = dir + "/vigil.yaml";
  const std::string state = config + ".state.json";
  std::filesystem::remove(state);
  ::setenv("VIGIL_TEST_CAM_PASS", "pw-from-env", 1);
  ::setenv("VIGIL_TEST_VLM_KEY", "key-from-env", 1);
  std::ofstream(config) << "defaults:\n  every: 3\n  describe: {api_key: '${VIGIL_TEST_VLM_KEY}'}\nstreams:\n"
                        << "  - {id: keep, url: " << kVideoDir << "/vtest.avi, loop: true}\n"
                        << "  - {id: cam, url: 'rtsp://admin:${VIGIL_TEST_CAM_PASS}@127.0.0.1:9/live'}\n";
  StateWrites writes(dir);
  {
    VigilRun run(config, dir + "/run1.log");
    ASSERT_TRUE(test::eventually(api_up, std::chrono::seconds(60))) << read_all(dir + "/run1.log");
    writes.take("vigil.yaml.state.json");
    const json patched = json::parse(curl("PATCH", "/api/streams/cam", R"({"every": 4})"), nullptr, false);
    ASSERT_EQ(patched["config"]["every"], 4) << patched.dump();
    EXPECT_EQ(writes.take("vigil.yaml.state.json"), 1) << "one PATCH, one write of the state file";
    std::string text = read_all(state);
    EXPECT_NE(text.find("rtsp://admin:${VIGIL_TEST_CAM_PASS}@127.0.0.1:9/live"), std::string::npos) << text;
    EXPECT_NE(text.find("${VIGIL_TEST_VLM_KEY}"), std::string::npos) << text;
    EXPECT_EQ(text.find("pw-from-env"), std::string::npos) << text;
    EXPECT_EQ(text.find("key-from-env"), std::string::npos) << text;

    const json posted = json::parse(curl("POST", "/api/streams",
        R"({"id": "posted", "url": "vtest.avi", "loop": true, "describe": {"api_key": "key-given-by-api"}})"), nullptr, false);
    ASSERT_EQ(posted["id"], "posted") << posted.dump();
    EXPECT_EQ(writes.take("vigil.yaml.state.json"), 1);
    EXPECT_NE(read_all(state).find("key-given-by-api"), std::string::npos) << read_all(state);

    const json off = json::parse(curl("PATCH", "/api/streams/keep", R"({"enabled": false})"), nullptr, false);
    EXPECT_EQ(off["state"], "disabled") << off.dump();
    EXPECT_TRUE(off["status"].is_null()) << off.dump();
    EXPECT_EQ(writes.take("vigil.yaml.state.json"), 1);
    EXPECT_TRUE(test::eventually([] { return frames_of("keep") == -1; }, std::chrono::seconds(30))) << "not run";
    ASSERT_NE(listed("keep"), nullptr) << streams_now().dump();
    EXPECT_EQ((*listed("keep"))["config"]["every"], 3) << "its config is kept";
    // Not down: neither /healthz nor /metrics counts it.
    ASSERT_TRUE(test::eventually([] { return frames_of("posted") > 0; }, std::chrono::seconds(60)));
    const json health = get_json("/healthz");
    EXPECT_EQ(health["down"], json::array({"cam"})) << health.dump();
    EXPECT_EQ(curl("GET", "/metrics").find("stream=\"keep\""), std::string::npos);
    // 2: of the config's streams, the one not disabled (cam) never answered.
    EXPECT_EQ(run.stop(), 2) << read_all(dir + "/run1.log");
  }
  VigilRun run(config, dir + "/run2.log");
  ASSERT_TRUE(test::eventually(api_up, std::chrono::seconds(60))) << read_all(dir + "/run2.log");
  ASSERT_NE(listed("keep"), nullptr);
  EXPECT_EQ((*listed("keep"))["state"], "disabled") << "disabled through the API, after a restart too";
  ASSERT_NE(listed("cam"), nullptr);
  EXPECT_EQ((*listed("cam"))["config"]["every"], 4);
  EXPECT_EQ((*listed("cam"))["config"]["url"].get<std::string>().find("pw-from-env"), std::string::npos)
      << "the API shows no password";
  // Enabled again: it runs; the file, written again from what the engine read back, still holds every secret.
  const json on = json::parse(curl("PATCH", "/api/streams/keep", R"({"enabled": true})"), nullptr, false);
  EXPECT_NE(on["state"], "disabled") << on.dump();
  EXPECT_TRUE(test::eventually([] { return frames_of("keep") > 0; }, std::chrono::seconds(60))) << read_all(dir + "/run2.log");
  const std::string text = read_all(state);
  EXPECT_NE(text.find("key-given-by-api"), std::string::npos) << "the API's api_key survived the restart\n" << text;
  EXPECT_NE(text.find("${VIGIL_TEST_CAM_PASS}"), std::string::npos) << text;
  EXPECT_EQ(text.find("\"keep\""), std::string::npos) << "keep is as the config has it again\n" << text;
  EXPECT_EQ(run.stop(), 1) << "1: keep ran, cam did not\n" << read_all(dir + "/run2.log");
}

}  // namespace
}  // namespace vigil
