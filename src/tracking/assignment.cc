#include "tracking/assignment.h"

#include <algorithm>
#include <cmath>

namespace vigil {
namespace {

bool allowed(double cost, double limit) { return std::isfinite(cost) && cost <= limit; }

// Without a limit, a limit large enough that one more matched pair always
// outweighs any change in the cost of the others: L > max + k * (max - min)
// for k = min(rows, cols) makes the slack objective maximise cardinality first.
// Returns NaN when no pair has a finite cost.
double cardinality_first_limit(const CostMatrix& cost) {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -lo;
  for (std::size_t r = 0; r < cost.rows(); ++r)
    for (std::size_t c = 0; c < cost.cols(); ++c)
      if (std::isfinite(cost(r, c))) {
        lo = std::min(lo, cost(r, c));
        hi = std::max(hi, cost(r, c));
      }
  if (lo > hi) return std::numeric_limits<double>::quiet_NaN();
  const auto k = static_cast<double>(std::min(cost.rows(), cost.cols()));
  return hi + k * (hi - lo) + 1.0;
}

// The square (rows + cols) matrix of lapjv's extend_cost: every real row may
// instead take a dummy column and every real column a dummy row, each at
// limit/2, so leaving a row and a column both unmatched costs exactly `limit`
// and a real pair is only worth taking when it costs less.
CostMatrix extend(const CostMatrix& cost, double limit) {
  const std::size_t n = cost.rows();
  const std::size_t m = cost.cols();
  // Any finite value above the limit is never chosen (swapping the pair for two
  // dummies is always possible and cheaper); a finite one keeps the potentials finite.
  const double forbidden = limit + std::max(1.0, std::abs(limit));
  CostMatrix ext(n + m, n + m, 0.0);
  for (std::size_t r = 0; r < n + m; ++r) {
    for (std::size_t c = 0; c < n + m; ++c) {
      const bool real_row = r < n;
      const bool real_col = c < m;
      if (real_row && real_col) {
        ext(r, c) = allowed(cost(r, c), limit) ? cost(r, c) : forbidden;
      } else if (real_row || real_col) {
        ext(r, c) = limit / 2;
      }
    }
  }
  return ext;
}

// Hungarian method with row/column potentials on a square matrix (the
// shortest-augmenting-path form, O(n^3)). Returns col_of_row.
std::vector<std::size_t> solve_square(const CostMatrix& a) {
  const std::size_t n = a.rows();
  const double inf = std::numeric_limits<double>::infinity();
  // 1-based: index 0 of the column arrays is the virtual start column.
  std::vector<double> u(n + 1, 0.0);
  std::vector<double> v(n + 1, 0.0);
  std::vector<std::size_t> row_of_col(n + 1, 0);
  std::vector<std::size_t> way(n + 1, 0);
  for (std::size_t row = 1; row <= n; ++row) {
    row_of_col[0] = row;
    std::size_t col0 = 0;
    std::vector<double> min_slack(n + 1, inf);
    std::vector<bool> used(n + 1, false);
    do {
      used[col0] = true;
      const std::size_t row0 = row_of_col[col0];
      double delta = inf;
      std::size_t col1 = 0;
      for (std::size_t col = 1; col <= n; ++col) {
        if (used[col]) continue;
        const double slack = a(row0 - 1, col - 1) - u[row0] - v[col];
        if (slack < min_slack[col]) {
          min_slack[col] = slack;
          way[col] = col0;
        }
        if (min_slack[col] < delta) {
          delta = min_slack[col];
          col1 = col;
        }
      }
      for (std::size_t col = 0; col <= n; ++col) {
        if (used[col]) {
          u[row_of_col[col]] += delta;
          v[col] -= delta;
        } else {
          min_slack[col] -= delta;
        }
      }
      col0 = col1;
    } while (row_of_col[col0] != 0);
    do {  // flip the augmenting path
      const std::size_t col1 = way[col0];
      row_of_col[col0] = row_of_col[col1];
      col0 = col1;
    } while (col0 != 0);
  }
  std::vector<std::size_t> col_of_row(n, 0);
  for (std::size_t col = 1; col <= n; ++col) col_of_row[row_of_col[col] - 1] = col - 1;
  return col_of_row;
}

Assignment all_unmatched(std::size_t rows, std::size_t cols) {
  Assignment out;
  for (std::size_t r = 0; r < rows; ++r) out.unmatched_rows.push_back(r);
  for (std::size_t c = 0; c < cols; ++c) out.unmatched_cols.push_back(c);
  return out;
}

}  // namespace

Assignment linear_assignment(const CostMatrix& cost, double cost_limit) {
  const std::size_t n = cost.rows();
  const std::size_t m = cost.cols();
  double limit = cost_limit;
  if (std::isinf(limit) && limit > 0) limit = cardinality_first_limit(cost);
  if (n == 0 || m == 0 || !std::isfinite(limit)) return all_unmatched(n, m);

  const std::vector<std::size_t> col_of_row = solve_square(extend(cost, limit));
  Assignment out;
  std::vector<bool> col_matched(m, false);
  for (std::size_t r = 0; r < n; ++r) {
    const std::size_t c = col_of_row[r];
    if (c < m && allowed(cost(r, c), limit)) {
      out.matches.emplace_back(r, c);
      col_matched[c] = true;
    } else {
      out.unmatched_rows.push_back(r);
    }
  }
  for (std::size_t c = 0; c < m; ++c)
    if (!col_matched[c]) out.unmatched_cols.push_back(c);
  return out;
}

CostMatrix iou_cost_matrix(const std::vector<Box>& rows, const std::vector<Box>& cols) {
  CostMatrix cost(rows.size(), cols.size());
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::size_t c = 0; c < cols.size(); ++c) cost(r, c) = 1.0 - static_cast<double>(iou(rows[r], cols[c]));
  return cost;
}

}  // namespace vigil
