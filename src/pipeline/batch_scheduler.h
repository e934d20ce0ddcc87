// BatchScheduler: one for all streams. Streams submit frames to analyse;
// worker threads collect them into batches and run the Detector once per
// batch; each result goes back through the submitting client's callback.
//
// Live mode (overflow policy: replace): a client has at most one pending
// request; a newer one replaces it (counted as `replaced`). A batch is formed
// from the pending requests of all clients, oldest first, as soon as max_batch
// are pending or the oldest has waited wait_ms.
// Offline mode (policy: block): submit_wait() blocks while the client already
// has 2 x max_batch queued. A batch holds requests of ONE client only, exactly
// max_batch of them (fewer only at the end, after finish()), so batch
// composition, and with it every result, does not depend on timing.
// One input size per batch (the detector's input_size_for each image): live,
// the oldest request's size, the others wait for a later batch; offline, the
// leading run of one size in the client's queue (cut at max_batch, at a size
// change or at the end), which still depends only on the submitted sequence.
//
// Threads: submit*/finish/register/unregister from any thread; callbacks run
// on a worker thread, for one client in submission order.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/detection.h"
#include "core/image.h"
#include "media/video_frame.h"
#include "metrics/stage_metrics.h"
#include "pipeline/detector.h"

namespace vigil {

// A crop of a request's image (motion regions, pipeline/motion_regions.h).
struct RequestCrop {
  std::shared_ptr<const Image> image;  // the crop, cut from the request's image
  int x = 0, y = 0;                    // its top-left corner in the request image's pixels
  Box region;                          // the same region in full-frame pixels
};

struct BatchRequest {
  std::int64_t seq = 0;  // the stream's frame number
  double pts = 0;        // media seconds
  std::chrono::steady_clock::time_point capture_time{};
  std::shared_ptr<const Image> image;  // what the detector sees (full frame or substream)
  float to_full_x = 1, to_full_y = 1;  // box scale from `image` pixels to full-frame pixels
  int frame_w = 0, frame_h = 0;        // full-frame size
  // Non-empty: the detector sees these crops instead of `image` (one image
  // each, in the same call) and their boxes are merged back into full-frame
  // pixels (merge_crop_detections). `image` stays the whole picture (captions).
  std::vector<RequestCrop> crops;
  // The decoded frame itself, for event snapshots (set only when the stream
  // records snapshots: a reference, no copy).
  std::shared_ptr<const VideoFrame> frame;
};

// Copies `region` (full-frame pixels) out of the analysed image `image`
// (`to_full_*`: its scale to full-frame pixels), clipped to it.
RequestCrop cut_crop(const Image& image, const Box& region, float to_full_x, float to_full_y);

// Detections of request `q` from a detector's results [begin, end) (one per
// image the request put in the call: its image, or each of its crops in
// order), in full-frame pixels; crops merged (merge_crop_detections). The
// results are moved from.
std::vector<Detection> request_detections(const BatchRequest& q, std::vector<std::vector<Detection>>& results,
                                          std::size_t begin, std::size_t end, const DecodeOptions& decode);

struct BatchResult {
  BatchRequest request;
  std::vector<Detection> detections;  // full-frame pixels
  bool ok = true;
  std::string error;
  int batch_size = 0;
};

struct BatchSchedulerOptions {
  int max_batch = 8;
  int wait_ms = 10;
  int workers = 1;
  bool offline = false;
  int test_delay_ms = 0;  // test-only: added to every batch to emulate a slow detector
};

class BatchScheduler {
 public:
  using Callback = std::function<void(BatchResult&&)>;
  static constexpr int kMaxBatchHistogram = 64;

  BatchScheduler(const Detector& detector, BatchSchedulerOptions options, StageMetrics& metrics);
  ~BatchScheduler();
  BatchScheduler(const BatchScheduler&) = delete;
  BatchScheduler& operator=(const BatchScheduler&) = delete;

  int add_client(DecodeOptions decode, Callback callback);
  // Drops the client's queued requests and waits until none of its callbacks runs.
  void remove_client(int client);

  // Live: never blocks. Returns true when an older pending request was replaced.
  bool submit_latest(int client, BatchRequest request);
  // Offline: blocks while the client's queue is full; false if the scheduler stops.
  bool submit_wait(int client, BatchRequest request);
  // Offline: the client submits no more; its last partial batch may run.
  void finish(int client);
  // Waits until the client has nothing queued or running.
  void drain(int client);

  struct Stats {
    std::uint64_t batches = 0;
    std::uint64_t images = 0;
    std::uint64_t replaced = 0;
    std::uint64_t errors = 0;
    std::uint64_t runs = 0;  // backend calls: one per input size in a batch
    std::array<std::uint64_t, kMaxBatchHistogram + 1> batch_histogram{};  // [size] = count
    std::size_t queued = 0;
  };
  Stats stats() const;
  const BatchSchedulerOptions& options() const { return options_; }
  const Detector& detector() const { return detector_; }

 private:
  struct Client {
    DecodeOptions decode;
    Callback callback;
    std::deque<BatchRequest> queue;
    bool finished = false;
    int running = 0;  // batches of this client being inferred
  };
  struct Job {
    int client;
    BatchRequest request;
  };

  InputSize input_size_of(const BatchRequest& request) const;
  void worker_loop();
  std::vector<Job> take_batch_locked(std::unique_lock<std::mutex>& lock);
  void run_batch(std::vector<Job>& jobs);

  const Detector& detector_;
  const BatchSchedulerOptions options_;
  StageMetrics& metrics_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;   // workers wait for requests
  std::condition_variable space_cv_;  // submitters / drainers wait for space
  std::map<int, std::shared_ptr<Client>> clients_;
  int next_client_ = 1;
  bool stop_ = false;
  Stats stats_;
  std::vector<std::thread> workers_;
};

}  // namespace vigil
