#include "jobs/job_manager.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>

#include <spdlog/spdlog.h>

#include "analytics/analytics_evaluator.h"

namespace vigil {

using json = nlohmann::json;

namespace {

// The request a stored job was made from (its options_json); defaults for
// what is missing, so a damaged row gives a key that does not match.
AnalyzeRequest stored_request(const std::string& options_json) {
  const json o = json::parse(options_json, nullptr, false);
  AnalyzeRequest req;
  if (o.is_discarded() || !o.is_object()) return req;
  req.video = o.value("video", "");
  req.sample_fps = o.value("sample_fps", req.sample_fps);
  req.chunk_s = o.value("chunk_s", req.chunk_s);
  req.model = o.value("model", "");
  if (o.contains("classes") && o["classes"].is_array()) req.classes = o["classes"].get<std::vector<std::string>>();
  req.captions = o.value("captions", false);
  return req;
}

}  // namespace

JobManager::JobManager(JobManagerOptions options) : options_(std::move(options)) {}

Result<std::unique_ptr<JobManager>> JobManager::create(JobManagerOptions options) {
  namespace fs = std::filesystem;
  std::unique_ptr<JobManager> m(new JobManager(std::move(options)));
  std::error_code ec;
  const auto db = fs::path(m->options_.jobs.dir) / "jobs.db";
  if (fs::exists(m->options_.jobs.dir, ec) && !fs::is_directory(m->options_.jobs.dir, ec))
    return fail(ErrorCode::kBadInput, "jobs.dir " + m->options_.jobs.dir + ": not a directory");
  // The directory and database are made by the first job, not by every server start.
  if (fs::exists(db, ec)) {
    if (auto l = m->lock_dir(); !l) return fail(l.error());
    auto store = JobStore::open(db.string());
    if (!store) return fail(store.error());
    m->store_ = std::move(*store);
    if (auto r = m->requeue_unfinished(); !r) return fail(r.error());
  }
  m->start_runners();
  return m;
}

Result<void> JobManager::requeue_unfinished() {
  auto jobs = store_->jobs();
  if (!jobs) return fail(jobs.error());
  for (const auto& info : *jobs) {
    if (is_finished(info.state)) continue;
    auto settings = make_analyze_settings(stored_request(info.options_json), options_.has_config ? &options_.config : nullptr,
                                          options_.config_text, options_.model_path);
    if (!settings || settings->key() != info.key) {
      spdlog::warn("job {} ({}): not resumed: its video, model or config changed since it was queued", info.id,
                   info.input);
      (void)store_->set_job_state(info.id, JobStatus::kCancelled);
      continue;
    }
    auto live = std::make_shared<Live>();
    live->settings = *settings;
    live_[info.id] = live;
    queue_.push_back(info.id);
    if (info.state != JobStatus::kPending) (void)store_->set_job_state(info.id, JobStatus::kPending);
    spdlog::info("job {} ({}): queued again (left {} by an earlier run)", info.id, info.input, to_string(info.state));
  }
  return {};
}

void JobManager::start_runners() {
  const int n = std::max(1, options_.jobs.concurrency);
  for (int i = 0; i < n; ++i) runners_.emplace_back([this] { runner(); });
}

JobManager::~JobManager() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& [id, live] : live_)
      if (live->running) live->stop = true;
  }
  cv_.notify_all();
  for (auto& t : runners_) t.join();
  {
    std::lock_guard lock(mu_);
    for (auto& [id, live] : live_)
      for (auto& [client, queue] : live->listeners) queue->close();
  }
  store_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<void> JobManager::lock_dir() {
  if (lock_fd_ >= 0) return {};
  const std::string path = (std::filesystem::path(options_.jobs.dir) / "jobs.lock").string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return fail(ErrorCode::kBadInput, "jobs.dir " + options_.jobs.dir + ": cannot create " + path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return fail(ErrorCode::kBadInput, "jobs.dir " + options_.jobs.dir +
                                          " is in use by another vigil process (give each server its own --jobs-dir)");
  }
  lock_fd_ = fd;
  return {};
}

std::string JobManager::out_dir(std::int64_t id) const {
  return (std::filesystem::path(options_.jobs.dir) / std::to_string(id)).string();
}

Result<const Detector*> JobManager::detector() {
  std::lock_guard lock(detector_mu_);
  if (!detector_) {
    auto d = open_analysis_detector(options_.model_path, options_.device, options_.threads,
                                    options_.config.model.rectangular);
    if (!d) return fail(d.error());
    detector_ = std::move(*d);
  }
  return static_cast<const Detector*>(detector_.get());
}

Result<JobStore*> JobManager::store() {
  std::lock_guard lock(store_mu_);
  if (!store_) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(options_.jobs.dir, ec);
    if (ec) return fail(ErrorCode::kRuntime, "jobs.dir " + options_.jobs.dir + ": " + ec.message());
    if (auto l = lock_dir(); !l) return fail(l.error());
    auto s = JobStore::open((fs::path(options_.jobs.dir) / "jobs.db").string());
    if (!s) return fail(s.error());
    store_ = std::move(*s);
  }
  return store_.get();
}

JobStore* JobManager::store_if_open() {
  std::lock_guard lock(store_mu_);
  return store_.get();
}

Result<std::vector<Chunk>> JobManager::check_and_plan(const AnalyzeSettings& settings) {
  auto det = detector();
  if (!det) return fail(det.error());
  const ModelInfo& info = (*det)->info();
  if (!settings.stream.classes.empty())
    if (auto m = class_mask_from_names(info, settings.stream.classes); !m) return fail(m.error());
  if (auto ev = AnalyticsEvaluator::create(settings.stream.id, settings.stream.zones, settings.stream.lines,
                                           info.class_names, "stream");
      !ev)
    return fail(ev.error());
  auto video = probe_video(settings.video);
  if (!video) return fail(video.error());
  return plan_chunks(video->duration_s, {settings.chunk_s, settings.sample_fps});
}

Result<std::pair<json, bool>> JobManager::submit(const AnalyzeRequest& request) {
  auto opened = store();
  if (!opened) return fail(opened.error());
  auto settings = make_analyze_settings(request, options_.has_config ? &options_.config : nullptr, options_.config_text,
                                        options_.model_path);
  if (!settings) return fail(settings.error());
  auto plan = check_and_plan(*settings);
  if (!plan) return fail(plan.error());
  const std::string key = settings->key();
  JobStore* st = *opened;
  auto jobs = st->jobs();
  if (!jobs) return fail(jobs.error());
  bool existed = false;
  for (const auto& j : *jobs) existed = existed || j.key == key;
  const json options = {{"video", settings->video},     {"sample_fps", settings->sample_fps},
                        {"chunk_s", settings->chunk_s}, {"model", request.model},
                        {"classes", request.classes},   {"captions", request.captions}};
  auto id = st->create_or_resume(key, settings->video, options.dump(), *plan);
  if (!id) return fail(id.error());
  queue_unless_active(*st, *id, *settings);
  auto j = get(*id);
  if (!j) return fail(j.error());
  return std::make_pair(*j, !existed);
}

void JobManager::queue_unless_active(JobStore& st, std::int64_t id, const AnalyzeSettings& settings) {
  std::lock_guard lock(mu_);
  auto& live = live_[id];
  const bool queued = std::find(queue_.begin(), queue_.end(), id) != queue_.end();
  const bool running = live && live->running;
  if (running && live->stop) live->requeue = true;  // submitted again while its cancel completes
  auto state = st.jobs();
  JobStatus stored = JobStatus::kPending;
  if (state)
    for (const auto& j : *state)
      if (j.id == id) stored = j.state;
  if (!queued && !running &&
      (stored == JobStatus::kPending || stored == JobStatus::kCancelled || stored == JobStatus::kFailed)) {
    live = std::make_shared<Live>();
    live->settings = settings;
    if (stored == JobStatus::kFailed) (void)st.reset_failed(id);
    if (stored != JobStatus::kPending) (void)st.set_job_state(id, JobStatus::kPending);
    queue_.push_back(id);
    cv_.notify_one();
  } else if (!live) {
    live = std::make_shared<Live>();
    live->settings = settings;
  }
}

json JobManager::job_json(JobStore& store, const JobInfo& info, bool with_chunks) {
  json j = {{"id", info.id},
            {"video", info.input},
            {"state", api_name(info.state)},
            {"created", info.created},
            {"updated", info.updated}};
  const json o = json::parse(info.options_json, nullptr, false);
  j["options"] = o.is_discarded() ? json::object() : o;
  auto chunks = store.chunks(info.id, false);
  std::shared_ptr<Live> live;
  {
    std::lock_guard lock(mu_);
    if (auto it = live_.find(info.id); it != live_.end()) live = it->second;
    if (live && live->has_progress && !is_finished(info.state)) {
      j["progress"] = live->progress.to_json();
      if (live->stop) j["cancel_requested"] = true;
    }
  }
  if (chunks) {
    int done = 0, failed_n = 0;
    double total = 0, done_s = 0;
    json list = json::array();
    for (const auto& c : *chunks) {
      const double len = c.chunk.end_s - c.chunk.start_s;
      total += len;
      if (c.state == ChunkStatus::kDone) ++done, done_s += len;
      if (c.state == ChunkStatus::kFailed) ++failed_n, done_s += len;
      list.push_back({{"index", c.chunk.index},
                      {"start_s", c.chunk.start_s},
                      {"end_s", c.chunk.end_s},
                      {"state", to_string(c.state)},
                      {"attempts", c.attempts},
                      {"error", c.error}});
    }
    if (!j.contains("progress"))
      j["progress"] = {{"chunks", chunks->size()}, {"chunks_done", done}, {"chunks_failed", failed_n},
                       {"source_s", total},        {"source_done_s", done_s},
                       {"progress", total > 0 ? done_s / total : 0.0},
                       {"eta_s", nullptr}};
    if (with_chunks) j["chunks"] = list;
  }
  std::error_code ec;
  j["out_dir"] = out_dir(info.id);
  if (std::filesystem::exists(std::filesystem::path(out_dir(info.id)) / "report.html", ec))
    j["report"] = "/api/jobs/" + std::to_string(info.id) + "/report";
  return j;
}

json JobManager::list() {
  json out = json::array();
  JobStore* s = store_if_open();
  if (!s) return out;
  auto jobs = s->jobs();
  if (jobs)
    for (const auto& info : *jobs) out.push_back(job_json(*s, info, false));
  return out;
}

Result<json> JobManager::get(std::int64_t id) {
  JobStore* s = store_if_open();
  auto jobs = s ? s->jobs() : Result<std::vector<JobInfo>>(std::vector<JobInfo>{});
  if (!jobs) return fail(jobs.error());
  for (const auto& info : *jobs)
    if (info.id == id) return job_json(*s, info, true);
  return fail(ErrorCode::kNotFound, "job " + std::to_string(id) + " does not exist");
}

Result<json> JobManager::cancel(std::int64_t id) {
  auto current = get(id);
  if (!current) return fail(current.error());
  const std::string state = (*current)["state"];
  if (const auto s = parse_job_status(state); s && is_finished(*s))
    return fail(ErrorCode::kConflict, "job " + std::to_string(id) + " is already " + state);
  {
    std::lock_guard lock(mu_);
    auto it = std::find(queue_.begin(), queue_.end(), id);
    if (it != queue_.end()) {
      queue_.erase(it);
      if (auto r = store_if_open()->set_job_state(id, JobStatus::kCancelled); !r) return fail(r.error());
      if (auto l = live_.find(id); l != live_.end())
        publish(id, *l->second,
                {{"type", "progress"}, {"job_id", id}, {"state", api_name(JobStatus::kCancelled)}, {"message", "cancelled"}},
                true);
    } else if (auto l = live_.find(id); l != live_.end() && l->second->running) {
      l->second->user_cancel = true;
      l->second->stop = true;
    }
  }
  return get(id);
}

Result<std::string> JobManager::report_path(std::int64_t id) {
  auto j = get(id);
  if (!j) return fail(j.error());
  const std::string p = (std::filesystem::path(out_dir(id)) / "report.html").string();
  std::error_code ec;
  if (!std::filesystem::exists(p, ec))
    return fail(ErrorCode::kNotFound, "job " + std::to_string(id) + " has no report yet (state " +
                                          (*j)["state"].get<std::string>() + ")");
  return p;
}

void JobManager::publish(std::int64_t, Live& live, const json& message, bool close) {
  auto text = std::make_shared<const std::string>(message.dump());
  std::erase_if(live.listeners, [&](auto& entry) {
    auto client = entry.first.lock();
    if (!client) return true;
    entry.second->push(text);
    if (close) entry.second->close();
    client->wake();
    return close;
  });
}

std::shared_ptr<TextQueue> JobManager::listen(std::int64_t id, std::weak_ptr<LiveClient> client) {
  auto current = get(id);
  if (!current) return nullptr;
  auto queue = std::make_shared<TextQueue>(kListenerQueue);
  json first = (*current)["progress"];
  first["type"] = "progress";
  first["job_id"] = id;
  first["state"] = (*current)["state"];
  queue->push(std::make_shared<const std::string>(first.dump()));
  {
    std::lock_guard lock(mu_);
    auto it = live_.find(id);
    const bool active = it != live_.end() &&
                        (it->second->running || std::find(queue_.begin(), queue_.end(), id) != queue_.end());
    if (active) {
      it->second->listeners.emplace_back(std::move(client), queue);
      return queue;
    }
  }
  // Not running or queued (any more): send the state as it is now, which is
  // final, in case the job ended between the first read and the check.
  if (auto now = get(id); now && (*now)["state"] != (*current)["state"]) {
    json last = (*now)["progress"];
    last["type"] = "progress";
    last["job_id"] = id;
    last["state"] = (*now)["state"];
    queue->push(std::make_shared<const std::string>(last.dump()));
  }
  queue->close();
  return queue;
}

void JobManager::runner() {
  for (;;) {
    std::int64_t id = 0;
    std::shared_ptr<Live> live;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      id = queue_.front();
      queue_.pop_front();
      live = live_[id];
      if (!live) continue;
      live->running = true;
      live->stop = false;
      live->user_cancel = false;
    }
    Result<AnalyzeOutcome> outcome = run_job(id, *live);
    std::lock_guard lock(mu_);
    finish_job_locked(id, *live, outcome);
  }
}

Result<AnalyzeOutcome> JobManager::run_job(std::int64_t id, Live& live) {
  AnalyzeJobOptions jo;
  jo.settings = live.settings;
  jo.out_dir = out_dir(id);
  jo.db_path = store_if_open()->path();
  jo.workers = options_.jobs.workers;
  jo.redis_url = options_.jobs.redis;
  jo.expected_job_id = id;
  auto det = detector();
  if (!det) return fail(det.error());
  const auto on_progress = [&](const JobProgress& p) {
    std::lock_guard lock(mu_);
    live.progress = p;
    live.has_progress = true;
    json m = p.to_json();
    m["type"] = "progress";
    publish(id, live, m, false);
  };
  return run_analysis(jo, **det, on_progress, &live.stop);
}

void JobManager::finish_job_locked(std::int64_t id, Live& live, const Result<AnalyzeOutcome>& outcome) {
  live.running = false;
  json last = live.has_progress ? live.progress.to_json() : json{{"job_id", id}};
  last["type"] = "progress";
  JobStatus ended = JobStatus::kFailed;
  if (!outcome) {
    spdlog::warn("job {}: {}", id, outcome.error().message);
    (void)store_if_open()->set_job_state(id, JobStatus::kFailed);
    last["message"] = outcome.error().message;
  } else if (outcome->state == JobStatus::kCancelled && !live.user_cancel) {
    // The server is stopping: the job is not cancelled, it resumes at the next start.
    (void)store_if_open()->set_job_state(id, JobStatus::kPending);
    ended = JobStatus::kPending;
    last["message"] = "server stopping; the job resumes when it starts again";
  } else {
    ended = outcome->state;
    spdlog::info("job {} ({}): {} in {:.1f} s", id, live.settings.video, to_string(outcome->state), outcome->wall_s);
  }
  last["state"] = api_name(ended);
  live.progress.state = ended;
  publish(id, live, last, true);
  if (live.requeue && !stopping_) {
    live.requeue = false;
    (void)store_if_open()->set_job_state(id, JobStatus::kPending);
    queue_.push_back(id);
    cv_.notify_one();
  }
}

}  // namespace vigil
