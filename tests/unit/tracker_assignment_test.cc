// Linear assignment and IoU costs (src/tracking/assignment.h).
#include "tracking/assignment.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace vigil {
namespace {

using Pairs = std::vector<std::pair<std::size_t, std::size_t>>;
using Indices = std::vector<std::size_t>;
constexpr double kInf = std::numeric_limits<double>::infinity();

CostMatrix matrix(const std::vector<std::vector<double>>& rows) {
  CostMatrix m(rows.size(), rows.empty() ? 0 : rows[0].size());
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::size_t c = 0; c < rows[r].size(); ++c) m(r, c) = rows[r][c];
  return m;
}

double total_cost(const CostMatrix& cost, const Assignment& a) {
  double sum = 0;
  for (auto [r, c] : a.matches) sum += cost(r, c);
  return sum;
}

TEST(LinearAssignment, SquareKnownOptimum) {
  const CostMatrix cost = matrix({{4, 1, 3}, {2, 0, 5}, {3, 2, 2}});
  const Assignment a = linear_assignment(cost);
  EXPECT_EQ(a.matches, (Pairs{{0, 1}, {1, 0}, {2, 2}}));
  EXPECT_DOUBLE_EQ(total_cost(cost, a), 5);
  EXPECT_TRUE(a.unmatched_rows.empty());
  EXPECT_TRUE(a.unmatched_cols.empty());
}

TEST(LinearAssignment, BeatsGreedy) {
  // Greedy takes the cheapest pair (0,0) = 1 and is left with (1,1) = 100.
  const CostMatrix cost = matrix({{1, 2}, {2, 100}});
  const Assignment a = linear_assignment(cost);
  EXPECT_EQ(a.matches, (Pairs{{0, 1}, {1, 0}}));
  EXPECT_DOUBLE_EQ(total_cost(cost, a), 4);
}

TEST(LinearAssignment, MoreColumnsThanRows) {
  const CostMatrix cost = matrix({{5, 1, 9, 4}, {1, 3, 9, 8}});
  const Assignment a = linear_assignment(cost);
  EXPECT_EQ(a.matches, (Pairs{{0, 1}, {1, 0}}));
  EXPECT_TRUE(a.unmatched_rows.empty());
  EXPECT_EQ(a.unmatched_cols, (Indices{2, 3}));
}

TEST(LinearAssignment, MoreRowsThanColumns) {
  const CostMatrix cost = matrix({{7, 7}, {1, 2}, {2, 9}});
  const Assignment a = linear_assignment(cost);
  EXPECT_EQ(a.matches, (Pairs{{1, 1}, {2, 0}}));
  EXPECT_EQ(a.unmatched_rows, (Indices{0}));
  EXPECT_TRUE(a.unmatched_cols.empty());
}

TEST(LinearAssignment, CostLimitLeavesExpensivePairsUnmatched) {
  const CostMatrix cost = matrix({{0.1, 0.9}, {0.9, 0.95}});
  const Assignment a = linear_assignment(cost, 0.8);
  EXPECT_EQ(a.matches, (Pairs{{0, 0}}));
  EXPECT_EQ(a.unmatched_rows, (Indices{1}));
  EXPECT_EQ(a.unmatched_cols, (Indices{1}));
}

TEST(LinearAssignment, CostLimitKeepsOneGoodMatchOverTwoMediocreOnes) {
  // Slack sum(limit - cost): {(0,0)} gives 0.5, {(0,1),(1,0)} only 0.2.
  const CostMatrix cost = matrix({{0.1, 0.5}, {0.5, kInf}});
  EXPECT_EQ(linear_assignment(cost, 0.6).matches, (Pairs{{0, 0}}));
  // Without a limit the most pairs come first.
  EXPECT_EQ(linear_assignment(cost).matches, (Pairs{{0, 1}, {1, 0}}));
}

TEST(LinearAssignment, NothingUnderTheLimitMatchesNothing) {
  const Assignment a = linear_assignment(matrix({{0.9, 0.95}, {0.99, 1.0}}), 0.5);
  EXPECT_TRUE(a.matches.empty());
  EXPECT_EQ(a.unmatched_rows, (Indices{0, 1}));
  EXPECT_EQ(a.unmatched_cols, (Indices{0, 1}));
}

TEST(LinearAssignment, InfiniteAndNanCostsAreNeverMatched) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const CostMatrix cost = matrix({{kInf, 3}, {kInf, nan}});
  EXPECT_EQ(linear_assignment(cost).matches, (Pairs{{0, 1}}));
  EXPECT_EQ(linear_assignment(cost, 10).matches, (Pairs{{0, 1}}));
  EXPECT_TRUE(linear_assignment(matrix({{kInf, nan}})).matches.empty());
}

TEST(LinearAssignment, EmptyMatrices) {
  const Assignment no_rows = linear_assignment(CostMatrix(0, 3));
  EXPECT_TRUE(no_rows.matches.empty());
  EXPECT_EQ(no_rows.unmatched_cols, (Indices{0, 1, 2}));
  const Assignment no_cols = linear_assignment(CostMatrix(2, 0), 0.5);
  EXPECT_EQ(no_cols.unmatched_rows, (Indices{0, 1}));
  EXPECT_TRUE(linear_assignment(CostMatrix()).matches.empty());
}

// Exhaustive search over every partial matching: the best slack sum under a
// limit, or (most pairs, least cost) without one.
struct Best {
  std::size_t pairs = 0;
  double value = 0;  // slack with a limit, cost without
};

void search(const CostMatrix& cost, double limit, std::size_t row, std::vector<bool>& used, Best cur, Best& best) {
  if (row == cost.rows()) {
    const bool limited = std::isfinite(limit);
    const bool better = limited ? cur.value > best.value + 1e-12
                                : (cur.pairs > best.pairs || (cur.pairs == best.pairs && cur.value < best.value - 1e-12));
    if (better) best = cur;
    return;
  }
  search(cost, limit, row + 1, used, cur, best);
  for (std::size_t c = 0; c < cost.cols(); ++c) {
    if (used[c] || cost(row, c) > limit) continue;
    used[c] = true;
    const double gain = std::isfinite(limit) ? limit - cost(row, c) : cost(row, c);
    search(cost, limit, row + 1, used, Best{cur.pairs + 1, cur.value + gain}, best);
    used[c] = false;
  }
}

TEST(LinearAssignment, MatchesExhaustiveSearchOnRandomMatrices) {
  std::mt19937 rng(1234);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int trial = 0; trial < 300; ++trial) {
    const std::size_t rows = 1 + rng() % 5;
    const std::size_t cols = 1 + rng() % 5;
    CostMatrix cost(rows, cols);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c) cost(r, c) = unit(rng);
    const double limit = trial % 2 == 0 ? kNoCostLimit : 0.6;

    std::vector<bool> used(cols, false);
    Best best{0, std::isfinite(limit) ? 0.0 : kInf};
    search(cost, limit, 0, used, Best{}, best);

    const Assignment a = linear_assignment(cost, limit);
    ASSERT_EQ(a.matches.size() + a.unmatched_rows.size(), rows);
    ASSERT_EQ(a.matches.size() + a.unmatched_cols.size(), cols);
    if (std::isfinite(limit)) {
      double slack = 0;
      for (auto [r, c] : a.matches) slack += limit - cost(r, c);
      EXPECT_NEAR(slack, best.value, 1e-9) << "trial " << trial;
    } else {
      EXPECT_EQ(a.matches.size(), best.pairs) << "trial " << trial;
      EXPECT_NEAR(total_cost(cost, a), best.value, 1e-9) << "trial " << trial;
    }
  }
}

TEST(IouCostMatrix, IsOneMinusIou) {
  const std::vector<Box> rows = {Box{0, 0, 10, 10}, Box{100, 100, 110, 110}};
  const std::vector<Box> cols = {Box{0, 0, 10, 10}, Box{5, 0, 15, 10}, Box{50, 50, 60, 60}};
  const CostMatrix cost = iou_cost_matrix(rows, cols);
  ASSERT_EQ(cost.rows(), 2U);
  ASSERT_EQ(cost.cols(), 3U);
  EXPECT_NEAR(cost(0, 0), 0.0, 1e-7);
  EXPECT_NEAR(cost(0, 1), 1.0 - 50.0 / 150.0, 1e-6);
  EXPECT_NEAR(cost(0, 2), 1.0, 1e-7);
  EXPECT_NEAR(cost(1, 0), 1.0, 1e-7);
}

}  // namespace
}  // namespace vigil
