#include "config/config_node.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include <yaml-cpp/yaml.h>

namespace vigil {

ConfigNode ConfigNode::of_bool(bool v) {
  ConfigNode n;
  n.kind = Kind::kBool;
  n.boolean = v;
  return n;
}

ConfigNode ConfigNode::of_integer(std::int64_t v) {
  ConfigNode n;
  n.kind = Kind::kInteger;
  n.integer = v;
  return n;
}

ConfigNode ConfigNode::of_number(double v, std::string shortest) {
  ConfigNode n;
  n.kind = Kind::kNumber;
  n.number = v;
  n.text = std::move(shortest);
  return n;
}

ConfigNode ConfigNode::of_string(std::string v) {
  ConfigNode n;
  n.kind = Kind::kString;
  n.text = std::move(v);
  return n;
}

ConfigNode ConfigNode::list() {
  ConfigNode n;
  n.kind = Kind::kList;
  return n;
}

ConfigNode ConfigNode::map() {
  ConfigNode n;
  n.kind = Kind::kMap;
  return n;
}

const ConfigNode* ConfigNode::find(std::string_view key) const {
  if (kind != Kind::kMap) return nullptr;
  for (const auto& [k, v] : members)
    if (k == key) return &v;
  return nullptr;
}

void ConfigNode::set(std::string key, ConfigNode value) { members.push_back({std::move(key), std::move(value)}); }

std::string ConfigNode::describe() const {
  switch (kind) {
    case Kind::kNull: return "nothing";
    case Kind::kText: return "'" + text + "'";
    case Kind::kBool: return boolean ? "the boolean true" : "the boolean false";
    case Kind::kInteger: return "the number " + std::to_string(integer);
    case Kind::kNumber: {
      char buf[32];
      const auto r = std::to_chars(buf, buf + sizeof buf, number);
      return "the number " + std::string(buf, r.ptr);
    }
    case Kind::kString: return "the string \"" + text + "\"";
    case Kind::kList: return "a list";
    case Kind::kMap: return "a mapping";
  }
  return "nothing";
}

std::string join_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string index_path(const std::string& parent, std::size_t i) { return parent + "[" + std::to_string(i) + "]"; }

// ---- issues --------------------------------------------------------------------

std::string ConfigIssue::text(const std::string& source) const {
  std::string s = (path.empty() ? "config" : path) + ": " + message;
  if (mark.known()) s += " (" + source + ":" + std::to_string(mark.line) + ":" + std::to_string(mark.column) + ")";
  return s;
}

bool ConfigIssues::has(const std::string& path) const {
  return std::any_of(issues_.begin(), issues_.end(), [&](const ConfigIssue& i) { return i.path == path; });
}

void ConfigIssues::add(std::string path, std::string message, SourceMark mark) {
  if (has(path)) return;
  issues_.push_back({std::move(path), std::move(message), mark});
}

void ConfigIssues::note(const std::string& path, SourceMark mark) {
  if (mark.known()) marks_.emplace(path, mark);
}

// The mark of `path`, else of its nearest noted parent ("a.b[2].c" -> "a.b[2]" -> "a.b" -> "a").
SourceMark ConfigIssues::mark_of(std::string path) const {
  while (true) {
    if (auto it = marks_.find(path); it != marks_.end()) return it->second;
    const std::size_t cut = path.find_last_of(".[");
    if (cut == std::string::npos || cut == 0) break;
    path.resize(cut);
  }
  if (auto it = marks_.find(""); it != marks_.end()) return it->second;
  return {};
}

std::vector<ConfigIssue> ConfigIssues::sorted() const {
  std::vector<ConfigIssue> out = issues_;
  for (auto& i : out)
    if (!i.mark.known()) i.mark = mark_of(i.path);
  std::stable_sort(out.begin(), out.end(), [](const ConfigIssue& a, const ConfigIssue& b) {
    if (a.mark.known() != b.mark.known()) return a.mark.known();
    if (a.mark.line != b.mark.line) return a.mark.line < b.mark.line;
    return a.mark.column < b.mark.column;
  });
  return out;
}

Error ConfigIssues::error(const std::string& source) const {
  const auto list = sorted();
  std::string message = list.size() > 1 ? std::to_string(list.size()) + " errors:\n" : "";
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i) message += '\n';
    message += list[i].text(source);
  }
  return Error{ErrorCode::kInvalidArgument, message};
}

// ---- YAML -> tree --------------------------------------------------------------

namespace {

SourceMark mark_of(const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  if (m.is_null()) return {};
  return {m.line + 1, m.column + 1};
}

std::string yaml_kind(const YAML::Node& n) {
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  return "nothing";
}

// More nodes than this and a document is refused: aliases can multiply a
// short text into an exponential tree ("billion laughs").
constexpr std::size_t kMaxConfigNodes = 100'000;

struct YamlWalk {
  ConfigIssues& issues;
  std::size_t nodes = 0;
};

ConfigNode from_yaml(const YAML::Node& n, const std::string& path, int depth, YamlWalk& walk) {
  ConfigIssues& issues = walk.issues;
  ConfigNode out;
  out.mark = mark_of(n);
  if (++walk.nodes > kMaxConfigNodes) {
    issues.add("", "more than " + std::to_string(kMaxConfigNodes) + " values (aliases repeated too often?)", out.mark);
    return out;
  }
  if (depth > kMaxConfigDepth) {
    issues.add(path, "nested deeper than " + std::to_string(kMaxConfigDepth) + " levels (or an alias refers to itself)",
               out.mark);
    return out;
  }
  if (n.IsScalar()) {
    out.kind = ConfigNode::Kind::kText;
    out.text = n.Scalar();
  } else if (n.IsSequence()) {
    out.kind = ConfigNode::Kind::kList;
    for (std::size_t i = 0; i < n.size(); ++i) out.items.push_back(from_yaml(n[i], index_path(path, i), depth + 1, walk));
  } else if (n.IsMap()) {
    out.kind = ConfigNode::Kind::kMap;
    for (const auto& kv : n) {
      if (!kv.first.IsScalar()) {
        issues.add(path, "a key must be a name, got " + yaml_kind(kv.first), mark_of(kv.first));
        continue;
      }
      const std::string key = kv.first.Scalar();
      out.set(key, from_yaml(kv.second, join_path(path, key), depth + 1, walk));
    }
  }
  return out;
}

}  // namespace

std::optional<ConfigNode> config_node_from_yaml(const std::string& text, ConfigIssues& issues) {
  try {
    const YAML::Node root = YAML::Load(text);
    YamlWalk walk{issues};
    ConfigNode tree = from_yaml(root, "", 0, walk);
    issues.note("", tree.mark);
    return tree;
  } catch (const YAML::Exception& e) {
    const SourceMark at = e.mark.is_null() ? SourceMark{} : SourceMark{e.mark.line + 1, e.mark.column + 1};
    issues.add("", "not valid YAML: " + e.msg, at);
    return std::nullopt;
  }
}

// ---- ${NAME} -------------------------------------------------------------------

namespace {

bool is_env_name(const std::string& name) {
  return !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
         std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

// "${NAME}" and "${NAME:-fallback}" in one scalar; "$${" stays a literal "${".
Result<std::string> expand_env_in(const std::string& text, const EnvLookup& env) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t at = text.find('$', pos);
    if (at == std::string::npos) break;
    out += text.substr(pos, at - pos);
    if (text.compare(at, 3, "$${") == 0) {
      out += "${";
      pos = at + 3;
      continue;
    }
    if (text.compare(at, 2, "${") != 0) {
      out += '$';
      pos = at + 1;
      continue;
    }
    const std::size_t close = text.find('}', at + 2);
    if (close == std::string::npos) return fail(ErrorCode::kInvalidArgument, "'${' without a closing '}'");
    const std::string inner = text.substr(at + 2, close - at - 2);
    const std::size_t dash = inner.find(":-");
    const std::string name = inner.substr(0, dash);
    if (!is_env_name(name))
      return fail(ErrorCode::kInvalidArgument,
                  "'${" + inner + "}' is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
    if (auto value = env(name); value && !value->empty()) {
      out += *value;
    } else if (dash != std::string::npos) {
      out += inner.substr(dash + 2);
    } else {
      return fail(ErrorCode::kInvalidArgument,
                  "environment variable " + name + " is not set (or use ${" + name + ":-default})");
    }
    pos = close + 1;
  }
  out += text.substr(std::min(pos, text.size()));
  return out;
}

void expand_tree(ConfigNode& node, const EnvLookup& env, const std::string& path, ConfigIssues& issues) {
  switch (node.kind) {
    case ConfigNode::Kind::kText:
      if (node.text.find('$') == std::string::npos) return;
      if (auto expanded = expand_env_in(node.text, env)) {
        node.text = std::move(*expanded);
      } else {
        issues.add(path, expanded.error().message, node.mark);
      }
      return;
    case ConfigNode::Kind::kList:
      for (std::size_t i = 0; i < node.items.size(); ++i) expand_tree(node.items[i], env, index_path(path, i), issues);
      return;
    case ConfigNode::Kind::kMap:
      for (auto& [key, value] : node.members) expand_tree(value, env, join_path(path, key), issues);
      return;
    default: return;
  }
}

}  // namespace

void expand_env(ConfigNode& root, const EnvLookup& env, ConfigIssues& issues) { expand_tree(root, env, "", issues); }

Result<std::string> expand_env_text(const std::string& text, const EnvLookup& env) { return expand_env_in(text, env); }

}  // namespace vigil
