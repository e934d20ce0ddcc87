#include "pipeline/batch_scheduler.h"

#include <algorithm>

#include "pipeline/motion_regions.h"

namespace vigil {
namespace {

// Detections of request `q` from the detector's results [begin, end) (one per
// image the request put in the call), in full-frame pixels.
std::vector<Detection> request_detections(const BatchRequest& q, std::vector<std::vector<Detection>>& results,
                                          std::size_t begin, std::size_t end, const DecodeOptions& decode) {
  auto to_full = [&q](Detection& d, float dx, float dy) {
    d.box.x1 = (d.box.x1 + dx) * q.to_full_x;
    d.box.x2 = (d.box.x2 + dx) * q.to_full_x;
    d.box.y1 = (d.box.y1 + dy) * q.to_full_y;
    d.box.y2 = (d.box.y2 + dy) * q.to_full_y;
  };
  if (q.crops.empty()) {
    auto dets = std::move(results[begin]);
    for (auto& d : dets) to_full(d, 0, 0);
    return dets;
  }
  std::vector<Box> regions;
  std::vector<std::vector<Detection>> per_crop;
  for (std::size_t k = 0; begin + k < end; ++k) {
    const RequestCrop& c = q.crops[k];
    auto dets = std::move(results[begin + k]);
    for (auto& d : dets) to_full(d, static_cast<float>(c.x), static_cast<float>(c.y));
    regions.push_back(c.region);
    per_crop.push_back(std::move(dets));
  }
  // A box within 2 analysed pixels of an inner crop edge counts as cut by it.
  return merge_crop_detections(regions, std::move(per_crop), q.frame_w, q.frame_h, decode.iou, decode.max_det,
                               2.0F * std::max(q.to_full_x, q.to_full_y), decode.class_agnostic);
}

}  // namespace

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
  // A request is one image, or its crops (motion regions): images [first[i], first[i + 1]).
  std::vector<std::size_t> first;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    first.push_back(images.size());
    const DecodeOptions* decode = owners[i] ? &owners[i]->decode : &kDefaults;
    if (jobs[i].request.crops.empty()) {
      images.push_back(jobs[i].request.image.get());
      options.push_back(decode);
    }
    for (const auto& c : jobs[i].request.crops) {
      images.push_back(c.image.get());
      options.push_back(decode);
    }
  }
  first.push_back(images.size());
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
    stats_.images += images.size();
    ++stats_.batch_histogram[std::min<std::size_t>(images.size(), kMaxBatchHistogram)];
    if (!r) ++stats_.errors;
    stats_.runs += static_cast<std::uint64_t>(t.runs);
  }
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    BatchResult res;
    res.batch_size = static_cast<int>(images.size());
    if (r) {
      res.detections = request_detections(jobs[i].request, *r, first[i], first[i + 1], *options[first[i]]);
    } else {
      res.ok = false;
      res.error = r.error().message;
    }
    res.request = std::move(jobs[i].request);
    if (owners[i]) owners[i]->callback(std::move(res));
  }
}

}  // namespace vigil
