#include "server/route_table.h"

namespace vigil {

const RouteHandler* Route::handler(const std::string& method) const {
  for (const auto& [m, h] : methods)
    if (m == method) return &h;
  return nullptr;
}

std::string Route::allow() const {
  std::string out;
  for (const auto& [m, h] : methods) out += (out.empty() ? "" : ", ") + m;
  return out;
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
