// StreamPipeline: one stream's capture thread and stream loop.
//
// capture thread (StreamCapture) -> LatestSlot -> stream loop, per frame:
//   apply analysis results that came back (tracker update, zone/line events);
//   every Nth frame that passes the similarity gate: convert (full frame or
//   substream) and submit to the BatchScheduler (live: replaces the stream's
//   pending request; offline: blocks);
//   predict tracks to this frame's time; hand the frame to observers.
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
#include "pipeline/batch_scheduler.h"
#include "pipeline/event_bus.h"
#include "pipeline/stream_capture.h"

namespace vigil {

class AnalysisState;
struct AnalysisUpdate;

// Engine services a stream uses; they outlive every stream.
struct StreamContext {
  BatchScheduler& scheduler;
  EventBus& events;
  StageMetrics& metrics;
  LatencyWindow& analysis_latency;  // capture -> result applied, ms, all streams
  const ModelInfo& model;
  bool offline = false;
  class CaptionService* captions = nullptr;  // null: no captions
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
  std::map<std::string, std::uint64_t> drops;  // reason -> count
  std::uint64_t frames = 0, analysed = 0, submitted = 0;
  std::size_t queue_depth = 0;  // analysis results waiting to be applied
  std::size_t tracks = 0;
  std::string caption;       // the latest caption ("" if none yet)
  double caption_pts = 0;    // its media time
  double activity = 0;
  std::map<std::string, std::map<std::string, int>> occupancy;
  std::map<std::string, std::map<std::string, std::int64_t>> line_counts;  // line -> {in, out}
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

  void set_every_effective(int every) { every_effective_.store(std::max(1, every)); }
  int every_effective() const { return every_effective_.load(); }
  double activity() const { return activity_.load(); }
  double source_fps() const;
  StreamSnapshot snapshot() const;

  int add_observer(FrameObserver fn);
  void remove_observer(int id);

 private:
  StreamPipeline(StreamConfig config, StreamContext& ctx, std::unique_ptr<AnalysisState> analysis);
  void loop();
  void on_result(BatchResult&& r);
  // Applies the results in the inbox; `applied` becomes true when at least one was.
  std::vector<Event> apply_results(bool& applied);
  void maybe_caption(const BatchResult& r, const AnalysisUpdate& u);
  void publish(const Event& e);
  void count_drop(const std::string& reason, std::uint64_t n = 1);

  const StreamConfig config_;
  StreamContext& ctx_;
  LatestSlot<CapturedFrame> slot_;
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
  int client_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  std::atomic<int> every_effective_;
  std::atomic<double> activity_{0};
  std::atomic<double> last_pts_{0};

  mutable std::mutex mu_;  // guards everything below
  std::deque<BatchResult> inbox_;
  std::map<std::string, std::uint64_t> drops_;
  std::map<int, FrameObserver> observers_;
  int next_observer_ = 1;
  std::uint64_t frames_ = 0, analysed_ = 0, submitted_ = 0;
  std::size_t tracks_ = 0;
  std::map<std::string, std::map<std::string, int>> occupancy_;
  std::map<std::string, std::map<std::string, std::int64_t>> line_counts_;
  RateMeter display_rate_, analysed_rate_;
};

}  // namespace vigil
