// A request read by Boost.Beast as the ApiRequest the router takes (the
// headers the router looks at, cookies joined with "; "). Used by the
// server's sessions and by the router's fuzz harness.
#pragma once

#include <string>
#include <type_traits>
#include <utility>  // before Boost 1.74 asio: its awaitable.hpp uses std::exchange

#include <boost/beast/http.hpp>

#include "server/api_router.h"

namespace vigil {

// With a string_body the body too; with any other body (an upload's header) none.
template <class Body>
ApiRequest to_api_request(const boost::beast::http::request<Body>& req, std::string remote) {
  namespace http = boost::beast::http;
  ApiRequest r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  if constexpr (std::is_same_v<Body, http::string_body>) r.body = req.body();
  r.host = std::string(req[http::field::host]);
  r.origin = std::string(req[http::field::origin]);
  r.authorization = std::string(req[http::field::authorization]);
  for (auto [it, end] = req.equal_range(http::field::cookie); it != end; ++it)
    r.cookie += (r.cookie.empty() ? "" : "; ") + std::string(it->value());
  r.accept = std::string(req[http::field::accept]);
  r.content_type = std::string(req[http::field::content_type]);
  r.range = std::string(req[http::field::range]);
  r.remote = std::move(remote);
  return r;
}

}  // namespace vigil
