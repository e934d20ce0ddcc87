// The router's request and response (no socket code): what HttpServer reads
// from a connection and writes back, and the JSON answers every route uses.
// One mapping from ErrorCode to HTTP status (http_status) for all routes.
// Plain values and pure functions; safe from any thread.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace vigil {

struct ApiRequest {
  std::string method;         // "GET", "POST", ...
  std::string target;         // "/api/events?stream=cam1&limit=5"
  std::string body;
  std::string host;           // Host header ("" if none)
  std::string origin;         // Origin header ("" if none)
  std::string authorization;  // Authorization header ("" if none)
  std::string cookie;         // Cookie header(s), joined with "; " ("" if none)
  std::string accept;         // Accept header ("" if none)
  std::string content_type;   // Content-Type header ("" if none)
  std::string range;          // Range header ("" if none)
  std::string remote;         // the client's IP address ("" if unknown)
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string allow;  // Allow header of a 405
  std::vector<std::pair<std::string, std::string>> headers;  // more headers (Location, Set-Cookie, ...)
};

// kInvalidArgument, kBadInput, kUnsupported -> 400; kNotFound -> 404;
// kConflict -> 409; kRuntime -> 500.
int http_status(ErrorCode code);

// {"error": message} with `status`.
ApiResponse json_error(int status, const std::string& message);
// {"error": e.message} with http_status(e.code).
ApiResponse error_response(const Error& e);
// 400 with e.message: for errors in what the request itself names (its body,
// its query, a file it points at), whatever their code.
ApiResponse bad_request(const Error& e);
// `j` as the body (invalid UTF-8 replaced), with `status`.
ApiResponse json_ok(const nlohmann::json& j, int status = 200);
// 405 naming the method, the path and the allowed methods; Allow: `allow`.
ApiResponse method_not_allowed(const std::string& method, const std::string& path, const std::string& allow);
// 303 to `location` with a one-link HTML body.
ApiResponse see_other(const std::string& location, const std::string& link_text);

}  // namespace vigil
