#include "inference/activation_ranges.h"

#include <cmath>
#include <vector>

#include "inference/letterbox.h"

namespace vigil {

ActivationRanges::ActivationRanges(const Backend& backend) : backend_(backend) {}

Result<void> ActivationRanges::add(const Image& image) {
  if (image.empty() || (image.format != PixelFormat::kBgr24 && image.format != PixelFormat::kRgb24))
    return fail(ErrorCode::kInvalidArgument, "calibration image is empty or not colour");
  const PreprocessSpec spec = PreprocessSpec::from(backend_.info());
  std::vector<float> input(spec.tensor_elements());  // [1,3,H,W] (or [1,H,W,3]) as the detector feeds it
  letterbox_into(image, spec, input.data());
  auto outputs = backend_.run(input.data(), 1);
  if (!outputs) return fail(outputs.error());
  const auto& descs = backend_.info().outputs;
  for (std::size_t i = 0; i < outputs->size() && i < descs.size(); ++i) {
    const auto& values = (*outputs)[i].data;
    if (values.empty()) continue;
    TensorRange r{values[0], values[0]};
    for (float v : values) {
      if (!std::isfinite(v))
        return fail(ErrorCode::kRuntime, "tensor '" + descs[i].name + "' holds a non-finite value");
      r.min = std::min(r.min, v);
      r.max = std::max(r.max, v);
    }
    auto [it, fresh] = ranges_.try_emplace(descs[i].name, r);
    if (!fresh) {
      it->second.min = std::min(it->second.min, r.min);
      it->second.max = std::max(it->second.max, r.max);
    }
  }
  ++images_;
  return {};
}

}  // namespace vigil
