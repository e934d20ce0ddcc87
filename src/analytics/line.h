// LineConfig: a named counting line (a segment) of one stream; tracks whose
// anchor point crosses it produce line_cross events and in/out counts.
//
// Direction convention (image coordinates, y down): stand on `a` and look
// towards `b`. A crossing from your LEFT to your RIGHT is "in"; from right to
// left is "out". Example: a = (0, 0.5), b = (1, 0.5) (a horizontal line drawn
// left to right): left is the upper half of the image, so moving DOWN across
// it is "in" and moving up is "out". Swap a and b to swap the directions.
// Only crossings that pass through the segment itself count, not its
// extension beyond a or b.
// Plain value, validated once at start-up (config load).
#pragma once

#include <string>
#include <vector>

#include "analytics/geometry.h"
#include "core/error.h"

namespace vigil {

struct LineConfig {
  // Identifier used in events, stats and URLs: non-empty, [a-z0-9_-]+,
  // unique among the stream's lines.
  std::string name;
  // End points of the segment; must differ. The order sets the direction (above).
  PointF a;
  PointF b;
  // true: coordinates are fractions 0..1 of the frame width/height; false: pixels.
  bool normalized = true;
  // Class names that count; empty = all classes.
  std::vector<std::string> classes;
  // Analysed frames the anchor must stay on the new side before a crossing
  // counts (debounce against boxes jittering on the line). 1 = count at once.
  int min_frames = 2;
  // Which point of a track's box is tested against the line.
  Anchor anchor = Anchor::kBottomCenter;

  // `path` names this line in the config, e.g. "streams[2].lines[1]".
  Result<void> validate(const std::string& path) const;
};

struct LineSegment {
  PointF a;
  PointF b;
};

// The end points in pixels of a frame_w x frame_h frame.
LineSegment line_segment_pixels(const LineConfig& line, int frame_w, int frame_h);

}  // namespace vigil
