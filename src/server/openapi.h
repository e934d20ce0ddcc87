// The HTTP API as an OpenAPI 3.1 document (GET /api/openapi.json), derived
// from the route table: each route's pattern becomes a path ({path*} is
// written {path}), each method an operation with its summary, the path
// parameter, the security (bearer token or the vigil_token cookie; none
// for public routes) and the responses the router gives every route
// (success with the route's media type; 401 for token routes, 503 for
// routes that need jobs, 404, 405, and errors as {"error": "..."}).
// The media endpoints (MJPEG, snapshots, WebSockets: media_request.h) are
// served outside the table and are not in it.
// Pure: no I/O, no threads.
#pragma once

#include <nlohmann/json.hpp>

#include "server/route_table.h"

namespace vigil {

nlohmann::json openapi_document(const RouteTable& routes);

}  // namespace vigil
