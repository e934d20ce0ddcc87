#include "media/packet_ring.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
}

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <limits>
#include <mutex>
#include <utility>
#include <vector>

namespace vigil {
namespace {

struct PacketRef {
  AVPacket* p = nullptr;
  explicit PacketRef(const AVPacket* src) : p(av_packet_clone(src)) {}
  PacketRef(PacketRef&& o) noexcept : p(std::exchange(o.p, nullptr)) {}
  PacketRef& operator=(PacketRef&& o) noexcept {
    std::swap(p, o.p);
    return *this;
  }
  PacketRef(const PacketRef&) = delete;
  ~PacketRef() { av_packet_free(&p); }
  bool key() const { return p && (p->flags & AV_PKT_FLAG_KEY) != 0; }
  std::size_t bytes() const { return p ? static_cast<std::size_t>(p->size) : 0; }
};

struct ParamsFreer {
  void operator()(AVCodecParameters* p) const { avcodec_parameters_free(&p); }
};
using ParamsPtr = std::shared_ptr<AVCodecParameters>;

ParamsPtr copy_params(const AVCodecParameters* par) {
  ParamsPtr out(avcodec_parameters_alloc(), ParamsFreer{});
  if (out && par) avcodec_parameters_copy(out.get(), par);
  return out;
}

// Source time base and origin: packet timestamps -> media seconds.
struct Clock {
  AVRational tb{1, 1};
  std::int64_t start = AV_NOPTS_VALUE;
  double offset = 0;
  double seconds(const AVPacket* p) const {
    std::int64_t ts = p->pts != AV_NOPTS_VALUE ? p->pts : p->dts;
    if (ts == AV_NOPTS_VALUE) return std::numeric_limits<double>::quiet_NaN();
    if (start != AV_NOPTS_VALUE) ts -= start;
    return static_cast<double>(ts) * av_q2d(tb) + offset;
  }
};

}  // namespace

struct ClipFeed::Impl {
  ParamsPtr params;
  Clock clock;
  std::size_t max_bytes = 0;
  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<PacketRef> queue;  // under mu
  std::size_t bytes = 0;        // under mu
  bool closed = false;          // under mu
  std::atomic<double> end{0};

  // Under mu: false when the reader fell max_bytes behind (the feed closes).
  bool add(const AVPacket* p) {
    if (closed) return true;
    if (bytes + static_cast<std::size_t>(p->size) > max_bytes) {
      closed = true;
      cv.notify_all();
      return false;
    }
    queue.emplace_back(p);
    bytes += queue.back().bytes();
    cv.notify_all();
    return true;
  }
  void close() {
    std::lock_guard lock(mu);
    closed = true;
    cv.notify_all();
  }
};

ClipFeed::ClipFeed(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClipFeed::~ClipFeed() = default;

AVPacket* ClipFeed::next(int wait_ms) {
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return !impl_->queue.empty() || impl_->closed; });
  if (impl_->queue.empty()) return nullptr;
  PacketRef r = std::move(impl_->queue.front());
  impl_->queue.pop_front();
  impl_->bytes -= r.bytes();
  return std::exchange(r.p, nullptr);
}

bool ClipFeed::closed() const {
  std::lock_guard lock(impl_->mu);
  return impl_->closed && impl_->queue.empty();
}
double ClipFeed::seconds_of(const AVPacket* packet) const { return impl_->clock.seconds(packet); }
const AVCodecParameters* ClipFeed::codec_parameters() const { return impl_->params.get(); }
const AVRational& ClipFeed::time_base() const { return impl_->clock.tb; }
void ClipFeed::extend_to(double end_s) {
  double cur = impl_->end.load();
  while (end_s > cur && !impl_->end.compare_exchange_weak(cur, end_s)) {
  }
}
double ClipFeed::end_s() const { return impl_->end.load(); }

struct PacketRing::Impl {
  double keep_s;
  std::size_t max_bytes;
  mutable std::mutex mu;  // guards everything below
  ParamsPtr params;
  Clock clock;
  std::deque<PacketRef> ring;
  std::size_t bytes = 0;
  std::vector<std::weak_ptr<ClipFeed>> feeds;
  std::uint64_t overflowed = 0;

  void clear() {
    ring.clear();
    bytes = 0;
  }
  void close_all() {
    for (auto& w : feeds)
      if (auto f = w.lock()) f->impl_->close();
    feeds.clear();
  }
  // Index of the next keyframe after the first packet; ring.size() if none.
  std::size_t second_keyframe() const {
    for (std::size_t i = 1; i < ring.size(); ++i)
      if (ring[i].key()) return i;
    return ring.size();
  }
  void drop_front(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      bytes -= ring.front().bytes();
      ring.pop_front();
    }
  }
  void trim() {
    // Before the first keyframe nothing is worth keeping.
    while (!ring.empty() && !ring.front().key()) drop_front(1);
    if (ring.empty()) return;
    const double newest = clock.seconds(ring.back().p);
    for (;;) {
      const std::size_t k = second_keyframe();
      if (k == ring.size()) break;
      const double t = clock.seconds(ring[k].p);
      const bool old_enough = std::isfinite(t) && std::isfinite(newest) && newest - t >= keep_s;
      if (!old_enough && bytes <= max_bytes) break;
      drop_front(k);
    }
  }
  void feed(const AVPacket* p) {
    std::erase_if(feeds, [&](std::weak_ptr<ClipFeed>& w) {
      auto f = w.lock();
      if (!f) return true;
      std::lock_guard lock(f->impl_->mu);
      if (f->impl_->closed) return true;
      if (!f->impl_->add(p)) {
        ++overflowed;
        return true;
      }
      return false;
    });
  }
};

PacketRing::PacketRing(double keep_s, std::size_t max_bytes) : impl_(std::make_unique<Impl>()) {
  impl_->keep_s = keep_s;
  impl_->max_bytes = max_bytes;
}
PacketRing::~PacketRing() {
  std::lock_guard lock(impl_->mu);
  impl_->close_all();
}

void PacketRing::begin_source(const AVCodecParameters* par, const AVRational& time_base, std::int64_t start_pts) {
  std::lock_guard lock(impl_->mu);
  impl_->close_all();
  impl_->clear();
  impl_->params = copy_params(par);
  impl_->clock.tb = time_base;
  impl_->clock.start = start_pts;
}

void PacketRing::push(const AVPacket* packet) {
  std::lock_guard lock(impl_->mu);
  if (!impl_->params) return;
  impl_->ring.emplace_back(packet);
  impl_->bytes += impl_->ring.back().bytes();
  impl_->feed(packet);
  impl_->trim();
}

void PacketRing::set_time_offset(double seconds) {
  std::lock_guard lock(impl_->mu);
  impl_->clock.offset = seconds;
}

std::shared_ptr<ClipFeed> PacketRing::open_feed(double from_s) {
  std::lock_guard lock(impl_->mu);
  auto& ring = impl_->ring;
  if (ring.empty() || !ring.front().key()) return nullptr;
  std::size_t start = 0;  // the last keyframe at or before from_s
  for (std::size_t i = 0; i < ring.size(); ++i) {
    if (!ring[i].key()) continue;
    const double t = impl_->clock.seconds(ring[i].p);
    if (std::isfinite(t) && t > from_s) break;
    start = i;
  }
  auto fi = std::make_unique<ClipFeed::Impl>();
  fi->params = impl_->params;
  fi->clock = impl_->clock;
  fi->max_bytes = impl_->max_bytes;
  for (std::size_t i = start; i < ring.size(); ++i) fi->add(ring[i].p);
  std::shared_ptr<ClipFeed> feed(new ClipFeed(std::move(fi)));
  impl_->feeds.push_back(feed);
  return feed;
}

void PacketRing::close_feeds() {
  std::lock_guard lock(impl_->mu);
  impl_->close_all();
}

PacketRing::Stats PacketRing::stats() const {
  std::lock_guard lock(impl_->mu);
  Stats s;
  s.packets = impl_->ring.size();
  s.bytes = impl_->bytes;
  if (!impl_->ring.empty()) {
    s.first_s = impl_->clock.seconds(impl_->ring.front().p);
    s.last_s = impl_->clock.seconds(impl_->ring.back().p);
  }
  s.feeds_overflowed = impl_->overflowed;
  return s;
}

}  // namespace vigil
