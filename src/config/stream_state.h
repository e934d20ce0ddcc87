// StreamState: what the HTTP API (and the dashboard's editor, which uses it)
// changed in a config's streams, kept in a state file beside the config
// (`<config>.state.json`, docs/config.md) so that it survives a restart:
// the streams added or changed (each whole, as the stream field table writes
// it) and the ids of config streams that were deleted.
// At start: the config's streams, then each state stream replaces the config
// stream of its id (or is added), then the removed ids are dropped.
// Secrets: the file (mode 0600) holds each stream whole, describe.api_key
// included, so nothing given through the API is lost at a restart; a value
// that came from a `${NAME}` reference in the config (a URL password, an
// api_key) and is unchanged is written as that reference, not its value.
// Pure: no files, no threads (cli/run_command.cc reads and writes the file).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config/config_node.h"
#include "config/engine_config.h"
#include "core/error.h"

namespace vigil {

struct StreamState {
  std::vector<StreamConfig> streams;  // added or changed through the API, in the engine's order
  std::vector<std::string> removed;   // ids of config streams deleted through the API
};

// Same settings: equal written forms (the field table's writer) and equal
// secrets (describe.api_key, which the writer leaves out).
bool same_stream(const StreamConfig& a, const StreamConfig& b);

// The state that turns `config` into `current`: streams of `current` that
// are not in `config` or differ from it, and ids of `config` not in `current`.
StreamState stream_state_of(const std::vector<StreamConfig>& config, const std::vector<StreamConfig>& current);

// `config` with `state` over it (see above). A state stream without its
// api_key keeps the config stream's (the file never holds it).
std::vector<StreamConfig> apply_stream_state(const std::vector<StreamConfig>& config, const StreamState& state);

// Secrets are never shared between processes: a stream that comes from
// elsewhere (a cluster node's document in Redis, a chunk task of a
// distributed job) has no describe.api_key. It takes this process's own:
// the key of the `streams` entry with its id, else of `defaults`, but only
// when that entry's describe.endpoint is the stream's (a key goes only to
// the server it was configured for). A stream with a key keeps it.
struct LocalSecrets {
  std::vector<StreamConfig> streams;
  StreamConfig defaults;
};
void fill_local_api_key(StreamConfig& stream, const LocalSecrets& local);

// The config file as written, before ${NAME} substitution: each stream's
// tree by id, and `defaults:` (kNull when absent or when the text is not YAML).
struct ConfigText {
  std::map<std::string, ConfigNode> streams;
  ConfigNode defaults;
};
ConfigText config_text_of(const std::string& yaml_text);

// {streams: [...], removed: [...]} by the stream field table's writer, with
// each stream's describe.api_key. With `env`: a text value equal to what a
// `${NAME}` of `config` at the same place gives now (the config stream of
// that id, else `defaults:`) is written as the reference; every other "${" is
// written "$${" (parse_stream_state substitutes as a config file does).
ConfigNode stream_state_node(const StreamState& state, const ConfigText& config = {}, const EnvLookup* env = nullptr);
// The text of a state file (JSON is YAML: the config's parser reads it);
// with `env`, ${NAME} is substituted as in a config file.
// kInvalidArgument naming `source`, the field and the problem.
Result<StreamState> parse_stream_state(const std::string& text, const std::string& source,
                                       const EnvLookup* env = nullptr);

// What a SIGHUP reload does (cli/run_command.cc): by stream id, the
// streams running now against the reloaded config's (state file applied).
// Unchanged streams are in none of the lists: they are not touched.
struct ReloadPlan {
  std::vector<std::string> remove;   // running, not in the new config
  std::vector<std::string> add;      // in the new config, not running
  std::vector<std::string> replace;  // in both, with different settings (same_stream): Engine::replace_stream
  // Top-level sections other than `streams` and `defaults` that differ
  // ("model", "batch", "server", ...): not applied, they need a restart.
  // (`defaults` reaches the config's streams through their own settings.)
  std::vector<std::string> needs_restart;
};
ReloadPlan plan_reload(const std::vector<StreamConfig>& running, const EngineConfig& old_config,
                       const EngineConfig& new_config);

// "<config>.state.json".
std::string stream_state_path(const std::string& config_path);

}  // namespace vigil
