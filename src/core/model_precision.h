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

}  // namespace vigil
