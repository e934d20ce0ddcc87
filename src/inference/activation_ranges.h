// ActivationRanges: the range (min, max) of every output of a model over a set
// of calibration images, for static INT8 quantization (tools/quantize). The
// model is a copy of the detector's graph with the intermediate tensors to be
// quantized added as graph outputs (qdq_int8.py augment); each image is
// letterboxed exactly as Detector does (PreprocessSpec::from the model's
// ModelInfo, letterbox_into) and run through Backend, so the ranges are those
// of the tensors the detector computes.
// Min/max (not percentiles): see tools/quantize/README.md.
// Not thread-safe: one collector per thread; the Backend is only read.
#pragma once

#include <map>
#include <string>

#include "core/error.h"
#include "core/image.h"
#include "inference/backend.h"

namespace vigil {

struct TensorRange {
  float min = 0;
  float max = 0;
};

class ActivationRanges {
 public:
  // `backend` must outlive the collector.
  explicit ActivationRanges(const Backend& backend);

  // Runs one image (kBgr24 or kRgb24) at the model's nominal input size and
  // widens the range of every output by its values. Errors: an empty or grey
  // image, inference failure, a non-finite value (names the tensor).
  Result<void> add(const Image& image);

  int images() const { return images_; }
  // Output name -> range over the images added so far.
  const std::map<std::string, TensorRange>& ranges() const { return ranges_; }

 private:
  const Backend& backend_;
  std::map<std::string, TensorRange> ranges_;
  int images_ = 0;
};

}  // namespace vigil
