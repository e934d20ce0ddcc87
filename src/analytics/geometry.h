// Plane geometry for zones and lines: points, the anchor point of a box,
// polygon area and containment, which side of a line a point is on.
// All coordinates are image coordinates: x to the right, y DOWN.
// Pure functions, no allocation except where a vector is returned.
#pragma once

#include <vector>

#include "core/detection.h"
#include "core/enum_names.h"

namespace vigil {

struct PointF {
  float x = 0;
  float y = 0;
};

inline bool operator==(const PointF& a, const PointF& b) { return a.x == b.x && a.y == b.y; }

// The point of a track's box that is tested against zones and lines.
enum class Anchor {
  kBottomCenter,  // middle of the bottom edge: where a person or vehicle touches the ground
  kCenter,        // box centre: for objects seen from above or not on the ground
};

// The one spelling of each anchor (config files, JSON).
inline constexpr EnumName<Anchor> kAnchorNames[] = {{Anchor::kBottomCenter, "bottom_center"}, {Anchor::kCenter, "center"}};
const char* to_string(Anchor a);  // "bottom_center", "center"

PointF anchor_point(const Box& box, Anchor anchor);

// Signed area (shoelace); positive when the vertices run clockwise on screen
// (y down). Its absolute value is the area.
double signed_area(const std::vector<PointF>& polygon);

// Even-odd rule, so concave and self-touching polygons work. A point exactly
// on an edge may fall either side (consistently for a given polygon).
bool point_in_polygon(const std::vector<PointF>& polygon, PointF p);

// z of (b - a) x (p - a). With y down, walking from a to b: < 0 when p is on
// the walker's LEFT, > 0 on the RIGHT, 0 on the infinite line.
double side_of_line(PointF a, PointF b, PointF p);

// Whether the step from p to q, whose ends lie strictly on opposite sides of
// the infinite line through a and b, meets the line within the segment [a, b].
bool step_crosses_segment(PointF a, PointF b, PointF p, PointF q);

}  // namespace vigil
