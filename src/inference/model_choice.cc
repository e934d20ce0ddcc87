#include "inference/model_choice.h"

#include <filesystem>

namespace vigil {
namespace {

constexpr const char* kInt8Suffix = "-int8";

bool exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

std::string how_to_make(const std::string& fp32_path, const std::string& int8_path) {
  return "make it with `make build` (the default model) or `python3 tools/quantize/qdq_int8.py make --vigil "
         "build/vigil --model " + fp32_path + " --out " + int8_path + "` (tools/quantize/README.md)";
}

}  // namespace

std::string int8_model_path(const std::string& fp32_path) {
  std::filesystem::path p(fp32_path);
  const std::string ext = p.has_extension() ? p.extension().string() : ".onnx";
  return (p.parent_path() / (p.stem().string() + kInt8Suffix + ext)).string();
}

bool is_int8_model_name(const std::string& path) {
  const std::string stem = std::filesystem::path(path).stem().string();
  const std::string suffix = kInt8Suffix;
  return stem.size() > suffix.size() && stem.compare(stem.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Result<ModelChoice> choose_model_file(const std::string& model_path, ModelPrecision requested, const CpuFeatures& cpu) {
  if (is_int8_model_name(model_path)) {
    if (requested == ModelPrecision::kFp32)
      return fail(ErrorCode::kInvalidArgument, "fp32: " + model_path +
                                                   " is an INT8 copy; name the float32 model instead");
    return ModelChoice{model_path, ModelPrecision::kInt8, "the model file is an INT8 copy"};
  }
  const std::string int8 = int8_model_path(model_path);
  switch (requested) {
    case ModelPrecision::kFp32: return ModelChoice{model_path, ModelPrecision::kFp32, "requested"};
    case ModelPrecision::kInt8:
      if (!exists(int8))
        return fail(ErrorCode::kNotFound, "int8: " + int8 + " (the INT8 copy of " + model_path +
                                              ") does not exist; " + how_to_make(model_path, int8));
      return ModelChoice{int8, ModelPrecision::kInt8, "requested"};
    case ModelPrecision::kAuto: break;
  }
  if (!exists(int8)) return ModelChoice{model_path, ModelPrecision::kFp32, "auto: no INT8 copy (" + int8 + ")"};
  if (!cpu.has_int8_dot())
    return ModelChoice{model_path, ModelPrecision::kFp32,
                       "auto: this CPU lacks VNNI (has " + cpu.describe() + "), INT8 would not be faster"};
  return ModelChoice{int8, ModelPrecision::kInt8, "auto: INT8 copy present and the CPU has VNNI"};
}

}  // namespace vigil
