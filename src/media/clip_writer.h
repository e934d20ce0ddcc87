// Writes an MP4 clip from a ClipFeed by remuxing (FFmpeg libavformat, no
// re-encode; movflags +faststart, so browsers play it before it is all
// loaded). The clip starts at the feed's first packet (a keyframe) and ends
// with the last packet whose time is at or before feed.end_s(), read when
// each packet comes (a clip extended while it is written grows). It is
// written to "<path>.part" and renamed into place once complete, so a reader
// never sees half a file.
// Threads: one call per feed, on the caller's (writer) thread; blocks until
// the clip is complete, the feed closes, no packet came for idle_ms, or
// *stop is set.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "media/packet_ring.h"

namespace vigil {

struct ClipInfo {
  double first_s = 0;  // media time of the first and last packet written
  double last_s = 0;
  std::int64_t packets = 0;
  bool complete = false;  // reached end_s (false: the feed closed or went idle first)
};

Result<ClipInfo> write_mp4_clip(ClipFeed& feed, const std::string& path, int idle_ms = 5000,
                                const std::atomic<bool>* stop = nullptr);

}  // namespace vigil
