// Checks shared by the analytics config structs (zones, lines). Each returns
// an error whose message starts with the field path, e.g.
// "streams[2].zones[0].name: must not be empty".
#pragma once

#include <string>
#include <vector>

#include "analytics/geometry.h"
#include "core/error.h"

namespace vigil {

// Non-empty and only [a-z0-9_-]: names appear in URLs, metric labels and SQL.
Result<void> check_analytics_name(const std::string& name, const std::string& path);

// Finite; within 0..1 when normalized, else not negative (pixels).
Result<void> check_point(PointF p, bool normalized, const std::string& path);

// Every entry non-empty (whether the model knows the class is checked where
// the model's class list is known: AnalyticsEvaluator::create).
Result<void> check_class_filter(const std::vector<std::string>& classes, const std::string& path);

// Formats a number for an error message: shortest form that reads back ("0.5", "1e-07").
std::string format_number(double v);

}  // namespace vigil
