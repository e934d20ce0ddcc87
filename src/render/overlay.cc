#include "render/overlay.h"

#include "core/class_name.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <opencv2/core.hpp>
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
    const std::string name = class_name(class_names, d.class_id);
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


// ---------------------------------------------------------------- trails

TrailHistory::TrailHistory(std::size_t max_points, double expiry_s)
    : max_points_(std::max<std::size_t>(1, max_points)), expiry_s_(expiry_s) {}

void TrailHistory::clear() {
  trails_.clear();
  has_pts_ = false;
}

void TrailHistory::update(const std::vector<Track>& tracks, double pts) {
  if (has_pts_ && pts < last_pts_) trails_.clear();
  last_pts_ = pts;
  has_pts_ = true;
  for (const Track& t : tracks) {
    if (t.state == TrackState::kRemoved) {
      trails_.erase(t.id);
      continue;
    }
    Trail& trail = trails_[t.id];
    trail.points.push_back(PointF{(t.box.x1 + t.box.x2) * 0.5F, (t.box.y1 + t.box.y2) * 0.5F});
    while (trail.points.size() > max_points_) trail.points.pop_front();
    trail.last_pts = pts;
  }
  std::erase_if(trails_, [&](const auto& kv) { return pts - kv.second.last_pts > expiry_s_; });
}

const std::deque<PointF>* TrailHistory::trail(std::int64_t track_id) const {
  const auto it = trails_.find(track_id);
  return it == trails_.end() ? nullptr : &it->second.points;
}

// ---------------------------------------------------------------- overlay

Rgb zone_color(std::size_t zone_idx) {
  // Offset from the class colours' sequence so zones rarely match a class.
  return class_color(static_cast<int>(zone_idx) * 3 + 1000);
}

Rgb line_color() { return Rgb{255, 230, 0}; }

namespace {

struct Canvas {
  cv::Mat mat;
  bool bgr = true;
  float sx = 1, sy = 1;  // source-frame pixels -> image pixels
  int thickness = 1;
  double font = 0.4;

  cv::Scalar color(Rgb c) const { return bgr ? cv::Scalar(c.b, c.g, c.r) : cv::Scalar(c.r, c.g, c.b); }
  cv::Point point(PointF p) const {
    return cv::Point(static_cast<int>(std::lround(p.x * sx)), static_cast<int>(std::lround(p.y * sy)));
  }
};

// Black text on a filled box of `bg`; `at` is the box's bottom-left corner,
// moved inside the image when it would leave it.
void draw_label(const Canvas& c, const std::string& text, cv::Point at, Rgb bg) {
  int baseline = 0;
  const cv::Size ts = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, c.font, 1, &baseline);
  const int w = ts.width + 4, h = ts.height + baseline + 2;
  int x = std::clamp(at.x, 0, std::max(0, c.mat.cols - w));
  int y = std::clamp(at.y - h, 0, std::max(0, c.mat.rows - h));
  cv::Mat m = c.mat;
  cv::rectangle(m, cv::Point(x, y), cv::Point(x + w, y + h), c.color(bg), cv::FILLED);
  cv::putText(m, text, cv::Point(x + 2, y + ts.height + 1), cv::FONT_HERSHEY_SIMPLEX, c.font, cv::Scalar(0, 0, 0), 1,
              cv::LINE_AA);
}

void draw_zones(Canvas& c, const OverlayInput& in, int src_w, int src_h) {
  const float alpha = std::clamp(in.zone_alpha, 0.0F, 1.0F);
  const cv::Rect frame(0, 0, c.mat.cols, c.mat.rows);
  for (std::size_t zone_idx = 0; zone_idx < in.zones->size(); ++zone_idx) {
    const ZoneConfig& zone = (*in.zones)[zone_idx];
    const std::vector<PointF> poly = zone_polygon_pixels(zone, src_w, src_h);
    if (poly.size() < 3) continue;
    std::vector<cv::Point> pts;
    pts.reserve(poly.size());
    for (const PointF& p : poly) pts.push_back(c.point(p));
    const cv::Scalar color = c.color(zone_color(zone_idx));
    // Blend only inside the polygon's bounding box: a full-frame addWeighted
    // would cost ~1 ms per zone at 720p.
    const cv::Rect box = cv::boundingRect(pts) & frame;
    if (box.area() > 0 && alpha > 0) {
      cv::Mat roi = c.mat(box);
      cv::Mat filled = roi.clone();
      std::vector<cv::Point> local;
      local.reserve(pts.size());
      for (const cv::Point& p : pts) local.push_back(p - box.tl());
      cv::fillPoly(filled, std::vector<std::vector<cv::Point>>{local}, color, cv::LINE_8);
      cv::addWeighted(filled, static_cast<double>(alpha), roi, 1.0 - static_cast<double>(alpha), 0.0, roi);
    }
    cv::polylines(c.mat, std::vector<std::vector<cv::Point>>{pts}, true, color, c.thickness, cv::LINE_AA);
    std::string label = zone.name;
    if (in.occupancy) {
      const auto it = in.occupancy->find(zone.name);
      if (it != in.occupancy->end()) {
        int n = 0;
        for (const auto& [cls, count] : it->second) n += count;
        label.push_back(' ');
        label.append(std::to_string(n));
      }
    }
    // Label at the top-most vertex, where it is least likely to hide the zone.
    const cv::Point top = *std::min_element(pts.begin(), pts.end(), [](const cv::Point& a, const cv::Point& b) {
      return a.y < b.y || (a.y == b.y && a.x < b.x);
    });
    draw_label(c, label, top, zone_color(zone_idx));
  }
}

void draw_lines(Canvas& c, const OverlayInput& in, int src_w, int src_h) {
  const Rgb rgb = line_color();
  const cv::Scalar color = c.color(rgb);
  for (const LineConfig& line : *in.lines) {
    const LineSegment seg = line_segment_pixels(line, src_w, src_h);
    const cv::Point a = c.point(seg.a), b = c.point(seg.b);
    cv::line(c.mat, a, b, color, c.thickness + 1, cv::LINE_AA);
    // "in" is a crossing from the walker's left to right (a -> b, y down, see
    // line.h); the right-hand normal of (dx, dy) is (-dy, dx).
    const double dx = b.x - a.x, dy = b.y - a.y;
    const double len = std::hypot(dx, dy);
    if (len >= 1.0) {
      const double arrow = std::clamp(len * 0.25, 12.0, 60.0);
      const double nx = -dy / len, ny = dx / len;
      const double mx = (a.x + b.x) * 0.5, my = (a.y + b.y) * 0.5;
      const cv::Point from(static_cast<int>(std::lround(mx - nx * arrow * 0.5)),
                           static_cast<int>(std::lround(my - ny * arrow * 0.5)));
      const cv::Point to(static_cast<int>(std::lround(mx + nx * arrow * 0.5)),
                         static_cast<int>(std::lround(my + ny * arrow * 0.5)));
      cv::arrowedLine(c.mat, from, to, color, c.thickness + 1, cv::LINE_AA, 0, 0.35);
    }
    std::string label = line.name;
    if (in.line_counts) {
      const auto it = in.line_counts->find(line.name);
      if (it != in.line_counts->end()) {
        const auto get = [&](const char* key) -> std::int64_t {
          const auto k = it->second.find(key);
          return k == it->second.end() ? 0 : k->second;
        };
        char counts[64];
        std::snprintf(counts, sizeof counts, " in %lld / out %lld", static_cast<long long>(get("in")),  // NOLINT
                      static_cast<long long>(get("out")));                                            // NOLINT
        label.append(counts);
      }
    }
    draw_label(c, label, a.y <= b.y ? a : b, rgb);
  }
}

void draw_trails(Canvas& c, const OverlayInput& in) {
  std::vector<cv::Point> pts;
  for (const Track& t : *in.tracks) {
    if (t.state == TrackState::kRemoved) continue;
    const std::deque<PointF>* trail = in.trails->trail(t.id);
    if (!trail || trail->size() < 2) continue;
    pts.clear();
    for (const PointF& p : *trail) pts.push_back(c.point(p));
    cv::polylines(c.mat, std::vector<std::vector<cv::Point>>{pts}, false, c.color(class_color(t.class_id)),
                  c.thickness, cv::LINE_AA);
  }
}

void draw_tracks(Canvas& c, const OverlayInput& in) {
  char label[160];
  for (const Track& t : *in.tracks) {
    if (t.state == TrackState::kRemoved) continue;
    const Rgb rgb = class_color(t.class_id);
    const cv::Point p1 = c.point(PointF{t.box.x1, t.box.y1});
    const cv::Point p2 = c.point(PointF{t.box.x2, t.box.y2});
    cv::rectangle(c.mat, p1, p2, c.color(rgb), c.thickness + 1, cv::LINE_8);
    const std::string name = class_name(in.class_names ? *in.class_names : std::vector<std::string>{}, t.class_id);
    // The id shown is the per-stream part (ids are stream x span + n, see track.h).
    std::snprintf(label, sizeof label, "%s %.2f #%lld", name.c_str(), static_cast<double>(t.score),
                  static_cast<long long>(t.id % TrackIdAllocator::kStreamIdSpan));  // NOLINT(google-runtime-int)
    draw_label(c, label, p1, rgb);
  }
}

void draw_boxes(Canvas& c, const std::vector<Box>& boxes, Rgb rgb, bool dashed) {
  for (const Box& b : boxes) {
    const cv::Point p1 = c.point(PointF{b.x1, b.y1});
    const cv::Point p2 = c.point(PointF{b.x2, b.y2});
    if (!dashed) {
      cv::rectangle(c.mat, p1, p2, c.color(rgb), c.thickness, cv::LINE_8);
      continue;
    }
    // Dashes of 8 pixels along each side.
    const cv::Point corners[4] = {p1, {p2.x, p1.y}, p2, {p1.x, p2.y}};
    for (int k = 0; k < 4; ++k) {
      const cv::Point a = corners[k], d = corners[(k + 1) % 4] - a;
      const double len = std::hypot(d.x, d.y);
      for (double s = 0; s < len; s += 16) {
        const double e = std::min(len, s + 8);
        cv::line(c.mat, a + cv::Point(static_cast<int>(d.x * s / len), static_cast<int>(d.y * s / len)),
                 a + cv::Point(static_cast<int>(d.x * e / len), static_cast<int>(d.y * e / len)), c.color(rgb),
                 c.thickness, cv::LINE_8);
      }
    }
  }
}

}  // namespace

void draw_overlay(Image& image, const OverlayInput& input) {
  if (image.empty() || image.format == PixelFormat::kGray8) return;
  Canvas c;
  c.mat = cv::Mat(image.height, image.width, CV_8UC3, image.pixels.data(), static_cast<std::size_t>(image.stride()));
  c.bgr = image.format == PixelFormat::kBgr24;
  const int src_w = input.source_w > 0 ? input.source_w : image.width;
  const int src_h = input.source_h > 0 ? input.source_h : image.height;
  c.sx = static_cast<float>(image.width) / static_cast<float>(src_w);
  c.sy = static_cast<float>(image.height) / static_cast<float>(src_h);
  c.thickness = std::max(1, std::min(image.width, image.height) / 360);
  c.font = std::max(0.4, std::min(image.width, image.height) / 1400.0);
  // Back to front: zones, lines, trails, boxes (labels stay readable on top).
  if (input.zones) draw_zones(c, input, src_w, src_h);
  if (input.lines) draw_lines(c, input, src_w, src_h);
  if (input.motion) draw_boxes(c, *input.motion, Rgb{255, 220, 0}, false);
  if (input.regions) draw_boxes(c, *input.regions, Rgb{0, 220, 255}, true);
  if (input.tracks && input.trails) draw_trails(c, input);
  if (input.tracks) draw_tracks(c, input);
}

}  // namespace vigil
