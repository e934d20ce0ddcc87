#include "inference/model_choice.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <utility>
#include <vector>

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

bool is_folder(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec);
}

// The .onnx files of `folder` by format, each list sorted by name.
std::map<ModelFileFormat, std::vector<std::string>> onnx_files_by_format(const std::string& folder) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
    std::error_code type_ec;
    if (entry.path().extension() == ".onnx" && entry.is_regular_file(type_ec)) files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  std::map<ModelFileFormat, std::vector<std::string>> out;
  for (const auto& f : files) out[model_file_format(f)].push_back(f);
  return out;
}

Result<ModelChoice> choose_in_folder(const std::string& folder, ModelPrecision requested, const CpuFeatures& cpu,
                                     bool gpu) {
  using F = ModelFileFormat;
  const auto files = onnx_files_by_format(folder);
  if (files.empty()) return fail(ErrorCode::kNotFound, "the model folder " + folder + " has no .onnx file");
  const auto pick = [&](F format, std::string why) -> ModelChoice {
    const auto& list = files.at(format);
    if (list.size() > 1) why += " (the first of " + std::to_string(list.size()) + " " + to_string(format) + " files by name)";
    return ModelChoice{list.front(), format == F::kInt8 ? ModelPrecision::kInt8 : ModelPrecision::kFp32,
                       "folder " + folder + ": " + why, format};
  };
  const auto has = [&](F f) { return files.count(f) > 0; };
  if (requested == ModelPrecision::kInt8) {
    if (!has(F::kInt8))
      return fail(ErrorCode::kNotFound,
                  "int8: the model folder " + folder + " has no INT8 .onnx file (a name ending in -int8.onnx)");
    return pick(F::kInt8, "requested");
  }
  const bool floats_only = requested == ModelPrecision::kFp32;  // fp32: FP32 or FP16, never the INT8 copy
  if (floats_only && !has(F::kFp32) && !has(F::kFp16))
    return fail(ErrorCode::kNotFound, "fp32: the model folder " + folder +
                                          " has no float .onnx file (FP32, or FP16 named *-fp16.onnx); "
                                          "model.precision: int8 or auto takes its INT8 file");
  std::vector<std::pair<F, std::string>> order;
  if (gpu) {
    order = {{F::kFp16, "auto: FP16 runs at full speed on a GPU provider"},
             {F::kFp32, "auto: no FP16 file; FP32 on the GPU provider"},
             {F::kInt8, "auto: only an INT8 file (made for CPUs)"}};
  } else if (cpu.has_int8_dot()) {
    order = {{F::kInt8, "auto: INT8 file present and the CPU has VNNI"},
             {F::kFp32, "auto: FP32 on the CPU"},
             {F::kFp16, "auto: only an FP16 file (the CPU provider runs FP16 slower than FP32)"}};
  } else {
    const std::string no_vnni = "this CPU lacks VNNI (has " + cpu.describe() + ")";
    order = {{F::kFp32, "auto: FP32, since " + no_vnni + " so INT8 would not be faster"},
             {F::kFp16, "auto: no FP32 file; FP16 (slower than FP32 on a CPU)"},
             {F::kInt8, "auto: only an INT8 file (" + no_vnni + ")"}};
  }
  for (const auto& [format, why] : order)
    if (has(format) && !(floats_only && format == F::kInt8))
      return pick(format, floats_only ? "fp32 (float files only): " + why.substr(std::string("auto: ").size()) : why);
  return fail(ErrorCode::kNotFound, "the model folder " + folder + " has no .onnx file");
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

static Result<ModelChoice> choose_single_file(const std::string& model_path, ModelPrecision requested, const CpuFeatures& cpu,
                                       bool gpu) {
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
  if (gpu)
    return ModelChoice{model_path, ModelPrecision::kFp32,
                       "auto: a GPU provider runs the model (the INT8 copy is for CPUs; TensorRT makes its own)"};
  if (!exists(int8)) return ModelChoice{model_path, ModelPrecision::kFp32, "auto: no INT8 copy (" + int8 + ")"};
  if (!cpu.has_int8_dot())
    return ModelChoice{model_path, ModelPrecision::kFp32,
                       "auto: this CPU lacks VNNI (has " + cpu.describe() + "), INT8 would not be faster"};
  return ModelChoice{int8, ModelPrecision::kInt8, "auto: INT8 copy present and the CPU has VNNI"};
}

Result<ModelChoice> choose_model_file(const std::string& model_path, ModelPrecision requested, const CpuFeatures& cpu,
                                      bool gpu) {
  if (is_folder(model_path)) return choose_in_folder(model_path, requested, cpu, gpu);
  auto choice = choose_single_file(model_path, requested, cpu, gpu);
  if (choice) choice->format = model_file_format(choice->path);
  return choice;
}

}  // namespace vigil
