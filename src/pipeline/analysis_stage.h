// Analysis stage: what one analysed frame does to one stream's state, the same
// live (StreamPipeline) and offline (analyze_chunk).
//
//   BatchResult (detections of one frame, full-frame pixels)
//     -> Tracker::update            tracks, born, lost
//     -> AnalyticsEvaluator          zone / line events, occupancy, line counts
//     -> AnalysisUpdate              track_new, zone/line events, zone exits of
//                                    lost tracks, track_lost, in that order
//
// analyse() is a function over an explicit per-stream AnalysisState: no
// threads, no I/O, no clock except the two stage timings it reports. Wall time
// comes in as an argument (live: Unix time; offline: 0), so an offline run
// gives the same update for the same results. Callers decide what to do with
// the update (publish the events, keep chunk records, caption).
//
// Ownership: the caller owns the AnalysisState (one per stream or chunk); it
// borrows the ModelInfo, which must outlive it.
// Threads: not thread-safe; one thread per AnalysisState.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "analytics/analytics_evaluator.h"
#include "config/engine_config.h"
#include "core/error.h"
#include "core/event.h"
#include "core/track.h"
#include "describe/captioner.h"
#include "inference/model_info.h"
#include "models/decoder.h"
#include "pipeline/batch_scheduler.h"
#include "tracking/tracker.h"

namespace vigil {

using Occupancy = std::map<std::string, std::map<std::string, int>>;              // zone -> class -> inside
using LineTotals = std::map<std::string, std::map<std::string, std::int64_t>>;   // line -> {"in", "out"}

struct AnalysisUpdate;

// The stream's analysis state: tracker, zone/line evaluator, track id allocator.
class AnalysisState {
 public:
  // Validates the stream's zones, lines and class list against the model
  // (errors start with `path`, e.g. "streams[cam1]"). Track ids start at first_track_id.
  static Result<std::unique_ptr<AnalysisState>> create(const StreamConfig& stream, const ModelInfo& model,
                                                       std::int64_t first_track_id, const std::string& path);
  AnalysisState(const AnalysisState&) = delete;
  AnalysisState& operator=(const AnalysisState&) = delete;

  const std::string& stream_id() const { return stream_id_; }
  const ModelInfo& model() const { return model_; }
  const Tracker& tracker() const { return tracker_; }
  const AnalyticsEvaluator& analytics() const { return analytics_; }

 private:
  AnalysisState(const StreamConfig& stream, const ModelInfo& model, std::int64_t first_track_id,
                AnalyticsEvaluator analytics);
  friend AnalysisUpdate analyse(AnalysisState& state, const BatchResult& r, double wall_time);
  friend std::vector<Event> end_tracks(AnalysisState& state, const std::vector<Track>& gone, double pts,
                                       double wall_time);

  const std::string stream_id_;
  const ModelInfo& model_;
  TrackIdAllocator ids_;  // before tracker_, which borrows it
  Tracker tracker_;
  AnalyticsEvaluator analytics_;
};

// What one analysed frame changed.
struct AnalysisUpdate {
  double pts = 0;             // media time of the frame, seconds
  std::vector<Track> tracks;  // active tracks (tentative and confirmed) after it, by ascending id
  std::vector<Track> born;    // confirmed in this update
  std::vector<Track> lost;    // removed in this update (state kRemoved)
  std::vector<Event> events;  // in the order given at the top of this file
  Occupancy occupancy;        // after the frame (AnalyticsEvaluator::occupancy())
  LineTotals line_counts;     // since the stream started
  std::size_t confirmed = 0;  // confirmed tracks among `tracks`
  // Time spent in the tracker and in the zones/lines, ms: the only fields that
  // differ from run to run (stage metrics).
  double track_ms = 0;
  double analytics_ms = 0;
};

// Feeds one successful result (r.ok) of the stream to its state.
AnalysisUpdate analyse(AnalysisState& state, const BatchResult& r, double wall_time);

// Ends tracks the tracker still holds (offline: at a chunk's end): closes
// their open zone visits (zone_exit) and reports track_lost, as analyse() does
// for lost tracks. `gone` carry their last box and class.
std::vector<Event> end_tracks(AnalysisState& state, const std::vector<Track>& gone, double pts, double wall_time);

// The one track event builder: track_new / track_lost of `t` on `stream`.
Event track_event(EventKind kind, const Track& t, const std::string& stream, const ModelInfo& model, double pts,
                  double wall_time);

// What the detector keeps for this stream: conf (down to the tracker's low
// threshold, which wants low-score boxes too), iou, max_det, and the class
// mask of stream.classes (class_mask_from_names; the names were checked by
// AnalysisState::create).
DecodeOptions decode_options(const StreamConfig& stream, const ModelInfo& model);

// The size of the copy the detector sees for a w x h frame: the substream's
// width or scale when set (even sizes), then shrunk to fit within fit_w x
// fit_h when those are > 0 (offline: the model input, as the letterbox would
// scale it). Never enlarged; at least 2 x 2.
std::pair<int, int> analysis_size(const SubstreamConfig& sub, int fit_w, int fit_h, int w, int h);

// The one caption-scene builder: the confirmed tracks of `u`, occupancy,
// who is in which zone and for how long, line counts, the analysed image.
CaptionScene caption_scene(const AnalysisState& state, const BatchResult& r, const AnalysisUpdate& u);

}  // namespace vigil
