#include "render/frame_encoder.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <turbojpeg.h>

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
}

#include "render/mjpeg_hub.h"

namespace vigil {
namespace {

// A synthetic decoded frame: luma `y` everywhere (a gradient when y < 0), chroma neutral.
std::shared_ptr<const VideoFrame> make_frame(int w, int h, AVPixelFormat fmt = AV_PIX_FMT_YUV420P, int y = -1,
                                             AVColorRange range = AVCOL_RANGE_MPEG) {
  AVFrame* f = av_frame_alloc();
  f->format = fmt;
  f->width = w;
  f->height = h;
  f->color_range = range;
  if (av_frame_get_buffer(f, 0) != 0) {
    av_frame_free(&f);
    return nullptr;
  }
  const bool yuv444 = fmt == AV_PIX_FMT_YUV444P;
  const int cw = yuv444 ? w : (w + 1) / 2, ch = yuv444 ? h : (h + 1) / 2;
  for (int r = 0; r < h; ++r)
    for (int c = 0; c < w; ++c)
      f->data[0][r * f->linesize[0] + c] = static_cast<std::uint8_t>(y >= 0 ? y : 16 + (c + r) % 200);
  for (int plane = 1; plane <= 2; ++plane)
    for (int r = 0; r < ch; ++r)
      for (int c = 0; c < cw; ++c) f->data[plane][r * f->linesize[plane] + c] = 128;
  auto frame = std::make_shared<const VideoFrame>(f);
  av_frame_free(&f);
  return frame;
}

struct JpegInfo {
  int width = 0, height = 0;
  bool ok = false;
};

JpegInfo jpeg_info(const std::vector<std::uint8_t>& jpeg) {
  JpegInfo info;
  tjhandle tj = tjInitDecompress();
  int subsamp = 0, colorspace = 0;
  info.ok = tjDecompressHeader3(tj, jpeg.data(), static_cast<unsigned long>(jpeg.size()),  // NOLINT
                                &info.width, &info.height, &subsamp, &colorspace) == 0;
  tjDestroy(tj);
  return info;
}

// Mean decoded gray level of a JPEG.
double mean_gray(const std::vector<std::uint8_t>& jpeg, int w, int h) {
  std::vector<std::uint8_t> gray(static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
  tjhandle tj = tjInitDecompress();
  const int rc = tjDecompress2(tj, jpeg.data(), static_cast<unsigned long>(jpeg.size()),  // NOLINT
                               gray.data(), w, w, h, TJPF_GRAY, 0);
  tjDestroy(tj);
  if (rc != 0) return -1;
  double sum = 0;
  for (std::uint8_t v : gray) sum += v;
  return sum / static_cast<double>(gray.size());
}

TEST(FrameEncoder, Yuv420EncodesDirectlyAtFullSize) {
  const auto frame = make_frame(320, 240);
  ASSERT_TRUE(frame);
  FrameEncoder enc;
  auto jpeg = enc.encode_yuv420(*frame, 80, 0);
  ASSERT_TRUE(jpeg.has_value()) << jpeg.error().message;
  const JpegInfo info = jpeg_info(*jpeg);
  ASSERT_TRUE(info.ok);
  EXPECT_EQ(info.width, 320);
  EXPECT_EQ(info.height, 240);
  EXPECT_EQ(enc.direct_yuv_frames(), 1u);
}

TEST(FrameEncoder, FreeFunctionAndOddSizes) {
  const auto frame = make_frame(321, 241, AV_PIX_FMT_YUVJ420P, -1, AVCOL_RANGE_JPEG);
  auto jpeg = encode_yuv420(*frame, 90, 0);
  ASSERT_TRUE(jpeg.has_value()) << jpeg.error().message;
  const JpegInfo info = jpeg_info(*jpeg);
  EXPECT_EQ(info.width, 321);
  EXPECT_EQ(info.height, 241);
}

TEST(FrameEncoder, MaxWidthScalesThroughTheConverter) {
  const auto frame = make_frame(320, 240);
  FrameEncoder enc;
  auto jpeg = enc.encode_yuv420(*frame, 80, 160);
  ASSERT_TRUE(jpeg.has_value()) << jpeg.error().message;
  const JpegInfo info = jpeg_info(*jpeg);
  EXPECT_EQ(info.width, 160);
  EXPECT_EQ(info.height, 120);
  EXPECT_EQ(enc.direct_yuv_frames(), 0u);
  auto same = enc.encode_yuv420(*frame, 80, 640);  // wider than the frame: no scaling
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(jpeg_info(*same).width, 320);
  EXPECT_EQ(enc.direct_yuv_frames(), 1u);
}

TEST(FrameEncoder, OtherPixelFormatsAreConverted) {
  const auto frame = make_frame(64, 48, AV_PIX_FMT_YUV444P);
  FrameEncoder enc;
  auto jpeg = enc.encode_yuv420(*frame, 80, 0);
  ASSERT_TRUE(jpeg.has_value()) << jpeg.error().message;
  const JpegInfo info = jpeg_info(*jpeg);
  EXPECT_EQ(info.width, 64);
  EXPECT_EQ(info.height, 48);
  EXPECT_EQ(enc.direct_yuv_frames(), 0u);
}

TEST(FrameEncoder, LimitedRangeIsExpandedToFullRange) {
  FrameEncoder enc;
  auto black = enc.encode_yuv420(*make_frame(64, 64, AV_PIX_FMT_YUV420P, 16), 95, 0);
  auto white = enc.encode_yuv420(*make_frame(64, 64, AV_PIX_FMT_YUV420P, 235), 95, 0);
  auto full_16 = enc.encode_yuv420(*make_frame(64, 64, AV_PIX_FMT_YUVJ420P, 16, AVCOL_RANGE_JPEG), 95, 0);
  ASSERT_TRUE(black && white && full_16);
  EXPECT_LT(mean_gray(*black, 64, 64), 3.0);
  EXPECT_GT(mean_gray(*white, 64, 64), 252.0);
  EXPECT_NEAR(mean_gray(*full_16, 64, 64), 16.0, 2.0);  // full range: kept as is
}

TEST(FrameEncoder, ScaledSizeKeepsAspectAndEvenSizes) {
  EXPECT_EQ(scaled_size(1280, 720, 0).width, 1280);
  EXPECT_EQ(scaled_size(1280, 720, 640).height, 360);
  EXPECT_EQ(scaled_size(1920, 1080, 641).width, 640);
  EXPECT_EQ(scaled_size(1920, 1080, 2000).width, 1920);
}

// ---------------------------------------------------------------- MjpegHub

constexpr double kFrameS = 1.0 / 25;

MjpegVariant plain(double fps = 30) {
  MjpegVariant v;
  v.fps = fps;
  return v;
}

TEST(MjpegHub, NoViewersNoEncoding) {
  MjpegHub hub;
  const auto frame = make_frame(160, 120);
  for (int i = 0; i < 10; ++i) hub.on_frame(*frame, i * kFrameS, OverlayInput{});
  const MjpegHubStats s = hub.stats();
  EXPECT_EQ(s.frames_seen, 10u);
  EXPECT_EQ(s.frames_encoded, 0u);
  EXPECT_EQ(s.viewers, 0u);
  EXPECT_FALSE(hub.has_viewers());
}

TEST(MjpegHub, EncodesOncePerVariantAndFansOutTheSameBuffer) {
  const auto frame = make_frame(160, 120);
  MjpegHub one, many;
  const auto solo = one.subscribe(plain());
  std::vector<std::shared_ptr<MjpegViewer>> viewers;
  for (int i = 0; i < 20; ++i) viewers.push_back(many.subscribe(plain()));
  for (int i = 0; i < 10; ++i) {
    one.on_frame(*frame, i * kFrameS, OverlayInput{});
    many.on_frame(*frame, i * kFrameS, OverlayInput{});
    ASSERT_TRUE(solo->pop(std::chrono::milliseconds(0)));
    const JpegBuffer first = viewers[0]->pop(std::chrono::milliseconds(0));
    ASSERT_TRUE(first);
    for (std::size_t v = 1; v < viewers.size(); ++v) EXPECT_EQ(viewers[v]->pop(std::chrono::milliseconds(0)), first);
  }
  EXPECT_EQ(one.stats().frames_encoded, 10u);
  EXPECT_EQ(many.stats().frames_encoded, one.stats().frames_encoded);
  ASSERT_EQ(many.stats().variants.size(), 1u);
  EXPECT_EQ(many.stats().variants[0].viewers, 20u);
  EXPECT_EQ(many.stats().variants[0].frames_encoded, 10u);
}

TEST(MjpegHub, SlowViewerDropsOldestOthersGetEveryFrame) {
  const auto frame = make_frame(160, 120);
  MjpegHub hub;
  const auto slow = hub.subscribe(plain());
  const auto fast = hub.subscribe(plain());
  int received = 0;
  for (int i = 0; i < 10; ++i) {
    hub.on_frame(*frame, i * kFrameS, OverlayInput{});
    if (fast->pop(std::chrono::milliseconds(0))) ++received;
    EXPECT_LE(slow->queued(), MjpegViewer::kCapacity);
  }
  EXPECT_EQ(received, 10);
  EXPECT_EQ(fast->drops(), 0u);
  EXPECT_EQ(slow->queued(), 2u);
  EXPECT_EQ(slow->drops(), 8u);
  EXPECT_EQ(slow->delivered(), 10u);
  EXPECT_EQ(hub.stats().variants[0].drops, 8u);
}

TEST(MjpegHub, FpsThrottleUsesMediaTime) {
  const auto frame = make_frame(160, 120);
  MjpegHub hub;
  const auto v5 = hub.subscribe(plain(5));
  const auto v30 = hub.subscribe(plain(30));
  for (int i = 0; i < 100; ++i) hub.on_frame(*frame, i * kFrameS, OverlayInput{});  // 4 s at 25 fps
  const MjpegHubStats s = hub.stats();
  ASSERT_EQ(s.variants.size(), 2u);
  for (const MjpegVariantStats& vs : s.variants) {
    if (vs.variant.fps == 5) {
      EXPECT_EQ(vs.frames_encoded, 20u);  // 1 in 5
    } else {
      EXPECT_EQ(vs.frames_encoded, 100u);  // 30 fps: every frame, the source is slower
    }
  }
}

TEST(MjpegHub, ThrottleRestartsWhenTimeGoesBackwards) {
  const auto frame = make_frame(160, 120);
  MjpegHub hub;
  const auto v = hub.subscribe(plain(5));
  hub.on_frame(*frame, 100.0, OverlayInput{});
  hub.on_frame(*frame, 0.0, OverlayInput{});  // file looped
  hub.on_frame(*frame, 0.04, OverlayInput{});
  EXPECT_EQ(hub.stats().frames_encoded, 2u);
}

TEST(MjpegHub, ReleasedViewersStopTheEncoding) {
  const auto frame = make_frame(160, 120);
  MjpegHub hub;
  auto viewer = hub.subscribe(plain());
  hub.on_frame(*frame, 0, OverlayInput{});
  EXPECT_TRUE(hub.has_viewers());
  viewer.reset();
  EXPECT_FALSE(hub.has_viewers());
  hub.on_frame(*frame, kFrameS, OverlayInput{});
  EXPECT_EQ(hub.stats().frames_encoded, 1u);
  EXPECT_TRUE(hub.stats().variants.empty());
}

TEST(MjpegHub, OverlayVariantDrawsAndScales) {
  const auto frame = make_frame(320, 240);
  MjpegHub hub;
  MjpegVariant v = plain();
  v.overlay = true;
  v.max_width = 160;
  const auto viewer = hub.subscribe(v);
  const auto raw = hub.subscribe(plain());
  std::vector<Track> tracks(1);
  tracks[0].box = Box{40, 40, 200, 200};
  tracks[0].state = TrackState::kConfirmed;
  OverlayInput in;
  in.tracks = &tracks;
  hub.on_frame(*frame, 0, in);
  const JpegBuffer jpeg = viewer->pop(std::chrono::milliseconds(0));
  const JpegBuffer plain_jpeg = raw->pop(std::chrono::milliseconds(0));
  ASSERT_TRUE(jpeg && plain_jpeg);
  EXPECT_NE(jpeg, plain_jpeg);
  EXPECT_EQ(jpeg_info(*jpeg).width, 160);
  EXPECT_EQ(jpeg_info(*jpeg).height, 120);
  EXPECT_EQ(jpeg_info(*plain_jpeg).width, 320);
  EXPECT_EQ(hub.stats().frames_encoded, 2u);
}

TEST(MjpegHub, PopWaitsForAFrameFromAnotherThread) {
  const auto frame = make_frame(160, 120);
  MjpegHub hub;
  const auto viewer = hub.subscribe(plain());
  JpegBuffer got;
  std::thread server([&] { got = viewer->pop(std::chrono::seconds(10)); });
  hub.on_frame(*frame, 0, OverlayInput{});
  server.join();
  EXPECT_TRUE(got);
  EXPECT_FALSE(viewer->pop(std::chrono::milliseconds(1)));  // empty: times out
}

TEST(MjpegHub, DestroyingTheHubClosesViewers) {
  std::shared_ptr<MjpegViewer> viewer;
  {
    MjpegHub hub;
    viewer = hub.subscribe(plain());
  }
  EXPECT_TRUE(viewer->closed());
  EXPECT_FALSE(viewer->pop(std::chrono::seconds(10)));  // returns at once
}

TEST(MjpegVariant, ValidateNamesTheFieldAndClampedFixesIt) {
  MjpegVariant v;
  v.quality = 0;
  ASSERT_FALSE(v.validate().has_value());
  EXPECT_NE(v.validate().error().message.find("quality"), std::string::npos);
  v = MjpegVariant{};
  v.fps = 60;
  ASSERT_FALSE(v.validate().has_value());
  EXPECT_NE(v.validate().error().message.find("fps"), std::string::npos);
  EXPECT_EQ(v.clamped().fps, MjpegVariant::kMaxFps);
  EXPECT_TRUE(MjpegVariant{}.validate().has_value());
  MjpegHub hub;
  EXPECT_EQ(hub.subscribe(v)->variant().fps, MjpegVariant::kMaxFps);
}

}  // namespace
}  // namespace vigil
