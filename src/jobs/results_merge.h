// Merging chunk results into the job's outputs.
//
// merge_results() takes every chunk's state (done ones with their stored
// ChunkResult, chunk_result.h) and builds, deterministically from that alone:
// - tracks stitched across chunk boundaries: a track still open at the end of
//   chunk i and one born at the start of chunk i+1 (first seen within 1.5
//   sample intervals), same class, IoU of last and first box >= stitch_iou,
//   gap <= the tracker's lost buffer + one sample interval; greedy by IoU.
//   Track ids are renumbered 1, 2, ... in order of first appearance;
// - events: chunk-local ids mapped to the global ones; a stitched track's
//   boundary track_lost / zone_exit and its continuation's track_new /
//   zone_enter are dropped (the visit goes on; dwell times count from the
//   first enter), other boundary closures are kept as real ends;
// - the timeline (one row per sampled frame), counts over time, totals per
//   class, zone and line, the busiest moments and the failed time ranges.
// The steps run over typed data (merge_steps.h); JSON is made only for
// results.json and events.jsonl. write_outputs() writes results.json,
// events.jsonl and timeline.csv; the same chunk results always give the
// same bytes.
//
// Pure functions except write_*: no threads; safe from any thread.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/event.h"
#include "jobs/analyze_settings.h"
#include "jobs/chunk_result.h"
#include "jobs/job_store.h"

namespace vigil {

struct VideoInfo {
  std::string path;
  double duration_s = 0;
  int width = 0, height = 0;
  double fps = 0;
  std::string codec;
  nlohmann::json to_json() const;
};

struct MergedResults {
  nlohmann::json results;          // results.json
  std::vector<Event> events;       // events.jsonl, in order (offline: wall_time 0, written without it)
  std::string timeline_csv;        // timeline.csv
  std::vector<ChunkThumb> thumbs;  // busiest moments with their JPEGs (for the report)
  ChunkStats totals;               // the done chunks' decode figures, summed (run.json)
};

// kBadInput when a done chunk's result is not valid JSON of the expected shape.
Result<MergedResults> merge_results(const AnalyzeSettings& settings, const VideoInfo& video,
                                    const std::vector<std::string>& class_names, const std::vector<ChunkState>& chunks);

// events.jsonl: one offline event JSON per line (store/event_json.h).
std::string events_jsonl(const std::vector<Event>& events);

// Writes results.json, events.jsonl and timeline.csv into dir (each through a
// temporary file renamed into place). Errors name the file.
Result<void> write_outputs(const std::string& dir, const MergedResults& merged);

// Writes `text` to path atomically (temporary file + rename). Errors name the path.
Result<void> write_file_atomic(const std::string& path, const std::string& text);

}  // namespace vigil
