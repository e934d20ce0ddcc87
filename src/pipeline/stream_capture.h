// StreamCapture: the capture thread of one stream. Opens the source (with
// reconnect and capped exponential backoff), decodes, paces files at their
// native rate in live mode, and publishes each frame into a LatestSlot:
// live mode replaces a frame the stream loop has not taken (a counted drop)
// and, for real-time sources (VideoSource::realtime: RTSP, webcams, live
// HTTP streams), drops frames that arrive in a burst faster than the source
// rate (after a stall: latest wins, see LiveRateGate); offline mode waits
// instead. A watchdog marks a live stream down when no frame arrives for watchdog_s,
// whatever FFmpeg is waiting on (VideoSourceOptions::frame_timeout_ms), and
// reconnects with backoff.
// Errors, log lines, Stats::last_error and stream_down reasons name the
// source by its redacted URL (redact_url: no password); only the VideoSource
// opens the real one.
// Threads: start/stop/stats from any thread; the callback runs on the capture thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/event.h"
#include "media/latest_slot.h"
#include "media/video_source.h"
#include "metrics/rate_meter.h"
#include "metrics/stage_metrics.h"

namespace vigil {

struct CapturedFrame {
  std::shared_ptr<const VideoFrame> frame;
  std::int64_t seq = 0;  // 0, 1, 2... over the whole run (loops and reconnects included)
  double pts = 0;        // media seconds, increasing across loops
  std::chrono::steady_clock::time_point capture_time{};
};

struct CaptureOptions {
  VideoSourceOptions source;
  bool loop = false;      // files: start again at the end
  bool pace = true;       // files: deliver at the native frame rate (live mode)
  bool offline = false;   // never drop: wait for the stream loop; end at EOF or on a fatal error
  double watchdog_s = 10;
  double backoff_initial_s = 1;
  double backoff_max_s = 30;
  // Event clips (record/recorder.h): every open source feeds this ring; its
  // times are the frames' media times (the loop and reconnect offsets).
  std::shared_ptr<PacketRing> ring;
};

// The options a capture opens its source with: the I/O timeout capped at
// watchdog_s, and for live sources (RTSP, HTTP, webcams) the frame watchdog:
// no frame for watchdog_s fails the read, whatever FFmpeg is waiting on.
// Files have none (pacing and offline waits are not silence).
VideoSourceOptions capture_source_options(const CaptureOptions& options);

class StreamCapture {
 public:
  // Called with stream_up / stream_down (text = reason) on the capture thread.
  using StatusCallback = std::function<void(EventKind kind, const std::string& reason)>;

  StreamCapture(std::string stream_id, CaptureOptions options, LatestSlot<CapturedFrame>& slot,
                StageMetrics& metrics, StatusCallback on_status);
  ~StreamCapture();  // stops and joins
  StreamCapture(const StreamCapture&) = delete;
  StreamCapture& operator=(const StreamCapture&) = delete;

  void start();
  void stop();

  struct Stats {
    std::uint64_t frames = 0;        // decoded frames
    std::uint64_t overwritten = 0;   // replaced in the slot before the stream loop took them
    std::uint64_t behind = 0;        // live: dropped as part of a burst above the source rate
    std::uint64_t reconnects = 0;
    std::uint64_t corrupt_packets = 0;
    bool up = false;
    bool ended = false;              // a file reached its end (no loop), or offline gave up
    double nominal_fps = 0;
    double measured_fps = 0;  // frames decoded per second, last 2 s
    int width = 0, height = 0;
    std::string last_error;
  };
  Stats stats() const;

 private:
  struct RunState;
  enum class SourceEnd;
  using clock = std::chrono::steady_clock;
  // Assumed frame rate of a source that states none.
  static constexpr double kFallbackFps = 25.0;

  // The capture thread: open (with backoff) -> read_source -> ... until stop or the end.
  void run();
  // Reads one open source until it fails, ends or the capture stops.
  SourceEnd read_source(RunState& st, VideoSource& s);
  // Hands one frame to the slot (live: replace or drop a burst; offline:
  // wait); false when the slot closed.
  bool publish(RunState& st, std::shared_ptr<const VideoFrame> frame, double pts, bool gated, class LiveRateGate& gate);
  void go_down(RunState& st, const std::string& reason);
  // Hands the source to options.ring (a new source there), at the run's media time.
  void attach_ring(RunState& st, VideoSource& s);
  void mark_up(RunState& st, const VideoSource& s);
  void mark_ended();  // the end of the input (or a fatal offline error): stats + slot closed
  bool sleep_for(double seconds);  // false when stopping
  // Waits out a backoff delay, ending early when a network source answers a
  // TCP connect again; false when stopping.
  bool wait_backoff(double seconds);

  const std::string id_;
  const CaptureOptions options_;
  LatestSlot<CapturedFrame>& slot_;
  StageMetrics& metrics_;
  StatusCallback on_status_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  Stats stats_;
  RateMeter rate_;
};

}  // namespace vigil
