#include "analytics/config_check.h"

#include <cmath>
#include <sstream>

namespace vigil {

std::string format_number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

Result<void> check_analytics_name(const std::string& name, const std::string& path) {
  if (name.empty()) return fail(ErrorCode::kInvalidArgument, path + ": must not be empty");
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok)
      return fail(ErrorCode::kInvalidArgument,
                  path + ": \"" + name + "\" may only contain lowercase letters a-z, digits, '_' and '-'");
  }
  return {};
}

Result<void> check_point(PointF p, bool normalized, const std::string& path) {
  if (!std::isfinite(p.x) || !std::isfinite(p.y))
    return fail(ErrorCode::kInvalidArgument, path + ": coordinates must be finite numbers (got " +
                                                 format_number(p.x) + ", " + format_number(p.y) + ")");
  const std::string got = " (got " + format_number(p.x) + ", " + format_number(p.y) + ")";
  if (normalized && (p.x < 0 || p.x > 1 || p.y < 0 || p.y > 1))
    return fail(ErrorCode::kInvalidArgument,
                path + ": normalized coordinates must lie within 0..1" + got +
                    "; set normalized: false for pixel coordinates");
  if (!normalized && (p.x < 0 || p.y < 0))
    return fail(ErrorCode::kInvalidArgument, path + ": pixel coordinates must not be negative" + got);
  return {};
}

Result<void> check_class_filter(const std::vector<std::string>& classes, const std::string& path) {
  for (std::size_t class_idx = 0; class_idx < classes.size(); ++class_idx)
    if (classes[class_idx].empty())
      return fail(ErrorCode::kInvalidArgument,
                  path + "[" + std::to_string(class_idx) + "]: class name must not be empty");
  return {};
}

}  // namespace vigil
