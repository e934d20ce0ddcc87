#include "jobs/results_merge.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <tuple>

#include <unistd.h>

#include "core/class_name.h"
#include "jobs/chunk_result.h"
#include "store/event_json.h"

namespace vigil {
namespace {

using json = nlohmann::json;

struct ChunkData {
  const ChunkState* state = nullptr;
  ChunkResult result;
  std::vector<json> events;  // result.events as JSON, "boundary" kept
  double first_sample_t = 0;
  bool has_samples = false;
};

std::string name_of(const std::vector<std::string>& names, int id) { return class_name(names, id); }

double pick_bucket(double duration_s, double sample_fps) {
  static constexpr double kSteps[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200};
  const double want = std::max(1.0 / sample_fps, duration_s / 240.0);
  for (double s : kSteps)
    if (s >= want) return s;
  return 86400;
}

std::string fmt3(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

double r3(double v) { return std::round(v * 1000.0) / 1000.0; }

}  // namespace

json VideoInfo::to_json() const {
  return {{"path", path}, {"duration_s", r3(duration_s)}, {"width", width}, {"height", height},
          {"fps", r3(fps)}, {"codec", codec}};
}

namespace {

// The damaged ranges of all done chunks, in media-time order, joined where
// they overlap (neighbouring chunks meet the same damage when both decode
// through it); samples_lost summed, the first error kept.
json merge_damaged(const std::vector<ChunkData>& data) {
  std::vector<std::tuple<double, double, std::size_t, std::string>> ranges;
  for (const auto& d : data)
    for (const auto& r : d.result.damaged)
      ranges.emplace_back(r.from, r.to, static_cast<std::size_t>(r.samples_lost), r.error);
  std::sort(ranges.begin(), ranges.end());
  json out = json::array();
  for (const auto& [from, to, lost, error] : ranges) {
    if (!out.empty() && from <= out.back()["to"].get<double>()) {
      json& last = out.back();
      last["to"] = std::max(last["to"].get<double>(), to);
      last["samples_lost"] = last["samples_lost"].get<std::size_t>() + lost;
      continue;
    }
    out.push_back({{"from", from}, {"to", to}, {"samples_lost", lost}, {"error", error}});
  }
  return out;
}

}  // namespace

Result<MergedResults> merge_results(const AnalyzeSettings& settings, const VideoInfo& video,
                                    const std::vector<std::string>& class_names, const std::vector<ChunkState>& chunks) {
  std::vector<ChunkData> data;
  json failed = json::array();
  json chunk_list = json::array();
  for (const auto& c : chunks) {
    chunk_list.push_back({{"index", c.chunk.index},
                          {"start_s", r3(c.chunk.start_s)},
                          {"end_s", r3(c.chunk.end_s)},
                          {"state", c.state}});
    if (c.state == "failed")
      failed.push_back({{"chunk", c.chunk.index},
                        {"start_s", r3(c.chunk.start_s)},
                        {"end_s", r3(c.chunk.end_s)},
                        {"error", c.error}});
    if (c.state != "done") continue;
    ChunkData d;
    d.state = &c;
    auto parsed = parse_chunk_result(c.result);
    if (!parsed)
      return fail(ErrorCode::kBadInput, "chunk " + std::to_string(c.chunk.index) + " result: " + parsed.error().message);
    d.result = std::move(*parsed);
    for (const auto& e : d.result.events) {
      json j = to_offline_json(e.event);
      if (e.boundary) j["boundary"] = true;
      d.events.push_back(std::move(j));
    }
    if (!d.result.samples.empty()) {
      d.has_samples = true;
      d.first_sample_t = d.result.samples.front().t;
    }
    data.push_back(std::move(d));
  }
  const json damaged = merge_damaged(data);
  std::size_t samples_lost = 0;
  for (const auto& r : damaged) samples_lost += r["samples_lost"].get<std::size_t>();

  // Stitching: (chunk position, local id) -> global id.
  std::map<std::pair<std::size_t, std::int64_t>, std::int64_t> gid;
  std::map<std::pair<std::size_t, std::int64_t>, std::int64_t> stitched_from;  // continuation -> predecessor local id
  std::set<std::pair<std::size_t, std::int64_t>> continues;                     // tracks that go on in the next chunk
  json stitches = json::array();
  const double interval = 1.0 / settings.sample_fps;
  for (std::size_t i = 0; i + 1 < data.size(); ++i) {
    if (data[i + 1].state->chunk.index != data[i].state->chunk.index + 1 || !data[i + 1].has_samples) continue;
    struct Pair {
      float iou;
      std::size_t a, b;
    };
    std::vector<Pair> pairs;
    const double start = data[i + 1].first_sample_t;
    for (std::size_t a = 0; a < data[i].result.tracks.size(); ++a) {
      const ChunkTrack& ta = data[i].result.tracks[a];
      if (!ta.open) continue;
      for (std::size_t b = 0; b < data[i + 1].result.tracks.size(); ++b) {
        const ChunkTrack& tb = data[i + 1].result.tracks[b];
        if (tb.class_id != ta.class_id || tb.first > start + 1.5 * interval + 1e-9) continue;
        if (tb.first - ta.last > settings.stream.tracker.lost_buffer_s + interval + 1e-9) continue;
        const float v = iou(ta.last_box, tb.first_box);
        if (v >= settings.stitch_iou) pairs.push_back({v, a, b});
      }
    }
    std::stable_sort(pairs.begin(), pairs.end(), [](const Pair& x, const Pair& y) { return x.iou > y.iou; });
    std::set<std::size_t> used_a, used_b;
    for (const auto& p : pairs) {
      if (used_a.count(p.a) || used_b.count(p.b)) continue;
      used_a.insert(p.a);
      used_b.insert(p.b);
      stitched_from[{i + 1, data[i + 1].result.tracks[p.b].id}] = data[i].result.tracks[p.a].id;
      continues.insert({i, data[i].result.tracks[p.a].id});
    }
  }

  struct GlobalTrack {
    int class_id = 0;
    double first = 0, last = 0;
    int hits = 0;
    double score = 0;
    std::vector<int> chunks;
  };
  std::map<std::int64_t, GlobalTrack> tracks;
  std::int64_t next_id = 1;
  for (std::size_t i = 0; i < data.size(); ++i) {
    std::vector<const ChunkTrack*> order;
    for (const auto& t : data[i].result.tracks) order.push_back(&t);
    std::stable_sort(order.begin(), order.end(), [](const ChunkTrack* a, const ChunkTrack* b) {
      return a->first != b->first ? a->first < b->first : a->id < b->id;
    });
    for (const ChunkTrack* t : order) {
      std::int64_t g = 0;
      if (auto it = stitched_from.find({i, t->id}); it != stitched_from.end()) {
        g = gid.at({i - 1, it->second});
        stitches.push_back({{"t", r3(data[i].state->chunk.start_s)}, {"track", g}, {"chunk", data[i].state->chunk.index}});
      } else {
        g = next_id++;
        tracks[g].class_id = t->class_id;
        tracks[g].first = t->first;
      }
      gid[{i, t->id}] = g;
      GlobalTrack& gt = tracks[g];
      gt.last = t->last;
      gt.hits += t->hits;
      gt.score = std::max(gt.score, t->score);
      gt.chunks.push_back(data[i].state->chunk.index);
    }
  }

  // Events.
  MergedResults out;
  std::map<std::pair<std::size_t, std::int64_t>, std::int64_t> continues_to;  // (chunk, A) -> B in chunk + 1
  for (const auto& [key, a] : stitched_from) continues_to[{key.first - 1, a}] = key.second;
  // (chunk, local id, zone) of zone_enter events at a track's first sample:
  // a visit carried over a boundary re-enters there.
  std::set<std::tuple<std::size_t, std::int64_t, std::string>> enters_at_birth;
  for (std::size_t i = 0; i < data.size(); ++i) {
    std::map<std::int64_t, double> first;
    for (const auto& t : data[i].result.tracks) first[t.id] = t.first;
    for (const auto& e : data[i].events) {
      if (e.value("kind", "") != "zone_enter") continue;
      const std::int64_t id = e.value("track_id", std::int64_t{-1});
      auto f = first.find(id);
      if (f != first.end() && e.value("pts", 0.0) <= f->second + 1e-6) enters_at_birth.insert({i, id, e.value("zone", "")});
    }
  }
  std::map<std::string, double> dwell_limit;  // zone -> dwell_s (0 = no dwell events)
  for (const auto& z : settings.stream.zones) dwell_limit[z.name] = z.dwell_s;
  struct Visit {
    double enter = 0;         // pts of the kept zone_enter
    double offset = 0;        // kept enter pts - the continuation's own enter pts
    bool dwell_done = false;  // a dwell event was kept for this visit
    bool carried = false;     // the visit goes on in the next chunk
    json enter_event;         // the kept zone_enter (class fields for a dwell made here)
  };
  std::map<std::pair<std::int64_t, std::string>, Visit> visits;  // (global id, zone)
  for (std::size_t i = 0; i < data.size(); ++i) {
    // Dwell alerts of carried visits that only the whole visit reaches: at
    // the first sample of this chunk at or after enter + dwell_s.
    std::vector<double> sample_pts;
    for (const auto& smp : data[i].result.samples) sample_pts.push_back(smp.pts);
    std::map<std::pair<std::int64_t, std::string>, double> dwell_due;
    auto emit_due = [&](double up_to) {
      for (auto it = dwell_due.begin(); it != dwell_due.end();) {
        if (it->second > up_to + 1e-9) {
          ++it;
          continue;
        }
        Visit& v = visits[it->first];
        if (!v.dwell_done) {
          json d = v.enter_event;
          d["kind"] = "dwell";
          d["pts"] = it->second;
          d["dwell_s"] = r3(it->second - v.enter);
          v.dwell_done = true;
          out.events.push_back(std::move(d));
        }
        it = dwell_due.erase(it);
      }
    };
    for (const auto& ev : data[i].events) {
      json e = ev;
      const bool boundary = e.value("boundary", false);
      e.erase("boundary");
      const std::string kind = e.value("kind", "");
      const std::int64_t local = e.value("track_id", std::int64_t{-1});
      const bool stitched_in = stitched_from.count({i, local}) > 0;
      const auto next = continues_to.find({i, local});
      std::int64_t g = -1;
      if (local >= 0) {
        auto it = gid.find({i, local});
        if (it == gid.end()) continue;  // a track never confirmed in this chunk
        g = it->second;
        e["track_id"] = g;
      }
      emit_due(e.value("pts", 0.0));
      const std::string zone = e.value("zone", "");
      if (boundary && next != continues_to.end()) {
        if (kind == "track_lost") continue;
        // The visit goes on only if the continuation is in the zone from its first sample.
        if (kind == "zone_exit" && enters_at_birth.count({i + 1, next->second, zone})) {
          visits[{g, zone}].carried = true;
          continue;
        }
      }
      if (kind == "track_new" && stitched_in) continue;
      if (kind == "zone_enter") {
        Visit& v = visits[{g, zone}];
        if (stitched_in && v.carried) {
          v.offset = v.enter - e.value("pts", 0.0);
          v.carried = false;
          const double limit = dwell_limit.count(zone) ? dwell_limit[zone] : 0.0;
          if (limit > 0 && !v.dwell_done) {
            const double due = v.enter + limit;
            auto s_it = std::lower_bound(sample_pts.begin(), sample_pts.end(), due - 1e-6);
            if (s_it != sample_pts.end()) dwell_due[{g, zone}] = *s_it;
          }
          continue;
        }
        v = Visit{};
        v.enter = e.value("pts", 0.0);
        v.enter_event = e;
      }
      if (kind == "dwell" || kind == "zone_exit") {
        Visit& v = visits[{g, zone}];
        if (v.offset != 0 && e.contains("dwell_s")) e["dwell_s"] = r3(e["dwell_s"].get<double>() - v.offset);
        if (kind == "dwell") {
          // A carried visit's dwell comes from the whole visit (above), not the continuation's own timer.
          if (v.dwell_done || v.offset != 0) continue;
          v.dwell_done = true;
        }
        if (kind == "zone_exit") {
          dwell_due.erase({g, zone});
          visits.erase({g, zone});
        }
      }
      out.events.push_back(std::move(e));
    }
  }

  // Timeline, counts over time, totals.
  std::vector<std::tuple<double, double, std::map<int, int>>> rows;
  std::set<int> seen_classes;
  for (const auto& d : data) {
    for (const auto& s : d.result.samples) {
      for (const auto& [c, n] : s.counts) seen_classes.insert(c);
      rows.emplace_back(s.t, s.pts, s.counts);
    }
  }
  std::string csv = "t,pts";
  for (int c : seen_classes) {
    csv += ',';
    csv += name_of(class_names, c);
  }
  csv += ",total\n";
  for (const auto& [t, pts, counts] : rows) {
    csv += fmt3(t);
    csv += ',';
    csv += fmt3(pts);
    int total = 0;
    for (int c : seen_classes) {
      auto it = counts.find(c);
      const int n = it == counts.end() ? 0 : it->second;
      total += n;
      csv += ',';
      csv += std::to_string(n);
    }
    csv += ',';
    csv += std::to_string(total);
    csv += '\n';
  }
  out.timeline_csv = std::move(csv);

  const double bucket = pick_bucket(video.duration_s, settings.sample_fps);
  json over_time = json::array();
  std::map<std::string, std::int64_t> detections;
  std::map<std::string, int> max_in_frame;
  {
    std::size_t r = 0;
    while (r < rows.size()) {
      const auto b = static_cast<std::int64_t>(std::floor(std::get<0>(rows[r]) / bucket + 1e-9));
      std::map<int, std::int64_t> sum;
      std::map<int, int> mx;
      std::size_t n = 0;
      for (; r < rows.size() && static_cast<std::int64_t>(std::floor(std::get<0>(rows[r]) / bucket + 1e-9)) == b; ++r) {
        ++n;
        for (const auto& [c, k] : std::get<2>(rows[r])) {
          sum[c] += k;
          mx[c] = std::max(mx[c], k);
          detections[name_of(class_names, c)] += k;
          max_in_frame[name_of(class_names, c)] = std::max(max_in_frame[name_of(class_names, c)], k);
        }
      }
      json mean = json::object(), maxj = json::object();
      for (const auto& [c, k] : sum) {
        mean[name_of(class_names, c)] = r3(static_cast<double>(k) / static_cast<double>(n));
        maxj[name_of(class_names, c)] = mx[c];
      }
      over_time.push_back({{"t", r3(static_cast<double>(b) * bucket)}, {"samples", n}, {"mean", mean}, {"max", maxj}});
    }
  }

  json track_list = json::array();
  std::map<std::string, int> tracks_by_class;
  for (const auto& [g, t] : tracks) {
    track_list.push_back({{"id", g},
                          {"class", name_of(class_names, t.class_id)},
                          {"first_seen", r3(t.first)},
                          {"last_seen", r3(t.last)},
                          {"samples", t.hits},
                          {"score", r3(t.score)},
                          {"chunks", t.chunks}});
    ++tracks_by_class[name_of(class_names, t.class_id)];
  }

  json zones = json::object(), lines = json::object();
  for (const auto& z : settings.stream.zones)
    zones[z.name] = {{"visits", json::object()}, {"dwell_events", 0}, {"dwell_max_s", 0.0}, {"exits", 0},
                     {"dwell_total_s", 0.0}};
  for (const auto& l : settings.stream.lines)
    lines[l.name] = {{"in", 0}, {"out", 0}, {"by_class", json::object()}};
  json zone_events = json::array(), line_events = json::array();
  for (const auto& e : out.events) {
    const std::string kind = e.value("kind", "");
    const std::string cls = e.value("class", "");
    if (kind == "zone_enter" || kind == "zone_exit" || kind == "dwell") {
      zone_events.push_back(e);
      json& z = zones[e.value("zone", "")];
      if (kind == "zone_enter") z["visits"][cls] = z["visits"].value(cls, 0) + 1;
      if (kind == "dwell") z["dwell_events"] = z["dwell_events"].get<int>() + 1;
      if (kind == "zone_exit") {
        const double d = e.value("dwell_s", 0.0);
        z["exits"] = z["exits"].get<int>() + 1;
        z["dwell_total_s"] = r3(z["dwell_total_s"].get<double>() + d);
        z["dwell_max_s"] = std::max(z["dwell_max_s"].get<double>(), d);
      }
    } else if (kind == "line_cross") {
      line_events.push_back(e);
      json& l = lines[e.value("line", "")];
      const std::string dir = e.value("direction", "") == "in" ? "in" : "out";
      l[dir] = l[dir].get<int>() + 1;
      json& bc = l["by_class"][cls];
      if (bc.is_null()) bc = {{"in", 0}, {"out", 0}};
      bc[dir] = bc[dir].get<int>() + 1;
    }
  }

  // Busiest moments over all chunks: most detections, then earliest.
  std::vector<json> thumbs;
  for (const auto& d : data)
    for (const auto& t : d.result.thumbs)
      thumbs.push_back({{"t", r3(t.t)}, {"pts", r3(t.pts)}, {"count", t.count}, {"jpeg", t.jpeg_base64}});
  std::stable_sort(thumbs.begin(), thumbs.end(), [](const json& a, const json& b) {
    const int ca = a.value("count", 0), cb = b.value("count", 0);
    return ca != cb ? ca > cb : a.value("t", 0.0) < b.value("t", 0.0);
  });
  if (thumbs.size() > 6) thumbs.resize(6);
  out.thumbs = json::array();
  json busiest = json::array();
  for (auto& t : thumbs) {
    busiest.push_back({{"t", t.value("t", 0.0)}, {"pts", t.value("pts", 0.0)}, {"count", t.value("count", 0)}});
    out.thumbs.push_back(std::move(t));
  }

  json captions = json::array();
  for (const auto& d : data)
    if (d.result.captions)
      for (const auto& c : *d.result.captions)
        captions.push_back({{"t", r3(c.t)}, {"pts", r3(c.pts)}, {c.ok ? "text" : "error", c.text}});

  std::size_t done = 0;
  for (const auto& c : chunks) done += c.state == "done" ? 1 : 0;
  json summary = {{"samples", rows.size()},
                  {"chunks", chunks.size()},
                  {"chunks_done", done},
                  {"chunks_failed", failed.size()},
                  {"detections", detections},
                  {"max_in_frame", max_in_frame},
                  {"tracks", tracks_by_class},
                  {"zones", zones},
                  {"lines", lines},
                  {"stitches", stitches.size()},
                  {"failed", failed},
                  {"damaged", damaged},
                  {"samples_lost", samples_lost},
                  {"busiest", busiest}};
  json options = {{"sample_fps", settings.sample_fps},
                  {"chunk_s", settings.chunk_s},
                  {"model", std::filesystem::path(settings.model_path).filename().string()},
                  {"conf", r3(settings.stream.conf)},
                  {"classes", settings.stream.classes},
                  {"zones", settings.stream.zones.size()},
                  {"lines", settings.stream.lines.size()}};
  out.results = {{"video", video.to_json()},
                 {"options", options},
                 {"summary", summary},
                 {"counts_over_time", {{"bucket_s", bucket}, {"rows", over_time}}},
                 {"tracks", track_list},
                 {"stitches", stitches},
                 {"zone_events", zone_events},
                 {"line_events", line_events},
                 {"chunks", chunk_list}};
  // The file's name as given and the stream id derived from it (its events' "stream").
  out.results["video"]["name"] = settings.name;
  out.results["video"]["stream"] = settings.stream.id;
  if (settings.captions) {
    out.results["captions"] = captions;
    out.results["options"]["captioner"] = settings.stream.describe.captioner;
  }
  return out;
}

Result<void> write_file_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return fail(ErrorCode::kBadInput, "cannot write " + path + ": cannot create " + tmp);
    f << text;
    f.flush();
    if (!f) return fail(ErrorCode::kRuntime, "cannot write " + path + ": write failed (disk full?)");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return fail(ErrorCode::kRuntime, "cannot write " + path + ": " + ec.message());
  return {};
}

Result<void> write_outputs(const std::string& dir, const MergedResults& merged) {
  const std::filesystem::path d(dir);
  if (auto r = write_file_atomic((d / "results.json").string(), merged.results.dump(2) + "\n"); !r) return r;
  std::string lines;
  for (const auto& e : merged.events) lines += e.dump() + "\n";
  if (auto r = write_file_atomic((d / "events.jsonl").string(), lines); !r) return r;
  return write_file_atomic((d / "timeline.csv").string(), merged.timeline_csv);
}

}  // namespace vigil
