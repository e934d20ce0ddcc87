// GET /api/events: the stored events, filtered (docs/api.md, "Events").
// Pure parsing plus one engine call; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "server/api_response.h"
#include "server/stream_engine.h"

namespace vigil {

// stream, zone, kind (exact), since (Unix seconds), limit (an integer);
// kInvalidArgument names an unknown parameter or a value that is not a number.
Result<EventQuery> parse_event_query(const std::string& query);

// 503 without an event store; 400 for a bad query (also a limit out of 1..10000).
ApiResponse get_events(StreamEngine& engine, const std::string& query);

// GET /api/events/{id}/snapshot.jpg and /clip.mp4: the file of a stored
// event. 404 for an unknown id, an event without that media or a file not
// written (yet); 410 once retention deleted it (expired); 503 without an
// event store. `range` (a Range header, "bytes=a-b", "bytes=a-" or
// "bytes=-n"): 206 with that part, 416 when it lies outside the file.
enum class EventMedia { kSnapshot, kClip };
ApiResponse get_event_media(StreamEngine& engine, const std::string& id, EventMedia media, const std::string& range);

// The bytes [first, last] a Range header asks of a file of `size` bytes;
// nullopt when unsatisfiable or not one "bytes=" range. Pure.
struct ByteRange {
  std::uint64_t first = 0, last = 0;
};
std::optional<ByteRange> parse_byte_range(const std::string& header, std::uint64_t size);

}  // namespace vigil
