// mqtt: and webhooks: config sections (errors name the input), the MQTT url
// parser, the webhook filter and the drop-oldest queue.
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "config/engine_config.h"
#include "notify/drop_oldest_queue.h"
#include "notify/mqtt_sink.h"
#include "notify/webhook_sink.h"

namespace vigil {
namespace {

std::string error_of(const std::string& yaml) {
  auto c = parse_config(yaml);
  return c ? std::string("(accepted)") : c.error().message;
}

const char* kStreams = "streams: [{id: cam1, url: a.mp4}, {id: cam2, url: b.mp4}]\n";

TEST(NotifyConfig, ParsesMqttAndWebhooks) {
  auto c = parse_config(std::string(kStreams) + R"(
mqtt: {url: "mqtt://broker.lan:1884", username: u, password: p, client_id: house, topic_prefix: home/vigil, qos: 2,
       home_assistant: false}
webhooks:
  - url: http://127.0.0.1:9000/hook
    kinds: [zone_enter, line_cross]
    streams: [cam2]
    headers: {Authorization: "Bearer x", X-Source: vigil}
    retries: 3
    timeout_s: 2.5
)");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->mqtt.enabled());
  EXPECT_EQ(c->mqtt.url, "mqtt://broker.lan:1884");
  EXPECT_EQ(c->mqtt.password, "p");
  EXPECT_EQ(c->mqtt.topic_prefix, "home/vigil");
  EXPECT_EQ(c->mqtt.qos, 2);
  EXPECT_FALSE(c->mqtt.home_assistant);
  ASSERT_EQ(c->webhooks.size(), 1U);
  const auto& h = c->webhooks[0];
  EXPECT_EQ(h.kinds, (std::vector<std::string>{"zone_enter", "line_cross"}));
  EXPECT_EQ(h.streams, std::vector<std::string>{"cam2"});
  EXPECT_EQ(h.headers.at("Authorization"), "Bearer x");
  EXPECT_EQ(h.headers.at("X-Source"), "vigil");
  EXPECT_EQ(h.retries, 3);
  EXPECT_DOUBLE_EQ(h.timeout_s, 2.5);
}

TEST(NotifyConfig, OffByDefault) {
  auto c = parse_config(kStreams);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->mqtt.enabled());
  EXPECT_EQ(c->mqtt.qos, 1);
  EXPECT_TRUE(c->mqtt.home_assistant);
  EXPECT_TRUE(c->webhooks.empty());
}

TEST(NotifyConfig, BadMqttUrlSchemeNamesTheField) {
  const std::string e = error_of(std::string(kStreams) + "mqtt: {url: \"http://broker:1883\"}\n");
  EXPECT_NE(e.find("mqtt.url"), std::string::npos) << e;
  EXPECT_NE(e.find("must start with mqtt://"), std::string::npos) << e;
  const std::string path = error_of(std::string(kStreams) + "mqtt: {url: \"mqtt://broker/x\"}\n");
  EXPECT_NE(path.find("mqtt.url"), std::string::npos) << path;
}

TEST(NotifyConfig, QosOutsideZeroToTwo) {
  const std::string e = error_of(std::string(kStreams) + "mqtt: {url: \"mqtt://b\", qos: 3}\n");
  EXPECT_NE(e.find("mqtt.qos"), std::string::npos) << e;
  EXPECT_NE(e.find("between 0 and 2"), std::string::npos) << e;
}

TEST(NotifyConfig, BadTopicPrefixAndUnknownKey) {
  const std::string e = error_of(std::string(kStreams) + "mqtt: {url: \"mqtt://b\", topic_prefix: \"a/#\"}\n");
  EXPECT_NE(e.find("mqtt.topic_prefix"), std::string::npos) << e;
  const std::string k = error_of(std::string(kStreams) + "mqtt: {url: \"mqtt://b\", port: 1883}\n");
  EXPECT_NE(k.find("mqtt.port: unknown option"), std::string::npos) << k;
}

TEST(NotifyConfig, NegativeRetries) {
  const std::string e = error_of(std::string(kStreams) + "webhooks: [{url: \"http://h/\", retries: -1}]\n");
  EXPECT_NE(e.find("webhooks[0].retries"), std::string::npos) << e;
  EXPECT_NE(e.find("got -1"), std::string::npos) << e;
}

TEST(NotifyConfig, UnknownKind) {
  const std::string e = error_of(std::string(kStreams) + "webhooks: [{url: \"http://h/\", kinds: [zone_enter, zone_entr]}]\n");
  EXPECT_NE(e.find("webhooks[0].kinds[1]"), std::string::npos) << e;
  EXPECT_NE(e.find("'zone_entr' is not an event kind"), std::string::npos) << e;
}

TEST(NotifyConfig, UnknownStreamInAHook) {
  const std::string e = error_of(std::string(kStreams) + "webhooks: [{url: \"http://h/\", streams: [cam1, cam9]}]\n");
  EXPECT_NE(e.find("webhooks[0].streams[1]"), std::string::npos) << e;
  EXPECT_NE(e.find("'cam9' is not a stream of this config"), std::string::npos) << e;
}

TEST(NotifyConfig, WebhookUrlRequiredAndHttpOnly) {
  const std::string missing = error_of(std::string(kStreams) + "webhooks: [{retries: 1}]\n");
  EXPECT_NE(missing.find("webhooks[0].url: required"), std::string::npos) << missing;
  const std::string scheme = error_of(std::string(kStreams) + "webhooks: [{url: \"ftp://h/\"}]\n");
  EXPECT_NE(scheme.find("webhooks[0].url"), std::string::npos) << scheme;
  EXPECT_NE(scheme.find("http:// or https://"), std::string::npos) << scheme;
}

TEST(NotifyConfig, BadHeaderAndTimeout) {
  const std::string h = error_of(std::string(kStreams) + "webhooks: [{url: \"http://h/\", headers: {\"Bad Name\": x}}]\n");
  EXPECT_NE(h.find("webhooks[0].headers.Bad Name"), std::string::npos) << h;
  const std::string list = error_of(std::string(kStreams) + "webhooks: [{url: \"http://h/\", headers: [a]}]\n");
  EXPECT_NE(list.find("webhooks[0].headers"), std::string::npos) << list;
  const std::string t = error_of(std::string(kStreams) + "webhooks: [{url: \"http://h/\", timeout_s: 0}]\n");
  EXPECT_NE(t.find("webhooks[0].timeout_s"), std::string::npos) << t;
}

TEST(MqttUrl, HostAndPort) {
  auto a = parse_mqtt_url("mqtt://127.0.0.1:18830");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 18830);
  auto d = parse_mqtt_url("mqtt://broker");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->port, 1883);
  EXPECT_FALSE(parse_mqtt_url("mqtt://broker:0"));
  EXPECT_FALSE(parse_mqtt_url("mqtt://broker:x"));
  EXPECT_FALSE(parse_mqtt_url("tcp://broker"));
  EXPECT_EQ(mqtt_node_id("my vigil.1"), "my_vigil_1");
}

TEST(MqttUrl, MqttsIsTlsOn8883) {
  auto t = parse_mqtt_url("mqtts://broker.lan");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_TRUE(t->tls);
  EXPECT_EQ(t->port, 8883);
  auto p = parse_mqtt_url("mqtts://broker.lan:9883");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->port, 9883);
  EXPECT_FALSE(parse_mqtt_url("mqtt://broker")->tls);
  auto c = parse_config(std::string(kStreams) + "mqtt: {url: \"mqtts://broker\", ca_file: /etc/ca.pem}\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->mqtt.ca_file, "/etc/ca.pem");
  const std::string e = error_of(std::string(kStreams) + "mqtt: {url: \"mqtt://broker\", ca_file: /etc/ca.pem}\n");
  EXPECT_NE(e.find("mqtt.ca_file: is for an mqtts:// url only"), std::string::npos) << e;
}

TEST(NotifyConfig, MqttPasswordFromTheEnvironment) {
  const EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    return name == "MQTT_PASS" ? std::optional<std::string>("from-env") : std::nullopt;
  };
  auto c = parse_config(std::string(kStreams) + "mqtt: {url: \"mqtt://b\", username: u, password: \"${MQTT_PASS}\"}\n",
                        "vigil.yaml", &env);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->mqtt.password, "from-env");
  auto unset = parse_config(std::string(kStreams) + "mqtt: {url: \"mqtt://b\", password: \"${NOT_SET_X}\"}\n",
                            "vigil.yaml", &env);
  ASSERT_FALSE(unset);
  EXPECT_NE(unset.error().message.find("mqtt.password"), std::string::npos) << unset.error().message;
  EXPECT_NE(unset.error().message.find("NOT_SET_X"), std::string::npos) << unset.error().message;
}

TEST(WebhookFilter, KindsAndStreams) {
  WebhookConfig c;
  c.url = "http://127.0.0.1:1/";  // never posted to: the filter only
  c.kinds = {"line_cross"};
  c.streams = {"cam2"};
  auto hook = WebhookSink::start(c);
  ASSERT_TRUE(hook) << hook.error().message;
  Event e;
  e.kind = EventKind::kLineCross;
  e.stream = "cam2";
  EXPECT_TRUE((*hook)->wants(e));
  e.stream = "cam1";
  EXPECT_FALSE((*hook)->wants(e));
  e.stream = "cam2";
  e.kind = EventKind::kZoneEnter;
  EXPECT_FALSE((*hook)->wants(e));
  (*hook)->stop(0);
}

TEST(DropOldestQueue, DropsTheOldestAndCounts) {
  DropOldestQueue<int> q(2);
  q.push(1);
  q.push(2);
  q.push(3);
  EXPECT_EQ(q.dropped(), 1U);
  const auto now = std::chrono::steady_clock::now();
  EXPECT_EQ(q.pop_until(now), 2);
  EXPECT_EQ(q.pop_until(now), 3);
  EXPECT_FALSE(q.pop_until(now));
  q.close();
  EXPECT_FALSE(q.push(4));
}

}  // namespace
}  // namespace vigil
