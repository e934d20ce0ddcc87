#include "metrics/latency_summary.h"
#include "metrics/latency_window.h"

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

namespace vigil {
namespace {

TEST(LatencyWindow, CumulativeHistogramCountsEverySample) {
  LatencyWindow w(4);  // the ring keeps 4, the histogram keeps all
  for (double ms : {0.2, 0.5, 3.0, 7.0, 60.0, 9000.0}) w.add(ms);
  const auto h = w.histogram();
  ASSERT_EQ(h.cumulative.size(), h.le_ms.size() + 1);
  EXPECT_EQ(h.cumulative[0], 2U);  // <= 0.5 ms (bounds are inclusive)
  EXPECT_EQ(h.cumulative[3], 3U);  // <= 5 ms
  EXPECT_EQ(h.cumulative[4], 4U);  // <= 10 ms
  EXPECT_EQ(h.cumulative.back(), 6U);
  EXPECT_EQ(h.cumulative[h.le_ms.size() - 1], 5U);  // <= 5000 ms: all but 9000
  EXPECT_DOUBLE_EQ(h.sum_ms, 9070.7);
  EXPECT_EQ(w.summary().count, 4U);
  w.reset();
  EXPECT_EQ(w.histogram().cumulative.back(), 0U);
}

}  // namespace
}  // namespace vigil

#include "metrics/rate_meter.h"

namespace vigil {
namespace {

TEST(RateMeter, RateOverTheWindowAndNotInflatedAtStart) {
  RateMeter m(2.0);
  const auto t0 = RateMeter::clock::now();
  auto at = [&](double s) { return t0 + std::chrono::duration_cast<RateMeter::clock::duration>(std::chrono::duration<double>(s)); };
  m.tick(at(0));
  EXPECT_DOUBLE_EQ(m.rate(at(0.01)), 0);  // one event: no rate yet
  m.tick(at(0.04));
  EXPECT_NEAR(m.rate(at(0.05)), 25.0, 1e-6);  // two events 40 ms apart, not 2 / 0.05
  for (int i = 2; i <= 100; ++i) m.tick(at(0.04 * i));
  EXPECT_NEAR(m.rate(at(4.0)), 25.0, 1e-6);
  EXPECT_DOUBLE_EQ(m.rate(at(10.0)), 0);  // all events older than the window
  EXPECT_EQ(m.total(), 101U);
}

}  // namespace
}  // namespace vigil
