// Micro-benchmarks of the video output path (Google Benchmark):
// JPEG straight from the decoder's YUV, overlay + JPEG, and the MJPEG hub's
// cost with 1 vs 20 viewers of one variant (encode once, fan out).
// Frame: the first frame of $VIGIL_BENCH_VIDEO (default build/bench/vtest720p25.mp4,
// made by bench/streams.sh), else vtest.avi.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

#include "core/track.h"
#include "media/video_source.h"
#include "render/frame_encoder.h"
#include "render/mjpeg_hub.h"
#include "render/overlay.h"

namespace vigil {
namespace {

std::shared_ptr<const VideoFrame> bench_frame() {
  static std::shared_ptr<const VideoFrame> frame = [] {
    std::string path = "build/bench/vtest720p25.mp4";
    if (const char* env = std::getenv("VIGIL_BENCH_VIDEO")) path = env;
    if (!std::filesystem::exists(path)) path = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";
    VideoSourceOptions o;
    o.url = path;
    o.hwaccel = HwAccel::kNone;
    auto src = VideoSource::open(o);
    if (!src) std::abort();
    auto f = (*src)->read();
    if (!f || !f->has_value()) std::abort();
    return (*f)->frame;
  }();
  return frame;
}

// 10 tracks, 2 zones, 1 line: a busy scene.
struct Scene {
  std::vector<Track> tracks;
  std::vector<ZoneConfig> zones;
  std::vector<LineConfig> lines;
  std::vector<std::string> names{"person", "car"};
  TrailHistory trails;
  Scene(int w, int h) {
    for (int i = 0; i < 10; ++i) {
      Track t;
      t.id = i + 1;
      t.state = TrackState::kConfirmed;
      t.class_id = i % 2;
      t.score = 0.8F;
      const float x = static_cast<float>(w) * (0.05F + 0.09F * static_cast<float>(i));
      t.box = Box{x, static_cast<float>(h) * 0.4F, x + static_cast<float>(w) * 0.06F, static_cast<float>(h) * 0.8F};
      tracks.push_back(t);
    }
    ZoneConfig a;
    a.name = "left";
    a.polygon = {{0.05F, 0.5F}, {0.45F, 0.5F}, {0.45F, 0.95F}, {0.05F, 0.95F}};
    ZoneConfig b = a;
    b.name = "right";
    for (auto& p : b.polygon) p.x += 0.5F;
    zones = {a, b};
    LineConfig l;
    l.name = "door";
    l.a = {0.0F, 0.6F};
    l.b = {1.0F, 0.6F};
    lines = {l};
    for (int k = 0; k < 20; ++k) trails.update(tracks, k * 0.04);
  }
  OverlayInput input() const {
    OverlayInput in;
    in.tracks = &tracks;
    in.zones = &zones;
    in.lines = &lines;
    in.class_names = &names;
    in.trails = &trails;
    return in;
  }
};

void BM_JpegFromYuv(benchmark::State& state) {
  const auto frame = bench_frame();
  FrameEncoder enc;
  for (auto _ : state) {
    auto jpg = enc.encode_yuv420(*frame, 75, 0);
    benchmark::DoNotOptimize(jpg);
  }
  state.SetLabel(std::to_string(frame->width()) + "x" + std::to_string(frame->height()));
}
BENCHMARK(BM_JpegFromYuv)->Unit(benchmark::kMillisecond);

void BM_OverlayAndJpeg(benchmark::State& state) {
  const auto frame = bench_frame();
  FrameEncoder enc;
  const Scene scene(frame->width(), frame->height());
  for (auto _ : state) {
    auto img = enc.to_bgr(*frame, 0);
    draw_overlay(*img, scene.input());
    auto jpg = enc.encode(*img, 75);
    benchmark::DoNotOptimize(jpg);
  }
}
BENCHMARK(BM_OverlayAndJpeg)->Unit(benchmark::kMillisecond);

// One overlay variant at 30 fps watched by N viewers; frames 1/25 s apart, so
// every frame is encoded once and handed to all N viewers.
void BM_MjpegHubViewers(benchmark::State& state) {
  const auto frame = bench_frame();
  const Scene scene(frame->width(), frame->height());
  MjpegHub hub;
  MjpegVariant v;
  v.overlay = true;
  v.fps = 30;
  v.quality = 75;
  std::vector<std::shared_ptr<MjpegViewer>> viewers;
  for (int i = 0; i < state.range(0); ++i) viewers.push_back(hub.subscribe(v));
  double pts = 0;
  for (auto _ : state) {
    hub.on_frame(*frame, pts, scene.input());
    pts += 0.04;
    for (auto& viewer : viewers) benchmark::DoNotOptimize(viewer->pop(std::chrono::milliseconds(0)));
  }
}
BENCHMARK(BM_MjpegHubViewers)->Arg(1)->Arg(20)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

}  // namespace
}  // namespace vigil

BENCHMARK_MAIN();
