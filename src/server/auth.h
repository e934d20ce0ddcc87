// Access to the HTTP API: the Host check (DNS rebinding), the token
// (Authorization: Bearer, the vigil_token cookie, or `token=` on media
// routes), same-origin checks, and POST /login (token -> cookie) with
// per-address throttling of failed attempts.
//
// The pure helpers below are exposed for tests and the router.
// Threads: Auth's methods may be called from any thread at the same time
// (the throttle table has its own mutex).
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "server/api_response.h"
#include "server/server_options.h"

namespace vigil {

inline constexpr const char* kTokenCookie = "vigil_token";

// Constant time in the length of `expected`, so the token cannot be guessed
// byte by byte from response times.
bool same_secret(const std::string& given, const std::string& expected);
// The values of the cookies called `name` in a Cookie header
// ("a=1; vigil_token=x;b=2"), %-decoded; a value in double quotes loses them.
std::vector<std::string> cookie_values(const std::string& header, const std::string& name);
// A cookie value (RFC 6265 cookie-octets) that cookie_values() decodes back
// to `s`: '%' and anything outside the cookie-octet set become %XX.
std::string cookie_encode(const std::string& s);
// The credentials of an `Authorization: Bearer TOKEN` header (the scheme in
// any case, RFC 7235); nullopt for another scheme or none.
std::optional<std::string> bearer_token(const std::string& authorization);
// Origin "http://host:port" names the same authority as the Host header
// (a default port may be left out on either side).
bool same_origin(const std::string& origin, const std::string& host);
// The host name of a Host header, lower case, without the port or IPv6
// brackets or a trailing dot.
std::string host_name(const std::string& host);
// The media type of a Content-Type header, lower case, without parameters.
std::string media_type(const std::string& content_type);

// 421 for a Host that is not served, 401 without valid credentials, 403 for
// a cross-origin request.
ApiResponse misdirected(const std::string& host);
ApiResponse unauthorized();
ApiResponse cross_origin_refused(const ApiRequest& request);

// Failed sign-ins per client address: after `free_attempts` failures each
// further attempt waits 1 s, doubling, at most kMaxDelay_s. The table keeps
// at most kTableMax addresses (the one allowed soonest is forgotten first).
class LoginThrottle {
 public:
  static constexpr std::size_t kTableMax = 4096;
  static constexpr double kMaxDelay_s = 60;
  // Doublings of the delay at most (2^16 s is far above kMaxDelay_s anyway).
  static constexpr int kMaxDoublings = 16;

  explicit LoginThrottle(int free_attempts) : free_attempts_(free_attempts) {}
  // Seconds `remote` must still wait before its next attempt (0 = may try now).
  double wait_s(const std::string& remote);
  // Counts a failure, logs it (without the guessed value); returns the delay it sets.
  double failed(const std::string& remote);
  void succeeded(const std::string& remote);

 private:
  struct Failures {
    int count = 0;
    std::chrono::steady_clock::time_point next_allowed{};
  };
  const int free_attempts_;
  std::mutex mu_;
  std::map<std::string, Failures> failures_;  // by remote address
};

class Auth {
 public:
  explicit Auth(const ServerOptions& options);

  bool token_required() const { return !token_.empty(); }
  // Host header: empty (HTTP/1.0), an IP literal, localhost or *.localhost,
  // the listen host, or a name of allowed_hosts ("*", "name", ".suffix").
  bool host_allowed(const std::string& host) const;
  // True when no token is configured, or the request carries it (Bearer,
  // cookie, or `query_token` when not null: media routes).
  bool authorised(const ApiRequest& request, const std::string* query_token = nullptr) const;
  // An Origin header that names another authority than the Host header.
  static bool cross_origin(const ApiRequest& request);

  // POST /login: checks origin, throttle and body (form or JSON {"token"}),
  // then answers 303 to / with the cookie, or 400/401/403/415/429.
  ApiResponse login(const ApiRequest& request);

 private:
  const std::string token_;
  const std::string listen_;
  const std::vector<std::string> allowed_hosts_;
  LoginThrottle throttle_;
};

}  // namespace vigil
