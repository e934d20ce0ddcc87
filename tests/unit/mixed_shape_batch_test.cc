// Images of different input sizes never share an inference call: Detector
// groups a mixed batch by input size (one backend run per size, results in
// input order, each equal to the image's own run), and BatchScheduler forms
// its batches from requests of one size, live and offline. With the default
// model (dynamic height/width, rectangular inputs): 768x576 and 1280x720 run
// at 416x352 and 416x288.
#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "media/image_io.h"
#include "batch_collector.h"
#include "pipeline/batch_scheduler.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<Detector> default_detector(bool rectangular = true) {
  BackendOptions o;
  o.model_path = VIGIL_DEFAULT_MODEL;
  o.provider = ExecutionProvider::kCpu;
  auto d = Detector::create(o, DetectorOptions{.rectangular = rectangular});
  EXPECT_TRUE(d) << (d ? "" : d.error().message);
  return d ? std::move(*d) : nullptr;
}

Image load(const char* path) {
  auto img = load_image(path);
  EXPECT_TRUE(img) << (img ? "" : img.error().message);
  return img ? std::move(*img) : Image{};
}

TEST(MixedShapeDetect, OneRunPerInputSizeAndResultsInInputOrder) {
  auto det = default_detector();
  ASSERT_TRUE(det);
  ASSERT_TRUE(det->info().dynamic_hw) << "models/nanodet-m-416.onnx is not the dynamic-size conversion";
  const Image dog = load("/usr/share/darknet/data/dog.jpg");        // 768x576 -> 416x352
  const Image person = load("/usr/share/darknet/data/person.jpg");  // 640x424 -> 416x288
  ASSERT_EQ(det->input_size_for(dog.width, dog.height), (InputSize{416, 352}));
  ASSERT_EQ(det->input_size_for(person.width, person.height), (InputSize{416, 288}));
  const Image* mixed[] = {&dog, &person, &dog};
  DecodeOptions o;
  DetectTimings t;
  auto r = det->detect(mixed, o, &t);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(t.runs, 2);
  ASSERT_EQ(r->size(), 3U);
  for (std::size_t i = 0; i < 3; ++i) {
    const Image* one[] = {mixed[i]};
    DetectTimings t1;
    auto alone = det->detect(one, o, &t1);
    ASSERT_TRUE(alone) << alone.error().message;
    EXPECT_EQ(t1.runs, 1);
    const auto& got = (*r)[i];
    const auto& want = (*alone)[0];
    ASSERT_EQ(got.size(), want.size()) << "image " << i;
    ASSERT_FALSE(want.empty()) << "image " << i;
    for (std::size_t k = 0; k < got.size(); ++k) {
      EXPECT_EQ(got[k].class_id, want[k].class_id) << "image " << i << " detection " << k;
      EXPECT_NEAR(got[k].score, want[k].score, 1e-4) << "image " << i << " detection " << k;
      EXPECT_NEAR(got[k].box.x1, want[k].box.x1, 0.05) << "image " << i << " detection " << k;
      EXPECT_NEAR(got[k].box.y2, want[k].box.y2, 0.05) << "image " << i << " detection " << k;
    }
  }
  // Square mode: every image at 416x416, one run.
  auto square = default_detector(false);
  ASSERT_TRUE(square);
  DetectTimings ts;
  ASSERT_TRUE(square->detect(mixed, o, &ts));
  EXPECT_EQ(ts.runs, 1);
  EXPECT_EQ(square->input_size_for(dog.width, dog.height), (InputSize{416, 416}));
}

TEST(MixedShapeDetect, FixedSizeModelRunsEveryShapeTogether) {
  BackendOptions o;
  o.model_path = std::string(VIGIL_TEST_MODELS_DIR) + "/yolov8.onnx";  // fixed 640x640
  o.provider = ExecutionProvider::kCpu;
  auto det = Detector::create(o);
  ASSERT_TRUE(det) << det.error().message;
  const Image a(PixelFormat::kBgr24, 1280, 720), b(PixelFormat::kBgr24, 640, 480);
  const Image* mixed[] = {&a, &b};
  DetectTimings t;
  ASSERT_TRUE((*det)->detect(mixed, DecodeOptions{}, &t));
  EXPECT_EQ(t.runs, 1);
}

BatchRequest frame(std::int64_t seq, int w, int h) {
  BatchRequest r;
  r.seq = seq;
  r.capture_time = std::chrono::steady_clock::now();
  r.image = std::make_shared<const Image>(PixelFormat::kBgr24, w, h);
  r.frame_w = w;
  r.frame_h = h;
  return r;
}

using Collector = test::BatchCollector;

// Four streams, two 16:9 and two 4:3, all pending at once with room for 8 in
// a batch: two batches of 2 (the sizes apart), not one of 4.
TEST(MixedShapeScheduler, LiveBatchesHoldOneInputSize) {
  auto det = default_detector();
  ASSERT_TRUE(det);
  StageMetrics metrics;
  BatchSchedulerOptions o;
  o.max_batch = 8;
  o.wait_ms = 1000;  // all four are pending when the first batch forms
  BatchScheduler s(*det, o, metrics);
  Collector col[4];
  int client[4];
  for (int i = 0; i < 4; ++i) client[i] = s.add_client(DecodeOptions{}, col[i].callback());
  s.submit_latest(client[0], frame(1, 1280, 720));
  s.submit_latest(client[1], frame(2, 640, 480));
  s.submit_latest(client[2], frame(3, 1920, 1080));  // 416x288 too
  s.submit_latest(client[3], frame(4, 768, 576));    // 416x352 too
  for (auto& c : col) ASSERT_TRUE(c.wait_for(1));
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(col[i].results[0].ok) << col[i].results[0].error;
    EXPECT_EQ(col[i].results[0].batch_size, 2) << "stream " << i;
  }
  const auto st = s.stats();
  EXPECT_EQ(st.batches, 2U);
  EXPECT_EQ(st.runs, 2U) << "a batch was split into several runs: it mixed input sizes";
  EXPECT_EQ(st.batch_histogram[2], 2U);
}

// Offline, one client whose frames change size: batches are the runs of one
// size cut at max_batch (A A | A | B B | A), whatever the timing.
TEST(MixedShapeScheduler, OfflineBatchesFollowTheSizeRuns) {
  auto det = default_detector();
  ASSERT_TRUE(det);
  StageMetrics metrics;
  BatchSchedulerOptions o;
  o.max_batch = 2;
  o.offline = true;
  BatchScheduler s(*det, o, metrics);
  Collector col;
  const int c = s.add_client(DecodeOptions{}, col.callback());
  const std::pair<int, int> sizes[] = {{1280, 720}, {1280, 720}, {1280, 720}, {640, 480}, {640, 480}, {1280, 720}};
  std::int64_t seq = 0;
  for (const auto& [w, h] : sizes) ASSERT_TRUE(s.submit_wait(c, frame(seq++, w, h)));
  s.finish(c);
  s.drain(c);
  ASSERT_EQ(col.results.size(), 6U);
  const int want[] = {2, 2, 1, 2, 2, 1};
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(col.results[i].request.seq, static_cast<std::int64_t>(i));
    EXPECT_EQ(col.results[i].batch_size, want[i]) << "frame " << i;
  }
  const auto st = s.stats();
  EXPECT_EQ(st.batches, 4U);
  EXPECT_EQ(st.runs, 4U);
}

}  // namespace
}  // namespace vigil
