#include "server/stats_routes.h"

#include <nlohmann/json.hpp>

#include "metrics/system_stats.h"
#include "server/prometheus_text.h"
#include "server/seed_compat.h"
#include "server/stats_json.h"
#include "server/video_registry.h"

namespace vigil {

const char* to_string(Health h) {
  switch (h) {
    case Health::kOk: return "ok";
    case Health::kDegraded: return "degraded";
    case Health::kDown: return "down";
    case Health::kStopped: return "stopped";
  }
  return "?";
}

Health health_of(bool running, std::size_t up, std::size_t down) {
  if (!running) return Health::kStopped;
  if (down == 0) return Health::kOk;
  return up == 0 ? Health::kDown : Health::kDegraded;
}


using nlohmann::json;

ApiResponse StatsRoutes::stats() {
  const EngineStats st = engine_.stats();
  json j = to_json(st);
  if (video_) {
    const json video = video_->stats_json();
    for (auto& s : j["streams"]) {
      const std::string id = s.value("id", "");
      if (video.contains(id)) s["video"] = video[id];
    }
  }
  // The names the dashboard and older clients read (docs/api.md).
  const double inference_avg = st.stage(Stage::kInference).latency.avg;
  j["inference_time_ms"] = inference_avg;
  j["inference_avg_ms"] = inference_avg;
  j["current_fps"] = st.display_fps_sum();
  j["batch_size"] = st.batch_size_avg;
  j["active_streams"] = st.active_streams();
  j["ram_used_mb"] = st.ram_mb;
  j.update(trigo_stats(st, system_memory_mb()));  // Trigo's keys (docs/api.md, "Compatibility with Trigo")
  json h = {{"fps", json::array()}, {"inference_avg_ms", json::array()}, {"cpu_percent", json::array()},
            {"ram_mb", json::array()}, {"inference", json::array()}, {"cpu", json::array()},
            {"gpu", json::array()},    {"ram", json::array()}};
  const auto known = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  {
    std::lock_guard lock(history_mu_);
    for (const auto& s : history_) {
      h["fps"].push_back(s.fps);
      h["inference_avg_ms"].push_back(s.inference_ms);
      h["cpu_percent"].push_back(s.cpu_percent);
      h["ram_mb"].push_back(s.ram_mb);
      // Trigo's series names: inference ms, CPU %, GPU % (null without a GPU), RAM %.
      h["inference"].push_back(s.inference_ms);
      h["cpu"].push_back(s.cpu_percent);
      h["gpu"].push_back(known(s.gpu_percent));
      h["ram"].push_back(known(s.ram_percent));
    }
  }
  j["history"] = std::move(h);
  return json_ok(j);
}

ApiResponse StatsRoutes::reset() {
  engine_.reset_stats();
  return json_ok({{"status", "ok"}});
}

ApiResponse StatsRoutes::performance() { return json_ok(overwatch_performance(engine_.stats())); }

ApiResponse StatsRoutes::metrics() {
  ApiResponse r;
  r.content_type = kPrometheusContentType;
  r.body = prometheus_text(engine_.stats());
  return r;
}

ApiResponse StatsRoutes::health() {
  const EngineStats st = engine_.stats();
  const auto down = st.down_streams();
  const Health h = health_of(st.running, st.active_streams(), down.size());
  return json_ok({{"status", to_string(h)}, {"down", down}}, h == Health::kOk || h == Health::kDegraded ? 200 : 503);
}

void StatsRoutes::sample() {
  const EngineStats st = engine_.stats();
  Sample s;
  s.fps = st.display_fps_sum();
  s.inference_ms = st.stage(Stage::kInference).latency.avg;
  s.cpu_percent = st.cpu_percent;
  s.ram_mb = st.ram_mb;
  s.ram_percent = ram_percent(st.ram_mb, system_memory_mb());
  s.gpu_percent = gpu_percent(st);
  std::lock_guard lock(history_mu_);
  history_.push_back(s);
  while (history_.size() > kHistorySamples) history_.pop_front();
}

}  // namespace vigil
