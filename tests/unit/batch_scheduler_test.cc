// BatchScheduler with a real Detector on a test model whose outputs are known
// (tests/tools/make_test_models.py: yolov8.onnx, a person at [150,200,250,400]
// in its 640x640 input).
#include "batch_collector.h"
#include "pipeline/batch_scheduler.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

namespace vigil {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<Detector> detector() {
  BackendOptions o;
  o.model_path = std::string(VIGIL_TEST_MODELS_DIR) + "/yolov8.onnx";
  o.provider = ExecutionProvider::kCpu;
  auto d = Detector::create(o);
  EXPECT_TRUE(d) << (d ? "" : d.error().message);
  return d ? std::move(*d) : nullptr;
}

BatchRequest request(std::int64_t seq, float to_full = 1) {
  BatchRequest r;
  r.seq = seq;
  r.pts = static_cast<double>(seq) / 10.0;
  r.capture_time = std::chrono::steady_clock::now();
  r.image = std::make_shared<const Image>(PixelFormat::kBgr24, 640, 640);
  r.to_full_x = r.to_full_y = to_full;
  return r;
}

using Collector = test::BatchCollector;

DecodeOptions decode() {
  DecodeOptions d;
  d.conf = 0.25F;
  d.iou = 0.45F;
  return d;
}

TEST(BatchScheduler, LiveBatchesAcrossStreamsAndMapsBoxesToFullFrames) {
  auto det = detector();
  ASSERT_TRUE(det);
  StageMetrics metrics;
  BatchSchedulerOptions o;
  o.max_batch = 3;
  o.wait_ms = 500;  // long enough for the three submissions to meet in one batch
  BatchScheduler s(*det, o, metrics);
  Collector a, b, c;
  const int ca = s.add_client(decode(), a.callback());
  const int cb = s.add_client(decode(), b.callback());
  const int cc = s.add_client(decode(), c.callback());
  EXPECT_FALSE(s.submit_latest(ca, request(1)));
  EXPECT_FALSE(s.submit_latest(cb, request(2, 2.0F)));  // a substream at half size
  EXPECT_FALSE(s.submit_latest(cc, request(3)));
  ASSERT_TRUE(a.wait_for(1) && b.wait_for(1) && c.wait_for(1));
  EXPECT_EQ(a.results[0].batch_size, 3);
  EXPECT_EQ(a.results[0].request.seq, 1);
  EXPECT_EQ(b.results[0].request.seq, 2);
  ASSERT_FALSE(a.results[0].detections.empty());
  const Box pa = a.results[0].detections[0].box;
  const Box pb = b.results[0].detections[0].box;
  EXPECT_FLOAT_EQ(pa.x1, 150);
  EXPECT_FLOAT_EQ(pa.y2, 400);
  EXPECT_FLOAT_EQ(pb.x1, 300);  // mapped back to the full frame
  EXPECT_FLOAT_EQ(pb.y2, 800);
  EXPECT_EQ(s.stats().batch_histogram[3], 1U);
}

TEST(BatchScheduler, LiveNewerRequestReplacesThePendingOne) {
  auto det = detector();
  ASSERT_TRUE(det);
  StageMetrics metrics;
  BatchSchedulerOptions o;
  o.max_batch = 8;
  o.wait_ms = 300;  // the first request is still pending when the second comes
  BatchScheduler s(*det, o, metrics);
  Collector a;
  const int ca = s.add_client(decode(), a.callback());
  EXPECT_FALSE(s.submit_latest(ca, request(1)));
  EXPECT_TRUE(s.submit_latest(ca, request(2)));
  ASSERT_TRUE(a.wait_for(1));
  std::this_thread::sleep_for(400ms);
  ASSERT_EQ(a.results.size(), 1U);
  EXPECT_EQ(a.results[0].request.seq, 2);
  EXPECT_EQ(s.stats().replaced, 1U);
}

TEST(BatchScheduler, OfflineBatchesAreOneStreamAndFixedSize) {
  auto det = detector();
  ASSERT_TRUE(det);
  StageMetrics metrics;
  BatchSchedulerOptions o;
  o.max_batch = 4;
  o.offline = true;
  o.workers = 2;
  BatchScheduler s(*det, o, metrics);
  Collector a, b;
  const int ca = s.add_client(decode(), a.callback());
  const int cb = s.add_client(decode(), b.callback());
  auto feed = [&](int client) {
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(s.submit_wait(client, request(i)));
    s.finish(client);
  };
  std::thread ta(feed, ca), tb(feed, cb);
  ta.join();
  tb.join();
  s.drain(ca);
  s.drain(cb);
  for (Collector* col : {&a, &b}) {
    ASSERT_EQ(col->results.size(), 10U);
    for (int i = 0; i < 10; ++i) {
      EXPECT_EQ(col->results[static_cast<std::size_t>(i)].request.seq, i) << "results come back in order";
      EXPECT_EQ(col->results[static_cast<std::size_t>(i)].batch_size, i < 8 ? 4 : 2) << "batch of frame " << i;
    }
  }
  EXPECT_EQ(s.stats().batches, 6U);
}

TEST(BatchScheduler, RemovedClientGetsNoMoreCallbacks) {
  auto det = detector();
  ASSERT_TRUE(det);
  StageMetrics metrics;
  BatchSchedulerOptions o;
  o.wait_ms = 200;
  BatchScheduler s(*det, o, metrics);
  Collector a;
  const int ca = s.add_client(decode(), a.callback());
  s.submit_latest(ca, request(1));
  s.remove_client(ca);
  std::this_thread::sleep_for(400ms);
  EXPECT_TRUE(a.results.empty());
  EXPECT_FALSE(s.submit_latest(ca, request(2)));
}

}  // namespace
}  // namespace vigil
