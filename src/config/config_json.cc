#include "config/config_json.h"

#include <cstdint>
#include <limits>

namespace vigil {

using nlohmann::json;

json json_from_node(const ConfigNode& n) {
  switch (n.kind) {
    case ConfigNode::Kind::kBool: return n.boolean;
    case ConfigNode::Kind::kInteger: return n.integer;
    case ConfigNode::Kind::kNumber: return n.number;
    case ConfigNode::Kind::kText:
    case ConfigNode::Kind::kString: return n.text;
    case ConfigNode::Kind::kList: {
      json a = json::array();
      for (const auto& item : n.items) a.push_back(json_from_node(item));
      return a;
    }
    case ConfigNode::Kind::kMap: {
      json o = json::object();
      for (const auto& [key, value] : n.members) o[key] = json_from_node(value);
      return o;
    }
    case ConfigNode::Kind::kNull: return nullptr;
  }
  return nullptr;
}

ConfigNode node_from_json(const json& j) {
  switch (j.type()) {
    case json::value_t::boolean: return ConfigNode::of_bool(j.get<bool>());
    case json::value_t::number_integer: return ConfigNode::of_integer(j.get<std::int64_t>());
    case json::value_t::number_unsigned: {
      const auto u = j.get<std::uint64_t>();
      if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return ConfigNode::of_integer(static_cast<std::int64_t>(u));
      return ConfigNode::of_number(static_cast<double>(u));
    }
    case json::value_t::number_float: return ConfigNode::of_number(j.get<double>());
    case json::value_t::string: return ConfigNode::of_string(j.get<std::string>());
    case json::value_t::array: {
      ConfigNode l = ConfigNode::list();
      for (const auto& item : j) l.items.push_back(node_from_json(item));
      return l;
    }
    case json::value_t::object: {
      ConfigNode m = ConfigNode::map();
      for (const auto& [key, value] : j.items()) m.set(key, node_from_json(value));
      return m;
    }
    default: return ConfigNode{};
  }
}

}  // namespace vigil
