// A request for live media (MJPEG, snapshot, WebSocket): which kind a path
// names and the parameters of its query. HttpServer serves these itself, on
// the connection's socket, after ApiRouter::media() has checked access and
// parsed the parameters here.
// Pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/error.h"
#include "render/mjpeg_hub.h"
#include "server/api_response.h"

namespace vigil {

struct MediaRequest {
  enum class Kind { kNone, kMjpeg, kSnapshot, kStreamSocket, kEventSocket, kJobSocket };
  Kind kind = Kind::kNone;  // kNone: an ordinary route, call handle()
  std::string stream;       // stream id (kMjpeg, kSnapshot, kStreamSocket); job id text (kJobSocket)
  std::int64_t job = 0;     // job id (kJobSocket)
  MjpegVariant variant;     // JPEG variant (kMjpeg, kSnapshot, kStreamSocket with video)
  bool video = true;        // kStreamSocket: send JPEG frames as binary messages
  bool has_error = false;   // answer `error` instead of serving the media
  ApiResponse error;

  bool websocket() const { return kind == Kind::kStreamSocket || kind == Kind::kEventSocket || kind == Kind::kJobSocket; }
};

// Limits of the query parameters.
inline constexpr int kSocketMaxFps = 15;        // WebSocket JPEG frames per second at most (and the default fps)
inline constexpr int kMjpegDefaultQuality = 75;
inline constexpr int kSnapshotDefaultQuality = 85;
inline constexpr int kMaxMediaWidth = 16384;

// The kind and id a %-decoded path names: /api/streams/{id}/mjpeg,
// /api/streams/{id}/snapshot.jpg, /ws/streams/{id}, /ws/events,
// /ws/jobs/{id}; kind kNone for any other path.
MediaRequest classify_media(const std::string& path);

// fps (1..kMaxFps; WebSocket 1..15), quality (1..100), width (0..16384),
// overlay (0/1), motion (0/1: with the overlay, draw motion boxes and crops),
// video (0/1) into m.variant and m.video, with each kind's
// defaults. kInvalidArgument names the parameter and its range.
Result<void> read_media_params(MediaRequest& m, const std::map<std::string, std::string>& query);

}  // namespace vigil
