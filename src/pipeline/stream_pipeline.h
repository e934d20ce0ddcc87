// StreamPipeline: one stream's capture thread and stream loop.
//
// capture thread (StreamCapture) -> LatestSlot -> stream loop, per frame:
//   apply_results: analysis results that came back go through the analysis
//     stage (analyse(), pipeline/analysis_stage.h: tracker, zone/line events),
//     their events to the EventBus, captions when due;
//   passes_gate + submit: every Nth frame that passes the similarity gate is
//     converted (full frame or substream) and submitted to the BatchScheduler
//     (live: replaces the stream's pending request; offline: blocks);
//   notify_observers: tracks predicted to this frame's time, the events since
//     the previous frame and the latest AnalyticsSnapshot go to observers.
// The loop never waits for analysis in live mode, so display runs at the
// source rate; analysis runs beside it.
//
// Threads: the stream loop and the capture thread are owned here; every
// public method may be called from any thread. Observers run on the stream
// loop thread and must return quickly.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/engine_config.h"
#include "core/event.h"
#include "core/track.h"
#include "inference/model_info.h"
#include "media/latest_slot.h"
#include "metrics/latency_window.h"
#include "metrics/rate_meter.h"
#include "metrics/stage_metrics.h"
#include "pipeline/analysis_stage.h"
#include "pipeline/batch_scheduler.h"
#include "pipeline/event_bus.h"
#include "pipeline/motion_regions.h"
#include "pipeline/stream_capture.h"

namespace vigil {

class SimilarityGate;

// Why a frame was not analysed (or not shown). to_string gives the names
// the stats and metrics use.
enum class DropReason {
  kGate,                // the similarity gate found the scene unchanged
  kAnalysisReplaced,    // live: a newer frame replaced it in the scheduler
  kInferenceError,      // the detector failed on it
  kConvertError,        // it could not be converted for the detector
  kCaptureOverwritten,  // live: the capture thread replaced it before the loop took it
  kCaptureBehind,       // live: part of a burst above the source rate (LiveRateGate)
  kNoMotion,            // motion regions: nothing moved and nothing was tracked
};
const char* to_string(DropReason reason);  // "gate", "analysis_replaced", ...
using DropCounts = std::map<DropReason, std::uint64_t>;
// reason name -> count, the JSON shape of the stats' "drops".
std::map<std::string, std::uint64_t> drop_names(const DropCounts& drops);

// The stream's analysis figures after its latest applied result. Immutable
// once published: every FrameResult until the next result shares it.
struct AnalyticsSnapshot {
  std::size_t tracks = 0;      // confirmed tracks
  std::uint64_t analysed = 0;  // results applied since the stream started
  Occupancy occupancy;         // zone -> class -> tracks inside
  LineTotals line_counts;      // line -> {"in", "out"}
};

// Engine services a stream uses; they outlive every stream.
struct StreamContext {
  BatchScheduler& scheduler;
  EventBus& events;
  StageMetrics& metrics;
  LatencyWindow& analysis_latency;  // capture -> result applied, ms, all streams
  const ModelInfo& model;
  bool offline = false;
  class CaptionService* captions = nullptr;  // null: no captions
  // FFmpeg threads for a stream whose decode_threads is 0 (the engine's CPU
  // budget; read when a pipeline is made, under the engine's stream lock).
  int auto_decode_threads = 1;
  class Recorder* recorder = nullptr;  // null: no snapshots or clips (record/recorder.h)
};

// Motion regions of the latest analysis candidate (motion.enabled): immutable
// once published, shared by every FrameResult until the next candidate.
struct MotionView {
  std::vector<Box> boxes;    // motion boxes, full-frame pixels
  std::vector<Box> regions;  // the crops analysed (decision kCrops), full-frame pixels
  RegionDecision decision = RegionDecision::kFull;
};

// Requests by what the detector saw (motion regions); skipped frames are drops (kNoMotion).
struct RegionCounts {
  std::uint64_t full = 0;   // whole frames submitted
  std::uint64_t crops = 0;  // frames submitted as crops
  std::uint64_t crop_images = 0;  // crops in those frames
};

// What observers (the web server) get for every displayed frame.
struct FrameResult {
  std::string stream;
  std::int64_t seq = 0;
  double pts = 0;
  std::shared_ptr<const VideoFrame> frame;
  std::vector<Track> tracks;  // confirmed tracks predicted to this frame's time
  std::vector<Event> events;  // events produced since the previous displayed frame
  bool analysed = false;      // an analysis result was applied on this frame
  std::shared_ptr<const AnalyticsSnapshot> analytics;  // the latest figures; never null
  double display_fps = 0;     // frames through the stream loop per second
  std::shared_ptr<const MotionView> motion;  // null unless motion.enabled
};
using FrameObserver = std::function<void(const FrameResult&)>;

struct StreamSnapshot {
  std::string id;
  std::string url;
  bool up = false;
  bool ended = false;
  int width = 0, height = 0;
  double source_fps = 0;    // nominal rate of the source
  double capture_fps = 0;   // frames decoded per second
  double display_fps = 0;   // frames through the stream loop per second
  double analysed_fps = 0;  // analysis results applied per second
  int every = 1;            // configured
  int every_effective = 1;  // after adaptive control
  DropCounts drops;
  std::uint64_t frames = 0, analysed = 0, submitted = 0;
  std::uint64_t detections = 0;  // detections in the analysis results applied (/api/stats total_detections)
  RegionCounts regions;  // submitted requests: whole frames vs crops
  std::size_t queue_depth = 0;  // analysis results waiting to be applied
  std::size_t tracks = 0;
  std::string caption;       // the latest caption ("" if none yet)
  double caption_pts = 0;    // its media time
  double activity = 0;
  Occupancy occupancy;
  LineTotals line_counts;  // line -> {in, out}
  std::map<EventKind, std::uint64_t> events;  // events published by this stream, by kind (kinds that occurred)
  std::uint64_t reconnects = 0;  // the capture reopened its source after a failure
  std::string last_error;
};

class StreamPipeline {
 public:
  // Validates the stream (errors name "streams[...]" fields) and builds it; nothing runs yet.
  // stream_number: distinct per stream of the engine (track ids start at
  // stream_number x TrackIdAllocator::kStreamIdSpan + 1).
  static Result<std::unique_ptr<StreamPipeline>> create(StreamConfig config, StreamContext& ctx,
                                                        std::int64_t stream_number);
  ~StreamPipeline();  // stops
  StreamPipeline(const StreamPipeline&) = delete;
  StreamPipeline& operator=(const StreamPipeline&) = delete;

  void start();
  void stop();
  // Offline: true once the input ended and every result was applied.
  bool finished() const { return finished_.load(); }
  const StreamConfig& config() const { return config_; }
  // The engine's stage timings: the server's live video adds its overlay and encode times.
  StageMetrics& stage_metrics() { return ctx_.metrics; }

  void set_every_effective(int every) { every_effective_.store(std::max(1, every)); }
  int every_effective() const { return every_effective_.load(); }
  double activity() const { return activity_.load(); }
  double source_fps() const;
  StreamSnapshot snapshot() const;

  int add_observer(FrameObserver fn);
  void remove_observer(int id);

 private:
  StreamPipeline(StreamConfig config, StreamContext& ctx, std::unique_ptr<AnalysisState> analysis);
  struct LoopState;
  // The stream loop and its steps (loop thread).
  void loop();
  void count_frame(const CapturedFrame& cf);
  bool passes_gate(const VideoFrame& vf, LoopState& st);
  // Motion regions: what to analyse of this candidate (kFull when motion is off).
  RegionPlan plan_regions_for(const CapturedFrame& cf, LoopState& st);
  // Converts (and crops, per `plan`) and submits; false when the offline scheduler stopped.
  bool submit(const CapturedFrame& cf, LoopState& st, const RegionPlan& plan);
  void update_activity(const SimilarityGate& gate);
  void notify_observers(const CapturedFrame& cf, LoopState& st);
  // Offline, at the end of the input: waits for and applies the last results.
  void apply_remaining();
  // Applies the results in the inbox; `applied` becomes true when at least one was.
  std::vector<Event> apply_results(bool& applied);
  // The scene difference recorded when `seq` was submitted (0 if none); forgets older ones.
  double take_scene_diff(std::int64_t seq);
  void caption(const BatchResult& r, const AnalysisUpdate& u);

  void on_result(BatchResult&& r);  // scheduler worker thread
  // Gives `e` its id; with the result and update of the frame it happened on,
  // the stream's recording gives it its snapshot and clip first.
  void publish(const Event& e, const BatchResult* r = nullptr, const AnalysisUpdate* u = nullptr);
  void count_drop(DropReason reason, std::uint64_t n = 1);

  // How long the loop waits for a frame before it looks at the inbox again.
  static constexpr auto kFrameWait = std::chrono::milliseconds(50);

  const StreamConfig config_;
  StreamContext& ctx_;
  LatestSlot<CapturedFrame> slot_;
  std::shared_ptr<class StreamRecording> recording_;  // null: the stream records nothing
  std::unique_ptr<StreamCapture> capture_;
  std::unique_ptr<AnalysisState> analysis_;  // tracker + analytics: the loop thread only
  // Captions: when (loop thread) and where (a shared scheduler, may be null).
  std::unique_ptr<class CaptionTrigger> caption_trigger_;
  std::shared_ptr<class CaptionScheduler> captions_;
  struct CaptionBox {  // the latest caption; shared with caption callbacks, which may outlive the stream
    std::mutex mu;
    std::string text;
    double pts = 0;
  };
  std::shared_ptr<CaptionBox> caption_box_ = std::make_shared<CaptionBox>();
  struct EventTally {  // events published, by kind; shared with caption callbacks like the box
    std::mutex mu;
    std::map<EventKind, std::uint64_t> by_kind;
    void count(EventKind kind) {
      std::lock_guard lock(mu);
      ++by_kind[kind];
    }
  };
  std::shared_ptr<EventTally> event_tally_ = std::make_shared<EventTally>();
  // Events this stream published: the n of their ids ("<stream>-<n>").
  std::shared_ptr<std::atomic<std::uint64_t>> event_count_ = std::make_shared<std::atomic<std::uint64_t>>(0);
  // Captions count apart ("<stream>-caption-<n>"): they are published from
  // the scheduler's worker, so sharing the stream's counter would make ids
  // depend on thread timing. Shared with the callbacks, which may outlive
  // the stream.
  std::shared_ptr<std::atomic<std::uint64_t>> caption_count_ = std::make_shared<std::atomic<std::uint64_t>>(0);
  int client_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  std::atomic<int> every_effective_;
  std::atomic<double> activity_{0};
  std::atomic<double> last_pts_{0};
  std::atomic<std::uint64_t> detections_{0};
  // Captions: seq -> scene difference of submitted requests not answered yet (loop thread).
  std::map<std::int64_t, double> scene_diffs_;

  mutable std::mutex mu_;  // guards everything below
  std::deque<BatchResult> inbox_;
  DropCounts drops_;
  std::map<int, FrameObserver> observers_;
  int next_observer_ = 1;
  std::uint64_t frames_ = 0, submitted_ = 0;
  RegionCounts regions_;
  std::shared_ptr<const AnalyticsSnapshot> analytics_ = std::make_shared<const AnalyticsSnapshot>();
  RateMeter display_rate_, analysed_rate_;
};

}  // namespace vigil
