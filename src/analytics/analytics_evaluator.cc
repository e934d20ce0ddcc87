#include "analytics/analytics_evaluator.h"

#include <algorithm>
#include <utility>

#include "core/class_name.h"

namespace vigil {

namespace {

int sign_of(double v) { return v > 0 ? 1 : (v < 0 ? -1 : 0); }

std::string class_list_hint(const std::vector<std::string>& class_names) {
  std::string hint = "the model has " + std::to_string(class_names.size()) + " classes: ";
  const std::size_t shown = std::min<std::size_t>(class_names.size(), 8);
  for (std::size_t class_idx = 0; class_idx < shown; ++class_idx) {
    if (class_idx > 0) hint += ", ";
    hint += class_names[class_idx];
  }
  if (shown < class_names.size()) hint += ", ...";
  return hint;
}

Result<void> check_known_classes(const std::vector<std::string>& filter, const std::vector<std::string>& class_names,
                                 const std::string& path) {
  if (class_names.empty()) return {};
  for (std::size_t filter_idx = 0; filter_idx < filter.size(); ++filter_idx)
    if (std::find(class_names.begin(), class_names.end(), filter[filter_idx]) == class_names.end())
      return fail(ErrorCode::kInvalidArgument, path + "[" + std::to_string(filter_idx) + "]: unknown class \"" +
                                                   filter[filter_idx] + "\" (" + class_list_hint(class_names) + ")");
  return {};
}

}  // namespace

Result<AnalyticsEvaluator> AnalyticsEvaluator::create(std::string stream_id, std::vector<ZoneConfig> zones,
                                                      std::vector<LineConfig> lines,
                                                      std::vector<std::string> class_names, const std::string& path) {
  for (std::size_t zone_idx = 0; zone_idx < zones.size(); ++zone_idx) {
    const std::string zone_path = path + ".zones[" + std::to_string(zone_idx) + "]";
    if (auto r = zones[zone_idx].validate(zone_path); !r) return fail(r.error());
    for (std::size_t other_idx = 0; other_idx < zone_idx; ++other_idx)
      if (zones[other_idx].name == zones[zone_idx].name)
        return fail(ErrorCode::kInvalidArgument, zone_path + ".name: \"" + zones[zone_idx].name +
                                                     "\" is already the name of zones[" +
                                                     std::to_string(other_idx) + "]");
    if (auto r = check_known_classes(zones[zone_idx].classes, class_names, zone_path + ".classes"); !r)
      return fail(r.error());
  }
  for (std::size_t line_idx = 0; line_idx < lines.size(); ++line_idx) {
    const std::string line_path = path + ".lines[" + std::to_string(line_idx) + "]";
    if (auto r = lines[line_idx].validate(line_path); !r) return fail(r.error());
    for (std::size_t other_idx = 0; other_idx < line_idx; ++other_idx)
      if (lines[other_idx].name == lines[line_idx].name)
        return fail(ErrorCode::kInvalidArgument, line_path + ".name: \"" + lines[line_idx].name +
                                                     "\" is already the name of lines[" +
                                                     std::to_string(other_idx) + "]");
    if (auto r = check_known_classes(lines[line_idx].classes, class_names, line_path + ".classes"); !r)
      return fail(r.error());
  }
  return AnalyticsEvaluator(std::move(stream_id), std::move(zones), std::move(lines), std::move(class_names));
}

AnalyticsEvaluator::AnalyticsEvaluator(std::string stream_id, std::vector<ZoneConfig> zones,
                                       std::vector<LineConfig> lines, std::vector<std::string> class_names)
    : stream_id_(std::move(stream_id)),
      zones_(std::move(zones)),
      lines_(std::move(lines)),
      class_names_(std::move(class_names)) {
  for (const LineConfig& line : lines_) line_counts_[line.name];
}

std::string AnalyticsEvaluator::class_name(int class_id) const { return vigil::class_name(class_names_, class_id); }

bool AnalyticsEvaluator::wanted(const std::vector<std::string>& filter, const std::string& name) {
  return filter.empty() || std::find(filter.begin(), filter.end(), name) != filter.end();
}

void AnalyticsEvaluator::set_frame_size(int frame_w, int frame_h) {
  if (frame_w == frame_w_ && frame_h == frame_h_) return;
  const bool resized = frame_w_ > 0;
  frame_w_ = frame_w;
  frame_h_ = frame_h;
  zone_px_.clear();
  for (const ZoneConfig& zone : zones_) zone_px_.push_back(zone_polygon_pixels(zone, frame_w, frame_h));
  line_px_.clear();
  for (const LineConfig& line : lines_) line_px_.push_back(line_segment_pixels(line, frame_w, frame_h));
  // Remembered anchors are in the old frame's pixels: comparing them with new
  // ones could invent or miss a crossing, so line sides start over.
  if (resized)
    for (auto& [track_id, memo] : memos_)
      for (LineWatch& watch : memo.lines) watch = LineWatch{};
}

Event AnalyticsEvaluator::make_event(EventKind kind, const Track& track, double pts, double wall_time) const {
  return track_event(kind, track, stream_id_, class_name(track.class_id), pts, wall_time);
}

std::vector<Event> AnalyticsEvaluator::update(const std::vector<Track>& tracks, double pts, int frame_w,
                                              int frame_h, double wall_time) {
  std::vector<Event> out;
  if (frame_w <= 0 || frame_h <= 0) return out;
  set_frame_size(frame_w, frame_h);
  std::vector<Track> removed;
  for (const Track& track : tracks) {
    if (track.state == TrackState::kRemoved) {
      removed.push_back(track);
      continue;
    }
    if (track.state != TrackState::kConfirmed) continue;
    auto [it, is_new] = memos_.try_emplace(track.id);
    TrackMemo& memo = it->second;
    if (is_new) {
      memo.zones.resize(zones_.size());
      memo.lines.resize(lines_.size());
    }
    memo.class_id = track.class_id;
    update_zones(track, memo, pts, wall_time, out);
    update_lines(track, memo, pts, wall_time, out);
  }
  if (!removed.empty()) remove_tracks(removed, pts, wall_time, out);
  return out;
}

void AnalyticsEvaluator::update_zones(const Track& track, TrackMemo& memo, double pts, double wall_time,
                                      std::vector<Event>& out) {
  const std::string name = class_name(track.class_id);
  for (std::size_t zone_idx = 0; zone_idx < zones_.size(); ++zone_idx) {
    const ZoneConfig& zone = zones_[zone_idx];
    ZoneVisit& visit = memo.zones[zone_idx];
    const bool inside_now =
        wanted(zone.classes, name) && point_in_polygon(zone_px_[zone_idx], anchor_point(track.box, zone.anchor));
    if (inside_now && !visit.inside) {
      visit = ZoneVisit{true, false, pts, pts};
      Event e = make_event(EventKind::kZoneEnter, track, pts, wall_time);
      e.zone = zone.name;
      out.push_back(std::move(e));
    } else if (!inside_now && visit.inside) {
      Event e = make_event(EventKind::kZoneExit, track, pts, wall_time);
      e.zone = zone.name;
      e.dwell_s = pts - visit.enter_pts;
      out.push_back(std::move(e));
      visit = ZoneVisit{};
    }
    if (!visit.inside) continue;
    visit.last_inside_pts = pts;
    if (zone.dwell_s > 0 && !visit.dwell_emitted && pts - visit.enter_pts >= zone.dwell_s) {
      visit.dwell_emitted = true;
      Event e = make_event(EventKind::kDwell, track, pts, wall_time);
      e.zone = zone.name;
      e.dwell_s = pts - visit.enter_pts;
      out.push_back(std::move(e));
    }
  }
}

void AnalyticsEvaluator::update_lines(const Track& track, TrackMemo& memo, double pts, double wall_time,
                                      std::vector<Event>& out) {
  const std::string name = class_name(track.class_id);
  for (std::size_t line_idx = 0; line_idx < lines_.size(); ++line_idx) {
    const LineConfig& line = lines_[line_idx];
    if (!wanted(line.classes, name)) continue;
    const LineSegment& seg = line_px_[line_idx];
    LineWatch& watch = memo.lines[line_idx];
    const PointF p = anchor_point(track.box, line.anchor);
    const int side = sign_of(side_of_line(seg.a, seg.b, p));
    if (side == 0) continue;  // exactly on the line: no evidence either way
    if (watch.side == 0) {
      watch.side = side;
    } else if (side == watch.side) {
      watch.pending_side = 0;  // back where it was: a flicker, not a crossing
      watch.pending_frames = 0;
      watch.pending_crossed = false;
    } else {
      if (watch.pending_side != side) {
        watch.pending_side = side;
        watch.pending_frames = 0;
        watch.pending_crossed = watch.has_last && step_crosses_segment(seg.a, seg.b, watch.last, p);
      }
      if (++watch.pending_frames >= line.min_frames) {
        if (watch.pending_crossed) {
          const bool in = watch.side < 0;  // left -> right
          Event e = make_event(EventKind::kLineCross, track, pts, wall_time);
          e.line = line.name;
          e.direction = in ? "in" : "out";
          out.push_back(std::move(e));
          LineCounts& counts = line_counts_[line.name];
          CrossingCounts& per_class = counts.by_class[name];
          (in ? counts.total.in : counts.total.out) += 1;
          (in ? per_class.in : per_class.out) += 1;
        }
        watch.side = side;
        watch.pending_side = 0;
        watch.pending_frames = 0;
        watch.pending_crossed = false;
      }
    }
    watch.last = p;
    watch.has_last = true;
  }
}

void AnalyticsEvaluator::remove_tracks(const std::vector<Track>& gone, double pts, double wall_time,
                                       std::vector<Event>& out) {
  for (const Track& track : gone) {
    auto it = memos_.find(track.id);
    if (it == memos_.end()) continue;
    for (std::size_t zone_idx = 0; zone_idx < zones_.size(); ++zone_idx) {
      const ZoneVisit& visit = it->second.zones[zone_idx];
      if (!visit.inside) continue;
      Event e = make_event(EventKind::kZoneExit, track, pts, wall_time);
      e.zone = zones_[zone_idx].name;
      e.dwell_s = visit.last_inside_pts - visit.enter_pts;
      out.push_back(std::move(e));
    }
    memos_.erase(it);
  }
}

std::map<std::string, std::map<std::string, int>> AnalyticsEvaluator::occupancy() const {
  std::map<std::string, std::map<std::string, int>> result;
  for (const ZoneConfig& zone : zones_) result[zone.name];
  for (const auto& [track_id, memo] : memos_)
    for (std::size_t zone_idx = 0; zone_idx < zones_.size(); ++zone_idx)
      if (memo.zones[zone_idx].inside) ++result[zones_[zone_idx].name][class_name(memo.class_id)];
  return result;
}

ZonePresence AnalyticsEvaluator::presence(double pts) const {
  ZonePresence out;
  for (const auto& [track_id, memo] : memos_) {
    for (std::size_t zone_idx = 0; zone_idx < zones_.size(); ++zone_idx) {
      const ZoneVisit& visit = memo.zones[zone_idx];
      if (!visit.inside) continue;
      const std::string& zone = zones_[zone_idx].name;
      out.track_zones[track_id].push_back(zone);
      double& longest = out.dwell_max_s[zone][class_name(memo.class_id)];
      longest = std::max(longest, pts - visit.enter_pts);
    }
  }
  return out;
}

}  // namespace vigil
