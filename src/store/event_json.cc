#include "store/event_json.h"

#include <cmath>
#include <limits>

#include "core/round.h"

namespace vigil {

namespace {

bool has_dwell(EventKind k) { return k == EventKind::kZoneExit || k == EventKind::kDwell; }

Error field_error(const char* field, const char* problem) {
  return Error{ErrorCode::kBadInput, std::string("event JSON: field '") + field + "' " + problem};
}

// Each reader leaves `out` untouched when the key is absent; an error when it
// is present with the wrong type.
std::optional<Error> read_string(const nlohmann::json& j, const char* key, std::string& out, bool required) {
  const auto it = j.find(key);
  if (it == j.end()) return required ? std::optional(field_error(key, "is missing")) : std::nullopt;
  if (!it->is_string()) return field_error(key, "must be a string");
  out = it->get_ref<const std::string&>();
  return std::nullopt;
}

std::optional<Error> read_number(const nlohmann::json& j, const char* key, double& out, bool required) {
  const auto it = j.find(key);
  if (it == j.end()) return required ? std::optional(field_error(key, "is missing")) : std::nullopt;
  if (!it->is_number()) return field_error(key, "must be a number");
  const double v = it->get<double>();
  if (!std::isfinite(v)) return field_error(key, "must be finite");
  out = v;
  return std::nullopt;
}

template <class Int>
std::optional<Error> read_integer(const nlohmann::json& j, const char* key, Int& out) {
  const auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  if (!it->is_number_integer()) return field_error(key, "must be an integer");
  if (it->is_number_unsigned()) {
    const auto v = it->get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(std::numeric_limits<Int>::max())) return field_error(key, "is out of range");
    out = static_cast<Int>(v);
  } else {
    const auto v = it->get<std::int64_t>();
    if (v < std::numeric_limits<Int>::min() || v > std::numeric_limits<Int>::max())
      return field_error(key, "is out of range");
    out = static_cast<Int>(v);
  }
  return std::nullopt;
}

}  // namespace

double round_ms(double seconds) { return round3(seconds); }

nlohmann::json to_json(const Event& e) {
  nlohmann::json j = nlohmann::json::object();
  j["kind"] = to_string(e.kind);
  if (!e.id.empty()) j["id"] = e.id;
  j["stream"] = e.stream;
  j["pts"] = round_ms(e.pts);
  j["wall_time"] = round_ms(e.wall_time);
  if (e.track_id >= 0) j["track_id"] = e.track_id;
  if (e.class_id >= 0) {
    j["class_id"] = e.class_id;
    j["class"] = e.class_name;
  }
  if (!e.zone.empty()) j["zone"] = e.zone;
  if (!e.line.empty()) j["line"] = e.line;
  if (!e.direction.empty()) j["direction"] = e.direction;
  if (has_dwell(e.kind)) j["dwell_s"] = round_ms(e.dwell_s);
  if (!e.text.empty()) j["text"] = e.text;
  if (e.kind == EventKind::kCaption) {
    j["latency_ms"] = round1(e.latency_ms);
    if (!e.captioner.empty()) j["captioner"] = e.captioner;
  }
  if (!e.snapshot.empty()) j["has_snapshot"] = true;
  if (!e.clip.empty()) j["has_clip"] = true;
  if (e.expired) j["expired"] = true;
  return j;
}

namespace {

Result<Event> read_event(const nlohmann::json& j, bool wall_time_required) {
  if (!j.is_object()) return fail(ErrorCode::kBadInput, "event JSON: expected an object, got " + std::string(j.type_name()));
  Event e;
  std::string kind;
  if (auto err = read_string(j, "kind", kind, true)) return fail(*err);
  const auto parsed = parse_event_kind(kind);
  if (!parsed) return fail(ErrorCode::kBadInput, "event JSON: unknown kind '" + kind + "'");
  e.kind = *parsed;
  if (auto err = read_string(j, "id", e.id, false)) return fail(*err);
  if (auto err = read_string(j, "stream", e.stream, true)) return fail(*err);
  if (auto err = read_number(j, "pts", e.pts, true)) return fail(*err);
  if (auto err = read_number(j, "wall_time", e.wall_time, wall_time_required)) return fail(*err);
  if (auto err = read_integer(j, "track_id", e.track_id)) return fail(*err);
  if (auto err = read_integer(j, "class_id", e.class_id)) return fail(*err);
  if (auto err = read_string(j, "class", e.class_name, false)) return fail(*err);
  if (auto err = read_string(j, "zone", e.zone, false)) return fail(*err);
  if (auto err = read_string(j, "line", e.line, false)) return fail(*err);
  if (auto err = read_string(j, "direction", e.direction, false)) return fail(*err);
  if (auto err = read_number(j, "dwell_s", e.dwell_s, false)) return fail(*err);
  if (auto err = read_string(j, "text", e.text, false)) return fail(*err);
  if (auto err = read_number(j, "latency_ms", e.latency_ms, false)) return fail(*err);
  if (auto err = read_string(j, "captioner", e.captioner, false)) return fail(*err);
  return e;
}

}  // namespace

Result<Event> event_from_json(const nlohmann::json& j) { return read_event(j, true); }

Result<Event> offline_event_from_json(const nlohmann::json& j) { return read_event(j, false); }

nlohmann::json to_offline_json(const Event& event) {
  nlohmann::json j = to_json(event);
  j.erase("wall_time");
  return j;
}

}  // namespace vigil
