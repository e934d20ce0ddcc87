// URL text of HTTP request targets: %XX decoding, query strings, and the
// split of a target into its decoded path and raw query. Used by the
// router, the media routes, the login form and the router's fuzz harness.
// Pure functions; safe from any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace vigil {

// The value of a hex digit (0-9, a-f, A-F); -1 for any other character.
int hex_digit(char c);

// %XX decoding and, with plus_is_space (queries, forms), '+' as a space.
// A malformed escape ("%", "%4", "%zz") is kept as written.
std::string url_decode(std::string_view s, bool plus_is_space);

// "a=1&b=x%20y&c" -> {a: "1", b: "x y", c: ""}; names and values decoded
// (with '+' as a space); a repeated name keeps its last value; empty parts
// are skipped.
std::map<std::string, std::string> parse_query(std::string_view query);

// A request target split at the first '?': the path %-decoded once ('+'
// stays '+'), the query as sent.
struct RequestTarget {
  std::string path;
  std::string query;
};
RequestTarget split_target(std::string_view target);

}  // namespace vigil
