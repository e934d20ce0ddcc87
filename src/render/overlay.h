// Overlay drawing on BGR/RGB images. Pure drawing, no threads.
//
// draw_detections: boxes and "name score" labels (vigil detect).
// draw_overlay: the live "X-ray" view of a stream: zones (translucent fill,
// outline, "name N" occupancy), counting lines (name, an arrow pointing to
// the "in" side, "in N / out M"), track boxes labelled "class score #id" in a
// per-class colour, and short trails of each track's recent centre points.
//
// Coordinates: tracks, trails and pixel (non-normalised) zones/lines are in
// SOURCE-frame pixels; OverlayInput::source_w/h says how big that frame is,
// so the overlay can be drawn on a downscaled image. Normalised zones/lines
// are scaled to the source size with zone_polygon_pixels/line_segment_pixels.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "analytics/geometry.h"
#include "analytics/line.h"
#include "analytics/zone.h"
#include "core/detection.h"
#include "core/image.h"
#include "core/track.h"

namespace vigil {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
};

// A stable, distinct colour per class id.
Rgb class_color(int class_id);

// Draws each detection's box and a "name score" label (image format kept).
void draw_detections(Image& image, const std::vector<Detection>& detections,
                     const std::vector<std::string>& class_names);

// The last few box centres of every track of one stream, for trails.
// One object per stream, owned by the caller (the stream's display observer);
// not thread-safe: update and draw from the same thread (the stream loop).
// Call update() on EVERY displayed frame, watched or not, so trails are ready
// when a viewer arrives; it costs a hash lookup per track.
class TrailHistory {
 public:
  // max_points: centres kept per track (oldest dropped first).
  // expiry_s: a track not seen for this long (media time) is forgotten.
  explicit TrailHistory(std::size_t max_points = 20, double expiry_s = 1.0);

  // tracks: this frame's tracks (source-frame pixels); pts: media time, s.
  // Tracks in state kRemoved are forgotten at once. A pts that goes backwards
  // (file looped, stream restarted) clears every trail.
  void update(const std::vector<Track>& tracks, double pts);
  void clear();

  // Centres of `track_id`, oldest first, source-frame pixels; nullptr when unknown.
  const std::deque<PointF>* trail(std::int64_t track_id) const;
  std::size_t size() const { return trails_.size(); }  // tracks remembered

 private:
  struct Trail {
    std::deque<PointF> points;
    double last_pts = 0;
  };
  std::size_t max_points_;
  double expiry_s_;
  double last_pts_ = 0;
  bool has_pts_ = false;
  std::unordered_map<std::int64_t, Trail> trails_;  // track id -> trail
};

// Everything draw_overlay may draw; null pointers and empty maps are skipped.
// Pointers are borrowed for the duration of the call only.
struct OverlayInput {
  const std::vector<Track>* tracks = nullptr;       // source-frame pixels
  const std::vector<ZoneConfig>* zones = nullptr;
  const std::vector<LineConfig>* lines = nullptr;
  // zone name -> class name -> tracks inside (StreamSnapshot::occupancy); the
  // label shows the sum over classes. Zones missing from the map show no count.
  const std::map<std::string, std::map<std::string, int>>* occupancy = nullptr;
  // line name -> {"in": n, "out": m} (StreamSnapshot::line_counts).
  const std::map<std::string, std::map<std::string, std::int64_t>>* line_counts = nullptr;
  const std::vector<std::string>* class_names = nullptr;  // [class_id]; missing ids print "classN"
  const TrailHistory* trails = nullptr;
  // Motion regions (source-frame pixels): motion boxes drawn as thin yellow
  // outlines, the crops analysed as dashed cyan ones. Null: not drawn.
  const std::vector<Box>* motion = nullptr;
  const std::vector<Box>* regions = nullptr;
  // Size of the frame the coordinates refer to; 0 = the image's own size.
  int source_w = 0;
  int source_h = 0;
  float zone_alpha = 0.25F;  // opacity of the zone fill, 0..1
};

// Draws `input` on a BGR or RGB image in place (gray images are left as is).
// Cost grows with the zones' bounding boxes (the fill is blended only there)
// and the number of tracks; see docs/performance.md.
void draw_overlay(Image& image, const OverlayInput& input);

// Colour used for zone `zone_idx` (fill and outline) and for lines.
Rgb zone_color(std::size_t zone_idx);
Rgb line_color();

}  // namespace vigil
