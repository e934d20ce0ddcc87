#include "jobs/chunk_plan.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace vigil {
namespace {

std::vector<double> all_samples(double duration, double chunk_s, double fps) {
  auto plan = plan_chunks(duration, ChunkPlanOptions{chunk_s, fps});
  EXPECT_TRUE(plan.has_value());
  std::vector<double> out;
  if (!plan) return out;
  for (const Chunk& c : *plan) {
    const auto t = sample_times(c, fps);
    out.insert(out.end(), t.begin(), t.end());
  }
  return out;
}

TEST(ChunkPlan, CoversTheDurationExactlyWithAShorterLastChunk) {
  const auto plan = plan_chunks(1000.5, ChunkPlanOptions{300, 1});
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  ASSERT_EQ(plan->size(), 4u);
  EXPECT_EQ((*plan)[0], (Chunk{0, 0, 300}));
  EXPECT_EQ((*plan)[1], (Chunk{1, 300, 600}));
  EXPECT_EQ((*plan)[2], (Chunk{2, 600, 900}));
  EXPECT_EQ((*plan)[3], (Chunk{3, 900, 1000.5}));
  for (std::size_t i = 1; i < plan->size(); ++i) EXPECT_EQ((*plan)[i].start_s, (*plan)[i - 1].end_s);
}

TEST(ChunkPlan, ExactMultipleHasNoEmptyTail) {
  const auto plan = plan_chunks(600, ChunkPlanOptions{300, 1});
  ASSERT_TRUE(plan.has_value());
  ASSERT_EQ(plan->size(), 2u);
  EXPECT_EQ(plan->back().end_s, 600);
}

TEST(ChunkPlan, ShortVideoIsOneChunk) {
  const auto plan = plan_chunks(12.25, ChunkPlanOptions{});
  ASSERT_TRUE(plan.has_value());
  ASSERT_EQ(plan->size(), 1u);
  EXPECT_EQ(plan->front(), (Chunk{0, 0, 12.25}));
}

TEST(ChunkPlan, SampleTimesAtOneFps) {
  EXPECT_EQ(sample_times(Chunk{0, 0, 3}, 1), (std::vector<double>{0, 1, 2}));
  EXPECT_EQ(sample_times(Chunk{1, 3, 5.5}, 1), (std::vector<double>{3, 4, 5}));
  EXPECT_EQ(sample_times(Chunk{0, 0.5, 1}, 1), (std::vector<double>{}));
  EXPECT_EQ(sample_times(Chunk{0, 0, 10}, 0.3), (std::vector<double>{0, 1 / 0.3, 2 / 0.3}));
}

TEST(ChunkPlan, UnionOfSampleTimesEqualsOneChunkPlanForAnyChunking) {
  const double duration = 1000.5;
  for (const double fps : {1.0, 0.3, 2.5, 29.97}) {
    const auto one = all_samples(duration, duration * 2, fps);
    ASSERT_FALSE(one.empty());
    EXPECT_EQ(one.front(), 0.0);
    EXPECT_LT(one.back(), duration);
    EXPECT_GE(one.back() + 1 / fps, duration - 1e-6);
    for (const double chunk : {60.0, 100.0, 7.0, 0.7, 333.3}) {
      const auto chunked = all_samples(duration, chunk, fps);
      EXPECT_EQ(chunked, one) << "fps " << fps << " chunk " << chunk;  // exact, element by element
    }
  }
  EXPECT_EQ(all_samples(duration, duration * 2, 1).size(), 1001u);  // 0..1000
  EXPECT_EQ(all_samples(duration, duration * 2, 0.3).size(), 301u);  // k/0.3 < 1000.5: k <= 300
}

TEST(ChunkPlan, RejectsNonPositiveOrNonFiniteInputs) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (const double bad : {0.0, -1.0, nan, inf}) {
    const auto d = plan_chunks(bad, ChunkPlanOptions{});
    ASSERT_FALSE(d.has_value()) << bad;
    EXPECT_EQ(d.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(d.error().message.find("duration"), std::string::npos) << d.error().message;
    const auto c = plan_chunks(100, ChunkPlanOptions{bad, 1});
    ASSERT_FALSE(c.has_value()) << bad;
    EXPECT_NE(c.error().message.find("chunk length"), std::string::npos) << c.error().message;
    const auto f = plan_chunks(100, ChunkPlanOptions{10, bad});
    ASSERT_FALSE(f.has_value()) << bad;
    EXPECT_NE(f.error().message.find("sample fps"), std::string::npos) << f.error().message;
    EXPECT_TRUE(sample_times(Chunk{0, 0, 10}, bad).empty());
  }
  const auto many = plan_chunks(1e9, ChunkPlanOptions{1e-3, 1});
  ASSERT_FALSE(many.has_value());
  EXPECT_EQ(many.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace vigil
