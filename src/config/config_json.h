// A config tree (ConfigNode) as JSON and back: the one conversion the API
// (stream bodies, the state file), the chunk tasks in Redis and the cluster's
// stream documents share. Typed scalars stay typed both ways, so the field
// tables still refuse "4" for an integer; YAML text (an untyped scalar) is
// written as a JSON string.
// Pure: no state.
#pragma once

#include <nlohmann/json.hpp>

#include "config/config_node.h"

namespace vigil {

nlohmann::json json_from_node(const ConfigNode& node);
ConfigNode node_from_json(const nlohmann::json& j);

}  // namespace vigil
