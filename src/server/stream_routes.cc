#include "server/stream_routes.h"

#include <spdlog/spdlog.h>

#include "media/source_url.h"
#include "server/json_body.h"
#include "server/stats_json.h"
#include "server/stream_request.h"

namespace vigil {

using nlohmann::json;

json StreamRoutes::stream_json(const std::string& id, const EngineStats& stats) const {
  json out = {{"id", id}};
  const auto config = engine_.stream_config(id);
  const StreamSnapshot* status = stats.find_stream(id);
  const StreamRunState state = config && !config->enabled ? StreamRunState::kDisabled
                               : status                    ? run_state_of(*status)
                                                           : StreamRunState::kDown;
  out["state"] = to_string(state);
  if (config) {
    json shown = stream_config_json(*config);
    // Shown, never the secrets: PATCH merges into the stored config, not into this.
    shown["url"] = redact_url(config->url);
    shown["describe"]["endpoint"] = redact_url(config->describe.endpoint);
    out["config"] = std::move(shown);
  }
  out["status"] = status ? to_json(*status) : json(nullptr);
  return out;
}

ApiResponse StreamRoutes::list() {
  const EngineStats stats = engine_.stats();
  json list = json::array();
  for (const auto& id : engine_.stream_ids()) list.push_back(stream_json(id, stats));
  return json_ok({{"streams", list}});
}

ApiResponse StreamRoutes::get(const std::string& id) {
  if (!engine_.has_stream(id)) return json_error(404, "stream '" + id + "' does not exist");
  return json_ok(stream_json(id, engine_.stats()));
}

ApiResponse StreamRoutes::add(const std::string& body) {
  auto j = parse_json_body(body);
  if (!j) return bad_request(j.error());
  auto config = stream_config_from_json(*j, engine_.stream_defaults());
  if (!config) return error_response(config.error());
  auto url = check_api_source(config->url, media_dir_);
  if (!url) return bad_request(url.error());
  config->url = *url;
  std::lock_guard lock(change_mu_);
  if (engine_.has_stream(config->id)) return json_error(409, "stream '" + config->id + "' already exists");
  const std::string id = config->id;
  const std::string shown_url = redact_url(config->url);
  if (auto r = engine_.add_stream(std::move(*config)); !r) return error_response(r.error());
  spdlog::info("API: stream '{}' added ({})", id, shown_url);
  return json_ok(stream_json(id, engine_.stats()), 201);
}

ApiResponse StreamRoutes::patch(const std::string& id, const std::string& body) {
  auto j = parse_json_body(body);
  if (!j) return bad_request(j.error());
  std::lock_guard lock(change_mu_);
  const auto current = engine_.stream_config(id);
  if (!current) return json_error(404, "stream '" + id + "' does not exist");
  const StreamConfig old_config = *current;
  auto merged = merge_stream_patch(stream_config_json(old_config), *j);
  if (!merged) return bad_request(merged.error());
  auto config = stream_config_from_json(*merged);
  if (!config) return bad_request(config.error());
  if (!(j->contains("describe") && (*j)["describe"].is_object() && (*j)["describe"].contains("api_key")))
    config->describe.api_key = old_config.describe.api_key;
  // Restart the stream with the merged config (its counters start again), or
  // stop it and keep its config (`enabled: false`); one change for the engine
  // (one state file write). A refused config leaves the old one running.
  if (auto r = engine_.replace_stream(std::move(*config)); !r) return error_response(r.error());
  std::string keys;
  for (const auto& [key, value] : j->items()) keys += (keys.empty() ? "" : ", ") + key;
  const bool enabled = engine_.stream_config(id).value_or(StreamConfig{}).enabled;
  spdlog::info("API: stream '{}' changed ({}) and {}", id, keys.empty() ? "no fields" : keys,
               enabled ? "restarted" : "stopped (disabled: its config is kept)");
  return json_ok(stream_json(id, engine_.stats()));
}

ApiResponse StreamRoutes::remove(const std::string& id) {
  std::lock_guard lock(change_mu_);
  if (auto r = engine_.remove_stream(id); !r) return error_response(r.error());
  spdlog::info("API: stream '{}' removed", id);
  return json_ok({{"deleted", id}});
}

}  // namespace vigil
