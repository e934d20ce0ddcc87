#include "jobs/chunk_plan.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

namespace vigil {

namespace {

bool positive_finite(double v) { return std::isfinite(v) && v > 0; }

std::string num(double v) {
  std::string s = std::to_string(v);
  return s;
}

// The first grid index k with k / fps >= t (within kMediaTimeEpsilon frames).
std::int64_t first_k(double t, double fps) { return static_cast<std::int64_t>(std::ceil(t * fps - kMediaTimeEpsilon)); }

}  // namespace

Result<std::vector<Chunk>> plan_chunks(double duration_s, const ChunkPlanOptions& options) {
  if (!positive_finite(duration_s))
    return fail(ErrorCode::kInvalidArgument, "chunk plan: duration must be a finite number > 0 seconds, got " +
                                                 num(duration_s));
  if (!positive_finite(options.chunk_s))
    return fail(ErrorCode::kInvalidArgument, "chunk plan: chunk length must be a finite number > 0 seconds, got " +
                                                 num(options.chunk_s));
  if (!positive_finite(options.sample_fps))
    return fail(ErrorCode::kInvalidArgument, "chunk plan: sample fps must be a finite number > 0, got " +
                                                 num(options.sample_fps));
  const double count = std::ceil(duration_s / options.chunk_s);
  if (count > static_cast<double>(kMaxChunks))
    return fail(ErrorCode::kInvalidArgument, "chunk plan: " + num(duration_s) + " s in chunks of " +
                                                 num(options.chunk_s) + " s would be more than " +
                                                 std::to_string(kMaxChunks) + " chunks");
  std::vector<Chunk> plan;
  plan.reserve(static_cast<std::size_t>(count));
  for (int i = 0;; ++i) {
    const double start = i * options.chunk_s;  // the same expression as the previous chunk's end
    if (!(start < duration_s)) break;
    const double end = std::min((i + 1) * options.chunk_s, duration_s);
    plan.push_back(Chunk{i, start, end});
  }
  return plan;
}

std::vector<double> sample_times(const Chunk& chunk, double sample_fps) {
  std::vector<double> out;
  if (!positive_finite(sample_fps) || !(chunk.end_s > chunk.start_s)) return out;
  const std::int64_t first = std::max<std::int64_t>(0, first_k(chunk.start_s, sample_fps));
  const std::int64_t last = first_k(chunk.end_s, sample_fps);  // exclusive
  if (last > first) out.reserve(static_cast<std::size_t>(last - first));
  for (std::int64_t k = first; k < last; ++k) out.push_back(static_cast<double>(k) / sample_fps);
  return out;
}

}  // namespace vigil
