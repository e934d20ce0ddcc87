#include "server/cluster_stream_engine.h"

namespace vigil {

std::optional<StreamConfig> ClusterStreamEngine::stream_config(const std::string& id) const {
  if (auto local = local_.stream_config(id)) return local;
  return cluster_.stream(id);
}

Result<void> ClusterStreamEngine::add_stream(StreamConfig config) {
  // What the engine would refuse, refused here: no node could start it.
  if (auto v = validate_stream(config, "streams[" + config.id + "]"); !v) return fail(v.error());
  return cluster_.put_stream(config);
}

Result<void> ClusterStreamEngine::replace_stream(StreamConfig config) {
  if (!stream_config(config.id)) return fail(ErrorCode::kNotFound, "stream '" + config.id + "' does not exist");
  return add_stream(std::move(config));
}

}  // namespace vigil
