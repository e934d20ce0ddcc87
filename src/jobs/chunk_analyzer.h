// analyze_chunk: one chunk of an offline analysis, start to finish.
//
// Decodes the chunk's sampled frames (FrameSampler: from the keyframe at or
// before each, skipping what no sample needs), sends them through the shared
// BatchScheduler in offline mode (lossless, fixed batches), tracks within the
// chunk and applies the zones and lines. Returns the chunk's result as JSON
// (the text stored in the job store; schema below), so a resumed job merges
// exactly what an uninterrupted one would.
//
// Result JSON:
//   "samples": [[t, pts, {"<class id>": count, ...}], ...]  one per sampled frame,
//              count = detections scoring >= the stream's conf
//   "tracks":  [{"id", "class", "first", "last", "hits", "score",
//               "first_box": [x1,y1,x2,y2], "last_box": [...], "open"}]
//              confirmed tracks; ids local to the chunk; open = still
//              tracked at the chunk's last sample
//   "events":  event JSON (store/event_json.h, wall_time 0) in order; events
//              that only close open tracks/visits at the chunk's end carry
//              "boundary": true (the merge drops them when the track goes on
//              in the next chunk)
//   "thumbs":  [{"t", "pts", "count", "jpeg": base64}] the chunk's busiest
//              samples (most detections first), boxes drawn
//   "captions": [{"t", "pts", "text"}] (settings.captions only; see
//              AnalyzeSettings::captions for when); a failed caption has
//              "error" instead of "text"
//   "damaged": [{"from", "to", "samples_lost", "error"}] damaged data met
//              while decoding this chunk's samples: the frames shown strictly
//              between from and to were lost (FrameSampler), samples_lost of
//              this chunk's samples with them. A chunk whose samples were all
//              lost fails (kBadInput) instead.
//   "frame":   [width, height]
//   "stats":   decoding and timing figures (used only for run.json)
//
// Threads: call from a chunk worker thread; several chunks may run at once
// against the same scheduler.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "inference/model_info.h"
#include "jobs/analyze_settings.h"
#include "jobs/chunk_plan.h"
#include "pipeline/batch_scheduler.h"

namespace vigil {

// Track ids of chunk i are i x kChunkTrackIdSpan + n, so they differ across
// chunks (the merge renumbers them).
inline constexpr std::int64_t kChunkTrackIdSpan = 1'000'000;

struct ChunkRunContext {
  const AnalyzeSettings& settings;
  BatchScheduler& scheduler;
  const ModelInfo& model;
  const std::atomic<bool>* stop = nullptr;  // cancel: the chunk fails with kCancelled
  int thumbs = 3;                           // thumbnails kept per chunk
  class Captioner* captioner = nullptr;     // settings.captions: called on this thread (thread-safe captioners)
};

// on_sample(done, total): after each analysed sample (from this thread).
Result<nlohmann::json> analyze_chunk(const ChunkRunContext& ctx, const Chunk& chunk,
                                     const std::function<void(std::size_t, std::size_t)>& on_sample);

}  // namespace vigil
