// The recorder (record/recorder.h) on real FFmpeg, real files and real
// servers: in-process on the vtest20.mp4 fixture (H.264, 10 fps, a keyframe
// every 20 frames = 2 s) for clip sharing, stop and snapshot pixels;
// retention with a real SQLite store and the API router; and a live
// `vigil run` with a token, whose snapshots and clips are fetched over HTTP
// and read by the real ffprobe. Every wait is a condition with a deadline.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "http_test_client.h"
#include "media/video_source.h"
#include "record/recorder.h"
#include "render/overlay.h"
#include "server/api_router.h"
#include "store/sqlite_store.h"
#include "test_process.h"
#include "test_support.h"
#include "wait.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kVideo = std::string(VIGIL_TEST_VIDEOS_DIR) + "/vtest20.mp4";
constexpr double kGop = 2.0;  // vtest20.mp4: -g 20 at 10 fps

std::string run_capture(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 256> buf{};
  while (fgets(buf.data(), buf.size(), p)) out += buf.data();
  pclose(p);
  return out;
}

double probe_duration(const std::string& path) {
  return std::atof(run_capture("ffprobe -v error -show_entries format=duration -of csv=p=0 '" + path + "' 2>&1").c_str());
}

long probe_frames(const std::string& path) {
  return std::atol(run_capture("ffprobe -v error -count_frames -select_streams v:0 -show_entries "
                               "stream=nb_read_frames -of csv=p=0 '" + path + "' 2>&1")
                       .c_str());
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string fresh_dir(const std::string& name) {
  const std::string d = test::tmp_dir(name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

int colour_distance(const cv::Vec3b& bgr, const Rgb& c) {
  return std::abs(bgr[0] - c.b) + std::abs(bgr[1] - c.g) + std::abs(bgr[2] - c.r);
}

std::unique_ptr<VideoSource> open_video(const std::shared_ptr<PacketRing>& ring) {
  VideoSourceOptions o;
  o.url = kVideo;
  auto s = VideoSource::open(o);
  if (!s) {
    ADD_FAILURE() << s.error().message;
    return nullptr;
  }
  if (ring) (*s)->set_packet_ring(ring);
  return std::move(*s);
}

// Reads frames until media time t (or the end); the last frame.
std::shared_ptr<const VideoFrame> read_until(VideoSource& s, double t) {
  std::shared_ptr<const VideoFrame> last;
  for (;;) {
    auto r = s.read();
    if (!r || !r->has_value()) return last;
    last = (*r)->frame;
    if ((*r)->pts >= t) return last;
  }
}

Event zone_enter(const std::string& id, double pts) {
  Event e;
  e.id = id;
  e.kind = EventKind::kZoneEnter;
  e.stream = "cam";
  e.pts = pts;
  e.track_id = 7;
  e.class_id = 0;
  e.class_name = "person";
  e.zone = "plaza";
  return e;
}

RecordConfig clips_only(double pre_s, double post_s) {
  RecordConfig r;
  r.clips = true;
  r.pre_s = pre_s;
  r.post_s = post_s;
  r.kinds = {"zone_enter"};
  return r;
}

class RecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kVideo)) GTEST_SKIP() << "no " << kVideo << " (tests/tools/make_test_videos.sh)";
  }
};

TEST_F(RecorderTest, OverlappingEventsShareOneClipAndALaterOneOpensAnother) {
  RecorderConfig rc;
  rc.dir = fresh_dir("recorder_share");
  auto rec = Recorder::create(rc);
  ASSERT_TRUE(rec) << rec.error().message;
  auto sr = (*rec)->stream("cam", clips_only(2, 2), {"person"});
  ASSERT_TRUE(sr && sr->ring());
  auto src = open_video(sr->ring());
  ASSERT_TRUE(src);

  read_until(*src, 4.0);
  Event a = zone_enter("cam-1", 4.0);  // clip [2, 6]
  sr->record(a, nullptr, {});
  read_until(*src, 4.6);
  Event b = zone_enter("cam-2", 4.5);  // [2.5, 6.5] overlaps: extends a's clip to 6.5
  sr->record(b, nullptr, {});
  read_until(*src, 11.0);
  Event c = zone_enter("cam-3", 11.0);  // [9, 13]: a's clip ended at 6.5
  sr->record(c, nullptr, {});
  read_until(*src, 15.0);

  ASSERT_FALSE(a.clip.empty());
  EXPECT_EQ(a.clip, b.clip) << "overlapping events share one clip";
  EXPECT_NE(c.clip, a.clip);
  EXPECT_EQ(fs::path(a.clip).filename(), "cam-1.mp4") << "named by the first event's id";
  EXPECT_EQ(fs::path(a.clip).parent_path().parent_path(), fs::path(rc.dir).lexically_normal() / "cam");
  ASSERT_TRUE(test::eventually([&] { return fs::exists(a.clip) && fs::exists(c.clip); }, 20s))
      << a.clip << ", " << c.clip;
  EXPECT_FALSE(fs::exists(a.clip + ".part"));

  // One event: pre_s + post_s within a GOP; shared: from the first start to the last end.
  const double single = probe_duration(c.clip);
  EXPECT_NEAR(single, 4.0, kGop) << c.clip;
  EXPECT_GE(single, 4.0 - 0.2);
  const double shared = probe_duration(a.clip);
  EXPECT_NEAR(shared, 4.5, kGop) << a.clip;
  EXPECT_GE(shared, 4.5 - 0.2);
  EXPECT_GT(probe_frames(a.clip), 40) << "ffprobe decodes the clip";
  EXPECT_NEAR(static_cast<double>(probe_frames(c.clip)), single * 10, 2);
  ASSERT_TRUE(test::eventually([&] { return (*rec)->stats().clips == 2; }, 10s));
  const RecorderStats st = (*rec)->stats();
  EXPECT_EQ(st.clips_shared, 1u);
  EXPECT_EQ(st.clip_drops, 0u);
  EXPECT_GT(st.ring_bytes, 0u);
}

TEST_F(RecorderTest, StopEndsAnOpenClipAsAValidMp4) {
  RecorderConfig rc;
  rc.dir = fresh_dir("recorder_stop");
  auto rec = Recorder::create(rc);
  ASSERT_TRUE(rec) << rec.error().message;
  auto sr = (*rec)->stream("cam", clips_only(1, 120), {"person"});
  auto src = open_video(sr->ring());
  ASSERT_TRUE(src);
  read_until(*src, 3.0);
  Event e = zone_enter("cam-1", 3.0);  // would end at 123 s
  sr->record(e, nullptr, {});
  read_until(*src, 7.0);
  EXPECT_EQ((*rec)->stats().clips_open, 1u);
  (*rec)->stop();
  ASSERT_TRUE(fs::exists(e.clip)) << "stop finishes the open clip";
  EXPECT_FALSE(fs::exists(e.clip + ".part"));
  const double d = probe_duration(e.clip);
  EXPECT_GT(d, 4.0) << "the packets up to the stop are in it";
  EXPECT_LT(d, 7.5 + 0.5);
  EXPECT_GT(probe_frames(e.clip), 40);
  Event late = zone_enter("cam-2", 7.0);
  sr->record(late, nullptr, {});
  EXPECT_TRUE(late.clip.empty()) << "nothing is recorded after stop";
}

TEST_F(RecorderTest, SnapshotShowsTheEventsBoxInItsClassColour) {
  RecorderConfig rc;
  rc.dir = fresh_dir("recorder_snapshot");
  auto rec = Recorder::create(rc);
  ASSERT_TRUE(rec) << rec.error().message;
  RecordConfig r;
  r.snapshots = true;
  r.kinds = {"zone_enter"};
  auto sr = (*rec)->stream("cam", r, {"person"});
  ASSERT_TRUE(sr);
  EXPECT_FALSE(sr->ring()) << "no clips: no ring";
  auto src = open_video(nullptr);
  ASSERT_TRUE(src);
  const auto frame = read_until(*src, 3.0);
  ASSERT_TRUE(frame);
  Detection d;
  d.box = {100, 150, 300, 450};
  d.class_id = 0;
  d.score = 0.9f;
  Event e = zone_enter("cam-1", 3.0);
  sr->record(e, frame, {d});
  Event other = zone_enter("cam-2", 3.0);
  other.kind = EventKind::kTrackNew;  // not a recorded kind
  sr->record(other, frame, {d});
  EXPECT_TRUE(other.snapshot.empty());
  ASSERT_FALSE(e.snapshot.empty());
  EXPECT_EQ(fs::path(e.snapshot).filename(), "cam-1.jpg");
  ASSERT_TRUE(test::eventually([&] { return fs::exists(e.snapshot); }, 10s)) << e.snapshot;
  const std::string bytes = read_bytes(e.snapshot);
  ASSERT_GE(bytes.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0xFF);
  EXPECT_EQ(static_cast<unsigned char>(bytes[1]), 0xD8) << "JPEG SOI marker";
  const cv::Mat img = cv::imread(e.snapshot, cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(img.cols, src->width());
  EXPECT_EQ(img.rows, src->height());
  const Rgb c = class_color(0);
  for (const cv::Point p : {cv::Point{100, 300}, cv::Point{300, 300}, cv::Point{200, 450}})
    EXPECT_LT(colour_distance(img.at<cv::Vec3b>(p), c), 60) << "box edge at " << p.x << "," << p.y;
  EXPECT_GT(colour_distance(img.at<cv::Vec3b>(300, 200), c), 60) << "inside the box: the picture";
  ASSERT_TRUE(test::eventually([&] { return (*rec)->stats().snapshots == 1; }, 5s));
}

TEST_F(RecorderTest, AFullQueueDropsSnapshotsAndCountsThem) {
  RecorderConfig rc;
  rc.dir = fresh_dir("recorder_queue");
  rc.queue = 1;
  auto rec = Recorder::create(rc);
  ASSERT_TRUE(rec) << rec.error().message;
  RecordConfig r;
  r.snapshots = true;
  r.kinds = {"zone_enter"};
  auto sr = (*rec)->stream("cam", r, {"person"});
  auto src = open_video(nullptr);
  ASSERT_TRUE(src);
  const auto frame = read_until(*src, 1.0);
  int with_snapshot = 0;
  constexpr int kEvents = 200;
  for (int i = 1; i <= kEvents; ++i) {
    Event e = zone_enter("cam-" + std::to_string(i), 1.0);
    sr->record(e, frame, {});
    with_snapshot += e.snapshot.empty() ? 0 : 1;
  }
  (*rec)->stop();  // writes what was queued
  const RecorderStats st = (*rec)->stats();
  EXPECT_GT(st.snapshot_drops, 0u);
  EXPECT_EQ(st.snapshot_drops + static_cast<std::uint64_t>(with_snapshot), static_cast<std::uint64_t>(kEvents));
  EXPECT_EQ(st.snapshots, static_cast<std::uint64_t>(with_snapshot)) << "every accepted snapshot is written";
}

TEST_F(RecorderTest, UnwritableDirIsAnErrorNamingTheKey) {
  RecorderConfig rc;
  rc.dir = "/proc/vigil-cannot-be-here";
  auto rec = Recorder::create(rc);
  ASSERT_FALSE(rec);
  EXPECT_NE(rec.error().message.find("record.dir: '/proc/vigil-cannot-be-here'"), std::string::npos)
      << rec.error().message;
  const std::string file = test::tmp_dir("recorder_bad_dir") + "/a-file";
  { std::ofstream(file) << "x"; }
  rc.dir = file;
  rec = Recorder::create(rc);
  ASSERT_FALSE(rec);
  EXPECT_NE(rec.error().message.find("record.dir"), std::string::npos) << rec.error().message;
}

// ---- retention with a real store, served by the router --------------------------

// The router's view of an engine with only an event store (no streams).
class StoreOnlyEngine final : public StreamEngine {
 public:
  explicit StoreOnlyEngine(SqliteStore& store) : store_(store) {}
  EngineStats stats() const override { return {}; }
  void reset_stats() override {}
  std::vector<std::string> stream_ids() const override { return {}; }
  std::optional<StreamConfig> stream_config(const std::string&) const override { return std::nullopt; }
  StreamConfig stream_defaults() const override { return {}; }
  Result<void> add_stream(StreamConfig) override { return fail(ErrorCode::kUnsupported, "no streams here"); }
  Result<void> remove_stream(const std::string&) override { return fail(ErrorCode::kNotFound, "no streams here"); }
  Result<void> replace_stream(StreamConfig) override { return fail(ErrorCode::kNotFound, "no streams here"); }
  bool has_event_store() const override { return true; }
  Result<std::vector<Event>> query_events(const EventQuery& q) override { return store_.query(q); }
  Result<std::optional<Event>> find_event(const std::string& id) override { return store_.find(id); }

 private:
  SqliteStore& store_;
};

void write_file(const std::string& path, std::size_t bytes, double age_s) {
  fs::create_directories(fs::path(path).parent_path());
  std::string data(bytes, '\0');
  for (std::size_t i = 0; i < bytes; ++i) data[i] = static_cast<char>(i * 31 % 251);
  std::ofstream(path, std::ios::binary) << data;
  fs::last_write_time(path, fs::file_time_type::clock::now() - std::chrono::duration_cast<fs::file_time_type::duration>(
                                                                     std::chrono::duration<double>(age_s)));
}

ApiResponse get(ApiRouter& router, const std::string& target, const std::string& token = "secret",
                const std::string& range = "") {
  ApiRequest r;
  r.method = "GET";
  r.target = target;
  r.host = "127.0.0.1";
  if (!token.empty()) r.authorization = "Bearer " + token;
  r.range = range;
  return router.handle(r);
}

TEST(Retention, BySizeDeletesTheOldestEventsFilesAndMarksTheirRowsExpired) {
  const std::string dir = fresh_dir("recorder_retention");
  const std::string media = dir + "/media";
  auto store = SqliteStore::open(dir + "/events.db");
  ASSERT_TRUE(store) << store.error().message;
  // Four events, cam-1 the oldest; cam-5 has no media. 4 x (1000 + 3000) bytes.
  for (int i = 1; i <= 4; ++i) {
    const std::string stem = media + "/cam/run/cam-" + std::to_string(i);
    write_file(stem + ".jpg", 1000, 500 - i * 100);
    write_file(stem + ".mp4", 3000, 500 - i * 100);
    Event e = zone_enter("cam-" + std::to_string(i), i);
    e.snapshot = stem + ".jpg";
    e.clip = stem + ".mp4";
    ASSERT_TRUE((*store)->add(e));
  }
  ASSERT_TRUE((*store)->add(zone_enter("cam-5", 5)));
  (*store)->flush();

  RecorderConfig rc;
  rc.dir = media;
  rc.retention.max_gb = 9000 / 1e9;  // two events must go
  SqliteStore* s = store->get();
  auto rec = Recorder::create(rc, [s](const std::vector<std::string>& files) { ASSERT_TRUE(s->mark_expired(files)); });
  ASSERT_TRUE(rec) << rec.error().message;
  (*rec)->run_retention();
  for (int i = 1; i <= 4; ++i) {
    const std::string stem = media + "/cam/run/cam-" + std::to_string(i);
    EXPECT_EQ(fs::exists(stem + ".jpg"), i > 2) << stem;
    EXPECT_EQ(fs::exists(stem + ".mp4"), i > 2) << stem;
    auto row = (*store)->find("cam-" + std::to_string(i));
    ASSERT_TRUE(row && *row);
    EXPECT_EQ((*row)->expired, i <= 2) << "cam-" << i << ": the row stays, marked expired";
  }
  const RecorderStats st = (*rec)->stats();
  EXPECT_EQ(st.deleted_files, 4u);
  EXPECT_EQ(st.deleted_bytes, 8000u);
  EXPECT_EQ(st.disk_bytes, 8000u);

  // The routes: 410 for an expired event, the file for a kept one, 404s, 401.
  ServerOptions o;
  o.token = "secret";
  StoreOnlyEngine engine(**store);
  ApiRouter router(engine, o);
  auto gone = get(router, "/api/events/cam-1/snapshot.jpg");
  EXPECT_EQ(gone.status, 410) << gone.body;
  EXPECT_NE(gone.body.find("expired"), std::string::npos) << gone.body;
  EXPECT_EQ(get(router, "/api/events/cam-2/clip.mp4").status, 410);
  auto jpg = get(router, "/api/events/cam-3/snapshot.jpg");
  EXPECT_EQ(jpg.status, 200) << jpg.body;
  EXPECT_EQ(jpg.content_type, "image/jpeg");
  EXPECT_EQ(jpg.body, read_bytes(media + "/cam/run/cam-3.jpg"));
  auto part = get(router, "/api/events/cam-4/clip.mp4", "secret", "bytes=100-199");
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.content_type, "video/mp4");
  EXPECT_EQ(part.body, read_bytes(media + "/cam/run/cam-4.mp4").substr(100, 100));
  bool content_range = false;
  for (const auto& [k, v] : part.headers) content_range = content_range || (k == "Content-Range" && v == "bytes 100-199/3000");
  EXPECT_TRUE(content_range);
  EXPECT_EQ(get(router, "/api/events/cam-4/clip.mp4", "secret", "bytes=5000-").status, 416);
  auto unknown = get(router, "/api/events/cam-99/clip.mp4");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("no event 'cam-99'"), std::string::npos) << unknown.body;
  auto none = get(router, "/api/events/cam-5/snapshot.jpg");
  EXPECT_EQ(none.status, 404);
  EXPECT_NE(none.body.find("has no snapshot"), std::string::npos) << none.body;
  EXPECT_EQ(get(router, "/api/events/cam-3/snapshot.jpg", "").status, 401);
  EXPECT_EQ(get(router, "/api/events/cam-3/snapshot.jpg", "wrong").status, 401);
}

TEST(Retention, ByAgeDeletesOnlyOlderFiles) {
  const std::string media = fresh_dir("recorder_retention_age") + "/media";
  write_file(media + "/cam/run/cam-1.jpg", 100, 3 * 86400);
  write_file(media + "/cam/run/cam-2.jpg", 100, 60);
  RecorderConfig rc;
  rc.dir = media;
  rc.retention.days = 1;
  std::vector<std::string> expired;
  auto rec = Recorder::create(rc, [&expired](const std::vector<std::string>& f) {
    expired.insert(expired.end(), f.begin(), f.end());
  });
  ASSERT_TRUE(rec);
  (*rec)->run_retention();
  (*rec)->stop();
  EXPECT_FALSE(fs::exists(media + "/cam/run/cam-1.jpg"));
  EXPECT_TRUE(fs::exists(media + "/cam/run/cam-2.jpg"));
  EXPECT_EQ(expired, std::vector<std::string>{media + "/cam/run/cam-1.jpg"});
}

// ---- a live run of the real binary ------------------------------------------------

using test::free_port;
using test::port_open;

TEST_F(RecorderTest, LiveRunRecordsAndServesSnapshotsAndClipsWithTheToken) {
  const std::string dir = fresh_dir("recorder_live");
  const std::string media = dir + "/media";
  const std::string db = dir + "/events.db";
  const int port = free_port();
  {
    std::ofstream f(dir + "/vigil.yaml");
    f << "model: " VIGIL_DEFAULT_MODEL "\n"
         "stats_interval_s: 0\n"
         "events: {sqlite: " << db << "}\n"
         "record: {snapshots: true, clips: true, pre_s: 2, post_s: 2, kinds: [zone_enter], dir: " << media << "}\n"
         "streams:\n"
         "  - id: cam1\n"
         "    url: " << kVideo << "\n"
         "    zones: [{name: plaza, polygon: [[0.02, 0.02], [0.98, 0.02], [0.98, 0.98], [0.02, 0.98]]}]\n";
  }
  test::ChildProcess vigil({VIGIL_BINARY, "run", "-c", dir + "/vigil.yaml", "--listen", "127.0.0.1:" + std::to_string(port),
               "--token", "secret"},
              dir + "/vigil.log");
  const auto p = static_cast<std::uint16_t>(port);
  const http_test::Headers auth{{"Authorization", "Bearer secret"}};
  ASSERT_TRUE(test::eventually([&] { return port_open(port); }, 60s)) << read_bytes(dir + "/vigil.log");

  // The first event whose clip is served.
  std::string id;
  const bool served = test::eventually(
      [&] {
        const auto r = http_test::get(p, "/api/events?kind=zone_enter&limit=50", auth);
        if (r.status != 200) return false;
        const nlohmann::json j = r.parsed();
        for (const auto& e : j["events"]) {
          if (!e.value("has_clip", false) || !e.value("has_snapshot", false)) continue;
          if (http_test::get(p, "/api/events/" + e["id"].get<std::string>() + "/clip.mp4", auth).status == 200) {
            id = e["id"];
            return true;
          }
        }
        return false;
      },
      60s, 500ms);
  ASSERT_TRUE(served) << "no zone_enter event with a served clip; log:\n" << read_bytes(dir + "/vigil.log");

  const auto snap = http_test::get(p, "/api/events/" + id + "/snapshot.jpg", auth);
  ASSERT_EQ(snap.status, 200) << snap.body;
  EXPECT_EQ(snap.content_type, "image/jpeg");
  const cv::Mat img = cv::imdecode(cv::Mat(1, static_cast<int>(snap.body.size()), CV_8U, const_cast<char*>(snap.body.data())),
                                   cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty()) << "the snapshot is a JPEG";
  EXPECT_EQ(img.cols, 768);
  EXPECT_EQ(img.rows, 576);
  int person_coloured = 0;
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x) person_coloured += colour_distance(img.at<cv::Vec3b>(y, x), class_color(0)) < 60;
  EXPECT_GT(person_coloured, 300) << "the event's box (person colour) is drawn";

  const auto clip = http_test::get(p, "/api/events/" + id + "/clip.mp4", auth);
  ASSERT_EQ(clip.status, 200);
  EXPECT_EQ(clip.content_type, "video/mp4");
  EXPECT_EQ(clip.header("Accept-Ranges"), "bytes");
  const std::string saved = dir + "/served.mp4";
  std::ofstream(saved, std::ios::binary) << clip.body;
  EXPECT_GT(probe_frames(saved), 20) << "the served clip plays in ffprobe";
  const auto part = http_test::get(p, "/api/events/" + id + "/clip.mp4",
                                   {{"Authorization", "Bearer secret"}, {"Range", "bytes=0-99"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, clip.body.substr(0, 100));
  EXPECT_EQ(part.header("Content-Range"), "bytes 0-99/" + std::to_string(clip.body.size()));

  // The same auth as the rest of the API; clear errors for the rest.
  EXPECT_EQ(http_test::get(p, "/api/events/" + id + "/clip.mp4").status, 401);
  EXPECT_EQ(http_test::get(p, "/api/events/" + id + "/snapshot.jpg").status, 401);
  http_test::expect_error(http_test::get(p, "/api/events/cam1-999999/clip.mp4", auth), 404, "no event");
  const auto stats = http_test::get(p, "/api/stats", auth).parsed();
  ASSERT_TRUE(stats.contains("record")) << stats.dump();
  EXPECT_GE(stats["record"]["snapshots"].get<int>(), 1);
  EXPECT_GE(stats["record"]["clips"].get<int>(), 1);

  // Until the file ends (20 s) and a little more; then a clean stop.
  ASSERT_TRUE(test::eventually(
      [&] {
        const auto s = http_test::get(p, "/api/streams/cam1", auth).parsed();
        return s.contains("status") && s["status"].value("ended", false);
      },
      60s, 500ms));
  EXPECT_EQ(vigil.terminate_within(30s), 0) << read_bytes(dir + "/vigil.log");

  // Every clip is complete and playable; its length spans its events.
  auto store = SqliteStore::open(db);
  ASSERT_TRUE(store) << store.error().message;
  EventQuery q;
  q.kind = "zone_enter";
  q.limit = 1000;
  auto events = (*store)->query(q);
  ASSERT_TRUE(events) << events.error().message;
  std::map<std::string, std::vector<double>> by_clip;
  for (const auto& e : *events)
    if (!e.clip.empty()) by_clip[e.clip].push_back(e.pts);
  ASSERT_FALSE(by_clip.empty());
  std::size_t shared = 0, checked = 0;
  for (const auto& [path, pts] : by_clip) {
    ASSERT_TRUE(fs::exists(path)) << path;
    EXPECT_FALSE(fs::exists(path + ".part")) << path;
    EXPECT_GT(probe_frames(path), 0) << path;
    if (pts.size() > 1) ++shared;
    const double first = *std::min_element(pts.begin(), pts.end());
    const double last = *std::max_element(pts.begin(), pts.end());
    if (last + 2 > 19.5) continue;  // cut by the end of the file
    // From the keyframe at or before first - pre_s (the ring starts with the
    // file) to last + post_s.
    const double end = last + 2;
    const double start_latest = std::max(0.0, first - 2);
    const double start_earliest = std::max(0.0, first - 2 - kGop);
    const double d = probe_duration(path);
    EXPECT_GE(d, end - start_latest - 0.3) << path;
    EXPECT_LE(d, end - start_earliest + 0.3) << path;
    ++checked;
  }
  EXPECT_GT(checked, 0u);
  EXPECT_GT(shared, 0u) << "people enter the plaza within 4 s of each other: some events share a clip";
}

TEST(RecorderCli, UnwritableRecordDirStopsTheRunNamingTheKey) {
  const std::string dir = fresh_dir("recorder_cli");
  {
    std::ofstream f(dir + "/vigil.yaml");
    f << "model: " VIGIL_DEFAULT_MODEL "\n"
         "record: {snapshots: true, dir: /proc/vigil-no}\n"
         "streams:\n  - {id: cam1, url: " << kVideo << "}\n";
  }
  const auto r = test::run_process(std::string(VIGIL_BINARY) + " run -c " + dir + "/vigil.yaml --no-server");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("record.dir: '/proc/vigil-no'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace vigil
