#include "render/event_snapshot.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/class_name.h"
#include "render/jpeg_encoder.h"
#include "render/overlay.h"

namespace vigil {

int snapshot_box_thickness(int width, int height) { return std::max(3, std::min(width, height) / 200); }

namespace {

void draw_boxes(Image& image, const std::vector<Detection>& boxes, const std::vector<std::string>& class_names) {
  cv::Mat mat(image.height, image.width, CV_8UC3, image.pixels.data(), static_cast<std::size_t>(image.stride()));
  const int thickness = snapshot_box_thickness(image.width, image.height);
  const double font = std::max(0.5, std::min(image.width, image.height) / 800.0);
  for (const Detection& d : boxes) {
    const Rgb c = class_color(d.class_id);
    const cv::Scalar color(c.b, c.g, c.r);
    const cv::Point p1(static_cast<int>(std::lround(d.box.x1)), static_cast<int>(std::lround(d.box.y1)));
    const cv::Point p2(static_cast<int>(std::lround(d.box.x2)), static_cast<int>(std::lround(d.box.y2)));
    cv::rectangle(mat, p1, p2, color, thickness, cv::LINE_8);
    const std::string label = class_name(class_names, d.class_id);
    int baseline = 0;
    const cv::Size ts = cv::getTextSize(label, cv::FONT_HERSHEY_SIMPLEX, font, 1, &baseline);
    const int top = std::max(0, p1.y - ts.height - baseline - 4);
    cv::rectangle(mat, cv::Point(p1.x, top), cv::Point(p1.x + ts.width + 4, top + ts.height + baseline + 4), color,
                  cv::FILLED);
    cv::putText(mat, label, cv::Point(p1.x + 2, top + ts.height + 2), cv::FONT_HERSHEY_SIMPLEX, font,
                cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  }
}

}  // namespace

Result<void> write_event_snapshot(const std::string& path, const VideoFrame& frame,
                                  const std::vector<Detection>& boxes, const std::vector<std::string>& class_names,
                                  int quality) {
  FrameConverter converter;
  auto image = converter.to_image(frame, PixelFormat::kBgr24);
  if (!image) return fail(ErrorCode::kRuntime, "snapshot " + path + ": " + image.error().message);
  draw_boxes(*image, boxes, class_names);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const std::string part = path + ".part";
  if (auto w = write_jpeg(part, *image, quality); !w) return fail(w.error());
  std::filesystem::rename(part, path, ec);
  if (ec) return fail(ErrorCode::kRuntime, "snapshot " + path + ": rename failed: " + ec.message());
  return {};
}

}  // namespace vigil
