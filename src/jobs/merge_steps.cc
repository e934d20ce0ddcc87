#include "jobs/merge_steps.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <tuple>

#include "core/class_name.h"
#include "core/media_time.h"
#include "core/round.h"

namespace vigil::merge {

// ---- parse ----

Result<std::vector<DoneChunk>> parse_done_chunks(const std::vector<ChunkState>& chunks) {
  std::vector<DoneChunk> done;
  for (const auto& c : chunks) {
    if (c.state != ChunkStatus::kDone) continue;
    auto parsed = parse_chunk_result(c.result);
    if (!parsed)
      return fail(ErrorCode::kBadInput, "chunk " + std::to_string(c.chunk.index) + " result: " + parsed.error().message);
    done.push_back({c.chunk, std::move(*parsed)});
  }
  return done;
}

// ---- stitch ----

namespace {

// Chunk i+1 follows chunk i directly and has a first sample to stitch at.
bool adjacent(const DoneChunk& a, const DoneChunk& b) {
  return b.chunk.index == a.chunk.index + 1 && !b.result.samples.empty();
}

// Pairs (open track of a, track born at the start of b) greedily by IoU:
// b's local id -> a's local id.
std::map<std::int64_t, std::int64_t> match_across(const DoneChunk& a, const DoneChunk& b, const StitchParams& p) {
  struct Pair {
    float iou;
    std::size_t a, b;
  };
  std::vector<Pair> pairs;
  const double start = b.result.samples.front().t;
  const auto& ta_list = a.result.tracks;
  const auto& tb_list = b.result.tracks;
  for (std::size_t ia = 0; ia < ta_list.size(); ++ia) {
    const ChunkTrack& ta = ta_list[ia];
    if (!ta.open) continue;
    for (std::size_t ib = 0; ib < tb_list.size(); ++ib) {
      const ChunkTrack& tb = tb_list[ib];
      if (tb.class_id != ta.class_id || tb.first > start + kStitchBirthIntervals * p.sample_interval_s + kMediaTimeEpsilon)
        continue;
      if (tb.first - ta.last > p.lost_buffer_s + p.sample_interval_s + kMediaTimeEpsilon) continue;
      const float v = iou(ta.last_box, tb.first_box);
      if (v >= p.min_iou) pairs.push_back({v, ia, ib});
    }
  }
  std::stable_sort(pairs.begin(), pairs.end(), [](const Pair& x, const Pair& y) { return x.iou > y.iou; });
  std::set<std::size_t> used_a, used_b;
  std::map<std::int64_t, std::int64_t> out;
  for (const auto& pr : pairs) {
    if (used_a.count(pr.a) || used_b.count(pr.b)) continue;
    used_a.insert(pr.a);
    used_b.insert(pr.b);
    out[tb_list[pr.b].id] = ta_list[pr.a].id;
  }
  return out;
}

// A chunk's tracks by first appearance (then id).
std::vector<const ChunkTrack*> by_first_seen(const std::vector<ChunkTrack>& tracks) {
  std::vector<const ChunkTrack*> order;
  for (const auto& t : tracks) order.push_back(&t);
  std::stable_sort(order.begin(), order.end(), [](const ChunkTrack* a, const ChunkTrack* b) {
    return a->first != b->first ? a->first < b->first : a->id < b->id;
  });
  return order;
}

}  // namespace

StitchedTracks stitch_tracks(const std::vector<DoneChunk>& done, const StitchParams& params) {
  StitchedTracks out;
  for (std::size_t i = 0; i + 1 < done.size(); ++i) {
    if (!adjacent(done[i], done[i + 1])) continue;
    for (const auto& [b, a] : match_across(done[i], done[i + 1], params)) {
      out.continues_from[{i + 1, b}] = a;
      out.continues_to[{i, a}] = b;
    }
  }
  // Number the tracks in order of first appearance, a continuation taking its predecessor's id.
  for (std::size_t i = 0; i < done.size(); ++i) {
    for (const ChunkTrack* t : by_first_seen(done[i].result.tracks)) {
      std::int64_t g = 0;
      if (auto it = out.continues_from.find({i, t->id}); it != out.continues_from.end()) {
        g = out.global_id.at({i - 1, it->second});
        out.stitches.push_back({round3(done[i].chunk.start_s), g, done[i].chunk.index});
      } else {
        g = static_cast<std::int64_t>(out.tracks.size()) + 1;
        GlobalTrack nt;
        nt.id = g;
        nt.class_id = t->class_id;
        nt.first = t->first;
        out.tracks.push_back(nt);
      }
      out.global_id[{i, t->id}] = g;
      GlobalTrack& gt = out.tracks[static_cast<std::size_t>(g - 1)];
      gt.last = t->last;
      gt.hits += t->hits;
      gt.score = std::max(gt.score, t->score);
      gt.chunks.push_back(done[i].chunk.index);
    }
  }
  return out;
}

// ---- events ----

namespace {

// One visit of a global track to a zone, as the merge has kept it so far.
struct Visit {
  double enter = 0;         // pts of the kept zone_enter
  double offset = 0;        // kept enter pts - the continuation's own enter pts
  bool dwell_done = false;  // a dwell event was kept for this visit
  bool carried = false;     // the visit goes on in the next chunk
  Event enter_event;        // the kept zone_enter (class fields for a dwell made here)
};

using VisitKey = std::pair<std::int64_t, std::string>;  // (global id, zone)

class EventMerger {
 public:
  EventMerger(const std::vector<DoneChunk>& done, const StitchedTracks& tracks, const std::vector<ZoneConfig>& zones)
      : done_(done), tracks_(tracks) {
    for (const auto& z : zones) dwell_limit_[z.name] = z.dwell_s;
    find_enters_at_birth();
  }

  std::vector<Event> run() {
    for (std::size_t i = 0; i < done_.size(); ++i) merge_chunk(i);
    return std::move(out_);
  }

 private:
  // (chunk, local id, zone) of zone_enter events at a track's first sample:
  // a visit carried over a boundary re-enters there.
  void find_enters_at_birth() {
    for (std::size_t i = 0; i < done_.size(); ++i) {
      std::map<std::int64_t, double> first;
      for (const auto& t : done_[i].result.tracks) first[t.id] = t.first;
      for (const auto& ce : done_[i].result.events) {
        const Event& e = ce.event;
        if (e.kind != EventKind::kZoneEnter) continue;
        auto f = first.find(e.track_id);
        if (f != first.end() && e.pts <= f->second + kSampleEpsilon) enters_at_birth_.insert({i, e.track_id, e.zone});
      }
    }
  }

  void merge_chunk(std::size_t i) {
    sample_pts_.clear();
    for (const auto& s : done_[i].result.samples) sample_pts_.push_back(s.pts);
    dwell_due_.clear();
    for (const auto& ce : done_[i].result.events) {
      Event e = ce.event;
      const std::int64_t local = e.track_id;
      std::int64_t g = -1;
      if (local >= 0) {
        auto it = tracks_.global_id.find({i, local});
        if (it == tracks_.global_id.end()) continue;  // a track never confirmed in this chunk
        g = it->second;
        e.track_id = g;
      }
      emit_dwell_due(e.pts);
      if (keep(i, local, g, ce.boundary, e)) out_.push_back(std::move(e));
    }
  }

  // Dwell alerts of carried visits that only the whole visit reaches: at the
  // first sample of this chunk at or after enter + dwell_s.
  void emit_dwell_due(double up_to) {
    for (auto it = dwell_due_.begin(); it != dwell_due_.end();) {
      if (it->second > up_to + kMediaTimeEpsilon) {
        ++it;
        continue;
      }
      Visit& v = visits_[it->first];
      if (!v.dwell_done) {
        Event d = v.enter_event;
        d.kind = EventKind::kDwell;
        d.pts = it->second;
        d.dwell_s = round3(it->second - v.enter);
        v.dwell_done = true;
        out_.push_back(std::move(d));
      }
      it = dwell_due_.erase(it);
    }
  }

  // Whether event e (chunk i, local id `local`, global id g) stays; updates
  // the visit it belongs to and may adjust e.dwell_s.
  bool keep(std::size_t i, std::int64_t local, std::int64_t g, bool boundary, Event& e) {
    const bool stitched_in = tracks_.continues_from.count({i, local}) > 0;
    const auto next = tracks_.continues_to.find({i, local});
    if (boundary && next != tracks_.continues_to.end()) {
      if (e.kind == EventKind::kTrackLost) return false;
      // The visit goes on only if the continuation is in the zone from its first sample.
      if (e.kind == EventKind::kZoneExit && enters_at_birth_.count({i + 1, next->second, e.zone})) {
        visits_[{g, e.zone}].carried = true;
        return false;
      }
    }
    if (e.kind == EventKind::kTrackNew && stitched_in) return false;
    if (e.kind == EventKind::kZoneEnter) return keep_enter(g, stitched_in, e);
    if (e.kind == EventKind::kDwell || e.kind == EventKind::kZoneExit) {
      Visit& v = visits_[{g, e.zone}];
      if (v.offset != 0) e.dwell_s = round3(e.dwell_s - v.offset);
      if (e.kind == EventKind::kDwell) {
        // A carried visit's dwell comes from the whole visit, not the continuation's own timer.
        if (v.dwell_done || v.offset != 0) return false;
        v.dwell_done = true;
      } else {
        dwell_due_.erase({g, e.zone});
        visits_.erase({g, e.zone});
      }
    }
    return true;
  }

  // A continuation's re-enter of a carried visit is dropped (the visit goes
  // on; its dwell alert is scheduled from the first enter); any other enter
  // starts a visit.
  bool keep_enter(std::int64_t g, bool stitched_in, const Event& e) {
    Visit& v = visits_[{g, e.zone}];
    if (stitched_in && v.carried) {
      v.offset = v.enter - e.pts;
      v.carried = false;
      const auto lim = dwell_limit_.find(e.zone);
      const double limit = lim == dwell_limit_.end() ? 0.0 : lim->second;
      if (limit > 0 && !v.dwell_done) {
        const double due = v.enter + limit;
        auto s_it = std::lower_bound(sample_pts_.begin(), sample_pts_.end(), due - kSampleEpsilon);
        if (s_it != sample_pts_.end()) dwell_due_[{g, e.zone}] = *s_it;
      }
      return false;
    }
    v = Visit{};
    v.enter = e.pts;
    v.enter_event = e;
    return true;
  }

  const std::vector<DoneChunk>& done_;
  const StitchedTracks& tracks_;
  std::map<std::string, double> dwell_limit_;  // zone -> dwell_s (0 = no dwell events)
  std::set<std::tuple<std::size_t, std::int64_t, std::string>> enters_at_birth_;
  std::map<VisitKey, Visit> visits_;
  // The chunk being merged: its sample pts and the dwell alerts due in it.
  std::vector<double> sample_pts_;
  std::map<VisitKey, double> dwell_due_;
  std::vector<Event> out_;
};

}  // namespace

std::vector<Event> merge_events(const std::vector<DoneChunk>& done, const StitchedTracks& tracks,
                                const std::vector<ZoneConfig>& zones) {
  return EventMerger(done, tracks, zones).run();
}

// ---- timeline and counts ----

Timeline build_timeline(const std::vector<DoneChunk>& done) {
  Timeline tl;
  for (const auto& d : done)
    for (const auto& s : d.result.samples) {
      for (const auto& [c, n] : s.counts) tl.classes.insert(c);
      tl.rows.push_back({s.t, s.pts, s.counts});
    }
  return tl;
}

namespace {

std::string fmt3(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

}  // namespace

std::string timeline_csv(const Timeline& timeline, const std::vector<std::string>& class_names) {
  std::string csv = "t,pts";
  for (int c : timeline.classes) {
    csv += ',';
    csv += class_name(class_names, c);
  }
  csv += ",total\n";
  for (const auto& row : timeline.rows) {
    csv += fmt3(row.t);
    csv += ',';
    csv += fmt3(row.pts);
    int total = 0;
    for (int c : timeline.classes) {
      auto it = row.counts.find(c);
      const int n = it == row.counts.end() ? 0 : it->second;
      total += n;
      csv += ',';
      csv += std::to_string(n);
    }
    csv += ',';
    csv += std::to_string(total);
    csv += '\n';
  }
  return csv;
}

double pick_bucket(double duration_s, double sample_fps) {
  static constexpr double kSteps[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200};
  static constexpr double kDay = 86400;
  const double want = std::max(1.0 / sample_fps, duration_s / kTargetBuckets);
  for (double s : kSteps)
    if (s >= want) return s;
  return kDay;
}

Counts count_over_time(const Timeline& timeline, double bucket_s, const std::vector<std::string>& class_names) {
  Counts out;
  out.bucket_s = bucket_s;
  const auto& rows = timeline.rows;
  const auto bucket_of = [&](double t) { return static_cast<std::int64_t>(std::floor(t / bucket_s + kMediaTimeEpsilon)); };
  std::size_t r = 0;
  while (r < rows.size()) {
    const std::int64_t b = bucket_of(rows[r].t);
    std::map<int, std::int64_t> sum;
    std::map<int, int> mx;
    std::size_t n = 0;
    for (; r < rows.size() && bucket_of(rows[r].t) == b; ++r) {
      ++n;
      for (const auto& [c, k] : rows[r].counts) {
        const std::string name = class_name(class_names, c);
        sum[c] += k;
        mx[c] = std::max(mx[c], k);
        out.detections[name] += k;
        out.max_in_frame[name] = std::max(out.max_in_frame[name], k);
      }
    }
    CountsBucket row;
    row.t = round3(static_cast<double>(b) * bucket_s);
    row.samples = n;
    for (const auto& [c, k] : sum) {
      row.mean[class_name(class_names, c)] = round3(static_cast<double>(k) / static_cast<double>(n));
      row.max[class_name(class_names, c)] = mx[c];
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

// ---- zones and lines ----

ZonesAndLines summarize_zones_and_lines(const std::vector<Event>& events, const std::vector<ZoneConfig>& zones,
                                        const std::vector<LineConfig>& lines) {
  ZonesAndLines out;
  for (const auto& z : zones) out.zones[z.name];
  for (const auto& l : lines) out.lines[l.name];
  for (const auto& e : events) {
    switch (e.kind) {
      case EventKind::kZoneEnter:
      case EventKind::kZoneExit:
      case EventKind::kDwell: {
        out.zone_events.push_back(e);
        ZoneSummary& z = out.zones[e.zone];
        if (e.kind == EventKind::kZoneEnter) ++z.visits[e.class_name];
        if (e.kind == EventKind::kDwell) ++z.dwell_events;
        if (e.kind == EventKind::kZoneExit) {
          ++z.exits;
          z.dwell_total_s = round3(z.dwell_total_s + e.dwell_s);
          z.dwell_max_s = std::max(z.dwell_max_s, e.dwell_s);
        }
        break;
      }
      case EventKind::kLineCross: {
        out.line_events.push_back(e);
        LineSummary& l = out.lines[e.line];
        const bool in = e.direction == "in";
        ++(in ? l.total.in : l.total.out);
        LineCount& bc = l.by_class[e.class_name];
        ++(in ? bc.in : bc.out);
        break;
      }
      default:
        break;
    }
  }
  return out;
}

// ---- busiest moments, damage ----

std::vector<ChunkThumb> busiest_moments(const std::vector<DoneChunk>& done) {
  std::vector<ChunkThumb> thumbs;
  for (const auto& d : done) thumbs.insert(thumbs.end(), d.result.thumbs.begin(), d.result.thumbs.end());
  std::stable_sort(thumbs.begin(), thumbs.end(), [](const ChunkThumb& a, const ChunkThumb& b) {
    return a.count != b.count ? a.count > b.count : a.t < b.t;
  });
  if (thumbs.size() > kBusiestMoments) thumbs.resize(kBusiestMoments);
  return thumbs;
}

std::vector<ChunkDamage> merge_damaged(const std::vector<DoneChunk>& done) {
  std::vector<std::tuple<double, double, std::int64_t, std::string>> ranges;
  for (const auto& d : done)
    for (const auto& r : d.result.damaged) ranges.emplace_back(r.from, r.to, r.samples_lost, r.error);
  std::sort(ranges.begin(), ranges.end());
  std::vector<ChunkDamage> out;
  for (const auto& [from, to, lost, error] : ranges) {
    if (!out.empty() && from <= out.back().to) {
      out.back().to = std::max(out.back().to, to);
      out.back().samples_lost += lost;
      continue;
    }
    out.push_back({from, to, lost, error});
  }
  return out;
}

}  // namespace vigil::merge
