// analyze_chunk: one chunk of an offline analysis, start to finish.
//
// Decodes the chunk's sampled frames (FrameSampler: from the keyframe at or
// before each, skipping what no sample needs), sends them through the shared
// BatchScheduler in offline mode (lossless, fixed batches), tracks within the
// chunk and applies the zones and lines, through the analysis stage the live
// engine uses (pipeline/analysis_stage.h). Returns the chunk's ChunkResult
// (jobs/chunk_result.h, which also gives the stored JSON text: to_text), so a
// resumed job merges exactly what an uninterrupted one would.
//
// The result: one ChunkSample per sampled frame, the chunk's confirmed
// tracks (ids local to the chunk, open = still tracked at its last sample),
// its events in order (those that only close open tracks/visits at the
// chunk's end are `boundary`), the busiest samples' thumbnails, captions
// (settings.captions only; see AnalyzeSettings::captions for when), damaged
// ranges met while decoding (FrameSampler: the frames shown strictly between
// from and to were lost; a chunk whose samples were all lost fails with
// kBadInput instead), the frame size and decoding figures.
//
// Threads: call from a chunk worker thread; several chunks may run at once
// against the same scheduler.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "core/error.h"
#include "inference/model_info.h"
#include "jobs/analyze_settings.h"
#include "jobs/chunk_plan.h"
#include "jobs/chunk_result.h"
#include "pipeline/batch_scheduler.h"

namespace vigil {

// Track ids of chunk i are i x kChunkTrackIdSpan + n, so they differ across
// chunks (the merge renumbers them).
inline constexpr std::int64_t kChunkTrackIdSpan = 1'000'000;

struct ChunkRunContext {
  const AnalyzeSettings& settings;
  BatchScheduler& scheduler;
  const ModelInfo& model;
  const std::atomic<bool>* stop = nullptr;  // cancel: the chunk fails ("cancelled")
  int thumbs = 3;                           // thumbnails kept per chunk
  class Captioner* captioner = nullptr;     // settings.captions: called on this thread (thread-safe captioners)
};

// on_sample(done, total): after each analysed sample (from this thread).
Result<ChunkResult> analyze_chunk(const ChunkRunContext& ctx, const Chunk& chunk,
                                  const std::function<void(std::size_t, std::size_t)>& on_sample);

}  // namespace vigil
