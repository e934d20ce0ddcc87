// JsonlSink: appends events as JSON Lines (one to_json(Event) object per line,
// see store/event_json.h) to a file, or to stdout when the path is "-".
//
// Buffering: write() only formats the line and appends it to an in-memory
// buffer; a flusher thread owned by the sink writes the buffer out at least
// every 200 ms (sooner once 64 KiB are pending), so a caller on a stream's
// thread never waits for the disk. flush() writes everything pending before it
// returns; the destructor flushes too.
// Bounded buffer (overflow policy: reject the newest): while 8 MiB are
// pending (the disk is stalled), further lines are dropped and counted in
// dropped().
// I/O errors are not fatal: the lines of a failed write are lost, counted in
// errors(), and the next write tries again. Nothing here throws after open().
//
// Threads: write(), flush(), errors(), dropped() from any thread; the
// destructor (which joins the flusher) only once no other call can run.
// Ownership: the file is opened in append mode (created, 0666 less the umask,
// if missing) and owned by the sink; stdout is borrowed, never closed.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/event.h"

namespace vigil {

class JsonlSink {
 public:
  static constexpr std::chrono::milliseconds kFlushInterval{200};
  static constexpr std::size_t kFlushBytes = 64 * 1024;
  static constexpr std::size_t kMaxPendingBytes = 8 * 1024 * 1024;

  // path: a file (its directory must exist) or "-" for stdout.
  // Errors (kNotFound, kBadInput, kRuntime) name the path.
  static Result<std::unique_ptr<JsonlSink>> open(const std::string& path);

  ~JsonlSink();
  JsonlSink(const JsonlSink&) = delete;
  JsonlSink& operator=(const JsonlSink&) = delete;

  void write(const Event& event) noexcept;
  // Appends one formatted line (ending in '\n') without ever dropping it:
  // when 64 KiB are pending, writes them out on the caller's thread first.
  // For bulk writers (EventOrderSpool::finish), not for stream threads.
  void write_line_wait(const std::string& line) noexcept;

  // Blocks until every line written before the call has been handed to the OS.
  void flush() noexcept;

  const std::string& path() const { return path_; }
  std::uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }   // lines lost to I/O errors
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }  // lines rejected, buffer full

 private:
  JsonlSink(std::string path, std::FILE* file, bool owns_file);
  // Under mu_: appends one line to pending_; false (counted in errors_) when memory runs out.
  bool append_locked(const std::string& line) noexcept;
  void flusher_loop();
  void write_out() noexcept;  // takes io_mu_, then the pending buffer

  const std::string path_;
  std::FILE* const file_;
  const bool owns_file_;

  std::mutex mu_;  // guards pending_, pending_lines_, stop_
  std::condition_variable cv_;
  std::string pending_;
  std::uint64_t pending_lines_ = 0;
  bool stop_ = false;

  std::mutex io_mu_;  // one writer to file_ at a time, so chunks keep their order

  std::atomic<std::uint64_t> errors_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::thread flusher_;
};

// EventOrderSpool: makes an offline run's event log independent of how the
// streams' threads interleave (two runs give byte-identical files once
// wall_time is removed). add() spools each formatted event to an unnamed
// temporary file (std::tmpfile: removed by the OS however the process ends),
// one per (stream, producer); finish() merges them into the sink ordered by
//   (media time, the stream's position in stream_order, producer, arrival).
// Producers are the threads that publish a stream's events, each in an order
// of its own that does not depend on timing: the stream loop (track, zone,
// dwell and line events), the capture thread (stream_up/stream_down) and the
// caption worker (caption). Streams not in stream_order sort after the others,
// by id. Memory is O(streams): the events wait on disk, not in RAM; nothing
// reaches the sink before finish() (an offline run writes its log at the end).
// I/O errors lose the events concerned, counted in errors().
// Threads: add() from any thread; finish() once, after the last add().
class EventOrderSpool {
 public:
  explicit EventOrderSpool(std::vector<std::string> stream_order);
  ~EventOrderSpool();
  EventOrderSpool(const EventOrderSpool&) = delete;
  EventOrderSpool& operator=(const EventOrderSpool&) = delete;

  void add(const Event& event) noexcept;
  void finish(JsonlSink& sink) noexcept;
  std::uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }

 private:
  struct Spool;
  std::vector<std::string> order_;
  std::mutex mu_;  // guards spools_
  std::vector<std::unique_ptr<Spool>> spools_;
  std::atomic<std::uint64_t> errors_{0};
};

}  // namespace vigil
