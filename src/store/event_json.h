// Event <-> JSON: the one place that defines an event's JSON shape, shared by
// the JSON Lines sink, the HTTP API and the WebSocket feed (docs/api.md,
// "Events").
//
// Always present: "kind" (to_string(EventKind)), "stream", "pts" (media
// seconds) and "wall_time" (Unix seconds), both rounded to 1e-3.
// Present only where they apply:
//   "id"                  non-empty: "<stream>-<n>" (Event::id; live and
//                         `vigil run --offline` events, not `vigil analyze`)
//   "track_id"            track_id >= 0
//   "class", "class_id"   class_id >= 0
//   "zone"                non-empty (zone_enter / zone_exit / dwell)
//   "line", "direction"   non-empty (line_cross)
//   "dwell_s"             kinds zone_exit and dwell (1e-3)
//   "text"                non-empty (caption text, stream_down reason)
//   "latency_ms"          kind caption (1e-1)
//   "captioner"           kind caption, non-empty ("template" | "vlm")
//   "has_snapshot"        true: the recorder writes a snapshot (Event::snapshot)
//   "has_clip"            true: the event has a clip (Event::clip)
//   "expired"             true: retention deleted its media (stored events)
// (the media's paths stay inside: the API serves them by the event's id).
// Keys come out sorted (nlohmann::json's std::map), so the text is
// deterministic for a given event.
//
// Pure functions: no I/O, no threads; safe from any thread.
#pragma once

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/event.h"

namespace vigil {

nlohmann::json to_json(const Event& event);

// The inverse of to_json. Unknown keys are ignored (newer writers may add
// fields); a missing or mistyped known field is kBadInput naming the field.
// Never throws.
Result<Event> event_from_json(const nlohmann::json& j);

// Offline events (chunk results, a job's events.jsonl and results.json) have
// no wall clock: the same JSON without "wall_time", and its inverse, for
// which "wall_time" is optional (0 when absent).
nlohmann::json to_offline_json(const Event& event);
Result<Event> offline_event_from_json(const nlohmann::json& j);

// Round to the millisecond, the precision of every time in event JSON
// (round3, core/round.h).
double round_ms(double seconds);

}  // namespace vigil
