#include "server/prometheus_text.h"

#include "metrics/system_stats.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace vigil {
namespace {

constexpr double kMsPerSecond = 1000.0;

// Shortest text that reads back as the same double; Prometheus spellings for
// the non-finite values.
std::string fmt(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  if (v == std::trunc(v) && std::fabs(v) < 1e15) {  // counters: 800, not 8e+02
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.17g", v);
  for (int prec = 1; prec < 17; ++prec) {
    char shorter[32];
    std::snprintf(shorter, sizeof shorter, "%.*g", prec, v);
    if (std::strtod(shorter, nullptr) == v) return shorter;
  }
  return buf;
}

std::string fmt(std::uint64_t v) { return fmt(static_cast<double>(v)); }

void family(std::ostringstream& os, const char* name, const char* type, const char* help) {
  os << "# HELP " << name << ' ' << help << '\n' << "# TYPE " << name << ' ' << type << '\n';
}

// A summary of millisecond latencies, in seconds.
void summary(std::ostringstream& os, const std::string& name, const std::string& labels, const LatencySummary& s) {
  const std::string sep = labels.empty() ? "" : ",";
  const auto count = static_cast<double>(s.count);
  os << name << "{" << labels << sep << "quantile=\"0.5\"} " << fmt(s.p50 / kMsPerSecond) << '\n';
  os << name << "{" << labels << sep << "quantile=\"0.95\"} " << fmt(s.p95 / kMsPerSecond) << '\n';
  os << name << "{" << labels << sep << "quantile=\"0.99\"} " << fmt(s.p99 / kMsPerSecond) << '\n';
  const std::string lb = labels.empty() ? "" : "{" + labels + "}";
  os << name << "_sum" << lb << ' ' << fmt(s.avg * count / kMsPerSecond) << '\n';
  os << name << "_count" << lb << ' ' << fmt(count) << '\n';
}

void histogram(std::ostringstream& os, const std::string& label, const LatencyWindow::Histogram& h) {
  if (h.cumulative.size() != h.le_ms.size() + 1) return;  // not a histogram LatencyWindow makes
  for (std::size_t b = 0; b < h.le_ms.size(); ++b)
    os << "vigil_stage_duration_seconds_bucket{" << label << ",le=\"" << fmt(h.le_ms[b] / kMsPerSecond) << "\"} "
       << h.cumulative[b] << '\n';
  os << "vigil_stage_duration_seconds_bucket{" << label << ",le=\"+Inf\"} " << h.cumulative.back() << '\n';
  os << "vigil_stage_duration_seconds_sum{" << label << "} " << fmt(h.sum_ms / kMsPerSecond) << '\n';
  os << "vigil_stage_duration_seconds_count{" << label << "} " << h.cumulative.back() << '\n';
}

std::string captioner_labels(const CaptionerStats& c) {
  return "captioner=\"" + prometheus_label_value(to_string(c.captioner)) + "\",endpoint=\"" +
         prometheus_label_value(c.endpoint.value_or("")) + "\"";
}

// Up/down, reconnects and the events of each stream (the "camera down" alert reads these).
void stream_state_families(std::ostringstream& os, const std::vector<StreamSnapshot>& streams) {
  family(os, "vigil_stream_up", "gauge", "1 while a stream's source delivers frames, 0 while it is down or ended.");
  for (const auto& s : streams)
    os << "vigil_stream_up{stream=\"" << prometheus_label_value(s.id) << "\"} " << (s.up ? 1 : 0) << '\n';

  family(os, "vigil_stream_reconnects_total", "counter",
         "Times a stream's capture reopened its source after a failure, since the stream was added.");
  for (const auto& s : streams)
    os << "vigil_stream_reconnects_total{stream=\"" << prometheus_label_value(s.id) << "\"} " << fmt(s.reconnects)
       << '\n';

  family(os, "vigil_events_total", "counter", "Events published by a stream since it was added, by kind.");
  for (const auto& s : streams) {
    const std::string id = prometheus_label_value(s.id);
    for (const auto& [kind, n] : s.events)
      os << "vigil_events_total{stream=\"" << id << "\",kind=\"" << to_string(kind) << "\"} " << fmt(n) << '\n';
  }
}

// Zone occupancy and line counts, after each stream's latest analysis result.
void analytics_families(std::ostringstream& os, const std::vector<StreamSnapshot>& streams) {
  family(os, "vigil_zone_occupancy", "gauge", "Tracks inside a zone now, by stream, zone and class.");
  for (const auto& s : streams) {
    const std::string id = prometheus_label_value(s.id);
    for (const auto& [zone, classes] : s.occupancy)
      for (const auto& [cls, n] : classes)
        os << "vigil_zone_occupancy{stream=\"" << id << "\",zone=\"" << prometheus_label_value(zone) << "\",class=\""
           << prometheus_label_value(cls) << "\"} " << n << '\n';
  }
  family(os, "vigil_line_crossings_total", "counter",
         "Line crossings since the stream was added, by stream, line and direction (in, out).");
  for (const auto& s : streams) {
    const std::string id = prometheus_label_value(s.id);
    for (const auto& [line, dirs] : s.line_counts)
      for (const auto& [dir, n] : dirs)
        os << "vigil_line_crossings_total{stream=\"" << id << "\",line=\"" << prometheus_label_value(line)
           << "\",direction=\"" << prometheus_label_value(dir) << "\"} " << n << '\n';
  }
}

void stream_families(std::ostringstream& os, const std::vector<StreamSnapshot>& streams) {
  stream_state_families(os, streams);
  analytics_families(os, streams);
  family(os, "vigil_stream_fps", "gauge",
         "Frames per second of a stream: source (nominal), display (through the stream loop), analysed.");
  for (const auto& s : streams) {
    const std::string id = prometheus_label_value(s.id);
    const std::pair<const char*, double> kinds[] = {
        {"source", s.source_fps}, {"display", s.display_fps}, {"analysed", s.analysed_fps}};
    for (const auto& [kind, fps] : kinds)
      os << "vigil_stream_fps{stream=\"" << id << "\",kind=\"" << kind << "\"} " << fmt(fps) << '\n';
  }

  family(os, "vigil_stream_frames_total", "counter", "Frames through a stream's loop since it was added.");
  for (const auto& s : streams)
    os << "vigil_stream_frames_total{stream=\"" << prometheus_label_value(s.id) << "\"} " << fmt(s.frames) << '\n';

  family(os, "vigil_analyses_total", "counter",
         "Frames submitted for analysis by what the detector saw: full (the whole frame) or crops (motion regions).");
  for (const auto& s : streams) {
    const std::string id = prometheus_label_value(s.id);
    os << "vigil_analyses_total{stream=\"" << id << "\",kind=\"full\"} " << fmt(s.regions.full) << '\n';
    os << "vigil_analyses_total{stream=\"" << id << "\",kind=\"crops\"} " << fmt(s.regions.crops) << '\n';
  }
  family(os, "vigil_crop_images_total", "counter", "Crops sent to the detector (motion regions), by stream.");
  for (const auto& s : streams)
    os << "vigil_crop_images_total{stream=\"" << prometheus_label_value(s.id) << "\"} " << fmt(s.regions.crop_images)
       << '\n';

  family(os, "vigil_drops_total", "counter", "Frames not analysed or not shown, by stream and reason.");
  for (const auto& s : streams) {
    const std::string id = prometheus_label_value(s.id);
    for (const auto& [reason, n] : s.drops)
      os << "vigil_drops_total{stream=\"" << id << "\",reason=\"" << prometheus_label_value(to_string(reason)) << "\"} "
         << fmt(n) << '\n';
  }
}

void caption_families(std::ostringstream& os, const CaptionServiceStats& captions) {
  family(os, "vigil_caption_requests_total", "counter",
         "Caption requests by captioner and outcome: done, error, skipped (the queue of 2 was full).");
  for (const auto& c : captions.captioners) {
    const std::string lb = captioner_labels(c);
    os << "vigil_caption_requests_total{" << lb << ",outcome=\"done\"} " << fmt(c.stats.done) << '\n';
    os << "vigil_caption_requests_total{" << lb << ",outcome=\"error\"} " << fmt(c.stats.errors) << '\n';
    os << "vigil_caption_requests_total{" << lb << ",outcome=\"skipped\"} " << fmt(c.stats.skipped) << '\n';
  }
  family(os, "vigil_caption_latency_seconds", "summary", "Latency of successful captions, over the last 512.");
  for (const auto& c : captions.captioners)
    summary(os, "vigil_caption_latency_seconds", captioner_labels(c), c.stats.latency);
}

// The notification sinks (src/notify): MQTT messages and webhook deliveries by result.
void notify_families(std::ostringstream& os, const EngineStats& stats) {
  if (stats.mqtt) {
    family(os, "vigil_mqtt_connected", "gauge", "1 while the MQTT broker connection is up.");
    os << "vigil_mqtt_connected " << (stats.mqtt->connected ? 1 : 0) << '\n';
    family(os, "vigil_mqtt_messages_total", "counter",
           "MQTT messages by result: published, failed (refused by the client), dropped (queue full while away).");
    os << "vigil_mqtt_messages_total{result=\"published\"} " << fmt(stats.mqtt->published) << '\n';
    os << "vigil_mqtt_messages_total{result=\"failed\"} " << fmt(stats.mqtt->failed) << '\n';
    os << "vigil_mqtt_messages_total{result=\"dropped\"} " << fmt(stats.mqtt->dropped) << '\n';
  }
  if (stats.record) {
    const RecorderStats& r = *stats.record;
    family(os, "vigil_record_files_total", "counter",
           "Event snapshots and clips by result: written, dropped (writer queue or max_clips full), shared (an event "
           "that extended an open clip), error.");
    os << "vigil_record_files_total{kind=\"snapshot\",result=\"written\"} " << fmt(r.snapshots) << '\n';
    os << "vigil_record_files_total{kind=\"snapshot\",result=\"dropped\"} " << fmt(r.snapshot_drops) << '\n';
    os << "vigil_record_files_total{kind=\"clip\",result=\"written\"} " << fmt(r.clips) << '\n';
    os << "vigil_record_files_total{kind=\"clip\",result=\"dropped\"} " << fmt(r.clip_drops) << '\n';
    os << "vigil_record_files_total{kind=\"clip\",result=\"shared\"} " << fmt(r.clips_shared) << '\n';
    os << "vigil_record_files_total{kind=\"any\",result=\"error\"} " << fmt(r.errors) << '\n';
    family(os, "vigil_record_deleted_files_total", "counter", "Snapshot and clip files deleted by retention.");
    os << "vigil_record_deleted_files_total " << fmt(r.deleted_files) << '\n';
    family(os, "vigil_record_disk_bytes", "gauge", "Bytes of the snapshot and clip files at the last retention pass.");
    os << "vigil_record_disk_bytes " << fmt(r.disk_bytes) << '\n';
    family(os, "vigil_record_ring_bytes", "gauge", "Compressed packets held by the streams' packet rings.");
    os << "vigil_record_ring_bytes " << fmt(static_cast<std::uint64_t>(r.ring_bytes)) << '\n';
  }
  if (stats.webhooks.empty()) return;
  family(os, "vigil_webhook_deliveries_total", "counter",
         "Webhook events by hook (index in webhooks[]) and result: delivered, failed (after every retry), dropped.");
  for (std::size_t i = 0; i < stats.webhooks.size(); ++i) {
    const auto& h = stats.webhooks[i];
    const std::string lb = "hook=\"" + std::to_string(i) + "\",result=";
    os << "vigil_webhook_deliveries_total{" << lb << "\"delivered\"} " << fmt(h.delivered) << '\n';
    os << "vigil_webhook_deliveries_total{" << lb << "\"failed\"} " << fmt(h.failed) << '\n';
    os << "vigil_webhook_deliveries_total{" << lb << "\"dropped\"} " << fmt(h.dropped) << '\n';
  }
}

}  // namespace

std::string prometheus_label_value(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string prometheus_text(const EngineStats& stats) {
  std::ostringstream os;
  const auto stages = stages_by_name();
  family(os, "vigil_stage_latency_seconds", "summary",
         "Latency of one pipeline stage call, over its last 2048 calls (per batch for preprocess, inference, "
         "postprocess; per frame otherwise).");
  for (const Stage stage : stages)
    summary(os, "vigil_stage_latency_seconds", "stage=\"" + prometheus_label_value(to_string(stage)) + "\"",
            stats.stage(stage).latency);

  family(os, "vigil_stage_duration_seconds", "histogram",
         "Duration of pipeline stage calls since start (per batch for preprocess, inference, postprocess; per "
         "frame otherwise).");
  for (const Stage stage : stages)
    histogram(os, "stage=\"" + prometheus_label_value(to_string(stage)) + "\"", stats.stage(stage).histogram);

  family(os, "vigil_analysis_latency_seconds", "summary",
         "Capture of a frame to its analysis result applied, over the last 2048 results.");
  summary(os, "vigil_analysis_latency_seconds", "", stats.analysis_latency);

  stream_families(os, stats.streams);

  family(os, "vigil_batch_size_avg", "gauge", "Average number of images per inference call.");
  os << "vigil_batch_size_avg " << fmt(stats.batch_size_avg) << '\n';
  family(os, "vigil_inferences_total", "counter", "Images run through the detector.");
  os << "vigil_inferences_total " << fmt(stats.inferences) << '\n';
  family(os, "vigil_process_cpu_percent", "gauge", "Process CPU use in percent of one core (200 = two cores busy).");
  os << "vigil_process_cpu_percent " << fmt(stats.cpu_percent) << '\n';
  family(os, "vigil_process_resident_memory_bytes", "gauge", "Resident set size of the process in bytes.");
  os << "vigil_process_resident_memory_bytes " << fmt(std::round(stats.ram_mb * kBytesPerMiB)) << '\n';

  caption_families(os, stats.captions);
  notify_families(os, stats);
  return os.str();
}

}  // namespace vigil
