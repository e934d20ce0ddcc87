// Delivery figures of the MQTT and webhook sinks (EngineStats -> /api/stats,
// /metrics). Plain values.
#pragma once

#include <cstdint>
#include <string>

namespace vigil {

struct MqttStats {
  bool connected = false;
  std::uint64_t connects = 0;   // successful connections (the first and every reconnect)
  std::uint64_t published = 0;  // messages handed to the broker connection
  std::uint64_t dropped = 0;    // events dropped from the full queue while the broker was away
  std::uint64_t failed = 0;     // publish calls refused by the client library
  std::size_t queued = 0;       // events waiting now
  std::string last_error;       // why the last connection attempt failed ("" after a success)
};

struct WebhookStats {
  std::string url;              // redacted (no user:password)
  std::uint64_t delivered = 0;  // events answered 2xx
  std::uint64_t failed = 0;     // events given up after every retry
  std::uint64_t dropped = 0;    // events dropped from the full queue
  std::uint64_t retries = 0;    // attempts after a failed one
  std::size_t queued = 0;
};

}  // namespace vigil
