#include "analytics/zone.h"

#include <algorithm>
#include <cmath>

#include "analytics/config_check.h"

namespace vigil {

Result<void> ZoneConfig::validate(const std::string& path) const {
  if (auto r = check_analytics_name(name, path + ".name"); !r) return r;
  if (polygon.size() < 3)
    return fail(ErrorCode::kInvalidArgument, path + ".polygon: needs at least 3 points (got " +
                                                 std::to_string(polygon.size()) + ")");
  for (std::size_t point_idx = 0; point_idx < polygon.size(); ++point_idx)
    if (auto r = check_point(polygon[point_idx], normalized, path + ".polygon[" + std::to_string(point_idx) + "]"); !r)
      return r;
  // Degenerate when the area is negligible against the bounding box (collinear
  // or repeated points): such a zone could never contain anything.
  float min_x = polygon[0].x, max_x = min_x, min_y = polygon[0].y, max_y = min_y;
  for (const PointF& p : polygon) {
    min_x = std::min(min_x, p.x);
    max_x = std::max(max_x, p.x);
    min_y = std::min(min_y, p.y);
    max_y = std::max(max_y, p.y);
  }
  const double bbox_area = (static_cast<double>(max_x) - min_x) * (static_cast<double>(max_y) - min_y);
  if (!(bbox_area > 0) || std::abs(signed_area(polygon)) <= 1e-6 * bbox_area)
    return fail(ErrorCode::kInvalidArgument,
                path + ".polygon: encloses no area (the points are collinear or repeated)");
  if (auto r = check_class_filter(classes, path + ".classes"); !r) return r;
  if (!std::isfinite(dwell_s) || dwell_s < 0)
    return fail(ErrorCode::kInvalidArgument,
                path + ".dwell_s: must be a number >= 0 (got " + format_number(dwell_s) + ")");
  return {};
}

std::vector<PointF> zone_polygon_pixels(const ZoneConfig& zone, int frame_w, int frame_h) {
  if (!zone.normalized) return zone.polygon;
  std::vector<PointF> px;
  px.reserve(zone.polygon.size());
  for (const PointF& p : zone.polygon)
    px.push_back({p.x * static_cast<float>(frame_w), p.y * static_cast<float>(frame_h)});
  return px;
}

}  // namespace vigil
