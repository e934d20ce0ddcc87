#include "config/engine_config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include <gtest/gtest.h>

namespace vigil {
namespace {

std::string error_of(const std::string& yaml) {
  auto c = parse_config(yaml);
  return c ? std::string("(accepted)") : c.error().message;
}

const char* kGood = R"(
model: {path: m.onnx, device: cpu, threads: 2}
batch: {max: 4, wait_ms: 5}
defaults:
  every: 3
  gate: {similarity: 0.9}
  zones: [{name: door, polygon: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]], dwell_s: 4}]
streams:
  - {id: cam1, url: rtsp://10.0.0.1/stream}
  - id: cam2
    url: /videos/a.mp4
    every: 1
    substream: {width: 640}
    lines: [{name: gate-line, a: [0, 300], b: [640, 300], min_frames: 3}]
    zones: []
)";

TEST(EngineConfig, ParsesDefaultsAndPerStreamOverrides) {
  auto c = parse_config(kGood);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->model.path, "m.onnx");
  EXPECT_EQ(c->batch_max, 4);
  ASSERT_EQ(c->streams.size(), 2U);
  const auto& a = c->streams[0];
  EXPECT_EQ(a.every, 3);
  EXPECT_TRUE(a.gate.enabled);
  EXPECT_DOUBLE_EQ(a.gate.similarity, 0.9);
  ASSERT_EQ(a.zones.size(), 1U);
  EXPECT_TRUE(a.zones[0].normalized);
  const auto& b = c->streams[1];
  EXPECT_EQ(b.every, 1);
  EXPECT_EQ(b.substream.width, 640);
  EXPECT_TRUE(b.zones.empty());
  ASSERT_EQ(b.lines.size(), 1U);
  EXPECT_FALSE(b.lines[0].normalized);  // pixel coordinates detected
  EXPECT_EQ(b.lines[0].min_frames, 3);
}

TEST(EngineConfig, ErrorsNameTheFieldPath) {
  EXPECT_EQ(error_of("streams:\n  - {id: a, url: x.mp4}\n  - {id: b, url: y.mp4}\n"
                     "  - {id: c, url: z.mp4, zones: [{name: z, polygon: [[0, 0], [1, 1]]}]}\n")
                .rfind("streams[2].zones[0].polygon: needs at least 3 points", 0),
            0U)
      << error_of("streams:\n  - {id: c, url: z.mp4, zones: [{name: z, polygon: [[0, 0], [1, 1]]}]}\n");
  EXPECT_NE(error_of("streams: [{id: a, url: x.mp4, evrey: 2}]").find("streams[0].evrey: unknown option"),
            std::string::npos);
  EXPECT_NE(error_of("streams: [{id: a, url: x.mp4, every: two}]").find("streams[0].every: expected an integer"),
            std::string::npos);
  EXPECT_NE(error_of("streams: [{id: a, url: x.mp4, every: 0}]").find("streams[0].every: must be between 1 and 1000"),
            std::string::npos);
  EXPECT_NE(error_of("streams: [{id: Cam A, url: x.mp4}]").find("streams[0].id"), std::string::npos);
  EXPECT_NE(error_of("streams: [{id: a, url: x.mp4}, {id: a, url: y.mp4}]").find("streams[1].id"), std::string::npos);
  EXPECT_NE(error_of("streams: [{id: a}]").find("streams[0].url: required"), std::string::npos);
  EXPECT_NE(error_of("streams: [{id: a, url: 'concat:a.mp4|b.mp4'}]").find("streams[0].url"), std::string::npos);
  EXPECT_NE(error_of("streams: [{id: a, url: x.mp4, lines: [{name: l, a: [0, 0]}]}]").find("streams[0].lines[0].b"),
            std::string::npos);
  EXPECT_NE(error_of("streams: [{id: a, url: x.mp4, tracker: {low_thresh: 0.9}}]").find("streams[0].tracker.low_thresh"),
            std::string::npos);
  EXPECT_NE(error_of("batch: {max: 0}").find("batch.max"), std::string::npos);
  EXPECT_NE(error_of("model: {device: tpu}").find("model.device"), std::string::npos);
  EXPECT_NE(error_of("defaults: {gate: {similarity: 2}}").find("defaults.gate.similarity"), std::string::npos);
  EXPECT_NE(error_of("streams: [unclosed").find("not valid YAML"), std::string::npos);
  EXPECT_NE(error_of("bogus: 1").find("bogus: unknown option"), std::string::npos);
}

TEST(EngineConfig, EnvironmentOverrides) {
  auto c = parse_config(kGood);
  ASSERT_TRUE(c);
  ASSERT_TRUE(apply_env_overrides(*c, {{"DEVICE", "gpu"}, {"BATCH_SIZE", "16"}, {"SUBSTREAM_SCALE", "0.5"},
                                       {"MODEL_PATH", "/models/yolo.onnx"}}));
  EXPECT_EQ(c->model.device, "cuda");
  EXPECT_EQ(c->batch_max, 16);
  EXPECT_DOUBLE_EQ(c->streams[1].substream.scale, 0.5);
  EXPECT_EQ(c->model.path, "/models/yolo.onnx");
  auto bad = apply_env_overrides(*c, {{"BATCH_SIZE", "lots"}});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("BATCH_SIZE"), std::string::npos);
  auto range = apply_env_overrides(*c, {{"SUBSTREAM_SCALE", "3"}});
  ASSERT_FALSE(range);
  EXPECT_NE(range.error().message.find("substream.scale"), std::string::npos);
}

// ${NAME} substitution: config files only, never API bodies.
Result<EngineConfig> parse_with_env(const std::string& yaml, std::map<std::string, std::string> vars) {
  const EnvLookup env = [vars](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  return parse_config(yaml, "test.yaml", &env);
}

TEST(EngineConfig, EnvironmentVariablesInValues) {
  auto c = parse_with_env(
      "streams:\n  - {id: cam1, url: 'rtsp://admin:${CAM_PASS}@10.0.0.5/live', every: '${EVERY:-3}'}\n"
      "  - {id: cam2, url: 'rtsp://h/$${LITERAL}/a$b'}\n",
      {{"CAM_PASS", "p@ss:w0rd"}});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->streams[0].url, "rtsp://admin:p@ss:w0rd@10.0.0.5/live");
  EXPECT_EQ(c->streams[0].every, 3);
  EXPECT_EQ(c->streams[1].url, "rtsp://h/${LITERAL}/a$b");
}

TEST(EngineConfig, UnsetEnvironmentVariablesAreErrorsNamingFieldAndVariable) {
  auto c = parse_with_env("streams:\n  - {id: cam1, url: 'rtsp://u:${NOPE}@h/x'}\n", {});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("streams[0].url"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("NOPE is not set"), std::string::npos) << c.error().message;
  auto bad = parse_with_env("streams:\n  - {id: cam1, url: 'rtsp://u:${1x}@h/x'}\n", {});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("not an environment variable name"), std::string::npos);
  auto open = parse_with_env("streams:\n  - {id: cam1, url: 'rtsp://u:${P@h/x'}\n", {});
  ASSERT_FALSE(open);
  EXPECT_NE(open.error().message.find("without a closing"), std::string::npos);
}

// Found by fuzz_stream_config: an alias that refers to itself made the
// ${NAME} walk recurse until the stack overflowed.
TEST(EngineConfig, SelfReferencingAliasesAndDeepNestingAreErrors) {
  auto cycle = parse_with_env("defaults: &d {classes: [*d]}\n", {});
  ASSERT_FALSE(cycle);
  EXPECT_NE(cycle.error().message.find("nested deeper than 64 levels"), std::string::npos) << cycle.error().message;
  auto deep = parse_with_env("defaults: {classes: " + std::string(100, '[') + std::string(100, ']') + "}\n", {});
  ASSERT_FALSE(deep);
  EXPECT_NE(deep.error().message.find("nested deeper than 64 levels"), std::string::npos) << deep.error().message;
}

TEST(EngineConfig, WithoutAnEnvironmentNothingIsSubstituted) {
  auto c = parse_config("streams:\n  - {id: cam1, url: 'rtsp://u:${HOME}@h/x'}\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->streams[0].url, "rtsp://u:${HOME}@h/x");
}

TEST(EngineConfig, ConfigFilesReadTheProcessEnvironment) {
  const std::string path = std::string(VIGIL_TEST_TMP) + "/env_config.yaml";
  std::filesystem::create_directories(VIGIL_TEST_TMP);
  std::ofstream(path) << "streams:\n  - {id: cam1, url: 'rtsp://admin:${VIGIL_TEST_CAM_PASSWORD}@h/x'}\n";
  ::setenv("VIGIL_TEST_CAM_PASSWORD", "from-env", 1);
  auto c = load_config_file(path);
  ::unsetenv("VIGIL_TEST_CAM_PASSWORD");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->streams[0].url, "rtsp://admin:from-env@h/x");
}

TEST(EngineConfig, ServerSection) {
  auto c = parse_config("server: {allowed_hosts: [cams.example.org, .lan], max_connections: 100}\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->server.allowed_hosts, (std::vector<std::string>{"cams.example.org", ".lan"}));
  EXPECT_EQ(c->server.max_connections, 100);
  EXPECT_EQ(c->server.max_connections_per_address, 64);
  EXPECT_NE(error_of("server: {max_connections: 0}\n").find("server.max_connections"), std::string::npos);
  EXPECT_NE(error_of("server: {allowed_hosts: ['a.org:8080']}\n").find("server.allowed_hosts[0]"), std::string::npos);
  EXPECT_NE(error_of("server: {allow_hosts: [x]}\n").find("server.allow_hosts: unknown option"), std::string::npos);
}

// Found by fuzz_stream_config: a key that is a list or mapping used to
// escape as a yaml-cpp exception (std::terminate).
TEST(EngineConfig, KeysThatAreNotNamesAreErrors) {
  EXPECT_NE(error_of("{[a]: 1}").find("config: a key must be a name, got a list"), std::string::npos)
      << error_of("{[a]: 1}");
  EXPECT_NE(error_of("streams: [{id: a, url: a.mp4, [x]: 1}]").find("streams[0]: a key must be a name"),
            std::string::npos)
      << error_of("streams: [{id: a, url: a.mp4, [x]: 1}]");
  EXPECT_NE(error_of("{{a: 1}: b}").find("a key must be a name, got a mapping"), std::string::npos);
}

TEST(EngineConfig, MissingFileIsNamed) {
  auto c = load_config_file("/nonexistent/vigil.yaml");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("/nonexistent/vigil.yaml"), std::string::npos);
}

// docs/config.md must document every option the parser knows.
TEST(EngineConfig, EveryOptionIsDocumented) {
  std::ifstream f(VIGIL_SOURCE_DIR "/docs/config.md");
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string doc = ss.str();
  ASSERT_FALSE(doc.empty());
  for (const auto& o : config_options())
    EXPECT_NE(doc.find("`" + o.path + "`"), std::string::npos) << o.path << " is not in docs/config.md";
}

}  // namespace
}  // namespace vigil
