// The offline job routes: GET/POST /api/jobs, GET/DELETE /api/jobs/{id},
// GET /api/jobs/{id}/report (docs/api.md, "Offline jobs"), over the
// server's JobManager.
// Threads: any, at the same time (JobManager is thread-safe).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobs/analyze_settings.h"
#include "server/api_response.h"

namespace vigil {

class JobManager;

// A job id: decimal digits only, > 0, at most kMaxJobIdDigits digits.
inline constexpr std::size_t kMaxJobIdDigits = 18;  // below 2^63
std::optional<std::int64_t> parse_job_id(const std::string& text);

// The body of POST /api/jobs: {"path", "sample_fps"?, "chunk_s"?,
// "classes"?, "captions"?}; `path` a file inside media_dir (checked, made
// absolute). Errors (kInvalidArgument) name the field.
Result<AnalyzeRequest> parse_job_request(const nlohmann::json& body, const std::string& media_dir);
// {"paths": [...], and the fields above}: one request per path, all checked;
// errors name paths[i] (and the field).
inline constexpr std::size_t kMaxJobsPerRequest = 100;
Result<std::vector<AnalyzeRequest>> parse_job_requests(const nlohmann::json& body, const std::string& media_dir);

class JobRoutes {
 public:
  // jobs must outlive the routes.
  JobRoutes(JobManager& jobs, std::string media_dir) : jobs_(jobs), media_dir_(std::move(media_dir)) {}

  ApiResponse list();
  // 201 with a new job, 200 with the same job submitted before; with
  // "paths", {"jobs": [...]}: 201 when any is new.
  ApiResponse submit(const std::string& body);
  ApiResponse get(const std::string& id);
  ApiResponse cancel(const std::string& id);
  ApiResponse report(const std::string& id);

 private:
  ApiResponse submit_many(const nlohmann::json& body);

  JobManager& jobs_;
  const std::string media_dir_;
};

}  // namespace vigil
