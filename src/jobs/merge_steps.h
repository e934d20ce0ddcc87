// The steps of merge_results (results_merge.h), each a pure function over
// typed data, in the order the merge runs them:
//   parse_done_chunks -> stitch_tracks -> merge_events -> build_timeline ->
//   count_over_time -> summarize_zones_and_lines -> busiest_moments
// (and merge_damaged beside them). merge_results turns their outputs into
// results.json; they are declared here so each can be tested alone.
//
// Pure functions: no I/O, no threads; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "analytics/line.h"
#include "analytics/zone.h"
#include "core/error.h"
#include "core/event.h"
#include "jobs/chunk_result.h"
#include "jobs/job_store.h"

namespace vigil::merge {

// Tolerance for "at the track's first sample" (times rounded to 1e-3 apart
// from the value compared with them).
inline constexpr double kSampleEpsilon = 1e-6;
// A continuation must be born within this many sample intervals of its
// chunk's first sample to be stitched.
inline constexpr double kStitchBirthIntervals = 1.5;
// The busiest moments kept (with their thumbnails) over the whole job.
inline constexpr std::size_t kBusiestMoments = 6;
// counts_over_time has at most about this many buckets.
inline constexpr double kTargetBuckets = 240.0;

struct DoneChunk {
  Chunk chunk;
  ChunkResult result;
};

// The done chunks of `chunks` (in their order) with their stored results
// parsed. kBadInput naming the chunk for a result that is not a chunk result.
Result<std::vector<DoneChunk>> parse_done_chunks(const std::vector<ChunkState>& chunks);

// (position in the done chunks, chunk-local track id)
using LocalKey = std::pair<std::size_t, std::int64_t>;

struct GlobalTrack {
  std::int64_t id = 0;  // 1, 2, ... in order of first appearance
  int class_id = 0;
  double first = 0, last = 0;
  int hits = 0;
  double score = 0;
  std::vector<int> chunks;  // chunk indices it appears in
};

struct Stitch {
  double t = 0;  // the chunk boundary
  std::int64_t track = 0;
  int chunk = 0;  // the chunk it continues into
};

struct StitchedTracks {
  std::map<LocalKey, std::int64_t> global_id;       // every confirmed local track
  std::map<LocalKey, std::int64_t> continues_from;  // continuation -> its predecessor's local id (chunk before)
  std::map<LocalKey, std::int64_t> continues_to;    // predecessor -> its continuation's local id (chunk after)
  std::vector<GlobalTrack> tracks;                  // by id
  std::vector<Stitch> stitches;                     // in chunk order
};

struct StitchParams {
  double sample_interval_s = 1;  // 1 / sample_fps
  double lost_buffer_s = 0;      // the tracker's
  double min_iou = 0;            // AnalyzeSettings::stitch_iou
};

// Joins a track still open at the end of chunk i with one born at the start
// of chunk i+1 (see results_merge.h for the rule) and numbers all tracks.
StitchedTracks stitch_tracks(const std::vector<DoneChunk>& done, const StitchParams& params);

// All chunks' events in order with global track ids; a stitched track's
// boundary closures and its continuation's re-openings dropped, dwell times
// of carried visits counted from the first enter (results_merge.h).
std::vector<Event> merge_events(const std::vector<DoneChunk>& done, const StitchedTracks& tracks,
                                const std::vector<ZoneConfig>& zones);

struct TimelineRow {
  double t = 0, pts = 0;
  std::map<int, int> counts;  // class id -> detections
};

struct Timeline {
  std::vector<TimelineRow> rows;  // one per sample, in order
  std::set<int> classes;          // every class id seen
};

Timeline build_timeline(const std::vector<DoneChunk>& done);

// timeline.csv: "t,pts,<class names...>,total", one row per sample.
std::string timeline_csv(const Timeline& timeline, const std::vector<std::string>& class_names);

struct CountsBucket {
  double t = 0;  // bucket start
  std::size_t samples = 0;
  std::map<std::string, double> mean;  // class name -> mean per sample (1e-3)
  std::map<std::string, int> max;      // class name -> most in one sample
};

struct Counts {
  double bucket_s = 1;
  std::vector<CountsBucket> rows;
  std::map<std::string, std::int64_t> detections;  // class name -> total
  std::map<std::string, int> max_in_frame;         // class name -> most in one sample
};

// The bucket width for a video: the smallest of 1 s, 2 s, 5 s ... 12 h that
// gives at most kTargetBuckets buckets and is not below one sample interval.
double pick_bucket(double duration_s, double sample_fps);

Counts count_over_time(const Timeline& timeline, double bucket_s, const std::vector<std::string>& class_names);

struct ZoneSummary {
  std::map<std::string, int> visits;  // class name -> zone_enter events
  int dwell_events = 0;
  double dwell_max_s = 0;
  int exits = 0;
  double dwell_total_s = 0;
};

struct LineCount {
  int in = 0, out = 0;
};

struct LineSummary {
  LineCount total;
  std::map<std::string, LineCount> by_class;
};

struct ZonesAndLines {
  std::map<std::string, ZoneSummary> zones;  // every configured zone, then any other named by events
  std::map<std::string, LineSummary> lines;  // every configured line, ...
  std::vector<Event> zone_events;            // zone_enter / zone_exit / dwell, in order
  std::vector<Event> line_events;            // line_cross, in order
};

ZonesAndLines summarize_zones_and_lines(const std::vector<Event>& events, const std::vector<ZoneConfig>& zones,
                                        const std::vector<LineConfig>& lines);

// The kBusiestMoments thumbnails of all chunks with the most detections
// (earliest first among equals).
std::vector<ChunkThumb> busiest_moments(const std::vector<DoneChunk>& done);

// The damaged ranges of all done chunks, in media-time order, joined where
// they overlap (neighbouring chunks meet the same damage when both decode
// through it); samples_lost summed, the first error kept.
std::vector<ChunkDamage> merge_damaged(const std::vector<DoneChunk>& done);

}  // namespace vigil::merge
