#include "jobs/frame_sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "media/video_source.h"
#include "test_support.h"

namespace vigil {
namespace {

// long.mp4: 636 s, 10 fps (frames 0.1 s apart), H.264 with B-frames, a
// keyframe every 5 s (8 copies of a 79.5 s clip). Made by
// tests/tools/make_test_videos.sh.
std::string long_video() { return std::string(VIGIL_TEST_VIDEOS_DIR) + "/long.mp4"; }

std::unique_ptr<VideoSource> open_source(const std::string& path = long_video()) {
  VideoSourceOptions o;
  o.url = path;
  o.hwaccel = HwAccel::kNone;
  o.strict = true;
  auto s = VideoSource::open(o);
  EXPECT_TRUE(s.has_value()) << s.error().message;
  return s ? std::move(*s) : nullptr;
}

struct SampleRun {
  std::map<double, double> pts;  // target -> chosen pts
  std::vector<SampledFrame> frames;
  FrameSampler::Stats stats;
  std::vector<DamagedRange> damaged;
  bool ok = true;
};

// Samples every target with a fresh source; records what each got.
SampleRun sample(const std::vector<double>& targets, const std::string& path = long_video()) {
  SampleRun run;
  auto source = open_source(path);
  if (!source) {
    run.ok = false;
    return run;
  }
  FrameSampler sampler(*source, targets);
  for (;;) {
    auto r = sampler.next();
    EXPECT_TRUE(r.has_value()) << r.error().message;
    if (!r) {
      run.ok = false;
      break;
    }
    if (!*r) break;
    run.pts[(*r)->t] = (*r)->pts;
    run.frames.push_back(**r);
  }
  run.stats = sampler.stats();
  run.damaged = sampler.damaged();
  return run;
}

std::vector<double> grid(double from, double to, double step) {
  std::vector<double> out;
  for (int k = 0; from + k * step <= to + 1e-9; ++k) out.push_back(from + k * step);
  return out;
}

void expect_valid_choice(const SampleRun& run) {
  for (const auto& f : run.frames) {
    SCOPED_TRACE("target " + std::to_string(f.t));
    EXPECT_GE(f.pts, f.t - FrameSampler::kTolerance);
    EXPECT_LT(f.pts, f.t + 0.1 + 1e-6);
    ASSERT_TRUE(f.frame != nullptr);
    EXPECT_GT(f.frame->width(), 0);
  }
}

class FrameSamplerTest : public testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(long_video()))
      GTEST_SKIP() << long_video() << " is missing: run tests/tools/make_test_videos.sh " << VIGIL_TEST_VIDEOS_DIR;
  }
};

TEST_F(FrameSamplerTest, SplittingTheTargetsPicksTheSameFrames) {
  const std::vector<double> all = grid(0, 60, 1);
  ASSERT_EQ(all.size(), 61u);
  const SampleRun whole = sample(all);
  ASSERT_TRUE(whole.ok);
  ASSERT_EQ(whole.frames.size(), all.size());
  for (std::size_t i = 0; i < whole.frames.size(); ++i) {
    EXPECT_EQ(whole.frames[i].index, i);
    EXPECT_EQ(whole.frames[i].t, all[i]);
  }

  const SampleRun first = sample(grid(0, 29, 1));
  const SampleRun second = sample(grid(30, 60, 1));
  ASSERT_TRUE(first.ok && second.ok);
  EXPECT_EQ(first.frames.size(), 30u);
  EXPECT_EQ(second.frames.size(), 31u);
  std::map<double, double> split = first.pts;
  split.insert(second.pts.begin(), second.pts.end());
  ASSERT_EQ(split.size(), whole.pts.size());
  for (const auto& [t, pts] : whole.pts) {
    SCOPED_TRACE("target " + std::to_string(t));
    ASSERT_TRUE(split.count(t));
    EXPECT_EQ(split.at(t), pts);
  }
  expect_valid_choice(whole);
  expect_valid_choice(first);
  expect_valid_choice(second);
}

TEST_F(FrameSamplerTest, StartingInTheMiddleMatchesReachingItSequentially) {
  const SampleRun walk = sample(grid(295, 303, 0.5));
  ASSERT_TRUE(walk.ok);
  ASSERT_EQ(walk.frames.size(), 17u);
  const SampleRun jump = sample({301.0, 302.5});
  ASSERT_TRUE(jump.ok);
  ASSERT_EQ(jump.frames.size(), 2u);
  for (double t : {301.0, 302.5}) {
    SCOPED_TRACE("target " + std::to_string(t));
    ASSERT_TRUE(walk.pts.count(t));
    ASSERT_TRUE(jump.pts.count(t));
    EXPECT_EQ(jump.pts.at(t), walk.pts.at(t));
    EXPECT_NEAR(jump.pts.at(t), t, 1e-3);  // a frame lies on every 0.1 s
  }
  expect_valid_choice(walk);
  expect_valid_choice(jump);
}

TEST_F(FrameSamplerTest, TargetJustBeforeAKeyframeGetsTheFrameBeforeIt) {
  // Keyframes of the 4th copy (from 238.5 s) every 5 s: 298.5 is one. Its
  // container index time is its decode time (earlier than 298.5 with
  // B-frames), so a seek for 298.4 may land on it; 298.4 shows before it.
  const SampleRun walk = sample(grid(297.0, 299.0, 0.1));
  ASSERT_TRUE(walk.ok);
  for (double t : {298.4, 298.3, 298.5, 298.6}) {
    SCOPED_TRACE("target " + std::to_string(t));
    const SampleRun jump = sample({t});
    ASSERT_TRUE(jump.ok);
    ASSERT_EQ(jump.frames.size(), 1u);
    EXPECT_NEAR(jump.frames[0].pts, t, 1e-3);
    double reached = -1;
    for (const auto& f : walk.frames)
      if (std::fabs(f.t - t) < 1e-9) reached = f.pts;
    EXPECT_EQ(jump.frames[0].pts, reached);
    expect_valid_choice(jump);
  }
  expect_valid_choice(walk);
}

TEST_F(FrameSamplerTest, SkipsWorkComparedWithAPlainRead) {
  const std::vector<double> targets = grid(0, 60, 1);
  const SampleRun run = sample(targets);
  ASSERT_TRUE(run.ok);
  ASSERT_EQ(run.frames.size(), targets.size());
  EXPECT_GT(run.stats.packets_dropped, 0);
  EXPECT_GT(run.stats.seeks, 0);
  EXPECT_GT(run.stats.frames_decoded, 0);
  EXPECT_GT(run.stats.packets_decoded, 0);

  // A plain sequential read of the same range.
  auto source = open_source();
  ASSERT_TRUE(source);
  std::int64_t plain = 0;
  for (;;) {
    auto r = source->read();
    ASSERT_TRUE(r.has_value()) << r.error().message;
    ASSERT_TRUE(r->has_value()) << "the file ended before 60 s";
    ++plain;
    if ((*r)->pts >= targets.back() - FrameSampler::kTolerance) break;
  }
  EXPECT_GE(plain, 600);
  EXPECT_LT(run.stats.frames_decoded, plain);
  EXPECT_LT(run.stats.packets_decoded, source->packets_decoded());
}

TEST_F(FrameSamplerTest, TargetsPastTheEndGetNoFrame) {
  {
    auto source = open_source();
    ASSERT_TRUE(source);
    FrameSampler sampler(*source, {700.0});
    auto r = sampler.next();
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_FALSE(r->has_value());
    auto again = sampler.next();
    ASSERT_TRUE(again.has_value()) << again.error().message;
    EXPECT_FALSE(again->has_value());
  }
  {
    // The last frame is at 635.9 s: 635.0 gets a frame, 700 and 800 none.
    auto source = open_source();
    ASSERT_TRUE(source);
    FrameSampler sampler(*source, {635.0, 700.0, 800.0});
    auto r = sampler.next();
    ASSERT_TRUE(r.has_value()) << r.error().message;
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ((*r)->index, 0u);
    EXPECT_NEAR((*r)->pts, 635.0, 1e-3);
    auto end = sampler.next();
    ASSERT_TRUE(end.has_value()) << end.error().message;
    EXPECT_FALSE(end->has_value());
    auto again = sampler.next();
    ASSERT_TRUE(again.has_value()) << again.error().message;
    EXPECT_FALSE(again->has_value());
  }
}

// Frames decoded by a plain read from the start until pts >= last.
std::int64_t plain_read_frames(double last) {
  auto source = open_source();
  if (!source) return -1;
  std::int64_t n = 0;
  for (;;) {
    auto r = source->read();
    if (!r || !*r) return -1;
    ++n;
    if ((*r)->pts >= last - FrameSampler::kTolerance) return n;
  }
}

// Targets 0.1 s before a keyframe (4.9, 9.9, ...): the container index gives
// the keyframe at 5.0 (its decode time 4.8 <= 4.95), which lies beyond what
// was read, so the sampler seeks; but the seek (by presentation time) lands on
// the keyframe at 0.0, behind what was already decoded, and everything since
// is decoded again. DISABLED: fails today, see the helper's report.
TEST_F(FrameSamplerTest, NeverDecodesMoreThanAPlainRead) {
  for (const auto& targets : {grid(3.9, 19.9, 1), grid(0, 20, 0.1)}) {
    SCOPED_TRACE("targets from " + std::to_string(targets.front()) + " to " + std::to_string(targets.back()) +
                 ", " + std::to_string(targets.size()) + " of them");
    const SampleRun run = sample(targets);
    ASSERT_TRUE(run.ok);
    ASSERT_EQ(run.frames.size(), targets.size());
    expect_valid_choice(run);
    const std::int64_t plain = plain_read_frames(targets.back());
    ASSERT_GT(plain, 0);
    EXPECT_LE(run.stats.frames_decoded, plain) << "seeks " << run.stats.seeks;
  }
}


// damaged.ts: vtest.ts (79.5 s MPEG-TS, a keyframe every 5 s) with 64 KiB
// overwritten at a third (make_test_videos.sh).
TEST(FrameSamplerDamage, LosesOnlyTheDamagedStretchWhateverTheSplit) {
  const std::string dir = VIGIL_TEST_VIDEOS_DIR;
  if (!std::filesystem::exists(dir + "/damaged.ts")) GTEST_SKIP() << "run tests/tools/make_test_videos.sh " << dir;
  const std::vector<double> all = grid(0, 79, 1);
  const SampleRun clean = sample(all, dir + "/vtest.ts");
  ASSERT_TRUE(clean.ok);
  ASSERT_EQ(clean.frames.size(), 80u);
  EXPECT_TRUE(clean.damaged.empty());
  const SampleRun whole = sample(all, dir + "/damaged.ts");
  ASSERT_TRUE(whole.ok);
  ASSERT_EQ(whole.damaged.size(), 1u);
  const DamagedRange& d = whole.damaged[0];
  EXPECT_GT(d.to, d.from);
  EXPECT_LE(d.to - d.from, 10.0) << d.from << "-" << d.to;
  EXPECT_FALSE(d.error.empty());
  EXPECT_GE(whole.frames.size(), 70u);
  EXPECT_EQ(whole.frames.size() + d.samples_lost, 80u);
  EXPECT_GT(whole.stats.damage_errors, 0);
  EXPECT_GT(whole.stats.packets_skipped, 0);
  // Every target kept got the clean file's frame; the lost ones lie in the range.
  for (const double t : all) {
    SCOPED_TRACE("target " + std::to_string(t));
    if (whole.pts.count(t)) {
      EXPECT_EQ(whole.pts.at(t), clean.pts.at(t));
    } else {
      EXPECT_GT(clean.pts.at(t), d.from);
      EXPECT_LT(clean.pts.at(t), d.to);
    }
  }
  // Ten samplers of 8 targets each (chunks): the same frames, the same losses.
  std::map<double, double> split;
  std::size_t lost = 0;
  for (int c = 0; c < 10; ++c) {
    const SampleRun part = sample(grid(8.0 * c, 8.0 * c + 7, 1), dir + "/damaged.ts");
    ASSERT_TRUE(part.ok) << "chunk " << c;
    split.insert(part.pts.begin(), part.pts.end());
    for (const auto& r : part.damaged) {
      lost += r.samples_lost;
      EXPECT_LE(r.from, d.to);
      EXPECT_GE(r.to, d.from);
    }
  }
  for (const double t : all) {
    SCOPED_TRACE("target " + std::to_string(t));
    EXPECT_EQ(split.count(t), whole.pts.count(t));
    if (split.count(t) && whole.pts.count(t)) {
      EXPECT_EQ(split.at(t), whole.pts.at(t));
    }
  }
  EXPECT_EQ(lost, d.samples_lost);
  // Targets before the first keyframe after 0 get the frames shown there (not the second keyframe's).
  EXPECT_DOUBLE_EQ(clean.pts.at(0.0), 0.0);
}

}  // namespace
}  // namespace vigil
