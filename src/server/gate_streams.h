// Streams started on demand by Verolux's WS /ws/gate-check?source=URL
// (docs/api.md, "Compatibility with Verolux"): the first client of a URL
// adds a stream for it (the config's `defaults:`, id "gate-" + a hash of
// the URL and the substream choice, never saved to the state file), later
// clients of the same URL share it, and the last one to leave removes it.
//
// Threads: any. The lease's release may run on an I/O thread: removing the
// stream there waits for its threads to stop (tens of ms).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/error.h"

namespace vigil {

class Engine;

// Verolux's SUBSTREAM_SCALE default: use_substream=true without a
// configured `defaults.substream` analyses a copy scaled by this.
inline constexpr double kGateSubstreamScale = 0.6;

// "gate-" + 12 hex digits of a hash of url and the substream choice.
std::string gate_stream_id(const std::string& url, bool substream);

class GateStreams : public std::enable_shared_from_this<GateStreams> {
 public:
  explicit GateStreams(Engine& engine) : engine_(engine) {}

  struct Lease {
    std::string stream;            // the stream's id
    std::shared_ptr<void> holder;  // the stream runs while any holder lives
  };
  // `url` has passed the API's source check (check_api_source). Errors are
  // the engine's (the stream cannot be built).
  Result<Lease> acquire(const std::string& url, bool substream);
  std::size_t holders(const std::string& id) const;

 private:
  void release(const std::string& id);

  Engine& engine_;
  mutable std::mutex mu_;  // held while a stream is added or removed: one change at a time
  std::map<std::string, int> holders_;  // stream id -> live leases
};

}  // namespace vigil
