// Display rotation: the pure maths, rotate_frame on each kind of pixel
// layout, and real files whose display matrix ffmpeg wrote (compared with
// what the ffmpeg CLI itself shows for them, autorotate on).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>
}

#include "jobs/frame_sampler.h"
#include "media/frame_rotation.h"
#include "media/video_source.h"
#include "test_support.h"

namespace vigil {
namespace {

TEST(DisplayRotation, MatrixAnglesBecomeClockwiseQuarterTurns) {
  // av_display_rotation_get() is counterclockwise; players turn the other way.
  EXPECT_EQ(display_rotation_from_ccw_degrees(NAN), Rotation::k0);
  EXPECT_EQ(display_rotation_from_ccw_degrees(0), Rotation::k0);
  EXPECT_EQ(display_rotation_from_ccw_degrees(-90), Rotation::k90);
  EXPECT_EQ(display_rotation_from_ccw_degrees(90), Rotation::k270);
  EXPECT_EQ(display_rotation_from_ccw_degrees(180), Rotation::k180);
  EXPECT_EQ(display_rotation_from_ccw_degrees(-180), Rotation::k180);
  EXPECT_EQ(display_rotation_from_ccw_degrees(-89.6), Rotation::k90);
  EXPECT_EQ(display_rotation_from_ccw_degrees(270), Rotation::k90);
  EXPECT_EQ(display_rotation_from_ccw_degrees(10), Rotation::k0);
}

TEST(DisplayRotation, SizesAndPointsTurn) {
  EXPECT_EQ(rotated_size(1280, 720, Rotation::k90), (std::pair{720, 1280}));
  EXPECT_EQ(rotated_size(1280, 720, Rotation::k180), (std::pair{1280, 720}));
  EXPECT_EQ(rotated_size(1280, 720, Rotation::k270), (std::pair{720, 1280}));
  // The top-left corner of a 4x2 picture.
  EXPECT_EQ(rotate_point(0, 0, 4, 2, Rotation::k90), (std::pair{1, 0}));   // to the top right
  EXPECT_EQ(rotate_point(0, 0, 4, 2, Rotation::k180), (std::pair{3, 1}));  // bottom right
  EXPECT_EQ(rotate_point(0, 0, 4, 2, Rotation::k270), (std::pair{0, 3}));  // bottom left
  // Every point lands inside, each on its own place, and four turns are none.
  for (Rotation r : {Rotation::k90, Rotation::k180, Rotation::k270}) {
    const auto [w2, h2] = rotated_size(5, 3, r);
    std::vector<int> hit(static_cast<std::size_t>(w2 * h2), 0);
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 5; ++x) {
        const auto [u, v] = rotate_point(x, y, 5, 3, r);
        ASSERT_TRUE(u >= 0 && u < w2 && v >= 0 && v < h2);
        ++hit[static_cast<std::size_t>(v * w2 + u)];
      }
    for (int n : hit) EXPECT_EQ(n, 1);
  }
  int x = 1, y = 2, w = 5, h = 3;
  for (int i = 0; i < 4; ++i) {
    std::tie(x, y) = rotate_point(x, y, w, h, Rotation::k90);
    std::swap(w, h);
  }
  EXPECT_EQ((std::pair{x, y}), (std::pair{1, 2}));
}

TEST(DisplayRotation, PlanesOfMultiByteElementsTurnAsUnits) {
  // 3x2 elements of 2 bytes (NV12's UV pairs): each pair stays together.
  const std::uint8_t src[] = {1, 2, 3, 4, 5, 6, 0, 0,  // row 0 (+2 bytes padding)
                              7, 8, 9, 10, 11, 12, 0, 0};
  std::uint8_t dst[2 * 3 * 2] = {};
  rotate_plane(src, 8, 3, 2, 2, dst, 4, Rotation::k90);  // to 2x3
  const std::uint8_t want[] = {7, 8, 1, 2, 9, 10, 3, 4, 11, 12, 5, 6};
  EXPECT_TRUE(std::equal(std::begin(want), std::end(want), dst));
}

// A frame whose every sample says where it is: plane p, (x, y) -> (x * 7 + y * 13 + p * 50) & 0xFF.
AVFrame* patterned(AVPixelFormat fmt, int w, int h) {
  AVFrame* f = av_frame_alloc();
  f->format = fmt;
  f->width = w;
  f->height = h;
  EXPECT_EQ(av_frame_get_buffer(f, 0), 0);
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(fmt);
  for (int p = 0; p < 4 && f->data[p]; ++p) {
    const bool chroma = p == 1 || p == 2;
    const int pw = chroma ? AV_CEIL_RSHIFT(w, d->log2_chroma_w) : w;
    const int ph = chroma ? AV_CEIL_RSHIFT(h, d->log2_chroma_h) : h;
    const int bytes = d->comp[p == 0 ? 0 : 1].step;
    for (int y = 0; y < ph; ++y)
      for (int x = 0; x < pw * bytes; ++x)
        f->data[p][y * f->linesize[p] + x] = static_cast<std::uint8_t>((x * 7 + y * 13 + p * 50) & 0xFF);
  }
  return f;
}

void expect_turned(AVPixelFormat fmt, Rotation r, int w = 10, int h = 6) {
  AVFrame* in = patterned(fmt, w, h);
  auto out = rotate_frame(in, r);
  ASSERT_TRUE(out) << out.error().message;
  AVFrame* o = *out;
  const auto [ow, oh] = rotated_size(w, h, r);
  EXPECT_EQ(o->width, ow);
  EXPECT_EQ(o->height, oh);
  EXPECT_EQ(o->format, fmt);
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(fmt);
  for (int p = 0; p < 4 && in->data[p]; ++p) {
    const bool chroma = p == 1 || p == 2;
    const int pw = chroma ? AV_CEIL_RSHIFT(w, d->log2_chroma_w) : w;
    const int ph = chroma ? AV_CEIL_RSHIFT(h, d->log2_chroma_h) : h;
    const int bytes = d->comp[p == 0 ? 0 : 1].step;
    for (int y = 0; y < ph; ++y)
      for (int x = 0; x < pw; ++x) {
        const auto [u, v] = rotate_point(x, y, pw, ph, r);
        for (int b = 0; b < bytes; ++b)
          ASSERT_EQ(o->data[p][v * o->linesize[p] + u * bytes + b], in->data[p][y * in->linesize[p] + x * bytes + b])
              << av_get_pix_fmt_name(fmt) << " plane " << p << " (" << x << ", " << y << ") turned "
              << static_cast<int>(r);
      }
  }
  av_frame_free(&in);
  av_frame_free(&o);
}

TEST(DisplayRotation, FramesTurnInTheirOwnFormat) {
  for (Rotation r : {Rotation::k90, Rotation::k180, Rotation::k270}) {
    expect_turned(AV_PIX_FMT_YUV420P, r);
    expect_turned(AV_PIX_FMT_YUVJ420P, r);
    expect_turned(AV_PIX_FMT_NV12, r);
    expect_turned(AV_PIX_FMT_YUV444P, r);
    expect_turned(AV_PIX_FMT_GRAY8, r);
    expect_turned(AV_PIX_FMT_YUV420P10LE, r);
    expect_turned(AV_PIX_FMT_YUV420P, r, 67, 35);  // odd sizes, more than one tile
    expect_turned(AV_PIX_FMT_NV12, r, 67, 35);
  }
  expect_turned(AV_PIX_FMT_YUV422P, Rotation::k180);
}

TEST(DisplayRotation, FourTwoTwoIsConvertedForQuarterTurns) {
  AVFrame* in = patterned(AV_PIX_FMT_YUV422P, 10, 6);
  auto out = rotate_frame(in, Rotation::k90);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ((*out)->format, AV_PIX_FMT_YUV420P);
  EXPECT_EQ((*out)->width, 6);
  EXPECT_EQ((*out)->height, 10);
  // Luma is carried over exactly.
  for (int y = 0; y < 6; ++y)
    for (int x = 0; x < 10; ++x) {
      const auto [u, v] = rotate_point(x, y, 10, 6, Rotation::k90);
      ASSERT_EQ((*out)->data[0][v * (*out)->linesize[0] + u], in->data[0][y * in->linesize[0] + x]);
    }
  av_frame_free(&in);
  av_frame_free(&*out);
}

// ---- real files: ffmpeg writes the display matrix, VideoSource applies it -------------

std::string ffmpeg(const std::string& args) {
  const auto r = test::run_process("ffmpeg -nostdin -hide_banner -loglevel error -y " + args);
  EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
  return r.err;
}

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// 176x100, 1 s at 10 fps, from Debian's vtest.avi; made once per build.
const std::string& plain_file() {
  static const std::string path = [] {
    const std::string p = test::tmp_dir("rotation") + "/plain.mp4";
    if (!std::filesystem::exists(p))
      ffmpeg("-i /usr/share/doc/opencv-doc/examples/data/vtest.avi -t 1 -vf scale=176:100 -c:v libx264 "
             "-preset ultrafast -pix_fmt yuv420p " + p);
    return p;
  }();
  return path;
}

class RotatedFile : public ::testing::TestWithParam<int> {};

TEST_P(RotatedFile, FramesAndSizeAreInDisplayOrientationAsFfmpegShowsThem) {
  const int tag = GetParam();
  const std::string file = test::tmp_dir("rotation") + "/rotate" + std::to_string(tag) + ".mp4";
  ffmpeg("-i " + plain_file() + " -c copy -metadata:s:v rotate=" + std::to_string(tag) + " " + file);
  // What the ffmpeg CLI shows (autorotate): the first frame, as decoded.
  const std::string shown = file + ".yuv";
  ffmpeg("-i " + file + " -frames:v 1 -f rawvideo -pix_fmt yuv420p " + shown);
  const auto want = read_bytes(shown);  // the Y plane first
  ASSERT_EQ(want.size(), 176U * 100U * 3 / 2);

  VideoSourceOptions o;
  o.url = file;
  o.hwaccel = HwAccel::kNone;
  auto src = VideoSource::open(o);
  ASSERT_TRUE(src) << src.error().message;
  const bool quarter = (*src)->rotation() == 90 || (*src)->rotation() == 270;
  EXPECT_NE((*src)->rotation(), 0) << "the display matrix of " << file << " was not read";
  EXPECT_EQ((*src)->width(), quarter ? 100 : 176);
  EXPECT_EQ((*src)->height(), quarter ? 176 : 100);
  auto f = (*src)->read();
  ASSERT_TRUE(f && f->has_value());
  const VideoFrame& vf = *(*f)->frame;
  ASSERT_EQ(vf.width(), (*src)->width());
  ASSERT_EQ(vf.height(), (*src)->height());
  ASSERT_TRUE(vf.has_luma());
  std::size_t differ = 0;
  for (int y = 0; y < vf.height(); ++y)
    for (int x = 0; x < vf.width(); ++x)
      differ += vf.luma()[y * vf.luma_stride() + x] != want[static_cast<std::size_t>(y * vf.width() + x)];
  EXPECT_EQ(differ, 0U) << "pixels differ from ffmpeg's own display of " << file;

  // Offline analysis reads through the same source.
  auto again = VideoSource::open(o);
  ASSERT_TRUE(again);
  FrameSampler sampler(**again, {0.5});
  auto s = sampler.next();
  ASSERT_TRUE(s && s->has_value());
  EXPECT_EQ((*s)->frame->width(), (*src)->width());
  EXPECT_EQ((*s)->frame->height(), (*src)->height());
}

INSTANTIATE_TEST_SUITE_P(Tags, RotatedFile, ::testing::Values(90, 180, 270));

TEST(RotatedFile, APlainFileIsNotTurned) {
  VideoSourceOptions o;
  o.url = plain_file();
  o.hwaccel = HwAccel::kNone;
  auto src = VideoSource::open(o);
  ASSERT_TRUE(src) << src.error().message;
  EXPECT_EQ((*src)->rotation(), 0);
  EXPECT_EQ((*src)->width(), 176);
  EXPECT_EQ((*src)->height(), 100);
}

}  // namespace
}  // namespace vigil
