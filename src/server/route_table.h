// RouteTable: the HTTP API's routes as data: a path pattern, who may call
// it, what it needs, and one handler per method. ApiRouter fills it once
// and looks each request up in it.
//
// Patterns: literal segments, `{id}` (one path segment, possibly empty, no
// '/'), and a final `{path*}` (the rest of the path, '/' included). The
// first route whose pattern matches wins.
// Threads: filled before use, then read-only: find() from any thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/api_response.h"

namespace vigil {

// What a handler gets: the request, its %-decoded path, the raw query and
// the text the pattern's {id} or {path*} matched ("" if none).
struct RouteCall {
  const ApiRequest& request;
  const std::string& path;
  const std::string& query;
  const std::string& param;
};
using RouteHandler = std::function<ApiResponse(const RouteCall&)>;

enum class RouteAccess {
  kPublic,  // no token: the dashboard's static files, the sign-in page
  kToken,   // the configured token; non-GET/HEAD requests must be same-origin
};

enum class RouteNeeds {
  kNothing,
  kJobs,   // a JobManager (else 503)
  kToken,  // a configured token (else 404: /login)
};

// One method of a route: its handler and what it does, in a sentence (the
// operation's summary in GET /api/openapi.json).
struct RouteMethod {
  std::string method;  // "GET", "POST"...
  RouteHandler handler;
  std::string summary;
};

struct Route {
  std::string pattern;
  RouteAccess access = RouteAccess::kToken;
  RouteNeeds needs = RouteNeeds::kNothing;
  std::vector<RouteMethod> methods;  // in the order Allow lists them
  // The media type of a successful answer (OpenAPI responses).
  std::string media_type = "application/json";

  const RouteHandler* handler(const std::string& method) const;
  std::string allow() const;  // "GET, POST"
};

// The name of the pattern's parameter ("id" for {id}, "path" for {path*});
// "" when it has none.
std::string route_param_name(std::string_view pattern);

// `path` matches `pattern`; *param gets what {id} or {path*} matched.
bool match_route(std::string_view pattern, std::string_view path, std::string* param);

class RouteTable {
 public:
  void add(Route route) { routes_.push_back(std::move(route)); }
  struct Match {
    const Route* route;
    std::string param;
  };
  std::optional<Match> find(const std::string& path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace vigil
