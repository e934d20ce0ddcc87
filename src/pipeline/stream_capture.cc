#include "pipeline/stream_capture.h"

#include <spdlog/spdlog.h>

#include "media/endpoint_probe.h"
#include "media/reconnect_policy.h"
#include "pipeline/live_rate_gate.h"

namespace vigil {
namespace {

// Paces a file at its native rate: media time `anchor_pts_` is shown at wall
// time `anchor_wall_`; a frame later than kMaxLag re-anchors (no catching up).
class FilePacer {
 public:
  void restart() { anchor_pts_ = -1; }
  // Sleeps until the frame at media time pts is due (or stop).
  void wait_until_due(double pts, const std::atomic<bool>& stop);

 private:
  static constexpr auto kMaxLag = std::chrono::seconds(1);
  std::chrono::steady_clock::time_point anchor_wall_ = std::chrono::steady_clock::now();
  double anchor_pts_ = -1;
};

void FilePacer::wait_until_due(double pts, const std::atomic<bool>& stop) {
  using clock = std::chrono::steady_clock;
  const auto now = clock::now();
  const auto due = [&] {
    return anchor_wall_ + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(pts - anchor_pts_));
  };
  if (anchor_pts_ < 0 || now - due() > kMaxLag) {
    anchor_pts_ = pts;  // first frame, or fell behind by more than kMaxLag: re-anchor
    anchor_wall_ = now;
  }
  const auto target = due();
  while (!stop && clock::now() < target)
    std::this_thread::sleep_for(std::min<clock::duration>(target - clock::now(), std::chrono::milliseconds(50)));
}

}  // namespace

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

// What the capture thread keeps across reconnects (capture thread only).
struct StreamCapture::RunState {
  enum class Link { kUnknown, kUp, kDown };
  std::int64_t seq = 0;    // frames published, over the whole run
  double pts_offset = 0;   // added to the source's pts: media time increases across loops
  double last_pts = -1;    // media time of the last frame
  bool rebase_ring = false;  // the next frame is the first of a source (options.ring)
  Link link = Link::kUnknown;
};

// How one open source ended.
enum class StreamCapture::SourceEnd { kReconnect, kFinished, kStopped };

void StreamCapture::run() {
  ReconnectPolicy backoff{options_.backoff_initial_s, options_.backoff_max_s, 0};
  const VideoSourceOptions so = capture_source_options(options_);
  RunState st;
  while (!stop_) {
    auto src = VideoSource::open(so, &stop_);
    if (stop_) break;
    if (src) {
      attach_ring(st, **src);
      mark_up(st, **src);
      backoff.reset();
      const SourceEnd end = read_source(st, **src);
      if (end == SourceEnd::kFinished) return;
      if (end == SourceEnd::kStopped) break;
    } else {
      go_down(st, src.error().message);
      if (options_.offline) break;
    }
    if (!wait_backoff(backoff.next_delay())) break;
    std::lock_guard lock(mu_);
    ++stats_.reconnects;
  }
  mark_ended();
}

void StreamCapture::attach_ring(RunState& st, VideoSource& s) {
  if (!options_.ring) return;
  s.set_packet_ring(options_.ring);
  options_.ring->set_time_offset(st.pts_offset);
  st.rebase_ring = true;
}

void StreamCapture::go_down(RunState& st, const std::string& reason) {
  // The reason is shown and stored (log, stats, stream_down event): never
  // with a password, whatever produced it.
  const std::string why = redact_urls_in(reason);
  {
    std::lock_guard lock(mu_);
    stats_.up = false;
    stats_.last_error = why;
  }
  if (st.link != RunState::Link::kDown) {
    spdlog::warn("stream {}: down: {}", id_, why);
    if (on_status_) on_status_(EventKind::kStreamDown, why);
  }
  st.link = RunState::Link::kDown;
}

void StreamCapture::mark_up(RunState& st, const VideoSource& s) {
  {
    std::lock_guard lock(mu_);
    stats_.up = true;
    stats_.nominal_fps = s.fps();
    stats_.width = s.width();
    stats_.height = s.height();
  }
  if (st.link != RunState::Link::kUp) {
    spdlog::info("stream {}: up ({} {}x{}{} @ {:.2f} fps, decoder {}, hwaccel {})", id_, s.codec(), s.width(), s.height(),
                 s.rotation() ? " turned " + std::to_string(s.rotation()) + " degrees" : "", s.fps(), s.codec(),
                 s.hwaccel());
    if (on_status_) on_status_(EventKind::kStreamUp, s.codec());
  }
  st.link = RunState::Link::kUp;
}

void StreamCapture::mark_ended() {
  {
    std::lock_guard lock(mu_);
    stats_.ended = true;
    stats_.up = false;
  }
  slot_.close();
}

StreamCapture::SourceEnd StreamCapture::read_source(RunState& st, VideoSource& s) {
  const bool is_file = s.spec().kind == SourceKind::kFile;
  const double fps = s.fps() > 0 ? s.fps() : kFallbackFps;
  FilePacer pacer;
  // Only real-time sources have backlogs to drop; files are paced, and HLS
  // segments or HTTP files come in bursts by nature.
  const bool gated = !options_.offline && s.realtime();
  LiveRateGate gate(s.fps());
  while (!stop_) {
    const auto t0 = clock::now();
    auto r = s.read();
    metrics_.add(Stage::kDecode, std::chrono::duration<double, std::milli>(clock::now() - t0).count());
    if (stop_) return SourceEnd::kStopped;
    if (!r) {
      go_down(st, r.error().message);
      if (options_.offline && is_file) {
        mark_ended();
        return SourceEnd::kFinished;
      }
      return SourceEnd::kReconnect;
    }
    if (!r->has_value()) {  // end of input
      if (is_file && options_.loop && s.rewind()) {
        st.pts_offset = st.last_pts + 1.0 / fps;
        attach_ring(st, s);  // a new pass is a new source for clips
        pacer.restart();
        continue;
      }
      if (is_file) {
        spdlog::info("stream {}: end of file", id_);
        mark_ended();
        return SourceEnd::kFinished;
      }
      go_down(st, "the stream ended");
      return SourceEnd::kReconnect;
    }
    DecodedFrame& df = **r;
    if (options_.ring && st.rebase_ring && st.last_pts >= 0 && st.pts_offset + df.pts <= st.last_pts) {
      // A reconnected source starts its clock again: move it after the last
      // frame, so the frames' and the ring's media times stay one clock.
      st.pts_offset = st.last_pts + 1.0 / fps - df.pts;
      options_.ring->set_time_offset(st.pts_offset);
    }
    st.rebase_ring = false;
    double pts = st.pts_offset + df.pts;
    if (pts <= st.last_pts) pts = st.last_pts + 1.0 / fps;  // keep media time increasing
    st.last_pts = pts;
    if (options_.pace && is_file) pacer.wait_until_due(pts, stop_);
    if (!publish(st, std::move(df.frame), pts, gated, gate)) return SourceEnd::kFinished;
    std::lock_guard lock(mu_);
    stats_.corrupt_packets = static_cast<std::uint64_t>(s.corrupt_packets());
  }
  return SourceEnd::kStopped;
}

bool StreamCapture::publish(RunState& st, std::shared_ptr<const VideoFrame> frame, double pts, bool gated,
                            LiveRateGate& gate) {
  const auto captured = clock::now();
  bool overwritten = false, behind = false;
  if (options_.offline) {
    if (!slot_.put_wait(CapturedFrame{std::move(frame), st.seq++, pts, captured})) return false;
  } else if (!gated || gate.admit(std::chrono::duration<double>(captured.time_since_epoch()).count(), pts)) {
    overwritten = slot_.put(CapturedFrame{std::move(frame), st.seq++, pts, captured});
  } else {
    behind = true;  // part of a burst behind real time: latest wins
  }
  rate_.tick();
  std::lock_guard lock(mu_);
  ++stats_.frames;
  if (overwritten) ++stats_.overwritten;
  if (behind) ++stats_.behind;
  return true;
}


}  // namespace vigil
