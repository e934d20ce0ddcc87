#include "server/event_routes.h"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "server/url_codec.h"
#include "store/event_json.h"

namespace vigil {

Result<EventQuery> parse_event_query(const std::string& query) {
  EventQuery q;
  for (const auto& [key, value] : parse_query(query)) {
    try {
      std::size_t used = 0;
      if (key == "stream") {
        q.stream = value;
      } else if (key == "zone") {
        q.zone = value;
      } else if (key == "kind") {
        q.kind = value;
      } else if (key == "since") {
        q.since = std::stod(value, &used);
        if (used != value.size()) throw std::invalid_argument(value);
      } else if (key == "limit") {
        q.limit = std::stoi(value, &used);
        if (used != value.size()) throw std::invalid_argument(value);
      } else {
        return fail(ErrorCode::kInvalidArgument,
                    "query parameter '" + key + "' is unknown (stream, zone, kind, since, limit)");
      }
    } catch (const std::logic_error&) {
      return fail(ErrorCode::kInvalidArgument, "query parameter " + key + "='" + value + "' is not a number");
    }
  }
  return q;
}

ApiResponse get_events(StreamEngine& engine, const std::string& query) {
  if (!engine.has_event_store())
    return json_error(503, "no event store: start the engine with events.sqlite to query events");
  auto q = parse_event_query(query);
  if (!q) return bad_request(q.error());
  auto events = engine.query_events(*q);
  if (!events) return error_response(events.error());
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : *events) list.push_back(to_json(e));
  return json_ok({{"events", list}});
}

}  // namespace vigil
