// Real RTSP end to end: GStreamer's RTSP server (tests/tools/rtsp_server.py,
// Debian's GstRtspServer through python3-gi) serving an H.264 MP4 made from
// Debian's vtest.avi, on 127.0.0.1, under a live Engine decoding it with
// FFmpeg. The server is killed and restarted, stopped with SIGSTOP (its TCP
// connection stays open, no data) and continued, and given credentials that
// must never be shown.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "pipeline/engine.h"
#include "server/stats_json.h"
#include "test_process.h"
#include "test_support.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

// Polls pred every 50 ms until it holds or `seconds` pass.
template <class Pred>
bool wait_for(Pred pred, double seconds) {
  const auto until = clock_type::now() + std::chrono::duration<double>(seconds);
  while (clock_type::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

using test::port_open;

int free_port() {
  static std::mt19937 rng(static_cast<unsigned>(::getpid()));
  for (;;) {
    const int port = 20000 + static_cast<int>(rng() % 20000);
    if (!port_open(port)) return port;
  }
}

// A 25 fps H.264 MP4 of vtest.avi (79 s), made once per build.
const std::string& served_file() {
  static const std::string path = [] {
    const std::string p = test::tmp_dir("rtsp") + "/vtest25.mp4";
    if (!std::filesystem::exists(p)) {
      const auto r = test::run_process(
          "ffmpeg -nostdin -hide_banner -loglevel error -y -i /usr/share/doc/opencv-doc/examples/data/vtest.avi "
          "-r 25 -c:v libx264 -preset ultrafast -g 25 -pix_fmt yuv420p " + p + ".tmp.mp4 && mv " + p + ".tmp.mp4 " + p);
      EXPECT_EQ(r.exit_code, 0) << r.err;
    }
    return p;
  }();
  return path;
}

// tests/tools/rtsp_server.py as a child process.
class RtspServer {
 public:
  explicit RtspServer(int port) : port_(port) {}
  ~RtspServer() { kill(); }

  // Starts it and waits (up to 20 s) for its "ready" line.
  bool start() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      // Debian's python3: the one with python3-gi.
      ::execl("/usr/bin/python3", "python3", VIGIL_SOURCE_DIR "/tests/tools/rtsp_server.py",
              std::to_string(port_).c_str(), served_file().c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
    std::string text;
    const auto until = clock_type::now() + 20s;
    while (clock_type::now() < until && text.find("ready") == std::string::npos) {
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, 100) != 1) continue;
      char buf[256];
      const ssize_t n = ::read(out_, buf, sizeof buf);
      if (n <= 0) break;  // exited
      text.append(buf, static_cast<std::size_t>(n));
    }
    return text.find("ready") != std::string::npos;
  }
  void kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      ::close(out_);
    }
    pid_ = -1;
  }
  void pause() { ::kill(pid_, SIGSTOP); }
  void resume() { ::kill(pid_, SIGCONT); }
  std::string url(const std::string& userinfo = "") const {
    return "rtsp://" + userinfo + "127.0.0.1:" + std::to_string(port_) + "/stream";
  }

 private:
  int port_;
  pid_t pid_ = -1;
  int out_ = -1;
};

struct EventLog {
  std::mutex mu;
  std::vector<std::pair<Event, clock_type::time_point>> events;
  void attach(Engine& e) {
    e.events().subscribe([this](const Event& ev) {
      std::lock_guard lock(mu);
      events.emplace_back(ev, clock_type::now());
    });
  }
  std::vector<std::pair<Event, clock_type::time_point>> of(const std::string& stream, EventKind kind) {
    std::lock_guard lock(mu);
    std::vector<std::pair<Event, clock_type::time_point>> out;
    for (const auto& e : events)
      if (e.first.stream == stream && e.first.kind == kind) out.push_back(e);
    return out;
  }
  std::vector<Event> all() {
    std::lock_guard lock(mu);
    std::vector<Event> out;
    for (const auto& e : events) out.push_back(e.first);
    return out;
  }
};

// Every log line, for the test that checks what the log shows.
class CaptureSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::string text() {
    std::lock_guard lock(mutex_);
    return text_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& m) override {
    text_.append(m.payload.data(), m.payload.size());
    text_ += '\n';
  }
  void flush_() override {}

 private:
  std::string text_;
};

class RtspTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(std::filesystem::exists(served_file())); }

  // An engine with one RTSP stream per (id, url); analysis rare (the test is about the video).
  void start_engine(const std::vector<std::pair<std::string, std::string>>& streams, double watchdog_s) {
    EngineConfig c;
    c.model.path = VIGIL_DEFAULT_MODEL;
    c.model.device = "cpu";
    c.stats_interval_s = 0;
    c.adaptive = false;
    for (const auto& [id, url] : streams) {
      StreamConfig s = default_stream(id, url);
      s.every = 50;
      s.timeout_s = watchdog_s;
      s.watchdog_s = watchdog_s;
      c.streams.push_back(s);
    }
    auto e = Engine::create(c);
    ASSERT_TRUE(e) << e.error().message;
    engine_ = std::move(*e);
    log_.attach(*engine_);
    engine_->start();
  }
  void TearDown() override {
    if (engine_) engine_->stop();
  }

  nlohmann::json stream_stats(const std::string& id) {
    const nlohmann::json stats = to_json(engine_->stats());
    for (const auto& s : stats["streams"])
      if (s["id"] == id) return s;
    ADD_FAILURE() << "no stream " << id;
    return {};
  }
  std::uint64_t frames(const std::string& id) { return stream_stats(id)["frames"].get<std::uint64_t>(); }
  std::uint64_t drop_count(const std::string& id, const std::string& reason) {
    const auto d = stream_stats(id)["drops"];
    return d.contains(reason) ? d[reason].get<std::uint64_t>() : 0;
  }
  // Frames keep coming: +20 within 2 s, within `seconds`.
  bool steady(const std::string& id, double seconds) {
    return wait_for(
        [&] {
          const auto f0 = frames(id);
          return wait_for([&] { return frames(id) >= f0 + 20; }, 2.0);
        },
        seconds);
  }

  std::unique_ptr<Engine> engine_;
  EventLog log_;
};

TEST_F(RtspTest, KilledServerIsDownThenBackWithinFiveSecondsOfItsRestart) {
  const int port = free_port();
  RtspServer server(port);
  ASSERT_TRUE(server.start());
  start_engine({{"cam", server.url()}}, 3);
  ASSERT_TRUE(steady("cam", 30)) << "the RTSP stream never ran steadily: " << stream_stats("cam").dump();
  ASSERT_EQ(log_.of("cam", EventKind::kStreamUp).size(), 1U);

  const auto killed = clock_type::now();
  server.kill();
  ASSERT_TRUE(wait_for([&] { return !log_.of("cam", EventKind::kStreamDown).empty(); }, 3 + 2))
      << "no stream_down within watchdog_s + 2 s of the kill";
  std::cout << "[ measured ] down " << std::chrono::duration<double>(
                                           log_.of("cam", EventKind::kStreamDown)[0].second - killed).count()
            << " s after the kill\n";
  // Reopen attempts fail while it is gone (the backoff grows).
  ASSERT_TRUE(wait_for([&] { return stream_stats("cam")["last_error"].get<std::string>().find("refused") !=
                                    std::string::npos; }, 10))
      << stream_stats("cam").dump();
  std::this_thread::sleep_for(5s);  // the outage itself: long enough for the backoff to reach 4 s

  ASSERT_TRUE(server.start());
  const auto restarted = clock_type::now();
  const auto before = frames("cam");
  ASSERT_TRUE(wait_for([&] { return log_.of("cam", EventKind::kStreamUp).size() >= 2 && frames("cam") > before + 5; },
                       10))
      << "the stream did not come back: " << stream_stats("cam").dump();
  const double back_s = std::chrono::duration<double>(log_.of("cam", EventKind::kStreamUp)[1].second - restarted).count();
  std::cout << "[ measured ] up " << back_s << " s after the restart\n";
  EXPECT_LE(back_s, 5.0) << "stream_up came " << back_s << " s after the server returned";
  EXPECT_TRUE(stream_stats("cam")["up"].get<bool>());
}

TEST_F(RtspTest, StoppedServerIsDownWithinTheWatchdogBackAfterContinueAndNoBurst) {
  const double watchdog_s = 3;
  const int port = free_port();
  RtspServer server(port);
  ASSERT_TRUE(server.start());
  start_engine({{"cam", server.url()}}, watchdog_s);
  ASSERT_TRUE(steady("cam", 30)) << "the RTSP stream never ran steadily: " << stream_stats("cam").dump();
  const double source_fps = stream_stats("cam")["source_fps"].get<double>();
  ASSERT_NEAR(source_fps, 25.0, 0.5);

  // A hung server: the process stops, its TCP connection stays open.
  server.pause();
  const auto paused = clock_type::now();
  ASSERT_TRUE(wait_for([&] { return !log_.of("cam", EventKind::kStreamDown).empty(); }, watchdog_s + 2))
      << "no stream_down within watchdog_s + 2 s of SIGSTOP: " << stream_stats("cam").dump();
  const auto down = log_.of("cam", EventKind::kStreamDown)[0];
  std::cout << "[ measured ] down " << std::chrono::duration<double>(down.second - paused).count()
            << " s after SIGSTOP: " << down.first.text << "\n";
  EXPECT_NE(down.first.text.find("watchdog"), std::string::npos) << down.first.text;
  EXPECT_FALSE(stream_stats("cam")["up"].get<bool>());
  // Stay hung a while: reopen attempts reach a listening socket that never answers.
  std::this_thread::sleep_for(6s);

  server.resume();
  const auto resumed = clock_type::now();
  ASSERT_TRUE(wait_for([&] { return log_.of("cam", EventKind::kStreamUp).size() >= 2; }, 10))
      << "no stream_up after SIGCONT: " << stream_stats("cam").dump();
  const double back_s = std::chrono::duration<double>(log_.of("cam", EventKind::kStreamUp)[1].second - resumed).count();
  std::cout << "[ measured ] up " << back_s << " s after SIGCONT\n";
  EXPECT_LE(back_s, 5.0);
  ASSERT_TRUE(steady("cam", 10));

  // A stall shorter than the watchdog: the same connection resumes and the
  // server sends its backlog at once. Live mode shows the latest frames at
  // no more than the source rate.
  const std::size_t downs = log_.of("cam", EventKind::kStreamDown).size();
  const auto behind_before = drop_count("cam", "capture_behind");
  server.pause();
  std::this_thread::sleep_for(2s);  // the stall itself
  const auto f0 = frames("cam");
  server.resume();
  const auto t0 = clock_type::now();
  double max_display_fps = 0;
  while (seconds_since(t0) < 3.0) {
    max_display_fps = std::max(max_display_fps, stream_stats("cam")["display_fps"].get<double>());
    std::this_thread::sleep_for(100ms);
  }
  const double window_s = seconds_since(t0);
  const auto shown = frames("cam") - f0;
  const auto behind = drop_count("cam", "capture_behind") - behind_before;
  std::cout << "[ measured ] after a 2 s stall: " << shown << " frames shown in " << window_s << " s (source "
            << source_fps << " fps), " << behind << " dropped behind real time, display_fps max " << max_display_fps
            << "\n";
  EXPECT_EQ(log_.of("cam", EventKind::kStreamDown).size(), downs) << "a stall shorter than the watchdog is not down";
  EXPECT_GE(behind, 20U) << "the backlog (2 s = 50 frames) should have been dropped";
  EXPECT_LE(static_cast<double>(shown), source_fps * window_s * 1.15 + 6)
      << "the stream loop ran above the source rate after the stall";
  EXPECT_LE(max_display_fps, source_fps * 1.3);
}

TEST_F(RtspTest, PasswordsNeverShowInErrorsEventsOrTheLog) {
  auto sink = std::make_shared<CaptureSink>();
  spdlog::default_logger()->sinks().push_back(sink);
  const auto level = spdlog::get_level();
  spdlog::set_level(spdlog::level::debug);  // FFmpeg's own messages too
  const int port = free_port();
  const int closed = free_port();
  RtspServer server(port);
  ASSERT_TRUE(server.start());
  start_engine({{"cam", server.url("admin:s3cret@")},
                {"closed", "rtsp://admin:s3cret@127.0.0.1:" + std::to_string(closed) + "/stream"},
                {"token", "http://127.0.0.1:" + std::to_string(closed) + "/live.ts?token=s3cret"}},
               3);
  ASSERT_TRUE(steady("cam", 30)) << "a URL with credentials should play: " << stream_stats("cam").dump();
  server.kill();
  ASSERT_TRUE(wait_for([&] { return stream_stats("cam")["last_error"].get<std::string>().find("refused") !=
                                    std::string::npos; }, 10))
      << stream_stats("cam").dump();
  ASSERT_TRUE(wait_for([&] { return !log_.of("closed", EventKind::kStreamDown).empty() &&
                                    !log_.of("token", EventKind::kStreamDown).empty(); }, 10));
  const std::string last_error = stream_stats("cam")["last_error"];
  const std::string closed_error = stream_stats("closed")["last_error"];
  engine_->stop();
  spdlog::set_level(level);
  std::erase(spdlog::default_logger()->sinks(), sink);

  EXPECT_EQ(last_error.find("s3cret"), std::string::npos) << last_error;
  EXPECT_NE(last_error.find("rtsp://admin:***@127.0.0.1"), std::string::npos) << "errors name the source: " << last_error;
  EXPECT_EQ(closed_error.find("s3cret"), std::string::npos) << closed_error;
  for (const Event& e : log_.all()) EXPECT_EQ(e.text.find("s3cret"), std::string::npos) << e.text;
  const auto cam_down = log_.of("cam", EventKind::kStreamDown);
  ASSERT_FALSE(cam_down.empty());
  const auto token_down = log_.of("token", EventKind::kStreamDown);
  EXPECT_NE(token_down[0].first.text.find("token=***"), std::string::npos) << token_down[0].first.text;
  const std::string logged = sink->text();
  EXPECT_NE(logged.find("admin:***@"), std::string::npos) << "the log should name the sources:\n" << logged;
  EXPECT_EQ(logged.find("s3cret"), std::string::npos) << logged;
}

}  // namespace
}  // namespace vigil
