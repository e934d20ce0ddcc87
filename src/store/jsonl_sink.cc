#include "store/jsonl_sink.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <queue>
#include <system_error>
#include <tuple>

#include "store/event_json.h"

namespace vigil {

Result<std::unique_ptr<JsonlSink>> JsonlSink::open(const std::string& path) {
  if (path.empty()) return fail(ErrorCode::kInvalidArgument, "event log path is empty (use \"-\" for stdout)");
  if (path == "-") return std::unique_ptr<JsonlSink>(new JsonlSink(path, stdout, false));

  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path p(path);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec))
    return fail(ErrorCode::kNotFound,
                "cannot open event log '" + path + "': directory '" + dir.string() + "' does not exist");
  if (fs::is_directory(p, ec))
    return fail(ErrorCode::kBadInput, "cannot open event log '" + path + "': it is a directory");

  // "e": O_CLOEXEC, so a spawned process (ffmpeg, a VLM helper) does not inherit it.
  std::FILE* f = std::fopen(path.c_str(), "ae");
  if (!f) {
    const int err = errno;
    return fail(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kRuntime,
                "cannot open event log '" + path + "' for appending: " + std::strerror(err));
  }
  // We buffer whole lines ourselves; stdio's buffer would only split them.
  std::setvbuf(f, nullptr, _IONBF, 0);
  return std::unique_ptr<JsonlSink>(new JsonlSink(path, f, true));
}

JsonlSink::JsonlSink(std::string path, std::FILE* file, bool owns_file)
    : path_(std::move(path)), file_(file), owns_file_(owns_file) {
  flusher_ = std::thread([this] { flusher_loop(); });
}

JsonlSink::~JsonlSink() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  flusher_.join();
  write_out();
  if (owns_file_) std::fclose(file_);
}

void JsonlSink::write(const Event& event) noexcept {
  std::string line;
  try {
    // replace: a stream name or caption with invalid UTF-8 must not cost the event.
    line = to_json(event).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    line += '\n';
  } catch (...) {  // bad_alloc: count it like an I/O error rather than throw into a stream loop
    errors_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (pending_.size() + line.size() > kMaxPendingBytes) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (!append_locked(line)) return;
    wake = pending_.size() >= kFlushBytes;
  }
  if (wake) cv_.notify_all();
}

bool JsonlSink::append_locked(const std::string& line) noexcept {
  try {
    pending_ += line;
  } catch (...) {  // bad_alloc: counted like an I/O error
    errors_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  ++pending_lines_;
  return true;
}

void JsonlSink::write_line_wait(const std::string& line) noexcept {
  bool full = false;
  {
    std::lock_guard lock(mu_);
    if (!append_locked(line)) return;
    full = pending_.size() >= kFlushBytes;
  }
  if (full) write_out();
}

void JsonlSink::flush() noexcept { write_out(); }

void JsonlSink::flusher_loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, kFlushInterval, [&] { return stop_ || pending_.size() >= kFlushBytes; });
    if (stop_) break;
    if (pending_.empty()) continue;
    lock.unlock();
    write_out();
    lock.lock();
  }
}

void JsonlSink::write_out() noexcept {
  std::lock_guard io_lock(io_mu_);
  std::string chunk;
  std::uint64_t lines = 0;
  {
    std::lock_guard lock(mu_);
    chunk.swap(pending_);
    lines = pending_lines_;
    pending_lines_ = 0;
  }
  if (chunk.empty()) return;
  // Unbuffered FILE: fwrite loops over short writes and EINTR itself.
  const std::size_t n = std::fwrite(chunk.data(), 1, chunk.size(), file_);
  const bool ok = n == chunk.size() && std::fflush(file_) == 0;
  if (!ok) {
    errors_.fetch_add(lines, std::memory_order_relaxed);
    std::clearerr(file_);
  }
}

// ---- EventOrderSpool ----------------------------------------------------------

namespace {

// At equal media times: a stream's stream_up before what its loop saw.
enum class Producer { kCapture = 0, kStreamLoop = 1, kCaptions = 2 };

Producer producer_of(EventKind k) {
  switch (k) {
    case EventKind::kStreamUp:
    case EventKind::kStreamDown:
      return Producer::kCapture;
    case EventKind::kCaption:
      return Producer::kCaptions;
    default:
      return Producer::kStreamLoop;
  }
}

}  // namespace

// One temporary file of records: [double pts][uint32 length][line bytes].
struct EventOrderSpool::Spool {
  std::size_t stream_idx = 0;
  std::string stream;
  Producer producer = Producer::kStreamLoop;
  std::FILE* file = nullptr;
  std::mutex mu;  // one writer at a time (a producer is one thread, but stay safe)
  ~Spool() {
    if (file) std::fclose(file);
  }
};

EventOrderSpool::EventOrderSpool(std::vector<std::string> stream_order) : order_(std::move(stream_order)) {}
EventOrderSpool::~EventOrderSpool() = default;

void EventOrderSpool::add(const Event& event) noexcept {
  try {
    std::string line = to_json(event).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    line += '\n';
    const Producer producer = producer_of(event.kind);
    Spool* spool = nullptr;
    {
      std::lock_guard lock(mu_);
      for (auto& sp : spools_)
        if (sp->producer == producer && sp->stream == event.stream) spool = sp.get();
      if (!spool) {
        auto sp = std::make_unique<Spool>();
        sp->stream = event.stream;
        sp->producer = producer;
        const auto it = std::find(order_.begin(), order_.end(), event.stream);
        sp->stream_idx = it != order_.end() ? static_cast<std::size_t>(it - order_.begin()) : order_.size();
        sp->file = std::tmpfile();
        spool = sp.get();
        spools_.push_back(std::move(sp));
      }
    }
    std::lock_guard lock(spool->mu);
    const double pts = std::isnan(event.pts) ? 0.0 : event.pts;  // NaN would break the merge's ordering
    const auto len = static_cast<std::uint32_t>(line.size());
    if (!spool->file || std::fwrite(&pts, sizeof pts, 1, spool->file) != 1 ||
        std::fwrite(&len, sizeof len, 1, spool->file) != 1 || std::fwrite(line.data(), 1, len, spool->file) != len)
      errors_.fetch_add(1, std::memory_order_relaxed);
  } catch (...) {
    errors_.fetch_add(1, std::memory_order_relaxed);
  }
}

void EventOrderSpool::finish(JsonlSink& sink) noexcept {
  std::lock_guard lock(mu_);
  struct Head {
    double pts = 0;
    std::string line;
  };
  auto read_next = [](Spool& sp, Head& h) {
    std::uint32_t len = 0;
    if (std::fread(&h.pts, sizeof h.pts, 1, sp.file) != 1 || std::fread(&len, sizeof len, 1, sp.file) != 1) return false;
    h.line.resize(len);
    return std::fread(h.line.data(), 1, len, sp.file) == len;
  };
  std::vector<Head> heads(spools_.size());
  // Min-heap over the spools' heads: (pts, stream position, stream id, producer).
  auto later = [&](std::size_t a, std::size_t b) {
    const Spool& x = *spools_[a];
    const Spool& y = *spools_[b];
    return std::tie(heads[a].pts, x.stream_idx, x.stream, x.producer) >
           std::tie(heads[b].pts, y.stream_idx, y.stream, y.producer);
  };
  std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(later)> queue(later);
  try {
    for (std::size_t i = 0; i < spools_.size(); ++i) {
      Spool& sp = *spools_[i];
      if (!sp.file || std::fflush(sp.file) != 0) continue;
      std::rewind(sp.file);
      if (read_next(sp, heads[i])) queue.push(i);
    }
    while (!queue.empty()) {
      const std::size_t i = queue.top();
      queue.pop();
      sink.write_line_wait(heads[i].line);
      if (read_next(*spools_[i], heads[i])) queue.push(i);
    }
  } catch (...) {
    errors_.fetch_add(1, std::memory_order_relaxed);
  }
  spools_.clear();
  sink.flush();
}

}  // namespace vigil
