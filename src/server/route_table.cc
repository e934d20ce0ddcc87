#include "server/route_table.h"

namespace vigil {

const RouteHandler* Route::handler(const std::string& method) const {
  for (const auto& m : methods)
    if (m.method == method) return &m.handler;
  return nullptr;
}

std::string Route::allow() const {
  std::string out;
  for (const auto& m : methods) out += (out.empty() ? "" : ", ") + m.method;
  return out;
}

std::string route_param_name(std::string_view pattern) {
  const std::size_t open = pattern.find('{');
  if (open == std::string_view::npos) return "";
  const std::size_t close = pattern.find('}', open);
  if (close == std::string_view::npos) return "";
  std::string_view name = pattern.substr(open + 1, close - open - 1);
  if (!name.empty() && name.back() == '*') name.remove_suffix(1);
  return std::string(name);
}

bool match_route(std::string_view pattern, std::string_view path, std::string* param) {
  std::size_t p = 0, q = 0;  // positions in pattern, path
  while (p < pattern.size()) {
    if (pattern[p] != '{') {
      if (q >= path.size() || pattern[p] != path[q]) return false;
      ++p;
      ++q;
      continue;
    }
    const std::size_t close = pattern.find('}', p);
    if (close == std::string_view::npos) return false;
    const bool rest = pattern[close - 1] == '*';
    std::size_t end = path.size();
    if (!rest) {
      end = path.find('/', q);
      if (end == std::string_view::npos) end = path.size();
    }
    if (param) *param = std::string(path.substr(q, end - q));
    p = close + 1;
    q = end;
  }
  return q == path.size();
}

std::optional<RouteTable::Match> RouteTable::find(const std::string& path) const {
  for (const auto& r : routes_) {
    std::string param;
    if (match_route(r.pattern, path, &param)) return Match{&r, std::move(param)};
  }
  return std::nullopt;
}

}  // namespace vigil
