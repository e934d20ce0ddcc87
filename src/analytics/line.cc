#include "analytics/line.h"

#include "analytics/config_check.h"

namespace vigil {

Result<void> LineConfig::validate(const std::string& path) const {
  if (auto r = check_analytics_name(name, path + ".name"); !r) return r;
  if (auto r = check_point(a, normalized, path + ".a"); !r) return r;
  if (auto r = check_point(b, normalized, path + ".b"); !r) return r;
  if (a == b)
    return fail(ErrorCode::kInvalidArgument, path + ".b: must differ from a (both are " + format_number(a.x) +
                                                 ", " + format_number(a.y) + ")");
  if (auto r = check_class_filter(classes, path + ".classes"); !r) return r;
  if (min_frames < 1)
    return fail(ErrorCode::kInvalidArgument,
                path + ".min_frames: must be >= 1 (got " + std::to_string(min_frames) + ")");
  return {};
}

LineSegment line_segment_pixels(const LineConfig& line, int frame_w, int frame_h) {
  if (!line.normalized) return {line.a, line.b};
  const auto w = static_cast<float>(frame_w);
  const auto h = static_cast<float>(frame_h);
  return {{line.a.x * w, line.a.y * h}, {line.b.x * w, line.b.y * h}};
}

}  // namespace vigil
