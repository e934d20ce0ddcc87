// Engine: owns the detector, the one BatchScheduler, the event bus and its
// sinks (JSON Lines, SQLite, MQTT, webhooks), every StreamPipeline, and a control thread that
// once a second adapts each stream's analysis interval to the measured
// inference capacity, samples CPU/RSS/GPU, and every stats_interval_s writes
// a one-screen report naming the bottleneck stage.
// Threads: every public method may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/engine_config.h"
#include "metrics/latency_window.h"
#include "metrics/stage_metrics.h"
#include "pipeline/batch_scheduler.h"
#include "pipeline/detector.h"
#include "pipeline/engine_stats.h"
#include "pipeline/event_bus.h"
#include "pipeline/stream_pipeline.h"

namespace vigil {

class EventOrderSpool;
class JsonlSink;
class MqttSink;
class WebhookSink;
class SqliteStore;
class Recorder;

// The engine's threads for `config` on `cores` usable cores: model.threads
// 0 -> auto_inference_threads(cores, workers), decoders of streams with
// decode_threads 0 -> auto_decode_threads(streams, cores); with
// config.cpu_budget false, what 0 and the defaults meant before (ONNX
// Runtime's default pool, 1 decoder thread). Pure.
CpuBudget cpu_budget_of(const EngineConfig& config, int cores);

class Engine {
 public:
  // Loads the model, opens the event sinks, validates and builds the streams.
  static Result<std::unique_ptr<Engine>> create(EngineConfig config);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  void start();
  void stop();  // idempotent; flushes the sinks

  // Each announces the change to the stream observers once it took effect.
  // A stream with `enabled: false` is kept (its config) but not run.
  Result<void> add_stream(StreamConfig config);
  Result<void> remove_stream(const std::string& id);
  // The stream of config.id (running or disabled) with this config: the new
  // pipeline is built first (an error leaves the old one untouched), then the
  // old one stops and the new one starts; announced once (kChanged).
  Result<void> replace_stream(StreamConfig config);

  // Stream observers (the server's video feeds): called after a stream was
  // added, removed or replaced (a PATCH, a SIGHUP change), on the thread
  // that changed it, outside the engine's stream lock. An observer must
  // return quickly and must not add or remove observers;
  // remove_stream_observer() waits for a call in progress.
  enum class StreamChange { kAdded, kRemoved, kChanged };
  using StreamObserver = std::function<void(StreamChange change, const std::string& id)>;
  int add_stream_observer(StreamObserver fn);
  void remove_stream_observer(int id);
  // The running streams (a disabled one has no pipeline: null, not listed).
  std::shared_ptr<StreamPipeline> stream(const std::string& id) const;
  std::vector<std::string> stream_ids() const;
  // Every stream's config, running and disabled, by id; one of them.
  std::vector<StreamConfig> stream_configs() const;
  std::optional<StreamConfig> stream_config(const std::string& id) const;
  // Offline: every stream's input ended and its results were applied.
  bool all_finished() const;

  EventBus& events() { return events_; }
  const ModelInfo& model() const { return detector_->info(); }
  const EngineConfig& config() const { return config_; }
  SqliteStore* store() { return sqlite_.get(); }
  Recorder* recorder() { return recorder_.get(); }

  // The engine's figures now: streams, stages, bottleneck, engine figures
  // (server/stats_json.h makes the --stats and /api/stats document of it).
  EngineStats stats() const;
  void reset_stats();

 private:
  explicit Engine(EngineConfig config);
  void announce(StreamChange change, const std::string& id);
  Result<void> start_recorder();  // when the config or a stream records
  void control_loop();
  void adapt_intervals();
  void publish_figures();  // streams' occupancy, line counts and state to the MQTT sink
  void forget_figures(const std::string& id);  // a stream removed or replaced: its MQTT topics cleared
  std::string report() const;

  EngineConfig config_;
  CpuBudget budget_;  // fixed at create()
  std::unique_ptr<Detector> detector_;
  StageMetrics metrics_;
  LatencyWindow analysis_latency_;
  std::unique_ptr<BatchScheduler> scheduler_;
  std::int64_t next_stream_number_ = 1;  // guarded by mu_
  EventBus events_;
  // Declared after the event bus (its callbacks publish there) and before the
  // sinks and streams: destroyed after the streams, before the bus.
  std::unique_ptr<class CaptionService> captions_;
  std::unique_ptr<JsonlSink> jsonl_;
  // Offline: the JSON Lines events wait here and reach jsonl_ in a
  // deterministic order at stop() (EventOrderSpool).
  std::unique_ptr<EventOrderSpool> ordered_events_;
  std::atomic<bool> ordered_finished_{false};  // finish() runs once, in the first stop()
  std::unique_ptr<SqliteStore> sqlite_;
  // Notification sinks (src/notify): their EventBus subscribers only enqueue;
  // the control thread hands the MQTT sink the streams' figures once a second.
  std::unique_ptr<MqttSink> mqtt_;
  std::mutex figures_mu_;  // publish_figures() and forget_figures() one at a time: no figure of a removed stream after
  std::vector<std::unique_ptr<WebhookSink>> webhooks_;
  // Snapshots and clips (null unless some stream records): after the SQLite
  // store (retention marks its rows), before the streams that record into it.
  std::unique_ptr<Recorder> recorder_;
  std::unique_ptr<StreamContext> ctx_;

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<StreamPipeline>> streams_;
  std::map<std::string, StreamConfig> disabled_;  // enabled: false (not run); ids distinct from streams_'
  bool running_ = false;

  std::mutex stream_observers_mu_;  // held while observers run; never taken under mu_
  std::map<int, StreamObserver> stream_observers_;
  int next_stream_observer_ = 1;

  std::unique_ptr<class IntervalController> interval_controller_;  // control thread only
  std::thread control_;
  std::atomic<bool> stop_{false};
  std::mutex control_mu_;
  std::condition_variable control_cv_;

  // Sampled by the control thread, read by stats().
  mutable std::mutex sample_mu_;
  double cpu_percent_ = 0;
  double ram_mb_ = 0;
  double inferences_per_sec_ = 0;
  double batches_per_sec_ = 0;
  std::array<double, kStageCount> stage_load_{};  // ms of stage work per second of wall time
  std::string bottleneck_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace vigil
