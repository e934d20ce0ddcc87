#include "server/event_routes.h"

#include <filesystem>
#include <fstream>
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

std::optional<ByteRange> parse_byte_range(const std::string& header, std::uint64_t size) {
  const std::string prefix = "bytes=";
  if (header.rfind(prefix, 0) != 0 || size == 0) return std::nullopt;
  const std::string spec = header.substr(prefix.size());
  const std::size_t dash = spec.find('-');
  if (dash == std::string::npos || spec.find(',') != std::string::npos) return std::nullopt;
  const std::string a = spec.substr(0, dash), b = spec.substr(dash + 1);
  const auto number = [](const std::string& s) -> std::optional<std::uint64_t> {
    if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    return std::stoull(s);
  };
  ByteRange r;
  if (a.empty()) {  // the last n bytes
    const auto n = number(b);
    if (!n || *n == 0) return std::nullopt;
    r.first = *n >= size ? 0 : size - *n;
    r.last = size - 1;
    return r;
  }
  const auto first = number(a);
  if (!first || *first >= size) return std::nullopt;
  r.first = *first;
  r.last = size - 1;
  if (!b.empty()) {
    const auto last = number(b);
    if (!last || *last < r.first) return std::nullopt;
    r.last = std::min(*last, size - 1);
  }
  return r;
}

namespace {

ApiResponse media_file_response(const std::string& path, const std::string& type, const std::string& range,
                                const std::string& what) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return json_error(404, what + " is not written (yet)");
  std::uint64_t first = 0, count = size;
  ApiResponse out;
  out.content_type = type;
  out.headers.push_back({"Accept-Ranges", "bytes"});
  if (!range.empty()) {
    const auto r = parse_byte_range(range, size);
    if (!r) {
      ApiResponse bad = json_error(416, "Range '" + range + "' is not within the " + std::to_string(size) + " bytes of " + what);
      bad.headers.push_back({"Content-Range", "bytes */" + std::to_string(size)});
      return bad;
    }
    first = r->first;
    count = r->last - r->first + 1;
    out.status = 206;
    out.headers.push_back({"Content-Range", "bytes " + std::to_string(r->first) + "-" + std::to_string(r->last) + "/" +
                                                std::to_string(size)});
  }
  std::ifstream f(path, std::ios::binary);
  out.body.resize(count);
  if (!f || !f.seekg(static_cast<std::streamoff>(first)) ||
      !f.read(out.body.data(), static_cast<std::streamsize>(count)))
    return json_error(404, what + " cannot be read");
  return out;
}

}  // namespace

ApiResponse get_event_media(StreamEngine& engine, const std::string& id, EventMedia media, const std::string& range) {
  // The boundary of the route: nothing thrown below leaves it.
  try {
    if (!engine.has_event_store())
      return json_error(503, "no event store: start the engine with events.sqlite to serve event media");
    auto found = engine.find_event(id);
    if (!found) return error_response(found.error());
    if (!*found) return json_error(404, "no event '" + id + "'");
    const Event& e = **found;
    const bool snapshot = media == EventMedia::kSnapshot;
    const std::string& path = snapshot ? e.snapshot : e.clip;
    const std::string what = "event '" + id + "': " + (snapshot ? "snapshot" : "clip");
    if (path.empty()) return json_error(404, "event '" + id + "' has no " + (snapshot ? "snapshot" : "clip"));
    if (e.expired) return json_error(410, what + " expired (deleted by retention)");
    return media_file_response(path, snapshot ? "image/jpeg" : "video/mp4", range, what);
  } catch (const std::exception& ex) {
    return json_error(500, "event '" + id + "' media: " + ex.what());
  }
}

}  // namespace vigil
