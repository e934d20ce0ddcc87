#include "server/media_request.h"

#include <algorithm>
#include <stdexcept>

#include "server/route_table.h"

namespace vigil {
namespace {

// Query parameter `key` as an integer in [lo, hi]; `fallback` when absent.
Result<int> int_param(const std::map<std::string, std::string>& q, const std::string& key, int fallback, int lo,
                      int hi) {
  const auto it = q.find(key);
  if (it == q.end()) return fallback;
  try {
    std::size_t used = 0;
    const int v = std::stoi(it->second, &used);
    if (used == it->second.size() && v >= lo && v <= hi) return v;
  } catch (const std::logic_error&) {
  }
  return fail(ErrorCode::kInvalidArgument, "query parameter " + key + "='" + it->second + "' must be an integer in " +
                                               std::to_string(lo) + ".." + std::to_string(hi));
}

}  // namespace

MediaRequest classify_media(const std::string& path) {
  using Kind = MediaRequest::Kind;
  static const std::pair<const char*, Kind> kPatterns[] = {
      {"/api/streams/{id}/mjpeg", Kind::kMjpeg},
      {"/api/streams/{id}/snapshot.jpg", Kind::kSnapshot},
      {"/ws/streams/{id}", Kind::kStreamSocket},
      {"/ws/events", Kind::kEventSocket},
      {"/ws/jobs/{id}", Kind::kJobSocket},
      {"/ws/gate-check", Kind::kGateSocket},
  };
  MediaRequest m;
  for (const auto& [pattern, kind] : kPatterns) {
    std::string id;
    if (match_route(pattern, path, &id)) {
      m.kind = kind;
      m.stream = id;
      break;
    }
  }
  return m;
}

Result<void> read_media_params(MediaRequest& m, const std::map<std::string, std::string>& query,
                               const RenderConfig& render) {
  using Kind = MediaRequest::Kind;
  const bool snapshot = m.kind == Kind::kSnapshot;
  const bool socket = m.kind == Kind::kStreamSocket;
  const int max_fps = socket ? kSocketMaxFps : static_cast<int>(MjpegVariant::kMaxFps);
  const int default_fps = render.max_fps > 0 ? std::min(render.max_fps, max_fps) : kSocketMaxFps;
  const int kind_quality = socket     ? kSocketDefaultQuality
                           : snapshot ? kSnapshotDefaultQuality
                                      : kMjpegDefaultQuality;
  const int default_quality = render.jpeg_quality > 0 ? render.jpeg_quality : kind_quality;
  auto fps = int_param(query, "fps", default_fps, 1, max_fps);
  auto quality = int_param(query, "quality", default_quality, 1, 100);
  auto width = int_param(query, "width", 0, 0, kMaxMediaWidth);
  auto overlay = int_param(query, "overlay", 1, 0, 1);
  auto video = int_param(query, "video", 1, 0, 1);
  auto motion = int_param(query, "motion", 0, 0, 1);
  auto captions = int_param(query, "captions", 0, 0, 1);
  for (const auto* r : {&fps, &quality, &width, &overlay, &video, &motion, &captions})
    if (!*r) return fail(r->error());
  m.variant.fps = snapshot ? MjpegVariant::kMaxFps : *fps;
  m.variant.quality = *quality;
  m.variant.max_width = *width;
  // The WebSocket feed sends plain frames: the browser draws the overlay from the JSON.
  // MJPEG and snapshots draw it unless overlay=0.
  m.variant.overlay = socket ? false : *overlay == 1;
  m.variant.motion = m.variant.overlay && *motion == 1;  // motion boxes are part of the overlay
  m.video = *video == 1;
  m.captions = socket && *captions == 1;
  return {};
}

Result<void> read_gate_params(MediaRequest& m, const std::map<std::string, std::string>& query) {
  const auto source = query.find("source");
  if (source == query.end() || source->second.empty())
    return fail(ErrorCode::kInvalidArgument,
                "query parameter source is required: a configured stream id or a source URL (rtsp://, http(s)://, "
                "a file in --media-dir)");
  m.source = source->second;
  const auto sub = query.find("use_substream");
  if (sub != query.end()) {
    if (sub->second == "true" || sub->second == "1") m.use_substream = true;
    else if (sub->second == "false" || sub->second == "0") m.use_substream = false;
    else
      return fail(ErrorCode::kInvalidArgument,
                  "query parameter use_substream='" + sub->second + "' must be true, false, 1 or 0");
  }
  return {};
}

}  // namespace vigil
