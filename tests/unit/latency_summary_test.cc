#include "metrics/latency_summary.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

TEST(LatencySummary, NearestRankPercentiles) {
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);  // unsorted on purpose
  const auto s = summarize(v);
  EXPECT_EQ(s.count, 100U);
  EXPECT_DOUBLE_EQ(s.avg, 50.5);
  EXPECT_DOUBLE_EQ(s.p50, 50);
  EXPECT_DOUBLE_EQ(s.p95, 95);
  EXPECT_DOUBLE_EQ(s.p99, 99);
  EXPECT_DOUBLE_EQ(s.max, 100);
}

TEST(LatencySummary, EmptyAndSingle) {
  EXPECT_EQ(summarize({}).count, 0U);
  const auto s = summarize({7.5});
  EXPECT_DOUBLE_EQ(s.p50, 7.5);
  EXPECT_DOUBLE_EQ(s.p99, 7.5);
  EXPECT_DOUBLE_EQ(s.max, 7.5);
}

}  // namespace
}  // namespace vigil
