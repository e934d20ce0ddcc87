#include "server/stream_request.h"

#include <filesystem>
#include <system_error>

#include "analytics/geometry.h"
#include "media/source_url.h"

namespace vigil {
namespace {

using nlohmann::json;

json point(const PointF& p) { return json::array({p.x, p.y}); }

}  // namespace

json stream_config_json(const StreamConfig& s) {
  json zones = json::array();
  for (const auto& z : s.zones) {
    json poly = json::array();
    for (const auto& p : z.polygon) poly.push_back(point(p));
    zones.push_back({{"name", z.name},
                     {"polygon", poly},
                     {"normalized", z.normalized},
                     {"classes", z.classes},
                     {"dwell_s", z.dwell_s},
                     {"anchor", to_string(z.anchor)}});
  }
  json lines = json::array();
  for (const auto& l : s.lines)
    lines.push_back({{"name", l.name},
                     {"a", point(l.a)},
                     {"b", point(l.b)},
                     {"normalized", l.normalized},
                     {"classes", l.classes},
                     {"min_frames", l.min_frames},
                     {"anchor", to_string(l.anchor)}});
  return {{"id", s.id},
          {"url", s.url},
          {"loop", s.loop},
          {"every", s.every},
          {"substream", {{"scale", s.substream.scale}, {"width", s.substream.width}}},
          {"gate", {{"enabled", s.gate.enabled}, {"similarity", s.gate.similarity}, {"max_skip", s.gate.max_skip}}},
          {"hwaccel", s.hwaccel},
          {"skip_frame", s.skip_frame},
          {"timeout_s", s.timeout_s},
          {"watchdog_s", s.watchdog_s},
          {"max_pixels", s.max_pixels},
          {"decode_threads", s.decode_threads},
          {"conf", s.conf},
          {"iou", s.iou},
          {"max_det", s.max_det},
          {"classes", s.classes},
          {"tracker",
           {{"high_thresh", s.tracker.high_thresh},
            {"low_thresh", s.tracker.low_thresh},
            {"new_track_thresh", s.tracker.new_track_thresh},
            {"match_iou", s.tracker.match_iou},
            {"second_match_iou", s.tracker.second_match_iou},
            {"unconfirmed_match_iou", s.tracker.unconfirmed_match_iou},
            {"lost_buffer_s", s.tracker.lost_buffer_s},
            {"min_hits", s.tracker.min_hits},
            {"class_aware", s.tracker.class_aware}}},
          {"zones", zones},
          {"lines", lines},
          // The API key is never sent back; PATCH keeps the stream's key unless it sets one.
          {"describe",
           {{"captioner", s.describe.captioner},
            {"endpoint", s.describe.endpoint},
            {"model", s.describe.model},
            {"prompt", s.describe.prompt},
            {"every_frames", s.describe.every_frames},
            {"every_s", s.describe.every_s},
            {"on_scene_change", s.describe.on_scene_change},
            {"scene_threshold", s.describe.scene_threshold},
            {"max_tokens", s.describe.max_tokens},
            {"max_side", s.describe.max_side},
            {"timeout_s", s.describe.timeout_s}}}};
}

Result<StreamConfig> stream_config_from_json(const json& body) {
  if (!body.is_object()) return fail(ErrorCode::kInvalidArgument, "stream: the body must be a JSON object");
  // A JSON text is a YAML flow node; dump() escapes every control character,
  // so the body cannot break out of the one list element.
  const std::string yaml = "streams: [" + body.dump() + "]\n";
  auto parsed = parse_config(yaml, "request");
  if (!parsed) return fail(ErrorCode::kInvalidArgument, parsed.error().message);
  if (parsed->streams.size() != 1) return fail(ErrorCode::kInvalidArgument, "stream: expected one stream");
  return std::move(parsed->streams[0]);
}

Result<json> merge_stream_patch(const json& current, const json& patch) {
  static const char* const kPatchable[] = {"every", "gate", "substream", "zones", "lines", "describe"};
  if (!patch.is_object()) return fail(ErrorCode::kInvalidArgument, "patch: the body must be a JSON object");
  for (const auto& [key, value] : patch.items()) {
    bool ok = false;
    for (const char* k : kPatchable) ok = ok || key == k;
    if (!ok)
      return fail(ErrorCode::kInvalidArgument,
                  "patch." + key + ": cannot be changed (PATCH takes every, gate, substream, zones, lines, describe)");
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
