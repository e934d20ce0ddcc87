// Request bodies as JSON, safely: one function between untrusted bytes and a
// nlohmann::json tree. Pure.
//
// Nesting deeper than kMaxJsonDepth is refused by a pre-scan, before any tree
// is built (nlohmann's parser and dump() recurse once per level, so a 100 000
// deep body would overflow the stack). A number that does not fit a double
// (1e400) and anything else the parser throws become an error instead of an
// exception.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace vigil {

constexpr int kMaxJsonDepth = 64;

// The deepest nesting of arrays and objects in `text` (strings and their
// escapes skipped), or max_depth + 1 as soon as that is exceeded. Does not
// validate the rest of the syntax.
int json_nesting_depth(const std::string& text, int max_depth = kMaxJsonDepth);

// kInvalidArgument naming the problem: "body: not valid JSON: ...",
// "body: JSON nested deeper than 64 levels", "body: number out of range: ...".
Result<nlohmann::json> parse_json_body(const std::string& body, int max_depth = kMaxJsonDepth);

}  // namespace vigil
