// MotionDetector: where the picture moved, from a small luma image, for the
// live pipeline's motion regions (pipeline/motion_regions.h).
//
// Per analysis candidate (the method of Frigate's "improved" motion detector,
// our code, OpenCV imgproc):
//   the Y plane is area-averaged to a motion image `height` rows high (aspect
//   kept; 90 rows: 160x90 for 16:9), blurred 3x3;
//   difference = |image - background| (background: a running average,
//   cv::accumulateWeighted with `alpha` (0.02) after every frame: at every 4
//   of 25 fps a still object fades into it with a half-life of ~5.5 s);
//   changed pixels: difference > threshold, dilated once (3x3) to join the
//   pieces of one object;
//   boxes: the connected components of at least `min_area` full-frame pixels,
//   overlapping boxes merged, mapped to full-frame pixels;
//   a global change (more than `global_change` of the pixels changed at once:
//   lights switched, auto exposure, IR mode, a camera moved) gives no boxes and
//   resets the background to this frame (recalibration), as Frigate does above
//   its lightning_threshold.
// The first frame (and the first after a size change or reset) only sets the
// background: `calibrating` is true and there are no boxes; callers analyse the
// whole frame then.
//
// Value types and one object per stream; not thread-safe: the stream loop
// calls it. No I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/detection.h"
#include "core/error.h"

namespace vigil {

struct MotionConfig {
  // Analyse only frames with motion or active tracks, and optionally only the
  // regions around them (docs/config.md). Off by default (see docs/architecture.md,
  // "Motion regions", for why).
  bool enabled = false;
  // Difference from the background (0..255 luma levels) above which a pixel moved.
  int threshold = 25;
  // Smallest motion box, in full-frame pixels (width x height of its component).
  int min_area = 400;
  // Rows of the motion image (columns follow the frame's aspect).
  int height = 90;
  // Background update weight per analysed candidate (0..1].
  double alpha = 0.02;
  // Fraction of the motion image that changed at once above which the change
  // is global (lighting): no boxes, background reset.
  double global_change = 0.8;
  // Detect on crops around motion and tracks instead of the whole frame when
  // they are few, small and no dearer (pipeline/motion_regions.h).
  bool crops = false;
  // Crops: at most this many regions, covering at most this fraction of the frame.
  int max_crops = 4;
  double max_crop_area = 0.5;
  // Analyse the whole frame at least every this many seconds of media time even
  // without motion (objects that appeared without moving, a missed change); 0 = never.
  double refresh_s = 10;

  // "PATH.field: problem" for relations the field table cannot express.
  Result<void> validate(const std::string& path) const;
};

struct MotionResult {
  std::vector<Box> boxes;    // full-frame pixels, merged, none overlapping
  double changed = 0;        // fraction of motion-image pixels that changed (before global_change)
  bool calibrating = false;  // no background yet: only this frame's picture was learnt
  bool global_change = false;  // most of the picture changed: ignored, background reset
};

class MotionDetector {
 public:
  explicit MotionDetector(MotionConfig config);

  // plane: the frame's luma (Y) plane, width x height pixels, `stride` bytes a row.
  MotionResult detect(const std::uint8_t* plane, int width, int height, int stride);
  // Forgets the background (the next frame calibrates again).
  void reset();

  // The motion image size for a width x height frame (tests, stats).
  static void motion_size(int width, int height, int rows, int& mw, int& mh);
  const MotionConfig& config() const { return config_; }

 private:
  MotionConfig config_;
  int mw_ = 0, mh_ = 0;              // motion image size of the current background
  int frame_w_ = 0, frame_h_ = 0;    // frame size it came from
  std::vector<float> background_;    // [mh_ * mw_] running average
};

// Merges boxes that overlap (or touch within `gap` pixels) into their union,
// until none do. Pure; order of the result: by x1, then y1.
std::vector<Box> merge_overlapping(std::vector<Box> boxes, float gap = 0);

}  // namespace vigil
