#include "pipeline/detector.h"

#include <chrono>

namespace vigil {
namespace {
double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

Detector::Detector(std::unique_ptr<Backend> backend)
    : backend_(std::move(backend)), spec_(PreprocessSpec::from(backend_->info())) {}

Result<std::unique_ptr<Detector>> Detector::create(const BackendOptions& options) {
  auto backend = Backend::open(options);
  if (!backend) return fail(backend.error());
  return std::unique_ptr<Detector>(new Detector(std::move(*backend)));
}

Result<std::vector<std::vector<Detection>>> Detector::detect(std::span<const Image* const> images,
                                                             const DecodeOptions& options,
                                                             DetectTimings* timings) const {
  std::vector<const DecodeOptions*> per_image(images.size(), &options);
  return detect(images, per_image, timings);
}

Result<std::vector<std::vector<Detection>>> Detector::detect(std::span<const Image* const> images,
                                                             std::span<const DecodeOptions* const> options,
                                                             DetectTimings* timings) const {
  if (options.size() != images.size())
    return fail(ErrorCode::kInvalidArgument, "detector: one DecodeOptions per image is needed");
  std::vector<std::vector<Detection>> result(images.size());
  if (images.empty()) return result;
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t per_image = spec_.tensor_elements();
  std::vector<float> input(per_image * images.size());  // [B,3,H,W] or [B,H,W,3]
  std::vector<LetterboxTransform> transforms;
  transforms.reserve(images.size());
  for (std::size_t i = 0; i < images.size(); ++i) {
    const Image& img = *images[i];
    if (img.empty() || img.format == PixelFormat::kGray8)
      return fail(ErrorCode::kInvalidArgument, "detector input " + std::to_string(i) + " is empty or not colour");
    transforms.push_back(letterbox_into(img, spec_, input.data() + per_image * i));
  }
  const auto t1 = std::chrono::steady_clock::now();
  auto outputs = backend_->run(input.data(), static_cast<int>(images.size()));
  if (!outputs) return fail(outputs.error());
  const auto t2 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < images.size(); ++i) {
    auto dets = decode_detections(info(), *outputs, static_cast<int>(i), *options[i]);
    for (auto& d : dets) d.box = transforms[i].to_source(d.box);
    // A box that collapses after clipping to the image is not a detection.
    std::erase_if(dets, [](const Detection& d) { return d.box.width() <= 0 || d.box.height() <= 0; });
    result[i] = std::move(dets);
  }
  if (timings) {
    timings->preprocess_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
    timings->inference_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
    timings->postprocess_ms = ms_since(t2);
  }
  return result;
}

Result<std::vector<bool>> class_mask_from_names(const ModelInfo& info, const std::vector<std::string>& names) {
  std::vector<bool> mask;
  if (names.empty()) return mask;
  mask.assign(info.class_names.size(), false);
  std::string unknown;
  for (const auto& n : names) {
    bool found = false;
    for (std::size_t c = 0; c < info.class_names.size(); ++c) {
      if (info.class_names[c] == n) {
        mask[c] = true;
        found = true;
      }
    }
    if (!found) unknown += (unknown.empty() ? "'" : ", '") + n + "'";
  }
  if (!unknown.empty())
    return fail(ErrorCode::kInvalidArgument, "--classes: unknown class " + unknown + " for model " + info.path +
                                                 " (it has " + std::to_string(info.class_names.size()) + " classes, e.g. '" +
                                                 (info.class_names.empty() ? std::string() : info.class_names[0]) + "')");
  return mask;
}

}  // namespace vigil
