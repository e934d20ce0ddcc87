// Which model file runs for a `model.precision` (auto | fp32 | int8): the
// float32 model the user named, or its INT8 copy beside it, named
// "<stem>-int8.onnx" (tools/quantize writes it; `make build` makes the
// default model's). The rule of auto is written out in choose_model_file().
// Pure apart from one existence check of the INT8 file; no threads.
#pragma once

#include <string>

#include "core/cpu_features.h"
#include "core/error.h"
#include "core/model_precision.h"

namespace vigil {

struct ModelChoice {
  std::string path;                                // the file to load
  ModelPrecision precision = ModelPrecision::kFp32;  // kFp32 or kInt8, never kAuto
  std::string reason;                              // why this file, for the start-up log
};

// "models/nanodet-m-416.onnx" -> "models/nanodet-m-416-int8.onnx".
std::string int8_model_path(const std::string& fp32_path);

// True for a file named like an INT8 copy ("...-int8.onnx").
bool is_int8_model_name(const std::string& path);

// fp32: `model_path` as given. int8: its INT8 copy, kNotFound when that file
// is missing (the message names it and how to make it). auto: the INT8 copy
// when it exists and the CPU has VNNI (AVX512-VNNI or AVX-VNNI: int8 dot
// products without the saturation of the older AVX2/AVX-512BW path; measured
// 2x faster than float32 there, docs/performance.md), else fp32. A model
// named like an INT8 copy runs as given for auto and int8; fp32 then is an
// error.
Result<ModelChoice> choose_model_file(const std::string& model_path, ModelPrecision requested,
                                      const CpuFeatures& cpu = cpu_features());

}  // namespace vigil
