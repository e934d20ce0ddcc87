// Streams through the HTTP API: a StreamConfig to and from its JSON body, the
// PATCH merge, and the source check that API callers get on top of the
// config allow-list.
// Pure apart from check_api_source(), which looks at the file system.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "config/config_json.h"
#include "config/engine_config.h"
#include "core/error.h"

namespace vigil {

// Every field of a stream, with the keys and shapes of a config file stream
// (docs/config.md), written by the stream field table (stream_config_node),
// so that stream_config_from_json(stream_config_json(s)) == s (but for the
// API key, which is never sent back).
nlohmann::json stream_config_json(const StreamConfig& stream);

// A JSON object with the keys of a config stream -> StreamConfig, read by the
// same field table as a config file (stream_config_from_node), over the
// stream `base` (the config's `defaults:`; the built-in defaults without one). Typed: `"every": "4"` or `"loop": "yes"` is refused
// naming the field and the type it needs. kInvalidArgument with every problem,
// one a line ("streams[0].every: expected an integer, got the string \"4\"").
Result<StreamConfig> stream_config_from_json(const nlohmann::json& body, const StreamConfig& base = StreamConfig{});

// The keys PATCH may change (the table's patchable fields); anything else is kInvalidArgument.
// Objects (gate, substream) are merged (RFC 7396 merge patch), lists replace.
Result<nlohmann::json> merge_stream_patch(const nlohmann::json& current, const nlohmann::json& patch);

// The config allow-list (parse_source_url) plus: a file path is accepted only
// when media_dir is set and the path, resolved (relative to media_dir, with
// std::filesystem::weakly_canonical, so ".." and symlinks are followed) lies
// inside media_dir and exists. Returns the URL to open (a resolved path for files).
Result<std::string> check_api_source(const std::string& url, const std::string& media_dir);

}  // namespace vigil
