// The state file's pure side (config/stream_state.h): what is kept, how it
// reads back, and the errors of a bad file.
#include "config/stream_state.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace vigil
