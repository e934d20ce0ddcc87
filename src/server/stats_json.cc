#include "server/stats_json.h"

namespace vigil {
namespace {

using nlohmann::json;

json latency_json(const LatencySummary& s) {
  return {{"avg_ms", s.avg}, {"p50_ms", s.p50}, {"p95_ms", s.p95},
          {"p99_ms", s.p99}, {"max_ms", s.max}, {"count", s.count}};
}

json captioner_json(const CaptionerStats& c) {
  const CaptionStats& s = c.stats;
  json j = {{"captioner", to_string(c.captioner)},
            {"requests", s.requests},
            {"done", s.done},
            {"errors", s.errors},
            {"skipped", s.skipped},
            {"pending", s.pending},
            {"latency_ms",
             {{"avg", s.latency.avg},
              {"p50", s.latency.p50},
              {"p95", s.latency.p95},
              {"p99", s.latency.p99},
              {"max", s.latency.max},
              {"count", s.latency.count}}},
            {"last_error", s.last_error}};
  if (c.endpoint) j["endpoint"] = *c.endpoint;
  if (c.model) j["model"] = *c.model;
  return j;
}

json captions_json(const CaptionServiceStats& c) {
  json list = json::array();
  for (const auto& one : c.captioners) list.push_back(captioner_json(one));
  return {{"captioners", list}, {"requests", c.requests}, {"done", c.done}, {"errors", c.errors},
          {"skipped", c.skipped}};
}

}  // namespace

json to_json(const StreamSnapshot& s) {
  return {{"id", s.id},
          {"url", s.url},
          {"up", s.up},
          {"ended", s.ended},
          {"width", s.width},
          {"height", s.height},
          {"source_fps", s.source_fps},
          {"capture_fps", s.capture_fps},
          {"display_fps", s.display_fps},
          {"analysed_fps", s.analysed_fps},
          {"every", s.every},
          {"every_effective", s.every_effective},
          {"drops", drop_names(s.drops)},
          {"frames", s.frames},
          {"analysed", s.analysed},
          {"regions", {{"full", s.regions.full}, {"crops", s.regions.crops}, {"crop_images", s.regions.crop_images}}},
          {"queue_depth", s.queue_depth},
          {"tracks", s.tracks},
          {"occupancy", s.occupancy},
          {"line_counts", s.line_counts},
          {"caption", s.caption},
          {"caption_pts", s.caption_pts},
          {"last_error", s.last_error}};
}

json to_json(const EngineStats& st) {
  json j;
  j["streams"] = json::array();
  for (const auto& s : st.streams) j["streams"].push_back(to_json(s));
  j["stages"] = json::object();
  j["stage_histograms"] = json::object();
  json load = json::object();
  for (std::size_t i = 0; i < kStageCount; ++i) {
    const char* name = to_string(static_cast<Stage>(i));
    const StageStats& s = st.stages[i];
    j["stages"][name] = latency_json(s.latency);
    j["stage_histograms"][name] = {
        {"le_ms", s.histogram.le_ms}, {"cumulative", s.histogram.cumulative}, {"sum_ms", s.histogram.sum_ms}};
    load[name] = s.load_ms_per_s;
  }
  j["analysis_latency"] = latency_json(st.analysis_latency);
  j["batch_size_avg"] = st.batch_size_avg;
  json hist = json::object();
  for (const auto& [size, n] : st.batch_histogram) hist[std::to_string(size)] = n;
  j["batch_histogram"] = hist;
  j["inferences"] = st.inferences;
  j["batches"] = st.batches;
  j["queue_size"] = st.queue_size;
  j["scheduler_replaced"] = st.scheduler_replaced;
  j["events_published"] = st.events_published;
  j["captions"] = captions_json(st.captions);
  if (st.events_store)
    j["events_store"] = {
        {"stored", st.events_store->stored}, {"dropped", st.events_store->dropped}, {"errors", st.events_store->errors}};
  if (st.events_jsonl) j["events_jsonl"] = {{"dropped", st.events_jsonl->dropped}, {"errors", st.events_jsonl->errors}};
  if (st.record)
    j["record"] = {{"snapshots", st.record->snapshots},
                   {"clips", st.record->clips},
                   {"clips_shared", st.record->clips_shared},
                   {"snapshot_drops", st.record->snapshot_drops},
                   {"clip_drops", st.record->clip_drops},
                   {"errors", st.record->errors},
                   {"deleted_files", st.record->deleted_files},
                   {"deleted_bytes", st.record->deleted_bytes},
                   {"disk_bytes", st.record->disk_bytes},
                   {"ring_bytes", st.record->ring_bytes},
                   {"queued", st.record->queued},
                   {"clips_open", st.record->clips_open}};
  if (st.mqtt)
    j["mqtt"] = {{"connected", st.mqtt->connected}, {"connects", st.mqtt->connects}, {"published", st.mqtt->published},
                 {"failed", st.mqtt->failed},       {"dropped", st.mqtt->dropped},   {"queued", st.mqtt->queued},
                 {"last_error", st.mqtt->last_error}};
  if (!st.webhooks.empty()) {
    json hooks = json::array();
    for (const auto& h : st.webhooks)
      hooks.push_back({{"url", h.url}, {"delivered", h.delivered}, {"failed", h.failed}, {"dropped", h.dropped},
                       {"retries", h.retries}, {"queued", h.queued}});
    j["webhooks"] = hooks;
  }
  j["bottleneck"] = st.bottleneck;
  j["inferences_per_sec"] = st.inferences_per_sec;
  j["batches_per_sec"] = st.batches_per_sec;
  j["cpu_percent"] = st.cpu_percent;
  j["ram_mb"] = st.ram_mb;
  j["stage_load_ms_per_s"] = load;
  if (!st.gpus.empty()) {
    j["gpus"] = json::array();
    for (const auto& g : st.gpus)
      j["gpus"].push_back({{"index", g.index}, {"name", g.name}, {"utilization_percent", g.utilization_percent},
                           {"memory_used_mb", g.memory_used_mb}, {"memory_total_mb", g.memory_total_mb}});
  }
  j["provider"] = st.provider;
  j["cpu_budget"] = {{"cores", st.budget.cores}, {"workers", st.budget.workers},
                     {"inference_threads", st.budget.inference_threads}, {"decode_threads", st.budget.decode_threads},
                     {"enabled", st.budget.cpu_budget}};
  j["uptime_s"] = st.uptime_s;
  return j;
}

}  // namespace vigil
