#include "pipeline/batch_scheduler.h"

#include <algorithm>

namespace vigil {

BatchScheduler::BatchScheduler(const Detector& detector, BatchSchedulerOptions options, StageMetrics& metrics)
    : detector_(detector), options_(options), metrics_(metrics) {
  for (int i = 0; i < std::max(1, options_.workers); ++i) workers_.emplace_back([this] { worker_loop(); });
}

BatchScheduler::~BatchScheduler() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  space_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

int BatchScheduler::add_client(DecodeOptions decode, Callback callback) {
  std::lock_guard lock(mu_);
  auto c = std::make_shared<Client>();
  c->decode = std::move(decode);
  c->callback = std::move(callback);
  clients_[next_client_] = std::move(c);
  return next_client_++;
}

void BatchScheduler::remove_client(int client) {
  std::unique_lock lock(mu_);
  auto it = clients_.find(client);
  if (it == clients_.end()) return;
  auto c = it->second;
  c->queue.clear();
  c->finished = true;
  space_cv_.wait(lock, [&] { return c->running == 0; });
  clients_.erase(client);
  space_cv_.notify_all();
}

bool BatchScheduler::submit_latest(int client, BatchRequest request) {
  bool replaced = false;
  {
    std::lock_guard lock(mu_);
    auto it = clients_.find(client);
    if (stop_ || it == clients_.end()) return false;
    auto& q = it->second->queue;
    if (!q.empty()) {
      replaced = true;
      ++stats_.replaced;
      q.clear();
    }
    q.push_back(std::move(request));
  }
  work_cv_.notify_one();
  return replaced;
}

bool BatchScheduler::submit_wait(int client, BatchRequest request) {
  std::unique_lock lock(mu_);
  auto it = clients_.find(client);
  if (it == clients_.end()) return false;
  auto c = it->second;
  const std::size_t cap = 2 * static_cast<std::size_t>(std::max(1, options_.max_batch));
  space_cv_.wait(lock, [&] { return stop_ || c->queue.size() < cap || clients_.count(client) == 0; });
  if (stop_ || clients_.count(client) == 0) return false;
  c->queue.push_back(std::move(request));
  lock.unlock();
  work_cv_.notify_all();
  return true;
}

void BatchScheduler::finish(int client) {
  {
    std::lock_guard lock(mu_);
    auto it = clients_.find(client);
    if (it != clients_.end()) it->second->finished = true;
  }
  work_cv_.notify_all();
}

void BatchScheduler::drain(int client) {
  std::unique_lock lock(mu_);
  space_cv_.wait(lock, [&] {
    auto it = clients_.find(client);
    return stop_ || it == clients_.end() || (it->second->queue.empty() && it->second->running == 0);
  });
}

BatchScheduler::Stats BatchScheduler::stats() const {
  std::lock_guard lock(mu_);
  Stats s = stats_;
  s.queued = 0;
  for (const auto& [id, c] : clients_) s.queued += c->queue.size();
  return s;
}

InputSize BatchScheduler::input_size_of(const BatchRequest& request) const {
  return request.image ? detector_.input_size_for(request.image->width, request.image->height) : InputSize{};
}

std::vector<BatchScheduler::Job> BatchScheduler::take_batch_locked(std::unique_lock<std::mutex>& lock) {
  const auto max_batch = static_cast<std::size_t>(std::max(1, options_.max_batch));
  for (;;) {
    if (stop_) return {};
    std::vector<Job> jobs;
    if (options_.offline) {
      // One client per batch, exactly max_batch requests of one input size
      // unless its run of that size ends (another size follows, or it finished).
      for (auto& [id, c] : clients_) {
        if (c->running > 0 || c->queue.empty()) continue;
        const InputSize size = input_size_of(c->queue.front());
        std::size_t n = 1;
        while (n < c->queue.size() && n < max_batch && input_size_of(c->queue[n]) == size) ++n;
        if (n < max_batch && n == c->queue.size() && !c->finished) continue;
        for (std::size_t i = 0; i < n; ++i) {
          jobs.push_back({id, std::move(c->queue.front())});
          c->queue.pop_front();
        }
        ++c->running;
        return jobs;
      }
      work_cv_.wait(lock);
      continue;
    }
    // Live: pending requests of idle clients, oldest capture first.
    std::vector<std::pair<std::chrono::steady_clock::time_point, int>> ready;
    for (auto& [id, c] : clients_)
      if (c->running == 0 && !c->queue.empty()) ready.emplace_back(c->queue.front().capture_time, id);
    if (ready.empty()) {
      work_cv_.wait(lock);
      continue;
    }
    std::sort(ready.begin(), ready.end());
    // The oldest request's input size; requests of other sizes wait for a later batch.
    const InputSize size = input_size_of(clients_[ready.front().second]->queue.front());
    std::erase_if(ready, [&](const auto& r) { return input_size_of(clients_[r.second]->queue.front()) != size; });
    const auto deadline = ready.front().first + std::chrono::milliseconds(options_.wait_ms);
    if (ready.size() < max_batch && std::chrono::steady_clock::now() < deadline) {
      work_cv_.wait_until(lock, deadline);
      continue;
    }
    for (std::size_t i = 0; i < ready.size() && i < max_batch; ++i) {
      auto& c = clients_[ready[i].second];
      jobs.push_back({ready[i].second, std::move(c->queue.front())});
      c->queue.pop_front();
      ++c->running;
    }
    return jobs;
  }
}

void BatchScheduler::worker_loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    std::vector<Job> jobs = take_batch_locked(lock);
    if (jobs.empty()) return;  // stopping
    space_cv_.notify_all();    // queues have room again
    lock.unlock();
    run_batch(jobs);
    lock.lock();
    if (options_.offline) {
      if (auto it = clients_.find(jobs.front().client); it != clients_.end()) --it->second->running;
    } else {
      for (const auto& j : jobs)
        if (auto it = clients_.find(j.client); it != clients_.end()) --it->second->running;
    }
    space_cv_.notify_all();
    work_cv_.notify_all();
  }
}

void BatchScheduler::run_batch(std::vector<Job>& jobs) {
  std::vector<const Image*> images;
  std::vector<const DecodeOptions*> options;
  std::vector<std::shared_ptr<Client>> owners;
  {
    std::lock_guard lock(mu_);
    for (const auto& j : jobs) {
      auto it = clients_.find(j.client);
      owners.push_back(it == clients_.end() ? nullptr : it->second);
    }
  }
  static const DecodeOptions kDefaults;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    images.push_back(jobs[i].request.image.get());
    options.push_back(owners[i] ? &owners[i]->decode : &kDefaults);
  }
  DetectTimings t;
  auto r = detector_.detect(images, options, &t);
  if (options_.test_delay_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(options_.test_delay_ms));
    t.inference_ms += options_.test_delay_ms;
  }
  metrics_.add(Stage::kPreprocess, t.preprocess_ms);
  metrics_.add(Stage::kInference, t.inference_ms);
  metrics_.add(Stage::kPostprocess, t.postprocess_ms);
  {
    std::lock_guard lock(mu_);
    ++stats_.batches;
    stats_.images += jobs.size();
    ++stats_.batch_histogram[std::min<std::size_t>(jobs.size(), kMaxBatchHistogram)];
    if (!r) ++stats_.errors;
    stats_.runs += static_cast<std::uint64_t>(t.runs);
  }
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    BatchResult res;
    res.batch_size = static_cast<int>(jobs.size());
    if (r) {
      res.detections = std::move((*r)[i]);
      for (auto& d : res.detections) {
        d.box.x1 *= jobs[i].request.to_full_x;
        d.box.x2 *= jobs[i].request.to_full_x;
        d.box.y1 *= jobs[i].request.to_full_y;
        d.box.y2 *= jobs[i].request.to_full_y;
      }
    } else {
      res.ok = false;
      res.error = r.error().message;
    }
    res.request = std::move(jobs[i].request);
    if (owners[i]) owners[i]->callback(std::move(res));
  }
}

}  // namespace vigil
