// ChunkResult: what one chunk of an offline analysis found, as typed data.
//
// analyze_chunk (chunk_analyzer.h) fills it; the job store keeps it as JSON
// text (the chunks.result column, written by to_text, read back by
// parse_chunk_result); merge_results (results_merge.h) reads it from there,
// so a resumed job merges exactly what an uninterrupted one would. JSON is
// only the storage form: nothing else in jobs/ reads the text.
//
// Stored JSON (keys sorted, nlohmann::json's compact dump):
//   "samples": [[t, pts, {"<class id>": count, ...}], ...]  one per sampled frame,
//              count = detections scoring >= the stream's conf
//   "tracks":  [{"id", "class", "first", "last", "hits", "score",
//               "first_box": [x1,y1,x2,y2], "last_box": [...], "open"}]
//              confirmed tracks; ids local to the chunk; open = still
//              tracked at the chunk's last sample
//   "events":  event JSON (store/event_json.h without "wall_time") in order;
//              events that only close open tracks/visits at the chunk's end
//              carry "boundary": true (the merge drops them when the track
//              goes on in the next chunk)
//   "thumbs":  [{"t", "pts", "count", "jpeg": base64}] the chunk's busiest
//              samples (most detections first), boxes drawn
//   "captions": [{"t", "pts", "text"}] only when the job has captions; a
//              failed caption has "error" instead of "text"
//   "damaged": [{"from", "to", "samples_lost", "error"}] damaged data met
//              while decoding this chunk's samples (FrameSampler)
//   "frame":   [width, height]
//   "stats":   decoding and timing figures (used only for run.json)
// to_text rounds times (t, pts, first, last, from, to) to 1e-3 s, boxes to
// 0.1 px and scores to 1e-3, so text -> ChunkResult -> text gives the same
// bytes.
//
// Reading: samples, tracks and events are required; thumbs, captions,
// damaged, frame and stats may be absent (empty / zero). A missing or
// mistyped field is kBadInput naming it ("tracks[0].first_box: missing").
//
// Pure functions and plain structs: no I/O, no threads; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>  // declarations only: stats_json below

#include "core/detection.h"
#include "core/error.h"
#include "core/event.h"

namespace vigil {

struct ChunkSample {
  double t = 0;                 // the sample's target time on the job's grid, seconds
  double pts = 0;               // the decoded frame's media time, seconds
  std::map<int, int> counts;    // class id -> detections >= conf (classes with none are absent)
};

struct ChunkTrack {
  std::int64_t id = 0;  // local to the chunk (chunk_analyzer.h: kChunkTrackIdSpan)
  int class_id = 0;
  double first = 0, last = 0;  // pts of the first and last matched sample
  int hits = 0;                // samples matched
  double score = 0;            // best score
  Box first_box, last_box;     // source-frame pixels
  bool open = false;           // still tracked at the chunk's last sample
};

struct ChunkEvent {
  Event event;            // wall_time 0 (offline)
  bool boundary = false;  // only closes a track / visit at the chunk's end
};

struct ChunkThumb {
  double t = 0, pts = 0;
  int count = 0;            // detections drawn
  std::string jpeg_base64;  // the JPEG, base64 (kept encoded: it goes to the report as is)
};

struct ChunkCaption {
  double t = 0, pts = 0;
  bool ok = true;    // false: the captioner failed
  std::string text;  // the caption (ok) or the error message (!ok)
};

struct ChunkDamage {
  double from = 0, to = 0;  // frames strictly between were lost
  std::int64_t samples_lost = 0;
  std::string error;
};

struct ChunkStats {
  std::int64_t seeks = 0, frames_decoded = 0, packets_decoded = 0, packets_dropped = 0, damage_errors = 0,
               packets_skipped = 0;
  double decode_ms = 0, convert_ms = 0, elapsed_s = 0;
  ChunkStats& operator+=(const ChunkStats& o);  // sums every figure (run.json totals)
};

struct ChunkResult {
  std::vector<ChunkSample> samples;  // in sample order
  std::vector<ChunkTrack> tracks;    // in order of birth
  std::vector<ChunkEvent> events;    // in order
  std::vector<ChunkThumb> thumbs;    // busiest first
  std::optional<std::vector<ChunkCaption>> captions;  // only for a job with captions
  std::vector<ChunkDamage> damaged;  // in media-time order
  int frame_w = 0, frame_h = 0;
  ChunkStats stats;
};

// The stored JSON text (schema above).
std::string to_text(const ChunkResult& result);
// The "stats" object of that text (run.json shows it per chunk attempt).
nlohmann::json stats_json(const ChunkStats& stats);

// The inverse of to_text. kBadInput for text that is not JSON or not of the
// schema, naming the field. Never throws.
Result<ChunkResult> parse_chunk_result(std::string_view text);

}  // namespace vigil
