// The live engine on real files decoded by FFmpeg (fixtures made by
// tests/tools/make_test_videos.sh from Debian's vtest.avi and dog.jpg) and on
// a real network stream served by an ffmpeg process on 127.0.0.1.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "metrics/system_stats.h"
#include "pipeline/engine.h"
#include "server/stats_json.h"
#include "test_support.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;
const std::string kVideos = VIGIL_TEST_VIDEOS_DIR;

EngineConfig base_config(bool offline) {
  EngineConfig c;
  c.model.path = VIGIL_DEFAULT_MODEL;
  c.model.device = "cpu";
  c.offline = offline;
  c.stats_interval_s = 0;
  return c;
}

StreamConfig stream(const std::string& id, const std::string& url, int every = 1) {
  StreamConfig s = default_stream(id, url);
  s.every = every;
  return s;
}

nlohmann::json find_stream(const nlohmann::json& stats, const std::string& id) {
  for (const auto& s : stats["streams"])
    if (s["id"] == id) return s;
  ADD_FAILURE() << "no stream " << id << " in stats";
  return {};
}

std::uint64_t drops(const nlohmann::json& s, const std::string& reason) {
  return s["drops"].contains(reason) ? s["drops"][reason].get<std::uint64_t>() : 0;
}

// Polls `pred` every 50 ms until it holds or `limit` passed.
template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

// Collects events from the bus.
struct EventLog {
  std::mutex mu;
  std::vector<Event> events;
  void attach(Engine& e) {
    e.events().subscribe([this](const Event& ev) {
      std::lock_guard lock(mu);
      events.push_back(ev);
    });
  }
  std::vector<Event> of(const std::string& stream, EventKind kind) {
    std::lock_guard lock(mu);
    std::vector<Event> out;
    for (const auto& e : events)
      if (e.stream == stream && e.kind == kind) out.push_back(e);
    return out;
  }
};

// ---- offline determinism -------------------------------------------------------

std::map<std::string, std::vector<std::string>> events_by_stream(const std::string& jsonl) {
  std::map<std::string, std::vector<std::string>> out;
  std::ifstream f(jsonl);
  std::string line;
  while (std::getline(f, line)) {
    auto j = nlohmann::json::parse(line);
    j.erase("wall_time");
    out[j["stream"].get<std::string>()].push_back(j.dump());
  }
  return out;
}

TEST(EngineOffline, FourStreamsTwiceGiveIdenticalEvents) {
  const std::string dir = test::tmp_dir("engine_offline");
  const std::string cfg = dir + "/four.yaml";
  {
    std::ofstream f(cfg);
    f << "model: " VIGIL_DEFAULT_MODEL "\n"
         "batch: {max: 4}\n"
         "defaults:\n"
         "  every: 4\n"
         "  zones: [{name: plaza, polygon: [[0.25, 0.45], [0.75, 0.45], [0.75, 0.95], [0.25, 0.95]], dwell_s: 3}]\n"
         "  lines: [{name: crossing, a: [0.05, 0.6], b: [0.95, 0.6]}]\n"
         "streams:\n";
    for (int i = 1; i <= 4; ++i) f << "  - {id: cam" << i << ", url: " << kVideos << "/vtest20.mp4}\n";
  }
  std::vector<std::map<std::string, std::vector<std::string>>> runs;
  for (int run = 0; run < 2; ++run) {
    const std::string events = dir + "/events" + std::to_string(run) + ".jsonl";
    const std::string stats = dir + "/stats" + std::to_string(run) + ".json";
    std::filesystem::remove(events);
    auto r = test::run_process(std::string(VIGIL_BINARY) + " run --offline -c " + cfg + " --events " + events +
                               " --stats " + stats);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    runs.push_back(events_by_stream(events));
    // Each stream numbers its events 1, 2, ... in the order it publishes them.
    for (const auto& [stream, lines] : runs.back())
      for (std::size_t i = 0; i < lines.size(); ++i)
        EXPECT_EQ(nlohmann::json::parse(lines[i]).value("id", ""), stream + "-" + std::to_string(i + 1)) << lines[i];
    std::ifstream sf(stats);
    const auto s = nlohmann::json::parse(sf);
    for (const auto& st : s["streams"]) {
      EXPECT_EQ(st["frames"].get<int>(), 200) << "offline mode must not drop frames";
      EXPECT_EQ(st["analysed"].get<int>(), 50) << "every 4th of 200 frames";
      EXPECT_TRUE(st["drops"].empty()) << st["drops"].dump();
    }
  }
  ASSERT_EQ(runs[0].size(), 4U);
  std::size_t enters = 0;
  for (const auto& [stream, lines] : runs[0]) {
    EXPECT_EQ(lines, runs[1].at(stream)) << "stream " << stream << " differs between runs";
    for (const auto& l : lines) enters += l.find("\"zone_enter\"") != std::string::npos;
  }
  EXPECT_GT(enters, 0U) << "pedestrians should enter the zone";
  // The four streams see the same video: identical event sequences, ids aside.
  auto strip_ids = [](std::vector<std::string> v) {
    for (auto& l : v) {
      auto j = nlohmann::json::parse(l);
      j.erase("track_id");
      j.erase("stream");
      j.erase("id");  // "<stream>-<n>": the same n, another stream
      l = j.dump();
    }
    return v;
  };
  EXPECT_EQ(strip_ids(runs[0]["cam1"]), strip_ids(runs[0]["cam4"]));
}

// ---- what flows forward: analytics snapshots and stream changes ----------------------

TEST(EngineFlow, FramesCarryTheLatestAnalyticsAndStreamChangesAreAnnounced) {
  EngineConfig c = base_config(true);
  StreamConfig s = stream("cam1", kVideos + "/vtest20.mp4", 2);
  ZoneConfig z;
  z.name = "all";
  z.polygon = {{0, 0}, {1, 0}, {1, 1}, {0, 1}};
  s.zones.push_back(z);
  c.streams.push_back(s);
  auto engine = Engine::create(c);
  ASSERT_TRUE(engine) << engine.error().message;
  std::mutex mu;
  std::vector<std::pair<Engine::StreamChange, std::string>> changes;
  (*engine)->add_stream_observer([&](Engine::StreamChange change, const std::string& id) {
    std::lock_guard lock(mu);
    changes.emplace_back(change, id);
  });
  std::shared_ptr<const AnalyticsSnapshot> last;
  std::uint64_t frames = 0, analysed_max = 0;
  bool monotone = true, never_null = true;
  (*engine)->stream("cam1")->add_observer([&](const FrameResult& r) {
    never_null = never_null && r.analytics != nullptr;
    if (!r.analytics) return;
    monotone = monotone && r.analytics->analysed >= analysed_max;
    analysed_max = r.analytics->analysed;
    last = r.analytics;
    ++frames;
  });
  (*engine)->start();
  for (int i = 0; i < 600 && !(*engine)->all_finished(); ++i) std::this_thread::sleep_for(100ms);
  ASSERT_TRUE((*engine)->all_finished());
  const StreamSnapshot snap = (*engine)->stream("cam1")->snapshot();
  EXPECT_TRUE(never_null);
  EXPECT_TRUE(monotone);
  EXPECT_GT(frames, 0U);
  ASSERT_TRUE(last);
  EXPECT_GT(last->analysed, 0U);
  EXPECT_LE(last->analysed, snap.analysed);  // the last results may come after the last frame
  EXPECT_EQ(last->occupancy.count("all"), 1U);

  // Stream changes reach the observers once they took effect.
  StreamConfig extra = stream("cam2", kVideos + "/vtest20.mp4", 2);
  ASSERT_TRUE((*engine)->add_stream(extra));
  ASSERT_TRUE((*engine)->remove_stream("cam2"));
  EXPECT_FALSE((*engine)->remove_stream("cam2"));  // nothing changed: nothing announced
  (*engine)->stop();
  std::lock_guard lock(mu);
  ASSERT_EQ(changes.size(), 2U);
  EXPECT_EQ(changes[0], std::make_pair(Engine::StreamChange::kAdded, std::string("cam2")));
  EXPECT_EQ(changes[1], std::make_pair(Engine::StreamChange::kRemoved, std::string("cam2")));
}

// ---- live: a slow detector never slows the video ---------------------------------

TEST(EngineLive, SlowDetectorDropsAnalysisNotFrames) {
  EngineConfig c = base_config(false);
  c.adaptive = false;              // keep every=1 so the overload shows as drops
  c.test_inference_delay_ms = 300;  // every batch takes >= 300 ms
  for (int i = 1; i <= 2; ++i) {
    StreamConfig s = stream("live" + std::to_string(i), kVideos + "/vtest20.mp4");
    s.loop = true;
    c.streams.push_back(s);
  }
  auto engine = Engine::create(c);
  ASSERT_TRUE(engine) << engine.error().message;
  (*engine)->start();
  // Counted in frames, not timed: the stream loop shows (nearly) every frame
  // the capture decodes while most analyses are replaced (latest wins). The
  // rates themselves are measured by bench/slow_detector.sh (docs/performance.md).
  auto every_stream_shown = [&](std::uint64_t frames) {
    for (const char* id : {"live1", "live2"})
      if ((*engine)->stream(id)->snapshot().frames < frames) return false;
    return true;
  };
  ASSERT_TRUE(wait_until([&] { return every_stream_shown(30); }, 60s));
  const double rss_early = process_rss_mb();
  ASSERT_TRUE(wait_until([&] { return every_stream_shown(80); }, 60s));
  const double rss_late = process_rss_mb();
  const auto stats = to_json((*engine)->stats());
  (*engine)->stop();
  for (const char* id : {"live1", "live2"}) {
    const auto s = find_stream(stats, id);
    const auto frames = s["frames"].get<std::uint64_t>();
    EXPECT_LE(drops(s, "capture_overwritten"), frames / 20) << id << ": the loop missed frames: " << s.dump();
    EXPECT_GT(drops(s, "analysis_replaced"), 0U) << id << ": " << s.dump();
    EXPECT_LT(2 * s["analysed"].get<std::uint64_t>(), frames) << id << ": analysis kept up? " << s.dump();
  }
  EXPECT_LT(rss_late - rss_early, 30.0) << "RSS grew from " << rss_early << " to " << rss_late << " MB";
}

// ---- similarity gate ---------------------------------------------------------------

TEST(EngineGate, StillSceneIsSkippedPedestriansAreNot) {
  EngineConfig c = base_config(true);
  for (const auto& [id, file] : {std::pair{"still", "still.mp4"}, std::pair{"people", "vtest20.mp4"}}) {
    StreamConfig s = stream(id, kVideos + "/" + file);
    s.gate.enabled = true;
    s.gate.similarity = 0.95;
    c.streams.push_back(s);
  }
  auto engine = Engine::create(c);
  ASSERT_TRUE(engine) << engine.error().message;
  (*engine)->start();
  for (int i = 0; i < 600 && !(*engine)->all_finished(); ++i) std::this_thread::sleep_for(100ms);
  ASSERT_TRUE((*engine)->all_finished());
  const auto stats = to_json((*engine)->stats());
  (*engine)->stop();
  auto skip_ratio = [&](const char* id) {
    const auto s = find_stream(stats, id);
    const double skipped = static_cast<double>(drops(s, "gate"));
    const double candidates = skipped + s["analysed"].get<double>();
    EXPECT_GT(candidates, 0) << id;
    return skipped / candidates;
  };
  EXPECT_GE(skip_ratio("still"), 0.9);
  EXPECT_LT(skip_ratio("people"), 0.2);
}

// ---- bad input -------------------------------------------------------------------------

TEST(EngineBadInput, EachBadSourceIsNamedAndTheOthersRun) {
  EngineConfig c = base_config(false);
  StreamConfig good = stream("good", kVideos + "/vtest20.mp4", 2);
  good.loop = true;
  c.streams.push_back(good);
  const std::map<std::string, std::pair<std::string, std::string>> bad = {
      {"missing", {"/nonexistent/cam.mp4", "no such file"}},
      {"random", {kVideos + "/random.mp4", "random.mp4"}},
      {"empty", {kVideos + "/empty.mp4", "empty"}},
      {"audio", {kVideos + "/audio_only.m4a", "no video stream"}},
  };
  for (const auto& [id, v] : bad) c.streams.push_back(stream(id, v.first));
  StreamConfig half = stream("half", kVideos + "/half.mp4");
  c.streams.push_back(half);
  auto engine = Engine::create(c);
  ASSERT_TRUE(engine) << engine.error().message;
  EventLog log;
  log.attach(**engine);
  (*engine)->start();
  // Disallowed schemes are refused when added at run time, naming the URL.
  for (const std::string url : {"concat:a.mp4|b.mp4", "subfile:,,start,0,end,0,,:x.mp4", "gopher://host/x", "file:/etc/passwd"}) {
    auto r = (*engine)->add_stream(stream("sneaky", url));
    ASSERT_FALSE(r) << url;
    EXPECT_NE(r.error().message.find(url.substr(0, url.find(':'))), std::string::npos) << r.error().message;
  }
  // Until every bad source was reported down, the truncated file ended and
  // the good stream has been analysed for a while.
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& [id, v] : bad)
          if (log.of(id, EventKind::kStreamDown).empty()) return false;
        const StreamSnapshot g = (*engine)->stream("good")->snapshot();
        return (*engine)->stream("half")->snapshot().ended && g.frames >= 50 && g.analysed > 5;
      },
      60s));
  const auto stats = to_json((*engine)->stats());
  (*engine)->stop();
  for (const auto& [id, v] : bad) {
    const auto downs = log.of(id, EventKind::kStreamDown);
    ASSERT_FALSE(downs.empty()) << id << " should be reported down";
    EXPECT_NE(downs[0].text.find(v.second), std::string::npos) << id << ": " << downs[0].text;
    EXPECT_NE(downs[0].text.find(v.first), std::string::npos) << id << " message must name the source: " << downs[0].text;
    EXPECT_TRUE(log.of(id, EventKind::kStreamUp).empty()) << id;
  }
  // The truncated file plays what it has, then ends.
  const auto h = find_stream(stats, "half");
  EXPECT_GT(h["frames"].get<int>(), 0);
  const auto g = find_stream(stats, "good");
  EXPECT_LE(drops(g, "capture_overwritten"), g["frames"].get<std::uint64_t>() / 20) << g.dump();
  EXPECT_GT(g["analysed"].get<int>(), 5);
}

// ---- reconnect -------------------------------------------------------------------------

struct Server {
  pid_t pid = -1;
  void start(int port, const std::string& file) {
    pid = fork();
    if (pid == 0) {
      setpgid(0, 0);
      execl("/bin/bash", "bash", VIGIL_SOURCE_DIR "/tests/tools/serve_mpegts.sh", std::to_string(port).c_str(),
            file.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    setpgid(pid, pid);
  }
  void kill_all() {
    if (pid > 0) {
      ::kill(-pid, SIGKILL);
      int status = 0;
      waitpid(pid, &status, 0);
    }
    pid = -1;
  }
  ~Server() { kill_all(); }
};

TEST(EngineReconnect, StreamComesBackWithinSecondsOfItsServer) {
  std::mt19937 rng(static_cast<unsigned>(::getpid()));
  const int port = 20000 + static_cast<int>(rng() % 20000);
  Server server;
  server.start(port, kVideos + "/vtest20.mp4");
  EngineConfig c = base_config(false);
  StreamConfig net = stream("net", "http://127.0.0.1:" + std::to_string(port) + "/live.ts", 2);
  net.timeout_s = 2;
  net.watchdog_s = 3;
  c.streams.push_back(net);
  StreamConfig local = stream("local", kVideos + "/vtest20.mp4", 2);
  local.loop = true;
  c.streams.push_back(local);
  auto engine = Engine::create(c);
  ASSERT_TRUE(engine) << engine.error().message;
  EventLog log;
  log.attach(**engine);
  (*engine)->start();
  auto frames = [&](const char* id) { return find_stream(to_json((*engine)->stats()), id)["frames"].get<int>(); };
  auto wait_for = [&](auto pred, double seconds) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < until) {
      if (pred()) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  };
  // Steady first: frames keep coming for 2 s in a row.
  ASSERT_TRUE(wait_for(
      [&] {
        const int f0 = frames("net");
        std::this_thread::sleep_for(2s);
        return f0 > 0 && frames("net") >= f0 + 10;
      },
      30))
      << "the network stream never ran steadily";
  const std::size_t ups = log.of("net", EventKind::kStreamUp).size();
  const std::size_t downs = log.of("net", EventKind::kStreamDown).size();

  server.kill_all();
  const auto killed = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait_for([&] { return log.of("net", EventKind::kStreamDown).size() > downs; }, 8)) << "no stream_down";
  std::this_thread::sleep_for(killed + 15s - std::chrono::steady_clock::now());
  const auto local_during = find_stream(to_json((*engine)->stats()), "local");
  const int before = frames("net");
  server.start(port, kVideos + "/vtest20.mp4");
  const auto restarted = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait_for([&] { return frames("net") > before + 5; }, 10)) << "frames did not flow again";
  const double back_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - restarted).count();
  (*engine)->stop();
  EXPECT_GT(log.of("net", EventKind::kStreamUp).size(), ups) << "no stream_up after the server returned";
  EXPECT_LE(back_s, 5.0) << "frames flowed again " << back_s << " s after the server returned";
  EXPECT_GE(local_during["display_fps"].get<double>(), 9.0) << "the other stream was disturbed: " << local_during.dump();
}

}  // namespace
}  // namespace vigil
