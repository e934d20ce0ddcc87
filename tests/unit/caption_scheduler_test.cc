// CaptionTrigger (when a stream wants a caption) and CaptionScheduler (the
// bounded queue and worker) with in-process captioners; the VLM over HTTP is
// tested in vlm_captioner_test.cc.
#include "describe/caption_scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "describe/template_captioner.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;

// --- CaptionTrigger -------------------------------------------------------------

// Frame numbers 0..n-1 at `fps`, no scene change: which are due.
std::vector<std::int64_t> due_frames(CaptionTrigger& t, int n, double fps) {
  std::vector<std::int64_t> out;
  for (int f = 0; f < n; ++f) {
    if (t.due(f, f / fps, 0)) out.push_back(f);
  }
  return out;
}

TEST(CaptionTrigger, OffIsNeverDue) {
  CaptionTrigger t;
  EXPECT_FALSE(t.options().enabled());
  EXPECT_TRUE(due_frames(t, 100, 10).empty());
  EXPECT_FALSE(t.due(100, 10, 1.0));  // a scene change with on_scene_change off
}

TEST(CaptionTrigger, EveryFrames) {
  CaptionTriggerOptions o;
  o.every_frames = 25;
  CaptionTrigger t(o);
  EXPECT_EQ(due_frames(t, 100, 25), (std::vector<std::int64_t>{0, 25, 50, 75}));
}

TEST(CaptionTrigger, EveryFramesWithGapsInFrameNumbers) {
  // Candidates are analysed frames only (every 4th here): due at the first candidate >= last + N.
  CaptionTriggerOptions o;
  o.every_frames = 10;
  CaptionTrigger t(o);
  std::vector<std::int64_t> due;
  for (std::int64_t f = 0; f < 40; f += 4) {
    if (t.due(f, static_cast<double>(f) / 10, 0)) due.push_back(f);
  }
  EXPECT_EQ(due, (std::vector<std::int64_t>{0, 12, 24, 36}));
}

TEST(CaptionTrigger, EverySecondsOfMediaTime) {
  CaptionTriggerOptions o;
  o.every_s = 2;
  CaptionTrigger t(o);
  EXPECT_EQ(due_frames(t, 61, 10), (std::vector<std::int64_t>{0, 20, 40, 60}));
}

TEST(CaptionTrigger, SceneChangeAboveThresholdWithMinimumInterval) {
  CaptionTriggerOptions o;
  o.on_scene_change = true;
  o.scene_threshold = 0.3;
  o.scene_min_interval_s = 1.0;
  CaptionTrigger t(o);
  EXPECT_FALSE(t.due(0, 0.0, 0.1));   // not a change: nothing captioned yet, and nothing due
  EXPECT_FALSE(t.due(1, 0.1, 0.3));   // equal to the threshold is not above it
  EXPECT_TRUE(t.due(2, 0.2, 0.31));   // first change
  EXPECT_FALSE(t.due(3, 0.3, 0.9));   // another change 0.1 s later: too soon
  EXPECT_FALSE(t.due(9, 0.9, 0.0));
  EXPECT_TRUE(t.due(12, 1.2, 0.5));   // 1 s after the last caption
  EXPECT_FALSE(t.due(100, 10.0, 0.2));  // a long static stretch: no caption without every_*
}

TEST(CaptionTrigger, RulesCombineAndRestartFromTheLastCaption) {
  CaptionTriggerOptions o;
  o.every_s = 5;
  o.on_scene_change = true;
  o.scene_threshold = 0.5;
  o.scene_min_interval_s = 0;
  CaptionTrigger t(o);
  EXPECT_TRUE(t.due(0, 0.0, 0));    // first candidate (every_s is on)
  EXPECT_FALSE(t.due(10, 1.0, 0));
  EXPECT_TRUE(t.due(30, 3.0, 0.8));  // scene change
  EXPECT_FALSE(t.due(50, 5.0, 0));   // 5 s since frame 0, but only 2 s since the last caption
  EXPECT_TRUE(t.due(80, 8.0, 0));    // 5 s since the scene-change caption
}

TEST(CaptionTrigger, BackwardsTimeRestarts) {
  CaptionTriggerOptions o;
  o.every_frames = 100;
  CaptionTrigger t(o);
  EXPECT_TRUE(t.due(0, 0, 0));
  EXPECT_FALSE(t.due(50, 5, 0));
  EXPECT_TRUE(t.due(150, 15, 0));
  EXPECT_TRUE(t.due(3, 0.3, 0));  // the file looped: before the last caption
  EXPECT_FALSE(t.due(50, 5, 0));
  t.reset();
  EXPECT_TRUE(t.due(60, 6, 0));
}

TEST(CaptionTrigger, OptionsValidationNamesTheField) {
  EXPECT_TRUE(CaptionTriggerOptions{}.validate("describe"));
  CaptionTriggerOptions o;
  o.every_frames = -1;
  auto r = o.validate("streams[1].describe");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.rfind("streams[1].describe.every_frames", 0), 0U) << r.error().message;
  o = {};
  o.every_s = -0.5;
  EXPECT_FALSE(o.validate("describe"));
  o = {};
  o.scene_threshold = 1.5;
  EXPECT_FALSE(o.validate("describe"));
  CaptionSchedulerOptions s;
  s.queue_max = 0;
  EXPECT_FALSE(s.validate("describe"));
}

// --- CaptionScheduler --------------------------------------------------------------

// A captioner that waits until the test opens its gate; fails scenes named "bad".
class GatedCaptioner final : public Captioner {
 public:
  Result<Caption> caption(const CaptionScene& scene) override {
    {
      std::unique_lock lock(mu_);
      ++started_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return open_ || cancelled_; });
      if (cancelled_) return fail(ErrorCode::kRuntime, "cancelled");
    }
    if (scene.stream == "bad") return fail(ErrorCode::kRuntime, "stream 'bad': no caption");
    if (scene.stream == "throw") throw std::runtime_error("boom");
    return Caption{"caption of " + scene.stream, 12.5, "gated"};
  }
  Result<Caption> summarize(const std::vector<std::string>&) override { return Caption{"summary", 1, "gated"}; }
  const char* name() const override { return "gated"; }
  bool timed_summary() const override { return false; }
  void cancel() override {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool wait_started(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return started_ >= n; });
  }
  int started() {
    std::lock_guard lock(mu_);
    return started_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  bool cancelled_ = false;
  int started_ = 0;
};

struct Collected {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> texts;   // caption text or "error: <message>"
  std::vector<std::string> streams;  // the scene the callback got
  CaptionScheduler::Callback callback() {
    return [this](Result<Caption> r, const CaptionScene& scene) {
      std::lock_guard lock(mu);
      texts.push_back(r ? r->text : "error: " + r.error().message);
      streams.push_back(scene.stream);
      cv.notify_all();
    };
  }
  bool wait_for(std::size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 10s, [&] { return texts.size() >= n; });
  }
};

CaptionScene named(const std::string& stream) {
  CaptionScene s;
  s.stream = stream;
  return s;
}

TEST(CaptionScheduler, RunsTheCaptionerOffTheCallersThread) {
  auto captioner = std::make_shared<TemplateCaptioner>();
  CaptionScheduler scheduler(captioner);
  Collected got;
  std::thread::id callback_thread;
  ASSERT_TRUE(scheduler.submit(named("cam1"), [&](Result<Caption> r, const CaptionScene& scene) {
    callback_thread = std::this_thread::get_id();
    got.callback()(std::move(r), scene);
  }));
  ASSERT_TRUE(got.wait_for(1));
  EXPECT_EQ(got.texts[0], "No objects.");
  EXPECT_EQ(got.streams[0], "cam1");
  EXPECT_NE(callback_thread, std::this_thread::get_id());
  const CaptionStats s = scheduler.stats();
  EXPECT_EQ(s.requests, 1U);
  EXPECT_EQ(s.done, 1U);
  EXPECT_EQ(s.errors, 0U);
  EXPECT_EQ(s.skipped, 0U);
  EXPECT_EQ(s.latency.count, 1U);
  EXPECT_EQ(scheduler.latency().total_count(), 1U);
}

TEST(CaptionScheduler, FullQueueSkipsWithoutWaiting) {
  auto captioner = std::make_shared<GatedCaptioner>();
  CaptionScheduler scheduler(captioner);  // queue_max 2: one in flight + one queued
  Collected got;
  // The captioner is blocked on its gate for the whole loop: had submit()
  // waited for a caption, this loop would never end.
  int accepted = 0;
  for (int i = 0; i < 5; ++i) {
    std::string id = "s";
    id += std::to_string(i);  // (not "s" + to_string: a g++ 12 -Wrestrict false positive)
    accepted += scheduler.submit(named(id), got.callback()) ? 1 : 0;
  }
  EXPECT_EQ(accepted, 2);
  CaptionStats s = scheduler.stats();
  EXPECT_EQ(s.requests, 2U);
  EXPECT_EQ(s.skipped, 3U);
  EXPECT_EQ(s.pending, 2);
  ASSERT_TRUE(captioner->wait_started(1));
  EXPECT_EQ(captioner->started(), 1);  // one at a time
  captioner->open();
  ASSERT_TRUE(got.wait_for(2));
  EXPECT_EQ(got.texts, (std::vector<std::string>{"caption of s0", "caption of s1"}));
  s = scheduler.stats();
  EXPECT_EQ(s.done, 2U);
  EXPECT_DOUBLE_EQ(s.latency.max, 12.5);
  // Room again once they are done.
  for (int i = 0; i < 100 && scheduler.stats().pending > 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(scheduler.submit(named("s5"), got.callback()));
  ASSERT_TRUE(got.wait_for(3));
}

TEST(CaptionScheduler, ErrorsAndThrowingCallbacksAreCountedAndTheWorkerGoesOn) {
  auto captioner = std::make_shared<GatedCaptioner>();
  captioner->open();
  CaptionSchedulerOptions o;
  o.queue_max = 10;
  CaptionScheduler scheduler(captioner, o);
  Collected got;
  ASSERT_TRUE(scheduler.submit(named("bad"), got.callback()));
  ASSERT_TRUE(scheduler.submit(named("throw"), got.callback()));
  ASSERT_TRUE(scheduler.submit(named("ok"), [](Result<Caption>, const CaptionScene&) {
    throw std::runtime_error("callback failed");
  }));
  ASSERT_TRUE(scheduler.submit(named("fine"), got.callback()));
  ASSERT_TRUE(got.wait_for(3));
  EXPECT_EQ(got.texts[0], "error: stream 'bad': no caption");
  EXPECT_NE(got.texts[1].find("captioner failed: boom"), std::string::npos) << got.texts[1];
  EXPECT_EQ(got.texts[2], "caption of fine");
  const CaptionStats s = scheduler.stats();
  EXPECT_EQ(s.requests, 4U);
  EXPECT_EQ(s.done, 2U);
  EXPECT_EQ(s.errors, 2U);
  EXPECT_EQ(s.callback_errors, 1U);
  EXPECT_NE(s.last_error.find("boom"), std::string::npos);
  EXPECT_EQ(s.latency.count, 2U);  // successes only
}

TEST(CaptionScheduler, StopCancelsTheRequestInFlightAndDropsTheQueue) {
  auto captioner = std::make_shared<GatedCaptioner>();  // never opened
  std::atomic<int> callbacks{0};
  auto count = [&](Result<Caption>, const CaptionScene&) { ++callbacks; };
  {
    CaptionScheduler scheduler(captioner);
    ASSERT_TRUE(scheduler.submit(named("a"), count));
    ASSERT_TRUE(scheduler.submit(named("b"), count));
    ASSERT_TRUE(captioner->wait_started(1));
    scheduler.stop();
    EXPECT_FALSE(scheduler.submit(named("c"), count));
    const CaptionStats s = scheduler.stats();
    EXPECT_EQ(s.errors, 0U);  // the cancelled request is not an error
    EXPECT_EQ(s.skipped, 1U);
    scheduler.stop();  // idempotent; the destructor calls it again
  }
  EXPECT_EQ(callbacks.load(), 0);
  EXPECT_EQ(captioner->started(), 1);
}

}  // namespace
}  // namespace vigil
