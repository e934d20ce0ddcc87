#include "config/engine_config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
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

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// docs/config.md must document every option the parser knows.
TEST(EngineConfig, EveryOptionIsDocumented) {
  const std::string doc = read_file(VIGIL_SOURCE_DIR "/docs/config.md");
  ASSERT_FALSE(doc.empty());
  for (const auto& o : config_options())
    EXPECT_NE(doc.find("`" + o.path + "`"), std::string::npos) << o.path << " is not in docs/config.md";
}

// The table in docs/config.md is exactly what `vigil config-doc` prints
// (regenerate it with `build/vigil config-doc --update docs/config.md`).
TEST(ConfigTable, DocsTableIsTheGeneratedOne) {
  auto table = config_doc_of(read_file(VIGIL_SOURCE_DIR "/docs/config.md"));
  ASSERT_TRUE(table) << table.error().message;
  EXPECT_EQ(*table, config_doc_markdown()) << "run: build/vigil config-doc --update docs/config.md";
  auto updated = with_config_doc(std::string("intro\n") + kConfigDocBegin + "\nold\n" + kConfigDocEnd + "\nrest\n");
  ASSERT_TRUE(updated);
  EXPECT_EQ(*updated, std::string("intro\n") + kConfigDocBegin + "\n" + config_doc_markdown() + kConfigDocEnd + "\nrest\n");
  EXPECT_FALSE(with_config_doc("no markers"));
}

TEST(ConfigTable, EveryFieldHasATypeAndADescription) {
  const auto options = config_options();
  EXPECT_GT(options.size(), 70U);
  std::set<std::string> paths;
  for (const auto& o : options) {
    EXPECT_FALSE(o.description.empty()) << o.path;
    EXPECT_FALSE(o.type.empty()) << o.path;
    EXPECT_FALSE(o.default_value.empty()) << o.path;
    EXPECT_TRUE(paths.insert(o.path).second) << o.path << " twice";
  }
  for (const char* p : {"model.device", "batch.max", "defaults.every", "defaults.gate.similarity", "streams[].id",
                        "defaults.zones[].polygon", "defaults.lines[].min_frames", "describe.captioner",
                        "server.login_free_attempts", "jobs.workers"})
    EXPECT_TRUE(paths.count(p)) << p;
  EXPECT_FALSE(paths.count("defaults.id")) << "id belongs to each stream";
}

// The docs' default column is the struct's member initialiser, written by the table.
TEST(ConfigTable, DefaultsComeFromTheStructs) {
  std::map<std::string, OptionDoc> by_path;
  for (const auto& o : config_options()) by_path[o.path] = o;
  const StreamConfig s;
  EXPECT_EQ(by_path["defaults.every"].default_value, std::to_string(s.every));
  EXPECT_EQ(by_path["defaults.max_pixels"].default_value, std::to_string(s.max_pixels));
  EXPECT_EQ(by_path["defaults.conf"].default_value, "0.35");
  EXPECT_EQ(by_path["defaults.hwaccel"].default_value, "auto");
  EXPECT_EQ(by_path["defaults.gate.similarity"].default_value, "0.95");
  EXPECT_EQ(by_path["batch.max"].default_value, std::to_string(EngineConfig{}.batch_max));
  EXPECT_EQ(by_path["describe.prompt"].default_value, DescribeConfig{}.prompt);
  EXPECT_EQ(by_path["defaults.every"].range, "1..1000");
  EXPECT_EQ(by_path["defaults.substream.width"].range, "0 or 32..8192");
  EXPECT_EQ(by_path["defaults.iou"].range, "(0, 1]");
  EXPECT_EQ(by_path["defaults.skip_frame"].range, "none, nonref, nonkey");
  EXPECT_TRUE(by_path["defaults.every"].per_stream);
  EXPECT_FALSE(by_path["batch.max"].per_stream);
}

bool same_node(const ConfigNode& a, const ConfigNode& b) {
  if (a.kind != b.kind || a.text != b.text || a.boolean != b.boolean || a.integer != b.integer ||
      a.number != b.number || a.items.size() != b.items.size() || a.members.size() != b.members.size())
    return false;
  for (std::size_t i = 0; i < a.items.size(); ++i)
    if (!same_node(a.items[i], b.items[i])) return false;
  for (std::size_t i = 0; i < a.members.size(); ++i)
    if (a.members[i].key != b.members[i].key || !same_node(a.members[i].value, b.members[i].value)) return false;
  return true;
}

// An empty file gives the struct defaults; a stream written by the table
// and read back by it is the same stream.
TEST(ConfigTable, DefaultsAndWrittenStreamsRoundTrip) {
  auto empty = parse_config("");
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_TRUE(same_node(stream_config_node(empty->defaults), stream_config_node(StreamConfig{})));
  EXPECT_EQ(empty->batch_max, EngineConfig{}.batch_max);
  auto one = parse_config("streams: [{id: a, url: a.mp4}]");
  ASSERT_TRUE(one) << one.error().message;
  EXPECT_TRUE(same_node(stream_config_node(one->streams[0]), stream_config_node(default_stream("a", "a.mp4"))));

  auto c = parse_config(kGood);
  ASSERT_TRUE(c) << c.error().message;
  StreamConfig s = c->streams[1];
  s.hwaccel = HwAccel::kVaapi;
  s.skip_frame = SkipFrame::kNonKey;
  s.conf = 0.42F;
  s.classes = {"person", "car"};
  s.describe.every_s = 5;
  s.tracker.min_hits = 3;
  const ConfigNode written = stream_config_node(s);
  auto back = stream_config_from_node(written, "streams[0]");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_TRUE(same_node(stream_config_node(*back), written));
  EXPECT_EQ(back->hwaccel, HwAccel::kVaapi);
  EXPECT_FLOAT_EQ(back->conf, 0.42F);
  EXPECT_EQ(written.find("describe")->find("api_key"), nullptr) << "secrets are not written";
}

TEST(ConfigTable, UnknownKeysNameTheirPath) {
  const std::string e = error_of(
      "defaults: {tracker: {hi_thresh: 0.4}}\n"
      "streams:\n"
      "  - {id: a, url: a.mp4, zones: [{name: z, polygon: [[0, 0], [1, 0], [1, 1]], colour: red}]}\n");
  EXPECT_NE(e.find("defaults.tracker.hi_thresh: unknown option (known: class_aware, high_thresh"), std::string::npos)
      << e;
  EXPECT_NE(e.find("streams[0].zones[0].colour: unknown option"), std::string::npos) << e;
  EXPECT_NE(error_of("defaults: {id: x}").find("defaults.id: belongs to each stream"), std::string::npos);
}

// Every problem of a file at once, in line order, each with file:line:column.
TEST(ConfigTable, AllErrorsAtOnceWithTheirLines) {
  auto c = parse_with_env(
      "batch: {max: 0}\n"                                   // line 1
      "defaults:\n"                                         // 2
      "  every: two\n"                                      // 3
      "streams:\n"                                          // 4
      "  - id: cam1\n"                                      // 5
      "    url: a.mp4\n"                                    // 6
      "    loop: maybe\n"                                   // 7
      "    hwaccel: quantum\n"                              // 8
      "  - {id: cam2, url: b.mp4, gate: {similarity: 2}}\n",  // 9
      {});
  ASSERT_FALSE(c);
  const std::string m = c.error().message;
  EXPECT_EQ(m.rfind("5 errors:\n", 0), 0U) << m;
  const std::vector<std::string> expected = {
      "batch.max: must be between 1 and 64 (got 0) (test.yaml:1:14)",
      "defaults.every: expected an integer, got 'two' (test.yaml:3:10)",
      "streams[0].loop: expected true or false, got 'maybe' (test.yaml:7:11)",
      "streams[0].hwaccel: 'quantum' is not one of auto, none, cuda, vaapi (test.yaml:8:14)",
      "streams[1].gate.similarity: must be in (0, 1] (got 2) (test.yaml:9:47)",
  };
  std::size_t at = 0;
  for (const auto& line : expected) {
    const std::size_t found = m.find(line, at);
    EXPECT_NE(found, std::string::npos) << "missing or out of order: " << line << "\n" << m;
    if (found != std::string::npos) at = found;
  }
}

// A problem in defaults is reported once, not again for every stream that inherits it.
TEST(ConfigTable, InheritedProblemsAreReportedOnce) {
  const std::string e = error_of("defaults: {every: 0}\nstreams: [{id: a, url: a.mp4}, {id: b, url: b.mp4}]\n");
  EXPECT_EQ(e.rfind("defaults.every: must be between 1 and 1000 (got 0)", 0), 0U) << e;
  EXPECT_EQ(e.find("streams["), std::string::npos) << e;
}

// JSON (the HTTP API) is typed: a string is not an integer, nor a boolean.
TEST(ConfigTable, TypedTreesRefuseStringsForNumbersAndBooleans) {
  ConfigNode body = ConfigNode::map();
  body.set("id", ConfigNode::of_string("cam"));
  body.set("url", ConfigNode::of_string("rtsp://h/s"));
  body.set("every", ConfigNode::of_string("4"));
  body.set("loop", ConfigNode::of_string("yes"));
  auto s = stream_config_from_node(body, "streams[0]");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("streams[0].every: expected an integer, got the string \"4\""), std::string::npos)
      << s.error().message;
  EXPECT_NE(s.error().message.find("streams[0].loop: expected true or false, got the string \"yes\""),
            std::string::npos)
      << s.error().message;
  // The same values as YAML text are what a config file means by them.
  auto yaml = parse_config("streams: [{id: cam, url: 'rtsp://h/s', every: '4', loop: yes}]");
  ASSERT_TRUE(yaml) << yaml.error().message;
  EXPECT_EQ(yaml->streams[0].every, 4);
  EXPECT_TRUE(yaml->streams[0].loop);
}

TEST(ConfigTable, PatchableKeysComeFromTheTable) {
  // Every per-stream option but the stream's own id and url.
  EXPECT_EQ(patchable_stream_keys(),
            (std::vector<std::string>{"loop", "enabled", "every", "substream", "gate", "motion", "hwaccel", "skip_frame", "timeout_s",
                                      "watchdog_s", "max_pixels", "decode_threads", "conf", "iou", "max_det", "classes",
                                      "tracker", "zones", "lines", "describe", "record", "render"}));
}

TEST(EngineConfig, StreamEnabledDefaultsToTrueAndRejectsABadValue) {
  auto c = parse_config("streams:\n  - {id: a, url: rtsp://h/a}\n  - {id: b, url: rtsp://h/b, enabled: false}\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->streams[0].enabled);
  EXPECT_FALSE(c->streams[1].enabled);
  auto bad = parse_config("streams:\n  - {id: a, url: rtsp://h/a, enabled: maybe}\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("streams[0].enabled"), std::string::npos) << bad.error().message;
  EXPECT_NE(error_of("defaults: {enabled: false}\nstreams:\n  - {id: a, url: rtsp://h/a}\n").find("defaults.enabled"),
            std::string::npos);
}

}  // namespace
}  // namespace vigil
