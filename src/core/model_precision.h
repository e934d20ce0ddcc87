// Which copy of the detection model runs: the float32 original or its static
// INT8 (QDQ) copy made by tools/quantize (config `model.precision`, the
// commands' --precision). The config chooses, inference/model_choice.h turns
// the choice into a file; the enum lives here so neither depends on the other.
// Pure data; no threads.
#pragma once

#include <string_view>

#include "core/enum_names.h"
#include "core/error.h"

namespace vigil {

enum class ModelPrecision { kAuto, kFp32, kInt8 };

inline constexpr EnumName<ModelPrecision> kModelPrecisionNames[] = {
    {ModelPrecision::kAuto, "auto"}, {ModelPrecision::kFp32, "fp32"}, {ModelPrecision::kInt8, "int8"}};

inline const char* to_string(ModelPrecision p) { return enum_name<ModelPrecision>(kModelPrecisionNames, p); }

// kInvalidArgument "'x' is not one of auto, fp32, int8".
Result<ModelPrecision> parse_model_precision(std::string_view text);

// The number format of a model file, read from its name: a stem ending in
// "-int8" / "_int8" is an INT8 copy, "-fp16" / "_fp16" an FP16 one, any
// other float32 (Verolux's "precision": FP32, FP16, INT8).
enum class ModelFileFormat { kFp32, kFp16, kInt8 };
ModelFileFormat model_file_format(std::string_view path);
const char* to_string(ModelFileFormat f);  // "FP32", "FP16", "INT8"

}  // namespace vigil
