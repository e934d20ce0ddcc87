// --precision / model.precision of the commands: the file to load, logged.
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "inference/backend.h"

namespace vigil::cli {

Result<ModelChoice> choose_model_for(const std::string& model_path, ModelPrecision precision, const std::string& option,
                                     const std::string& device) {
  auto choice = choose_model_file(model_path, precision, cpu_features(), device_uses_gpu(device));
  if (!choice) return fail(choice.error().code, option + ": " + choice.error().message);
  spdlog::info("model {} ({}, file {}, {}: {})", choice->path, to_string(choice->precision), to_string(choice->format),
               option, choice->reason);
  return choice;
}

Result<ModelChoice> choose_model_for(const std::string& model_path, const std::string& text, const std::string& option,
                                     const std::string& device) {
  auto precision = parse_model_precision(text);
  if (!precision) return fail(precision.error().code, option + ": " + precision.error().message);
  return choose_model_for(model_path, *precision, option, device);
}

}  // namespace vigil::cli
