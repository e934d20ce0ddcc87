#include "store/jsonl_sink.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

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
    try {
      pending_ += line;
    } catch (...) {
      errors_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    ++pending_lines_;
    wake = pending_.size() >= kFlushBytes;
  }
  if (wake) cv_.notify_all();
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

}  // namespace vigil
