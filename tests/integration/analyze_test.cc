// `vigil analyze` end to end: the real binary on a real 10.6-minute H.264
// video (vtest.avi joined 8 times by tests/tools/make_test_videos.sh), real
// FFmpeg decoding, the real model and a real SQLite job store.
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fake_chat_server.h"
#include "test_support.h"

namespace fs = std::filesystem;
using vigil::test::run_process;
using vigil::test::tmp_dir;

namespace {

const std::string kLong = std::string(VIGIL_TEST_VIDEOS_DIR) + "/long.mp4";
// 0.5 samples/s keeps each run near 10 s on 2 cores; 60 s chunks give 11 chunks.
const std::string kOpts = " --sample-fps 0.5 --workers 2 --progress lines ";

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string fresh_dir(const std::string& name) {
  const std::string d = std::string(VIGIL_TEST_TMP) + "/analyze_" + name;
  fs::remove_all(d);
  return d;
}

vigil::test::ProcessResult analyze(const std::string& args) {
  return run_process(std::string(VIGIL_BINARY) + " analyze " + args);
}

// The reference: one uninterrupted chunked run, shared by the tests (each
// test runs in its own process: a run newer than the binary is reused).
const std::string& reference_dir() {
  static const std::string dir = [] {
    const std::string d = std::string(VIGIL_TEST_TMP) + "/analyze_reference";
    std::error_code ec;
    const auto done = fs::last_write_time(d + "/stdout.txt", ec);
    if (!ec && done > fs::last_write_time(VIGIL_BINARY) && fs::exists(d + "/results.json")) return d;
    fs::remove_all(d);
    const auto r = analyze(kLong + kOpts + "--chunk 60 -o " + d);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::ofstream(d + "/stdout.txt") << r.out;
    return d;
  }();
  return dir;
}

int count_chunks(const std::string& db, const std::string& state) {
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(h);
    return -1;
  }
  sqlite3_busy_timeout(h, 2000);
  int n = -1;
  sqlite3_stmt* st = nullptr;
  const std::string sql = "SELECT count(*) FROM chunks WHERE state = '" + state + "'";
  if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(h);
  return n;
}

pid_t spawn_analyze(const std::string& out_dir) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    dup2(devnull, STDERR_FILENO);
    execl(VIGIL_BINARY, VIGIL_BINARY, "analyze", kLong.c_str(), "--sample-fps", "0.5", "--workers", "2", "--progress",
          "none", "--chunk", "60", "-o", out_dir.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

void kill_hard(pid_t pid) {
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
}

}  // namespace

TEST(Analyze, WritesEveryOutput) {
  const std::string& d = reference_dir();
  for (const char* f : {"results.json", "events.jsonl", "timeline.csv", "report.html", "run.json", "job.db"})
    EXPECT_TRUE(fs::exists(d + "/" + f)) << f;
  const auto results = nlohmann::json::parse(slurp(d + "/results.json"));
  EXPECT_EQ(results["summary"]["chunks"], 11);
  EXPECT_EQ(results["summary"]["chunks_done"], 11);
  EXPECT_EQ(results["summary"]["samples"], 318);  // 0, 2, ..., 634 s
  EXPECT_GT(results["summary"]["detections"].value("person", 0), 318);  // vtest: several people in most frames
  EXPECT_GT(results["summary"]["tracks"].value("person", 0), 10);
  EXPECT_FALSE(results["tracks"].empty());
  EXPECT_FALSE(results["counts_over_time"]["rows"].empty());
  // The same people walk through every 79.5 s copy: tracks span chunk
  // boundaries and were stitched.
  EXPECT_GT(results["summary"]["stitches"].get<int>(), 0);
  // timeline: header + one row per sampled frame.
  const std::string csv = slurp(d + "/timeline.csv");
  EXPECT_EQ(csv.rfind("t,pts,person", 0), 0u) << csv.substr(0, 80);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 319);
  // events: JSON Lines, track ids renumbered from 1, no wall clock.
  std::istringstream ev(slurp(d + "/events.jsonl"));
  std::string line;
  int n = 0;
  while (std::getline(ev, line)) {
    const auto e = nlohmann::json::parse(line);
    EXPECT_FALSE(e.contains("wall_time"));
    EXPECT_FALSE(e.contains("boundary"));
    if (n++ == 0) {
      EXPECT_EQ(e["track_id"], 1);
    }
  }
  EXPECT_GT(n, 20);
  // The report is self-contained: no scripts or links to fetch.
  const std::string html = slurp(d + "/report.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("data:image/jpeg;base64,"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  const auto run = nlohmann::json::parse(slurp(d + "/run.json"));
  EXPECT_GT(run["wall_s"].get<double>(), 0);
  EXPECT_GT(run["totals_all_runs"]["packets_dropped"].get<int>(), 0);  // non-reference frames never decoded
  EXPECT_GT(run["totals_all_runs"]["seeks"].get<int>(), 0);            // GOPs no sample needs skipped
}

TEST(Analyze, ChunkedRunSamplesTheSameFramesAsOneChunk) {
  const std::string& chunked = reference_dir();
  const std::string one = fresh_dir("one_chunk");
  const auto r = analyze(kLong + kOpts + "--chunk 100000 -o " + one);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(slurp(one + "/timeline.csv"), slurp(chunked + "/timeline.csv"));
  const auto a = nlohmann::json::parse(slurp(one + "/results.json"));
  const auto b = nlohmann::json::parse(slurp(chunked + "/results.json"));
  EXPECT_EQ(a["summary"]["chunks"], 1);
  EXPECT_EQ(a["summary"]["stitches"], 0);
  EXPECT_EQ(a["summary"]["detections"], b["summary"]["detections"]);
  // Tracks may differ only around stitch points: within a few per boundary.
  const int ta = a["summary"]["tracks"].value("person", 0), tb = b["summary"]["tracks"].value("person", 0);
  EXPECT_LE(std::abs(ta - tb), 3 * 10) << ta << " vs " << tb;
}

TEST(Analyze, ResumesAfterKillNineWithIdenticalOutputs) {
  const std::string& ref = reference_dir();
  const std::string d = fresh_dir("killed");
  const std::string db = d + "/job.db";
  // Kill 1: early, while the first chunks run.
  pid_t pid = spawn_analyze(d);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  kill_hard(pid);
  // Kills 2 and 3: once 2, then 5 chunks are committed.
  for (int want : {2, 5}) {
    pid = spawn_analyze(d);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (count_chunks(db, "done") < want && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    kill_hard(pid);
    ASSERT_GE(count_chunks(db, "done"), want);
  }
  ASSERT_LT(count_chunks(db, "done"), 11);
  const auto r = analyze(kLong + kOpts + "--chunk 60 -o " + d);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(resumed)"), std::string::npos) << r.out;
  for (const char* f : {"results.json", "events.jsonl", "timeline.csv"})
    EXPECT_EQ(slurp(d + "/" + f), slurp(ref + "/" + f)) << f << " differs after kill -9 and resume";
  // --resume alone (no video) finds the job in the directory and, all done, rewrites the same outputs.
  const auto again = analyze("--resume --progress none -o " + d);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(slurp(d + "/timeline.csv"), slurp(ref + "/timeline.csv"));
}

// 256 KiB of the MP4's media data overwritten (about 4 s of video): the
// damaged stretch costs the samples whose frames it held, not the chunk; the
// job completes with every chunk done and names the damaged range.
TEST(Analyze, DamagedStretchLosesItsSamplesNotTheChunk) {
  const std::string d = fresh_dir("corrupt");
  fs::create_directories(d);
  const std::string video = d + "/damaged.mp4";
  fs::copy_file(kLong, video);
  {
    // Overwrite 256 KiB in the middle of the media data with a fixed pattern.
    std::fstream f(video, std::ios::in | std::ios::out | std::ios::binary);
    const auto size = static_cast<std::streamoff>(fs::file_size(video));
    f.seekp(size / 2);
    std::string junk(256 * 1024, '\0');
    for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>((i * 131 + 7) & 0xFF);
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  const auto r = analyze(video + kOpts + "--chunk 60 -o " + d + "/out");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("damaged data"), std::string::npos) << r.err;
  const auto results = nlohmann::json::parse(slurp(d + "/out/results.json"));
  const auto& summary = results["summary"];
  EXPECT_TRUE(summary["failed"].empty()) << summary["failed"].dump();
  EXPECT_EQ(summary["chunks_done"], 11);
  const auto& damaged = summary["damaged"];
  ASSERT_GE(damaged.size(), 1u) << summary.dump();
  // Around the middle of the file; seconds, not a chunk: the 4 s overwritten
  // plus at most a 5 s GOP up to the keyframe decoding resumed at.
  const double from = damaged[0]["from"].get<double>(), to = damaged.back()["to"].get<double>();
  EXPECT_GE(from, 180);
  EXPECT_LE(to, 420);
  EXPECT_LE(to - from, 15) << damaged.dump();
  EXPECT_FALSE(damaged[0]["error"].get<std::string>().empty());
  const int lost = summary["samples_lost"].get<int>();
  EXPECT_GE(lost, 1);
  EXPECT_LE(lost, 8);  // 0.5 samples/s over <= 15 s
  EXPECT_EQ(summary["samples"].get<int>(), 318 - lost);
  const std::string csv = slurp(d + "/out/timeline.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 318 - lost);
  EXPECT_NE(slurp(d + "/out/report.html").find("Damaged time ranges"), std::string::npos);
  // Every chunk in one attempt: damage is not a failure to retry.
  const auto run = nlohmann::json::parse(slurp(d + "/out/run.json"));
  for (const auto& c : run["chunks"]) EXPECT_EQ(c["attempts"], 1) << c.dump();
  EXPECT_GT(run["totals_all_runs"]["damage_errors"].get<int>(), 0);
  // The rows kept are the undamaged file's rows: same frames, same detections.
  const std::string ref = slurp(reference_dir() + "/timeline.csv");
  std::istringstream rows(csv);
  std::string row;
  while (std::getline(rows, row)) EXPECT_NE(ref.find(row + "\n"), std::string::npos) << row;
}

// The 80 s MPEG-TS file with 64 KiB overwritten at a third
// (make_test_videos.sh): one chunk or eight, the damaged seconds are lost and
// nothing else; both give the same samples, frames and detections.
TEST(Analyze, DamagedMpegTsLosesSecondsWhateverTheChunking) {
  const std::string v = VIGIL_TEST_VIDEOS_DIR;
  const std::string clean = fresh_dir("ts_clean"), one = fresh_dir("ts_one"), eight = fresh_dir("ts_eight");
  const std::string opts = " --sample-fps 1 --workers 2 --progress none ";
  ASSERT_EQ(analyze(v + "/vtest.ts" + opts + "--chunk 100000 -o " + clean).exit_code, 0);
  const auto r1 = analyze(v + "/damaged.ts" + opts + "--chunk 100000 -o " + one);
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  const auto r8 = analyze(v + "/damaged.ts" + opts + "--chunk 10 -o " + eight);
  ASSERT_EQ(r8.exit_code, 0) << r8.err;
  const auto a = nlohmann::json::parse(slurp(one + "/results.json"));
  const auto b = nlohmann::json::parse(slurp(eight + "/results.json"));
  const auto c = nlohmann::json::parse(slurp(clean + "/results.json"));
  ASSERT_EQ(c["summary"]["samples"], 80);
  EXPECT_TRUE(c["summary"]["damaged"].empty());
  EXPECT_EQ(b["summary"]["chunks"], 8);
  EXPECT_EQ(b["summary"]["chunks_done"], 8);
  EXPECT_TRUE(b["summary"]["failed"].empty()) << b["summary"]["failed"].dump();
  for (const auto* res : {&a, &b}) {
    const auto& s = (*res)["summary"];
    ASSERT_EQ(s["damaged"].size(), 1u) << s.dump();
    const double from = s["damaged"][0]["from"].get<double>(), to = s["damaged"][0]["to"].get<double>();
    EXPECT_GE(from, 15);  // a third of 79.5 s is 26.5 s
    EXPECT_LE(to, 40);
    EXPECT_LE(to - from, 10) << s["damaged"].dump();
    EXPECT_GE(s["samples"].get<int>(), 70) << "loses seconds, not minutes";
    EXPECT_EQ(s["samples"].get<int>() + s["samples_lost"].get<int>(), 80);
  }
  EXPECT_EQ(a["summary"]["damaged"], b["summary"]["damaged"]);
  EXPECT_EQ(slurp(one + "/timeline.csv"), slurp(eight + "/timeline.csv"));
  EXPECT_EQ(a["summary"]["detections"], b["summary"]["detections"]);
  // The rows kept are the clean file's rows.
  const std::string ref = slurp(clean + "/timeline.csv");
  std::istringstream rows(slurp(one + "/timeline.csv"));
  std::string row;
  while (std::getline(rows, row)) EXPECT_NE(ref.find(row + "\n"), std::string::npos) << row;
  const std::string html = slurp(eight + "/report.html");
  EXPECT_NE(html.find("Damaged time ranges"), std::string::npos);
}

// One-second chunks: those whose every sample lies in the damaged stretch
// yield nothing and fail (tried twice); every other chunk is done.
TEST(Analyze, OnlyAChunkThatYieldsNothingFails) {
  const std::string d = fresh_dir("ts_small_chunks");
  const auto r = analyze(std::string(VIGIL_TEST_VIDEOS_DIR) + "/damaged.ts --sample-fps 1 --workers 2 --progress none "
                         "--chunk 1 -o " + d);
  EXPECT_EQ(r.exit_code, 1) << r.err;  // finished, with failed chunks
  const auto results = nlohmann::json::parse(slurp(d + "/results.json"));
  const auto& s = results["summary"];
  const auto& failed = s["failed"];
  ASSERT_GE(failed.size(), 1u) << s.dump();
  ASSERT_LE(failed.size(), 5u) << s.dump();
  EXPECT_EQ(s["chunks"], 80);
  EXPECT_EQ(s["chunks_done"].get<int>() + static_cast<int>(failed.size()), 80);
  for (const auto& f : failed) {
    EXPECT_GE(f["start_s"].get<double>(), 15) << f.dump();
    EXPECT_LE(f["end_s"].get<double>(), 40) << f.dump();
    EXPECT_NE(f["error"].get<std::string>().find("no frame of the chunk could be decoded"), std::string::npos) << f.dump();
  }
  EXPECT_NE(slurp(d + "/report.html").find("Failed time ranges"), std::string::npos);
  const auto run = nlohmann::json::parse(slurp(d + "/run.json"));
  for (const auto& c : run["chunks"])
    if (c["state"] == "failed") {
      EXPECT_EQ(c["attempts"], 2) << c.dump();
    }
}

// Two processes on one output folder: the second is refused at once (exit 2,
// naming the folder and the first one's pid) and the first is unaffected.
// The first is stopped (SIGSTOP) while the second tries, so that it cannot
// finish before the second starts.
TEST(Analyze, SecondProcessOnTheSameFolderIsRefused) {
  const std::string d = fresh_dir("locked");
  const pid_t first = spawn_analyze(d);
  const std::string pid_text = std::to_string(first);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (slurp(d + "/job.lock").rfind(pid_text, 0) != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(slurp(d + "/job.lock").rfind(pid_text, 0), 0u) << "the first process did not take the lock";
  ASSERT_EQ(kill(first, SIGSTOP), 0);
  const auto t0 = std::chrono::steady_clock::now();
  const auto second = analyze(kLong + kOpts + "--chunk 60 -o " + d);
  const double second_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  kill(first, SIGCONT);
  EXPECT_EQ(second.exit_code, 2) << second.err;
  EXPECT_NE(second.err.find(d), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("pid " + pid_text), std::string::npos) << second.err;
  EXPECT_LT(second_s, 10.0) << "refused at once, not after analysing";  // it loads no model: well under 1 s
  int status = 0;
  ASSERT_EQ(waitpid(first, &status, 0), first);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  const auto results = nlohmann::json::parse(slurp(d + "/results.json"));
  EXPECT_EQ(results["summary"]["chunks_done"], 11);
  EXPECT_TRUE(results["summary"]["failed"].empty()) << results["summary"]["failed"].dump();
  EXPECT_EQ(slurp(d + "/timeline.csv"), slurp(reference_dir() + "/timeline.csv"));
  // Once the first has ended, the folder is free again: an all-done resume.
  const auto again = analyze("--resume --progress none -o " + d);
  EXPECT_EQ(again.exit_code, 0) << again.err;
}

// A file name with spaces, dots and capitals: the stream id is its slug (as
// `vigil run` derives ids) and the outputs keep the real name.
TEST(Analyze, FileNameWithSpacesAndDots) {
  const std::string d = fresh_dir("names");
  fs::create_directories(d);
  const std::string video = d + "/Lobby Cam.2024-01-01.mp4";
  fs::copy_file(std::string(VIGIL_TEST_VIDEOS_DIR) + "/vtest20.mp4", video);
  const auto r = analyze("\"" + video + "\" --sample-fps 2 --progress none -o " + d + "/out");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto results = nlohmann::json::parse(slurp(d + "/out/results.json"));
  EXPECT_EQ(results["video"]["name"], "Lobby Cam.2024-01-01.mp4");
  EXPECT_EQ(results["video"]["stream"], "lobby_cam_2024-01-01");
  EXPECT_EQ(results["video"]["path"], video);
  EXPECT_EQ(results["summary"]["samples"], 40);
  std::istringstream ev(slurp(d + "/out/events.jsonl"));
  std::string line;
  int n = 0;
  while (std::getline(ev, line)) {
    EXPECT_EQ(nlohmann::json::parse(line)["stream"], "lobby_cam_2024-01-01") << line;
    ++n;
  }
  EXPECT_GT(n, 0);
  EXPECT_NE(slurp(d + "/out/report.html").find("Lobby Cam.2024-01-01.mp4"), std::string::npos);
}

TEST(Analyze, ProgressLinesAreMonotonic) {
  const std::string out = slurp(reference_dir() + "/stdout.txt");
  std::istringstream is(out);
  std::string line;
  double last = -1;
  int chunk_lines = 0;
  while (std::getline(is, line)) {
    const auto bar = line.find(" | ");
    if (bar == std::string::npos) continue;
    const double pct = std::stod(line.substr(bar + 3));
    EXPECT_GE(pct, last) << line;
    last = pct;
    if (line.rfind("chunk ", 0) == 0) ++chunk_lines;
  }
  EXPECT_EQ(chunk_lines, 11);  // one line per finished chunk
  EXPECT_DOUBLE_EQ(last, 100.0);
}

TEST(Analyze, BadInputsAreClearErrors) {
  const std::string v = VIGIL_TEST_VIDEOS_DIR;
  const std::string out = " --progress none -o " + fresh_dir("bad");
  struct Case {
    std::string args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {v + "/missing.mp4", "missing.mp4: no such file"},
      {v + "/random.mp4", "random.mp4"},
      {v + "/empty.mp4", "empty.mp4: the file is empty"},
      {v + "/audio_only.m4a", "has no video stream"},
      {kLong + " --sample-fps 0", "sample_fps"},
      {kLong + " --chunk -5", "chunk"},
      {kLong + " --classes person,unicorn", "unicorn"},
      {"--resume", "no job to resume"},
      {"", "no video given"},
  };
  for (const auto& c : cases) {
    const auto r = analyze(c.args + out);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << "\n" << r.err;
  }
  // An output path that is a file: refused, the file untouched.
  const std::string file = tmp_dir("analyze_bad_file") + "/taken";
  std::ofstream(file) << "keep me";
  const auto r = analyze(kLong + " --progress none -o " + file);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("not a directory"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(file), "keep me");
}

TEST(AnalyzeCaptions, TemplateCaptionsEverySecondsAndASummary) {
  const std::string d = fresh_dir("captions_template");
  fs::create_directories(d);
  std::ofstream(d + "/vigil.yaml") << "describe: {every_s: 60}\n";
  const auto r = analyze(kLong + kOpts + "--chunk 100 --captions -c " + d + "/vigil.yaml -o " + d + "/out");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto results = nlohmann::json::parse(slurp(d + "/out/results.json"));
  ASSERT_EQ(results["captions"].size(), 11u);  // 0, 60, ..., 600 s: a global grid, not the 100 s chunks
  for (std::size_t i = 0; i < 11; ++i) {
    EXPECT_DOUBLE_EQ(results["captions"][i]["t"].get<double>(), 60.0 * static_cast<double>(i));
    EXPECT_FALSE(results["captions"][i].value("text", "").empty()) << results["captions"][i].dump();
  }
  EXPECT_EQ(results["options"]["captioner"], "template");
  EXPECT_NE(results["caption_summary"].value("text", "").find("11 captions"), std::string::npos)
      << results["caption_summary"].dump();
  EXPECT_NE(slurp(d + "/out/report.html").find("Scene captions"), std::string::npos);
}

// The VLM side against a local fake chat-completions server (a test double:
// no vision-language model can run here): one request per chunk with the
// frame, then one text-only request for the summary.
TEST(AnalyzeCaptions, VlmCaptionsPerChunkAndOneSummaryRequest) {
  using vigil::test::chat_answer;
  vigil::test::FakeChatServer server([](const vigil::test::SeenRequest& req, int) {
    const bool summary = req.body.find("image_url") == std::string::npos;
    return vigil::test::Reply{200, chat_answer(summary ? "People cross a plaza all along." : "A busy plaza.")};
  });
  const std::string d = fresh_dir("captions_vlm");
  fs::create_directories(d);
  std::ofstream(d + "/vigil.yaml") << "describe: {captioner: vlm, endpoint: '" << server.url() << "'}\n";
  const auto r = analyze(kLong + kOpts + "--chunk 200 --captions -c " + d + "/vigil.yaml -o " + d + "/out");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto results = nlohmann::json::parse(slurp(d + "/out/results.json"));
  ASSERT_EQ(results["captions"].size(), 4u);  // once per chunk: 0, 200, 400, 600 s
  EXPECT_EQ(results["captions"][0]["text"], "A busy plaza.");
  EXPECT_EQ(results["caption_summary"]["text"], "People cross a plaza all along.");
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 5u);
  int with_image = 0;
  for (const auto& q : seen) with_image += q.body.find("data:image/jpeg;base64,") != std::string::npos ? 1 : 0;
  EXPECT_EQ(with_image, 4);
  // The summary request lists the chunk captions with their times.
  const auto& last = seen.back();
  EXPECT_NE(last.body.find("[00:03:20] A busy plaza."), std::string::npos) << last.body.substr(0, 600);
}
