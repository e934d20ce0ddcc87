#include "record/recorder.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "media/clip_writer.h"
#include "render/event_snapshot.h"

namespace vigil {
namespace fs = std::filesystem;

namespace {

constexpr int kClipIdleMs = 5000;      // a clip whose source sends nothing for this long ends there
constexpr double kReapEveryS = 1.0;    // the writer joins finished clip threads this often
constexpr double kBytesPerGb = 1e9;

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// "20261202T162400Z", and "-2", "-3"... for later recorders of this process started in the same second.
std::string session_name() {
  static std::mutex mu;
  static std::map<std::string, int> used;
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  std::lock_guard lock(mu);
  const int n = ++used[buf];
  return n == 1 ? std::string(buf) : std::string(buf) + "-" + std::to_string(n);
}

Result<std::string> writable_dir(const std::string& dir) {
  std::error_code ec;
  const fs::path p = fs::absolute(fs::path(dir), ec).lexically_normal();
  if (ec) return fail(ErrorCode::kInvalidArgument, "record.dir: '" + dir + "': " + ec.message());
  fs::create_directories(p, ec);
  if (ec) return fail(ErrorCode::kInvalidArgument, "record.dir: '" + dir + "' cannot be created: " + ec.message());
  if (!fs::is_directory(p)) return fail(ErrorCode::kInvalidArgument, "record.dir: '" + dir + "' is not a directory");
  const fs::path probe = p / (".vigil-write-test-" + std::to_string(::getpid()));
  {
    std::ofstream f(probe);
    if (!(f << "ok") || !f.flush())
      return fail(ErrorCode::kInvalidArgument, "record.dir: '" + dir + "' is not writable");
  }
  fs::remove(probe, ec);
  std::string s = p.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

bool is_media_file(const fs::path& p) { return p.extension() == ".jpg" || p.extension() == ".mp4"; }

}  // namespace

std::vector<std::string> files_to_expire(std::vector<MediaFile> files, const RetentionConfig& retention, double now) {
  struct Group {
    std::string key;
    double mtime = 0;
    std::uint64_t bytes = 0;
    std::vector<std::string> paths;
  };
  std::map<std::string, Group> by_event;
  std::uint64_t total = 0;
  for (auto& f : files) {
    const fs::path p(f.path);
    const std::string key = (p.parent_path() / p.stem()).string();
    Group& g = by_event[key];
    g.key = key;
    g.mtime = std::max(g.mtime, f.mtime);
    g.bytes += f.bytes;
    g.paths.push_back(std::move(f.path));
    total += f.bytes;
  }
  std::vector<Group> groups;
  for (auto& [key, g] : by_event) groups.push_back(std::move(g));
  std::sort(groups.begin(), groups.end(),
            [](const Group& a, const Group& b) { return a.mtime != b.mtime ? a.mtime < b.mtime : a.key < b.key; });
  const double oldest_kept = now - retention.days * 86400.0;
  const double max_bytes = retention.max_gb * kBytesPerGb;
  std::vector<std::string> out;
  for (auto& g : groups) {
    const bool too_old = retention.days > 0 && g.mtime < oldest_kept;
    const bool too_big = retention.max_gb > 0 && static_cast<double>(total) > max_bytes;
    if (!too_old && !too_big) break;  // the rest are younger, and the total fits
    total -= g.bytes;
    for (auto& p : g.paths) out.push_back(std::move(p));
  }
  return out;
}

// A clip being written: its feed, its file, its thread.
struct StreamRecording::OpenClip {
  std::shared_ptr<ClipFeed> feed;
  std::string path;
  std::thread thread;
  bool done = false;  // under the recorder's lock
};

struct Recorder::Impl {
  RecorderConfig config;
  std::string dir;
  std::string session;
  ExpiredCallback on_expired;

  struct SnapshotJob {
    std::string path;
    std::shared_ptr<const VideoFrame> frame;
    std::vector<Detection> boxes;
    std::shared_ptr<const std::vector<std::string>> class_names;
  };

  mutable std::mutex mu;  // guards everything below
  std::condition_variable wake;
  std::condition_variable retention_done;
  std::deque<SnapshotJob> snapshots;
  std::vector<std::shared_ptr<StreamRecording::OpenClip>> clips;
  std::vector<std::weak_ptr<PacketRing>> rings;
  bool stopping = false;
  bool writer_exited = false;
  bool retention_asked = false;
  std::uint64_t retention_runs = 0;
  RecorderStats stats;
  std::thread writer;

  std::string media_path(const std::string& stream, const std::string& id, const char* ext) const {
    return dir + "/" + stream + "/" + session + "/" + id + ext;
  }

  std::size_t clips_open_locked() const {
    return static_cast<std::size_t>(
        std::count_if(clips.begin(), clips.end(), [](const auto& c) { return !c->done; }));
  }

  // A clip thread.
  void write_clip(StreamRecording::OpenClip& clip) {
    auto r = write_mp4_clip(*clip.feed, clip.path, kClipIdleMs);
    std::lock_guard lock(mu);
    if (r) {
      ++stats.clips;
    } else {
      ++stats.errors;
      spdlog::warn("recorder: {}", r.error().message);
    }
    clip.done = true;
    wake.notify_all();  // the writer joins the thread (and stop() may be waiting for it)
  }

  void write_snapshot(const SnapshotJob& job) {
    std::error_code ec;
    fs::create_directories(fs::path(job.path).parent_path(), ec);
    auto r = write_event_snapshot(job.path, *job.frame, job.boxes, *job.class_names);
    std::lock_guard lock(mu);
    if (r) {
      ++stats.snapshots;
    } else {
      ++stats.errors;
      spdlog::warn("recorder: {}", r.error().message);
    }
  }

  // Joins the clip threads that finished (writer thread).
  void reap_clips(std::unique_lock<std::mutex>& lock) {
    std::vector<std::shared_ptr<StreamRecording::OpenClip>> finished;
    auto it = std::partition(clips.begin(), clips.end(), [](const auto& c) { return !c->done; });
    finished.assign(std::make_move_iterator(it), std::make_move_iterator(clips.end()));
    clips.erase(it, clips.end());
    lock.unlock();
    for (auto& c : finished)
      if (c->thread.joinable()) c->thread.join();
    lock.lock();
  }

  std::vector<MediaFile> list_media() const {
    std::vector<MediaFile> out;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (!it->is_regular_file(ec) || !is_media_file(it->path())) continue;
      struct stat st {};
      if (::stat(it->path().c_str(), &st) != 0) continue;
      out.push_back({it->path().string(), static_cast<std::uint64_t>(st.st_size),
                     static_cast<double>(st.st_mtim.tv_sec) + st.st_mtim.tv_nsec * 1e-9});
    }
    return out;
  }

  // One retention pass (writer thread, outside the lock).
  void retention_pass() {
    auto files = list_media();
    std::uint64_t total = 0;
    std::map<std::string, std::uint64_t> sizes;
    for (const auto& f : files) {
      total += f.bytes;
      sizes[f.path] = f.bytes;
    }
    std::vector<std::string> deleted;
    std::uint64_t deleted_bytes = 0;
    for (auto& path : files_to_expire(std::move(files), config.retention, unix_now())) {
      std::error_code ec;
      if (fs::remove(path, ec)) {
        deleted_bytes += sizes[path];
        deleted.push_back(std::move(path));
        fs::remove(fs::path(deleted.back()).parent_path(), ec);  // only when empty
      }
    }
    if (!deleted.empty()) {
      spdlog::info("recorder: retention deleted {} files ({} bytes)", deleted.size(), deleted_bytes);
      if (on_expired) on_expired(deleted);
    }
    std::lock_guard lock(mu);
    stats.deleted_files += deleted.size();
    stats.deleted_bytes += deleted_bytes;
    stats.disk_bytes = total - deleted_bytes;
  }

  void writer_loop() {
    using clock = std::chrono::steady_clock;
    const auto every = std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(config.retention_every_s));
    const auto reap_every = std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(kReapEveryS));
    auto next_retention = clock::now();  // a first pass at start
    std::unique_lock lock(mu);
    for (;;) {
      wake.wait_until(lock, std::min(next_retention, clock::now() + reap_every),
                      [&] { return retention_asked || !snapshots.empty() || (stopping && clips_open_locked() == 0); });
      while (!snapshots.empty()) {
        SnapshotJob job = std::move(snapshots.front());
        snapshots.pop_front();
        lock.unlock();
        write_snapshot(job);
        lock.lock();
      }
      reap_clips(lock);
      if (retention_asked || clock::now() >= next_retention) {
        retention_asked = false;
        lock.unlock();
        retention_pass();
        lock.lock();
        ++retention_runs;
        next_retention = clock::now() + every;
        retention_done.notify_all();
      }
      if (stopping && snapshots.empty() && clips.empty()) break;
    }
    writer_exited = true;
    retention_done.notify_all();
  }
};

// ---- StreamRecording ------------------------------------------------------------

StreamRecording::StreamRecording(Recorder& recorder, std::string stream, RecordConfig config,
                                 std::vector<std::string> class_names)
    : recorder_(recorder), stream_(std::move(stream)), config_(std::move(config)), class_names_(std::move(class_names)) {
  if (config_.clips) ring_ = std::make_shared<PacketRing>(config_.pre_s);
}

StreamRecording::~StreamRecording() {
  if (ring_) ring_->close_feeds();
}

bool StreamRecording::records(EventKind kind) const {
  return std::any_of(config_.kinds.begin(), config_.kinds.end(),
                     [&](const std::string& k) { return parse_event_kind(k) == kind; });
}

void StreamRecording::record(Event& e, const std::shared_ptr<const VideoFrame>& frame, std::vector<Detection> boxes) {
  if (!records(e.kind) || e.id.empty()) return;
  if (config_.snapshots) record_snapshot(e, frame, std::move(boxes));
  if (config_.clips) record_clip(e);
}

void StreamRecording::record_snapshot(Event& e, const std::shared_ptr<const VideoFrame>& frame,
                                      std::vector<Detection> boxes) {
  if (!frame) return;
  Recorder::Impl& r = *recorder_.impl_;
  {
    std::lock_guard lock(r.mu);
    if (r.stopping) return;
    if (r.snapshots.size() >= static_cast<std::size_t>(r.config.queue)) {
      ++r.stats.snapshot_drops;
      return;
    }
    e.snapshot = r.media_path(stream_, e.id, ".jpg");
    r.snapshots.push_back({e.snapshot, frame, std::move(boxes),
                           std::make_shared<const std::vector<std::string>>(class_names_)});
  }
  r.wake.notify_one();
}

void StreamRecording::record_clip(Event& e) {
  Recorder::Impl& r = *recorder_.impl_;
  const double from = e.pts - config_.pre_s;
  const double to = e.pts + config_.post_s;
  std::lock_guard lock(r.mu);
  if (r.stopping) return;
  if (open_ && !open_->done && from <= open_->feed->end_s()) {
    open_->feed->extend_to(to);
    e.clip = open_->path;
    ++r.stats.clips_shared;
    return;
  }
  if (r.clips_open_locked() >= static_cast<std::size_t>(r.config.max_clips)) {
    ++r.stats.clip_drops;
    return;
  }
  auto feed = ring_->open_feed(from);
  if (!feed) {
    ++r.stats.clip_drops;
    return;
  }
  feed->extend_to(to);
  auto clip = std::make_shared<OpenClip>();
  clip->feed = std::move(feed);
  clip->path = r.media_path(stream_, e.id, ".mp4");
  clip->thread = std::thread([&r, c = clip.get()] { r.write_clip(*c); });
  r.clips.push_back(clip);
  open_ = clip;
  e.clip = open_->path;
}

// ---- Recorder -----------------------------------------------------------------

Recorder::Recorder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<Recorder>> Recorder::create(const RecorderConfig& config, ExpiredCallback on_expired) {
  auto dir = writable_dir(config.dir);
  if (!dir) return fail(dir.error());
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->dir = std::move(*dir);
  impl->session = session_name();
  impl->on_expired = std::move(on_expired);
  Impl* raw = impl.get();
  impl->writer = std::thread([raw] { raw->writer_loop(); });
  return std::unique_ptr<Recorder>(new Recorder(std::move(impl)));
}

Recorder::~Recorder() { stop(); }

std::shared_ptr<StreamRecording> Recorder::stream(const std::string& id, const RecordConfig& config,
                                                  std::vector<std::string> class_names) {
  if (!config.enabled()) return nullptr;
  auto rec = std::shared_ptr<StreamRecording>(new StreamRecording(*this, id, config, std::move(class_names)));
  if (rec->ring()) {
    std::lock_guard lock(impl_->mu);
    auto& rings = impl_->rings;
    rings.erase(std::remove_if(rings.begin(), rings.end(), [](const auto& w) { return w.expired(); }), rings.end());
    rings.push_back(rec->ring());
  }
  return rec;
}

void Recorder::stop() {
  std::vector<std::shared_ptr<PacketRing>> rings;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) return;
    impl_->stopping = true;
    for (auto& w : impl_->rings)
      if (auto r = w.lock()) rings.push_back(std::move(r));
  }
  // The open clips end at what their feeds hold (the writer finishes the MP4).
  for (auto& r : rings) r->close_feeds();
  impl_->wake.notify_all();
  if (impl_->writer.joinable()) impl_->writer.join();
}

void Recorder::run_retention() {
  std::unique_lock lock(impl_->mu);
  if (impl_->writer_exited) return;
  const std::uint64_t target = impl_->retention_runs + 1;
  impl_->retention_asked = true;
  impl_->wake.notify_all();
  impl_->retention_done.wait(lock, [&] { return impl_->retention_runs >= target || impl_->writer_exited; });
}

RecorderStats Recorder::stats() const {
  std::vector<std::shared_ptr<PacketRing>> rings;
  RecorderStats s;
  {
    std::lock_guard lock(impl_->mu);
    s = impl_->stats;
    s.queued = impl_->snapshots.size();
    s.clips_open = impl_->clips_open_locked();
    for (auto& w : impl_->rings)
      if (auto r = w.lock()) rings.push_back(std::move(r));
  }
  for (auto& r : rings) s.ring_bytes += r->stats().bytes;
  return s;
}

const std::string& Recorder::dir() const { return impl_->dir; }
const std::string& Recorder::session() const { return impl_->session; }

}  // namespace vigil
