// GET /api/cluster (docs/api.md, "Cluster"): the cluster as this node saw
// it at its last tick: the alive nodes (heartbeat age, capacity, streams,
// advertised API URL), each stream with the node that runs it and that
// node's URL, this node's name, lease and figures.
// Threads: any (ClusterNode::status() is a copy under its lock).
#pragma once

#include <nlohmann/json.hpp>

#include "node/cluster_node.h"
#include "server/api_response.h"

namespace vigil {

nlohmann::json to_json(const ClusterStatus& status);
// 404 when `cluster` is null (not a cluster node).
ApiResponse cluster_response(const ClusterNode* cluster);

}  // namespace vigil
