#include "core/model_precision.h"

#include <string>

namespace vigil {

Result<ModelPrecision> parse_model_precision(std::string_view text) {
  if (auto p = parse_enum<ModelPrecision>(kModelPrecisionNames, text)) return *p;
  std::string message = "'";
  message.append(text).append("' is not one of ").append(enum_names_list<ModelPrecision>(kModelPrecisionNames));
  return fail(ErrorCode::kInvalidArgument, std::move(message));
}

namespace {

bool stem_ends_with(std::string_view stem, std::string_view a, std::string_view b) {
  const auto ends = [&](std::string_view suffix) {
    return stem.size() > suffix.size() && stem.substr(stem.size() - suffix.size()) == suffix;
  };
  return ends(a) || ends(b);
}

}  // namespace

ModelFileFormat model_file_format(std::string_view path) {
  const auto slash = path.find_last_of('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const auto dot = name.find_last_of('.');
  const std::string_view stem = dot == std::string_view::npos || dot == 0 ? name : name.substr(0, dot);
  if (stem_ends_with(stem, "-int8", "_int8")) return ModelFileFormat::kInt8;
  if (stem_ends_with(stem, "-fp16", "_fp16")) return ModelFileFormat::kFp16;
  return ModelFileFormat::kFp32;
}

const char* to_string(ModelFileFormat f) {
  switch (f) {
    case ModelFileFormat::kFp32: return "FP32";
    case ModelFileFormat::kFp16: return "FP16";
    case ModelFileFormat::kInt8: return "INT8";
  }
  return "FP32";
}

}  // namespace vigil
