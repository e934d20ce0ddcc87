// MqttSink: events and figures to an MQTT broker (libmosquitto), with Home
// Assistant discovery. Topics (docs/api.md, "MQTT topics"), P = topic_prefix:
//   P/<stream>/events          each event, the JSON of events.jsonl (qos, not retained)
//   P/<stream>/<zone>/<class>  tracks of that class inside the zone, "all" = every class (retained)
//   P/<stream>/<line>/in|out   line counts since the stream started (retained)
//   P/<stream>/status          "up" | "down" (retained)
//   P/available                "online" on connect, "offline" at a clean stop and as the last will (retained)
//   homeassistant/sensor|binary_sensor/<node>/<object>/config  discovery (retained; home_assistant)
// A stream that goes away (forget_stream) has its retained topics cleared.
// mqtts:// connects over TLS (mosquitto_tls_set: the system CAs, or ca_file).
//
// Never blocks its callers: add_event() only pushes to a bounded queue
// (drop-oldest, counted) and update() only records the latest figures; one
// worker thread owns the connection: connect (blocking, on the worker),
// publish, and on a lost connection reconnect with backoff (0.5 s doubling,
// at most 30 s). While the broker is away events wait in the queue and the
// retained figures keep their latest value; on (re)connect the worker
// publishes "online", the discovery configs and every retained figure, then
// the queued events in order.
//
// Threads: add_event(), update(), stats() from any thread; stop() and the
// destructor once, from one thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "config/engine_config.h"
#include "core/error.h"
#include "core/event.h"
#include "notify/drop_oldest_queue.h"
#include "notify/notify_stats.h"

namespace vigil {

// One stream's figures at one moment (from its StreamSnapshot).
struct StreamFigures {
  std::string stream;
  bool up = false;
  std::map<std::string, std::map<std::string, int>> occupancy;             // zone -> class -> inside
  std::map<std::string, std::map<std::string, std::int64_t>> line_counts;  // line -> {"in", "out"}
};

// host and port of mqtt://host[:port] (1883) or mqtts://host[:port] (TLS,
// 8883); kInvalidArgument naming the url otherwise.
struct MqttAddress {
  std::string host;
  int port = 1883;
  bool tls = false;
};
Result<MqttAddress> parse_mqtt_url(const std::string& url);

// The Home Assistant node id of a client id: [a-zA-Z0-9_-] kept, others '_'.
std::string mqtt_node_id(const std::string& client_id);

class MqttSink {
 public:
  // Checks the url (and for mqtts:// that ca_file can be read) and starts
  // the worker (which connects in the background: a broker that is down at
  // start is not an error; a TLS failure, a wrong CA, is logged and in
  // stats().last_error, and retried with backoff).
  static Result<std::unique_ptr<MqttSink>> start(const MqttConfig& config);
  ~MqttSink();
  MqttSink(const MqttSink&) = delete;
  MqttSink& operator=(const MqttSink&) = delete;

  void add_event(const Event& event);
  void update(const StreamFigures& figures);
  // The stream is gone (removed, disabled): its retained topics (status,
  // occupancy, line counts) and its discovery configs are cleared on the
  // broker (empty retained payloads), so no ghost sensor stays behind.
  void forget_stream(const std::string& stream);
  // Publishes what waits (for at most `drain_s` while connected), "offline",
  // and disconnects. Idempotent.
  void stop(double drain_s = 2.0);
  MqttStats stats() const;

 private:
  MqttSink(MqttConfig config, MqttAddress address);
  struct Client;
  void run();
  // Worker steps.
  bool connect_once();
  void on_connected();
  void publish_dirty();
  void publish_events(std::chrono::steady_clock::time_point until);
  bool publish(const std::string& topic, const std::string& payload, bool retain);
  // Under mu_ (add_discovery_locked: once per object, only with home_assistant): sets a retained topic's value, marks it dirty when it changed.
  void set_retained_locked(const std::string& topic, const std::string& payload);
  void add_discovery_locked(const std::string& stream, const std::string& object, const std::string& state_topic,
                            bool binary, const std::string& name);

  const MqttConfig config_;
  const MqttAddress address_;
  const std::string node_;
  std::unique_ptr<Client> client_;
  DropOldestQueue<Event> events_;
  std::thread worker_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> connected_{false};
  std::atomic<double> drain_s_{2.0};

  mutable std::mutex mu_;                        // guards the maps below
  std::map<std::string, std::string> retained_;  // topic -> latest payload (figures, status, discovery)
  std::set<std::string> dirty_;                  // retained topics not yet published
  std::map<std::string, std::set<std::string>> discovery_of_;  // stream -> its discovery config topics
  std::set<std::string> cleared_;                // topics of forgotten streams: an empty retained payload to publish
  std::string last_error_;                       // guarded by mu_
  std::string last_log_error_;                   // the library's last error line (worker only)
  std::atomic<std::uint64_t> connects_{0}, published_{0}, failed_{0};
};

}  // namespace vigil
