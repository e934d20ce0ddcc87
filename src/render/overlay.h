// Overlay drawing on BGR/RGB images: boxes and labels. Pure, no threads.
#pragma once

#include <string>
#include <vector>

#include "core/detection.h"
#include "core/image.h"

namespace vigil {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
};

// A stable, distinct colour per class id.
Rgb class_color(int class_id);

// Draws each detection's box and a "name score" label (image format kept).
void draw_detections(Image& image, const std::vector<Detection>& detections,
                     const std::vector<std::string>& class_names);

}  // namespace vigil
