// Request bodies: depth pre-scan and parse errors instead of exceptions.
#include <gtest/gtest.h>

#include "server/json_body.h"

namespace vigil {
namespace {

TEST(JsonNestingDepth, CountsArraysAndObjectsAndSkipsStrings) {
  EXPECT_EQ(json_nesting_depth("1"), 0);
  EXPECT_EQ(json_nesting_depth("{\"a\":[1,{\"b\":[]}]}"), 4);
  EXPECT_EQ(json_nesting_depth("\"[[[[\\\"[[[\""), 0);  // brackets inside a string, with an escaped quote
  EXPECT_EQ(json_nesting_depth(std::string(1000, '['), 64), 65);  // stops counting past the limit
}

TEST(ParseJsonBody, RefusesDeepNestingBeforeParsing) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto r = parse_json_body(deep);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "body: JSON nested deeper than 64 levels");
  EXPECT_TRUE(parse_json_body(std::string(64, '[') + std::string(64, ']')));
  EXPECT_FALSE(parse_json_body(std::string(65, '[') + std::string(65, ']')));
}

TEST(ParseJsonBody, OverflowingNumbersAndBadSyntaxAreErrors) {
  auto big = parse_json_body(R"({"token": 1e400})");
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message.find("number out of range"), std::string::npos) << big.error().message;
  auto bad = parse_json_body("{\"a\":");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("not valid JSON"), std::string::npos);
  auto ok = parse_json_body(R"({"every": 4, "x": 1e300})");
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)["every"], 4);
}

}  // namespace
}  // namespace vigil
