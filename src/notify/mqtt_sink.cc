#include "notify/mqtt_sink.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <vector>

#include <unistd.h>

#include <mosquitto.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "media/reconnect_policy.h"
#include "store/event_json.h"

namespace vigil {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kKeepaliveS = 30;
constexpr int kLoopMs = 50;

void init_library_once() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

// One topic level from a name: MQTT's separators and wildcards become '_'.
std::string topic_level(const std::string& name) {
  std::string out = name.empty() ? "_" : name;
  for (char& c : out)
    if (c == '/' || c == '+' || c == '#') c = '_';
  return out;
}

std::string object_id(std::string s) {
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') c = '_';
  return s;
}

}  // namespace

Result<MqttAddress> parse_mqtt_url(const std::string& url) {
  MqttAddress a;
  std::string rest;
  if (url.rfind("mqtt://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("mqtts://", 0) == 0) {
    rest = url.substr(8);
    a.tls = true;
    a.port = 8883;
  } else {
    return fail(ErrorCode::kInvalidArgument, "mqtt.url '" + url + "': must start with mqtt:// or mqtts://");
  }
  if (rest.empty() || rest.find_first_of("/?@") != std::string::npos)
    return fail(ErrorCode::kInvalidArgument, "mqtt.url '" + url + "': must be mqtt[s]://host[:port]");
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos) {
    a.host = rest;
    return a;
  }
  a.host = rest.substr(0, colon);
  const std::string port = rest.substr(colon + 1);
  try {
    std::size_t used = 0;
    a.port = std::stoi(port, &used);
    if (used != port.size() || a.port < 1 || a.port > 65535) throw std::out_of_range(port);
  } catch (...) {
    return fail(ErrorCode::kInvalidArgument, "mqtt.url '" + url + "': port '" + port + "' is not 1..65535");
  }
  if (a.host.empty()) return fail(ErrorCode::kInvalidArgument, "mqtt.url '" + url + "': no host");
  return a;
}

std::string mqtt_node_id(const std::string& client_id) { return object_id(client_id); }

namespace {

// mqtts://: verify the broker against ca_file, else the system's CA folder.
Result<void> set_tls(mosquitto* m, const MqttConfig& config) {
  constexpr const char* kSystemCaPath = "/etc/ssl/certs";
  if (!config.ca_file.empty()) {
    if (::access(config.ca_file.c_str(), R_OK) != 0)
      return fail(ErrorCode::kInvalidArgument,
                  "mqtt.ca_file '" + config.ca_file + "': cannot be read: " + std::strerror(errno));
  }
  const int rc = config.ca_file.empty() ? mosquitto_tls_set(m, nullptr, kSystemCaPath, nullptr, nullptr, nullptr)
                                        : mosquitto_tls_set(m, config.ca_file.c_str(), nullptr, nullptr, nullptr, nullptr);
  if (rc != MOSQ_ERR_SUCCESS)
    return fail(ErrorCode::kInvalidArgument,
                (config.ca_file.empty() ? std::string("mqtt: the system CA certificates (") + kSystemCaPath + ")"
                                        : "mqtt.ca_file '" + config.ca_file + "'") +
                    ": TLS setup failed: " + mosquitto_strerror(rc));
  return {};
}

}  // namespace

// The libmosquitto handle: created and used by the worker thread only
// (the callbacks run inside mosquitto_loop, on the worker too).
struct MqttSink::Client {
  mosquitto* mosq = nullptr;
  ~Client() {
    if (mosq) mosquitto_destroy(mosq);
  }
};

MqttSink::MqttSink(MqttConfig config, MqttAddress address)
    : config_(std::move(config)),
      address_(std::move(address)),
      node_(mqtt_node_id(config_.client_id)),
      client_(std::make_unique<Client>()),
      events_(static_cast<std::size_t>(config_.queue)) {}

Result<std::unique_ptr<MqttSink>> MqttSink::start(const MqttConfig& config) {
  auto address = parse_mqtt_url(config.url);
  if (!address) return fail(address.error());
  init_library_once();
  auto sink = std::unique_ptr<MqttSink>(new MqttSink(config, *address));
  sink->client_->mosq = mosquitto_new(config.client_id.c_str(), true, sink.get());
  if (!sink->client_->mosq) return fail(ErrorCode::kRuntime, "mqtt: cannot create a client (out of memory?)");
  mosquitto* m = sink->client_->mosq;
  if (address->tls) {
    if (auto tls = set_tls(m, config); !tls) return fail(tls.error());
  }
  mosquitto_log_callback_set(m, [](mosquitto*, void* obj, int level, const char* text) {
    if (level == MOSQ_LOG_ERR && text) static_cast<MqttSink*>(obj)->last_log_error_ = text;  // on the worker
  });
  if (!config.username.empty())
    mosquitto_username_pw_set(m, config.username.c_str(), config.password.empty() ? nullptr : config.password.c_str());
  const std::string will_topic = config.topic_prefix + "/available";
  mosquitto_will_set(m, will_topic.c_str(), 7, "offline", config.qos, true);
  mosquitto_connect_callback_set(m, [](mosquitto*, void* obj, int rc) {
    auto* self = static_cast<MqttSink*>(obj);
    if (rc == 0) {
      self->connected_ = true;
      self->connects_.fetch_add(1, std::memory_order_relaxed);
    } else {
      spdlog::warn("mqtt: broker refused the connection: {}", mosquitto_connack_string(rc));
      std::lock_guard lock(self->mu_);
      self->last_error_ = std::string("the broker refused the connection: ") + mosquitto_connack_string(rc);
    }
  });
  mosquitto_disconnect_callback_set(m, [](mosquitto*, void* obj, int) {
    static_cast<MqttSink*>(obj)->connected_ = false;
  });
  sink->worker_ = std::thread([s = sink.get()] { s->run(); });
  return sink;
}

MqttSink::~MqttSink() { stop(); }

void MqttSink::stop(double drain_s) {
  if (stopped_.exchange(true)) return;
  drain_s_ = drain_s;
  stop_ = true;
  events_.close();
  if (worker_.joinable()) worker_.join();
}

void MqttSink::add_event(const Event& event) {
  if (event.kind == EventKind::kStreamUp || event.kind == EventKind::kStreamDown) {
    const std::string status = config_.topic_prefix + "/" + topic_level(event.stream) + "/status";
    std::lock_guard lock(mu_);
    add_discovery_locked(event.stream, "up", status, true, event.stream + " up");
    set_retained_locked(status, event.kind == EventKind::kStreamUp ? "up" : "down");
  }
  events_.push(event);  // wakes the worker, which publishes dirty figures too
}

void MqttSink::update(const StreamFigures& f) {
  const std::string base = config_.topic_prefix + "/" + topic_level(f.stream);
  {
    std::lock_guard lock(mu_);
    const std::string status = base + "/status";
    add_discovery_locked(f.stream, "up", status, true, f.stream + " up");
    set_retained_locked(status, f.up ? "up" : "down");
    for (const auto& zone_classes : f.occupancy) {
      const std::string& zone = zone_classes.first;  // not a structured binding: clang 14 cannot capture one
      const auto& classes = zone_classes.second;
      int all = 0;
      for (const auto& [cls, n] : classes) all += n;
      auto put = [&](const std::string& cls, int n) {
        const std::string topic = base + "/" + topic_level(zone) + "/" + topic_level(cls);
        add_discovery_locked(f.stream, zone + "_" + cls, topic, false, f.stream + " " + zone + " " + cls);
        set_retained_locked(topic, std::to_string(n));
      };
      put("all", all);
      for (const auto& [cls, n] : classes) put(cls, n);
      // A class that left the zone is absent from the map: its count is 0 now.
      const std::string zone_prefix = base + "/" + topic_level(zone) + "/";
      for (auto it = retained_.lower_bound(zone_prefix); it != retained_.end() && it->first.rfind(zone_prefix, 0) == 0;
           ++it) {
        const std::string cls = it->first.substr(zone_prefix.size());
        if (cls != "all" && cls.find('/') == std::string::npos && !classes.count(cls) && it->second != "0") {
          it->second = "0";
          dirty_.insert(it->first);
        }
      }
    }
    for (const auto& [line, counts] : f.line_counts)
      for (const char* dir : {"in", "out"}) {
        const auto c = counts.find(dir);
        const std::string topic = base + "/" + topic_level(line) + "/" + dir;
        add_discovery_locked(f.stream, line + "_" + dir, topic, false, f.stream + " " + line + " " + dir);
        set_retained_locked(topic, std::to_string(c == counts.end() ? 0 : c->second));
      }
  }
  events_.wake();
}

void MqttSink::forget_stream(const std::string& stream) {
  {
    std::lock_guard lock(mu_);
    const std::string base = config_.topic_prefix + "/" + topic_level(stream) + "/";
    for (auto it = retained_.lower_bound(base); it != retained_.end() && it->first.rfind(base, 0) == 0;) {
      dirty_.erase(it->first);
      cleared_.insert(it->first);
      it = retained_.erase(it);
    }
    if (const auto d = discovery_of_.find(stream); d != discovery_of_.end()) {
      for (const auto& topic : d->second) {
        retained_.erase(topic);
        dirty_.erase(topic);
        cleared_.insert(topic);
      }
      discovery_of_.erase(d);
    }
  }
  events_.wake();
}

void MqttSink::set_retained_locked(const std::string& topic, const std::string& payload) {
  cleared_.erase(topic);  // a stream back under its old id: its value replaces the clearing
  auto [it, added] = retained_.try_emplace(topic, payload);
  if (added || it->second != payload) {
    it->second = payload;
    dirty_.insert(topic);
  }
}

void MqttSink::add_discovery_locked(const std::string& stream, const std::string& object, const std::string& state_topic,
                                    bool binary, const std::string& name) {
  if (!config_.home_assistant) return;
  const std::string id = object_id(stream + "_" + object);
  const std::string topic =
      std::string("homeassistant/") + (binary ? "binary_sensor" : "sensor") + "/" + node_ + "/" + id + "/config";
  if (retained_.count(topic)) return;  // announced already
  discovery_of_[stream].insert(topic);
  cleared_.erase(topic);
  nlohmann::json c = {
      {"name", name},
      {"state_topic", state_topic},
      {"unique_id", node_ + "_" + id},
      {"object_id", node_ + "_" + id},
      {"availability_topic", config_.topic_prefix + "/available"},
      {"payload_available", "online"},
      {"payload_not_available", "offline"},
      {"device",
       {{"identifiers", nlohmann::json::array({node_})}, {"name", "Vigil " + node_}, {"manufacturer", "Vigil"},
        {"model", "vigil"}}},
  };
  if (binary) {
    c["device_class"] = "connectivity";
    c["payload_on"] = "up";
    c["payload_off"] = "down";
  } else {
    c["state_class"] = "measurement";
  }
  set_retained_locked(topic, c.dump());
}

bool MqttSink::publish(const std::string& topic, const std::string& payload, bool retain) {
  const int rc = mosquitto_publish(client_->mosq, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                                   payload.data(), config_.qos, retain);
  if (rc == MOSQ_ERR_SUCCESS) {
    published_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  failed_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

bool MqttSink::connect_once() {
  last_log_error_.clear();
  const int rc = connects_.load() == 0 && !connected_
                     ? mosquitto_connect(client_->mosq, address_.host.c_str(), address_.port, kKeepaliveS)
                     : mosquitto_reconnect(client_->mosq);
  if (rc != MOSQ_ERR_SUCCESS) {
    // A TLS failure (a wrong CA, a name mismatch) says why on the library's log.
    std::string why = rc == MOSQ_ERR_ERRNO ? std::strerror(errno) : mosquitto_strerror(rc);
    if (!last_log_error_.empty()) why += ": " + last_log_error_;
    std::lock_guard lock(mu_);
    last_error_ = std::string(address_.tls ? "TLS " : "") + "connection to " + address_.host + ":" +
                  std::to_string(address_.port) + " failed: " + why;
  }
  return rc == MOSQ_ERR_SUCCESS;
}

void MqttSink::on_connected() {
  spdlog::info("mqtt: connected to {}:{}{}", address_.host, address_.port, address_.tls ? " (TLS)" : "");
  {
    std::lock_guard lock(mu_);
    last_error_.clear();
  }
  publish(config_.topic_prefix + "/available", "online", true);
  std::lock_guard lock(mu_);
  for (const auto& [topic, payload] : retained_) dirty_.insert(topic);
}

void MqttSink::publish_dirty() {
  std::vector<std::pair<std::string, std::string>> todo;
  {
    std::lock_guard lock(mu_);
    // Forgotten streams' topics: an empty retained payload deletes them on the broker.
    for (const auto& topic : cleared_) todo.emplace_back(topic, "");
    cleared_.clear();
    // Discovery configs first, so Home Assistant knows a sensor before its state.
    for (int pass = 0; pass < 2; ++pass)
      for (const auto& topic : dirty_)
        if ((topic.rfind("homeassistant/", 0) == 0) == (pass == 0)) todo.emplace_back(topic, retained_[topic]);
    dirty_.clear();
  }
  for (const auto& [topic, payload] : todo)
    if (!publish(topic, payload, true)) {
      std::lock_guard lock(mu_);
      if (payload.empty() && !retained_.count(topic)) cleared_.insert(topic);
      else dirty_.insert(topic);
    }
}

void MqttSink::publish_events(Clock::time_point until) {
  while (connected_) {
    auto e = events_.pop_until(until);
    if (!e) return;
    if (!publish(config_.topic_prefix + "/" + topic_level(e->stream) + "/events", to_json(*e).dump(), false)) {
      events_.push_front(std::move(*e));
      return;
    }
    if (Clock::now() >= until) return;
  }
}

void MqttSink::run() {
  // The worker's boundary: nothing escapes the thread.
  try {
    ReconnectPolicy backoff{0.5, 30.0};
    bool session = false;     // a TCP session exists (CONNECT sent)
    bool announced = false;   // on_connected() ran for this session
    auto wait_backoff = [&] {
      const double delay = backoff.next_delay();
      const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(delay));
      while (!stop_ && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(kLoopMs));
    };
    while (!stop_) {
      if (!session) {
        session = connect_once();
        if (!session) {
          if (backoff.failures == 0) {
            std::lock_guard lock(mu_);
            spdlog::warn("mqtt: {}; retrying with backoff (events wait, at most {})", last_error_, config_.queue);
          }
          wait_backoff();
          continue;
        }
      }
      const int rc = mosquitto_loop(client_->mosq, connected_ ? 0 : kLoopMs, 1);
      if (rc != MOSQ_ERR_SUCCESS) {
        if (announced) spdlog::warn("mqtt: connection to {}:{} lost: {}", address_.host, address_.port,
                                    mosquitto_strerror(rc));
        const bool was_up = announced;
        if (!was_up && !connected_) {
          std::string why = mosquitto_strerror(rc);
          if (!last_log_error_.empty()) why += ": " + last_log_error_;
          std::lock_guard lock(mu_);
          if (last_error_.rfind("the broker refused", 0) != 0)  // that one says more
            last_error_ = std::string(address_.tls ? "TLS " : "") + "session with " + address_.host + ":" +
                          std::to_string(address_.port) + " failed: " + why;
        }
        connected_ = false;
        session = false;
        announced = false;
        // A session that never got to CONNACK (refused: bad credentials) waits too, not only a failed connect.
        if (!was_up) wait_backoff();
        continue;
      }
      if (!connected_) continue;
      if (!announced) {
        announced = true;
        backoff.reset();
        on_connected();
      }
      publish_dirty();
      // Wait for events for a short while (woken by add_event and update), then run the network loop again.
      publish_events(Clock::now() + std::chrono::milliseconds(kLoopMs));
    }
    if (session && connected_) {
      const auto until =
          Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(drain_s_.load()));
      publish_dirty();
      while (connected_ && events_.size() > 0 && Clock::now() < until) {
        publish_events(until);
        mosquitto_loop(client_->mosq, 0, 1);
      }
      publish(config_.topic_prefix + "/available", "offline", true);
      while (mosquitto_want_write(client_->mosq) && Clock::now() < until) mosquitto_loop(client_->mosq, kLoopMs, 1);
      mosquitto_disconnect(client_->mosq);
      mosquitto_loop(client_->mosq, kLoopMs, 1);
    }
  } catch (const std::exception& e) {
    spdlog::error("mqtt: worker stopped: {}", e.what());
  }
}

MqttStats MqttSink::stats() const {
  MqttStats s;
  s.connected = connected_;
  s.connects = connects_.load(std::memory_order_relaxed);
  s.published = published_.load(std::memory_order_relaxed);
  s.failed = failed_.load(std::memory_order_relaxed);
  s.dropped = events_.dropped();
  s.queued = events_.size();
  std::lock_guard lock(mu_);
  s.last_error = last_error_;
  return s;
}

}  // namespace vigil
