#include "analytics/motion_detector.h"

#include <algorithm>
#include <cmath>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace vigil {

Result<void> MotionConfig::validate(const std::string& path) const {
  const std::string p = path.empty() ? "motion" : path;
  if (threshold < 1 || threshold > 254) return fail(ErrorCode::kInvalidArgument, p + ".threshold: must be 1..254, got " + std::to_string(threshold));
  if (min_area < 0) return fail(ErrorCode::kInvalidArgument, p + ".min_area: must be >= 0, got " + std::to_string(min_area));
  if (height < 16 || height > 720) return fail(ErrorCode::kInvalidArgument, p + ".height: must be 16..720, got " + std::to_string(height));
  if (!(alpha > 0 && alpha <= 1)) return fail(ErrorCode::kInvalidArgument, p + ".alpha: must be in (0, 1]");
  if (!(global_change > 0 && global_change <= 1))
    return fail(ErrorCode::kInvalidArgument, p + ".global_change: must be in (0, 1]");
  if (max_crops < 1 || max_crops > 16) return fail(ErrorCode::kInvalidArgument, p + ".max_crops: must be 1..16, got " + std::to_string(max_crops));
  if (!(max_crop_area > 0 && max_crop_area <= 1))
    return fail(ErrorCode::kInvalidArgument, p + ".max_crop_area: must be in (0, 1]");
  if (!(refresh_s >= 0)) return fail(ErrorCode::kInvalidArgument, p + ".refresh_s: must be >= 0");
  return {};
}

MotionDetector::MotionDetector(MotionConfig config) : config_(config) {}

void MotionDetector::reset() {
  background_.clear();
  mw_ = mh_ = frame_w_ = frame_h_ = 0;
}

void MotionDetector::motion_size(int width, int height, int rows, int& mw, int& mh) {
  mh = std::clamp(rows, 1, std::max(1, height));
  mw = std::clamp(static_cast<int>(std::lround(static_cast<double>(mh) * width / std::max(1, height))), 1,
                  std::max(1, width));
}

MotionResult MotionDetector::detect(const std::uint8_t* plane, int width, int height, int stride) {
  MotionResult out;
  if (plane == nullptr || width <= 0 || height <= 0 || stride < width) return out;
  int mw = 0, mh = 0;
  motion_size(width, height, config_.height, mw, mh);
  const cv::Mat luma(height, width, CV_8UC1, const_cast<std::uint8_t*>(plane), static_cast<std::size_t>(stride));
  cv::Mat small;
  cv::resize(luma, small, cv::Size(mw, mh), 0, 0, cv::INTER_AREA);
  cv::GaussianBlur(small, small, cv::Size(3, 3), 0);

  const bool fresh = background_.empty() || mw != mw_ || mh != mh_ || width != frame_w_ || height != frame_h_;
  if (fresh) {
    mw_ = mw;
    mh_ = mh;
    frame_w_ = width;
    frame_h_ = height;
    background_.assign(static_cast<std::size_t>(mw) * static_cast<std::size_t>(mh), 0.0F);
  }
  cv::Mat bg(mh, mw, CV_32FC1, background_.data());
  if (fresh) {
    small.convertTo(bg, CV_32F);
    out.calibrating = true;
    return out;
  }

  cv::Mat bg8, diff, mask;
  bg.convertTo(bg8, CV_8U);
  cv::absdiff(small, bg8, diff);
  cv::threshold(diff, mask, config_.threshold, 255, cv::THRESH_BINARY);
  cv::dilate(mask, mask, cv::Mat());  // 3x3, once
  const double total = static_cast<double>(mw) * mh;
  out.changed = cv::countNonZero(mask) / total;
  if (out.changed > config_.global_change) {
    small.convertTo(bg, CV_32F);  // recalibrate: the new picture is the background
    out.global_change = true;
    return out;
  }

  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(mask, labels, stats, centroids, 8, CV_32S);
  const float sx = static_cast<float>(width) / static_cast<float>(mw);
  const float sy = static_cast<float>(height) / static_cast<float>(mh);
  std::vector<Box> boxes;
  for (int i = 1; i < n; ++i) {  // 0 is the background
    const int x = stats.at<int>(i, cv::CC_STAT_LEFT), y = stats.at<int>(i, cv::CC_STAT_TOP);
    const int w = stats.at<int>(i, cv::CC_STAT_WIDTH), h = stats.at<int>(i, cv::CC_STAT_HEIGHT);
    const Box b{static_cast<float>(x) * sx, static_cast<float>(y) * sy, static_cast<float>(x + w) * sx,
                static_cast<float>(y + h) * sy};
    if (b.area() >= static_cast<float>(config_.min_area)) boxes.push_back(b);
  }
  out.boxes = merge_overlapping(std::move(boxes));
  cv::accumulateWeighted(small, bg, config_.alpha);
  return out;
}

std::vector<Box> merge_overlapping(std::vector<Box> boxes, float gap) {
  auto touch = [gap](const Box& a, const Box& b) {
    return a.x1 <= b.x2 + gap && b.x1 <= a.x2 + gap && a.y1 <= b.y2 + gap && b.y1 <= a.y2 + gap;
  };
  for (bool merged = true; merged;) {
    merged = false;
    for (std::size_t i = 0; i < boxes.size() && !merged; ++i) {
      for (std::size_t j = i + 1; j < boxes.size(); ++j) {
        if (!touch(boxes[i], boxes[j])) continue;
        boxes[i] = Box{std::min(boxes[i].x1, boxes[j].x1), std::min(boxes[i].y1, boxes[j].y1),
                       std::max(boxes[i].x2, boxes[j].x2), std::max(boxes[i].y2, boxes[j].y2)};
        boxes.erase(boxes.begin() + static_cast<std::ptrdiff_t>(j));
        merged = true;
        break;
      }
    }
  }
  std::sort(boxes.begin(), boxes.end(), [](const Box& a, const Box& b) { return a.x1 != b.x1 ? a.x1 < b.x1 : a.y1 < b.y1; });
  return boxes;
}

}  // namespace vigil
