// Captioner: turns what one stream shows at one moment into one short
// sentence (a caption), and a list of captions into a summary.
//
// In: a CaptionScene, a value snapshot the caller assembles from the stream's
// tracker, zone/line analytics and (for a VLM) the frame itself. Out: a
// Caption (text, how long it took, which captioner) or an Error naming the
// stream/endpoint and the problem.
//
// Implementations: TemplateCaptioner (deterministic, from tracks; instant)
// and VlmCaptioner (a blocking HTTP request to an OpenAI-compatible
// vision-language model). A captioner call may block for up to its timeout,
// so live code never calls it on a video or detection thread: CaptionScheduler
// runs it on its own worker. Each implementation states which threads may
// call it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/image.h"
#include "core/track.h"

namespace vigil {

// Everything a captioner may use, for one stream at one moment. Owned by value
// (cheap apart from the tracks; the image is shared, immutable).
struct CaptionScene {
  std::string stream;           // stream id, used in error messages
  double pts = 0;               // media time of the moment, seconds
  int frame_w = 0, frame_h = 0;  // source frame size the boxes and velocities refer to
  // Tracks at that moment (core/track.h): box in frame pixels, vx/vy in
  // pixels per second, first_seen, class_id. Only kConfirmed tracks are used.
  std::vector<Track> tracks;
  std::vector<std::string> class_names;  // [class_id] -> model class name ("person")
  // zone name -> class name -> tracks inside (AnalyticsEvaluator::occupancy()).
  std::map<std::string, std::map<std::string, int>> occupancy;
  // Optional: zone name -> class name -> longest current stay in the zone, seconds.
  std::map<std::string, std::map<std::string, double>> zone_dwell_max_s;
  // Optional: track id -> names of the zones its anchor is in. Lets the
  // template captioner say how the tracks IN a zone move; without it the
  // motion is reported per class, apart from the zones.
  std::map<std::int64_t, std::vector<std::string>> track_zones;
  // line name -> {in, out} crossings since the stream started.
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> line_counts;
  // The frame (BGR, RGB or gray). Required by VlmCaptioner; ignored by the
  // template captioner (may be null there).
  std::shared_ptr<const Image> image;
};

struct Caption {
  std::string text;         // one sentence, trimmed
  double latency_ms = 0;    // wall time of the caption()/summarize() call
  std::string captioner;    // Captioner::name(): "template" | "vlm"
};

class Captioner {
 public:
  virtual ~Captioner() = default;

  // One sentence for `scene`. Errors name the stream (and for a VLM the endpoint).
  virtual Result<Caption> caption(const CaptionScene& scene) = 0;

  // One short summary of `captions` (in time order; callers may prefix each
  // with its time, e.g. "[00:01:30] 2 people in 'door'"). Used once at the end
  // of an offline analysis.
  virtual Result<Caption> summarize(const std::vector<std::string>& captions) = 0;

  // "template" | "vlm": the `captioner` of the captions it makes.
  virtual const char* name() const = 0;

  // Whether summarize() wants each caption prefixed with its time (a VLM
  // reads the times; the template counts identical captions, which a time
  // prefix would make all different).
  virtual bool timed_summary() const = 0;

  // Shutdown: makes a call in progress on another thread, and every later
  // call, return promptly with an error. Irreversible; used by
  // CaptionScheduler when it stops. Safe to call from any thread. (Captioners
  // whose calls are instant implement it as a no-op.)
  virtual void cancel() = 0;
};

}  // namespace vigil
