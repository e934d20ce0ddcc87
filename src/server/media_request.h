// A request for live media (MJPEG, snapshot, WebSocket): which kind a path
// names and the parameters of its query. HttpServer serves these itself, on
// the connection's socket, after ApiRouter::media() has checked access and
// parsed the parameters here.
// Pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "config/engine_config.h"
#include "core/error.h"
#include "render/mjpeg_hub.h"
#include "server/api_response.h"

namespace vigil {

struct MediaRequest {
  enum class Kind { kNone, kMjpeg, kSnapshot, kStreamSocket, kEventSocket, kJobSocket, kGateSocket };
  Kind kind = Kind::kNone;  // kNone: an ordinary route, call handle()
  std::string stream;       // stream id (kMjpeg, kSnapshot, kStreamSocket); job id text (kJobSocket)
  std::int64_t job = 0;     // job id (kJobSocket)
  MjpegVariant variant;     // JPEG variant (kMjpeg, kSnapshot, kStreamSocket with video)
  bool video = true;        // kStreamSocket: send JPEG frames as binary messages
  bool captions = false;    // kStreamSocket: also send the stream's caption events as text messages
  // kGateSocket (Verolux): `source` is a configured stream id (then `stream`
  // is it) or a URL (then gate_url is the checked URL to start on demand).
  std::string source;
  bool use_substream = true;
  std::string gate_url;
  bool has_error = false;   // answer `error` instead of serving the media
  ApiResponse error;

  bool websocket() const {
    return kind == Kind::kStreamSocket || kind == Kind::kEventSocket || kind == Kind::kJobSocket ||
           kind == Kind::kGateSocket;
  }
};

// Limits of the query parameters.
inline constexpr int kSocketMaxFps = 15;        // WebSocket JPEG frames per second at most (and the default fps)
inline constexpr int kMjpegDefaultQuality = 75;
inline constexpr int kSnapshotDefaultQuality = 85;
inline constexpr int kSocketDefaultQuality = 85;  // AI Director's browser page encodes at 85
inline constexpr int kMaxMediaWidth = 16384;

// The kind and id a %-decoded path names: /api/streams/{id}/mjpeg,
// /api/streams/{id}/snapshot.jpg, /ws/streams/{id}, /ws/events,
// /ws/jobs/{id}, /ws/gate-check; kind kNone for any other path.
MediaRequest classify_media(const std::string& path);

// fps (1..kMaxFps; WebSocket 1..15), quality (1..100), width (0..16384),
// overlay (0/1), motion (0/1: with the overlay, draw motion boxes and crops),
// video (0/1), captions (0/1, WebSocket) into m.variant, m.video and
// m.captions. A parameter not given takes the stream's `render` default
// when set, else the kind's own. kInvalidArgument names the parameter and
// its range.
Result<void> read_media_params(MediaRequest& m, const std::map<std::string, std::string>& query,
                               const RenderConfig& render = {});

// /ws/gate-check: source (required, non-empty) and use_substream (true,
// false, 1 or 0; default true) into m.source and m.use_substream.
// kInvalidArgument names the parameter.
Result<void> read_gate_params(MediaRequest& m, const std::map<std::string, std::string>& query);

}  // namespace vigil
