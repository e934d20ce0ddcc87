// vigil: real-time multi-stream video analytics. Entry point: subcommands.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "config/engine_config.h"

namespace vigil::cli {

std::string default_model_path() {
  if (const char* env = std::getenv("MODEL_PATH"); env && *env) return env;
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> candidates;
  if (!ec) candidates.push_back(exe.parent_path() / ".." / "models" / "nanodet-m-416.onnx");
  candidates.emplace_back(fs::path("models") / "nanodet-m-416.onnx");
  candidates.emplace_back(VIGIL_SOURCE_DIR "/models/nanodet-m-416.onnx");
  for (const auto& c : candidates)
    if (fs::exists(c, ec)) return fs::weakly_canonical(c, ec).string();
  return candidates.back().string();
}

Result<std::string> resolve_device(const std::string& flag, const std::string& fallback) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("DEVICE");
  if (!env || !*env) return fallback;
  if (auto note = device_fallback_note(env)) spdlog::warn("{}", *note);
  return device_from_env(env);
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream is(s);
  while (std::getline(is, item, ',')) {
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

namespace {

// The accepted names of log levels, case-insensitive. spdlog's own from_str()
// maps every unknown name to "off", which silently hid all logs.
std::optional<spdlog::level::level_enum> parse_log_level(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  using L = spdlog::level::level_enum;
  static const std::pair<const char*, L> kNames[] = {
      {"trace", L::trace}, {"debug", L::debug},       {"info", L::info},         {"warn", L::warn},
      {"warning", L::warn}, {"error", L::err},        {"err", L::err},           {"critical", L::critical},
      {"fatal", L::critical}, {"off", L::off},        {"none", L::off},
  };
  for (const auto& [n, level] : kNames)
    if (name == n) return level;
  return std::nullopt;
}

constexpr const char* kLogLevelNames = "trace, debug, info, warn (warning), error, critical, off";

// Applies --log-level, else $VIGIL_LOG, else info. Returns false (after a
// message naming the source of the bad value) for an unknown level.
bool apply_log_level(const std::string& flag_value) {
  std::string value = flag_value;
  std::string source = "--log-level";
  if (value.empty()) {
    const char* env = std::getenv("VIGIL_LOG");
    if (!env || !*env) return true;
    value = env;
    source = "VIGIL_LOG";
  }
  const auto level = parse_log_level(value);
  if (!level) {
    std::cerr << "vigil: " << source << "=" << value << ": unknown log level (expected one of " << kLogLevelNames
              << ")\n";
    return false;
  }
  spdlog::set_level(*level);
  return true;
}

}  // namespace
}  // namespace vigil::cli

int main(int argc, char** argv) {
  // Logs go to stderr so that stdout carries only results (e.g. JSON Lines).
  spdlog::set_default_logger(spdlog::stderr_color_mt("vigil"));
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");

  CLI::App app{"vigil: real-time multi-stream video analytics"};
  app.require_subcommand(1);
  // Global: accepted before or after the subcommand's name.
  app.fallthrough();
  std::string log_level;
  app.add_option("--log-level", log_level,
                 std::string("Log level: ") + vigil::cli::kLogLevelNames + " (default info; env VIGIL_LOG)");
  app.set_version_flag("--version", std::string("vigil ") + VIGIL_VERSION);
  const std::vector<std::pair<std::string, std::function<int()>>> runners = {
      {"detect", vigil::cli::add_detect_command(app)},
      {"bench", vigil::cli::add_bench_command(app)},
      {"run", vigil::cli::add_run_command(app)},
      {"analyze", vigil::cli::add_analyze_command(app)},
      {"worker", vigil::cli::add_worker_command(app)},
      {"config-doc", vigil::cli::add_config_doc_command(app)},
      {"calibrate", vigil::cli::add_calibrate_command(app)},
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : vigil::cli::kExitBadInput;
  }
  if (!vigil::cli::apply_log_level(log_level)) return vigil::cli::kExitBadInput;
  for (const auto& [name, run] : runners)
    if (app.get_subcommand(name)->parsed()) return run();
  return vigil::cli::kExitBadInput;
}
