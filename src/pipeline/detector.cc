#include "pipeline/detector.h"

#include <algorithm>
#include <chrono>

namespace vigil {
namespace {
double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

Detector::Detector(std::unique_ptr<Backend> backend, DetectorOptions options)
    : backend_(std::move(backend)), options_(options) {}

Result<std::unique_ptr<Detector>> Detector::create(const BackendOptions& options, DetectorOptions detector) {
  auto backend = Backend::open(options);
  if (!backend) return fail(backend.error());
  return std::unique_ptr<Detector>(new Detector(std::move(*backend), detector));
}

InputSize Detector::input_size_for(int src_w, int src_h) const {
  return choose_input_size(info(), src_w, src_h, options_.rectangular);
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
  // Input size -> the images that run at it, in order of first appearance.
  std::vector<std::pair<InputSize, std::vector<std::size_t>>> groups;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const Image& img = *images[i];
    if (img.empty() || img.format == PixelFormat::kGray8)
      return fail(ErrorCode::kInvalidArgument, "detector input " + std::to_string(i) + " is empty or not colour");
    const InputSize size = input_size_for(img.width, img.height);
    auto g = std::find_if(groups.begin(), groups.end(), [&](const auto& e) { return e.first == size; });
    if (g == groups.end()) g = groups.insert(groups.end(), {size, {}});
    g->second.push_back(i);
  }
  DetectTimings t;
  for (const auto& [size, indices] : groups)
    if (auto r = detect_at(size, images, options, indices, result, t); !r) return fail(r.error());
  if (timings) *timings = t;
  return result;
}

Result<void> Detector::detect_at(InputSize size, std::span<const Image* const> images,
                                 std::span<const DecodeOptions* const> options, const std::vector<std::size_t>& indices,
                                 std::vector<std::vector<Detection>>& result, DetectTimings& timings) const {
  const auto t0 = std::chrono::steady_clock::now();
  const PreprocessSpec spec = PreprocessSpec::from(info(), size);
  const std::size_t per_image = spec.tensor_elements();
  std::vector<float> input(per_image * indices.size());  // [B,3,H,W] or [B,H,W,3]
  std::vector<LetterboxTransform> transforms;
  transforms.reserve(indices.size());
  for (std::size_t k = 0; k < indices.size(); ++k)
    transforms.push_back(letterbox_into(*images[indices[k]], spec, input.data() + per_image * k));
  const auto t1 = std::chrono::steady_clock::now();
  auto outputs = backend_->run(input.data(), static_cast<int>(indices.size()), size);
  if (!outputs) return fail(outputs.error());
  ++timings.runs;
  const auto t2 = std::chrono::steady_clock::now();
  if (auto ok = check_output_shapes(info(), *outputs, size); !ok) return fail(ok.error());
  for (std::size_t k = 0; k < indices.size(); ++k) {
    auto dets = decode_detections(info(), *outputs, static_cast<int>(k), *options[indices[k]], size);
    for (auto& d : dets) d.box = transforms[k].to_source(d.box);
    // A box that collapses after clipping to the image is not a detection.
    std::erase_if(dets, [](const Detection& d) { return d.box.width() <= 0 || d.box.height() <= 0; });
    result[indices[k]] = std::move(dets);
  }
  timings.preprocess_ms += std::chrono::duration<double, std::milli>(t1 - t0).count();
  timings.inference_ms += std::chrono::duration<double, std::milli>(t2 - t1).count();
  timings.postprocess_ms += ms_since(t2);
  return {};
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
