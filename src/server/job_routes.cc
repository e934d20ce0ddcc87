#include "server/job_routes.h"

#include <fstream>
#include <sstream>

#include "jobs/job_manager.h"
#include "server/json_body.h"
#include "server/stream_request.h"

namespace vigil {

using nlohmann::json;

namespace {

constexpr double kMinChunkS = 1;

ApiResponse unknown_job(const std::string& id) { return json_error(404, "job '" + id + "' does not exist"); }

// The fields of the body into `out`; kInvalidArgument names the bad one.
Result<void> read_job_fields(const json& j, AnalyzeRequest& out) {
  try {
    if (!j.contains("path") || !j["path"].is_string())
      return fail(ErrorCode::kInvalidArgument, "path: required, a string");
    out.sample_fps = j.value("sample_fps", out.sample_fps);
    out.chunk_s = j.value("chunk_s", out.chunk_s);
    if (j.contains("classes")) out.classes = j["classes"].get<std::vector<std::string>>();
    out.captions = j.value("captions", out.captions);
    for (const auto& [k, v] : j.items())
      if (k != "path" && k != "sample_fps" && k != "chunk_s" && k != "classes" && k != "captions")
        return fail(ErrorCode::kInvalidArgument,
                    "unknown field '" + k + "' (expected path, sample_fps, chunk_s, classes, captions)");
  } catch (const json::exception& e) {
    return fail(ErrorCode::kInvalidArgument, std::string("bad field type: ") + e.what());
  }
  return {};
}

}  // namespace

std::optional<std::int64_t> parse_job_id(const std::string& s) {
  if (s.empty() || s.size() > kMaxJobIdDigits || s.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  const std::int64_t v = std::stoll(s);
  if (v <= 0) return std::nullopt;
  return v;
}

Result<AnalyzeRequest> parse_job_request(const json& j, const std::string& media_dir) {
  if (!j.is_object()) return fail(ErrorCode::kInvalidArgument, "the body must be a JSON object");
  AnalyzeRequest ar;
  if (auto r = read_job_fields(j, ar); !r) return fail(r.error());
  if (!(ar.chunk_s >= kMinChunkS))
    return fail(ErrorCode::kInvalidArgument, "chunk_s: must be at least 1 second, got " + std::to_string(ar.chunk_s));
  const std::string path = j["path"];
  if (media_dir.empty())
    return fail(ErrorCode::kInvalidArgument,
                "path '" + path + "': this server has no media directory (start it with --media-dir)");
  if (path.find("://") != std::string::npos || path.rfind("webcam:", 0) == 0)
    return fail(ErrorCode::kInvalidArgument, "path '" + path + "': offline jobs take a file inside the media directory");
  auto file = check_api_source(path, media_dir);
  if (!file) return fail(ErrorCode::kInvalidArgument, file.error().message);
  ar.video = *file;
  return ar;
}

ApiResponse JobRoutes::list() { return json_ok({{"jobs", jobs_.list()}}); }

Result<std::vector<AnalyzeRequest>> parse_job_requests(const json& j, const std::string& media_dir) {
  if (!j.is_object()) return fail(ErrorCode::kInvalidArgument, "the body must be a JSON object");
  if (j.contains("path")) return fail(ErrorCode::kInvalidArgument, "give path or paths, not both");
  const json& paths = j["paths"];
  if (!paths.is_array() || paths.empty() || paths.size() > kMaxJobsPerRequest)
    return fail(ErrorCode::kInvalidArgument,
                "paths: must be a list of 1.." + std::to_string(kMaxJobsPerRequest) + " file names");
  std::vector<AnalyzeRequest> out;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    json one = j;
    one.erase("paths");
    one["path"] = paths[i];
    auto r = parse_job_request(one, media_dir);
    if (!r) return fail(r.error().code, "paths[" + std::to_string(i) + "]: " + r.error().message);
    out.push_back(std::move(*r));
  }
  return out;
}

// Several videos in one request (AI Video Detective's queue): every path is
// checked before any job is queued.
ApiResponse JobRoutes::submit_many(const json& body) {
  auto requests = parse_job_requests(body, media_dir_);
  if (!requests) return bad_request(requests.error());
  json jobs = json::array();
  bool created = false;
  for (const auto& request : *requests) {
    auto r = jobs_.submit(request);
    if (!r) return error_response(r.error());
    jobs.push_back(r->first);
    created = created || r->second;
  }
  return json_ok({{"jobs", jobs}}, created ? 201 : 200);
}

ApiResponse JobRoutes::submit(const std::string& body) {
  auto j = parse_json_body(body);
  if (!j) return bad_request(j.error());
  if (j->is_object() && j->contains("paths")) return submit_many(*j);
  auto request = parse_job_request(*j, media_dir_);
  if (!request) return bad_request(request.error());
  auto r = jobs_.submit(*request);
  if (!r) return error_response(r.error());
  return json_ok(r->first, r->second ? 201 : 200);
}

ApiResponse JobRoutes::get(const std::string& id) {
  const auto n = parse_job_id(id);
  if (!n) return unknown_job(id);
  auto j = jobs_.get(*n);
  if (!j) return error_response(j.error());
  return json_ok(*j);
}

ApiResponse JobRoutes::cancel(const std::string& id) {
  const auto n = parse_job_id(id);
  if (!n) return unknown_job(id);
  auto j = jobs_.cancel(*n);
  if (!j) return error_response(j.error());
  return json_ok(*j);
}

ApiResponse JobRoutes::report(const std::string& id) {
  const auto n = parse_job_id(id);
  if (!n) return unknown_job(id);
  auto file = jobs_.report_path(*n);
  if (!file) return error_response(file.error());
  std::ifstream in(*file, std::ios::binary);
  std::ostringstream body;
  body << in.rdbuf();
  ApiResponse resp;
  resp.content_type = "text/html; charset=utf-8";
  resp.body = body.str();
  return resp;
}

}  // namespace vigil
