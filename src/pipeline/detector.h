// Detector: Backend + letterbox preprocessing + output decoding, one backend
// call per input size in a batch of images. Boxes come back in source-image
// pixels.
// Input sizes: each image runs at input_size_for(its size): the model's
// square nominal input, or with `rectangular` on a dynamic-size model the
// smallest stride multiple that holds its letterbox (choose_input_size).
// Images of different input sizes never share a backend call: detect()
// groups them by size (one call per size, in order of first appearance) and
// returns results in input order.
// Thread-safety: detect() is const and may run on several threads at once.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/detection.h"
#include "core/error.h"
#include "core/image.h"
#include "inference/backend.h"
#include "inference/letterbox.h"
#include "models/decoder.h"

namespace vigil {

struct DetectTimings {
  double preprocess_ms = 0;
  double inference_ms = 0;
  double postprocess_ms = 0;
  int runs = 0;  // Backend::run calls: one per distinct input size in the batch
};

struct DetectorOptions {
  // Rectangular inputs for dynamic-size models (model.rectangular); false =
  // always the square nominal letterbox.
  bool rectangular = true;
};

class Detector {
 public:
  static Result<std::unique_ptr<Detector>> create(const BackendOptions& options, DetectorOptions detector = {});

  const ModelInfo& info() const { return backend_->info(); }
  const Backend& backend() const { return *backend_; }
  bool rectangular() const { return options_.rectangular; }
  // The model input an image of src_w x src_h runs at (pure; any thread).
  InputSize input_size_for(int src_w, int src_h) const;

  // images: BGR or RGB; result[i] holds the detections of images[i].
  // timings (optional) receives the time spent in each stage for the whole batch.
  Result<std::vector<std::vector<Detection>>> detect(std::span<const Image* const> images,
                                                     const DecodeOptions& options,
                                                     DetectTimings* timings = nullptr) const;
  // Same, with decode options per image (options[i] for images[i]).
  Result<std::vector<std::vector<Detection>>> detect(std::span<const Image* const> images,
                                                     std::span<const DecodeOptions* const> options,
                                                     DetectTimings* timings = nullptr) const;

 private:
  Detector(std::unique_ptr<Backend> backend, DetectorOptions options);
  // One backend call for the images[indices] (all of input size `size`).
  Result<void> detect_at(InputSize size, std::span<const Image* const> images, std::span<const DecodeOptions* const> options,
                         const std::vector<std::size_t>& indices, std::vector<std::vector<Detection>>& result,
                         DetectTimings& timings) const;
  std::unique_ptr<Backend> backend_;
  DetectorOptions options_;
};

// Turns class names (e.g. from --classes person,car) into a DecodeOptions mask;
// an unknown name is an error that lists it.
Result<std::vector<bool>> class_mask_from_names(const ModelInfo& info, const std::vector<std::string>& names);

}  // namespace vigil
