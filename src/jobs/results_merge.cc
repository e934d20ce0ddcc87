#include "jobs/results_merge.h"

#include <filesystem>
#include <fstream>

#include "core/class_name.h"
#include "core/round.h"
#include "jobs/merge_steps.h"
#include "store/event_json.h"

namespace vigil {
namespace {

using json = nlohmann::json;

// ---- JSON views of the merge steps' outputs (results.json) ----

json chunk_list_json(const std::vector<ChunkState>& chunks) {
  json out = json::array();
  for (const auto& c : chunks)
    out.push_back({{"index", c.chunk.index},
                   {"start_s", round3(c.chunk.start_s)},
                   {"end_s", round3(c.chunk.end_s)},
                   {"state", to_string(c.state)}});
  return out;
}

json failed_json(const std::vector<ChunkState>& chunks) {
  json out = json::array();
  for (const auto& c : chunks)
    if (c.state == ChunkStatus::kFailed)
      out.push_back({{"chunk", c.chunk.index},
                     {"start_s", round3(c.chunk.start_s)},
                     {"end_s", round3(c.chunk.end_s)},
                     {"error", c.error}});
  return out;
}

json stitches_json(const std::vector<merge::Stitch>& stitches) {
  json out = json::array();
  for (const auto& s : stitches) out.push_back({{"t", s.t}, {"track", s.track}, {"chunk", s.chunk}});
  return out;
}

json tracks_json(const std::vector<merge::GlobalTrack>& tracks, const std::vector<std::string>& class_names) {
  json out = json::array();
  for (const auto& t : tracks)
    out.push_back({{"id", t.id},
                   {"class", class_name(class_names, t.class_id)},
                   {"first_seen", round3(t.first)},
                   {"last_seen", round3(t.last)},
                   {"samples", t.hits},
                   {"score", round3(t.score)},
                   {"chunks", t.chunks}});
  return out;
}

std::map<std::string, int> tracks_by_class(const std::vector<merge::GlobalTrack>& tracks,
                                           const std::vector<std::string>& class_names) {
  std::map<std::string, int> out;
  for (const auto& t : tracks) ++out[class_name(class_names, t.class_id)];
  return out;
}

json counts_json(const merge::Counts& counts) {
  json rows = json::array();
  for (const auto& r : counts.rows)
    rows.push_back({{"t", r.t}, {"samples", r.samples}, {"mean", r.mean}, {"max", r.max}});
  return {{"bucket_s", counts.bucket_s}, {"rows", rows}};
}

json events_json(const std::vector<Event>& events) {
  json out = json::array();
  for (const auto& e : events) out.push_back(to_offline_json(e));
  return out;
}

json zones_json(const std::map<std::string, merge::ZoneSummary>& zones) {
  json out = json::object();
  for (const auto& [name, z] : zones)
    out[name] = {{"visits", z.visits.empty() ? json::object() : json(z.visits)},
                 {"dwell_events", z.dwell_events},
                 {"dwell_max_s", z.dwell_max_s},
                 {"exits", z.exits},
                 {"dwell_total_s", z.dwell_total_s}};
  return out;
}

json lines_json(const std::map<std::string, merge::LineSummary>& lines) {
  json out = json::object();
  for (const auto& [name, l] : lines) {
    json by_class = json::object();
    for (const auto& [cls, c] : l.by_class) by_class[cls] = {{"in", c.in}, {"out", c.out}};
    out[name] = {{"in", l.total.in}, {"out", l.total.out}, {"by_class", by_class}};
  }
  return out;
}

json damaged_json(const std::vector<ChunkDamage>& damaged) {
  json out = json::array();
  for (const auto& d : damaged)
    out.push_back({{"from", d.from}, {"to", d.to}, {"samples_lost", d.samples_lost}, {"error", d.error}});
  return out;
}

json busiest_json(const std::vector<ChunkThumb>& thumbs) {
  json out = json::array();
  for (const auto& t : thumbs) out.push_back({{"t", t.t}, {"pts", t.pts}, {"count", t.count}});
  return out;
}

json captions_json(const std::vector<merge::DoneChunk>& done) {
  json out = json::array();
  for (const auto& d : done)
    if (d.result.captions)
      for (const auto& c : *d.result.captions)
        out.push_back({{"t", round3(c.t)}, {"pts", round3(c.pts)}, {c.ok ? "text" : "error", c.text}});
  return out;
}

json options_json(const AnalyzeSettings& settings) {
  return {{"sample_fps", settings.sample_fps},
          {"chunk_s", settings.chunk_s},
          {"model", std::filesystem::path(settings.model_path).filename().string()},
          {"conf", round3(settings.stream.conf)},
          {"classes", settings.stream.classes},
          {"zones", settings.stream.zones.size()},
          {"lines", settings.stream.lines.size()}};
}

}  // namespace

json VideoInfo::to_json() const {
  return {{"path", path}, {"duration_s", round3(duration_s)}, {"width", width}, {"height", height},
          {"fps", round3(fps)}, {"codec", codec}};
}

Result<MergedResults> merge_results(const AnalyzeSettings& settings, const VideoInfo& video,
                                    const std::vector<std::string>& class_names, const std::vector<ChunkState>& chunks) {
  auto done = merge::parse_done_chunks(chunks);
  if (!done) return fail(done.error());
  const merge::StitchedTracks tracks = merge::stitch_tracks(
      *done, {1.0 / settings.sample_fps, settings.stream.tracker.lost_buffer_s, settings.stitch_iou});
  MergedResults out;
  out.events = merge::merge_events(*done, tracks, settings.stream.zones);
  const merge::Timeline timeline = merge::build_timeline(*done);
  out.timeline_csv = merge::timeline_csv(timeline, class_names);
  const merge::Counts counts =
      merge::count_over_time(timeline, merge::pick_bucket(video.duration_s, settings.sample_fps), class_names);
  const merge::ZonesAndLines zl =
      merge::summarize_zones_and_lines(out.events, settings.stream.zones, settings.stream.lines);
  out.thumbs = merge::busiest_moments(*done);
  for (const merge::DoneChunk& d : *done) out.totals += d.result.stats;
  const std::vector<ChunkDamage> damaged = merge::merge_damaged(*done);

  std::int64_t samples_lost = 0;
  for (const auto& d : damaged) samples_lost += d.samples_lost;
  const json failed = failed_json(chunks);
  json summary = {{"samples", timeline.rows.size()},
                  {"chunks", chunks.size()},
                  {"chunks_done", done->size()},
                  {"chunks_failed", failed.size()},
                  {"detections", counts.detections},
                  {"max_in_frame", counts.max_in_frame},
                  {"tracks", tracks_by_class(tracks.tracks, class_names)},
                  {"zones", zones_json(zl.zones)},
                  {"lines", lines_json(zl.lines)},
                  {"stitches", tracks.stitches.size()},
                  {"failed", failed},
                  {"damaged", damaged_json(damaged)},
                  {"samples_lost", samples_lost},
                  {"busiest", busiest_json(out.thumbs)}};
  out.results = {{"video", video.to_json()},
                 {"options", options_json(settings)},
                 {"summary", summary},
                 {"counts_over_time", counts_json(counts)},
                 {"tracks", tracks_json(tracks.tracks, class_names)},
                 {"stitches", stitches_json(tracks.stitches)},
                 {"zone_events", events_json(zl.zone_events)},
                 {"line_events", events_json(zl.line_events)},
                 {"chunks", chunk_list_json(chunks)}};
  // The file's name as given and the stream id derived from it (its events' "stream").
  out.results["video"]["name"] = settings.name;
  out.results["video"]["stream"] = settings.stream.id;
  if (settings.captions) {
    out.results["captions"] = captions_json(*done);
    out.results["options"]["captioner"] = to_string(settings.stream.describe.captioner);
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

std::string events_jsonl(const std::vector<Event>& events) {
  std::string lines;
  for (const auto& e : events) lines += to_offline_json(e).dump() + "\n";
  return lines;
}

Result<void> write_outputs(const std::string& dir, const MergedResults& merged) {
  const std::filesystem::path d(dir);
  if (auto r = write_file_atomic((d / "results.json").string(), merged.results.dump(2) + "\n"); !r) return r;
  if (auto r = write_file_atomic((d / "events.jsonl").string(), events_jsonl(merged.events)); !r) return r;
  return write_file_atomic((d / "timeline.csv").string(), merged.timeline_csv);
}

}  // namespace vigil
