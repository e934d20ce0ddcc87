#include "pipeline/stream_capture.h"

#include <spdlog/spdlog.h>

#include "media/endpoint_probe.h"
#include "media/reconnect_policy.h"
#include "pipeline/live_rate_gate.h"

namespace vigil {

VideoSourceOptions capture_source_options(const CaptureOptions& options) {
  VideoSourceOptions so = options.source;
  const int watchdog_ms = static_cast<int>(options.watchdog_s * 1000);
  so.timeout_ms = std::min(so.timeout_ms, watchdog_ms);
  // A server that stopped answering keeps its TCP connection open: only a
  // deadline on frames, not on I/O calls, catches it.
  if (auto spec = parse_source_url(so.url); spec && spec->is_live()) so.frame_timeout_ms = watchdog_ms;
  return so;
}

StreamCapture::StreamCapture(std::string stream_id, CaptureOptions options, LatestSlot<CapturedFrame>& slot,
                             StageMetrics& metrics, StatusCallback on_status)
    : id_(std::move(stream_id)), options_(std::move(options)), slot_(slot), metrics_(metrics),
      on_status_(std::move(on_status)) {}

StreamCapture::~StreamCapture() { stop(); }

void StreamCapture::start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
}

void StreamCapture::stop() {
  stop_ = true;
  slot_.close();
  if (thread_.joinable()) thread_.join();
}

StreamCapture::Stats StreamCapture::stats() const {
  std::lock_guard lock(mu_);
  Stats s = stats_;
  s.measured_fps = rate_.rate();
  return s;
}

bool StreamCapture::sleep_for(double seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!stop_ && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::min(std::chrono::duration<double>(0.05),
                                         std::chrono::duration<double>(until - std::chrono::steady_clock::now())));
  return !stop_;
}

bool StreamCapture::wait_backoff(double seconds) {
  // The first probe waits a moment so a server that just closed is not seen as back.
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  auto spec = parse_source_url(options_.source.url);
  if (!sleep_for(std::min(seconds, 1.0))) return false;
  while (!stop_ && std::chrono::steady_clock::now() < until) {
    if (spec && spec->is_live() && endpoint_reachable(*spec, 500)) {
      // Give a server that just came back (or a one-client listener that our
      // probe just used up) a moment before the real open.
      return sleep_for(1.0);
    }
    if (!sleep_for(0.5)) return false;
  }
  return !stop_;
}

void StreamCapture::run() {
  using clock = std::chrono::steady_clock;
  ReconnectPolicy backoff{options_.backoff_initial_s, options_.backoff_max_s, 0};
  const VideoSourceOptions so = capture_source_options(options_);
  std::int64_t seq = 0;
  double pts_offset = 0, last_pts = -1;
  enum class State { kUnknown, kUp, kDown } state = State::kUnknown;

  auto go_down = [&](const std::string& reason) {
    // The reason is shown and stored (log, stats, stream_down event): never
    // with a password, whatever produced it.
    const std::string why = redact_urls_in(reason);
    {
      std::lock_guard lock(mu_);
      stats_.up = false;
      stats_.last_error = why;
    }
    if (state != State::kDown) {
      spdlog::warn("stream {}: down: {}", id_, why);
      if (on_status_) on_status_(EventKind::kStreamDown, why);
    }
    state = State::kDown;
  };
  auto end = [&]() {
    std::lock_guard lock(mu_);
    stats_.ended = true;
    stats_.up = false;
  };

  while (!stop_) {
    auto src = VideoSource::open(so, &stop_);
    if (stop_) break;
    if (!src) {
      go_down(src.error().message);
      if (options_.offline) break;
      if (!wait_backoff(backoff.next_delay())) break;
      std::lock_guard lock(mu_);
      ++stats_.reconnects;
      continue;
    }
    VideoSource& s = **src;
    const bool is_file = s.spec().kind == SourceKind::kFile;
    const double fps = s.fps() > 0 ? s.fps() : 25.0;
    {
      std::lock_guard lock(mu_);
      stats_.up = true;
      stats_.nominal_fps = s.fps();
      stats_.width = s.width();
      stats_.height = s.height();
    }
    if (state != State::kUp) {
      spdlog::info("stream {}: up ({} {}x{}{} @ {:.2f} fps, decoder {}, hwaccel {})", id_, s.codec(), s.width(),
                   s.height(), s.rotation() ? " turned " + std::to_string(s.rotation()) + " degrees" : "", s.fps(),
                   s.codec(), s.hwaccel());
      if (on_status_) on_status_(EventKind::kStreamUp, s.codec());
    }
    state = State::kUp;
    backoff.reset();
    // Pacing anchor: media time `anchor_pts` is shown at wall time `anchor_wall`.
    auto anchor_wall = clock::now();
    double anchor_pts = -1;
    // Only real-time sources have backlogs to drop; files are paced above,
    // and HLS segments or HTTP files come in bursts by nature.
    const bool gated = !options_.offline && s.realtime();
    LiveRateGate gate(s.fps());
    bool reconnect = false;

    while (!stop_ && !reconnect) {
      const auto t0 = clock::now();
      auto r = s.read();
      metrics_.add(Stage::kDecode, std::chrono::duration<double, std::milli>(clock::now() - t0).count());
      if (stop_) break;
      if (!r) {
        go_down(r.error().message);
        if (options_.offline && is_file) {
          end();
          slot_.close();
          return;
        }
        reconnect = true;
        break;
      }
      if (!r->has_value()) {  // end of input
        if (is_file && options_.loop && s.rewind()) {
          pts_offset = last_pts + 1.0 / fps;
          anchor_pts = -1;
          continue;
        }
        if (is_file) {
          spdlog::info("stream {}: end of file", id_);
          end();
          slot_.close();
          return;
        }
        go_down("the stream ended");
        reconnect = true;
        break;
      }
      DecodedFrame& df = **r;
      double pts = pts_offset + df.pts;
      if (pts <= last_pts) pts = last_pts + 1.0 / fps;  // keep media time increasing
      last_pts = pts;
      if (options_.pace && is_file) {
        const auto now = clock::now();
        if (anchor_pts < 0 || now - (anchor_wall + std::chrono::duration_cast<clock::duration>(
                                                      std::chrono::duration<double>(pts - anchor_pts))) >
                                  std::chrono::seconds(1)) {
          anchor_pts = pts;  // first frame, or fell behind by > 1 s: re-anchor
          anchor_wall = now;
        }
        const auto target =
            anchor_wall + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(pts - anchor_pts));
        while (!stop_ && clock::now() < target)
          std::this_thread::sleep_for(std::min<clock::duration>(target - clock::now(), std::chrono::milliseconds(50)));
      }
      const auto captured = clock::now();
      bool overwritten = false, behind = false;
      if (options_.offline) {
        if (!slot_.put_wait(CapturedFrame{std::move(df.frame), seq++, pts, captured})) return;
      } else if (!gated || gate.admit(std::chrono::duration<double>(captured.time_since_epoch()).count(), pts)) {
        overwritten = slot_.put(CapturedFrame{std::move(df.frame), seq++, pts, captured});
      } else {
        behind = true;  // part of a burst behind real time: latest wins
      }
      rate_.tick();
      std::lock_guard lock(mu_);
      ++stats_.frames;
      if (overwritten) ++stats_.overwritten;
      if (behind) ++stats_.behind;
      stats_.corrupt_packets = static_cast<std::uint64_t>(s.corrupt_packets());
    }
    if (stop_) break;
    if (!wait_backoff(backoff.next_delay())) break;
    std::lock_guard lock(mu_);
    ++stats_.reconnects;
  }
  end();
  slot_.close();
}

}  // namespace vigil
