#include "store/jsonl_sink.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include "store/event_json.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;

class JsonlSinkTest : public testing::Test {
 protected:
  void SetUp() override {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(testing::TempDir()) /
           ("vigil-jsonl-test-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static Event event(int i) {
    Event e;
    e.kind = i % 2 ? EventKind::kZoneEnter : EventKind::kLineCross;
    constexpr const char* kStreams[] = {"cam-0", "cam-1", "cam-2"};
    e.stream = kStreams[i % 3];
    e.pts = i * 0.04;
    e.wall_time = 1700000000.0 + i;
    e.track_id = i;
    e.class_id = 0;
    e.class_name = "person";
    if (i % 2) {
      e.zone = "door";
    } else {
      e.line = "gate";
      e.direction = "out";
    }
    return e;
  }

  static std::vector<std::string> read_lines(const fs::path& p) {
    std::ifstream in(p);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  fs::path dir_;
};

TEST_F(JsonlSinkTest, OneParseableLinePerEvent) {
  const auto path = dir_ / "events.jsonl";
  auto sink = JsonlSink::open(path.string());
  ASSERT_TRUE(sink.has_value()) << sink.error().message;
  for (int i = 0; i < 100; ++i) (*sink)->write(event(i));
  (*sink)->flush();
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 100U);
  for (int i = 0; i < 100; ++i) {
    const auto e = event_from_json(nlohmann::json::parse(lines[static_cast<std::size_t>(i)]));
    ASSERT_TRUE(e.has_value()) << e.error().message;
    EXPECT_EQ(e->track_id, i);
    EXPECT_EQ(e->stream, event(i).stream);
    EXPECT_EQ(to_json(*e), to_json(event(i)));
  }
  EXPECT_EQ((*sink)->errors(), 0U);
  EXPECT_EQ((*sink)->dropped(), 0U);
}

TEST_F(JsonlSinkTest, AppendsAcrossReopenAndFlushesOnDestruction) {
  const auto path = dir_ / "events.jsonl";
  {
    auto sink = JsonlSink::open(path.string());
    ASSERT_TRUE(sink.has_value()) << sink.error().message;
    for (int i = 0; i < 3; ++i) (*sink)->write(event(i));
  }  // no flush(): the destructor writes
  ASSERT_EQ(read_lines(path).size(), 3U);
  {
    auto sink = JsonlSink::open(path.string());
    ASSERT_TRUE(sink.has_value()) << sink.error().message;
    for (int i = 3; i < 5; ++i) (*sink)->write(event(i));
  }
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 5U);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(nlohmann::json::parse(lines[static_cast<std::size_t>(i)]).at("track_id"), i);
}

TEST_F(JsonlSinkTest, WritesOutWithoutAnExplicitFlush) {
  const auto path = dir_ / "events.jsonl";
  auto sink = JsonlSink::open(path.string());
  ASSERT_TRUE(sink.has_value()) << sink.error().message;
  (*sink)->write(event(1));
  // The flusher runs every 200 ms; the generous deadline keeps this from
  // depending on the machine's speed.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (fs::file_size(path) == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(read_lines(path).size(), 1U);
}

TEST_F(JsonlSinkTest, ConcurrentWritersKeepLinesWhole) {
  const auto path = dir_ / "events.jsonl";
  auto sink = JsonlSink::open(path.string());
  ASSERT_TRUE(sink.has_value()) << sink.error().message;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) (*sink)->write(event(t * 1000 + i));
    });
  for (auto& th : threads) th.join();
  (*sink)->flush();
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 4000U);
  std::set<std::int64_t> ids;
  for (const auto& line : lines) {
    const auto e = event_from_json(nlohmann::json::parse(line));
    ASSERT_TRUE(e.has_value()) << e.error().message;
    ids.insert(e->track_id);
  }
  EXPECT_EQ(ids.size(), 4000U);
}

TEST_F(JsonlSinkTest, MissingDirectoryIsAnErrorNamingThePath) {
  const auto path = (dir_ / "no-such-dir" / "events.jsonl").string();
  const auto sink = JsonlSink::open(path);
  ASSERT_FALSE(sink.has_value());
  EXPECT_EQ(sink.error().code, ErrorCode::kNotFound);
  EXPECT_NE(sink.error().message.find(path), std::string::npos) << sink.error().message;
  EXPECT_NE(sink.error().message.find("does not exist"), std::string::npos) << sink.error().message;
  EXPECT_FALSE(fs::exists(dir_ / "no-such-dir"));
}

TEST_F(JsonlSinkTest, DirectoryIsAnErrorNamingThePath) {
  const auto sink = JsonlSink::open(dir_.string());
  ASSERT_FALSE(sink.has_value());
  EXPECT_NE(sink.error().message.find(dir_.string()), std::string::npos) << sink.error().message;
}

TEST_F(JsonlSinkTest, IoErrorsAreCountedNotFatal) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  auto sink = JsonlSink::open("/dev/full");  // every write fails with ENOSPC
  ASSERT_TRUE(sink.has_value()) << sink.error().message;
  for (int i = 0; i < 5; ++i) (*sink)->write(event(i));
  (*sink)->flush();
  EXPECT_EQ((*sink)->errors(), 5U);
  (*sink)->write(event(5));
  (*sink)->flush();
  EXPECT_EQ((*sink)->errors(), 6U);
}

TEST_F(JsonlSinkTest, InvalidUtf8DoesNotCostTheEvent) {
  const auto path = dir_ / "events.jsonl";
  auto sink = JsonlSink::open(path.string());
  ASSERT_TRUE(sink.has_value()) << sink.error().message;
  Event e = event(1);
  e.text = "caption with a stray byte \xff here";
  (*sink)->write(e);
  (*sink)->flush();
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 1U);
  const auto j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j.at("text"), "caption with a stray byte \xef\xbf\xbd here");  // U+FFFD
  EXPECT_EQ((*sink)->errors(), 0U);
}

TEST_F(JsonlSinkTest, DashWritesToStdout) {
  testing::internal::CaptureStdout();
  {
    auto sink = JsonlSink::open("-");
    ASSERT_TRUE(sink.has_value()) << sink.error().message;
    (*sink)->write(event(42));
  }
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(out, to_json(event(42)).dump() + "\n");
}

// Three streams publish from their own threads (loop events, stream_up from
// a capture thread, captions) with deliberately different interleavings:
// the spooled log comes out the same, by (pts, stream order, producer, arrival).
TEST_F(JsonlSinkTest, EventOrderSpoolIsIndependentOfThreadTiming) {
  auto run = [&](int variant) {
    const fs::path path = dir_ / ("ordered" + std::to_string(variant) + ".jsonl");
    auto sink = JsonlSink::open(path.string());
    EXPECT_TRUE(sink) << sink.error().message;
    EventOrderSpool spool({"cam-b", "cam-a", "cam-c"});  // config order, not alphabetical
    std::vector<std::thread> threads;
    for (const std::string stream : {"cam-a", "cam-b", "cam-c"}) {
      threads.emplace_back([&, stream] {  // the stream loop: times ascending, ties in a fixed order
        for (int i = 0; i < 200; ++i) {
          Event e = event(i);
          e.stream = stream;
          e.pts = (i / 2) * 0.1;  // two events per frame time
          e.wall_time = i;        // differs between runs in real life
          spool.add(e);
          if ((i + variant) % 7 == 0) std::this_thread::yield();
        }
      });
      threads.emplace_back([&, stream] {  // capture thread: stream_up at 0
        if (variant) std::this_thread::sleep_for(std::chrono::milliseconds(2));
        Event e;
        e.kind = EventKind::kStreamUp;
        e.stream = stream;
        spool.add(e);
      });
      threads.emplace_back([&, stream] {  // caption worker
        for (int i = 0; i < 5; ++i) {
          Event e;
          e.kind = EventKind::kCaption;
          e.stream = stream;
          e.pts = i * 2.0;
          e.text = "caption " + std::to_string(i);
          spool.add(e);
          if (variant) std::this_thread::yield();
        }
      });
    }
    for (auto& t : threads) t.join();
    spool.finish(**sink);
    EXPECT_EQ(spool.errors(), 0u);
    sink->reset();
    return read_lines(path);
  };
  const auto a = run(0);
  const auto b = run(1);
  ASSERT_EQ(a.size(), 3u * (200 + 1 + 5));
  EXPECT_EQ(a, b);
  double last = -1;
  for (const auto& line : a) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_GE(j["pts"].get<double>(), last) << line;
    last = j["pts"].get<double>();
  }
  // At time 0: cam-b's stream_up, then its two loop events, then cam-b's caption; then cam-a.
  const auto first = nlohmann::json::parse(a[0]);
  EXPECT_EQ(first["stream"], "cam-b");
  EXPECT_EQ(first["kind"], "stream_up");
  EXPECT_EQ(nlohmann::json::parse(a[3])["kind"], "caption");
  EXPECT_EQ(nlohmann::json::parse(a[4])["stream"], "cam-a");
}

}  // namespace
}  // namespace vigil
