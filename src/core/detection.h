// Box and Detection: what a detector returns. Coordinates are pixels of the
// image the detection refers to (model input before mapping, source frame after).
#pragma once

#include <algorithm>

namespace vigil {

struct Box {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;  // corners, x2 >= x1, y2 >= y1

  float width() const { return std::max(0.0F, x2 - x1); }
  float height() const { return std::max(0.0F, y2 - y1); }
  float area() const { return width() * height(); }
};

inline float iou(const Box& a, const Box& b) {
  const float ix = std::max(0.0F, std::min(a.x2, b.x2) - std::max(a.x1, b.x1));
  const float iy = std::max(0.0F, std::min(a.y2, b.y2) - std::max(a.y1, b.y1));
  const float inter = ix * iy;
  const float uni = a.area() + b.area() - inter;
  return uni > 0.0F ? inter / uni : 0.0F;
}

struct Detection {
  Box box;
  int class_id = 0;
  float score = 0;
};

}  // namespace vigil
