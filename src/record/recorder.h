// Recorder: the snapshots and clips of events (`record:` in the config).
//
// Per stream (StreamRecording, held by its StreamPipeline): a PacketRing of
// the last pre_s seconds of compressed packets, fed by the stream's capture
// thread (VideoSource::set_packet_ring). When the stream loop publishes an
// event of a recorded kind, record() gives the event its media paths and
// queues the work; it never waits on I/O:
//   snapshot  the frame the event happened on with the event's boxes
//             (write_event_snapshot), queued for the recorder's writer thread;
//             bounded queue (RecorderConfig::queue), overflow: the new snapshot
//             is dropped and counted (the event then has none);
//   clip      a ClipFeed from the keyframe at or before pts - pre_s, written
//             to MP4 until pts + post_s (write_mp4_clip) on a clip thread of
//             its own (at most max_clips at once; one more is dropped and
//             counted). An event whose window starts before the open clip of
//             its stream ends extends that clip (ClipFeed::extend_to) and
//             points at the same file.
// Files: dir/<stream>/<session>/<event id>.jpg and .mp4, session = the UTC
// time the recorder started (event ids start again at each run); a shared
// clip is named by the first event's id. Files appear complete or not at all
// (".part" + rename).
// Retention, on the writer thread every retention_every_s: the files of one
// event (its .jpg and .mp4) go together, oldest first, when older than
// retention.days or while all files take more than retention.max_gb; the
// deleted paths go to the ExpiredCallback (the event store marks those rows
// expired) and are counted.
// stop(): the open clips are closed at what they have (valid MP4s), the
// queued snapshots written, every thread joined.
// A clip that is extended in the instant its writer reads the packet past
// its old end keeps the old end (the writer stopped first).
// Threads: record() from the stream loop; everything else from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/engine_config.h"
#include "core/detection.h"
#include "core/error.h"
#include "core/event.h"
#include "media/packet_ring.h"
#include "media/video_frame.h"

namespace vigil {

struct RecorderStats {
  std::uint64_t snapshots = 0;       // written
  std::uint64_t clips = 0;           // written (complete or cut short by a stop or the source)
  std::uint64_t clips_shared = 0;    // events that extended an open clip instead of opening one
  std::uint64_t snapshot_drops = 0;  // queue full
  std::uint64_t clip_drops = 0;      // max_clips open, or the ring had no keyframe yet
  std::uint64_t errors = 0;          // writes that failed (logged)
  std::uint64_t deleted_files = 0;   // by retention
  std::uint64_t deleted_bytes = 0;
  std::uint64_t disk_bytes = 0;      // all files at the last retention pass (after it)
  std::size_t ring_bytes = 0;        // packets held by the streams' rings now
  std::size_t queued = 0;            // snapshots waiting now
  std::size_t clips_open = 0;        // clips being written now
};

class Recorder;

// One stream's recording. Made by Recorder::stream(); the capture feeds
// ring(), the stream loop calls record().
class StreamRecording {
 public:
  ~StreamRecording();  // closes the ring's feeds: open clips end at what they have
  StreamRecording(const StreamRecording&) = delete;
  StreamRecording& operator=(const StreamRecording&) = delete;

  // The ring the capture feeds; null when the stream writes no clips.
  const std::shared_ptr<PacketRing>& ring() const { return ring_; }
  const RecordConfig& config() const { return config_; }
  bool records(EventKind kind) const;
  bool wants_frames() const { return config_.snapshots; }
  // Stream loop: `e` (its id set) gets its snapshot / clip paths and the
  // writes are queued. `frame`: the frame the event happened on (no
  // snapshot without it); `boxes`: full-frame pixels.
  void record(Event& e, const std::shared_ptr<const VideoFrame>& frame, std::vector<Detection> boxes);

 private:
  friend class Recorder;
  struct OpenClip;
  StreamRecording(Recorder& recorder, std::string stream, RecordConfig config, std::vector<std::string> class_names);
  void record_snapshot(Event& e, const std::shared_ptr<const VideoFrame>& frame, std::vector<Detection> boxes);
  void record_clip(Event& e);

  Recorder& recorder_;
  const std::string stream_;
  const RecordConfig config_;
  const std::vector<std::string> class_names_;
  std::shared_ptr<PacketRing> ring_;
  std::shared_ptr<OpenClip> open_;  // the latest clip (under the recorder's lock)
};

class Recorder {
 public:
  // Called on the writer thread with the files retention deleted.
  using ExpiredCallback = std::function<void(const std::vector<std::string>& files)>;

  // Creates config.dir (made absolute) and checks that it is writable
  // (errors name record.dir), then starts the writer thread.
  static Result<std::unique_ptr<Recorder>> create(const RecorderConfig& config, ExpiredCallback on_expired = {});
  ~Recorder();  // stop()
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // The recording of a stream; null when `config` records nothing. The
  // recorder must outlive it.
  std::shared_ptr<StreamRecording> stream(const std::string& id, const RecordConfig& config,
                                          std::vector<std::string> class_names);
  // Idempotent: closes the open clips, writes the queued snapshots, joins.
  void stop();
  // One retention pass on the writer thread now; returns once it ran.
  void run_retention();

  RecorderStats stats() const;
  const std::string& dir() const;
  const std::string& session() const;

 private:
  friend class StreamRecording;
  struct Impl;
  explicit Recorder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Retention (pure over a listing; the writer thread applies it): the files
// to delete, oldest event first. Files of one event share a folder and a
// stem; an event's age is its newest file's.
struct MediaFile {
  std::string path;
  std::uint64_t bytes = 0;
  double mtime = 0;  // Unix seconds
};
std::vector<std::string> files_to_expire(std::vector<MediaFile> files, const RetentionConfig& retention, double now);

}  // namespace vigil
