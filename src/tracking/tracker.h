// Tracker: ByteTrack-style multi-object tracking for one stream, in media time.
//
// Inputs: the detections of each analysed frame (source-frame pixels) with the
// frame's media time in seconds. Outputs: tracks with ids that stay stable while
// the object stays in view, plus the confirmations and removals that happened,
// so the caller can emit track_new / track_lost events.
//
// Ownership: the Tracker owns its tracks; it borrows the stream's (or offline
// chunk's) TrackIdAllocator, which must outlive it (AnalysisState,
// pipeline/analysis_stage.h, holds both).
// Threading: not thread-safe. One Tracker per stream, called only from that
// stream's thread.
#pragma once

#include <cstddef>
#include <vector>

#include "core/detection.h"
#include "core/error.h"
#include "core/track.h"
#include "tracking/assignment.h"
#include "tracking/kalman_filter.h"

namespace vigil {

struct TrackerConfig {
  // Detections scoring at least this are "high": they take part in the first
  // association and may start tracks. (ByteTrack track_thresh.)
  float high_thresh = 0.5F;
  // Detections scoring in [low_thresh, high_thresh) only extend tracks that
  // are already confirmed (ByteTrack's second association); below: ignored.
  float low_thresh = 0.1F;
  // An unmatched high detection starts a track only if it scores at least
  // this; must be >= high_thresh. (ByteTrack det_thresh = track_thresh + 0.1.)
  float new_track_thresh = 0.6F;
  // Minimum IoU for the first association (high detections with confirmed and
  // lost tracks). ByteTrack match_thresh 0.8 is a cost, 1 - 0.8 = 0.2 IoU.
  float match_iou = 0.2F;
  // Minimum IoU for the second association (low detections with confirmed
  // tracks left over); stricter because low scores are often false positives.
  float second_match_iou = 0.5F;
  // Minimum IoU for matching a tentative track with a leftover high detection.
  float unconfirmed_match_iou = 0.3F;
  // A lost track is kept this long after its last match, in media seconds,
  // waiting for the object to come back; then it is removed.
  double lost_buffer_s = 2.0;
  // Matches (including the first detection) a track needs to be confirmed.
  // A tentative track that misses one analysed frame is dropped. Tracks born in
  // the first analysed frame of a stream are confirmed at once, as in ByteTrack.
  int min_hits = 2;
  // A detection only matches tracks of its own class.
  bool class_aware = true;

  // Checks every field; the error names the first bad one.
  Result<void> validate() const;
};

class Tracker {
 public:
  struct Update {
    // Active tracks (tentative and confirmed) after this frame, by ascending id,
    // with their filtered boxes at the frame's time.
    std::vector<Track> tracks;
    // Tracks that became confirmed in this update: each id appears here at
    // most once in its life. A lost track that comes back is not born again.
    std::vector<Track> born;
    // Confirmed tracks removed in this update (state kRemoved, box = last
    // observed box): the lost-track buffer ran out, or a duplicate of an older
    // track was dropped. Each id that was born appears here at most once.
    std::vector<Track> lost;
  };

  // Throws std::invalid_argument (with validate()'s message) on a bad config:
  // this only happens at start-up.
  Tracker(TrackerConfig config, TrackIdAllocator& ids);

  // Feeds one analysed frame at media time t (seconds). Times must not
  // decrease; a time earlier than the previous one is treated as equal to it.
  Update update(const std::vector<Detection>& detections, double t);

  // Confirmed tracks with their boxes extrapolated to time t (>= the last
  // update; earlier is treated as the last update), by ascending id. Changes
  // nothing: called on every displayed frame so boxes move between analysed frames.
  std::vector<Track> predict(double t) const;
  // The boxes of every track held (tentative, confirmed and lost), extrapolated
  // to time t like predict(): where objects may be (motion regions).
  std::vector<Box> predicted_boxes(double t) const;

  // Forgets every track, reporting nothing (the caller ends them itself), and
  // makes the next update the stream's first analysed frame again.
  void reset();

  // Tracks held: tentative, confirmed and lost.
  std::size_t size() const { return active_.size() + lost_.size(); }

  const TrackerConfig& config() const { return config_; }

 private:
  struct Entry {
    Track track;
    KalmanFilter filter;
    Box last_observed;
  };
  using EntryRefs = std::vector<Entry*>;
  using DetectionRefs = std::vector<const Detection*>;

  static void apply_match(Entry& entry, const Detection& det, double t);
  static Track removal_report(const Entry& entry);

  void predict_all(double dt);
  DetectionRefs match_confirmed(const EntryRefs& pool, const DetectionRefs& high, const DetectionRefs& low,
                                double now);
  DetectionRefs match_unconfirmed(const EntryRefs& unconfirmed, const DetectionRefs& high, double now,
                                  Update& out);
  std::vector<Entry> start_tracks(const DetectionRefs& high, double now, Update& out) const;
  Assignment associate(const EntryRefs& tracks, const DetectionRefs& dets, float min_iou) const;
  void confirm_if_ready(Entry& entry, Update& out) const;
  Entry start_track(const Detection& det, double t) const;
  void regroup(std::vector<Entry> newborn);
  void expire_lost(double t, Update& out);
  void remove_duplicates(Update& out);
  void retire(const Entry& entry, Update& out) const;

  TrackerConfig config_;
  TrackIdAllocator* ids_;
  std::vector<Entry> active_;  // tentative + confirmed
  std::vector<Entry> lost_;
  double last_t_ = 0;
  bool first_update_ = true;
};

}  // namespace vigil
