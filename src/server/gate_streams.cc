#include "server/gate_streams.h"

#include <cstdio>
#include <functional>

#include <spdlog/spdlog.h>

#include "media/source_url.h"
#include "pipeline/engine.h"

namespace vigil {

std::string gate_stream_id(const std::string& url, bool substream) {
  // FNV-1a, 64 bits: stable across runs (std::hash need not be).
  std::uint64_t h = 1469598103934665603ULL;
  for (const unsigned char c : url + (substream ? "#sub" : "#full")) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));  // NOLINT(google-runtime-int)
  return std::string("gate-") + std::string(hex).substr(0, 12);
}

Result<GateStreams::Lease> GateStreams::acquire(const std::string& url, bool substream) {
  const std::string id = gate_stream_id(url, substream);
  std::lock_guard lock(mu_);
  int& n = holders_[id];
  if (n == 0) {
    StreamConfig c = engine_.config().defaults;
    c.id = id;
    c.url = url;
    c.on_demand = true;
    if (!substream) c.substream = {};
    else if (c.substream.scale <= 0 && c.substream.width <= 0) c.substream.scale = kGateSubstreamScale;
    if (auto r = engine_.add_stream(std::move(c)); !r) {
      holders_.erase(id);
      return fail(r.error());
    }
    spdlog::info("gate-check: stream '{}' started on demand ({})", id, redact_url(url));
  }
  ++n;
  std::weak_ptr<GateStreams> weak = weak_from_this();
  auto holder = std::shared_ptr<void>(nullptr, [weak, id](void*) {
    if (auto self = weak.lock()) self->release(id);
  });
  return Lease{id, std::move(holder)};
}

std::size_t GateStreams::holders(const std::string& id) const {
  std::lock_guard lock(mu_);
  const auto it = holders_.find(id);
  return it == holders_.end() ? 0 : static_cast<std::size_t>(it->second);
}

void GateStreams::release(const std::string& id) {
  std::lock_guard lock(mu_);
  const auto it = holders_.find(id);
  if (it == holders_.end() || --it->second > 0) return;
  holders_.erase(it);
  if (auto r = engine_.remove_stream(id); !r) {
    spdlog::warn("gate-check: stream '{}': {}", id, r.error().message);
    return;
  }
  spdlog::info("gate-check: stream '{}' stopped (its last client left)", id);
}

}  // namespace vigil
