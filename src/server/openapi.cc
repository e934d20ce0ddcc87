#include "server/openapi.h"

#include <cctype>
#include <string>

namespace vigil {
namespace {

using nlohmann::json;

// "/static/{path*}" -> "/static/{path}": OpenAPI names a parameter, not its extent.
std::string openapi_path(const std::string& pattern) {
  std::string out = pattern;
  if (const auto star = out.find("*}"); star != std::string::npos) out.erase(star, 1);
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "GET" "/api/streams/{id}" -> "get_api_streams_id"; a trailing "/" adds "_slash"
// (the table lists "/api/streams" and "/api/streams/" as two routes).
std::string operation_id(const std::string& method, const std::string& pattern) {
  std::string id = lower(method);
  bool sep = true;
  for (char c : pattern) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      if (sep) id += '_';
      id += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      sep = false;
    } else {
      sep = true;
    }
  }
  if (pattern.size() > 1 && pattern.back() == '/') id += "_slash";
  if (pattern == "/") id += "_root";
  return id;
}

json error_response(const std::string& description) {
  return {{"description", description},
          {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
}

json responses_of(const Route& route, const std::string& method) {
  json r;
  json ok = {{"description", "success"}};
  if (method != "HEAD") ok["content"] = {{route.media_type, json::object()}};
  r["200"] = ok;
  if (route.access == RouteAccess::kToken) r["401"] = error_response("no valid token");
  if (route.needs == RouteNeeds::kJobs) r["503"] = error_response("offline jobs are not enabled on this server");
  if (route.needs == RouteNeeds::kToken) r["404"] = error_response("no token is configured");
  r["405"] = error_response("method not allowed (Allow lists the methods)");
  r["421"] = error_response("Host not allowed (server.allowed_hosts)");
  r["default"] = error_response("an error: {\"error\": \"...\"}");
  return r;
}

json operation_of(const Route& route, const RouteMethod& m) {
  json op = {{"operationId", operation_id(m.method, route.pattern)},
             {"summary", m.summary},
             {"responses", responses_of(route, m.method)}};
  if (const std::string name = route_param_name(route.pattern); !name.empty())
    op["parameters"] = json::array({{{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}}});
  if (route.access == RouteAccess::kPublic) op["security"] = json::array();
  if (m.method == "POST" || m.method == "PATCH")
    op["requestBody"] = {{"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}};
  return op;
}

}  // namespace

json openapi_document(const RouteTable& routes) {
  json paths = json::object();
  for (const Route& route : routes.routes()) {
    json& item = paths[openapi_path(route.pattern)];
    for (const RouteMethod& m : route.methods) item[lower(m.method)] = operation_of(route, m);
  }
  return {
      {"openapi", "3.1.0"},
      {"info",
       {{"title", "Vigil HTTP API"},
        {"version", "1"},
        {"description", "Generated from the server's route table; docs/api.md describes each route and payload."}}},
      {"paths", paths},
      {"security", json::array({{{"bearer", json::array()}}, {{"cookie", json::array()}}})},
      {"components",
       {{"securitySchemes",
         {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}},
          {"cookie", {{"type", "apiKey"}, {"in", "cookie"}, {"name", "vigil_token"}}}}},
        {"schemas",
         {{"Error",
           {{"type", "object"},
            {"required", json::array({"error"})},
            {"properties", {{"error", {{"type", "string"}}}}}}}}}}},
  };
}

}  // namespace vigil
