// When to caption, and captioning off the caller's thread.
//
// CaptionTrigger (one per stream, owned by that stream's loop; no threads, not
// thread-safe): decides from frame numbers, media time and a scene-change
// score whether the stream wants a caption now.
//
// CaptionScheduler (one per captioner, shared by the streams that use it):
// a bounded queue (queue_max requests, counting the one in flight; overflow
// policy: REJECT the new request, counted as `skipped`) and one worker thread
// that runs Captioner::caption() and then the request's callback.
// - submit() never waits for a caption: it takes a mutex held only for queue
//   bookkeeping and returns at once. Safe from any thread.
// - The callback runs on the worker thread, after the stats are updated, with
//   the result and the scene it was asked for; it must not block for long
//   (it delays the next caption) and must not call back into the scheduler's
//   destructor. An exception escaping it is caught and counted in
//   callback_errors.
// - stop() / the destructor: rejects new requests, drops queued requests that
//   have not started (no callback), cancels the captioner (Captioner::cancel:
//   a VLM request in progress ends within about a second) and joins the
//   worker: when it returns no callback runs and none will start. A request
//   cancelled this way is not counted. The captioner is unusable afterwards,
//   so give each scheduler its own captioner. Never call stop() from a callback.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/error.h"
#include "describe/captioner.h"
#include "metrics/latency_summary.h"
#include "metrics/latency_window.h"

namespace vigil {

struct CaptionTriggerOptions {
  // Caption every this many frames (frame numbers of the stream), 0 = off.
  int every_frames = 0;
  // Caption every this many seconds of media time, 0 = off.
  double every_s = 0;
  // Caption when scene_diff > scene_threshold (a scene change).
  bool on_scene_change = false;
  // scene_diff above which a frame is a scene change, 0..1 (scene_diff is
  // e.g. 1 - SimilarityGate similarity against the last captioned frame).
  double scene_threshold = 0.3;
  // A scene change triggers at most once per this many seconds of media time
  // (a long pan would otherwise ask for a caption on every frame); >= 0.
  double scene_min_interval_s = 1.0;

  bool enabled() const { return every_frames > 0 || every_s > 0 || on_scene_change; }
  // `path` names this section in the config, e.g. "describe" or "streams[1].describe".
  Result<void> validate(const std::string& path) const;
};

class CaptionTrigger {
 public:
  explicit CaptionTrigger(CaptionTriggerOptions options = {}) : options_(options) {}

  // Called for each candidate frame (typically each analysed frame), in order.
  // true when any enabled rule fires; the intervals of every rule then restart
  // from this frame (they measure time since the last caption of any cause).
  // The first candidate is due when every_frames or every_s is on (with only
  // on_scene_change: when it is a scene change). A candidate before the last
  // caption (frame number or pts going back: a looped file, a reconnect) is
  // treated as a first one again. Never due when all rules are off.
  bool due(std::int64_t frame_no, double pts, double scene_diff);

  // Forget the last caption: the next candidate is due (as the first one).
  void reset() { has_last_ = false; }
  const CaptionTriggerOptions& options() const { return options_; }

 private:
  CaptionTriggerOptions options_;
  bool has_last_ = false;
  std::int64_t last_frame_ = 0;
  double last_pts_ = 0;
};

struct CaptionSchedulerOptions {
  // Requests queued or in flight at most; a request beyond that is skipped. >= 1.
  int queue_max = 2;
  Result<void> validate(const std::string& path) const;
};

struct CaptionStats {
  std::uint64_t requests = 0;         // accepted by submit()
  std::uint64_t done = 0;             // finished with a caption
  std::uint64_t errors = 0;           // finished with an error
  std::uint64_t skipped = 0;          // rejected by submit() because the queue was full (or stopped)
  std::uint64_t callback_errors = 0;  // callbacks that threw
  int pending = 0;                    // queued + in flight now
  LatencySummary latency;             // ms, of the recent successful captions (Caption::latency_ms)
  std::string last_error;             // message of the latest error, "" if none
};

class CaptionScheduler {
 public:
  using Callback = std::function<void(Result<Caption>, const CaptionScene&)>;

  // Starts the worker. `captioner` must not be null; see the header comment on its lifetime.
  CaptionScheduler(std::shared_ptr<Captioner> captioner, CaptionSchedulerOptions options = {});
  ~CaptionScheduler();
  CaptionScheduler(const CaptionScheduler&) = delete;
  CaptionScheduler& operator=(const CaptionScheduler&) = delete;

  // Queues `scene` for captioning; `done` is called on the worker thread when
  // it is captioned. false (counted as skipped, `done` never called) when
  // queue_max requests are already queued or in flight, or after stop().
  bool submit(CaptionScene scene, Callback done);

  CaptionStats stats() const;
  // Every successful caption's latency since start (for Prometheus histograms).
  const LatencyWindow& latency() const { return latency_; }
  const Captioner& captioner() const { return *captioner_; }

  // See the header comment. Idempotent; the destructor calls it.
  void stop();

 private:
  struct Job {
    CaptionScene scene;
    Callback done;
  };
  void run();

  std::shared_ptr<Captioner> captioner_;
  CaptionSchedulerOptions options_;
  LatencyWindow latency_{512};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;  // guarded by mu_
  bool in_flight_ = false;  // guarded by mu_
  bool stopping_ = false;   // guarded by mu_
  CaptionStats counts_;     // guarded by mu_ (latency filled in by stats())
  std::mutex join_mu_;      // serialises stop() callers around the join
  std::thread worker_;      // last: started once everything above exists
};

}  // namespace vigil
