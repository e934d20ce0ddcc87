#include "jobs/analyze_settings.h"

#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <string_view>

#include "media/source_url.h"

namespace vigil {
namespace {

// A URL has no size or modification time here: {path: url, size 0, mtime_ns 0}.
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

// The length of a secret key ("api_key:" and the blanks after it) at text[i], or 0.
std::size_t secret_key_at(const std::string& text, std::size_t i) {
  static constexpr std::string_view kKeys[] = {"api_key", "password", "authorization", "token", "x-api-key"};
  for (const std::string_view key : kKeys) {
    if (text.size() - i < key.size()) continue;
    bool same = true;
    for (std::size_t k = 0; k < key.size() && same; ++k)
      same = std::tolower(static_cast<unsigned char>(text[i + k])) == key[k];
    if (!same) continue;
    std::size_t j = i + key.size();
    while (j < text.size() && (text[j] == ' ' || text[j] == '\t')) ++j;
    if (j >= text.size() || text[j] != ':') continue;
    ++j;
    while (j < text.size() && (text[j] == ' ' || text[j] == '\t')) ++j;
    return j - i;
  }
  return 0;
}

// The end of the secret value starting at text[v] (quoted, or up to , } # or the
// line's end, trailing blanks excluded); v itself when there is none to redact
// (no value on the line, a ${NAME} reference).
std::size_t secret_value_end(const std::string& text, std::size_t v) {
  if (v >= text.size()) return v;
  const char c = text[v];
  if (c == '"' || c == '\'') {
    const std::size_t close = text.find_first_of(std::string(1, c) + "\n", v + 1);
    if (close == std::string::npos || text[close] != c || text.compare(v + 1, 2, "${") == 0) return v;
    return close + 1;
  }
  if (std::isspace(static_cast<unsigned char>(c)) || c == '$' || c == ',' || c == '}' || c == '#') return v;
  std::size_t end = text.find_first_of(",}\n#", v);
  if (end == std::string::npos) end = text.size();
  while (end > v && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return end;
}

// The config text as the job key (and a distributed job's spec in Redis)
// keeps it: URL passwords and the values of secret keys (api_key, password,
// authorization, token, x-api-key) become "***"; ${NAME} references stay.
std::string redact_config_secrets(const std::string& text) {
  const std::string in = redact_urls_in(text);
  std::string out;
  out.reserve(in.size());
  std::size_t i = 0;
  while (i < in.size()) {
    const bool boundary = i == 0 || std::isspace(static_cast<unsigned char>(in[i - 1])) || in[i - 1] == '{' ||
                          in[i - 1] == ',';
    const std::size_t key = boundary ? secret_key_at(in, i) : 0;
    const std::size_t end = key ? secret_value_end(in, i + key) : 0;
    if (key && end > i + key) {
      out.append(in, i, key).append("\"***\"");
      i = end;
      continue;
    }
    out += in[i++];
  }
  return out;
}

// "scheme://..." with a scheme of letters, digits, + - . (RFC 3986); a path never has one before its first '/'.
bool has_url_scheme(const std::string& video) {
  const std::size_t sep = video.find("://");
  if (sep == std::string::npos || sep == 0) return false;
  for (std::size_t i = 0; i < sep; ++i) {
    const auto c = static_cast<unsigned char>(video[i]);
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') return false;
  }
  return std::isalpha(static_cast<unsigned char>(video[0])) != 0;
}

}  // namespace

bool is_http_video_url(const std::string& video) {
  auto starts = [&](std::string_view prefix) {
    if (video.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(video[i])) != prefix[i]) return false;
    return true;
  };
  return starts("http://") || starts("https://");
}

std::string video_file_name(const std::string& video) {
  if (!is_http_video_url(video)) return std::filesystem::path(video).filename().string();
  const std::string path = video.substr(0, video.find_first_of("?#"));
  const std::size_t authority = path.find("://") + 3;
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos || slash < authority ? std::string() : path.substr(slash + 1);
}

std::string stream_id_for_file(const std::string& path) {
  const std::string stem = std::filesystem::path(video_file_name(path)).stem().string();
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
  if (has_url_scheme(request.video) && !is_http_video_url(request.video))
    return fail(ErrorCode::kInvalidArgument, "video " + redact_url(request.video) +
                                                 ": offline analysis reads files and http(s) URLs; a live source "
                                                 "(rtsp, rtmp, udp...) goes in `vigil run`");
  if (is_http_video_url(request.video)) {
    if (redact_url(request.video) != request.video)
      return fail(ErrorCode::kInvalidArgument, "video " + redact_url(request.video) +
                                                   ": a URL with a password or token would be written to the "
                                                   "outputs (and Redis); serve the file without one, or give a path");
    s.video = request.video;
  } else {
    std::error_code ec;
    const fs::path abs = fs::absolute(request.video, ec);
    s.video = ec ? request.video : abs.lexically_normal().string();
  }
  s.name = video_file_name(request.video);
  if (s.name.empty()) s.name = s.video;
  const std::string id = stream_id_for_file(request.video);
  s.sample_fps = request.sample_fps;
  s.chunk_s = request.chunk_s;
  s.config_text = redact_config_secrets(config_text);
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
