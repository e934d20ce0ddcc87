#include "analytics/geometry.h"

#include <cstddef>

namespace vigil {

const char* to_string(Anchor a) { return enum_name<Anchor>(kAnchorNames, a); }

PointF anchor_point(const Box& box, Anchor anchor) {
  const float cx = 0.5F * (box.x1 + box.x2);
  switch (anchor) {
    case Anchor::kBottomCenter: return {cx, box.y2};
    case Anchor::kCenter: return {cx, 0.5F * (box.y1 + box.y2)};
  }
  return {cx, box.y2};
}

double signed_area(const std::vector<PointF>& polygon) {
  const std::size_t n = polygon.size();
  if (n < 3) return 0;
  double twice = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const PointF& p = polygon[i];
    const PointF& q = polygon[(i + 1) % n];
    twice += static_cast<double>(p.x) * q.y - static_cast<double>(q.x) * p.y;
  }
  return 0.5 * twice;
}

bool point_in_polygon(const std::vector<PointF>& polygon, PointF p) {
  const std::size_t n = polygon.size();
  if (n < 3) return false;
  bool inside = false;
  for (std::size_t i = 0, j = n - 1; i < n; j = i++) {
    const double xi = polygon[i].x, yi = polygon[i].y;
    const double xj = polygon[j].x, yj = polygon[j].y;
    // Half-open rule on y (yi > py) != (yj > py): a vertex exactly at the
    // ray's height is counted once, and horizontal edges never.
    if ((yi > p.y) != (yj > p.y)) {
      const double x_at = xi + (p.y - yi) * (xj - xi) / (yj - yi);
      if (p.x < x_at) inside = !inside;
    }
  }
  return inside;
}

double side_of_line(PointF a, PointF b, PointF p) {
  return (static_cast<double>(b.x) - a.x) * (static_cast<double>(p.y) - a.y) -
         (static_cast<double>(b.y) - a.y) * (static_cast<double>(p.x) - a.x);
}

bool step_crosses_segment(PointF a, PointF b, PointF p, PointF q) {
  const double sp = side_of_line(a, b, p);
  const double sq = side_of_line(a, b, q);
  if (sp == sq) return false;  // not on opposite sides: no single meeting point
  // Where the step meets the infinite line, then how far along a->b that is.
  const double u = sp / (sp - sq);
  const double mx = p.x + u * (static_cast<double>(q.x) - p.x);
  const double my = p.y + u * (static_cast<double>(q.y) - p.y);
  const double dx = static_cast<double>(b.x) - a.x;
  const double dy = static_cast<double>(b.y) - a.y;
  const double len2 = dx * dx + dy * dy;
  if (len2 <= 0) return false;
  const double t = ((mx - a.x) * dx + (my - a.y) * dy) / len2;
  return t >= 0.0 && t <= 1.0;
}

}  // namespace vigil
