// PacketRing: the last keep_s seconds of one stream's compressed video
// packets (references, no copy, no re-encode), always starting at a
// keyframe, and the feeds that clips are cut from.
//
// The capture thread's VideoSource pushes every packet of its video stream
// (push: one av_packet_ref and a deque append under a short lock). The ring
// keeps whole GOPs: it drops the oldest GOP while the next keyframe is
// still at least keep_s before the newest packet, so it always holds the
// keyframe at or before "newest - keep_s" and everything after it. Memory is
// bounded by max_bytes too (oldest GOPs go first; the newest GOP stays).
//
// A ClipFeed starts with the ring's packets from the keyframe at or before
// `from_s` and then receives every later packet (bounded: max_bytes; a feed
// whose reader falls that far behind is closed, counted as overflowed). A new
// source (reconnect, another codec) closes every open feed: a clip never
// mixes two sources. Times are media seconds of the source (0 = its start)
// plus the offset the capture sets (looping files: media time increases).
// Threads: push/begin_source/set_time_offset from the capture thread; feeds
// and stats from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

struct AVPacket;
struct AVCodecParameters;
struct AVRational;

namespace vigil {

class ClipFeed;

class PacketRing {
 public:
  explicit PacketRing(double keep_s, std::size_t max_bytes = 64u << 20);
  ~PacketRing();
  PacketRing(const PacketRing&) = delete;
  PacketRing& operator=(const PacketRing&) = delete;

  // Capture thread (VideoSource): a new source opened (clears the ring,
  // closes the feeds), and each of its video packets.
  void begin_source(const AVCodecParameters* par, const AVRational& time_base, std::int64_t start_pts);
  void push(const AVPacket* packet);
  void set_time_offset(double seconds);

  // A feed from the keyframe at or before from_s (the ring's first keyframe
  // when from_s is older); nullptr while the ring has no keyframe yet.
  std::shared_ptr<ClipFeed> open_feed(double from_s);
  // Closes every feed (the source ended): their readers finish what they have.
  void close_feeds();

  struct Stats {
    std::size_t packets = 0;
    std::size_t bytes = 0;
    double first_s = 0, last_s = 0;  // media time span held (0, 0 when empty)
    std::uint64_t feeds_overflowed = 0;
  };
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What a clip writer reads: the packets of one source in decode order.
// Threads: next() and end_s() from the writer; extend_to() from any thread.
class ClipFeed {
 public:
  ~ClipFeed();
  ClipFeed(const ClipFeed&) = delete;
  ClipFeed& operator=(const ClipFeed&) = delete;

  // The next packet (a reference the caller owns; free with av_packet_free),
  // waiting up to wait_ms for one; nullptr on timeout or once the feed is
  // closed and drained (closed() tells which).
  AVPacket* next(int wait_ms);
  bool closed() const;
  // Media time of a packet of this feed (its pts, else dts), seconds.
  double seconds_of(const AVPacket* packet) const;
  const AVCodecParameters* codec_parameters() const;
  const AVRational& time_base() const;

  // The clip's end, media seconds; only ever moves later (overlapping
  // events share one clip).
  void extend_to(double end_s);
  double end_s() const;

 private:
  friend class PacketRing;
  struct Impl;
  explicit ClipFeed(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
