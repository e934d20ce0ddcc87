// MQTT and webhooks end to end: a real mosquitto broker started here on
// 127.0.0.1 (a free port, a temporary config), the real `vigil run` on the
// vtest20.mp4 fixture with a zone and a line, a libmosquitto subscriber and
// a plain-socket HTTP receiver in the test. Every wait is a condition with a
// deadline (tests/wait.h).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <mosquitto.h>
#include <nlohmann/json.hpp>

#include "notify/mqtt_sink.h"
#include "notify/webhook_sink.h"
#include "server/prometheus_text.h"
#include "server/stats_json.h"
#include "test_process.h"
#include "test_support.h"
#include "wait.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;
const std::string kVideos = VIGIL_TEST_VIDEOS_DIR;

using test::free_port;
using test::port_open;
// Logs emptied at start (a restarted broker or vigil writes a new log).
std::unique_ptr<test::ChildProcess> child(std::vector<std::string> argv, const std::string& log) {
  return std::make_unique<test::ChildProcess>(std::move(argv), log, test::ChildProcess::kTruncate);
}

// mosquitto on 127.0.0.1:port with its config (and persistence, when asked) in `dir`.
class Broker {
 public:
  // extra: more of mosquitto.conf (a TLS listener).
  Broker(std::string dir, int port, bool persistence, std::string extra = "")
      : dir_(std::move(dir)), port_(port), persistence_(persistence), extra_(std::move(extra)) {}
  bool start() {
    const std::string conf = dir_ + "/mosquitto.conf";
    {
      std::ofstream f(conf);
      f << "listener " << port_ << " 127.0.0.1\nallow_anonymous true\n" << extra_;
      if (persistence_) f << "persistence true\npersistence_location " << dir_ << "/\nautosave_interval 0\n";
      else f << "persistence false\n";
    }
    child_ = child(std::vector<std::string>{"/usr/sbin/mosquitto", "-c", conf},
                                     dir_ + "/mosquitto.log");
    return test::eventually([&] { return port_open(port_); }, 10s);
  }
  // SIGTERM: a clean exit (saves the persistence database).
  void stop() {
    if (child_) child_->signal(SIGTERM);
    child_.reset();
  }
  int port() const { return port_; }

 private:
  std::string dir_;
  int port_;
  bool persistence_;
  std::string extra_;
  std::unique_ptr<test::ChildProcess> child_;
};

struct Message {
  std::string topic, payload;
  bool retained = false;
};

// A libmosquitto subscriber to "#" with its own network thread; reconnects by itself.
class Subscriber {
 public:
  Subscriber(int port, const std::string& client_id = "", bool clean = true) {
    mosquitto_lib_init();
    mosq_ = mosquitto_new(client_id.empty() ? nullptr : client_id.c_str(), clean, this);
    mosquitto_connect_callback_set(mosq_, [](mosquitto* m, void* self, int rc) {
      if (rc == 0) mosquitto_subscribe(m, nullptr, "#", 1);
      static_cast<Subscriber*>(self)->connected_ = rc == 0;
    });
    mosquitto_subscribe_callback_set(mosq_, [](mosquitto*, void* self, int, int, const int*) {
      static_cast<Subscriber*>(self)->subscribed_ = true;
    });
    mosquitto_message_callback_set(mosq_, [](mosquitto*, void* self, const mosquitto_message* m) {
      auto* s = static_cast<Subscriber*>(self);
      std::lock_guard lock(s->mu_);
      s->messages_.push_back({m->topic, std::string(static_cast<const char*>(m->payload), m->payloadlen), m->retain});
    });
    mosquitto_reconnect_delay_set(mosq_, 1, 1, false);
    mosquitto_connect(mosq_, "127.0.0.1", port, 30);
    mosquitto_loop_start(mosq_);
  }
  ~Subscriber() {
    mosquitto_disconnect(mosq_);
    mosquitto_loop_stop(mosq_, true);
    mosquitto_destroy(mosq_);
  }
  bool subscribed() const { return subscribed_; }
  std::vector<Message> messages() const {
    std::lock_guard lock(mu_);
    return messages_;
  }
  // The last message on `topic`, if any.
  std::optional<Message> last(const std::string& topic) const {
    std::lock_guard lock(mu_);
    for (auto it = messages_.rbegin(); it != messages_.rend(); ++it)
      if (it->topic == topic) return *it;
    return std::nullopt;
  }
  bool has(const std::string& topic, const std::string& payload) const {
    auto m = last(topic);
    return m && m->payload == payload;
  }

 private:
  mosquitto* mosq_ = nullptr;
  std::atomic<bool> connected_{false}, subscribed_{false};
  mutable std::mutex mu_;
  std::vector<Message> messages_;
};

std::string write_config(const std::string& dir, const std::string& extra, int streams = 1) {
  const std::string cfg = dir + "/vigil.yaml";
  std::ofstream f(cfg);
  f << "model: " VIGIL_DEFAULT_MODEL "\n"
       "stats_interval_s: 0\n"
       "defaults:\n"
       "  every: 2\n"
       "  loop: true\n"
       "  zones: [{name: plaza, polygon: [[0.1, 0.3], [0.9, 0.3], [0.9, 0.95], [0.1, 0.95]]}]\n"
       "  lines: [{name: crossing, a: [0.05, 0.6], b: [0.95, 0.6]}]\n"
       "streams:\n";
  for (int i = 1; i <= streams; ++i) f << "  - {id: cam" << i << ", url: " << kVideos << "/vtest20.mp4}\n";
  f << extra;
  return cfg;
}

std::unique_ptr<test::ChildProcess> start_vigil(const std::string& dir, const std::string& cfg, const std::string& events = "") {
  std::vector<std::string> argv{VIGIL_BINARY, "run", "-c", cfg, "--no-server", "--stats", dir + "/stats.json"};
  if (!events.empty()) {
    argv.push_back("--events");
    argv.push_back(events);
  }
  return child(argv, dir + "/vigil.log");
}

std::string log_of(const std::string& dir) {
  std::ifstream f(dir + "/vigil.log");
  return std::string(std::istreambuf_iterator<char>(f), {});
}

bool is_event_of(const Message& m, const std::string& stream) {
  auto j = nlohmann::json::parse(m.payload, nullptr, false);
  return !j.is_discarded() && j.value("stream", "") == stream && j.contains("kind") && j.contains("pts");
}

// Whether `sub` holds a message on a topic of stream `stream` (its state
// topics under `prefix`, or its Home Assistant discovery configs) with a payload.
bool has_topic_of(const Subscriber& sub, const std::string& prefix, const std::string& stream) {
  for (const auto& m : sub.messages())
    if (!m.payload.empty() && (m.topic.rfind(prefix + "/" + stream + "/", 0) == 0 ||
                               (m.topic.rfind("homeassistant/", 0) == 0 &&
                                m.topic.find("/" + stream + "_") != std::string::npos)))
      return true;
  return false;
}

TEST(Mqtt, EventsRetainedFiguresDiscoveryAndLastWill) {
  const std::string dir = test::tmp_dir("notify_mqtt");
  Broker broker(dir, free_port(), false);
  ASSERT_TRUE(broker.start());
  Subscriber sub(broker.port());
  ASSERT_TRUE(test::eventually([&] { return sub.subscribed(); }, 10s));
  const std::string cfg = write_config(
      dir, "mqtt: {url: \"mqtt://127.0.0.1:" + std::to_string(broker.port()) + "\", client_id: vigil-test}\n");
  auto vigil = start_vigil(dir, cfg);

  ASSERT_TRUE(test::eventually([&] { return sub.has("vigil/available", "online"); }, 30s)) << log_of(dir);
  // Events: the JSON of events.jsonl, on the stream's topic.
  ASSERT_TRUE(test::eventually(
      [&] {
        for (const auto& m : sub.messages())
          if (m.topic == "vigil/cam1/events" && is_event_of(m, "cam1")) return true;
        return false;
      },
      60s))
      << log_of(dir);
  ASSERT_TRUE(test::eventually([&] { return sub.has("vigil/cam1/status", "up"); }, 10s));
  ASSERT_TRUE(test::eventually([&] { return sub.last("vigil/cam1/plaza/all") && sub.last("vigil/cam1/crossing/in"); }, 10s));
  const auto occupancy = sub.last("vigil/cam1/plaza/all");
  EXPECT_GE(std::stoi(occupancy->payload), 0);

  // Home Assistant discovery: retained JSON pointing at the state topics.
  const auto sensor = sub.last("homeassistant/sensor/vigil-test/cam1_plaza_all/config");
  ASSERT_TRUE(sensor);
  const auto sj = nlohmann::json::parse(sensor->payload);
  EXPECT_EQ(sj["state_topic"], "vigil/cam1/plaza/all");
  EXPECT_EQ(sj["availability_topic"], "vigil/available");
  EXPECT_EQ(sj["unique_id"], "vigil-test_cam1_plaza_all");
  EXPECT_EQ(sj["device"]["identifiers"][0], "vigil-test");
  const auto line = sub.last("homeassistant/sensor/vigil-test/cam1_crossing_out/config");
  ASSERT_TRUE(line);
  EXPECT_EQ(nlohmann::json::parse(line->payload)["state_topic"], "vigil/cam1/crossing/out");
  const auto up = sub.last("homeassistant/binary_sensor/vigil-test/cam1_up/config");
  ASSERT_TRUE(up);
  const auto uj = nlohmann::json::parse(up->payload);
  EXPECT_EQ(uj["state_topic"], "vigil/cam1/status");
  EXPECT_EQ(uj["payload_on"], "up");
  EXPECT_EQ(uj["device_class"], "connectivity");

  // Retained: a subscriber that comes later gets the state at once.
  Subscriber late(broker.port());
  ASSERT_TRUE(test::eventually(
      [&] {
        const auto s = late.last("vigil/cam1/status");
        const auto o = late.last("vigil/cam1/plaza/all");
        const auto d = late.last("homeassistant/binary_sensor/vigil-test/cam1_up/config");
        return s && s->retained && s->payload == "up" && o && o->retained && d && d->retained;
      },
      10s));
  EXPECT_FALSE(late.last("vigil/cam1/events")) << "events are not retained";

  // The last will: killed without a word, the broker says offline for it.
  vigil->signal(SIGKILL);
  EXPECT_TRUE(test::eventually([&] { return sub.has("vigil/available", "offline"); }, 60s));
}

TEST(Mqtt, AStreamRemovedBySighupLeavesNoGhostSensors) {
  const std::string dir = test::tmp_dir("notify_mqtt_sighup");
  Broker broker(dir, free_port(), false);
  ASSERT_TRUE(broker.start());
  Subscriber sub(broker.port());
  ASSERT_TRUE(test::eventually([&] { return sub.subscribed(); }, 10s));
  const std::string mqtt =
      "mqtt: {url: \"mqtt://127.0.0.1:" + std::to_string(broker.port()) + "\", client_id: vigil-test}\n";
  const std::string cfg = write_config(dir, mqtt, 2);
  std::filesystem::remove(cfg + ".state.json");
  auto vigil = start_vigil(dir, cfg);
  const std::string cam2_up = "homeassistant/binary_sensor/vigil-test/cam2_up/config";
  ASSERT_TRUE(test::eventually(
      [&] { return sub.has("vigil/cam2/status", "up") && sub.last("vigil/cam2/plaza/all") && sub.last(cam2_up); }, 60s))
      << log_of(dir);

  write_config(dir, mqtt, 1);  // cam2 is gone from the config
  vigil->send(SIGHUP);
  for (const std::string& topic : std::vector<std::string>{"vigil/cam2/status", "vigil/cam2/plaza/all",
                                                           "vigil/cam2/crossing/in", cam2_up,
                                                           "homeassistant/sensor/vigil-test/cam2_plaza_all/config"})
    EXPECT_TRUE(test::eventually([&] { return sub.has(topic, ""); }, 30s)) << topic << "\n" << log_of(dir);
  Subscriber late(broker.port());
  ASSERT_TRUE(test::eventually([&] { return late.has("vigil/cam1/status", "up"); }, 10s));
  EXPECT_FALSE(has_topic_of(late, "vigil", "cam2"));
  EXPECT_TRUE(sub.has("vigil/cam1/status", "up"));
}

TEST(Mqtt, QueuedEventsArriveAfterABrokerRestart) {
  const std::string dir = test::tmp_dir("notify_mqtt_restart");
  std::filesystem::remove(dir + "/mosquitto.db");
  // Persistence keeps the test subscriber's session (clean_session false, qos 1)
  // across the restart, so what vigil flushes on reconnect is kept for it
  // whichever of the two reconnects first.
  Broker broker(dir, free_port(), true);
  ASSERT_TRUE(broker.start());
  auto sub = std::make_unique<Subscriber>(broker.port(), "restart-test", false);
  ASSERT_TRUE(test::eventually([&] { return sub->subscribed(); }, 10s));
  const std::string cfg =
      write_config(dir, "mqtt: {url: \"mqtt://127.0.0.1:" + std::to_string(broker.port()) + "\", queue: 5000}\n");
  const std::string events = dir + "/events.jsonl";
  std::filesystem::remove(events);
  auto vigil = start_vigil(dir, cfg, events);
  ASSERT_TRUE(test::eventually([&] { return sub->last("vigil/cam1/events").has_value(); }, 60s)) << log_of(dir);

  broker.stop();
  const double down_at =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  // Events happen while the broker is away (the JSON Lines file shows them).
  auto events_after = [&](double t) {
    std::vector<nlohmann::json> out;
    std::ifstream f(events);
    for (std::string l; std::getline(f, l);) {
      auto j = nlohmann::json::parse(l, nullptr, false);
      if (!j.is_discarded() && j.value("wall_time", 0.0) > t + 0.5) out.push_back(j);
    }
    return out;
  };
  ASSERT_TRUE(test::eventually([&] { return events_after(down_at).size() >= 3; }, 60s));
  const auto while_down = events_after(down_at);

  ASSERT_TRUE(broker.start());
  // The queued events reach the subscriber: every one logged while the broker was away.
  auto received = [&] {
    std::multiset<std::string> got;
    for (const auto& m : sub->messages())
      if (m.topic == "vigil/cam1/events") got.insert(nlohmann::json::parse(m.payload).dump());
    for (const auto& e : while_down)
      if (!got.count(e.dump())) return false;
    return true;
  };
  EXPECT_TRUE(test::eventually(received, 60s)) << log_of(dir);
  std::filesystem::remove(dir + "/stats.json");
  vigil->signal(SIGTERM);
  std::ifstream sf(dir + "/stats.json");
  ASSERT_TRUE(sf) << log_of(dir);
  const auto st = nlohmann::json::parse(sf);
  EXPECT_EQ(st["mqtt"]["connects"], 2) << st.dump();
  EXPECT_EQ(st["mqtt"]["dropped"], 0) << st.dump();
}

// A minimal HTTP/1.1 receiver: answers the n-th request (from 1) with
// status(n), records every request body.
class HttpReceiver {
 public:
  explicit HttpReceiver(std::function<int(int)> status) : status_(std::move(status)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~HttpReceiver() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  struct Request {
    std::string head, body;
    int answered = 0;
  };
  std::vector<Request> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void serve() {
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      timeval tv{5, 0};
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      std::string data;
      char buf[4096];
      std::size_t need = std::string::npos;
      while (true) {
        const auto head_end = data.find("\r\n\r\n");
        if (head_end != std::string::npos && need == std::string::npos) {
          std::size_t length = 0;
          const auto at = data.find("Content-Length: ");
          if (at != std::string::npos && at < head_end) length = std::stoul(data.substr(at + 16));
          need = head_end + 4 + length;
        }
        if (need != std::string::npos && data.size() >= need) break;
        const ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        data.append(buf, static_cast<std::size_t>(n));
      }
      const auto head_end = data.find("\r\n\r\n");
      Request r;
      if (head_end != std::string::npos) {
        r.head = data.substr(0, head_end);
        r.body = data.substr(head_end + 4);
      }
      int status = 0;
      {
        std::lock_guard lock(mu_);
        status = status_(static_cast<int>(requests_.size()) + 1);
        r.answered = status;
        requests_.push_back(r);
      }
      const std::string reply = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }

  std::function<int(int)> status_;
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<Request> requests_;
};

TEST(Webhook, RetriedUntilDeliveredAndFilteredByKindAndStream) {
  const std::string dir = test::tmp_dir("notify_webhook");
  HttpReceiver flaky([](int n) { return n <= 2 ? 500 : 200; });
  HttpReceiver filtered([](int) { return 204; });
  const std::string cfg = write_config(
      dir,
      "webhooks:\n"
      "  - {url: \"http://127.0.0.1:" + std::to_string(flaky.port()) + "/hook\", streams: [cam1], retries: 5,"
      " headers: {X-Token: s3cret}}\n"
      "  - {url: \"http://127.0.0.1:" + std::to_string(filtered.port()) + "/hook\", kinds: [zone_enter], streams: [cam2]}\n",
      2);
  auto vigil = start_vigil(dir, cfg);

  ASSERT_TRUE(test::eventually([&] { return flaky.requests().size() >= 3; }, 90s)) << log_of(dir);
  const auto r = flaky.requests();
  EXPECT_EQ(r[0].answered, 500);
  EXPECT_EQ(r[1].answered, 500);
  EXPECT_EQ(r[2].answered, 200);
  // The same event, three times: the third delivery carries what the first tried.
  EXPECT_EQ(r[0].body, r[1].body);
  EXPECT_EQ(r[0].body, r[2].body);
  const auto j = nlohmann::json::parse(r[2].body);
  EXPECT_EQ(j["stream"], "cam1");
  EXPECT_TRUE(j.contains("kind"));
  EXPECT_NE(r[2].head.find("POST /hook "), std::string::npos) << r[2].head;
  EXPECT_NE(r[2].head.find("Content-Type: application/json"), std::string::npos) << r[2].head;
  EXPECT_NE(r[2].head.find("X-Token: s3cret"), std::string::npos) << r[2].head;

  ASSERT_TRUE(test::eventually([&] { return filtered.requests().size() >= 2; }, 90s)) << log_of(dir);
  for (const auto& req : filtered.requests()) {
    const auto e = nlohmann::json::parse(req.body);
    EXPECT_EQ(e["kind"], "zone_enter") << req.body;
    EXPECT_EQ(e["stream"], "cam2") << req.body;
  }
  for (const auto& req : flaky.requests()) EXPECT_EQ(nlohmann::json::parse(req.body)["stream"], "cam1") << req.body;

  // The delivery figures, in the stats written at exit.
  std::filesystem::remove(dir + "/stats.json");
  vigil->signal(SIGTERM);
  std::ifstream sf(dir + "/stats.json");
  ASSERT_TRUE(sf) << log_of(dir);
  const auto st = nlohmann::json::parse(sf);
  ASSERT_EQ(st["webhooks"].size(), 2U) << st.dump();
  EXPECT_GE(st["webhooks"][0]["delivered"].get<int>(), 1);
  EXPECT_GE(st["webhooks"][0]["retries"].get<int>(), 2);
  EXPECT_EQ(st["webhooks"][0]["url"], "http://127.0.0.1:" + std::to_string(flaky.port()) + "/hook");
  EXPECT_GE(st["webhooks"][1]["delivered"].get<int>(), 2);
  EXPECT_FALSE(st.contains("mqtt"));
}

TEST(MqttSink, FiguresOnChangeOnlyAndZeroWhenAClassLeaves) {
  const std::string dir = test::tmp_dir("notify_mqtt_sink");
  Broker broker(dir, free_port(), false);
  ASSERT_TRUE(broker.start());
  Subscriber sub(broker.port());
  ASSERT_TRUE(test::eventually([&] { return sub.subscribed(); }, 10s));
  MqttConfig c;
  c.url = "mqtt://127.0.0.1:" + std::to_string(broker.port());
  c.topic_prefix = "home/v";
  auto sink = MqttSink::start(c);
  ASSERT_TRUE(sink) << sink.error().message;
  auto& m = **sink;
  m.update(StreamFigures{"cam", true, {{"door", {{"person", 2}}}, {"a/b", {}}}, {{"gate", {{"in", 1}}}}});
  ASSERT_TRUE(test::eventually([&] { return sub.has("home/v/cam/door/person", "2"); }, 10s));
  EXPECT_TRUE(test::eventually([&] { return sub.has("home/v/cam/door/all", "2"); }, 10s));
  EXPECT_TRUE(test::eventually([&] { return sub.has("home/v/cam/a_b/all", "0"); }, 10s)) << "'/' in a name is '_'";
  EXPECT_TRUE(test::eventually([&] { return sub.has("home/v/cam/gate/in", "1") && sub.has("home/v/cam/gate/out", "0"); }, 10s));
  EXPECT_TRUE(sub.has("home/v/cam/status", "up"));
  // The same figures again publish nothing; a change publishes only itself.
  m.update(StreamFigures{"cam", true, {{"door", {{"person", 2}}}, {"a/b", {}}}, {{"gate", {{"in", 1}}}}});
  m.update(StreamFigures{"cam", true, {{"door", {}}, {"a/b", {}}}, {{"gate", {{"in", 1}}}}});
  ASSERT_TRUE(test::eventually([&] { return sub.has("home/v/cam/door/person", "0"); }, 10s)) << "the class left";
  EXPECT_TRUE(test::eventually([&] { return sub.has("home/v/cam/door/all", "0"); }, 10s));
  int person = 0, gate_in = 0;
  for (const auto& msg : sub.messages()) {
    person += msg.topic == "home/v/cam/door/person";
    gate_in += msg.topic == "home/v/cam/gate/in";
  }
  EXPECT_EQ(person, 2) << "2, then 0";
  EXPECT_EQ(gate_in, 1) << "unchanged: published once";
  // A stream_down event changes the status at once.
  Event down;
  down.kind = EventKind::kStreamDown;
  down.stream = "cam";
  m.add_event(down);
  EXPECT_TRUE(test::eventually([&] { return sub.has("home/v/cam/status", "down"); }, 10s));
  EXPECT_TRUE(test::eventually([&] { return sub.last("home/v/cam/events").has_value(); }, 10s));
  // A clean stop says offline.
  m.stop();
  EXPECT_TRUE(test::eventually([&] { return sub.has("home/v/available", "offline"); }, 10s));
  EXPECT_EQ(m.stats().connects, 1U);
  EXPECT_EQ(m.stats().failed, 0U);
}

TEST(MqttSink, AForgottenStreamLeavesNoRetainedTopicsOrDiscoveryConfigs) {
  const std::string dir = test::tmp_dir("notify_mqtt_forget");
  Broker broker(dir, free_port(), false);
  ASSERT_TRUE(broker.start());
  Subscriber sub(broker.port());
  ASSERT_TRUE(test::eventually([&] { return sub.subscribed(); }, 10s));
  MqttConfig c;
  c.url = "mqtt://127.0.0.1:" + std::to_string(broker.port());
  c.topic_prefix = "home/v";
  auto sink = MqttSink::start(c);
  ASSERT_TRUE(sink) << sink.error().message;
  auto& m = **sink;
  m.update(StreamFigures{"cam", true, {{"door", {{"person", 2}}}}, {{"gate", {{"in", 1}}}}});
  m.update(StreamFigures{"cam2", true, {{"door", {{"person", 1}}}}, {}});
  const std::string up_config = "homeassistant/binary_sensor/vigil/cam_up/config";
  ASSERT_TRUE(test::eventually([&] { return sub.has("home/v/cam/gate/in", "1") && sub.last(up_config); }, 10s));
  ASSERT_TRUE(test::eventually([&] { return sub.has("home/v/cam2/door/person", "1"); }, 10s));

  m.forget_stream("cam");
  // Each retained topic of cam is cleared: an empty payload on it.
  for (const char* topic : {"home/v/cam/status", "home/v/cam/door/all", "home/v/cam/door/person", "home/v/cam/gate/in",
                            "home/v/cam/gate/out", "homeassistant/binary_sensor/vigil/cam_up/config",
                            "homeassistant/sensor/vigil/cam_door_person/config",
                            "homeassistant/sensor/vigil/cam_gate_out/config"})
    EXPECT_TRUE(test::eventually([&] { return sub.has(topic, ""); }, 10s)) << topic;
  // A subscriber that comes now gets cam2's retained figures and nothing of cam.
  Subscriber late(broker.port());
  ASSERT_TRUE(test::eventually(
      [&] { return late.has("home/v/cam2/door/person", "1") && late.last("homeassistant/binary_sensor/vigil/cam2_up/config"); },
      10s));
  EXPECT_FALSE(has_topic_of(late, "home/v", "cam"));
  EXPECT_TRUE(sub.has("home/v/cam2/status", "up")) << "the other stream is not touched";
  // The stream back under the same id publishes again.
  m.update(StreamFigures{"cam", true, {}, {}});
  EXPECT_TRUE(test::eventually([&] { return sub.has("home/v/cam/status", "up") && sub.last(up_config)->payload != ""; }, 10s));
}

// A CA and a server certificate for localhost / 127.0.0.1 made with openssl
// in `dir` (name.crt, name.key; the CA as ca_name.crt).
bool make_certificates(const std::string& dir, const std::string& ca_name, const std::string& server_name) {
  const std::string d = "'" + dir + "'";
  std::ofstream(dir + "/san.ext") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
  const std::string ca = d + "/" + ca_name, srv = d + "/" + server_name;
  // The keys readable by all: mosquitto started as root reads them as its own user (a test key, nothing secret).
  return test::run_process("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + ca + ".key -out " + ca +
                           ".crt -days 2 -subj '/CN=vigil test CA " + ca_name + "' 2>&1")
                 .exit_code == 0 &&
         test::run_process("openssl req -newkey rsa:2048 -nodes -keyout " + srv + ".key -out " + srv +
                           ".csr -subj /CN=localhost 2>&1")
                 .exit_code == 0 &&
         test::run_process("openssl x509 -req -in " + srv + ".csr -CA " + ca + ".crt -CAkey " + ca + ".key -CAcreateserial -out " +
                           srv + ".crt -days 2 -extfile " + d + "/san.ext 2>&1")
                 .exit_code == 0 &&
         test::run_process("chmod 0644 " + ca + ".key " + srv + ".key").exit_code == 0;
}

TEST(MqttSink, TlsWithTheBrokersCaAndAClearErrorWithAWrongOne) {
  const std::string dir = test::tmp_dir("notify_mqtt_tls");
  ASSERT_TRUE(make_certificates(dir, "ca", "server"));
  ASSERT_TRUE(make_certificates(dir, "other_ca", "other_server"));
  const int tls_port = free_port();
  // A plain listener for the test's subscriber, a TLS one for the sink.
  Broker broker(dir, free_port(), false,
                "listener " + std::to_string(tls_port) + " 127.0.0.1\ncafile " + dir + "/ca.crt\ncertfile " + dir +
                    "/server.crt\nkeyfile " + dir + "/server.key\n");
  ASSERT_TRUE(broker.start());
  ASSERT_TRUE(test::eventually([&] { return port_open(tls_port); }, 10s));
  Subscriber sub(broker.port());
  ASSERT_TRUE(test::eventually([&] { return sub.subscribed(); }, 10s));

  MqttConfig c;
  c.url = "mqtts://localhost:" + std::to_string(tls_port);
  c.ca_file = dir + "/ca.crt";
  auto sink = MqttSink::start(c);
  ASSERT_TRUE(sink) << sink.error().message;
  Event e;
  e.kind = EventKind::kZoneEnter;
  e.stream = "cam";
  (*sink)->add_event(e);
  EXPECT_TRUE(test::eventually([&] { return sub.last("vigil/cam/events").has_value(); }, 30s))
      << (*sink)->stats().last_error;
  EXPECT_TRUE((*sink)->stats().connected);
  EXPECT_EQ((*sink)->stats().last_error, "");
  (*sink)->stop();

  // A CA the broker's certificate does not chain to: no connection, and why.
  c.client_id = "vigil-wrong-ca";
  c.ca_file = dir + "/other_ca.crt";
  auto wrong = MqttSink::start(c);
  ASSERT_TRUE(wrong) << wrong.error().message;
  ASSERT_TRUE(test::eventually([&] { return !(*wrong)->stats().last_error.empty(); }, 30s));
  const std::string why = (*wrong)->stats().last_error;
  EXPECT_NE(why.find("TLS"), std::string::npos) << why;
  EXPECT_NE(why.find("localhost:" + std::to_string(tls_port)), std::string::npos) << why;
  EXPECT_NE(why.find("certificate verify failed"), std::string::npos) << why;
  EXPECT_FALSE((*wrong)->stats().connected);
  EXPECT_EQ((*wrong)->stats().connects, 0U);

  // A CA file that is not there: refused at start, naming the option and the file.
  c.ca_file = dir + "/missing.crt";
  auto missing = MqttSink::start(c);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("mqtt.ca_file '" + dir + "/missing.crt': cannot be read"), std::string::npos)
      << missing.error().message;
}

TEST(MqttSink, BrokerDownAtStartIsNotAnError) {
  const int port = free_port();
  MqttConfig c;
  c.url = "mqtt://127.0.0.1:" + std::to_string(port);
  c.queue = 2;
  auto sink = MqttSink::start(c);
  ASSERT_TRUE(sink) << sink.error().message;
  Event e;
  e.stream = "cam";
  for (int i = 0; i < 5; ++i) (*sink)->add_event(e);
  EXPECT_FALSE((*sink)->stats().connected);
  EXPECT_EQ((*sink)->stats().dropped, 3U) << "a queue of 2 keeps the newest 2";
  EXPECT_EQ((*sink)->stats().queued, 2U);
  // The broker comes: the sink connects by itself and empties its queue.
  const std::string dir = test::tmp_dir("notify_mqtt_late");
  Broker broker(dir, port, false);
  ASSERT_TRUE(broker.start());
  Subscriber sub(port);
  ASSERT_TRUE(test::eventually([&] { return sub.subscribed(); }, 10s));
  EXPECT_TRUE(test::eventually([&] { return (*sink)->stats().connected && (*sink)->stats().queued == 0; }, 30s));
}

// A receiver that accepts connections (the kernel's backlog) and never
// answers: each POST waits for its timeout. add_event() still returns at
// once (it only queues), the full queue drops the oldest and counts it, and
// the timed-out deliveries are counted failed.
TEST(WebhookSink, AHungReceiverNeverBlocksTheCallerAndOverflowIsCounted) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 64), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  WebhookConfig c;
  c.url = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/hook";
  c.retries = 0;
  c.timeout_s = 1;
  c.queue = 2;
  auto hook = WebhookSink::start(c);
  ASSERT_TRUE(hook) << hook.error().message;
  Event e;
  e.kind = EventKind::kZoneEnter;
  e.stream = "cam";
  for (int i = 0; i < 10; ++i) (*hook)->add_event(e);  // returns although nothing is delivered
  // At most one event is in flight (the first POST waits 1 s); the queue keeps 2.
  EXPECT_GE((*hook)->stats().dropped, 7U);
  EXPECT_LE((*hook)->stats().queued, 2U);
  EXPECT_TRUE(test::eventually([&] { return (*hook)->stats().failed >= 1; }, 30s));
  EXPECT_EQ((*hook)->stats().delivered, 0U);
  (*hook)->stop(0.1);
  ::close(fd);
}

TEST(NotifyStats, InStatsJsonAndPrometheusText) {
  EngineStats st;
  st.mqtt = MqttStats{.connected = true, .connects = 2, .published = 812, .dropped = 3, .failed = 1, .queued = 0, .last_error = ""};
  st.webhooks.push_back(
      WebhookStats{.url = "http://h/hook", .delivered = 40, .failed = 2, .dropped = 1, .retries = 5, .queued = 0});
  const auto j = to_json(st);
  EXPECT_EQ(j["mqtt"]["connects"], 2);
  EXPECT_EQ(j["mqtt"]["dropped"], 3);
  EXPECT_EQ(j["webhooks"][0]["delivered"], 40);
  EXPECT_EQ(j["webhooks"][0]["failed"], 2);
  const std::string t = prometheus_text(st);
  for (const char* line : {"vigil_mqtt_connected 1\n", "vigil_mqtt_messages_total{result=\"published\"} 812\n",
                           "vigil_mqtt_messages_total{result=\"dropped\"} 3\n",
                           "vigil_webhook_deliveries_total{hook=\"0\",result=\"delivered\"} 40\n",
                           "vigil_webhook_deliveries_total{hook=\"0\",result=\"failed\"} 2\n",
                           "vigil_webhook_deliveries_total{hook=\"0\",result=\"dropped\"} 1\n"})
    EXPECT_NE(t.find(line), std::string::npos) << line << "\n" << t;
  const std::string file = test::tmp_dir("notify_stats") + "/metrics.txt";
  std::ofstream(file) << t;
  EXPECT_EQ(test::run_process("/usr/bin/promtool check metrics < " + file).exit_code, 0) << t;
  EXPECT_EQ(prometheus_text(EngineStats{}).find("vigil_mqtt"), std::string::npos);
}

}  // namespace
}  // namespace vigil
