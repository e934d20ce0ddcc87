#include "jobs/analyze_settings.h"

#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>

namespace vigil {
namespace {

nlohmann::json file_identity(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  nlohmann::json j;
  j["path"] = path;
  const auto size = fs::file_size(path, ec);
  j["size"] = ec ? 0 : size;
  const auto mtime = fs::last_write_time(path, ec);
  j["mtime_ns"] = ec ? 0 : static_cast<std::int64_t>(mtime.time_since_epoch().count());
  return j;
}

// A longer file stem gives the stream id "stream" (ids are shown in URLs and metrics labels).
constexpr std::size_t kMaxStreamIdLength = 48;
// More samples per second than any camera has frames.
constexpr double kMaxSampleFps = 1000;

}  // namespace

std::string stream_id_for_file(const std::string& path) {
  const std::string stem = std::filesystem::path(path).stem().string();
  std::string id;
  for (const char c : stem) {
    const auto u = static_cast<unsigned char>(std::tolower(static_cast<unsigned char>(c)));
    id += (std::isalnum(u) || u == '_' || u == '-') ? static_cast<char>(u) : '_';
  }
  return id.empty() || id.size() > kMaxStreamIdLength ? "stream" : id;
}

nlohmann::json AnalyzeSettings::key_json() const {
  nlohmann::json j;
  j["video"] = file_identity(video);
  j["model"] = file_identity(model_path);
  j["rectangular"] = rectangular;
  j["sample_fps"] = sample_fps;
  j["chunk_s"] = chunk_s;
  j["conf"] = stream.conf;
  j["iou"] = stream.iou;
  j["max_det"] = stream.max_det;
  j["classes"] = stream.classes;
  j["config"] = config_text;
  j["stitch_iou"] = stitch_iou;
  if (captions) {
    const DescribeConfig& d = stream.describe;
    j["captions"] = {to_string(d.captioner), d.endpoint, d.model, d.prompt, d.every_s, d.max_tokens, d.max_side};
  }
  return j;
}

std::string AnalyzeSettings::key() const {
  return key_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<AnalyzeSettings> make_analyze_settings(const AnalyzeRequest& request, const EngineConfig* config,
                                              const std::string& config_text, const std::string& default_model) {
  namespace fs = std::filesystem;
  if (!std::isfinite(request.sample_fps) || request.sample_fps <= 0 || request.sample_fps > kMaxSampleFps)
    return fail(ErrorCode::kInvalidArgument, "sample_fps: must be a number > 0 and <= " +
                                                 std::to_string(static_cast<int>(kMaxSampleFps)) + ", got " +
                                                 std::to_string(request.sample_fps));
  if (!std::isfinite(request.chunk_s) || request.chunk_s <= 0)
    return fail(ErrorCode::kInvalidArgument, "chunk: must be a number of seconds > 0, got " + std::to_string(request.chunk_s));
  if (request.video.empty()) return fail(ErrorCode::kInvalidArgument, "video: no file given");
  AnalyzeSettings s;
  std::error_code ec;
  const fs::path abs = fs::absolute(request.video, ec);
  s.video = ec ? request.video : abs.lexically_normal().string();
  s.name = fs::path(request.video).filename().string();
  if (s.name.empty()) s.name = s.video;
  const std::string id = stream_id_for_file(request.video);
  s.sample_fps = request.sample_fps;
  s.chunk_s = request.chunk_s;
  s.config_text = config_text;
  s.stream = default_stream(id, s.video);
  if (config) {
    const StreamConfig* pick = nullptr;
    for (const auto& st : config->streams)
      if (st.url == request.video || st.url == s.video) pick = &st;
    if (!pick && !config->streams.empty()) pick = &config->streams.front();
    s.stream = pick ? *pick : config->defaults;
    s.stream.id = id;
    s.stream.url = s.video;
    s.model_path = config->model.path;
    s.rectangular = config->model.rectangular;
  }
  if (!request.classes.empty()) s.stream.classes = request.classes;
  s.captions = request.captions;
  if (s.captions && s.stream.describe.captioner == CaptionerKind::kOff)
    return fail(ErrorCode::kInvalidArgument, "captions: the config's describe.captioner is off");
  if (!request.model.empty()) s.model_path = request.model;
  if (s.model_path.empty()) s.model_path = default_model;
  if (auto v = validate_stream(s.stream, "stream"); !v) return fail(v.error());
  return s;
}

}  // namespace vigil
