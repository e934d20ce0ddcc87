// Optimal linear assignment between the rows and columns of a cost matrix
// (tracks x detections in the tracker), with a cost limit, and the IoU cost
// matrix the tracker feeds it. Pure functions, no threads.
#pragma once

#include <cstddef>
#include <limits>
#include <utility>
#include <vector>

#include "core/detection.h"

namespace vigil {

// A dense rows x cols matrix of costs, row-major.
class CostMatrix {
 public:
  CostMatrix() = default;
  CostMatrix(std::size_t rows, std::size_t cols, double fill = 0.0)
      : rows_(rows), cols_(cols), values_(rows * cols, fill) {}

  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  double& operator()(std::size_t row_idx, std::size_t col_idx) { return values_[row_idx * cols_ + col_idx]; }
  double operator()(std::size_t row_idx, std::size_t col_idx) const {
    return values_[row_idx * cols_ + col_idx];
  }

 private:
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  std::vector<double> values_;  // [rows, cols]
};

struct Assignment {
  std::vector<std::pair<std::size_t, std::size_t>> matches;  // (row_idx, col_idx), ascending row_idx
  std::vector<std::size_t> unmatched_rows;                   // ascending
  std::vector<std::size_t> unmatched_cols;                   // ascending
};

inline constexpr double kNoCostLimit = std::numeric_limits<double>::infinity();

// Solves the rectangular assignment problem exactly (Hungarian method with
// potentials, O((rows + cols)^3)).
//
// With a finite cost_limit (as ByteTrack's lapjv(extend_cost, cost_limit)):
// a pair costing more than cost_limit, or +inf, or NaN, is never matched, and
// among the rest the matching maximises the total slack sum(cost_limit - cost)
// over matched pairs; a pair costing exactly cost_limit may or may not be
// matched. So a good match is not given up to make two mediocre ones.
//
// With kNoCostLimit: the largest possible number of pairs with finite cost is
// matched, and among those matchings the one with the least total cost.
// Finite costs should be of moderate magnitude (they are summed). A NaN or
// -inf cost_limit matches nothing.
Assignment linear_assignment(const CostMatrix& cost, double cost_limit = kNoCostLimit);

// cost(r, c) = 1 - IoU(rows[r], cols[c]): 0 for identical boxes, 1 for disjoint ones.
CostMatrix iou_cost_matrix(const std::vector<Box>& rows, const std::vector<Box>& cols);

}  // namespace vigil
