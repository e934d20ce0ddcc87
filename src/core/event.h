// Event: something that happened on a stream (a track appeared, entered a
// zone, crossed a line, the stream went down...). Serialised to JSON Lines
// and SQLite; the schema is in docs/api.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace vigil {

enum class EventKind {
  kTrackNew,
  kTrackLost,
  kZoneEnter,
  kZoneExit,
  kDwell,
  kLineCross,
  kStreamUp,
  kStreamDown,
  kCaption,
};

const char* to_string(EventKind k);          // "track_new", "zone_enter", ...
std::optional<EventKind> parse_event_kind(const std::string& s);

struct Event {
  // "<stream>-<n>": n counts the events a stream published (1, 2, ...);
  // captions, published from the scheduler's worker, count apart
  // ("<stream>-caption-<n>"). So ids are unique per engine run and the same
  // in every `--offline` run of the same input (neither order depends on
  // thread timing).
  // Empty for events not published by a live stream (`vigil analyze`).
  std::string id;
  EventKind kind = EventKind::kTrackNew;
  std::string stream;       // stream id
  double pts = 0;           // media time, seconds
  double wall_time = 0;     // Unix time, seconds
  std::int64_t track_id = -1;  // -1: not about a track
  int class_id = -1;
  std::string class_name;   // empty when class_id < 0
  std::string zone;         // zone_enter / zone_exit / dwell
  std::string line;         // line_cross
  std::string direction;    // line_cross: "in" or "out"
  double dwell_s = 0;       // dwell, zone_exit: seconds spent in the zone
  std::string text;         // caption text, stream_down reason, ...
  double latency_ms = 0;    // caption: how long the captioner took
  std::string captioner;    // caption: "template" | "vlm"
  // Media of the event (the recorder, src/record/recorder.h): file paths,
  // "" = none. Set before the event is published, while the files are still
  // being written; a clip is shared by overlapping events.
  std::string snapshot;     // JPEG of the event's frame with its boxes
  std::string clip;         // MP4 from pre_s before to post_s after
  bool expired = false;     // retention deleted its media (the event store's rows)
};

struct Track;
// The event about `track` (id, class) at media time `pts`: the one builder
// for track and zone/line events; the caller fills what is kind-specific.
Event track_event(EventKind kind, const Track& track, std::string stream, std::string class_name, double pts,
                  double wall_time);

}  // namespace vigil
