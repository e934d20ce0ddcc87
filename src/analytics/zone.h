// ZoneConfig: a named polygon of one stream; tracks whose anchor point lies
// inside it are "in the zone" (zone_enter / zone_exit / dwell events, occupancy).
// Plain value, validated once at start-up (config load).
#pragma once

#include <string>
#include <vector>

#include "analytics/geometry.h"
#include "core/error.h"

namespace vigil {

struct ZoneConfig {
  // Identifier used in events, stats and URLs: non-empty, [a-z0-9_-]+,
  // unique among the stream's zones.
  std::string name;
  // Vertices in order (either winding); concave polygons work. At least 3,
  // enclosing a non-zero area.
  std::vector<PointF> polygon;
  // true: coordinates are fractions 0..1 of the frame width/height, so the
  // zone follows a change of resolution; false: source-frame pixels.
  bool normalized = true;
  // Class names that count (model class names, e.g. "person"); empty = all classes.
  std::vector<std::string> classes;
  // > 0: emit one `dwell` event per visit once a track has been inside this
  // many seconds (media time). 0: no dwell events.
  double dwell_s = 0;
  // Which point of a track's box is tested against the polygon.
  Anchor anchor = Anchor::kBottomCenter;

  // `path` names this zone in the config, e.g. "streams[2].zones[0]"; the
  // error message starts with the offending field's full path.
  Result<void> validate(const std::string& path) const;
};

// The polygon in pixels of a frame_w x frame_h frame.
std::vector<PointF> zone_polygon_pixels(const ZoneConfig& zone, int frame_w, int frame_h);

}  // namespace vigil
