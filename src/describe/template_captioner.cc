#include "describe/template_captioner.h"

#include "core/class_name.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>
#include <utility>

namespace vigil {
namespace {

constexpr std::array<Motion, 4> kDirections = {Motion::kLeft, Motion::kRight, Motion::kUp, Motion::kDown};

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_vowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }

std::string plural_of_word(const std::string& word) {
  static const std::map<std::string, std::string> kIrregular = {
      {"person", "people"}, {"man", "men"},     {"woman", "women"},   {"child", "children"},
      {"mouse", "mice"},    {"goose", "geese"}, {"foot", "feet"},     {"tooth", "teeth"},
      {"knife", "knives"},  {"leaf", "leaves"}, {"wolf", "wolves"},   {"shelf", "shelves"},
      {"bus", "buses"},     {"potato", "potatoes"}, {"tomato", "tomatoes"},
  };
  // Same in the plural, or already plural (COCO: sheep, skis, scissors, broccoli).
  static const std::set<std::string> kInvariant = {"sheep",  "deer",    "fish",     "skis",   "scissors",
                                                   "broccoli", "glasses", "people", "aircraft", "series"};
  const std::string key = lower(word);
  if (key.empty()) return word;
  if (const auto it = kIrregular.find(key); it != kIrregular.end()) return it->second;
  if (kInvariant.count(key) != 0) return word;
  if (ends_with(key, "s") || ends_with(key, "x") || ends_with(key, "z") || ends_with(key, "ch") ||
      ends_with(key, "sh")) {
    return word + "es";
  }
  if (key.size() >= 2 && key.back() == 'y' && !is_vowel(key[key.size() - 2])) {
    return word.substr(0, word.size() - 1) + "ies";
  }
  return word + "s";
}

std::string class_name_of(const CaptionScene& scene, int class_id) {
  // A class the model does not name is spoken of as an object, not as "class42".
  if (names_class(scene.class_names, class_id)) return class_name(scene.class_names, class_id);
  return "class-" + std::to_string(class_id) + " object";
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

// Groups of (name, motions), sorted by count desc then name.
std::vector<std::pair<std::string, std::vector<Motion>>> sorted_groups(
    const std::map<std::string, std::vector<Motion>>& groups) {
  std::vector<std::pair<std::string, std::vector<Motion>>> out(groups.begin(), groups.end());
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.second.size() > b.second.size(); });
  return out;  // std::map order is by name: the stable sort keeps it within equal counts
}

double elapsed_ms(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

Result<void> TemplateCaptionerOptions::validate(const std::string& path) const {
  if (!std::isfinite(min_speed) || min_speed < 0 || min_speed > 1) {
    return fail(ErrorCode::kInvalidArgument, path + ".min_speed: must be between 0 and 1");
  }
  if (!std::isfinite(min_speed_px) || min_speed_px < 0) {
    return fail(ErrorCode::kInvalidArgument, path + ".min_speed_px: must be >= 0");
  }
  return {};
}

const char* to_string(Motion m) {
  switch (m) {
    case Motion::kStill: return "still";
    case Motion::kLeft: return "left";
    case Motion::kRight: return "right";
    case Motion::kUp: return "up";
    case Motion::kDown: return "down";
  }
  return "still";
}

std::string plural_of(const std::string& name) {
  const auto space = name.find_last_of(' ');
  if (space == std::string::npos) return plural_of_word(name);
  return name.substr(0, space + 1) + plural_of_word(name.substr(space + 1));
}

std::string count_phrase(int n, const std::string& name) {
  return std::to_string(n) + " " + (n == 1 ? name : plural_of(name));
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  const auto s = static_cast<long long>(std::floor(seconds));
  if (s < 60) return std::to_string(s) + " s";
  if (s < 3600) return std::to_string(s / 60) + " min";
  const long long h = s / 3600;
  const long long m = (s % 3600) / 60;
  return std::to_string(h) + " h" + (m ? " " + std::to_string(m) + " min" : std::string());
}

Motion motion_of(const Track& track, int frame_w, int frame_h, const TemplateCaptionerOptions& options) {
  const double threshold = (frame_w > 0 && frame_h > 0) ? options.min_speed * std::max(frame_w, frame_h)
                                                         : options.min_speed_px;
  const double vx = track.vx;
  const double vy = track.vy;
  if (!std::isfinite(vx) || !std::isfinite(vy) || std::hypot(vx, vy) <= threshold) return Motion::kStill;
  if (std::fabs(vx) >= std::fabs(vy)) return vx < 0 ? Motion::kLeft : Motion::kRight;
  return vy < 0 ? Motion::kUp : Motion::kDown;
}

namespace {

// motion_phrase for a group of `group_size` objects of which `motions` are
// known (group_size may exceed motions.size() when occupancy counts tracks
// that are not confirmed right now).
std::string motion_phrase_of_group(const std::vector<Motion>& motions, std::size_t group_size) {
  std::map<Motion, int> counts;
  for (const Motion m : motions) ++counts[m];
  const int still = counts[Motion::kStill];
  const int moving = static_cast<int>(motions.size()) - still;
  if (moving == 0) return {};
  std::vector<std::pair<int, Motion>> dirs;  // (count, direction), kDirections order within equal counts
  for (const Motion d : kDirections) {
    if (counts[d] > 0) dirs.emplace_back(counts[d], d);
  }
  std::stable_sort(dirs.begin(), dirs.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  if (dirs.size() == 1 && still == 0 && motions.size() == group_size) {
    const std::string dir = to_string(dirs.front().second);
    return group_size == 1 ? " moving " + dir : ", all moving " + dir;
  }
  std::vector<std::string> parts;
  for (const auto& [n, d] : dirs) parts.push_back(std::to_string(n) + " moving " + to_string(d));
  if (still > 0) parts.push_back(std::to_string(still) + " still");
  return ", " + join(parts, ", ");
}

}  // namespace

std::string motion_phrase(const std::vector<Motion>& motions) {
  return motion_phrase_of_group(motions, motions.size());
}

namespace {

struct ZoneEntry {
  std::string name;
  int total = 0;
  std::vector<std::pair<std::string, int>> classes;  // count desc, then name
};

// The zones with someone inside, fullest first; their classes most numerous first.
std::vector<ZoneEntry> occupied_zones(const CaptionScene& scene) {
  std::vector<ZoneEntry> zones;
  for (const auto& [zone, by_class] : scene.occupancy) {
    ZoneEntry z{zone, 0, {}};
    for (const auto& [cls, n] : by_class) {
      if (n <= 0) continue;
      z.total += n;
      z.classes.emplace_back(cls, n);
    }
    if (z.total == 0) continue;
    std::stable_sort(z.classes.begin(), z.classes.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    zones.push_back(std::move(z));
  }
  std::stable_sort(zones.begin(), zones.end(), [](const auto& a, const auto& b) { return a.total > b.total; });
  return zones;
}

// What describe() works from: the confirmed tracks and each one's motion.
struct SceneTracks {
  const CaptionScene& scene;
  std::vector<const Track*> confirmed;
  std::map<std::int64_t, Motion> motion;  // track id -> motion

  const std::vector<std::string>* zones_of(const Track& t) const {
    const auto it = scene.track_zones.find(t.id);
    return it == scene.track_zones.end() ? nullptr : &it->second;
  }
  std::string class_of(const Track& t) const { return class_name_of(scene, t.class_id); }
};

// No zones: "2 persons moving left, 1 car".
void add_class_clauses(const SceneTracks& st, std::vector<std::string>& clauses) {
  std::map<std::string, std::vector<Motion>> by_class;
  for (const Track* t : st.confirmed) by_class[st.class_of(*t)].push_back(st.motion.at(t->id));
  for (const auto& [cls, motions] : sorted_groups(by_class))
    clauses.push_back(count_phrase(static_cast<int>(motions.size()), cls) + motion_phrase(motions));
}

// One zone's class: "2 persons in 'door' for up to 5 s, all moving left".
std::string zone_clause(const SceneTracks& st, const ZoneEntry& z, const std::string& cls, int n) {
  std::string clause = count_phrase(n, cls) + " in '" + z.name + "'";
  if (const auto zd = st.scene.zone_dwell_max_s.find(z.name); zd != st.scene.zone_dwell_max_s.end()) {
    if (const auto cd = zd->second.find(cls); cd != zd->second.end() && cd->second >= 1.0)
      clause += (n == 1 ? " for " : " for up to ") + format_duration(cd->second);
  }
  if (st.scene.track_zones.empty()) return clause;
  std::vector<Motion> motions;
  for (const Track* t : st.confirmed) {
    const auto* in = st.zones_of(*t);
    if (in && st.class_of(*t) == cls && std::find(in->begin(), in->end(), z.name) != in->end())
      motions.push_back(st.motion.at(t->id));
  }
  return clause + motion_phrase_of_group(motions, static_cast<std::size_t>(n));
}

// Tracks in no zone ("1 car elsewhere"), or without per-track zones the
// moving ones by class and direction.
void add_outside_clauses(const SceneTracks& st, std::vector<std::string>& clauses) {
  if (!st.scene.track_zones.empty()) {
    std::map<std::string, std::vector<Motion>> elsewhere;
    for (const Track* t : st.confirmed) {
      const auto* in = st.zones_of(*t);
      if (!in || in->empty()) elsewhere[st.class_of(*t)].push_back(st.motion.at(t->id));
    }
    for (const auto& [cls, motions] : sorted_groups(elsewhere))
      clauses.push_back(count_phrase(static_cast<int>(motions.size()), cls) + " elsewhere" + motion_phrase(motions));
    return;
  }
  std::map<std::pair<std::string, Motion>, int> moving;  // (class, direction) -> tracks
  for (const Track* t : st.confirmed) {
    const Motion m = st.motion.at(t->id);
    if (m != Motion::kStill) ++moving[{st.class_of(*t), m}];
  }
  std::vector<std::pair<std::pair<std::string, Motion>, int>> sorted(moving.begin(), moving.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  for (const auto& [key, n] : sorted) clauses.push_back(count_phrase(n, key.first) + " moving " + to_string(key.second));
}

// "3 in/1 out across 'gate'", busiest line first.
void add_line_clauses(const CaptionScene& scene, std::vector<std::string>& clauses) {
  std::vector<std::tuple<std::string, std::int64_t, std::int64_t>> lines;
  for (const auto& [line, counts] : scene.line_counts) {
    if (counts.first + counts.second > 0) lines.emplace_back(line, counts.first, counts.second);
  }
  std::stable_sort(lines.begin(), lines.end(), [](const auto& a, const auto& b) {
    return std::get<1>(a) + std::get<2>(a) > std::get<1>(b) + std::get<2>(b);
  });
  for (const auto& [line, in, out] : lines)
    clauses.push_back(std::to_string(in) + " in/" + std::to_string(out) + " out across '" + line + "'");
}

}  // namespace

std::string TemplateCaptioner::describe(const CaptionScene& scene) const {
  SceneTracks st{scene, {}, {}};
  for (const Track& t : scene.tracks) {
    if (t.state != TrackState::kConfirmed) continue;
    st.confirmed.push_back(&t);
    st.motion[t.id] = motion_of(t, scene.frame_w, scene.frame_h, options_);
  }
  std::vector<std::string> clauses;
  const std::vector<ZoneEntry> zones = occupied_zones(scene);
  if (zones.empty()) {
    add_class_clauses(st, clauses);
  } else {
    for (const ZoneEntry& z : zones)
      for (const auto& [cls, n] : z.classes) clauses.push_back(zone_clause(st, z, cls, n));
    add_outside_clauses(st, clauses);
  }
  if (clauses.empty()) clauses.emplace_back("No objects");
  add_line_clauses(scene, clauses);
  std::string text = join(clauses, "; ");
  if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') text[0] = static_cast<char>(text[0] - 'a' + 'A');
  return text + ".";
}

Result<Caption> TemplateCaptioner::caption(const CaptionScene& scene) {
  const auto t0 = std::chrono::steady_clock::now();
  Caption c;
  c.text = describe(scene);
  c.captioner = name();
  c.latency_ms = elapsed_ms(t0);
  return c;
}

Result<Caption> TemplateCaptioner::summarize(const std::vector<std::string>& captions) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> order;  // distinct captions in order of first appearance
  std::map<std::string, int> counts;
  int total = 0;
  for (const std::string& raw : captions) {
    std::string c = trim(raw);
    while (!c.empty() && c.back() == '.') c.pop_back();
    if (c.empty()) continue;
    ++total;
    if (counts[c]++ == 0) order.push_back(c);
  }
  Caption out;
  out.captioner = name();
  if (total == 0) {
    out.text = "No captions.";
  } else {
    std::stable_sort(order.begin(), order.end(), [&](const auto& a, const auto& b) { return counts[a] > counts[b]; });
    std::vector<std::string> parts;
    for (std::size_t i = 0; i < order.size() && i < 3; ++i) {
      parts.push_back("\"" + order[i] + "\" (x" + std::to_string(counts[order[i]]) + ")");
    }
    out.text = std::to_string(total) + (total == 1 ? " caption" : " captions") + "; most frequent: " +
               join(parts, ", ") + ".";
  }
  out.latency_ms = elapsed_ms(t0);
  return out;
}

}  // namespace vigil
