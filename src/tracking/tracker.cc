#include "tracking/tracker.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

namespace vigil {
namespace {

// ByteTrack's remove_duplicate_stracks: an active and a lost track this close
// are one object tracked twice.
constexpr float kDuplicateIou = 0.85F;

Result<void> bad_field(const char* field, const std::string& rule, double value) {
  std::ostringstream msg;
  msg << "tracker." << field << ": must be " << rule << " (got " << value << ")";
  return fail(ErrorCode::kInvalidArgument, msg.str());
}

bool in_unit_interval(double v) { return v > 0 && v <= 1; }  // (0, 1]; false for NaN

bool finite_box(const Box& b) {
  return std::isfinite(b.x1) && std::isfinite(b.y1) && std::isfinite(b.x2) && std::isfinite(b.y2);
}

struct ScoreSplit {
  std::vector<const Detection*> high;
  std::vector<const Detection*> low;
};

ScoreSplit split_by_score(const std::vector<Detection>& detections, const TrackerConfig& config) {
  ScoreSplit split;
  for (const Detection& d : detections) {
    if (!finite_box(d.box)) continue;
    if (d.score >= config.high_thresh) {
      split.high.push_back(&d);
    } else if (d.score >= config.low_thresh) {
      split.low.push_back(&d);
    }
  }
  return split;
}

template <class T>
std::vector<T> pick(const std::vector<T>& items, const std::vector<std::size_t>& indices) {
  std::vector<T> out;
  out.reserve(indices.size());
  for (std::size_t idx : indices) out.push_back(items[idx]);
  return out;
}

bool erase_by_id(std::vector<Track>& tracks, std::int64_t id) {
  const auto it = std::find_if(tracks.begin(), tracks.end(), [id](const Track& tr) { return tr.id == id; });
  if (it == tracks.end()) return false;
  tracks.erase(it);
  return true;
}

}  // namespace

Result<void> TrackerConfig::validate() const {
  if (!in_unit_interval(high_thresh)) return bad_field("high_thresh", "in (0, 1]", high_thresh);
  if (!(low_thresh >= 0 && low_thresh < high_thresh))
    return bad_field("low_thresh", "in [0, high_thresh)", low_thresh);
  if (!(new_track_thresh >= high_thresh && new_track_thresh <= 1))
    return bad_field("new_track_thresh", "in [high_thresh, 1]", new_track_thresh);
  if (!in_unit_interval(match_iou)) return bad_field("match_iou", "in (0, 1]", match_iou);
  if (!in_unit_interval(second_match_iou)) return bad_field("second_match_iou", "in (0, 1]", second_match_iou);
  if (!in_unit_interval(unconfirmed_match_iou))
    return bad_field("unconfirmed_match_iou", "in (0, 1]", unconfirmed_match_iou);
  if (!(lost_buffer_s >= 0 && std::isfinite(lost_buffer_s)))
    return bad_field("lost_buffer_s", "a finite number of seconds >= 0", lost_buffer_s);
  if (min_hits < 1) return bad_field("min_hits", ">= 1", min_hits);
  return {};
}

Tracker::Tracker(TrackerConfig config, TrackIdAllocator& ids) : config_(config), ids_(&ids) {
  if (auto ok = config_.validate(); !ok) throw std::invalid_argument(ok.error().message);
}

void Tracker::reset() {
  active_.clear();
  lost_.clear();
  last_t_ = 0;
  first_update_ = true;
}

Tracker::Update Tracker::update(const std::vector<Detection>& detections, double t) {
  const double now = first_update_ ? t : std::max(t, last_t_);
  predict_all(first_update_ ? 0.0 : now - last_t_);
  last_t_ = now;
  const ScoreSplit split = split_by_score(detections, config_);

  EntryRefs pool;  // confirmed and lost: what high detections are matched with first
  EntryRefs unconfirmed;
  for (Entry& e : active_) (e.track.state == TrackState::kConfirmed ? pool : unconfirmed).push_back(&e);
  for (Entry& e : lost_) pool.push_back(&e);

  Update out;
  const DetectionRefs left_high = match_confirmed(pool, split.high, split.low, now);
  const DetectionRefs unused_high = match_unconfirmed(unconfirmed, left_high, now, out);
  std::vector<Entry> newborn = start_tracks(unused_high, now, out);
  regroup(std::move(newborn));
  expire_lost(now, out);
  remove_duplicates(out);
  first_update_ = false;

  out.tracks.reserve(active_.size());
  for (const Entry& e : active_) out.tracks.push_back(e.track);
  return out;
}

// ByteTrack's first two associations. Returns the high detections left over.
Tracker::DetectionRefs Tracker::match_confirmed(const EntryRefs& pool, const DetectionRefs& high,
                                                const DetectionRefs& low, double now) {
  const Assignment first = associate(pool, high, config_.match_iou);
  for (auto [row, col] : first.matches) apply_match(*pool[row], *high[col], now);

  // Low detections are only trusted to extend tracks already on screen: a lost
  // track coming back on a low score is too likely a false positive.
  EntryRefs left_confirmed;
  for (std::size_t row : first.unmatched_rows) {
    if (pool[row]->track.state == TrackState::kConfirmed) {
      left_confirmed.push_back(pool[row]);
    } else {
      pool[row]->track.misses += 1;
    }
  }
  const Assignment second = associate(left_confirmed, low, config_.second_match_iou);
  for (auto [row, col] : second.matches) apply_match(*left_confirmed[row], *low[col], now);
  for (std::size_t row : second.unmatched_rows) {
    left_confirmed[row]->track.state = TrackState::kLost;
    left_confirmed[row]->track.misses += 1;
  }
  return pick(high, first.unmatched_cols);
}

// ByteTrack's third association. Returns the high detections still unused.
Tracker::DetectionRefs Tracker::match_unconfirmed(const EntryRefs& unconfirmed, const DetectionRefs& high,
                                                  double now, Update& out) {
  const Assignment third = associate(unconfirmed, high, config_.unconfirmed_match_iou);
  for (auto [row, col] : third.matches) {
    apply_match(*unconfirmed[row], *high[col], now);
    confirm_if_ready(*unconfirmed[row], out);
  }
  // A tentative track must be seen on consecutive analysed frames, or it was noise.
  for (std::size_t row : third.unmatched_rows) unconfirmed[row]->track.state = TrackState::kRemoved;
  return pick(high, third.unmatched_cols);
}

std::vector<Tracker::Entry> Tracker::start_tracks(const DetectionRefs& high, double now, Update& out) const {
  std::vector<Entry> newborn;
  for (const Detection* d : high) {
    if (d->score < config_.new_track_thresh) continue;
    newborn.push_back(start_track(*d, now));
    confirm_if_ready(newborn.back(), out);
  }
  return newborn;
}

std::vector<Track> Tracker::predict(double t) const {
  const double dt = std::max(0.0, t - last_t_);
  std::vector<Track> out;
  for (const Entry& e : active_) {
    if (e.track.state != TrackState::kConfirmed) continue;
    Track track = e.track;
    track.box = e.filter.predicted_box(dt);
    out.push_back(track);
  }
  return out;
}

std::vector<Box> Tracker::predicted_boxes(double t) const {
  const double dt = std::max(0.0, t - last_t_);
  std::vector<Box> out;
  for (const auto* list : {&active_, &lost_})
    for (const Entry& e : *list) out.push_back(e.filter.predicted_box(dt));
  return out;
}

void Tracker::apply_match(Entry& entry, const Detection& det, double t) {
  Track& track = entry.track;
  entry.filter.update(det.box);
  entry.last_observed = det.box;
  track.box = entry.filter.box();
  track.vx = entry.filter.vx();
  track.vy = entry.filter.vy();
  track.class_id = det.class_id;
  track.score = det.score;
  track.hits += 1;
  track.misses = 0;
  track.last_seen = t;
  if (track.state == TrackState::kLost) track.state = TrackState::kConfirmed;
}

// The last observed box rather than a prediction that may have drifted for
// seconds: that is where the object was last known to be.
Track Tracker::removal_report(const Entry& entry) {
  Track track = entry.track;
  track.state = TrackState::kRemoved;
  track.box = entry.last_observed;
  return track;
}

void Tracker::predict_all(double dt) {
  for (Entry& e : active_) {
    e.filter.predict(dt);
    e.track.box = e.filter.box();
  }
  for (Entry& e : lost_) {
    e.filter.hold_size();
    e.filter.predict(dt);
    e.track.box = e.filter.box();
  }
}

Assignment Tracker::associate(const EntryRefs& tracks, const DetectionRefs& dets, float min_iou) const {
  std::vector<Box> track_boxes;
  track_boxes.reserve(tracks.size());
  for (const Entry* e : tracks) track_boxes.push_back(e->track.box);
  std::vector<Box> det_boxes;
  det_boxes.reserve(dets.size());
  for (const Detection* d : dets) det_boxes.push_back(d->box);

  CostMatrix cost = iou_cost_matrix(track_boxes, det_boxes);
  if (config_.class_aware) {
    for (std::size_t track_idx = 0; track_idx < tracks.size(); ++track_idx)
      for (std::size_t det_idx = 0; det_idx < dets.size(); ++det_idx)
        if (tracks[track_idx]->track.class_id != dets[det_idx]->class_id)
          cost(track_idx, det_idx) = std::numeric_limits<double>::infinity();
  }
  return linear_assignment(cost, 1.0 - static_cast<double>(min_iou));
}

void Tracker::confirm_if_ready(Entry& entry, Update& out) const {
  if (entry.track.state != TrackState::kTentative) return;
  if (entry.track.hits < config_.min_hits && !first_update_) return;
  entry.track.state = TrackState::kConfirmed;
  out.born.push_back(entry.track);
}

Tracker::Entry Tracker::start_track(const Detection& det, double t) const {
  Entry e;
  e.filter.initiate(det.box);
  e.last_observed = det.box;
  e.track.id = ids_->next();
  e.track.box = e.filter.box();
  e.track.class_id = det.class_id;
  e.track.score = det.score;
  e.track.state = TrackState::kTentative;
  e.track.hits = 1;
  e.track.first_seen = t;
  e.track.last_seen = t;
  return e;
}

// Moves every entry to the list its state now says, drops removed tentative
// tracks, and keeps the active list in id order (the order callers see).
void Tracker::regroup(std::vector<Entry> newborn) {
  std::vector<Entry> active;
  std::vector<Entry> lost;
  auto place = [&](Entry& e) {
    switch (e.track.state) {
      case TrackState::kTentative:
      case TrackState::kConfirmed: active.push_back(std::move(e)); break;
      case TrackState::kLost: lost.push_back(std::move(e)); break;
      case TrackState::kRemoved: break;
    }
  };
  for (Entry& e : active_) place(e);
  for (Entry& e : lost_) place(e);
  for (Entry& e : newborn) place(e);
  auto by_id = [](const Entry& a, const Entry& b) { return a.track.id < b.track.id; };
  std::sort(active.begin(), active.end(), by_id);
  std::sort(lost.begin(), lost.end(), by_id);
  active_ = std::move(active);
  lost_ = std::move(lost);
}

void Tracker::expire_lost(double t, Update& out) {
  std::erase_if(lost_, [&](const Entry& e) {
    if (t - e.track.last_seen <= config_.lost_buffer_s) return false;
    out.lost.push_back(removal_report(e));
    return true;
  });
}

// ByteTrack's remove_duplicate_stracks: when an active and a lost track
// overlap almost entirely, the one tracked for longer survives (ties keep the
// lost one, as ByteTrack does).
void Tracker::remove_duplicates(Update& out) {
  std::vector<bool> drop_active(active_.size(), false);
  std::vector<bool> drop_lost(lost_.size(), false);
  for (std::size_t a = 0; a < active_.size(); ++a) {
    for (std::size_t l = 0; l < lost_.size(); ++l) {
      const Track& at = active_[a].track;
      const Track& lt = lost_[l].track;
      if (config_.class_aware && at.class_id != lt.class_id) continue;
      if (iou(at.box, lt.box) <= kDuplicateIou) continue;
      const bool active_is_older = at.last_seen - at.first_seen > lt.last_seen - lt.first_seen;
      (active_is_older ? drop_lost[l] : drop_active[a]) = true;
    }
  }
  auto prune = [&](std::vector<Entry>& entries, const std::vector<bool>& drop) {
    std::vector<Entry> kept;
    for (std::size_t idx = 0; idx < entries.size(); ++idx) {
      if (drop[idx]) {
        retire(entries[idx], out);
      } else {
        kept.push_back(std::move(entries[idx]));
      }
    }
    entries = std::move(kept);
  };
  prune(active_, drop_active);
  prune(lost_, drop_lost);
}

// A confirmed track that goes must be reported, unless it was born in this
// same update: then the caller never needs to hear of it at all.
void Tracker::retire(const Entry& entry, Update& out) const {
  if (entry.track.state == TrackState::kTentative) return;
  if (!erase_by_id(out.born, entry.track.id)) out.lost.push_back(removal_report(entry));
}

}  // namespace vigil
