#include "render/overlay.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <opencv2/imgproc.hpp>

namespace vigil {

Rgb class_color(int class_id) {
  // Golden-ratio hue steps give neighbouring ids distant colours.
  const double h = std::fmod(static_cast<double>(class_id) * 0.618033988749895 + 0.1, 1.0) * 6.0;
  const double s = 0.85, v = 0.95;
  const int i = static_cast<int>(h);
  const double f = h - i, p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  double r = v, g = t, b = p;
  switch (i % 6) {
    case 0: r = v; g = t; b = p; break;
    case 1: r = q; g = v; b = p; break;
    case 2: r = p; g = v; b = t; break;
    case 3: r = p; g = q; b = v; break;
    case 4: r = t; g = p; b = v; break;
    default: r = v; g = p; b = q; break;
  }
  return Rgb{static_cast<std::uint8_t>(r * 255), static_cast<std::uint8_t>(g * 255), static_cast<std::uint8_t>(b * 255)};
}

void draw_detections(Image& image, const std::vector<Detection>& detections,
                     const std::vector<std::string>& class_names) {
  if (image.empty() || image.format == PixelFormat::kGray8) return;
  cv::Mat mat(image.height, image.width, CV_8UC3, image.pixels.data(), static_cast<std::size_t>(image.stride()));
  const bool bgr = image.format == PixelFormat::kBgr24;
  const int thickness = std::max(1, std::min(image.width, image.height) / 300);
  const double font = std::max(0.4, std::min(image.width, image.height) / 900.0);
  for (const Detection& d : detections) {
    const Rgb c = class_color(d.class_id);
    const cv::Scalar color = bgr ? cv::Scalar(c.b, c.g, c.r) : cv::Scalar(c.r, c.g, c.b);
    const cv::Point p1(static_cast<int>(std::lround(d.box.x1)), static_cast<int>(std::lround(d.box.y1)));
    const cv::Point p2(static_cast<int>(std::lround(d.box.x2)), static_cast<int>(std::lround(d.box.y2)));
    cv::rectangle(mat, p1, p2, color, thickness, cv::LINE_AA);
    char label[128];
    const std::string name = d.class_id >= 0 && d.class_id < static_cast<int>(class_names.size())
                                 ? class_names[static_cast<std::size_t>(d.class_id)]
                                 : "class" + std::to_string(d.class_id);
    std::snprintf(label, sizeof label, "%s %.2f", name.c_str(), static_cast<double>(d.score));
    int baseline = 0;
    const cv::Size ts = cv::getTextSize(label, cv::FONT_HERSHEY_SIMPLEX, font, 1, &baseline);
    const int top = p1.y - ts.height - baseline - 2 >= 0 ? p1.y - ts.height - baseline - 2 : p1.y;
    cv::rectangle(mat, cv::Point(p1.x, top), cv::Point(p1.x + ts.width + 4, top + ts.height + baseline + 2), color,
                  cv::FILLED);
    cv::putText(mat, label, cv::Point(p1.x + 2, top + ts.height + 1), cv::FONT_HERSHEY_SIMPLEX, font,
                cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  }
}

}  // namespace vigil
