#include "server/auth.h"

#include <algorithm>
#include <cmath>

#include <arpa/inet.h>
#include <spdlog/spdlog.h>

#include "server/json_body.h"
#include "server/url_codec.h"

namespace vigil {
namespace {

std::string trim(const std::string& s) {
  const std::size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_ip_literal(const std::string& name) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, name.c_str(), buf) == 1 || ::inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

// "http://host:port/whatever" -> "host:port" (lower case).
std::string origin_authority(const std::string& origin) {
  const std::size_t scheme = origin.find("://");
  std::string rest = scheme == std::string::npos ? origin : origin.substr(scheme + 3);
  const std::size_t slash = rest.find('/');
  if (slash != std::string::npos) rest.resize(slash);
  return lower(rest);
}

bool is_form(const std::string& type) { return type == "application/x-www-form-urlencoded" || type.empty(); }

// The token of a login body: form (token=...) or JSON ({"token": "..."}).
Result<std::string> login_token(const std::string& body, const std::string& type) {
  if (is_form(type)) {
    const auto form = parse_query(body);
    const auto it = form.find("token");
    if (it == form.end())
      return fail(ErrorCode::kInvalidArgument, "body: expected token=... (application/x-www-form-urlencoded)");
    return it->second;
  }
  auto j = parse_json_body(body);
  if (!j) return fail(j.error());
  if (!j->is_object() || !j->contains("token") || !(*j)["token"].is_string())
    return fail(ErrorCode::kInvalidArgument, "body: expected {\"token\": \"...\"}");
  return (*j)["token"].get<std::string>();
}

}  // namespace

bool same_secret(const std::string& given, const std::string& expected) {
  unsigned diff = given.size() == expected.size() ? 0U : 1U;
  for (std::size_t i = 0; i < expected.size(); ++i)
    diff |= static_cast<unsigned>(static_cast<unsigned char>(expected[i]) ^
                                  static_cast<unsigned char>(i < given.size() ? given[i] : 0));
  return diff == 0;
}

std::vector<std::string> cookie_values(const std::string& header, const std::string& name) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < header.size()) {
    std::size_t semi = header.find(';', pos);
    if (semi == std::string::npos) semi = header.size();
    const std::string part = header.substr(pos, semi - pos);
    const std::size_t eq = part.find('=');
    if (eq != std::string::npos && trim(part.substr(0, eq)) == name) {
      std::string v = trim(part.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      out.push_back(url_decode(v, false));
    }
    pos = semi + 1;
  }
  return out;
}

std::string cookie_encode(const std::string& s) {
  static const char* const digits = "0123456789ABCDEF";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const bool octet = c > 0x20 && c < 0x7F && c != '"' && c != ',' && c != ';' && c != '\\' && c != '%';
    if (octet) {
      out += ch;
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

std::optional<std::string> bearer_token(const std::string& authorization) {
  const std::string a = trim(authorization);
  const std::size_t space = a.find_first_of(" \t");
  if (space == std::string::npos || lower(a.substr(0, space)) != "bearer") return std::nullopt;
  return trim(a.substr(space));
}

bool same_origin(const std::string& origin, const std::string& host) {
  const std::string o = origin_authority(origin);
  const std::string h = lower(host);
  if (o == h) return true;
  const bool https = lower(origin).rfind("https://", 0) == 0;
  const std::string default_port = https ? ":443" : ":80";
  return o + default_port == h || o == h + default_port;
}

std::string host_name(const std::string& host) {
  std::string h = lower(trim(host));
  if (!h.empty() && h.front() == '[') {
    const std::size_t close = h.find(']');
    return close == std::string::npos ? h : h.substr(1, close - 1);
  }
  const std::size_t colon = h.find(':');
  if (colon != std::string::npos && h.find(':', colon + 1) == std::string::npos) h.resize(colon);
  if (!h.empty() && h.back() == '.') h.pop_back();  // "localhost." is "localhost"
  return h;
}

std::string media_type(const std::string& content_type) {
  return lower(trim(content_type.substr(0, content_type.find(';'))));
}

ApiResponse misdirected(const std::string& host) {
  return json_error(421, "Host '" + host +
                             "' is not served here (DNS rebinding protection): use an IP address or localhost, "
                             "or list the name in server.allowed_hosts");
}

ApiResponse unauthorized() {
  return json_error(401, "missing or wrong token (send Authorization: Bearer TOKEN, or sign in at /login)");
}

ApiResponse cross_origin_refused(const ApiRequest& req) {
  return json_error(403, "cross-origin request refused: Origin " + req.origin + " does not match Host " + req.host);
}

double LoginThrottle::wait_s(const std::string& remote) {
  std::lock_guard lock(mu_);
  const auto it = failures_.find(remote);
  if (it == failures_.end()) return 0;
  const auto left = it->second.next_allowed - std::chrono::steady_clock::now();
  return std::max(0.0, std::chrono::duration<double>(left).count());
}

double LoginThrottle::failed(const std::string& remote) {
  int count = 0;
  double delay = 0;
  {
    std::lock_guard lock(mu_);
    if (failures_.size() >= kTableMax && !failures_.count(remote)) {
      // Forget the address allowed soonest: the table stays bounded.
      auto oldest = std::min_element(failures_.begin(), failures_.end(), [](const auto& a, const auto& b) {
        return a.second.next_allowed < b.second.next_allowed;
      });
      failures_.erase(oldest);
    }
    Failures& f = failures_[remote];
    count = ++f.count;
    const int over = count - free_attempts_;
    if (over > 0) delay = std::min(kMaxDelay_s, std::ldexp(1.0, std::min(over - 1, kMaxDoublings)));
    f.next_allowed = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                           std::chrono::duration<double>(delay));
  }
  spdlog::warn("login: wrong token from {} ({} failed attempt{}{})", remote.empty() ? "an unknown address" : remote,
               count, count == 1 ? "" : "s", delay > 0 ? fmt::format(", next attempt allowed in {:.0f} s", delay) : "");
  return delay;
}

void LoginThrottle::succeeded(const std::string& remote) {
  std::lock_guard lock(mu_);
  failures_.erase(remote);
}

Auth::Auth(const ServerOptions& options)
    : token_(options.token),
      listen_(options.listen),
      allowed_hosts_(options.allowed_hosts),
      throttle_(options.login_free_attempts) {}

bool Auth::host_allowed(const std::string& host) const {
  if (trim(host).empty()) return true;  // HTTP/1.0 without Host: no browser
  const std::string name = host_name(host);
  if (is_ip_literal(name) || name == "localhost" || ends_with(name, ".localhost")) return true;
  if (name == host_name(listen_)) return true;
  for (const auto& allowed : allowed_hosts_) {
    const std::string a = lower(trim(allowed));
    if (a == "*" || a == name) return true;
    if (a.size() > 1 && a.front() == '.' && (ends_with(name, a) || name == a.substr(1))) return true;
  }
  return false;
}

bool Auth::authorised(const ApiRequest& req, const std::string* query_token) const {
  if (token_.empty()) return true;
  if (const auto given = bearer_token(req.authorization); given && same_secret(*given, token_)) return true;
  bool cookie_ok = false;  // every cookie compared: no early exit
  for (const auto& v : cookie_values(req.cookie, kTokenCookie)) cookie_ok |= same_secret(v, token_);
  if (cookie_ok) return true;
  return query_token != nullptr && same_secret(*query_token, token_);
}

bool Auth::cross_origin(const ApiRequest& req) { return !req.origin.empty() && !same_origin(req.origin, req.host); }

ApiResponse Auth::login(const ApiRequest& req) {
  if (cross_origin(req)) return cross_origin_refused(req);
  if (const double wait = throttle_.wait_s(req.remote); wait > 0) {
    const long seconds = std::lround(std::ceil(wait));
    ApiResponse r = json_error(429, "too many failed sign-in attempts from this address: try again in " +
                                        std::to_string(seconds) + " s");
    r.headers.emplace_back("Retry-After", std::to_string(seconds));
    return r;
  }
  const std::string type = media_type(req.content_type);
  if (type != "application/json" && !is_form(type))
    return json_error(415, "Content-Type " + req.content_type +
                               " is not supported: send application/x-www-form-urlencoded or application/json");
  const auto given = login_token(req.body, type);
  if (!given) return bad_request(given.error());
  if (!same_secret(*given, token_)) {
    throttle_.failed(req.remote);
    return json_error(401, "wrong token");
  }
  throttle_.succeeded(req.remote);
  ApiResponse r = see_other("/", "continue");
  // No `Secure`: this server speaks plain HTTP only and cannot tell whether a
  // TLS proxy sits in front, and a Secure cookie set over plain HTTP would be
  // dropped. Behind an HTTPS proxy, the proxy may add it.
  r.headers.emplace_back("Set-Cookie",
                         std::string(kTokenCookie) + "=" + cookie_encode(token_) + "; Path=/; HttpOnly; SameSite=Strict");
  return r;
}

}  // namespace vigil
