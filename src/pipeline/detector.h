// Detector: Backend + letterbox preprocessing + output decoding, one call per
// batch of images. Boxes come back in source-image pixels.
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
};

class Detector {
 public:
  static Result<std::unique_ptr<Detector>> create(const BackendOptions& options);

  const ModelInfo& info() const { return backend_->info(); }
  const Backend& backend() const { return *backend_; }

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
  explicit Detector(std::unique_ptr<Backend> backend);
  std::unique_ptr<Backend> backend_;
  PreprocessSpec spec_;
};

// Turns class names (e.g. from --classes person,car) into a DecodeOptions mask;
// an unknown name is an error that lists it.
Result<std::vector<bool>> class_mask_from_names(const ModelInfo& info, const std::vector<std::string>& names);

}  // namespace vigil
