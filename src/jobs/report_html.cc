#include "jobs/report_html.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <vector>

#include "render/overlay.h"

namespace vigil {
namespace {

using json = nlohmann::json;

std::string num(double v, int decimals = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string hms(double s) {
  const auto t = static_cast<long>(std::floor(std::max(0.0, s)));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  return buf;
}

std::string color_css(int i) {
  const Rgb c = class_color(i);
  char buf[16];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c.r, c.g, c.b);
  return buf;
}

// The chart draws the most detected classes, at most this many.
constexpr std::size_t kChartClasses = 6;

std::string chart_svg(const json& results) {
  const json& rows = results["counts_over_time"]["rows"];
  const double bucket = results["counts_over_time"].value("bucket_s", 1.0);
  const double duration = std::max(results["video"].value("duration_s", 0.0), bucket);
  std::vector<std::pair<std::int64_t, std::string>> classes;
  for (const auto& [name, n] : results["summary"]["detections"].items()) classes.emplace_back(n.get<std::int64_t>(), name);
  std::stable_sort(classes.begin(), classes.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  if (classes.size() > kChartClasses) classes.resize(kChartClasses);
  double ymax = 1;
  for (const auto& r : rows)
    for (const auto& [cls, v] : r["mean"].items()) ymax = std::max(ymax, v.get<double>());
  const double W = 900, H = 260, L = 40, B = 24, T = 10;
  std::string svg = "<svg viewBox=\"0 0 900 260\" class=\"chart\" role=\"img\" aria-label=\"counts over time\">";
  svg += "<line x1=\"40\" y1=\"236\" x2=\"900\" y2=\"236\" stroke=\"#888\"/><line x1=\"40\" y1=\"10\" x2=\"40\" y2=\"236\" stroke=\"#888\"/>";
  svg += "<text x=\"36\" y=\"18\" text-anchor=\"end\">" + num(ymax, 1) + "</text><text x=\"36\" y=\"236\" text-anchor=\"end\">0</text>";
  for (int k = 0; k <= 4; ++k) {
    const double t = duration * k / 4;
    svg += "<text x=\"" + num(L + (W - L) * k / 4, 0) + "\" y=\"254\" text-anchor=\"middle\">" + hms(t) + "</text>";
  }
  int ci = 0;
  for (const auto& [n, cls] : classes) {
    std::string pts;
    for (const auto& r : rows) {
      const double x = L + (W - L) * (r.value("t", 0.0) + bucket / 2) / duration;
      const double y = (H - B) - ((H - B - T) * r["mean"].value(cls, 0.0) / ymax);
      pts += num(x, 1) + "," + num(y, 1) + " ";
    }
    svg += "<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"" + color_css(ci * 7 + 1) + "\" points=\"" + pts + "\"/>";
    ++ci;
  }
  svg += "</svg><div class=\"legend\">";
  ci = 0;
  for (const auto& [n, cls] : classes) {
    svg += "<span><i style=\"background:" + color_css(ci * 7 + 1) + "\"></i>" + html_escape(cls) + "</span>";
    ++ci;
  }
  svg += "</div><p class=\"note\">Mean detections per sampled frame in buckets of " + num(bucket, 0) + " s.</p>";
  return svg;
}

}  // namespace

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

std::string head_section(const json& r) {
  const json& v = r["video"];
  std::string h;
  h += "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Vigil report: " +
       html_escape(v.value("path", "")) + "</title><style>";
  h += "body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1000px}"
       "h1{font-size:20px}h2{font-size:16px;margin-top:28px;border-bottom:1px solid #ddd}"
       "table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:left}"
       ".chart{width:100%;height:auto;font-size:10px}.legend span{margin-right:14px}"
       ".legend i{display:inline-block;width:10px;height:10px;margin-right:4px}"
       ".thumbs{display:flex;flex-wrap:wrap;gap:12px}.thumbs figure{margin:0}.thumbs img{max-width:300px;display:block}"
       ".failed{color:#b00020}.note{color:#666}";
  h += "</style></head><body>";
  h += "<h1>Vigil analysis: " + html_escape(v.value("path", "")) + "</h1>";
  h += "<p>" + hms(v.value("duration_s", 0.0)) + " · " + std::to_string(v.value("width", 0)) + "x" +
       std::to_string(v.value("height", 0)) + " · " + num(v.value("fps", 0.0), 2) + " fps · " +
       html_escape(v.value("codec", "")) + " · sampled at " + num(r["options"].value("sample_fps", 0.0), 2) +
       " fps in chunks of " + num(r["options"].value("chunk_s", 0.0), 0) + " s · model " +
       html_escape(r["options"].value("model", "")) + "</p>";
  return h;
}

std::string totals_section(const json& s) {
  std::string h = "<h2>Totals</h2><table><tr><th>class</th><th>detections</th><th>most in one frame</th><th>tracks</th></tr>";
  for (const auto& [cls, n] : s["detections"].items())
    h += "<tr><td>" + html_escape(cls) + "</td><td>" + std::to_string(n.get<std::int64_t>()) + "</td><td>" +
         std::to_string(s["max_in_frame"].value(cls, 0)) + "</td><td>" + std::to_string(s["tracks"].value(cls, 0)) +
         "</td></tr>";
  h += "</table><p>" + std::to_string(s.value("samples", 0)) + " sampled frames, " +
       std::to_string(s.value("chunks_done", 0)) + " of " + std::to_string(s.value("chunks", 0)) +
       " chunks analysed, " + std::to_string(s.value("stitches", 0)) + " tracks stitched across chunk boundaries.</p>";
  return h;
}

std::string failed_section(const json& s) {
  if (s["failed"].empty()) return "";
  std::string h = "<h2 class=\"failed\">Failed time ranges</h2><table><tr><th>chunk</th><th>from</th><th>to</th><th>error</th></tr>";
  for (const auto& f : s["failed"])
    h += "<tr class=\"failed\"><td>" + std::to_string(f.value("chunk", 0)) + "</td><td>" + hms(f.value("start_s", 0.0)) +
         "</td><td>" + hms(f.value("end_s", 0.0)) + "</td><td>" + html_escape(f.value("error", "")) + "</td></tr>";
  h += "</table><p class=\"note\">Nothing in these ranges was analysed; the rest of the video was.</p>";
  return h;
}

std::string damaged_section(const json& s) {
  if (!s.contains("damaged") || s["damaged"].empty()) return "";
  std::string h = "<h2 class=\"failed\">Damaged time ranges</h2><table><tr><th>after</th><th>until</th><th>lost</th>"
                  "<th>samples lost</th><th>first error</th></tr>";
  for (const auto& d : s["damaged"]) {
    const double from = d.value("from", 0.0), to = d.value("to", 0.0);
    h += "<tr class=\"failed\"><td>" + hms(from) + " (" + num(from, 1) + " s)</td><td>" + hms(to) + " (" +
         num(to, 1) + " s)</td><td>" + num(to - from, 1) + " s</td><td>" +
         std::to_string(d.value("samples_lost", 0)) + "</td><td>" + html_escape(d.value("error", "")) + "</td></tr>";
  }
  h += "</table><p class=\"note\">The file has damaged data here: the frames shown between these times could not "
       "be decoded and their samples are missing; decoding resumed at the next keyframe.</p>";
  return h;
}

std::string captions_section(const json& r) {
  if (!r.contains("captions")) return "";
  std::string h = "<h2>Scene captions <span class=\"note\">(" + html_escape(r["options"].value("captioner", "")) + ")</span></h2>";
  if (r.contains("caption_summary"))
    h += "<p><b>Summary:</b> " +
         html_escape(r["caption_summary"].value("text", "(failed: " + r["caption_summary"].value("error", "") + ")")) +
         "</p>";
  h += "<table><tr><th>time</th><th>caption</th></tr>";
  for (const auto& c : r["captions"])
    h += "<tr><td>" + hms(c.value("pts", 0.0)) + "</td><td>" +
         (c.contains("text") ? html_escape(c.value("text", ""))
                             : "<span class=\"failed\">" + html_escape(c.value("error", "")) + "</span>") +
         "</td></tr>";
  h += "</table>";
  return h;
}

std::string busiest_section(const std::vector<ChunkThumb>& thumbs) {
  std::string h = "<h2>Busiest moments</h2><div class=\"thumbs\">";
  for (const auto& t : thumbs)
    h += "<figure><img alt=\"frame at " + hms(t.pts) + "\" src=\"data:image/jpeg;base64," + t.jpeg_base64 +
         "\"><figcaption>" + hms(t.pts) + " (" + num(t.pts, 1) + " s): " + std::to_string(t.count) +
         " detections</figcaption></figure>";
  if (thumbs.empty()) h += "<p class=\"note\">No detections.</p>";
  h += "</div>";
  return h;
}

std::string zones_section(const json& s) {
  std::string h = "<h2>Zones</h2>";
  if (s["zones"].empty()) return h + "<p class=\"note\">No zones configured.</p>";
  h += "<table><tr><th>zone</th><th>visits</th><th>exits</th><th>longest stay</th><th>dwell alerts</th></tr>";
  for (const auto& [name, z] : s["zones"].items()) {
    std::string visits;
    for (const auto& [cls, n] : z["visits"].items()) visits += html_escape(cls) + " " + std::to_string(n.get<int>()) + " ";
    h += "<tr><td>" + html_escape(name) + "</td><td>" + (visits.empty() ? "0" : visits) + "</td><td>" +
         std::to_string(z.value("exits", 0)) + "</td><td>" + num(z.value("dwell_max_s", 0.0), 1) + " s</td><td>" +
         std::to_string(z.value("dwell_events", 0)) + "</td></tr>";
  }
  return h + "</table>";
}

std::string lines_section(const json& s) {
  std::string h = "<h2>Lines</h2>";
  if (s["lines"].empty()) return h + "<p class=\"note\">No lines configured.</p>";
  h += "<table><tr><th>line</th><th>in</th><th>out</th><th>by class</th></tr>";
  for (const auto& [name, l] : s["lines"].items()) {
    std::string by;
    for (const auto& [cls, c] : l["by_class"].items())
      by += html_escape(cls) + " " + std::to_string(c.value("in", 0)) + "/" + std::to_string(c.value("out", 0)) + " ";
    h += "<tr><td>" + html_escape(name) + "</td><td>" + std::to_string(l.value("in", 0)) + "</td><td>" +
         std::to_string(l.value("out", 0)) + "</td><td>" + by + "</td></tr>";
  }
  return h + "</table>";
}

// The longest tracks listed in the report.
constexpr std::size_t kLongestTracks = 10;

std::string tracks_section(const json& r) {
  std::string h = "<h2>Longest tracks</h2><table><tr><th>track</th><th>class</th><th>from</th><th>to</th><th>seconds</th></tr>";
  std::vector<const json*> tracks;
  for (const auto& t : r["tracks"]) tracks.push_back(&t);
  const auto length = [](const json* t) { return t->value("last_seen", 0.0) - t->value("first_seen", 0.0); };
  std::stable_sort(tracks.begin(), tracks.end(), [&](const json* a, const json* b) { return length(a) > length(b); });
  if (tracks.size() > kLongestTracks) tracks.resize(kLongestTracks);
  for (const json* t : tracks)
    h += "<tr><td>#" + std::to_string(t->value("id", 0)) + "</td><td>" + html_escape(t->value("class", "")) + "</td><td>" +
         hms(t->value("first_seen", 0.0)) + "</td><td>" + hms(t->value("last_seen", 0.0)) + "</td><td>" +
         num(length(t), 1) + "</td></tr>";
  h += "</table>";
  if (!r["stitches"].empty())
    h += "<p class=\"note\">Tracks may differ from an unchunked run only at the " +
         std::to_string(r["stitches"].size()) + " stitch points listed in results.json.</p>";
  return h;
}

}  // namespace

std::string render_report_html(const MergedResults& merged) {
  const json& r = merged.results;
  const json& s = r["summary"];
  std::string h = head_section(r);
  h += totals_section(s);
  h += failed_section(s);
  h += damaged_section(s);
  h += captions_section(r);
  h += "<h2>Counts over time</h2>" + chart_svg(r);
  h += busiest_section(merged.thumbs);
  h += zones_section(s);
  h += lines_section(s);
  h += tracks_section(r);
  h += "<p class=\"note\">Made by vigil " VIGIL_VERSION ". Files: results.json, events.jsonl, timeline.csv, run.json.</p>";
  h += "</body></html>\n";
  return h;
}

}  // namespace vigil
