#include "server/cluster_routes.h"

#include "core/round.h"

namespace vigil {

using nlohmann::json;

json to_json(const ClusterStatus& s) {
  json nodes = json::array();
  for (const auto& n : s.nodes)
    nodes.push_back({{"name", n.name},
                     {"advertise_url", n.advertise_url},
                     {"capacity", n.capacity},
                     {"heartbeat_age_s", round3(n.heartbeat_age_s)},
                     {"streams", n.streams},
                     {"self", n.name == s.self}});
  json streams = json::array();
  for (const auto& st : s.streams)
    streams.push_back({{"id", st.id},
                       {"node", st.node.empty() ? json(nullptr) : json(st.node)},
                       {"node_url", st.node_url.empty() ? json(nullptr) : json(st.node_url)}});
  return {{"self", s.self},
          {"advertise_url", s.advertise_url},
          {"redis", s.redis},
          {"connected", s.connected},
          {"last_error", s.last_error.empty() ? json(nullptr) : json(s.last_error)},
          {"age_s", round3(s.age_s)},
          {"lease_s", s.lease_s},
          {"capacity", s.capacity},
          {"capacity_measured", s.capacity_measured},
          {"load", s.capacity_measured ? json(s.load) : json(nullptr)},
          {"per_stream_load", s.capacity_measured && s.per_stream_load > 0 ? json(s.per_stream_load) : json(nullptr)},
          {"measured_streams", s.capacity_measured && s.per_stream_load > 0 ? json(s.measured_streams) : json(nullptr)},
          {"fair_share", s.fair_share},
          {"running", s.running},
          {"nodes", nodes},
          {"streams", streams},
          {"figures",
           {{"redis_commands", s.commands},
            {"leases_lost", s.leases_lost},
            {"events_sent", s.events_sent},
            {"events_dropped", s.events_dropped},
            {"events_errors", s.events_errors}}}};
}

ApiResponse cluster_response(const ClusterNode* cluster) {
  if (!cluster) return json_error(404, "this server is not a cluster node (vigil run --node NAME with cluster.redis)");
  return json_ok(to_json(cluster->status()));
}

}  // namespace vigil
