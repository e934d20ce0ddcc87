// AnalyticsEvaluator: turns one stream's tracks into zone and line events
// (zone_enter, zone_exit, dwell, line_cross) and keeps the stream's zone
// occupancy and line counts.
//
// In: the tracker's tracks after each ANALYSED frame (only kConfirmed tracks
// are evaluated; boxes in source-frame pixels) with that frame's size and
// times; later, the tracks the tracker removed. Out: events, returned by value.
// One object per stream (or offline chunk), owned by its AnalysisState
// (pipeline/analysis_stage.h). Not thread-safe: called from that stream's thread.
//
// Semantics:
// - A visit starts on the first analysed frame the anchor is seen inside a
//   zone (zone_enter) and ends on the first analysed frame it is seen outside
//   (zone_exit, dwell_s = exit pts - enter pts), or when the track is removed
//   (zone_exit from remove_tracks, dwell_s = last pts seen inside - enter pts).
// - A track that is tentative or lost is neither in nor out: its visit stays
//   open (it still counts in occupancy) until it is confirmed again or removed,
//   so a short occlusion does not produce an exit/enter pair.
// - dwell: once per visit, on the first analysed frame with
//   pts - enter pts >= ZoneConfig::dwell_s; dwell_s holds that time.
// - line_cross: see line.h for the direction convention. The anchor's side of
//   the line is remembered per track; a change of side counts once the anchor
//   has stayed min_frames analysed frames on the new side AND the step that
//   changed side passed through the segment. A box flickering across the line
//   faster than that produces nothing; a track that crosses and stays counts
//   once. A track first seen on one side has not crossed anything.
// - Events carry the pts and wall_time of the update that produced them.
// - A track whose class is not in a zone's/line's class filter is ignored by
//   it (a class change to a filtered-out class ends a visit).
// - Normalised coordinates are scaled by the frame size of each update. When
//   the size changes, every track's line side is forgotten (a crossing in
//   progress at that moment is not counted); open visits are kept.
// Contract: every track passed to update() must eventually be passed to
// remove_tracks() (or appear in update() with state kRemoved), else its
// per-track memory is kept for the evaluator's lifetime.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "analytics/line.h"
#include "analytics/zone.h"
#include "core/error.h"
#include "core/event.h"
#include "core/track.h"

namespace vigil {

struct CrossingCounts {
  std::int64_t in = 0;
  std::int64_t out = 0;
};

struct LineCounts {
  CrossingCounts total;
  std::map<std::string, CrossingCounts> by_class;  // class name -> counts; only classes seen crossing
};

// Who is inside the zones at one moment (open visits, as occupancy() counts them).
struct ZonePresence {
  // track id -> names of the zones it is in, in config order.
  std::map<std::int64_t, std::vector<std::string>> track_zones;
  // zone name -> class name -> longest current stay (pts - enter pts), seconds.
  std::map<std::string, std::map<std::string, double>> dwell_max_s;
};

class AnalyticsEvaluator {
 public:
  // Validates every zone and line (paths "<path>.zones[i]", "<path>.lines[i]"),
  // that names are unique within zones and within lines, and that class
  // filters name classes of the model (when class_names is not empty).
  // `path` names the stream in the config, e.g. "streams[2]".
  static Result<AnalyticsEvaluator> create(std::string stream_id, std::vector<ZoneConfig> zones,
                                           std::vector<LineConfig> lines, std::vector<std::string> class_names,
                                           const std::string& path);

  // Assumes valid configs (see create). class_names[class_id] names Event::class_name
  // and is matched against class filters; ids without a name use class_name()'s
  // fallback (core/class_name.h).
  AnalyticsEvaluator(std::string stream_id, std::vector<ZoneConfig> zones, std::vector<LineConfig> lines,
                     std::vector<std::string> class_names);

  // Call on every analysed frame with the tracker's tracks. pts: media time
  // (s); frame_w/h: the source frame size the boxes refer to; wall_time: Unix
  // time (s). Events come in track order, for each track zones then lines.
  std::vector<Event> update(const std::vector<Track>& tracks, double pts, int frame_w, int frame_h,
                            double wall_time);

  // Tracks that are gone for good: closes their open visits (zone_exit,
  // appended to `out`) and forgets them. Unknown ids are ignored.
  void remove_tracks(const std::vector<Track>& gone, double pts, double wall_time, std::vector<Event>& out);

  // zone name -> class name -> tracks currently inside (open visits). Every
  // zone is present; classes with nobody inside are absent.
  std::map<std::string, std::map<std::string, int>> occupancy() const;
  // The open visits at media time pts (>= the last update's).
  ZonePresence presence(double pts) const;
  // line name -> counts since construction. Every line is present.
  const std::map<std::string, LineCounts>& line_counts() const { return line_counts_; }

  const std::string& stream_id() const { return stream_id_; }
  const std::vector<ZoneConfig>& zones() const { return zones_; }
  const std::vector<LineConfig>& lines() const { return lines_; }
  std::size_t tracks_remembered() const { return memos_.size(); }

 private:
  struct ZoneVisit {
    bool inside = false;
    bool dwell_emitted = false;
    double enter_pts = 0;
    double last_inside_pts = 0;
  };
  struct LineWatch {
    int side = 0;                  // -1 left, +1 right, 0 not known yet
    int pending_side = 0;          // side being confirmed (0: none)
    int pending_frames = 0;        // analysed frames seen on pending_side in a row
    bool pending_crossed = false;  // the step onto pending_side went through the segment
    bool has_last = false;         // `last` is set
    PointF last;                   // anchor at the last analysed frame with a known side, pixels
  };
  struct TrackMemo {
    int class_id = 0;
    std::vector<ZoneVisit> zones;  // [zone_idx]
    std::vector<LineWatch> lines;  // [line_idx]
  };

  std::string class_name(int class_id) const;
  static bool wanted(const std::vector<std::string>& filter, const std::string& name);
  void set_frame_size(int frame_w, int frame_h);
  Event make_event(EventKind kind, const Track& track, double pts, double wall_time) const;
  void update_zones(const Track& track, TrackMemo& memo, double pts, double wall_time, std::vector<Event>& out);
  void update_lines(const Track& track, TrackMemo& memo, double pts, double wall_time, std::vector<Event>& out);

  std::string stream_id_;
  std::vector<ZoneConfig> zones_;
  std::vector<LineConfig> lines_;
  std::vector<std::string> class_names_;  // [class_id]

  int frame_w_ = 0;
  int frame_h_ = 0;
  std::vector<std::vector<PointF>> zone_px_;  // [zone_idx] polygon in pixels of the current frame size
  std::vector<LineSegment> line_px_;          // [line_idx]

  std::unordered_map<std::int64_t, TrackMemo> memos_;  // track id -> per-track state
  std::map<std::string, LineCounts> line_counts_;
};

}  // namespace vigil
