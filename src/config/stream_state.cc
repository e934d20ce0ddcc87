#include "config/stream_state.h"

#include <algorithm>
#include <optional>
#include <set>

#include "config/config_table.h"

namespace vigil {
namespace {

// Trees written from structs: typed scalars, members in table order.
bool same_tree(const ConfigNode& a, const ConfigNode& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case ConfigNode::Kind::kNull: return true;
    case ConfigNode::Kind::kBool: return a.boolean == b.boolean;
    case ConfigNode::Kind::kInteger: return a.integer == b.integer;
    case ConfigNode::Kind::kNumber: return a.number == b.number;
    case ConfigNode::Kind::kText:
    case ConfigNode::Kind::kString: return a.text == b.text;
    case ConfigNode::Kind::kList:
      return std::equal(a.items.begin(), a.items.end(), b.items.begin(), b.items.end(), same_tree);
    case ConfigNode::Kind::kMap:
      return std::equal(a.members.begin(), a.members.end(), b.members.begin(), b.members.end(),
                        [](const ConfigMember& x, const ConfigMember& y) { return x.key == y.key && same_tree(x.value, y.value); });
  }
  return false;
}

const StreamConfig* find_stream(const std::vector<StreamConfig>& list, const std::string& id) {
  const auto it = std::find_if(list.begin(), list.end(), [&](const StreamConfig& s) { return s.id == id; });
  return it == list.end() ? nullptr : &*it;
}

// A written scalar as the text a config file would give it (nullopt: a kind
// that is not compared: lists, maps, floats).
std::optional<std::string> scalar_text(const ConfigNode& n) {
  switch (n.kind) {
    case ConfigNode::Kind::kText:
    case ConfigNode::Kind::kString: return n.text;
    case ConfigNode::Kind::kInteger: return std::to_string(n.integer);
    case ConfigNode::Kind::kBool: return n.boolean ? "true" : "false";
    default: return std::nullopt;
  }
}

// Every "${" as "$${" (a literal for the reader's substitution).
void escape_references(std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') out += '$';
    out += text[i];
  }
  text = std::move(out);
}

// The config's text at one place of a stream: its own tree, else `defaults:`.
struct RawPlace {
  const ConfigNode* own = nullptr;
  const ConfigNode* fallback = nullptr;
  RawPlace member(const std::string& key) const {
    auto in = [&](const ConfigNode* n) { return n && n->kind == ConfigNode::Kind::kMap ? n->find(key) : nullptr; };
    return {in(own), in(fallback)};
  }
  RawPlace item(std::size_t i) const {
    auto in = [&](const ConfigNode* n) {
      return n && n->kind == ConfigNode::Kind::kList && i < n->items.size() ? &n->items[i] : nullptr;
    };
    return {in(own), in(fallback)};
  }
  const ConfigNode* scalar() const {
    if (own) return own->is_scalar() ? own : nullptr;
    return fallback && fallback->is_scalar() ? fallback : nullptr;
  }
};

void keep_references(ConfigNode& written, const RawPlace& raw, const EnvLookup* env) {
  switch (written.kind) {
    case ConfigNode::Kind::kMap:
      for (auto& m : written.members) keep_references(m.value, raw.member(m.key), env);
      return;
    case ConfigNode::Kind::kList:
      for (std::size_t i = 0; i < written.items.size(); ++i) keep_references(written.items[i], raw.item(i), env);
      return;
    default: break;
  }
  const auto text = scalar_text(written);
  if (!text) return;
  if (const ConfigNode* r = raw.scalar(); env && r && r->text.find("${") != std::string::npos) {
    if (auto expanded = expand_env_text(r->text, *env); expanded && *expanded == *text) {
      written = ConfigNode::of_string(r->text);
      return;
    }
  }
  if (written.kind == ConfigNode::Kind::kString || written.kind == ConfigNode::Kind::kText)
    escape_references(written.text);
}

ConfigNode state_stream_node(const StreamConfig& s, const ConfigText& config, const EnvLookup* env) {
  ConfigNode node = stream_config_node(s);
  if (!s.describe.api_key.empty())
    for (auto& m : node.members)
      if (m.key == "describe" && m.value.kind == ConfigNode::Kind::kMap)
        m.value.set("api_key", ConfigNode::of_string(s.describe.api_key));
  const auto own = config.streams.find(s.id);
  keep_references(node, RawPlace{own == config.streams.end() ? nullptr : &own->second, &config.defaults}, env);
  return node;
}

}  // namespace

ConfigText config_text_of(const std::string& yaml_text) {
  ConfigText out;
  try {
    ConfigIssues issues;
    const auto tree = config_node_from_yaml(yaml_text, issues);
    if (!tree || tree->kind != ConfigNode::Kind::kMap) return out;
    if (const ConfigNode* d = tree->find("defaults")) out.defaults = *d;
    if (const ConfigNode* streams = tree->find("streams"); streams && streams->kind == ConfigNode::Kind::kList)
      for (const auto& s : streams->items)
        if (const ConfigNode* id = s.kind == ConfigNode::Kind::kMap ? s.find("id") : nullptr; id && id->is_scalar())
          out.streams.emplace(id->text, s);
  } catch (const std::exception&) {
    return {};  // the config's own parser names the problem
  }
  return out;
}

bool same_stream(const StreamConfig& a, const StreamConfig& b) {
  return a.describe.api_key == b.describe.api_key && same_tree(stream_config_node(a), stream_config_node(b));
}

StreamState stream_state_of(const std::vector<StreamConfig>& config, const std::vector<StreamConfig>& current) {
  StreamState state;
  for (const auto& s : current)
    if (const StreamConfig* c = find_stream(config, s.id); !c || !same_stream(*c, s)) state.streams.push_back(s);
  for (const auto& c : config)
    if (!find_stream(current, c.id)) state.removed.push_back(c.id);
  return state;
}

std::vector<StreamConfig> apply_stream_state(const std::vector<StreamConfig>& config, const StreamState& state) {
  std::vector<StreamConfig> out = config;
  for (StreamConfig s : state.streams) {
    auto it = std::find_if(out.begin(), out.end(), [&](const StreamConfig& c) { return c.id == s.id; });
    if (it == out.end()) {
      out.push_back(std::move(s));
      continue;
    }
    if (s.describe.api_key.empty()) s.describe.api_key = it->describe.api_key;
    *it = std::move(s);
  }
  const std::set<std::string> removed(state.removed.begin(), state.removed.end());
  std::erase_if(out, [&](const StreamConfig& s) { return removed.count(s.id) > 0; });
  return out;
}

void fill_local_api_key(StreamConfig& stream, const LocalSecrets& local) {
  if (!stream.describe.api_key.empty()) return;
  const StreamConfig* own = find_stream(local.streams, stream.id);
  const StreamConfig& from = own ? *own : local.defaults;
  if (!from.describe.api_key.empty() && from.describe.endpoint == stream.describe.endpoint)
    stream.describe.api_key = from.describe.api_key;
}

ConfigNode stream_state_node(const StreamState& state, const ConfigText& config, const EnvLookup* env) {
  ConfigNode streams = ConfigNode::list();
  for (const auto& s : state.streams) streams.items.push_back(state_stream_node(s, config, env));
  ConfigNode removed = ConfigNode::list();
  for (const auto& id : state.removed) removed.items.push_back(ConfigNode::of_string(id));
  ConfigNode out = ConfigNode::map();
  out.set("streams", std::move(streams));
  out.set("removed", std::move(removed));
  return out;
}

Result<StreamState> parse_stream_state(const std::string& text, const std::string& source, const EnvLookup* env) {
  ConfigIssues issues;
  StreamState state;
  try {
    auto tree = config_node_from_yaml(text, issues);
    if (!tree) return fail(ErrorCode::kInvalidArgument, source + ": " + issues.error(source).message);
    if (env) expand_env(*tree, *env, issues);
    if (tree->kind != ConfigNode::Kind::kMap) {
      issues.add("", "expected a mapping {streams: [...], removed: [...]}, got " + tree->describe(), tree->mark);
    } else {
      for (const auto& m : tree->members)
        if (m.key != "streams" && m.key != "removed") issues.add(m.key, "unknown key (known: removed, streams)", m.value.mark);
      if (const ConfigNode* streams = tree->find("streams")) {
        if (streams->kind != ConfigNode::Kind::kList) {
          issue_expected(*streams, "streams", "a list of streams", issues);
        } else {
          std::set<std::string> ids;
          for (std::size_t i = 0; i < streams->items.size(); ++i) {
            StreamConfig s;
            const std::string path = index_path("streams", i);
            read_stream_node(streams->items[i], s, path, issues);
            if (!s.id.empty() && !ids.insert(s.id).second)
              issues.add(join_path(path, "id"), "'" + s.id + "' is used by another stream");
            state.streams.push_back(std::move(s));
          }
        }
      }
      if (const ConfigNode* removed = tree->find("removed")) {
        if (removed->kind != ConfigNode::Kind::kList) {
          issue_expected(*removed, "removed", "a list of stream ids", issues);
        } else {
          for (std::size_t i = 0; i < removed->items.size(); ++i) {
            const ConfigNode& id = removed->items[i];
            if (id.is_scalar() && !id.text.empty()) state.removed.push_back(id.text);
            else issues.add(index_path("removed", i), "expected a stream id, got " + id.describe(), id.mark);
          }
        }
      }
    }
  } catch (const std::exception& e) {
    return fail(ErrorCode::kInvalidArgument, source + ": cannot be read: " + e.what());
  }
  if (!issues.empty()) return fail(ErrorCode::kInvalidArgument, source + ": " + issues.error(source).message);
  return state;
}

ReloadPlan plan_reload(const std::vector<StreamConfig>& running, const EngineConfig& old_config,
                       const EngineConfig& new_config) {
  ReloadPlan plan;
  for (const auto& s : running)
    if (!find_stream(new_config.streams, s.id)) plan.remove.push_back(s.id);
  for (const auto& s : new_config.streams) {
    const StreamConfig* now = find_stream(running, s.id);
    if (!now) plan.add.push_back(s.id);
    else if (!same_stream(*now, s)) plan.replace.push_back(s.id);
  }
  const ConfigNode before = engine_config_node(old_config);
  const ConfigNode after = engine_config_node(new_config);
  for (const auto& m : after.members) {
    if (m.key == "streams" || m.key == "defaults") continue;
    const auto old = std::find_if(before.members.begin(), before.members.end(),
                                  [&](const ConfigMember& o) { return o.key == m.key; });
    if (old == before.members.end() || !same_tree(old->value, m.value)) plan.needs_restart.push_back(m.key);
  }
  return plan;
}

std::string stream_state_path(const std::string& config_path) { return config_path + ".state.json"; }

}  // namespace vigil
