// ConfigNode: the one tree every config input becomes before the field
// tables (config_table.h) read it. A YAML document keeps each scalar as text
// (typed later by the field that reads it, so `every: '4'` and `${EVERY}`
// work) with its line and column; a JSON body (the HTTP API) keeps its typed
// scalars, so `"every": "4"` is a string and an integer field refuses it.
// ConfigIssues collects every problem of one input, each with its field path
// and, where known, its position, so that all are reported at once.
// Plain values; pure apart from nothing; no threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace vigil {

// A position in the source text, 1-based; line 0 = unknown (JSON, defaults).
struct SourceMark {
  int line = 0;
  int column = 0;
  bool known() const { return line > 0; }
};

struct ConfigMember;

struct ConfigNode {
  enum class Kind {
    kNull,
    kText,     // a YAML scalar: untyped text
    kBool,     // typed scalars: JSON, or written from a config struct
    kInteger,
    kNumber,
    kString,
    kList,
    kMap,
  };
  Kind kind = Kind::kNull;
  std::string text;  // kText, kString; for kNumber written from a float: its shortest form
  bool boolean = false;
  std::int64_t integer = 0;
  double number = 0;
  std::vector<ConfigNode> items;                            // kList
  std::vector<ConfigMember> members;  // kMap, in input order
  SourceMark mark;

  static ConfigNode of_bool(bool v);
  static ConfigNode of_integer(std::int64_t v);
  static ConfigNode of_number(double v, std::string shortest = {});
  static ConfigNode of_string(std::string v);
  static ConfigNode list();
  static ConfigNode map();

  bool is_null() const { return kind == Kind::kNull; }
  bool is_scalar() const { return kind != Kind::kNull && kind != Kind::kList && kind != Kind::kMap; }
  // The member `key` of a map; nullptr when absent or not a map.
  const ConfigNode* find(std::string_view key) const;
  void set(std::string key, ConfigNode value);  // appends to a map
  // For messages: "'two'" (YAML text), "the string \"4\"", "the number 4", "a list"...
  std::string describe() const;
};

struct ConfigMember {
  std::string key;
  ConfigNode value;
};

// One problem of a config: "streams[2].every: must be between 1 and 1000".
struct ConfigIssue {
  std::string path;  // field path, "" = the whole input
  std::string message;
  SourceMark mark;
  // "streams[2].every: must be ... (vigil.yaml:12:12)"; `source` names the input.
  std::string text(const std::string& source) const;
};

// Collects the issues of one input. One issue per field path: a later one
// for a path that already has one (a module's own check repeating a table
// range, a stream repeating its defaults) is dropped.
class ConfigIssues {
 public:
  void add(std::string path, std::string message, SourceMark mark = {});
  // Remembers where `path` was written, for issues found later on the typed
  // struct (which knows no positions): they take the mark of their path or
  // of its nearest written parent.
  void note(const std::string& path, SourceMark mark);
  bool empty() const { return issues_.empty(); }
  std::size_t size() const { return issues_.size(); }
  bool has(const std::string& path) const;
  const std::vector<ConfigIssue>& list() const { return issues_; }
  // In input order (line, then column; unknown positions last, in order found).
  std::vector<ConfigIssue> sorted() const;
  // kInvalidArgument; the message has one issue per line, prefixed with
  // "N errors:" when there are several.
  Error error(const std::string& source) const;

 private:
  SourceMark mark_of(std::string path) const;
  std::vector<ConfigIssue> issues_;
  std::map<std::string, SourceMark> marks_;
};

// "a.b" / "b" when `parent` is empty; "a[3]".
std::string join_path(const std::string& parent, std::string_view key);
std::string index_path(const std::string& parent, std::size_t i);

// Deeper than this an input is refused: nothing real nests so deep, and a
// YAML alias that refers to itself (`&a [*a]`) makes the tree a cycle.
inline constexpr int kMaxConfigDepth = 64;

// One row of the options table.
struct OptionDoc {
  std::string path;  // "defaults.gate.similarity", "streams[].id", "describe.every_s"
  std::string type;
  std::string default_value;
  std::string range;
  std::string description;
  bool per_stream = false;
};

// YAML text -> tree. nullopt after adding the issue when the text is not
// YAML; keys that are not names and too deep nesting are issues too (the
// rest of the tree is still built).
std::optional<ConfigNode> config_node_from_yaml(const std::string& text, ConfigIssues& issues);

// An environment variable's value by name; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// Replaces ${NAME} and ${NAME:-fallback} in every text scalar (not in keys);
// "$${" is a literal "${". An unset or empty variable without a fallback is
// an issue naming the field and the variable.
void expand_env(ConfigNode& root, const EnvLookup& env, ConfigIssues& issues);
// The same for one text; kInvalidArgument naming the variable.
Result<std::string> expand_env_text(const std::string& text, const EnvLookup& env);

}  // namespace vigil
