#include "server/json_body.h"

#include <exception>

namespace vigil {

int json_nesting_depth(const std::string& text, int max_depth) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest) deepest = depth;
      if (deepest > max_depth) return max_depth + 1;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

Result<nlohmann::json> parse_json_body(const std::string& body, int max_depth) {
  if (json_nesting_depth(body, max_depth) > max_depth)
    return fail(ErrorCode::kInvalidArgument, "body: JSON nested deeper than " + std::to_string(max_depth) + " levels");
  try {
    return nlohmann::json::parse(body);
  } catch (const nlohmann::json::out_of_range& e) {
    // 406: a number that overflows a double (1e400).
    return fail(ErrorCode::kInvalidArgument, std::string("body: number out of range: ") + e.what());
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorCode::kInvalidArgument, std::string("body: not valid JSON: ") + e.what());
  } catch (const std::exception& e) {
    return fail(ErrorCode::kInvalidArgument, std::string("body: cannot be read: ") + e.what());
  }
}

}  // namespace vigil
