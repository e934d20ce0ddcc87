// The state file's pure side (config/stream_state.h): what is kept, how it
// reads back, and the errors of a bad file.
#include "config/stream_state.h"

#include <gtest/gtest.h>

#include "server/stream_request.h"

namespace vigil {
namespace {

StreamConfig state_stream(const std::string& id) {
  StreamConfig s = default_stream(id, "rtsp://h/" + id);
  s.describe.api_key = "key-" + id;
  return s;
}

TEST(StreamState, OnlyChangedAddedAndRemovedStreamsAreKept) {
  const std::vector<StreamConfig> config = {state_stream("a"), state_stream("b"), state_stream("c")};
  std::vector<StreamConfig> current = {state_stream("a"), state_stream("c"), state_stream("d")};
  ZoneConfig door;
  door.name = "door";
  door.polygon = {{0, 0}, {1, 0}, {1, 1}};
  current[1].zones.push_back(door);
  const StreamState state = stream_state_of(config, current);
  ASSERT_EQ(state.streams.size(), 2U);
  EXPECT_EQ(state.streams[0].id, "c");
  EXPECT_EQ(state.streams[1].id, "d");
  EXPECT_EQ(state.removed, (std::vector<std::string>{"b"}));
  EXPECT_TRUE(same_stream(config[0], current[0]));
  EXPECT_FALSE(same_stream(config[2], current[1]));
}

TEST(StreamState, StateReadBackGivesTheSameStreams) {
  const std::vector<StreamConfig> config = {state_stream("a"), state_stream("b")};
  std::vector<StreamConfig> current = {state_stream("a"), state_stream("new")};
  current[0].every = 7;
  current[0].motion.enabled = true;
  current[0].tracker.min_hits = 4;
  LineConfig gate;
  gate.name = "gate";
  gate.a = {0, 0.5F};
  gate.b = {1, 0.5F};
  gate.normalized = true;
  current[0].lines.push_back(gate);
  const StreamState written = stream_state_of(config, current);
  EXPECT_EQ(stream_state_node(written).find("streams")->items.size(), 2U);
  // The file as JSON holds it (YAML reads JSON; the tables type its scalars).
  auto parsed = parse_stream_state(
      R"({"streams": [{"id": "a", "url": "rtsp://h/a", "every": 7, "motion": {"enabled": true},
          "tracker": {"min_hits": 4}, "lines": [{"name": "gate", "a": [0, 0.5], "b": [1, 0.5]}]},
          {"id": "new", "url": "rtsp://h/new"}], "removed": ["b"]})",
      "vigil.yaml.state.json");
  ASSERT_TRUE(parsed) << parsed.error().message;
  auto applied = apply_stream_state(config, *parsed);
  ASSERT_EQ(applied.size(), 2U);
  EXPECT_EQ(applied[0].id, "a");
  EXPECT_EQ(applied[0].describe.api_key, "key-a") << "the config's secret is kept";
  EXPECT_TRUE(same_stream(applied[0], current[0]));
  EXPECT_EQ(applied[1].id, "new");
  applied[1].describe.api_key = "key-new";
  EXPECT_TRUE(same_stream(applied[1], current[1]));
}

// A fixed environment for ${NAME} (a real lookup: no variable of the test process is read).
EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

// The config as loaded (substituted) from `yaml` with `env`.
std::vector<StreamConfig> loaded_streams(const std::string& yaml, const EnvLookup& env) {
  auto c = parse_config(yaml, "vigil.yaml", &env);
  EXPECT_TRUE(c) << c.error().message;
  return c ? c->streams : std::vector<StreamConfig>{};
}

TEST(StreamState, SecretsAreKeptAndReferencesStayReferences) {
  const std::string yaml =
      "defaults:\n  describe: {api_key: '${VLM_KEY}'}\n"
      "streams:\n"
      "  - {id: cam, url: 'rtsp://admin:${CAM_PASS}@10.0.0.5/live'}\n"
      "  - {id: lit, url: 'rtsp://10.0.0.6/live', describe: {api_key: plain-key}}\n";
  const EnvLookup env = env_of({{"VLM_KEY", "vlm-secret"}, {"CAM_PASS", "pw-secret"}});
  const std::vector<StreamConfig> config = loaded_streams(yaml, env);
  ASSERT_EQ(config.size(), 2U);
  ASSERT_EQ(config[0].url, "rtsp://admin:pw-secret@10.0.0.5/live");
  std::vector<StreamConfig> current = config;
  current[0].every = 5;                                // changed through the API: written whole
  current[1].every = 6;
  StreamConfig added = default_stream("api", "rtsp://10.0.0.7/${not-a-reference}");
  added.describe.api_key = "vlm-secret";              // from defaults: the reference
  current.push_back(added);
  StreamConfig posted = default_stream("posted", "rtsp://10.0.0.8/live");
  posted.describe.api_key = "given-through-the-api";  // no reference: kept as given
  current.push_back(posted);
  const StreamState state = stream_state_of(config, current);
  ASSERT_EQ(state.streams.size(), 4U);

  const std::string text = json_from_node(stream_state_node(state, config_text_of(yaml), &env)).dump();
  EXPECT_EQ(text.find("pw-secret"), std::string::npos) << text;
  EXPECT_EQ(text.find("vlm-secret"), std::string::npos) << text;
  EXPECT_NE(text.find("rtsp://admin:${CAM_PASS}@10.0.0.5/live"), std::string::npos) << text;
  EXPECT_NE(text.find("\"api_key\":\"${VLM_KEY}\""), std::string::npos) << text;
  EXPECT_NE(text.find("plain-key"), std::string::npos) << "a secret the config holds as such is not lost";
  EXPECT_NE(text.find("given-through-the-api"), std::string::npos) << "a secret given through the API is not lost";
  EXPECT_NE(text.find("rtsp://10.0.0.7/$${not-a-reference}"), std::string::npos) << "a literal ${ is escaped";

  // Read back with the same environment: the same streams, secrets included.
  auto parsed = parse_stream_state(text, "vigil.yaml.state.json", &env);
  ASSERT_TRUE(parsed) << parsed.error().message;
  const auto applied = apply_stream_state(config, *parsed);
  ASSERT_EQ(applied.size(), current.size());
  for (std::size_t i = 0; i < current.size(); ++i) EXPECT_TRUE(same_stream(applied[i], current[i])) << current[i].id;
  EXPECT_EQ(applied[0].url, "rtsp://admin:pw-secret@10.0.0.5/live");
  EXPECT_EQ(applied[2].url, "rtsp://10.0.0.7/${not-a-reference}");
  EXPECT_EQ(applied[3].describe.api_key, "given-through-the-api");

  // A new password in the environment reaches the stream through its reference.
  const EnvLookup new_env = env_of({{"VLM_KEY", "k2"}, {"CAM_PASS", "pw2"}});
  auto again = parse_stream_state(text, "s.json", &new_env);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->streams[0].url, "rtsp://admin:pw2@10.0.0.5/live");
  EXPECT_EQ(again->streams[2].describe.api_key, "k2");
  // A reference whose variable is gone is an error naming it (the file is then kept).
  const EnvLookup partial_env = env_of({{"VLM_KEY", "k2"}});
  auto unset = parse_stream_state(text, "s.json", &partial_env);
  ASSERT_FALSE(unset);
  EXPECT_NE(unset.error().message.find("CAM_PASS"), std::string::npos) << unset.error().message;
  EXPECT_NE(unset.error().message.find("streams[0].url"), std::string::npos) << unset.error().message;

  // A value changed through the API is written as it is now (the reference no longer gives it).
  current[0].url = "rtsp://admin:new-pass@10.0.0.5/live";
  const std::string changed =
      json_from_node(stream_state_node(stream_state_of(config, current), config_text_of(yaml), &env)).dump();
  EXPECT_NE(changed.find("rtsp://admin:new-pass@10.0.0.5/live"), std::string::npos) << changed;
}

TEST(StreamState, DisabledStreamsAreKeptWithTheirFlag) {
  const std::vector<StreamConfig> config = {state_stream("a"), state_stream("b")};
  std::vector<StreamConfig> current = config;
  current[1].enabled = false;
  const StreamState state = stream_state_of(config, current);
  ASSERT_EQ(state.streams.size(), 1U);
  EXPECT_TRUE(state.removed.empty()) << "disabled is not removed";
  auto parsed = parse_stream_state(json_from_node(stream_state_node(state)).dump(), "s.json");
  ASSERT_TRUE(parsed) << parsed.error().message;
  const auto applied = apply_stream_state(config, *parsed);
  ASSERT_EQ(applied.size(), 2U);
  EXPECT_FALSE(applied[1].enabled);
  EXPECT_TRUE(applied[0].enabled);
}

TEST(StreamState, BadStateFilesNameTheFileAndTheField) {
  auto bad_type = parse_stream_state(R"({"streams": [{"id": "x", "url": "rtsp://h/s", "every": "many"}]})", "s.json");
  ASSERT_FALSE(bad_type);
  EXPECT_NE(bad_type.error().message.find("s.json"), std::string::npos) << bad_type.error().message;
  EXPECT_NE(bad_type.error().message.find("streams[0].every"), std::string::npos) << bad_type.error().message;
  auto not_yaml = parse_stream_state(R"({"streams": [)", "s.json");
  ASSERT_FALSE(not_yaml);
  EXPECT_NE(not_yaml.error().message.find("s.json"), std::string::npos);
  auto unknown = parse_stream_state(R"({"stream": []})", "s.json");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("stream: unknown key"), std::string::npos) << unknown.error().message;
  auto twice = parse_stream_state(R"({"streams": [{"id": "x", "url": "rtsp://h/s"}, {"id": "x", "url": "rtsp://h/t"}]})",
                                  "s.json");
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message.find("streams[1].id"), std::string::npos) << twice.error().message;
  auto removed = parse_stream_state(R"({"removed": [[1]]})", "s.json");
  ASSERT_FALSE(removed);
  EXPECT_NE(removed.error().message.find("removed[0]"), std::string::npos) << removed.error().message;
}

TEST(StreamState, ReloadPlanTouchesOnlyStreamsThatDiffer) {
  EngineConfig before;
  before.streams = {state_stream("a"), state_stream("b"), state_stream("c")};
  EngineConfig after = before;
  after.streams = {state_stream("a"), state_stream("c"), state_stream("d")};
  after.streams[1].every = 5;  // c changed
  const ReloadPlan plan = plan_reload(before.streams, before, after);
  EXPECT_EQ(plan.remove, (std::vector<std::string>{"b"}));
  EXPECT_EQ(plan.add, (std::vector<std::string>{"d"}));
  EXPECT_EQ(plan.replace, (std::vector<std::string>{"c"}));
  EXPECT_TRUE(plan.needs_restart.empty());
}

TEST(StreamState, ReloadPlanNamesEngineWideChangesThatNeedARestart) {
  EngineConfig before;
  before.streams = {state_stream("a")};
  EngineConfig after = before;
  after.model.path = "other.onnx";
  after.server.max_connections = before.server.max_connections + 1;
  after.defaults.every = 9;  // reaches the streams through their own settings
  const ReloadPlan plan = plan_reload(before.streams, before, after);
  EXPECT_EQ(plan.needs_restart, (std::vector<std::string>{"model", "server"}));
  EXPECT_TRUE(plan.remove.empty() && plan.add.empty() && plan.replace.empty());
}

TEST(LocalSecrets, AStreamFromElsewhereTakesThisProcessKeyOnlyForTheSameEndpoint) {
  LocalSecrets local;
  local.defaults.describe.endpoint = "http://vlm:8081";
  local.defaults.describe.api_key = "dflt";
  local.streams.push_back(default_stream("cam1", "rtsp://a/1"));
  local.streams.back().describe.endpoint = "http://other:9000";
  local.streams.back().describe.api_key = "own";

  StreamConfig cam1 = default_stream("cam1", "rtsp://a/1");
  cam1.describe.endpoint = "http://other:9000";
  fill_local_api_key(cam1, local);
  EXPECT_EQ(cam1.describe.api_key, "own");  // its own entry

  StreamConfig lobby = default_stream("lobby", "/rec/lobby.mp4");
  lobby.describe.endpoint = "http://vlm:8081";
  fill_local_api_key(lobby, local);
  EXPECT_EQ(lobby.describe.api_key, "dflt");  // no entry: the defaults'

  StreamConfig moved = default_stream("cam1", "rtsp://a/1");
  moved.describe.endpoint = "http://elsewhere:1";
  fill_local_api_key(moved, local);
  EXPECT_EQ(moved.describe.api_key, "") << "a key goes only to the endpoint it was configured for";

  StreamConfig keyed = default_stream("lobby", "/rec/lobby.mp4");
  keyed.describe.endpoint = "http://vlm:8081";
  keyed.describe.api_key = "given";
  fill_local_api_key(keyed, local);
  EXPECT_EQ(keyed.describe.api_key, "given");
}

}  // namespace
}  // namespace vigil
