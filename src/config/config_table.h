// Field tables: each config section declares its options once, as a
// Section<T> of Field<T> (key, type, range, description, per-stream,
// pointer to the struct member that holds the default), in the manner of
// Holoscan's `spec.param(member, "key", "description")` and DuckDB's
// settings table. From that one declaration come:
//   read_section     ConfigNode (YAML or JSON) -> struct, unknown keys and
//                    type errors as issues with their paths and positions
//   check_section    the ranges and each section's own checks, on the struct
//   write_section    struct -> typed ConfigNode (the API's JSON view)
//   document_section the rows of the options table (docs/config.md,
//                    `vigil config-doc`)
// Defaults are the struct members' initialisers: a table never repeats them.
// Tables are built once (function-local statics) and read-only after; all
// functions are pure and may run on any thread.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <type_traits>
#include <string>
#include <string_view>
#include <vector>

#include "analytics/geometry.h"
#include "config/config_node.h"
#include "core/enum_names.h"

namespace vigil {

enum class FieldType { kBool, kInteger, kNumber, kString, kChoice, kNames, kPoint, kPoints, kSection, kList };
const char* to_string(FieldType t);  // the docs' type column: "bool", "integer", ...

// The values a number may take. Enforced by check_section, shown in the docs.
struct Range {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_open = false;
  bool max_open = false;
  bool zero_off = false;  // 0 is valid too and means "off"

  static Range any() { return {}; }
  static Range between(double a, double b) { return {a, b}; }  // [a, b]
  static Range at_least(double a) { return {a}; }              // [a, inf)
  static Range above(double a) { return {a, std::numeric_limits<double>::infinity(), true}; }  // (a, inf)
  static Range above_to(double a, double b) { return {a, b, true}; }                          // (a, b]
  static Range inside(double a, double b) { return {a, b, true, true}; }                      // (a, b)
  Range or_zero() const {
    Range r = *this;
    r.zero_off = true;
    return r;
  }
  bool bounded() const { return std::isfinite(min) || std::isfinite(max); }
  bool contains(double v) const;
  std::string text(bool integral) const;     // docs: "1..1000", "(0, 1]", ">= 0", "0 or 32..8192"
  std::string message(bool integral) const;  // "must be between 1 and 1000", "must be in (0, 1], or 0 for off"
};

template <class T>
struct Field {
  std::string key;
  FieldType type = FieldType::kString;
  std::string description;
  std::string range_text;    // docs
  std::string default_text;  // docs; empty = written from T{}
  bool required = false;     // a missing key is an issue
  bool stream_only = false;  // each stream's own (id, url): not in `defaults`
  bool secret = false;       // never written to the API view (describe.api_key)
  bool patchable = false;    // PATCH /api/streams may change it
  bool documented = true;    // false: its rows are written elsewhere (a stream's describe)
  std::function<void(const ConfigNode&, T&, const std::string& path, ConfigIssues&)> read;
  std::function<ConfigNode(const T&)> write;
  std::function<void(const T&, const std::string& path, ConfigIssues&)> check;  // may be empty
  // Rows below this one (sections and lists of sections); may be empty.
  std::function<void(std::vector<OptionDoc>&, const std::string& path, bool per_stream)> document_children;

  Field& require() {
    required = true;
    return *this;
  }
  Field& per_stream_only() {
    stream_only = true;
    return *this;
  }
  Field& hide_from_api() {
    secret = true;
    return *this;
  }
  Field& patch() {
    patchable = true;
    return *this;
  }
  Field& documented_elsewhere() {
    documented = false;
    return *this;
  }
  Field& doc_default(std::string text) {
    default_text = std::move(text);
    return *this;
  }
  // An extra check after the range (a pattern, a list's items...).
  Field& verify(std::function<void(const T&, const std::string& path, ConfigIssues&)> more) {
    auto before = std::move(check);
    check = [before, more](const T& v, const std::string& path, ConfigIssues& issues) {
      if (before) before(v, path, issues);
      more(v, path, issues);
    };
    return *this;
  }
};

template <class T>
struct Section {
  std::vector<Field<T>> fields;
  bool per_stream = false;  // every stream may set these (docs)
  std::string scalar_key;   // a scalar instead of a mapping sets this field (`model: m.onnx`)
  std::function<void(T&)> on_present;                            // the section is written (gate: turns it on)
  std::function<void(const ConfigNode&, T&)> after_read;         // derived values (zones: normalized auto)
  std::function<void(const T&, const std::string&, ConfigIssues&)> check;  // across fields, after the ranges

  Section& add(const Field<T>& f) {
    fields.push_back(f);
    return *this;
  }
  const Field<T>* field(std::string_view key) const {
    for (const auto& f : fields)
      if (f.key == key) return &f;
    return nullptr;
  }
  // "a, b, c" (sorted): for the unknown-key message.
  std::string known_keys(bool as_defaults = false) const;
};

// ---- scalar conversions (config_table.cc) --------------------------------------
// YAML text is converted; JSON scalars must already have the type.
std::optional<bool> node_bool(const ConfigNode& n);
std::optional<std::int64_t> node_integer(const ConfigNode& n);
std::optional<double> node_number(const ConfigNode& n);  // finite only
std::optional<std::string> node_string(const ConfigNode& n);
std::string shortest_number(double v);
std::string shortest_number(float v);
// The docs' default column for a written value: "(none)" for "", "[]" for an empty list.
std::string default_text_of(const ConfigNode& written);
void issue_expected(const ConfigNode& n, const std::string& path, const std::string& what, ConfigIssues& issues);
void read_names(const ConfigNode& n, std::vector<std::string>& out, const std::string& path, ConfigIssues& issues);
std::optional<PointF> read_point(const ConfigNode& n, const std::string& path, ConfigIssues& issues);
ConfigNode write_point(PointF p);

// ---- the walks -----------------------------------------------------------------

// `as_defaults`: the section is `defaults:` (stream-only keys are refused there).
template <class T>
void read_section(const Section<T>& s, const ConfigNode& n, T& out, const std::string& path, ConfigIssues& issues,
                  bool as_defaults = false) {
  issues.note(path, n.mark);
  if (n.is_scalar() && !s.scalar_key.empty()) {
    const Field<T>* f = s.field(s.scalar_key);
    f->read(n, out, path, issues);
    return;
  }
  if (n.kind != ConfigNode::Kind::kMap) {
    issues.add(path, "expected a mapping, got " + n.describe(), n.mark);
    return;
  }
  for (const auto& [key, value] : n.members) {
    const Field<T>* f = s.field(key);
    const std::string where = join_path(path, key);
    if (!f) {
      issues.add(where, "unknown option (known: " + s.known_keys(as_defaults) + ")", value.mark);
    } else if (as_defaults && f->stream_only) {
      issues.add(where, "belongs to each stream, not to " + path, value.mark);
    }
  }
  if (s.on_present) s.on_present(out);
  for (const auto& f : s.fields) {
    if (as_defaults && f.stream_only) continue;
    const std::string where = join_path(path, f.key);
    const ConfigNode* v = n.find(f.key);
    if (v && !v->is_null()) {
      issues.note(where, v->mark);
      f.read(*v, out, where, issues);
    } else if (!v && f.required) {
      issues.add(where, "required", n.mark);
    }
  }
  if (s.after_read) s.after_read(n, out);
}

template <class T>
void check_section(const Section<T>& s, const T& v, const std::string& path, ConfigIssues& issues,
                   bool as_defaults = false) {
  for (const auto& f : s.fields)
    if (f.check && !(as_defaults && f.stream_only)) f.check(v, join_path(path, f.key), issues);
  if (s.check) s.check(v, path, issues);
}

template <class T>
ConfigNode write_section(const Section<T>& s, const T& v) {
  ConfigNode out = ConfigNode::map();
  for (const auto& f : s.fields)
    if (!f.secret) out.set(f.key, f.write(v));
  return out;
}

template <class T>
void document_section(const Section<T>& s, std::vector<OptionDoc>& out, const std::string& path, bool per_stream,
                      bool as_defaults = false) {
  const T defaults{};
  for (const auto& f : s.fields) {
    if (!f.documented || (as_defaults && f.stream_only)) continue;
    const std::string where = join_path(path, f.key);
    out.push_back({where, to_string(f.type), f.default_text.empty() ? default_text_of(f.write(defaults)) : f.default_text,
                   f.range_text, f.description, per_stream || s.per_stream});
    if (f.document_children) f.document_children(out, where, per_stream || s.per_stream);
  }
}

template <class T>
std::string Section<T>::known_keys(bool as_defaults) const {
  std::vector<std::string> keys;
  for (const auto& f : fields)
    if (!(as_defaults && f.stream_only)) keys.push_back(f.key);
  std::sort(keys.begin(), keys.end());
  std::string s;
  for (const auto& k : keys) s += (s.empty() ? "" : ", ") + k;
  return s;
}

// ---- field builders ------------------------------------------------------------

// What every builder below starts from: the key, the type and the description.
template <class T>
Field<T> blank_field(std::string key, FieldType type, std::string description) {
  Field<T> f;
  f.key = std::move(key);
  f.type = type;
  f.description = std::move(description);
  return f;
}

template <class T>
Field<T> flag(std::string key, bool T::*m, std::string description) {
  Field<T> f = blank_field<T>(std::move(key), FieldType::kBool, std::move(description));
  f.read = [m](const ConfigNode& n, T& out, const std::string& path, ConfigIssues& issues) {
    if (auto b = node_bool(n)) out.*m = *b;
    else issue_expected(n, path, "true or false", issues);
  };
  f.write = [m](const T& v) { return ConfigNode::of_bool(v.*m); };
  return f;
}

// Integral members (int, std::int64_t); `range` is checked on the struct.
template <class T, class N>
Field<T> integer(std::string key, N T::*m, Range range, std::string description) {
  static_assert(std::is_integral_v<N>);
  Field<T> f = blank_field<T>(std::move(key), FieldType::kInteger, std::move(description));
  f.range_text = range.text(true);
  f.read = [m](const ConfigNode& n, T& out, const std::string& path, ConfigIssues& issues) {
    const auto i = node_integer(n);
    if (i && *i >= std::numeric_limits<N>::min() && *i <= std::numeric_limits<N>::max()) out.*m = static_cast<N>(*i);
    else issue_expected(n, path, "an integer", issues);
  };
  f.write = [m](const T& v) { return ConfigNode::of_integer(v.*m); };
  if (range.bounded() || range.zero_off)
    f.check = [m, range](const T& v, const std::string& path, ConfigIssues& issues) {
      const auto x = static_cast<double>(v.*m);
      if (!range.contains(x)) issues.add(path, range.message(true) + " (got " + std::to_string(v.*m) + ")");
    };
  return f;
}

// Floating-point members (float, double).
template <class T, class N>
Field<T> number(std::string key, N T::*m, Range range, std::string description) {
  static_assert(std::is_floating_point_v<N>);
  Field<T> f = blank_field<T>(std::move(key), FieldType::kNumber, std::move(description));
  f.range_text = range.text(false);
  f.read = [m](const ConfigNode& n, T& out, const std::string& path, ConfigIssues& issues) {
    if (auto d = node_number(n)) out.*m = static_cast<N>(*d);
    else issue_expected(n, path, "a number", issues);
  };
  f.write = [m](const T& v) { return ConfigNode::of_number(v.*m, shortest_number(v.*m)); };
  if (range.bounded() || range.zero_off)
    f.check = [m, range](const T& v, const std::string& path, ConfigIssues& issues) {
      if (!range.contains(v.*m)) issues.add(path, range.message(false) + " (got " + shortest_number(v.*m) + ")");
    };
  return f;
}

template <class T>
Field<T> text(std::string key, std::string T::*m, std::string description) {
  Field<T> f = blank_field<T>(std::move(key), FieldType::kString, std::move(description));
  f.read = [m](const ConfigNode& n, T& out, const std::string& path, ConfigIssues& issues) {
    if (auto s = node_string(n)) out.*m = std::move(*s);
    else issue_expected(n, path, "a string", issues);
  };
  f.write = [m](const T& v) { return ConfigNode::of_string(v.*m); };
  return f;
}

// A string member that must not be empty ("required" when a stream lacks it).
template <class T>
Field<T> required_text(std::string key, std::string T::*m, std::string description) {
  Field<T> f = text(std::move(key), m, std::move(description));
  f.check = [m](const T& v, const std::string& path, ConfigIssues& issues) {
    if ((v.*m).empty()) issues.add(path, "required");
  };
  return f;
}

// An enum member, named by `names` in files, JSON and docs.
template <class T, class E>
Field<T> choice(std::string key, E T::*m, std::span<const EnumName<E>> names, std::string description) {
  Field<T> f = blank_field<T>(std::move(key), FieldType::kChoice, std::move(description));
  f.range_text = enum_names_list(names);
  f.read = [m, names](const ConfigNode& n, T& out, const std::string& path, ConfigIssues& issues) {
    const auto s = node_string(n);
    if (!s) return issue_expected(n, path, "one of " + enum_names_list(names), issues);
    if (auto e = parse_enum(names, *s)) out.*m = *e;
    else issues.add(path, "'" + *s + "' is not one of " + enum_names_list(names), n.mark);
  };
  f.write = [m, names](const T& v) { return ConfigNode::of_string(enum_name(names, v.*m)); };
  return f;
}

// A list of names; a string "person,car" is accepted too.
template <class T>
Field<T> names(std::string key, std::vector<std::string> T::*m, std::string description) {
  Field<T> f = blank_field<T>(std::move(key), FieldType::kNames, std::move(description));
  f.read = [m](const ConfigNode& n, T& out, const std::string& path, ConfigIssues& issues) {
    read_names(n, out.*m, path, issues);
  };
  f.write = [m](const T& v) {
    ConfigNode l = ConfigNode::list();
    for (const auto& s : v.*m) l.items.push_back(ConfigNode::of_string(s));
    return l;
  };
  return f;
}

template <class T>
Field<T> point(std::string key, PointF T::*m, std::string description) {
  Field<T> f = blank_field<T>(std::move(key), FieldType::kPoint, std::move(description));
  f.read = [m](const ConfigNode& n, T& out, const std::string& path, ConfigIssues& issues) {
    if (auto p = read_point(n, path, issues)) out.*m = *p;
  };
  f.write = [m](const T& v) { return write_point(v.*m); };
  return f;
}

template <class T>
Field<T> points(std::string key, std::vector<PointF> T::*m, std::string description) {
  Field<T> f = blank_field<T>(std::move(key), FieldType::kPoints, std::move(description));
  f.read = [m](const ConfigNode& n, T& out, const std::string& path, ConfigIssues& issues) {
    if (n.kind != ConfigNode::Kind::kList) return issue_expected(n, path, "a list of points [[x, y], ...]", issues);
    (out.*m).clear();
    for (std::size_t i = 0; i < n.items.size(); ++i)
      if (auto p = read_point(n.items[i], index_path(path, i), issues)) (out.*m).push_back(*p);
  };
  f.write = [m](const T& v) {
    ConfigNode l = ConfigNode::list();
    for (const auto& p : v.*m) l.items.push_back(write_point(p));
    return l;
  };
  return f;
}

// A member that is itself a section (`gate: {similarity: 0.9}`).
template <class T, class U>
Field<T> section(std::string key, U T::*m, const Section<U>& s, std::string description) {
  Field<T> f = blank_field<T>(std::move(key), FieldType::kSection, std::move(description));
  f.default_text = "(see keys)";
  f.read = [m, &s](const ConfigNode& n, T& out, const std::string& path, ConfigIssues& issues) {
    read_section(s, n, out.*m, path, issues);
  };
  f.write = [m, &s](const T& v) { return write_section(s, v.*m); };
  f.check = [m, &s](const T& v, const std::string& path, ConfigIssues& issues) { check_section(s, v.*m, path, issues); };
  f.document_children = [&s](std::vector<OptionDoc>& out, const std::string& path, bool per_stream) {
    document_section(s, out, path, per_stream);
  };
  return f;
}

// Keys nested under `key` whose values are members of T itself (`batch: {max, wait_ms}`).
template <class T>
Field<T> group(std::string key, const Section<T>& s, std::string description) {
  Field<T> f = blank_field<T>(std::move(key), FieldType::kSection, std::move(description));
  f.default_text = "(see keys)";
  f.read = [&s](const ConfigNode& n, T& out, const std::string& path, ConfigIssues& issues) {
    read_section(s, n, out, path, issues);
  };
  f.write = [&s](const T& v) { return write_section(s, v); };
  f.check = [&s](const T& v, const std::string& path, ConfigIssues& issues) { check_section(s, v, path, issues); };
  f.document_children = [&s](std::vector<OptionDoc>& out, const std::string& path, bool per_stream) {
    document_section(s, out, path, per_stream);
  };
  return f;
}

// A list of sections (zones, lines): each item starts from U{}.
template <class T, class U>
Field<T> list(std::string key, std::vector<U> T::*m, const Section<U>& s, std::string description) {
  Field<T> f = blank_field<T>(std::move(key), FieldType::kList, std::move(description));
  f.read = [m, &s](const ConfigNode& n, T& out, const std::string& path, ConfigIssues& issues) {
    if (n.kind != ConfigNode::Kind::kList) return issue_expected(n, path, "a list", issues);
    (out.*m).clear();
    for (std::size_t i = 0; i < n.items.size(); ++i) {
      U item{};
      read_section(s, n.items[i], item, index_path(path, i), issues);
      (out.*m).push_back(std::move(item));
    }
  };
  f.write = [m, &s](const T& v) {
    ConfigNode l = ConfigNode::list();
    for (const auto& item : v.*m) l.items.push_back(write_section(s, item));
    return l;
  };
  f.check = [m, &s](const T& v, const std::string& path, ConfigIssues& issues) {
    for (std::size_t i = 0; i < (v.*m).size(); ++i) check_section(s, (v.*m)[i], index_path(path, i), issues);
  };
  f.document_children = [&s](std::vector<OptionDoc>& out, const std::string& path, bool per_stream) {
    document_section(s, out, path + "[]", per_stream);
  };
  return f;
}

}  // namespace vigil
