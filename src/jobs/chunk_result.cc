#include "jobs/chunk_result.h"

#include <charconv>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/round.h"
#include "store/event_json.h"

namespace vigil {
namespace {

using json = nlohmann::json;

// ---- writing ----

json box_json(const Box& b) {
  const auto r = [](float v) { return round1(static_cast<double>(v)); };
  return json::array({r(b.x1), r(b.y1), r(b.x2), r(b.y2)});
}

json sample_json(const ChunkSample& s) {
  json counts = json::object();
  for (const auto& [cls, n] : s.counts) counts[std::to_string(cls)] = n;
  return json::array({round3(s.t), round3(s.pts), std::move(counts)});
}

json track_json(const ChunkTrack& t) {
  return {{"id", t.id},
          {"class", t.class_id},
          {"first", round3(t.first)},
          {"last", round3(t.last)},
          {"hits", t.hits},
          {"score", round3(t.score)},
          {"first_box", box_json(t.first_box)},
          {"last_box", box_json(t.last_box)},
          {"open", t.open}};
}

json event_json(const ChunkEvent& e) {
  json j = to_offline_json(e.event);
  if (e.boundary) j["boundary"] = true;
  return j;
}

}  // namespace

json stats_json(const ChunkStats& s) {
  return {{"seeks", s.seeks},
          {"frames_decoded", s.frames_decoded},
          {"packets_decoded", s.packets_decoded},
          {"packets_dropped", s.packets_dropped},
          {"damage_errors", s.damage_errors},
          {"packets_skipped", s.packets_skipped},
          {"decode_ms", s.decode_ms},
          {"convert_ms", s.convert_ms},
          {"elapsed_s", s.elapsed_s}};
}

namespace {

// ---- reading ----

// A field that is missing or of the wrong type; caught in parse_chunk_result
// (never leaves this file).
struct FieldError {
  std::string message;
};

[[noreturn]] void bad(const std::string& path, const std::string& problem) { throw FieldError{path + ": " + problem}; }

const json& member(const json& j, const std::string& path, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) bad(path.empty() ? key : path + "." + key, "missing");
  return *it;
}

std::string sub(const std::string& path, const char* key) { return path.empty() ? key : path + "." + key; }
std::string at(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

double number(const json& j, const std::string& path) {
  if (!j.is_number()) bad(path, "must be a number");
  return j.get<double>();
}

template <class Int>
Int integer(const json& j, const std::string& path) {
  if (!j.is_number_integer()) bad(path, "must be an integer");
  if (j.is_number_unsigned()) {
    const auto v = j.get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(std::numeric_limits<Int>::max())) bad(path, "is out of range");
    return static_cast<Int>(v);
  }
  const auto v = j.get<std::int64_t>();
  if (v < std::numeric_limits<Int>::min() || v > std::numeric_limits<Int>::max()) bad(path, "is out of range");
  return static_cast<Int>(v);
}

std::string str(const json& j, const std::string& path) {
  if (!j.is_string()) bad(path, "must be a string");
  return j.get<std::string>();
}

bool boolean(const json& j, const std::string& path) {
  if (!j.is_boolean()) bad(path, "must be true or false");
  return j.get<bool>();
}

const json& as_array(const json& j, const std::string& path, std::size_t size = 0) {
  if (!j.is_array()) bad(path, "must be an array");
  if (size > 0 && j.size() != size) bad(path, "must have " + std::to_string(size) + " elements");
  return j;
}

double number_at(const json& j, const std::string& path, const char* key) { return number(member(j, path, key), sub(path, key)); }
std::string string_at(const json& j, const std::string& path, const char* key) {
  return str(member(j, path, key), sub(path, key));
}

Box box(const json& j, const std::string& path) {
  as_array(j, path, 4);
  Box b;
  b.x1 = static_cast<float>(number(j[0], at(path, 0)));
  b.y1 = static_cast<float>(number(j[1], at(path, 1)));
  b.x2 = static_cast<float>(number(j[2], at(path, 2)));
  b.y2 = static_cast<float>(number(j[3], at(path, 3)));
  return b;
}

ChunkSample sample(const json& j, const std::string& path) {
  as_array(j, path, 3);
  ChunkSample s;
  s.t = number(j[0], at(path, 0));
  s.pts = number(j[1], at(path, 1));
  const std::string counts_path = at(path, 2);
  if (!j[2].is_object()) bad(counts_path, "must be an object");
  for (const auto& [key, value] : j[2].items()) {
    int cls = 0;
    const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), cls);
    if (ec != std::errc() || end != key.data() + key.size() || cls < 0)
      bad(counts_path, "key '" + key + "' is not a class id");
    s.counts[cls] = integer<int>(value, counts_path + "." + key);
  }
  return s;
}

ChunkTrack track(const json& j, const std::string& path) {
  ChunkTrack t;
  t.id = integer<std::int64_t>(member(j, path, "id"), sub(path, "id"));
  t.class_id = integer<int>(member(j, path, "class"), sub(path, "class"));
  t.first = number_at(j, path, "first");
  t.last = number_at(j, path, "last");
  t.hits = integer<int>(member(j, path, "hits"), sub(path, "hits"));
  t.score = number_at(j, path, "score");
  t.first_box = box(member(j, path, "first_box"), sub(path, "first_box"));
  t.last_box = box(member(j, path, "last_box"), sub(path, "last_box"));
  t.open = boolean(member(j, path, "open"), sub(path, "open"));
  return t;
}

ChunkEvent event(const json& j, const std::string& path) {
  ChunkEvent e;
  auto parsed = offline_event_from_json(j);
  if (!parsed) bad(path, parsed.error().message);
  e.event = std::move(*parsed);
  if (const auto it = j.find("boundary"); it != j.end()) e.boundary = boolean(*it, sub(path, "boundary"));
  return e;
}

ChunkThumb thumb(const json& j, const std::string& path) {
  ChunkThumb t;
  t.t = number_at(j, path, "t");
  t.pts = number_at(j, path, "pts");
  t.count = integer<int>(member(j, path, "count"), sub(path, "count"));
  t.jpeg_base64 = string_at(j, path, "jpeg");
  return t;
}

ChunkCaption caption(const json& j, const std::string& path) {
  ChunkCaption c;
  c.t = number_at(j, path, "t");
  c.pts = number_at(j, path, "pts");
  if (j.contains("text")) {
    c.text = string_at(j, path, "text");
  } else {
    c.ok = false;
    c.text = string_at(j, path, "error");
  }
  return c;
}

ChunkDamage damage(const json& j, const std::string& path) {
  ChunkDamage d;
  d.from = number_at(j, path, "from");
  d.to = number_at(j, path, "to");
  d.samples_lost = integer<std::int64_t>(member(j, path, "samples_lost"), sub(path, "samples_lost"));
  d.error = string_at(j, path, "error");
  return d;
}

// stats: every figure optional (0 when absent).
ChunkStats stats(const json& j, const std::string& path) {
  if (!j.is_object()) bad(path, "must be an object");
  ChunkStats s;
  const auto count = [&](const char* key, std::int64_t& out) {
    if (j.contains(key)) out = integer<std::int64_t>(j[key], sub(path, key));
  };
  const auto real = [&](const char* key, double& out) {
    if (j.contains(key)) out = number(j[key], sub(path, key));
  };
  count("seeks", s.seeks);
  count("frames_decoded", s.frames_decoded);
  count("packets_decoded", s.packets_decoded);
  count("packets_dropped", s.packets_dropped);
  count("damage_errors", s.damage_errors);
  count("packets_skipped", s.packets_skipped);
  real("decode_ms", s.decode_ms);
  real("convert_ms", s.convert_ms);
  real("elapsed_s", s.elapsed_s);
  return s;
}

// Each element of j[key] through read, into out; absent is an error only if required.
template <class T, class F>
void list(const json& j, const char* key, bool required, std::vector<T>& out, F read) {
  const auto it = j.find(key);
  if (it == j.end()) {
    if (required) bad(key, "missing");
    return;
  }
  as_array(*it, key);
  for (std::size_t i = 0; i < it->size(); ++i) out.push_back(read((*it)[i], at(key, i)));
}

ChunkResult chunk_result(const json& j) {
  ChunkResult r;
  list(j, "samples", true, r.samples, sample);
  list(j, "tracks", true, r.tracks, track);
  list(j, "events", true, r.events, event);
  list(j, "thumbs", false, r.thumbs, thumb);
  if (j.contains("captions")) {
    r.captions.emplace();
    list(j, "captions", true, *r.captions, caption);
  }
  list(j, "damaged", false, r.damaged, damage);
  if (const auto it = j.find("frame"); it != j.end()) {
    as_array(*it, "frame", 2);
    r.frame_w = integer<int>((*it)[0], "frame[0]");
    r.frame_h = integer<int>((*it)[1], "frame[1]");
  }
  if (const auto it = j.find("stats"); it != j.end()) r.stats = stats(*it, "stats");
  return r;
}

}  // namespace

ChunkStats& ChunkStats::operator+=(const ChunkStats& o) {
  seeks += o.seeks;
  frames_decoded += o.frames_decoded;
  packets_decoded += o.packets_decoded;
  packets_dropped += o.packets_dropped;
  damage_errors += o.damage_errors;
  packets_skipped += o.packets_skipped;
  decode_ms += o.decode_ms;
  convert_ms += o.convert_ms;
  elapsed_s += o.elapsed_s;
  return *this;
}

std::string to_text(const ChunkResult& r) {
  json out = json::object();
  const auto each = [](const auto& items, auto write) {
    json a = json::array();
    for (const auto& x : items) a.push_back(write(x));
    return a;
  };
  out["samples"] = each(r.samples, sample_json);
  out["tracks"] = each(r.tracks, track_json);
  out["events"] = each(r.events, event_json);
  out["thumbs"] = each(r.thumbs, [](const ChunkThumb& t) -> json {
    return {{"t", round3(t.t)}, {"pts", round3(t.pts)}, {"count", t.count}, {"jpeg", t.jpeg_base64}};
  });
  if (r.captions)
    out["captions"] = each(*r.captions, [](const ChunkCaption& c) -> json {
      return {{"t", round3(c.t)}, {"pts", round3(c.pts)}, {c.ok ? "text" : "error", c.text}};
    });
  out["damaged"] = each(r.damaged, [](const ChunkDamage& d) -> json {
    return {{"from", round3(d.from)}, {"to", round3(d.to)}, {"samples_lost", d.samples_lost}, {"error", d.error}};
  });
  out["frame"] = {r.frame_w, r.frame_h};
  out["stats"] = stats_json(r.stats);
  // Replace, not throw, on invalid UTF-8 (an error message quoting a file name).
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<ChunkResult> parse_chunk_result(std::string_view text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return fail(ErrorCode::kBadInput, "not a chunk result: not valid JSON");
  if (!j.is_object())
    return fail(ErrorCode::kBadInput, "not a chunk result: a JSON " + std::string(j.type_name()) + ", not an object");
  try {
    return chunk_result(j);
  } catch (const FieldError& e) {
    return fail(ErrorCode::kBadInput, "not a chunk result: " + e.message);
  }
}

}  // namespace vigil
