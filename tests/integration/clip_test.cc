// Packet ring and MP4 clips on real FFmpeg and real files: a fixture made
// by the ffmpeg CLI from opencv-doc's vtest.avi (H.264, 25 fps, a keyframe
// every 25 frames = every second), clips checked by the real ffprobe.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

extern "C" {
#include <libavcodec/avcodec.h>
}

#include "media/clip_writer.h"
#include "media/packet_ring.h"
#include "media/video_source.h"
#include "render/event_snapshot.h"
#include "render/overlay.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

namespace fs = std::filesystem;
using namespace vigil;

namespace {

const char* kSample = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";
constexpr double kGop = 1.0;  // -g 25 at 25 fps

std::string run_capture(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 256> buf{};
  while (fgets(buf.data(), buf.size(), p)) out += buf.data();
  pclose(p);
  return out;
}

fs::path test_dir() {
  fs::path d = fs::path(VIGIL_TEST_TMP) / "clip_test";
  fs::create_directories(d);
  return d;
}

// The fixture: 12 s of vtest.avi as H.264 in MP4, GOP of 25 frames at 25 fps.
const std::string& gop25_video() {
  static const std::string path = [] {
    const fs::path out = test_dir() / "vtest_g25.mp4";
    const std::string cmd = std::string("ffmpeg -y -loglevel error -i ") + kSample +
                            " -t 12 -r 25 -c:v libx264 -preset ultrafast -g 25 -keyint_min 25 -sc_threshold 0"
                            " -pix_fmt yuv420p -an " + out.string();
    if (std::system(cmd.c_str()) != 0) return std::string();
    return out.string();
  }();
  return path;
}

std::unique_ptr<VideoSource> open_source(const std::shared_ptr<PacketRing>& ring) {
  VideoSourceOptions o;
  o.url = gop25_video();
  auto s = VideoSource::open(o);
  if (!s) {
    ADD_FAILURE() << s.error().message;
    return nullptr;
  }
  (*s)->set_packet_ring(ring);
  return std::move(*s);
}

// Reads frames until media time t (or the end); the last frame's pts.
double read_until(VideoSource& s, double t) {
  double last = -1;
  for (;;) {
    auto r = s.read();
    if (!r || !r->has_value()) return last;
    last = (*r)->pts;
    if (last >= t) return last;
  }
}

double probe_duration(const std::string& path) {
  const std::string out =
      run_capture("ffprobe -v error -show_entries format=duration -of csv=p=0 '" + path + "' 2>&1");
  return std::atof(out.c_str());
}

long probe_frames(const std::string& path) {
  const std::string out = run_capture("ffprobe -v error -count_frames -select_streams v:0 -show_entries "
                                      "stream=nb_read_frames -of csv=p=0 '" + path + "' 2>&1");
  return std::atol(out.c_str());
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class ClipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kSample)) GTEST_SKIP() << "no " << kSample << " (opencv-doc)";
    ASSERT_FALSE(gop25_video().empty()) << "ffmpeg could not make the fixture";
  }
};

}  // namespace

TEST_F(ClipTest, RingKeepsPreSecondsFromAKeyframe) {
  auto ring = std::make_shared<PacketRing>(2.0);
  auto src = open_source(ring);
  ASSERT_TRUE(src);
  const double now = read_until(*src, 6.5);
  ASSERT_GE(now, 6.5);
  const auto st = ring->stats();
  // Starts at the keyframe at or before newest - 2 s: within one GOP of it.
  EXPECT_LE(st.first_s, st.last_s - 2.0 + 1e-6);
  EXPECT_GT(st.first_s, st.last_s - 2.0 - kGop - 1e-6);
  EXPECT_NEAR(st.first_s, std::floor(st.first_s + 1e-6), 1e-3) << "keyframes are on whole seconds";
  EXPECT_LT(st.packets, static_cast<std::size_t>(25 * (2 + kGop) + 5));
}

TEST_F(ClipTest, ClipSpansPreToPostAndPlaysInFfprobe) {
  auto ring = std::make_shared<PacketRing>(2.0);
  auto src = open_source(ring);
  ASSERT_TRUE(src);
  const double event = 6.0;
  ASSERT_GE(read_until(*src, event), event);
  auto feed = ring->open_feed(event - 2.0);
  ASSERT_TRUE(feed);
  feed->extend_to(event + 2.0);
  const std::string path = (test_dir() / "clip_pre_post.mp4").string();
  fs::remove(path);
  // The writer runs beside the reader, as in the engine.
  Result<ClipInfo> info = fail(ErrorCode::kRuntime, "not run");
  std::thread writer([&] { info = write_mp4_clip(*feed, path); });
  read_until(*src, 12);
  ring->close_feeds();
  writer.join();
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_TRUE(info->complete);
  EXPECT_NEAR(info->first_s, 4.0, 1e-3);
  ASSERT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".part"));
  const double d = probe_duration(path);
  EXPECT_NEAR(d, 4.0, kGop) << "pre_s + post_s within a GOP";
  EXPECT_GE(probe_frames(path), 90) << "ffprobe decodes every frame";
  const std::string bytes = read_bytes(path);
  const auto moov = bytes.find("moov"), mdat = bytes.find("mdat");
  ASSERT_NE(moov, std::string::npos);
  EXPECT_LT(moov, mdat) << "faststart: the index comes first";
}

TEST_F(ClipTest, ExtendedClipCoversTheLaterEvent) {
  auto ring = std::make_shared<PacketRing>(1.0);
  auto src = open_source(ring);
  ASSERT_TRUE(src);
  ASSERT_GE(read_until(*src, 4.0), 4.0);
  auto feed = ring->open_feed(3.0);
  ASSERT_TRUE(feed);
  feed->extend_to(5.0);
  feed->extend_to(4.5);  // never moves earlier
  EXPECT_DOUBLE_EQ(feed->end_s(), 5.0);
  feed->extend_to(8.0);  // a second event at 7 s shares the clip
  read_until(*src, 12);
  ring->close_feeds();
  const std::string path = (test_dir() / "clip_extended.mp4").string();
  auto info = write_mp4_clip(*feed, path);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_NEAR(probe_duration(path), 5.0, kGop);
  EXPECT_NEAR(info->last_s, 8.0, 0.05);
}

TEST_F(ClipTest, FeedBeforeTheRingStartsAtItsFirstKeyframe) {
  auto ring = std::make_shared<PacketRing>(1.0);
  auto src = open_source(ring);
  ASSERT_TRUE(src);
  ASSERT_GE(read_until(*src, 5.0), 5.0);
  auto feed = ring->open_feed(0.0);
  ASSERT_TRUE(feed);
  AVPacket* first = feed->next(0);
  ASSERT_NE(first, nullptr);
  EXPECT_GE(feed->seconds_of(first), 3.0);
  av_packet_free(&first);
}

TEST_F(ClipTest, EmptyFeedIsAnErrorNamingTheClip) {
  auto ring = std::make_shared<PacketRing>(1.0);
  EXPECT_EQ(ring->open_feed(0), nullptr) << "no keyframe yet";
  auto src = open_source(ring);
  ASSERT_TRUE(src);
  ASSERT_GE(read_until(*src, 1.0), 1.0);
  auto feed = ring->open_feed(0.5);
  ASSERT_TRUE(feed);
  while (AVPacket* p = feed->next(0)) av_packet_free(&p);
  ring->close_feeds();
  const std::string path = (test_dir() / "clip_empty.mp4").string();
  auto info = write_mp4_clip(*feed, path, 100);
  ASSERT_FALSE(info);
  EXPECT_NE(info.error().message.find(path), std::string::npos) << info.error().message;
  EXPECT_FALSE(fs::exists(path + ".part"));
}

namespace {
int colour_distance(const cv::Vec3b& bgr, const Rgb& c) {
  return std::abs(bgr[0] - c.b) + std::abs(bgr[1] - c.g) + std::abs(bgr[2] - c.r);
}
}  // namespace

TEST_F(ClipTest, SnapshotIsAJpegOfTheFrameWithTheEventsBox) {
  auto src = open_source(nullptr);
  ASSERT_TRUE(src);
  std::shared_ptr<const VideoFrame> frame;
  for (int i = 0; i < 30; ++i) {
    auto r = src->read();
    ASSERT_TRUE(r && r->has_value());
    frame = (*r)->frame;
  }
  Detection d;
  d.box = {100, 150, 300, 450};
  d.class_id = 0;
  d.score = 0.9f;
  const std::string boxed = (test_dir() / "snap_boxed.jpg").string();
  const std::string plain = (test_dir() / "snap_plain.jpg").string();
  ASSERT_TRUE(write_event_snapshot(boxed, *frame, {d}, {"person"}));
  ASSERT_TRUE(write_event_snapshot(plain, *frame, {}, {"person"}));
  EXPECT_FALSE(fs::exists(boxed + ".part"));
  const std::string bytes = read_bytes(boxed);
  ASSERT_GE(bytes.size(), 4u);
  EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0xFF);
  EXPECT_EQ(static_cast<unsigned char>(bytes[1]), 0xD8) << "JPEG SOI marker";
  const cv::Mat img = cv::imread(boxed, cv::IMREAD_COLOR);
  const cv::Mat ref = cv::imread(plain, cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(img.cols, src->width());
  EXPECT_EQ(img.rows, src->height());
  const Rgb c = class_color(0);
  // On each edge of the box (away from the label), the box colour; the same
  // pixel of the snapshot without boxes is not.
  const cv::Point edges[] = {{100, 300}, {300, 300}, {200, 450}};
  for (const cv::Point& p : edges) {
    EXPECT_LT(colour_distance(img.at<cv::Vec3b>(p), c), 60) << "at " << p.x << "," << p.y;
    EXPECT_GT(colour_distance(ref.at<cv::Vec3b>(p), c), 60) << "at " << p.x << "," << p.y;
  }
  // Inside the box, the picture is untouched.
  EXPECT_LT(colour_distance(img.at<cv::Vec3b>(300, 200), Rgb{ref.at<cv::Vec3b>(300, 200)[2],
                                                                ref.at<cv::Vec3b>(300, 200)[1],
                                                                ref.at<cv::Vec3b>(300, 200)[0]}), 30);
}

TEST_F(ClipTest, SnapshotIntoAnUnwritablePlaceNamesThePath) {
  auto src = open_source(nullptr);
  ASSERT_TRUE(src);
  auto r = src->read();
  ASSERT_TRUE(r && r->has_value());
  const std::string path = "/proc/vigil_no_such_dir/snap.jpg";
  auto w = write_event_snapshot(path, *(*r)->frame, {}, {});
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message.find("/proc/vigil_no_such_dir"), std::string::npos) << w.error().message;
}
