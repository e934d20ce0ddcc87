// Subcommands of the vigil binary. Each registers its options on the CLI11
// app and returns the process exit code when run:
// 0 success, 1 runtime failure, 2 bad input (a clear message on stderr).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/model_precision.h"
#include "inference/model_choice.h"

namespace CLI {
class App;
}

namespace vigil::cli {

constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitBadInput = 2;

// Registers the subcommand; the returned function runs it after parsing.
std::function<int()> add_detect_command(CLI::App& app);
std::function<int()> add_bench_command(CLI::App& app);
// `vigil bench agreement` (cli/bench_agreement.cc), registered under `bench`;
// `run` is set to run it.
CLI::App* add_agreement_command(CLI::App& bench, std::function<int()>& run);
std::function<int()> add_run_command(CLI::App& app);
std::function<int()> add_analyze_command(CLI::App& app);
std::function<int()> add_worker_command(CLI::App& app);
std::function<int()> add_config_doc_command(CLI::App& app);
std::function<int()> add_calibrate_command(CLI::App& app);

// --model default: $MODEL_PATH, else models/nanodet-m-416.onnx next to the
// binary's ../models, the working directory's models/, or the source tree's.
std::string default_model_path();

// The file to load for `precision` (inference/model_choice.h), with one log
// line naming it and why; `option` names the setting in errors
// ("--precision", "model.precision"). `text` as the user wrote it.
// `device`: the resolved device (auto|cpu|cuda|tensorrt); auto precision keeps
// float32 on a GPU provider (inference/model_choice.h).
Result<ModelChoice> choose_model_for(const std::string& model_path, const std::string& text, const std::string& option,
                                     const std::string& device);
Result<ModelChoice> choose_model_for(const std::string& model_path, ModelPrecision precision, const std::string& option,
                                     const std::string& device);
// The execution provider of a command: --device when given (non-empty),
// else $DEVICE (auto, cpu, cuda/gpu, tensorrt/trt), else `fallback`. A bad
// DEVICE value is an error naming DEVICE; a bad --device is left to the
// provider parser.
Result<std::string> resolve_device(const std::string& flag, const std::string& fallback);

// "person, car,,dog" -> {"person", "car", "dog"} (trimmed, empty items dropped).
std::vector<std::string> split_list(const std::string& s);

}  // namespace vigil::cli
