// Track: one object followed over time within one stream.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/detection.h"

namespace vigil {

enum class TrackState {
  kTentative,  // seen, not yet confirmed (too few hits)
  kConfirmed,  // matched recently
  kLost,       // not matched lately; kept for the lost-track buffer, may come back
  kRemoved,    // gone for good (returned once, by the update that removed it)
};

const char* to_string(TrackState s);

struct Track {
  std::int64_t id = 0;  // unique across all streams of the process, never reused
  Box box;              // source-frame pixels (predicted between analysed frames)
  int class_id = 0;
  float score = 0;      // score of the last matched detection
  TrackState state = TrackState::kTentative;
  int hits = 0;                  // analysed frames with a match
  int misses = 0;                // consecutive analysed frames without a match
  double first_seen = 0;         // media time, seconds
  double last_seen = 0;          // media time of the last match, seconds
  float vx = 0, vy = 0;          // box-centre velocity, pixels per second
};

// Hands out track ids. Each stream gets its own allocator with a distinct
// base (stream number x kStreamIdSpan), so ids are never shared across
// streams and, in offline runs, do not depend on how streams interleave.
// Thread-safe.
class TrackIdAllocator {
 public:
  static constexpr std::int64_t kStreamIdSpan = 1'000'000'000;
  TrackIdAllocator() = default;
  explicit TrackIdAllocator(std::int64_t first) : next_(first) {}
  std::int64_t next() { return next_.fetch_add(1, std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> next_{1};
};

}  // namespace vigil
