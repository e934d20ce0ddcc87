#include "server/api_response.h"

namespace vigil {

int http_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kBadInput:
    case ErrorCode::kUnsupported:
      return 400;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kConflict:
    case ErrorCode::kCancelled:  // the work was cancelled by another request: its state conflicts
      return 409;
    case ErrorCode::kRuntime:
      return 500;
  }
  return 500;
}

ApiResponse json_ok(const nlohmann::json& j, int status) {
  ApiResponse r;
  r.status = status;
  r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

ApiResponse json_error(int status, const std::string& message) { return json_ok({{"error", message}}, status); }

ApiResponse error_response(const Error& e) { return json_error(http_status(e.code), e.message); }

ApiResponse bad_request(const Error& e) { return json_error(400, e.message); }

ApiResponse method_not_allowed(const std::string& method, const std::string& path, const std::string& allow) {
  ApiResponse r = json_error(405, "method " + method + " is not allowed on " + path + " (allowed: " + allow + ")");
  r.allow = allow;
  return r;
}

ApiResponse see_other(const std::string& location, const std::string& link_text) {
  ApiResponse r;
  r.status = 303;
  r.content_type = "text/html; charset=utf-8";
  r.body = "<a href=\"" + location + "\">" + link_text + "</a>\n";
  r.headers.emplace_back("Location", location);
  return r;
}

}  // namespace vigil
