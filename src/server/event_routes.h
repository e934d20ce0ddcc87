// GET /api/events: the stored events, filtered (docs/api.md, "Events").
// Pure parsing plus one engine call; safe from any thread.
#pragma once

#include <string>

#include "server/api_response.h"
#include "server/stream_engine.h"

namespace vigil {

// stream, zone, kind (exact), since (Unix seconds), limit (an integer);
// kInvalidArgument names an unknown parameter or a value that is not a number.
Result<EventQuery> parse_event_query(const std::string& query);

// 503 without an event store; 400 for a bad query (also a limit out of 1..10000).
ApiResponse get_events(StreamEngine& engine, const std::string& query);

}  // namespace vigil
