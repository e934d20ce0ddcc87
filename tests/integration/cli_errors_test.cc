// Bad input through the real `vigil detect` binary: each gives a clear message
// on stderr naming the input, exit code 2, no crash, and the good inputs of
// the same run are still processed.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;
const std::string kModel = std::string(VIGIL_TEST_MODELS_DIR) + "/yolov8.onnx";
const std::string kDog = "/usr/share/darknet/data/dog.jpg";

std::string write_file(const std::string& name, const std::string& content) {
  const std::string path = test::tmp_dir("cli_errors") + "/" + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

void expect_bad_input(const test::ProcessResult& r, const std::string& names) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(names), std::string::npos) << "stderr does not name " << names << ": " << r.err;
  EXPECT_EQ(r.err.find("terminate called"), std::string::npos) << r.err;
}

TEST(CliErrors, MissingModelPath) {
  auto r = test::run_process(kVigil + " detect --model /nonexistent/model.onnx " + kDog);
  expect_bad_input(r, "/nonexistent/model.onnx");
  EXPECT_NE(r.err.find("no such file"), std::string::npos);
}

TEST(CliErrors, TextFileNamedOnnx) {
  const auto path = write_file("notes.onnx", "hello, I am not a model\n");
  auto r = test::run_process(kVigil + " detect --model " + path + " " + kDog);
  expect_bad_input(r, path);
  EXPECT_NE(r.err.find("ONNX model"), std::string::npos) << r.err;
}

TEST(CliErrors, TextFileThatLooksLikeProtobuf) {
  // Starts with a byte that is a valid protobuf tag: ONNX Runtime itself rejects it.
  const auto path = write_file("tricky.onnx", "\x0a\x05hello world, still not a model");
  auto r = test::run_process(kVigil + " detect --model " + path + " " + kDog);
  expect_bad_input(r, path);
}

TEST(CliErrors, UnsupportedOutputLayout) {
  const std::string path = std::string(VIGIL_TEST_MODELS_DIR) + "/unsupported.onnx";
  auto r = test::run_process(kVigil + " detect --model " + path + " " + kDog);
  expect_bad_input(r, path);
  EXPECT_NE(r.err.find("unsupported output layout"), std::string::npos);
}

TEST(CliErrors, NotAnImageAndMissingImageDoNotStopTheGoodOnes) {
  const auto text = write_file("photo.jpg", "this is text, not a JPEG");
  const auto empty = write_file("empty.png", "");
  const std::string missing = "/nonexistent/cat.jpg";
  auto r = test::run_process(kVigil + " detect --json --model " + kModel + " " + text + " " + missing + " " + empty +
                             " " + kDog);
  expect_bad_input(r, text);
  EXPECT_NE(r.err.find(missing), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(empty), std::string::npos) << r.err;
  // The good image was still processed: exactly one JSON line, for dog.jpg.
  ASSERT_FALSE(r.out.empty());
  auto j = nlohmann::json::parse(r.out.substr(0, r.out.find('\n')));
  EXPECT_EQ(j["file"], kDog);
  EXPECT_EQ(j["width"], 768);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
}

TEST(CliErrors, UnknownClassAndDevice) {
  auto r = test::run_process(kVigil + " detect --model " + kModel + " --classes person,unicorn " + kDog);
  expect_bad_input(r, "unicorn");
  auto d = test::run_process(kVigil + " detect --model " + kModel + " --device quantum " + kDog);
  expect_bad_input(d, "quantum");
}

TEST(CliErrors, EmptyDirectory) {
  const std::string dir = test::tmp_dir("cli_errors/empty_dir");
  auto r = test::run_process(kVigil + " detect --model " + kModel + " " + dir);
  expect_bad_input(r, dir);
}

// A decompression bomb: a 0.4 MB PNG that declares 20000x20000 pixels (1.2 GB
// once decoded to BGR). It is refused from its header, before decoding, and
// the good image of the same run is still processed.
TEST(CliErrors, ImageBombIsRefusedBeforeDecoding) {
  const std::string bomb = test::tmp_dir("cli_errors") + "/bomb.png";
  if (!std::filesystem::exists(bomb)) {
    auto made = test::run_process("python3 " VIGIL_SOURCE_DIR "/tests/tools/make_png_bomb.py " + bomb);
    ASSERT_EQ(made.exit_code, 0) << made.err;
  }
  ASSERT_LT(std::filesystem::file_size(bomb), 2u << 20);
  auto r = test::run_process(kVigil + " detect --json --model " + kModel + " " + bomb + " " + kDog);
  expect_bad_input(r, bomb);
  EXPECT_NE(r.err.find("20000x20000"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("35389440"), std::string::npos) << "names the limit: " << r.err;
  ASSERT_FALSE(r.out.empty());
  EXPECT_EQ(nlohmann::json::parse(r.out.substr(0, r.out.find('\n')))["file"], kDog);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
  // The limit is an option: dog.jpg (768x576) is refused under a smaller one.
  auto small = test::run_process(kVigil + " detect --max-pixels 400000 --model " + kModel + " " + kDog);
  expect_bad_input(small, kDog);
  EXPECT_NE(small.err.find("768x576"), std::string::npos) << small.err;
}

// Log levels: an unknown name (from the environment or --log-level) is a clear
// error, never a silent "off"; the usual names are accepted.
TEST(CliErrors, UnknownLogLevelIsRefused) {
  auto env = test::run_process("VIGIL_LOG=verbose " + kVigil + " detect --model " + kModel + " " + kDog);
  expect_bad_input(env, "VIGIL_LOG=verbose");
  EXPECT_NE(env.err.find("unknown log level"), std::string::npos) << env.err;
  EXPECT_TRUE(env.out.empty()) << "nothing ran: " << env.out;
  auto flag = test::run_process(kVigil + " --log-level loud detect --model " + kModel + " " + kDog);
  expect_bad_input(flag, "--log-level=loud");
}

TEST(Cli, LogLevelNamesAreAccepted) {
  // `vigil detect` logs the execution provider it uses at info level.
  const std::string cmd = " detect --json --model " + kModel + " " + kDog;
  auto info = test::run_process(kVigil + cmd);
  ASSERT_EQ(info.exit_code, 0) << info.err;
  ASSERT_NE(info.err.find(" info "), std::string::npos) << "no info line to compare with: " << info.err;
  for (const std::string level : {"warning", "WARN", "error", "critical", "off"}) {
    auto r = test::run_process("VIGIL_LOG=" + level + " " + kVigil + cmd);
    EXPECT_EQ(r.exit_code, 0) << level << ": " << r.err;
    EXPECT_EQ(r.err.find(" info "), std::string::npos) << level << ": " << r.err;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << level;
  }
  // --log-level wins over the environment, before or after the subcommand's name.
  auto before = test::run_process("VIGIL_LOG=off " + kVigil + " --log-level debug" + cmd);
  EXPECT_EQ(before.exit_code, 0) << before.err;
  EXPECT_NE(before.err.find(" info "), std::string::npos) << before.err;
  auto after = test::run_process("VIGIL_LOG=verbose " + kVigil + cmd + " --log-level off");
  EXPECT_EQ(after.exit_code, 0) << after.err;
  EXPECT_TRUE(after.err.empty()) << after.err;
}

// ---- vigil run: exit codes when sources cannot be read -----------------------

const std::string kVideos = VIGIL_TEST_VIDEOS_DIR;

TEST(CliRunExit, OfflineWithEveryUnreadableSourceExitsTwoNamingEach) {
  const auto text = write_file("notes.mp4", "this is text, not a video\n");
  const std::vector<std::string> bad = {kVideos + "/random.mp4", kVideos + "/empty.mp4", text,
                                        kVideos + "/audio_only.m4a", "/nonexistent/gone.mp4"};
  std::string cmd = kVigil + " run --offline --model " + kModel;
  for (const auto& b : bad) cmd += " " + b;
  auto r = test::run_process(cmd);
  expect_bad_input(r, "no source could be read");
  for (const auto& b : bad) EXPECT_NE(r.err.find(b), std::string::npos) << "names " << b << ": " << r.err;
}

TEST(CliRunExit, OfflineWithSomeUnreadableSourcesExitsOneAndRunsTheOthers) {
  const std::string dir = test::tmp_dir("cli_run_some");
  const std::string events = dir + "/events.jsonl";
  const std::string stats = dir + "/stats.json";
  std::filesystem::remove(events);
  auto r = test::run_process(kVigil + " run --offline --every 5 --model " + kModel + " " + kVideos +
                             "/vtest20.mp4 /nonexistent/gone.mp4 --events " + events + " --stats " + stats);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/gone.mp4"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("vigil run: streams[0]"), std::string::npos) << "the good source is not named: " << r.err;
  std::ifstream sf(stats);
  const auto st = nlohmann::json::parse(sf);
  for (const auto& s : st["streams"])
    if (s["id"] == "vtest20") {
      EXPECT_EQ(s["frames"], 200) << "the readable file was processed in full";
    }
}

TEST(CliRunExit, ConfigWhoseOnlyStreamIsMissingIsNotSilent) {
  const auto cfg = write_file("missing_only.yaml", "streams:\n  - {id: lobby, url: /nonexistent/lobby.mp4}\n");
  auto r = test::run_process(kVigil + " run --offline --model " + kModel + " -c " + cfg);
  expect_bad_input(r, "/nonexistent/lobby.mp4");
  EXPECT_NE(r.err.find("'lobby'"), std::string::npos) << r.err;
}

// Live (paced) without a server: the run ends when its files end. The 3 s
// clips take about 3 s; the 60 s timeout only turns a hang into a failure.
TEST(CliRunExit, LiveWithoutServerEndsWhenTheFilesEnd) {
  auto r = test::run_process("timeout 60 " + kVigil + " run --no-server --model " + kModel + " " + kVideos +
                             "/vtest3.mp4 " + kVideos + "/vtest3.mp4");
  EXPECT_EQ(r.exit_code, 0) << (r.exit_code == 124 ? "still running after 60 s\n" : "") << r.err;
}

// ---- vigil run --offline: the event log does not depend on thread timing ----

// Three streams of different lengths, twice: byte-identical events.jsonl once
// wall_time is removed, in media-time order, streams in config order at equal
// times (docs/config.md).
TEST(CliRunOffline, EventsFileIsTheSameEveryRun) {
  const std::string dir = test::tmp_dir("cli_run_order");
  std::vector<std::string> runs;
  for (int run = 0; run < 2; ++run) {
    const std::string events = dir + "/events" + std::to_string(run) + ".jsonl";
    std::filesystem::remove(events);
    auto r = test::run_process(kVigil + " run --offline --every 2 --model " + kModel + " " + kVideos + "/vtest20.mp4 " +
                               kVideos + "/vtest3.mp4 " + kVideos + "/still.mp4 --events " + events);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::ifstream f(events);
    std::string line, text;
    double last_pts = -1;
    std::map<std::string, int> per_stream;
    while (std::getline(f, line)) {
      auto j = nlohmann::json::parse(line);
      j.erase("wall_time");
      const double pts = j["pts"].get<double>();
      EXPECT_GE(pts, last_pts) << "not in media-time order: " << line;
      last_pts = pts;
      ++per_stream[j["stream"].get<std::string>()];
      text += j.dump() + "\n";
    }
    EXPECT_EQ(per_stream.size(), 3u) << text.substr(0, 500);
    runs.push_back(text);
  }
  EXPECT_EQ(runs[0], runs[1]) << "the event log differs between two runs";
  // At pts 0 every stream says stream_up, in the order the streams were given.
  std::istringstream first(runs[0]);
  std::vector<std::string> ups;
  for (std::string line; std::getline(first, line) && ups.size() < 3;) {
    const auto j = nlohmann::json::parse(line);
    if (j["kind"] == "stream_up") ups.push_back(j["stream"]);
  }
  EXPECT_EQ(ups, (std::vector<std::string>{"vtest20", "vtest3", "still"}));
}

TEST(Cli, AnnotatedImagesAndTable) {
  const std::string out = test::tmp_dir("cli_annotated");
  std::filesystem::remove(out + "/dog.jpg");
  auto r = test::run_process(kVigil + " detect --model " + kModel + " -o " + out + " " + kDog);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("person"), std::string::npos) << r.out;  // the test model's class 0
  ASSERT_TRUE(std::filesystem::exists(out + "/dog.jpg"));
  std::ifstream f(out + "/dog.jpg", std::ios::binary);
  unsigned char soi[2] = {};
  f.read(reinterpret_cast<char*>(soi), 2);
  EXPECT_EQ(soi[0], 0xFF);
  EXPECT_EQ(soi[1], 0xD8);
}

}  // namespace
}  // namespace vigil
