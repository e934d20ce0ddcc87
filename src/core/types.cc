#include "core/event.h"
#include "core/track.h"
#include <utility>

namespace vigil {

const char* to_string(TrackState s) {
  switch (s) {
    case TrackState::kTentative: return "tentative";
    case TrackState::kConfirmed: return "confirmed";
    case TrackState::kLost: return "lost";
    case TrackState::kRemoved: return "removed";
  }
  return "?";
}

namespace {
constexpr std::pair<EventKind, const char*> kKinds[] = {
    {EventKind::kTrackNew, "track_new"},   {EventKind::kTrackLost, "track_lost"},
    {EventKind::kZoneEnter, "zone_enter"}, {EventKind::kZoneExit, "zone_exit"},
    {EventKind::kDwell, "dwell"},          {EventKind::kLineCross, "line_cross"},
    {EventKind::kStreamUp, "stream_up"},   {EventKind::kStreamDown, "stream_down"},
    {EventKind::kCaption, "caption"},
};
}  // namespace

const char* to_string(EventKind k) {
  for (const auto& [kind, name] : kKinds)
    if (kind == k) return name;
  return "?";
}

std::optional<EventKind> parse_event_kind(const std::string& s) {
  for (const auto& [kind, name] : kKinds)
    if (s == name) return kind;
  return std::nullopt;
}

Event track_event(EventKind kind, const Track& track, std::string stream, std::string class_name, double pts,
                  double wall_time) {
  Event e;
  e.kind = kind;
  e.stream = std::move(stream);
  e.pts = pts;
  e.wall_time = wall_time;
  e.track_id = track.id;
  e.class_id = track.class_id;
  e.class_name = std::move(class_name);
  return e;
}

}  // namespace vigil
