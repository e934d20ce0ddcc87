#include "core/event.h"
#include "core/track.h"

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

}  // namespace vigil
