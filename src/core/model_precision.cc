#include "core/model_precision.h"

#include <string>

namespace vigil {

Result<ModelPrecision> parse_model_precision(std::string_view text) {
  if (auto p = parse_enum<ModelPrecision>(kModelPrecisionNames, text)) return *p;
  std::string message = "'";
  message.append(text).append("' is not one of ").append(enum_names_list<ModelPrecision>(kModelPrecisionNames));
  return fail(ErrorCode::kInvalidArgument, std::move(message));
}

}  // namespace vigil
