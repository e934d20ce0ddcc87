#include "server/stream_request.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <system_error>
#include <vector>

#include "config/config_json.h"
#include "media/source_url.h"

namespace vigil {
namespace {

using nlohmann::json;

}  // namespace

json stream_config_json(const StreamConfig& s) { return json_from_node(stream_config_node(s)); }

Result<StreamConfig> stream_config_from_json(const json& body, const StreamConfig& base) {
  if (!body.is_object()) return fail(ErrorCode::kInvalidArgument, "stream: the body must be a JSON object");
  // Named as the one stream of a config file, so messages read as the parser's everywhere.
  return stream_config_from_node(node_from_json(body), "streams[0]", base);
}

Result<json> merge_stream_patch(const json& current, const json& patch) {
  static const std::vector<std::string> kPatchable = patchable_stream_keys();
  if (!patch.is_object()) return fail(ErrorCode::kInvalidArgument, "patch: the body must be a JSON object");
  for (const auto& [key, value] : patch.items()) {
    if (std::find(kPatchable.begin(), kPatchable.end(), key) == kPatchable.end()) {
      std::string keys;
      for (const auto& k : kPatchable) keys += (keys.empty() ? "" : ", ") + k;
      return fail(ErrorCode::kInvalidArgument, "patch." + key + ": cannot be changed (PATCH takes " + keys + ")");
    }
    if (value.is_null()) return fail(ErrorCode::kInvalidArgument, "patch." + key + ": must not be null");
  }
  json merged = current;
  merged.merge_patch(patch);
  return merged;
}

Result<std::string> check_api_source(const std::string& url, const std::string& media_dir) {
  auto spec = parse_source_url(url);
  if (!spec) return fail(ErrorCode::kInvalidArgument, "url: " + spec.error().message);
  if (spec->kind != SourceKind::kFile) return url;
  namespace fs = std::filesystem;
  if (media_dir.empty())
    return fail(ErrorCode::kInvalidArgument,
                "url: '" + url + "' is a file path; the server accepts no file paths (start it with a media directory)");
  std::error_code ec;
  fs::path root = fs::weakly_canonical(fs::path(media_dir), ec);
  if (!root.has_filename() && root.has_parent_path()) root = root.parent_path();  // "/media/" -> "/media"
  if (ec) return fail(ErrorCode::kInvalidArgument, "url: media directory '" + media_dir + "' cannot be resolved");
  fs::path p(url);
  if (p.is_relative()) p = root / p;
  const fs::path resolved = fs::weakly_canonical(p, ec);
  if (ec) return fail(ErrorCode::kInvalidArgument, "url: '" + url + "' cannot be resolved: " + ec.message());
  // Compare whole path components, so /media2 is not inside /media.
  auto r = root.begin();
  auto q = resolved.begin();
  for (; r != root.end(); ++r, ++q)
    if (q == resolved.end() || *r != *q)
      return fail(ErrorCode::kInvalidArgument, "url: '" + url + "' is outside the media directory " + root.string());
  if (!fs::is_regular_file(resolved, ec))
    return fail(ErrorCode::kInvalidArgument, "url: '" + url + "' is not a file in the media directory");
  return resolved.string();
}

}  // namespace vigil
