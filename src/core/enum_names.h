// The one to/from-string of an enum: a table of {value, name} pairs, read by
// enum_name() and parse_enum(). Used at the edges only (config files, JSON,
// logs); inside, the enum travels. Pure, constexpr data; no threads.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace vigil {

template <class E>
struct EnumName {
  E value;
  const char* name;
};

// The name of `value` in `names`; "?" for a value the table lacks (a bug).
template <class E>
const char* enum_name(std::span<const EnumName<E>> names, E value) {
  for (const auto& n : names)
    if (n.value == value) return n.name;
  return "?";
}

template <class E>
std::optional<E> parse_enum(std::span<const EnumName<E>> names, std::string_view text) {
  for (const auto& n : names)
    if (text == n.name) return n.value;
  return std::nullopt;
}

// "auto, none, cuda, vaapi": the names in table order, for messages and docs.
template <class E>
std::string enum_names_list(std::span<const EnumName<E>> names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + std::string(n.name);
  return s;
}

}  // namespace vigil
