// TemplateCaptioner: the default captioner. One deterministic sentence from a
// scene's tracks, zone occupancy, dwell, line counts and motion, e.g.
//   "3 people in 'entrance', 1 moving left, 2 still; 1 car in 'lot' for 2 min; 12 in/3 out across 'door'."
// No image, no I/O, no threads: the same scene always gives the same text.
//
// Rules (the sentence is a list of clauses joined by "; ", first letter
// upper-cased, ending with "."):
// - Objects are the scene's kConfirmed tracks; a class is named by
//   class_names[class_id] ("class N" when the id has no name) and counted with
//   count_phrase(): "1 person", "3 people", "2 buses", "2 sheep".
// - Motion of a track: still when its speed hypot(vx, vy) is below
//   min_speed x the frame's longer side per second (min_speed_px when the frame
//   size is unknown); otherwise left/right/up/down by its dominant axis
//   (image y grows downwards: vy < 0 is "up"; a tie goes to left/right).
// - Motion of a group of N tracks (motion_phrase()): nothing when all are
//   still; " moving left" when N = 1; ", all moving left" when all N move the
//   same way; otherwise ", K moving DIR" per direction (count desc, then
//   left, right, up, down) followed by ", K still" when some are still.
// - No zone occupied (no zones, or all empty): one clause per class, e.g.
//   "3 people, 1 moving left, 2 still", classes by count desc then name.
// - Some zone occupied: one clause per (zone, class) with a count > 0, zones
//   by their total desc then name, classes within a zone by count desc then
//   name: "<count> in '<zone>'", then the longest stay from
//   zone_dwell_max_s when it is >= 1 s (" for 40 s" with 1 object, " for up
//   to 2 min" with more; format_duration()), then the motion of the tracks
//   that track_zones places in that zone with that class. With track_zones,
//   the tracks in no zone follow as "<count> elsewhere" clauses (by class,
//   with motion). Without track_zones, the moving tracks follow as one clause
//   per (class, direction): "1 person moving left" (count desc, then class
//   name, then direction).
// - Lines with at least one crossing: "<in> in/<out> out across '<line>'",
//   by total desc then name, after the objects.
// - Nothing confirmed and nothing occupied: "No objects" as the first clause.
//
// summarize(): "<N> captions; most frequent: "<a>" (x5), "<b>" (x3), "<c>" (x1)."
// (up to 3 distinct captions, a trailing "." removed, ties in order of first
// appearance); "No captions." for none.
//
// Thread-safety: caption() and summarize() are const in effect (no state) and
// safe from any thread.
#pragma once

#include <string>
#include <vector>

#include "core/track.h"
#include "describe/captioner.h"

namespace vigil {

struct TemplateCaptionerOptions {
  // A track moves when its speed exceeds this fraction of the frame's longer
  // side per second (0.02: 15 px/s in a 768x576 frame); 0..1.
  double min_speed = 0.02;
  // The same threshold in pixels per second, used when the frame size is unknown.
  double min_speed_px = 10;

  // `path` names this section in the config, e.g. "describe".
  Result<void> validate(const std::string& path) const;
};

enum class Motion { kStill, kLeft, kRight, kUp, kDown };

const char* to_string(Motion m);  // "still", "left", "right", "up", "down"

// Plural of an object name: person -> people, bus -> buses, knife -> knives,
// sheep -> sheep, wine glass -> wine glasses (the last word changes), others +s.
std::string plural_of(const std::string& name);

// "1 person", "3 people", "0 cars".
std::string count_phrase(int n, const std::string& name);

// Whole seconds or minutes, rounded down: 42.7 -> "42 s", 130 -> "2 min",
// 3900 -> "1 h 5 min", 7200 -> "2 h".
std::string format_duration(double seconds);

// The motion rule above for one track.
Motion motion_of(const Track& track, int frame_w, int frame_h, const TemplateCaptionerOptions& options);

// The group rule above; `motions` are the group's tracks (empty -> "").
std::string motion_phrase(const std::vector<Motion>& motions);

class TemplateCaptioner final : public Captioner {
 public:
  explicit TemplateCaptioner(TemplateCaptionerOptions options = {}) : options_(options) {}

  // The sentence only, without timing (pure).
  std::string describe(const CaptionScene& scene) const;

  Result<Caption> caption(const CaptionScene& scene) override;
  Result<Caption> summarize(const std::vector<std::string>& captions) override;
  const char* name() const override { return "template"; }
  bool timed_summary() const override { return false; }
  void cancel() override {}  // calls are instant: nothing to cancel

 private:
  TemplateCaptionerOptions options_;
};

}  // namespace vigil
