#include "pipeline/engine.h"

#include "pipeline/caption_service.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <spdlog/spdlog.h>

#include "analytics/interval_controller.h"
#include "metrics/gpu_stats.h"
#include "core/cpu_budget.h"
#include "metrics/system_stats.h"
#include "notify/mqtt_sink.h"
#include "notify/webhook_sink.h"
#include "record/recorder.h"
#include "store/jsonl_sink.h"
#include "store/sqlite_store.h"

namespace vigil {
namespace {

LatencySummary rounded(LatencySummary s) {
  for (double* v : {&s.avg, &s.p50, &s.p95, &s.p99, &s.max}) *v = round3(*v);
  return s;
}

StreamSnapshot rounded(StreamSnapshot s) {
  for (double* v : {&s.source_fps, &s.capture_fps, &s.display_fps, &s.analysed_fps, &s.caption_pts}) *v = round3(*v);
  return s;
}

// {"reason":count,...}, as the JSON of the drops map reads.
std::string drops_text(const std::map<std::string, std::uint64_t>& drops) {
  std::string out = "{";
  for (const auto& [reason, n] : drops) out += (out.size() > 1 ? ",\"" : "\"") + reason + "\":" + std::to_string(n);
  return out + "}";
}

}  // namespace

CpuBudget cpu_budget_of(const EngineConfig& config, int cores) {
  CpuBudget b;
  b.cores = cores;
  b.workers = config.workers;
  b.cpu_budget = config.cpu_budget;
  const int streams = static_cast<int>(
      std::count_if(config.streams.begin(), config.streams.end(), [](const StreamConfig& s) { return s.enabled; }));
  if (config.cpu_budget) {
    b.inference_threads = resolve_threads(config.model.threads, auto_inference_threads(cores, config.workers));
    b.decode_threads = auto_decode_threads(streams, cores);
  } else {
    b.inference_threads = config.model.threads;  // 0: ONNX Runtime's own default
    b.decode_threads = 1;                        // the fixed default before the budget
  }
  return b;
}

namespace {

void log_cpu_budget(const CpuBudget& b, const EngineConfig& config, const std::string& provider) {
  spdlog::info("cpu budget: {} usable cores, {} streams: decoders {} thread(s) each unless set, inference {} "
               "worker(s) x {} intra-op thread(s) on {}{}",
               b.cores, config.streams.size(), b.decode_threads, b.workers,
               b.inference_threads > 0 ? std::to_string(b.inference_threads) : std::string("ONNX Runtime's default"),
               provider,
               b.cpu_budget ? "" : " (VIGIL_CPU_BUDGET=off)");
}

}  // namespace

Engine::Engine(EngineConfig config)
    : config_(std::move(config)),
      captions_(std::make_unique<CaptionService>()),
      interval_controller_(std::make_unique<IntervalController>()) {}

Engine::~Engine() { stop(); }

Result<std::unique_ptr<Engine>> Engine::create(EngineConfig config) {
  if (auto v = validate_config(config); !v) return fail(v.error());
  auto e = std::unique_ptr<Engine>(new Engine(std::move(config)));
  e->budget_ = cpu_budget_of(e->config_, usable_cores());
  BackendOptions bo;
  bo.model_path = e->config_.model.path;
  bo.intra_threads = e->budget_.inference_threads;
  bo.arena = e->config_.model.arena;
  bo.trt_fp16 = e->config_.model.trt_fp16;
  bo.trt_int8 = e->config_.model.trt_int8;
  bo.trt_cache_dir = e->config_.model.trt_cache_dir;
  auto provider = parse_execution_provider(e->config_.model.device);
  if (!provider) return fail(ErrorCode::kInvalidArgument, "model.device: " + provider.error().message);
  bo.provider = *provider;
  auto det = Detector::create(bo, DetectorOptions{.rectangular = e->config_.model.rectangular});
  if (!det) return fail(det.error());
  e->detector_ = std::move(*det);

  BatchSchedulerOptions so;
  so.max_batch = e->config_.batch_max;
  so.wait_ms = e->config_.batch_wait_ms;
  so.workers = e->config_.workers;
  so.offline = e->config_.offline;
  so.test_delay_ms = e->config_.test_inference_delay_ms;
  e->scheduler_ = std::make_unique<BatchScheduler>(*e->detector_, so, e->metrics_);

  if (!e->config_.events.jsonl.empty()) {
    auto sink = JsonlSink::open(e->config_.events.jsonl);
    if (!sink) return fail(sink.error());
    e->jsonl_ = std::move(*sink);
    if (e->config_.offline) {
      // Streams publish from their own threads: order the log by media time
      // and stream, so that it does not depend on how the threads interleave.
      std::vector<std::string> order;
      for (const auto& st : e->config_.streams)
        if (st.enabled) order.push_back(st.id);
      e->ordered_events_ = std::make_unique<EventOrderSpool>(std::move(order));
      e->events_.subscribe([o = e->ordered_events_.get()](const Event& ev) { o->add(ev); });
    } else {
      e->events_.subscribe([j = e->jsonl_.get()](const Event& ev) { j->write(ev); });
    }
  }
  if (!e->config_.events.sqlite.empty()) {
    auto store = SqliteStore::open(e->config_.events.sqlite);
    if (!store) return fail(store.error());
    e->sqlite_ = std::move(*store);
    const bool offline = e->config_.offline;
    e->events_.subscribe([s = e->sqlite_.get(), offline](const Event& ev) {
      if (offline) {
        s->add_wait(ev);  // lossless
      } else {
        s->add(ev);  // a full queue drops (counted by the store)
      }
    });
  }
  if (e->config_.mqtt.enabled()) {
    auto mqtt = MqttSink::start(e->config_.mqtt);
    if (!mqtt) return fail(mqtt.error());
    e->mqtt_ = std::move(*mqtt);
    e->events_.subscribe([m = e->mqtt_.get()](const Event& ev) { m->add_event(ev); });
  }
  for (std::size_t i = 0; i < e->config_.webhooks.size(); ++i) {
    auto hook = WebhookSink::start(e->config_.webhooks[i]);
    if (!hook) return fail(hook.error().code, "webhooks[" + std::to_string(i) + "]: " + hook.error().message);
    e->events_.subscribe([h = hook->get()](const Event& ev) { h->add_event(ev); });
    e->webhooks_.push_back(std::move(*hook));
  }
  if (auto r = e->start_recorder(); !r) return fail(r.error());
  e->ctx_ = std::unique_ptr<StreamContext>(new StreamContext{*e->scheduler_, e->events_, e->metrics_,
                                                             e->analysis_latency_, e->detector_->info(),
                                                             e->config_.offline, e->captions_.get(),
                                                             e->budget_.decode_threads, e->recorder_.get()});
  log_cpu_budget(e->budget_, e->config_, e->detector_->backend().provider());
  for (std::size_t i = 0; i < e->config_.streams.size(); ++i) {
    if (!e->config_.streams[i].enabled) {
      spdlog::info("stream '{}' is disabled (enabled: false): not run", e->config_.streams[i].id);
      e->disabled_[e->config_.streams[i].id] = e->config_.streams[i];
      continue;
    }
    auto p = StreamPipeline::create(e->config_.streams[i], *e->ctx_, e->next_stream_number_++);
    if (!p) {
      std::string msg = p.error().message;
      const std::string key = "streams[" + e->config_.streams[i].id + "]";
      if (msg.rfind(key, 0) == 0) msg = "streams[" + std::to_string(i) + "]" + msg.substr(key.size());
      return fail(p.error().code, msg);
    }
    e->streams_[e->config_.streams[i].id] = std::shared_ptr<StreamPipeline>(std::move(*p));
  }
  return e;
}

Result<void> Engine::start_recorder() {
  bool records = config_.defaults.record.enabled();
  for (const auto& s : config_.streams) records = records || s.record.enabled();
  if (!records) return {};
  auto rec = Recorder::create(config_.record, [s = sqlite_.get()](const std::vector<std::string>& files) {
    if (!s) return;
    if (auto r = s->mark_expired(files); !r) spdlog::warn("recorder: marking expired events: {}", r.error().message);
  });
  if (!rec) return fail(rec.error());
  recorder_ = std::move(*rec);
  return {};
}

void Engine::start() {
  {
    std::lock_guard lock(mu_);
    if (running_) return;
    running_ = true;
    for (auto& [id, s] : streams_) s->start();
  }
  started_ = std::chrono::steady_clock::now();
  control_ = std::thread([this] { control_loop(); });
}

void Engine::stop() {
  std::map<std::string, std::shared_ptr<StreamPipeline>> streams;
  {
    std::lock_guard lock(mu_);
    streams = streams_;
    running_ = false;
  }
  for (auto& [id, s] : streams) s->stop();
  if (recorder_) recorder_->stop();  // open clips end at what they have
  // Offline: the captions asked for are part of the result; live: drop what waits.
  if (config_.offline) captions_->drain(std::chrono::seconds(60));
  captions_->stop();
  stop_ = true;
  control_cv_.notify_all();
  if (control_.joinable()) control_.join();
  if (jsonl_ && ordered_events_ && !ordered_finished_.exchange(true)) ordered_events_->finish(*jsonl_);
  if (jsonl_) jsonl_->flush();
  if (sqlite_) sqlite_->flush();
  if (mqtt_) {
    publish_figures();
    mqtt_->stop();
  }
  for (auto& h : webhooks_) h->stop();
}

void Engine::publish_figures() {
  std::lock_guard figures(figures_mu_);
  std::vector<std::shared_ptr<StreamPipeline>> streams;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, s] : streams_) streams.push_back(s);
  }
  for (const auto& s : streams) {
    const StreamSnapshot snap = s->snapshot();
    mqtt_->update(StreamFigures{snap.id, snap.up, snap.occupancy, snap.line_counts});
  }
}

void Engine::forget_figures(const std::string& id) {
  if (!mqtt_) return;
  std::lock_guard figures(figures_mu_);
  mqtt_->forget_stream(id);
}

Result<void> Engine::add_stream(StreamConfig config) {
  std::shared_ptr<StreamPipeline> p;
  const std::string id = config.id;
  {
    std::lock_guard lock(mu_);
    if (streams_.count(id) || disabled_.count(id))
      return fail(ErrorCode::kInvalidArgument, "streams[" + id + "].id: a stream with this id exists");
    if (!config.enabled) {
      disabled_[id] = std::move(config);
    } else {
      // Streams added later size their decoders for the engine they join
      // (those already running keep theirs until they reopen).
      if (budget_.cpu_budget)
        ctx_->auto_decode_threads = auto_decode_threads(static_cast<int>(streams_.size()) + 1, budget_.cores);
      auto created = StreamPipeline::create(std::move(config), *ctx_, next_stream_number_++);
      if (!created) return fail(created.error());
      p = std::shared_ptr<StreamPipeline>(std::move(*created));
      streams_[id] = p;
      if (running_) p->start();
    }
  }
  announce(StreamChange::kAdded, id);
  return {};
}

Result<void> Engine::replace_stream(StreamConfig config) {
  const std::string id = config.id;
  std::shared_ptr<StreamPipeline> old, p;
  {
    std::lock_guard lock(mu_);
    const auto running = streams_.find(id);
    if (running == streams_.end() && !disabled_.count(id))
      return fail(ErrorCode::kNotFound, "stream '" + id + "' does not exist");
    if (config.enabled) {
      const int count = static_cast<int>(streams_.size()) + (running == streams_.end() ? 1 : 0);
      if (budget_.cpu_budget) ctx_->auto_decode_threads = auto_decode_threads(count, budget_.cores);
      auto created = StreamPipeline::create(config, *ctx_, next_stream_number_++);
      if (!created) return fail(created.error());
      p = std::shared_ptr<StreamPipeline>(std::move(*created));
    }
    if (running != streams_.end()) {
      old = running->second;
      streams_.erase(running);
    }
    disabled_.erase(id);
    if (p) streams_[id] = p;
    else disabled_[id] = std::move(config);
  }
  if (old) old->stop();  // before the new one opens the same source
  forget_figures(id);    // its zones and lines may differ now; a disabled stream has none
  if (p) {
    std::lock_guard lock(mu_);
    const auto it = streams_.find(id);
    if (running_ && it != streams_.end() && it->second == p) p->start();
  }
  announce(StreamChange::kChanged, id);
  return {};
}

Result<void> Engine::remove_stream(const std::string& id) {
  std::shared_ptr<StreamPipeline> p;
  {
    std::lock_guard lock(mu_);
    auto it = streams_.find(id);
    if (it == streams_.end()) {
      if (disabled_.erase(id) == 0) return fail(ErrorCode::kNotFound, "stream '" + id + "' does not exist");
    } else {
      p = it->second;
      streams_.erase(it);
    }
  }
  if (p) p->stop();
  forget_figures(id);
  announce(StreamChange::kRemoved, id);
  return {};
}

int Engine::add_stream_observer(StreamObserver fn) {
  std::lock_guard lock(stream_observers_mu_);
  stream_observers_[next_stream_observer_] = std::move(fn);
  return next_stream_observer_++;
}

void Engine::remove_stream_observer(int id) {
  std::lock_guard lock(stream_observers_mu_);
  stream_observers_.erase(id);
}

void Engine::announce(StreamChange change, const std::string& id) {
  std::lock_guard lock(stream_observers_mu_);
  for (const auto& [observer_id, fn] : stream_observers_) fn(change, id);
}

std::shared_ptr<StreamPipeline> Engine::stream(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second;
}

std::vector<std::string> Engine::stream_ids() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> ids;
  for (const auto& [id, s] : streams_) ids.push_back(id);
  return ids;
}

std::vector<StreamConfig> Engine::stream_configs() const {
  std::lock_guard lock(mu_);
  std::map<std::string, const StreamConfig*> all;
  for (const auto& [id, s] : streams_) all[id] = &s->config();
  for (const auto& [id, c] : disabled_) all[id] = &c;
  std::vector<StreamConfig> out;
  for (const auto& [id, c] : all) out.push_back(*c);
  return out;
}

std::optional<StreamConfig> Engine::stream_config(const std::string& id) const {
  std::lock_guard lock(mu_);
  if (const auto it = streams_.find(id); it != streams_.end()) return it->second->config();
  if (const auto it = disabled_.find(id); it != disabled_.end()) return it->second;
  return std::nullopt;
}

bool Engine::all_finished() const {
  std::lock_guard lock(mu_);
  for (const auto& [id, s] : streams_)
    if (!s->finished()) return false;
  return true;
}

void Engine::control_loop() {
  using clock = std::chrono::steady_clock;
  CpuMeter cpu;
  auto last = clock::now();
  auto last_report = last;
  auto prev = scheduler_->stats();
  std::array<double, kStageCount> prev_total{};
  for (std::size_t i = 0; i < kStageCount; ++i) prev_total[i] = metrics_.window(static_cast<Stage>(i)).total_ms();
  while (!stop_) {
    {
      std::unique_lock lock(control_mu_);
      control_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_.load(); });
    }
    if (stop_) break;
    const auto now = clock::now();
    const double dt = std::chrono::duration<double>(now - last).count();
    last = now;
    const auto st = scheduler_->stats();
    std::array<StageLoad, kStageCount> loads{};
    {
      std::lock_guard lock(sample_mu_);
      cpu_percent_ = cpu.sample();
      ram_mb_ = process_rss_mb();
      inferences_per_sec_ = dt > 0 ? static_cast<double>(st.images - prev.images) / dt : 0;
      batches_per_sec_ = dt > 0 ? static_cast<double>(st.batches - prev.batches) / dt : 0;
      for (std::size_t i = 0; i < kStageCount; ++i) {
        const double total = metrics_.window(static_cast<Stage>(i)).total_ms();
        const double load = dt > 0 ? (total - prev_total[i]) / dt : 0;
        prev_total[i] = total;
        // Smoothed over ~5 s so one slow second does not flip the bottleneck.
        stage_load_[i] = stage_load_[i] == 0 ? load : 0.8 * stage_load_[i] + 0.2 * load;
        loads[i] = {static_cast<Stage>(i), stage_load_[i]};
      }
      bottleneck_ = std::string(name_bottleneck(loads));
    }
    prev = st;
    if (mqtt_) publish_figures();
    if (config_.adaptive && !config_.offline) adapt_intervals();
    if (config_.stats_interval_s > 0 &&
        std::chrono::duration<double>(now - last_report).count() >= config_.stats_interval_s) {
      last_report = now;
      spdlog::info("{}", report());
    }
  }
}

void Engine::adapt_intervals() {
  std::vector<std::shared_ptr<StreamPipeline>> streams;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, s] : streams_) streams.push_back(s);
  }
  if (streams.empty()) return;
  const auto inf = metrics_.summary(Stage::kInference);
  const auto st = scheduler_->stats();
  if (inf.count == 0 || st.batches == 0) return;
  const double batch_avg = static_cast<double>(st.images) / static_cast<double>(st.batches);
  const double per_image_ms = inf.avg / std::max(1.0, batch_avg);
  const double capacity = per_image_ms > 0 ? 1000.0 * config_.workers / per_image_ms : 0;
  std::vector<StreamLoad> loads;
  for (const auto& s : streams) {
    StreamLoad l;
    l.fps = s->source_fps();
    l.activity = s->activity();
    l.current_every = s->every_effective();
    l.config.every = s->config().every;
    l.config.adaptive = true;
    l.config.max_every = std::max(config_.max_every, s->config().every);
    l.config.latency_target_ms = config_.latency_target_ms;
    loads.push_back(l);
  }
  const auto every = interval_controller_->step(loads, capacity, analysis_latency_.summary().p95);
  for (std::size_t i = 0; i < streams.size() && i < every.size(); ++i) streams[i]->set_every_effective(every[i]);
}

EngineStats Engine::stats() const {
  EngineStats out;
  std::vector<std::shared_ptr<StreamPipeline>> streams;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, s] : streams_) streams.push_back(s);
    out.running = running_;
  }
  for (const auto& s : streams) out.streams.push_back(rounded(s->snapshot()));
  for (std::size_t i = 0; i < kStageCount; ++i) {
    const auto stage = static_cast<Stage>(i);
    out.stages[i].latency = rounded(metrics_.summary(stage));
    out.stages[i].histogram = metrics_.window(stage).histogram();
  }
  out.analysis_latency = rounded(analysis_latency_.summary());
  const auto st = scheduler_->stats();
  out.batch_size_avg = st.batches ? round3(static_cast<double>(st.images) / static_cast<double>(st.batches)) : 0.0;
  for (std::size_t b = 1; b < st.batch_histogram.size(); ++b)
    if (st.batch_histogram[b]) out.batch_histogram[b] = st.batch_histogram[b];
  out.inferences = st.images;
  out.batches = st.batches;
  out.queue_size = st.queued;
  out.scheduler_replaced = st.replaced;
  out.events_published = events_.published();
  out.captions = captions_->stats();
  if (sqlite_) out.events_store = EventSinkStats{sqlite_->stored(), sqlite_->dropped(), sqlite_->errors()};
  if (jsonl_)
    out.events_jsonl =
        EventSinkStats{0, jsonl_->dropped(), jsonl_->errors() + (ordered_events_ ? ordered_events_->errors() : 0)};
  if (mqtt_) out.mqtt = mqtt_->stats();
  if (recorder_) out.record = recorder_->stats();
  for (const auto& h : webhooks_) out.webhooks.push_back(h->stats());
  {
    std::lock_guard lock(sample_mu_);
    out.bottleneck = bottleneck_;
    out.inferences_per_sec = round3(inferences_per_sec_);
    out.batches_per_sec = round3(batches_per_sec_);
    out.cpu_percent = round3(cpu_percent_);
    out.ram_mb = round3(ram_mb_ > 0 ? ram_mb_ : process_rss_mb());
    for (std::size_t i = 0; i < kStageCount; ++i) out.stages[i].load_ms_per_s = round3(stage_load_[i]);
  }
  out.gpus = sample_gpus();
  for (auto& g : out.gpus) {
    g.memory_used_mb = round3(g.memory_used_mb);
    g.memory_total_mb = round3(g.memory_total_mb);
  }
  out.provider = detector_->backend().provider();
  out.budget = budget_;
  out.uptime_s = round3(std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
  return out;
}

void Engine::reset_stats() {
  metrics_.reset();
  analysis_latency_.reset();
}

std::string Engine::report() const {
  const EngineStats st = stats();
  std::ostringstream os;
  os << "stats: " << st.streams.size() << " streams, " << st.inferences_per_sec << " inferences/s, batch avg "
     << st.batch_size_avg << ", CPU " << st.cpu_percent << "%, RSS " << st.ram_mb << " MB, analysis latency p95 "
     << st.analysis_latency.p95 << " ms, bottleneck: " << (st.bottleneck.empty() ? "-" : st.bottleneck);
  for (const auto& s : st.streams) {
    os << "\n  " << s.id << ": " << (s.up ? "up" : "down") << " src " << s.source_fps << " fps, display "
       << s.display_fps << ", analysed " << s.analysed_fps << ", every " << s.every_effective << ", tracks " << s.tracks
       << ", drops " << drops_text(drop_names(s.drops));
  }
  for (const Stage stage : stages_by_name()) {
    const LatencySummary& l = st.stage(stage).latency;
    if (l.count > 0)
      os << "\n  " << to_string(stage) << ": avg " << l.avg << " p95 " << l.p95 << " max " << l.max << " ms";
  }
  return os.str();
}

}  // namespace vigil
