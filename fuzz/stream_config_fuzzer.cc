// libFuzzer harness: the stream JSON of the HTTP API and the YAML config.
// Input: byte 0 picks what the rest is ('0'..'4', any byte works):
//   0: a POST /api/streams body -> stream_config_from_json (and, when that
//      succeeds, its round trip through stream_config_json)
//   1: a PATCH body -> merge_stream_patch onto a full stream, then
//      stream_config_from_json of the result
//   2: a config file's text -> parse_config, then apply_env_overrides
//   3: the same text through load_config_file (a temp file)
//   4: a source URL -> parse_source_url, redact_url, redact_urls_in
// JSON bodies go through parse_json_body, as the API parses them.
// Any Result is fine; an exception escaping (abort), ASan/UBSan reports, a
// body accepted deeper than kMaxJsonDepth, or a broken round trip are findings.
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/engine_config.h"
#include "media/source_url.h"
#include "server/json_body.h"
#include "server/stream_request.h"

namespace {

using nlohmann::json;

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "stream_config_fuzzer: %s\n", what.c_str());
  std::abort();
}

// A stream with every list and object filled, for PATCH to merge into.
const vigil::StreamConfig& full_stream() {
  static const vigil::StreamConfig s = [] {
    auto c = vigil::stream_config_from_json(json::parse(R"({
      "id": "cam1", "url": "rtsp://127.0.0.1:8554/cam1", "every": 2,
      "gate": {"enabled": true, "similarity": 0.9, "max_skip": 5},
      "substream": {"width": 320},
      "zones": [{"name": "door", "polygon": [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]], "classes": ["person"]}],
      "lines": [{"name": "gate", "a": [0, 0.5], "b": [1, 0.5]}],
      "describe": {"captioner": "template", "every_s": 10}})"));
    if (!c) finding("the fixed PATCH base stream is refused: " + c.error().message);
    return *c;
  }();
  return s;
}

// A config accepted once must be accepted again from its own JSON, unchanged.
void check_round_trip(const vigil::StreamConfig& s) {
  const json first = vigil::stream_config_json(s);
  auto again = vigil::stream_config_from_json(first);
  if (!again) finding("round trip refused: " + again.error().message + "\n  json: " + first.dump());
  const json second = vigil::stream_config_json(*again);
  if (first != second) finding("round trip changed the stream:\n  " + first.dump() + "\n  " + second.dump());
}

// The nesting depth of a tree, without recursion.
int depth_of(const json& root) {
  int deepest = 0;
  std::vector<std::pair<const json*, int>> todo = {{&root, 0}};
  while (!todo.empty()) {
    auto [j, d] = todo.back();
    todo.pop_back();
    if (!j->is_structured()) continue;
    deepest = std::max(deepest, d + 1);
    for (const auto& child : *j) todo.emplace_back(&child, d + 1);
  }
  return deepest;
}

// A body as the API parses it; discarded when refused.
json parse_body(const std::string& text) {
  auto parsed = vigil::parse_json_body(text);
  if (!parsed) return json(json::value_t::discarded);
  if (depth_of(*parsed) > vigil::kMaxJsonDepth)
    finding("a body nested " + std::to_string(depth_of(*parsed)) + " deep was accepted");
  return std::move(*parsed);
}

void stream_body(const std::string& text) {
  const json body = parse_body(text);
  if (body.is_discarded()) return;
  auto s = vigil::stream_config_from_json(body);
  if (s) check_round_trip(*s);
}

void patch_body(const std::string& text) {
  const json patch = parse_body(text);
  if (patch.is_discarded()) return;
  auto merged = vigil::merge_stream_patch(vigil::stream_config_json(full_stream()), patch);
  if (!merged) return;
  auto s = vigil::stream_config_from_json(*merged);
  if (s) check_round_trip(*s);
}

void config_text(const std::string& text) {
  auto c = vigil::parse_config(text, "fuzz.yaml");
  if (!c) return;
  // A few environment overrides with values taken from the config text itself.
  const std::string v = text.substr(0, 16);
  std::map<std::string, std::string> env = {{"DEVICE", v}, {"BATCH_SIZE", v}, {"SUBSTREAM_SCALE", v}};
  (void)vigil::apply_env_overrides(*c, env);
  (void)vigil::validate_config(*c);
}

// Mode '3''s temp file, made once per process, removed at exit.
char config_path[] = "/tmp/vigil-fuzz-config-XXXXXX";

void config_file(const std::string& text) {
  static const bool made = [] {
    const int fd = mkstemp(config_path);
    if (fd < 0) finding("mkstemp failed");
    close(fd);
    std::atexit([] { std::remove(config_path); });
    return true;
  }();
  (void)made;
  {
    std::ofstream out(config_path, std::ios::binary | std::ios::trunc);
    out << text;
  }
  (void)vigil::load_config_file(config_path);
}

void source_url(const std::string& text) {
  auto spec = vigil::parse_source_url(text);
  (void)spec;
  const std::string redacted = vigil::redact_url(text);
  (void)vigil::redact_urls_in(text + " and " + redacted);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)full_stream();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch ((data[0] + 2U) % 5) {  // '0'..'4' pick 0..4 (readable seeds)
    case 0:
      stream_body(text);
      break;
    case 1:
      patch_body(text);
      break;
    case 2:
      config_text(text);
      break;
    case 3:
      config_file(text);
      break;
    default:
      source_url(text);
      break;
  }
  return 0;
}
