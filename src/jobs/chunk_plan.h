// Chunk planning for offline analysis (pure: no threads, no I/O).
//
// A video of duration_s seconds is cut into consecutive half-open ranges
// [start_s, end_s) of chunk_s seconds; the last one is shorter (or equal).
// Chunk i starts at i * chunk_s and ends at (i + 1) * chunk_s (or at the
// duration), computed with the same expression on both sides of a boundary,
// so neighbouring chunks share their boundary bit for bit.
//
// Sampling: the sampled media times lie on ONE global grid t_k = k / sample_fps
// (k = 0, 1, 2, ...), whatever the chunking. A chunk holds the k with
// first_k(start_s) <= k < first_k(end_s), first_k(t) = ceil(t * fps - kMediaTimeEpsilon).
// Because both chunks of a boundary use the same first_k of the same double,
// the union of sample_times() over any plan equals the one-chunk plan's list
// exactly (same values, no duplicates, no gaps).
#pragma once

#include <vector>

#include "core/error.h"
#include "core/media_time.h"

namespace vigil {

struct ChunkPlanOptions {
  double chunk_s = 300;   // chunk length in media seconds, > 0
  double sample_fps = 1;  // sampled frames per media second, > 0
};

struct Chunk {
  int index = 0;
  double start_s = 0;  // inclusive
  double end_s = 0;    // exclusive
  friend bool operator==(const Chunk&, const Chunk&) = default;
};

// Largest number of chunks a plan may have (guards against chunk_s tiny
// relative to the duration).
inline constexpr long kMaxChunks = 1'000'000;

// kInvalidArgument for a duration, chunk_s or sample_fps that is not a finite
// number > 0, or a plan of more than kMaxChunks chunks.
Result<std::vector<Chunk>> plan_chunks(double duration_s, const ChunkPlanOptions& options);

// The sampled media times inside the chunk, ascending, k / sample_fps for the
// integers k described above. Empty for sample_fps that is not finite and > 0.
std::vector<double> sample_times(const Chunk& chunk, double sample_fps);

}  // namespace vigil
