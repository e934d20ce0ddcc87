#include "server/prometheus_text.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace vigil {
namespace {

using nlohmann::json;

double number(const json& j, const char* key) {
  if (!j.is_object()) return 0;
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

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

void family(std::ostringstream& os, const char* name, const char* type, const char* help) {
  os << "# HELP " << name << ' ' << help << '\n' << "# TYPE " << name << ' ' << type << '\n';
}

void summary(std::ostringstream& os, const std::string& name, const std::string& labels, const json& s) {
  const std::string sep = labels.empty() ? "" : ",";
  const double count = number(s, "count");
  os << name << "{" << labels << sep << "quantile=\"0.5\"} " << fmt(number(s, "p50_ms") / 1000) << '\n';
  os << name << "{" << labels << sep << "quantile=\"0.95\"} " << fmt(number(s, "p95_ms") / 1000) << '\n';
  os << name << "{" << labels << sep << "quantile=\"0.99\"} " << fmt(number(s, "p99_ms") / 1000) << '\n';
  const std::string lb = labels.empty() ? "" : "{" + labels + "}";
  os << name << "_sum" << lb << ' ' << fmt(number(s, "avg_ms") * count / 1000) << '\n';
  os << name << "_count" << lb << ' ' << fmt(count) << '\n';
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

std::string prometheus_text(const json& stats) {
  std::ostringstream os;
  const json empty_obj = json::object();
  const json empty_arr = json::array();
  const json& stages = stats.contains("stages") && stats["stages"].is_object() ? stats["stages"] : empty_obj;
  const json& streams = stats.contains("streams") && stats["streams"].is_array() ? stats["streams"] : empty_arr;

  family(os, "vigil_stage_latency_seconds", "summary",
         "Latency of one pipeline stage call, over its last 2048 calls (per batch for preprocess, inference, "
         "postprocess; per frame otherwise).");
  for (const auto& [stage, s] : stages.items())
    summary(os, "vigil_stage_latency_seconds", "stage=\"" + prometheus_label_value(stage) + "\"", s);

  family(os, "vigil_stage_duration_seconds", "histogram",
         "Duration of pipeline stage calls since start (per batch for preprocess, inference, postprocess; per "
         "frame otherwise).");
  if (stats.contains("stage_histograms") && stats["stage_histograms"].is_object()) {
    for (const auto& [stage, h] : stats["stage_histograms"].items()) {
      if (!h.contains("le_ms") || !h.contains("cumulative")) continue;
      const std::string label = "stage=\"" + prometheus_label_value(stage) + "\"";
      const auto& le = h["le_ms"];
      const auto& cum = h["cumulative"];
      if (!le.is_array() || !cum.is_array() || cum.size() != le.size() + 1) continue;
      for (std::size_t b = 0; b < le.size(); ++b)
        os << "vigil_stage_duration_seconds_bucket{" << label << ",le=\"" << fmt(le[b].get<double>() / 1000)
           << "\"} " << cum[b].get<std::uint64_t>() << '\n';
      os << "vigil_stage_duration_seconds_bucket{" << label << ",le=\"+Inf\"} " << cum.back().get<std::uint64_t>()
         << '\n';
      os << "vigil_stage_duration_seconds_sum{" << label << "} " << fmt(number(h, "sum_ms") / 1000) << '\n';
      os << "vigil_stage_duration_seconds_count{" << label << "} " << cum.back().get<std::uint64_t>() << '\n';
    }
  }

  family(os, "vigil_analysis_latency_seconds", "summary",
         "Capture of a frame to its analysis result applied, over the last 2048 results.");
  if (stats.contains("analysis_latency")) summary(os, "vigil_analysis_latency_seconds", "", stats["analysis_latency"]);

  family(os, "vigil_stream_fps", "gauge",
         "Frames per second of a stream: source (nominal), display (through the stream loop), analysed.");
  for (const auto& s : streams) {
    const std::string id = prometheus_label_value(s.value("id", ""));
    for (const char* kind : {"source", "display", "analysed"})
      os << "vigil_stream_fps{stream=\"" << id << "\",kind=\"" << kind << "\"} "
         << fmt(number(s, (std::string(kind) + "_fps").c_str())) << '\n';
  }

  family(os, "vigil_stream_frames_total", "counter", "Frames through a stream's loop since it was added.");
  for (const auto& s : streams)
    os << "vigil_stream_frames_total{stream=\"" << prometheus_label_value(s.value("id", "")) << "\"} "
       << fmt(number(s, "frames")) << '\n';

  family(os, "vigil_drops_total", "counter", "Frames not analysed or not shown, by stream and reason.");
  for (const auto& s : streams) {
    if (!s.contains("drops") || !s["drops"].is_object()) continue;
    const std::string id = prometheus_label_value(s.value("id", ""));
    for (const auto& [reason, n] : s["drops"].items())
      os << "vigil_drops_total{stream=\"" << id << "\",reason=\"" << prometheus_label_value(reason) << "\"} "
         << fmt(n.is_number() ? n.get<double>() : 0.0) << '\n';
  }

  family(os, "vigil_batch_size_avg", "gauge", "Average number of images per inference call.");
  os << "vigil_batch_size_avg " << fmt(number(stats, "batch_size_avg")) << '\n';
  family(os, "vigil_inferences_total", "counter", "Images run through the detector.");
  os << "vigil_inferences_total " << fmt(number(stats, "inferences")) << '\n';
  family(os, "vigil_process_cpu_percent", "gauge", "Process CPU use in percent of one core (200 = two cores busy).");
  os << "vigil_process_cpu_percent " << fmt(number(stats, "cpu_percent")) << '\n';
  family(os, "vigil_process_resident_memory_bytes", "gauge", "Resident set size of the process in bytes.");
  os << "vigil_process_resident_memory_bytes " << fmt(std::round(number(stats, "ram_mb") * 1048576.0)) << '\n';

  const json& captioners = stats.contains("captions") && stats["captions"].contains("captioners") &&
                                   stats["captions"]["captioners"].is_array()
                               ? stats["captions"]["captioners"]
                               : empty_arr;
  family(os, "vigil_caption_requests_total", "counter",
         "Caption requests by captioner and outcome: done, error, skipped (the queue of 2 was full).");
  for (const auto& c : captioners) {
    const std::string lb = "captioner=\"" + prometheus_label_value(c.value("captioner", "")) + "\",endpoint=\"" +
                           prometheus_label_value(c.value("endpoint", "")) + "\"";
    os << "vigil_caption_requests_total{" << lb << ",outcome=\"done\"} " << fmt(number(c, "done")) << '\n';
    os << "vigil_caption_requests_total{" << lb << ",outcome=\"error\"} " << fmt(number(c, "errors")) << '\n';
    os << "vigil_caption_requests_total{" << lb << ",outcome=\"skipped\"} " << fmt(number(c, "skipped")) << '\n';
  }
  family(os, "vigil_caption_latency_seconds", "summary", "Latency of successful captions, over the last 512.");
  for (const auto& c : captioners) {
    if (!c.contains("latency_ms")) continue;
    const json& l = c["latency_ms"];
    const json s = {{"p50_ms", number(l, "p50")}, {"p95_ms", number(l, "p95")}, {"p99_ms", number(l, "p99")},
                    {"avg_ms", number(l, "avg")}, {"count", number(l, "count")}};
    summary(os, "vigil_caption_latency_seconds",
            "captioner=\"" + prometheus_label_value(c.value("captioner", "")) + "\",endpoint=\"" +
                prometheus_label_value(c.value("endpoint", "")) + "\"",
            s);
  }
  return os.str();
}

}  // namespace vigil
