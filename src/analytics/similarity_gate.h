// SimilarityGate: skips analysis of frames that look like the last ANALYSED
// frame (static scenes), comparing small luma thumbnails.
//
// Metric (similarity(), 1 = identical):
//   d = a - b per thumbnail pixel;
//   offset = median(d)                     (a global brightness shift, e.g. auto exposure, is not change);
//   noise  = 1.4826 * median(|d - offset|) (robust std of the frame-to-frame noise);
//   threshold = clamp(4 * noise, pixel_threshold, 3 * pixel_threshold);
//   a pixel has changed when |d - offset| > threshold;
//   similarity = 1 - the largest fraction of changed pixels among the 4x3
//                regions of the frame.
// Area averaging into the thumbnail removes most sensor/encoder noise; the
// threshold removes the rest (and adapts to very noisy low-resolution
// sources). Taking the worst REGION rather than the whole frame keeps small
// moving objects visible: in vtest.avi a few walking people change only ~2%
// of the whole thumbnail between frames but 5-20% of the region they are in.
//
// Calibration (default config: 64x36 thumbnail, similarity 0.95,
// pixel_threshold 12; candidates = every Nth decoded frame, each compared with
// the last ANALYSED one; frames decoded to gray with the ffmpeg CLI; measured
// 2026-11-23 with this code):
//   source                                              every=1 skipped  every=4 skipped
//   vtest.avi 768x576 10 fps, a few walking people        4.3% (34/795)     2.0% (4/199)
//   vtest.avi scaled to 320x240                           4.2% (33/795)     2.0% (4/199)
//   vtest.avi 320x240 + noise 40 (*), x264 crf 30       16.0% (127/795)     2.0% (4/199)
//   still: dog.jpg looped 10 s, x264 25 fps             99.6% (249/250)    98.4% (62/63)
//   still: dog.jpg + noise 12 (*), x264 crf 23          99.6% (249/250)    98.4% (62/63)
//   still: dog.jpg 320x180 + noise 40 (*), x264 crf 30  99.5% (199/200)    98.0% (49/50)
//   real camera, static: vtest.avi empty-grass crop
//     320x160 at (0,416), frames 0-479                  99.8% (479/480)  99.2% (119/120)
// (*) ffmpeg -vf noise=alls=N:allf=t (temporal noise, before encoding).
// (The first candidate of a still is always analysed: 1 of 250 is 0.4%.)
// Rejected metrics, same data, at 0.95: "1 - mean |d| / 255" skips 99.9% /
// 99.5% of vtest.avi; "1 - fraction of changed pixels over the whole frame"
// (> 12 levels, no regions) skips 82.5% / 47.7%, and without the adaptive
// threshold the noise-40 still is never skipped (0%).
//
// Value types and pure functions; one SimilarityGate per stream, not
// thread-safe: called from that stream's thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"

namespace vigil {

struct GateConfig {
  // Skip frames similar to the last analysed one. Off by default: a skipped
  // frame is not detected at all, the tracker only predicts through it.
  bool enabled = false;
  // Frames with similarity >= this are skipped; 0..1 (1 skips only frames in which no pixel changed).
  double similarity = 0.95;
  // Thumbnail size in pixels: thumb_w 4..256; thumb_h 4..256, or 0 to keep the source aspect ratio.
  int thumb_w = 64;
  int thumb_h = 36;
  // > 0: analyse after this many consecutive skips even if nothing changed
  // (picks up slow changes and refreshes the tracker). 0 = no limit.
  int max_skip = 0;
  // Minimum difference (0..255 luma levels, of the thumbnail) for a pixel to
  // count as changed; raised automatically for noisy sources, up to 3x.
  int pixel_threshold = 12;

  // `path` names this section in the config, e.g. "streams[2].gate".
  Result<void> validate(const std::string& path) const;
};

struct Thumbnail {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;  // [height, width] 8-bit luma, row-major, no padding

  bool empty() const { return width <= 0 || height <= 0; }
};

// Area-average downscale of an 8-bit luma plane (a gray image, or the Y plane
// of a YUV frame straight from the decoder). stride: bytes between rows
// (>= width, may be negative for bottom-up planes). tw x th is clamped to the
// source size; th <= 0 keeps the aspect ratio. Returns an empty thumbnail for
// a null or empty plane.
Thumbnail make_thumbnail(const std::uint8_t* plane, int width, int height, int stride, int tw, int th);

// The metric above, in [0, 1]. Thumbnails of different sizes (or empty ones)
// have similarity 0.
double similarity(const Thumbnail& a, const Thumbnail& b, int pixel_threshold = GateConfig{}.pixel_threshold);

class SimilarityGate {
 public:
  explicit SimilarityGate(GateConfig config = {});

  // true: the caller analyses this frame, and the gate keeps `thumb` as the
  // reference for the next candidates. false: skip it. Always true when the
  // gate is disabled, for the first candidate, and after max_skip skips.
  bool should_analyse(const Thumbnail& thumb);

  // Forget the reference (after a seek or a reconnect): the next candidate passes.
  void reset();

  // Similarity of the last candidate to the reference (1 when disabled or no
  // reference); 1 - this is the stream's motion for the interval controller.
  double last_similarity() const { return last_similarity_; }
  std::uint64_t skipped() const { return skipped_; }
  std::uint64_t passed() const { return passed_; }
  const GateConfig& config() const { return config_; }

 private:
  GateConfig config_;
  Thumbnail reference_;
  int consecutive_skips_ = 0;
  double last_similarity_ = 1.0;
  std::uint64_t skipped_ = 0;
  std::uint64_t passed_ = 0;
};

}  // namespace vigil
