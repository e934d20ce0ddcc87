// class_name: the one class-name lookup (ModelInfo::class_name is built on it;
// modules that only hold the model's names, such as analytics and render,
// call it directly).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace vigil {

// True when `names` (a model's class names, [class_id]) names class_id.
inline bool names_class(const std::vector<std::string>& names, int class_id) {
  return class_id >= 0 && static_cast<std::size_t>(class_id) < names.size() &&
         !names[static_cast<std::size_t>(class_id)].empty();
}

// names[class_id], or the decimal id ("42") for an id the names do not cover
// (events, stats, the overlay and report.html all show that).
inline std::string class_name(const std::vector<std::string>& names, int class_id) {
  return names_class(names, class_id) ? names[static_cast<std::size_t>(class_id)]
                                      : std::to_string(class_id);
}

}  // namespace vigil
