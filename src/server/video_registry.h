// VideoRegistry: the server's live video and analysis feeds, one StreamVideo
// per engine stream (docs/api.md, "Live video").
//
// StreamVideo registers a FrameObserver on its StreamPipeline. On the stream
// loop thread, for every displayed frame, it updates the stream's
// TrailHistory; only while someone watches does it build an OverlayInput
// (zones and lines from the config, occupancy and line counts from the
// frame's AnalyticsSnapshot) and call MjpegHub::on_frame; only while a
// WebSocket client listens and the frame carried analysis results or events
// does it build the per-frame JSON. Then it wakes its clients, which post to
// their own strands: the observer never writes to a socket and never waits.
//
// The registry follows the engine's streams through Engine's stream
// observer (added, removed, restarted by PATCH), so no caller has to sync it.
//
// Ownership: the registry owns the StreamVideos; sessions hold a
// shared_ptr to theirs, so a StreamVideo may outlive its stream. close()
// (stream removed or replaced by PATCH, server stopping) removes the
// observer, waits for a frame in flight, destroys the hub (its viewers are
// closed), closes the text queues and wakes every client so they end.
//
// Threads: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/text_queue.h"  // LiveClient, TextQueue
#include "render/mjpeg_hub.h"
#include "render/overlay.h"
#include "server/gate_streams.h"

namespace vigil {

class Engine;
class StreamPipeline;
struct FrameResult;

// What Verolux's gate_check message says of the engine (fixed at start).
struct GateFeedInfo {
  std::string precision = "FP32";  // the model file's format (core/model_precision.h)
  bool batch_inference = false;    // batch.max > 1
};

class StreamVideo : public std::enable_shared_from_this<StreamVideo> {
 public:
  static constexpr std::size_t kTextQueueFrames = 2;

  StreamVideo(std::string id, std::shared_ptr<StreamPipeline> pipeline, std::vector<std::string> class_names,
              GateFeedInfo gate = {});
  ~StreamVideo();
  StreamVideo(const StreamVideo&) = delete;
  StreamVideo& operator=(const StreamVideo&) = delete;

  void attach();  // registers the observer (once, after construction)
  void close();   // idempotent

  const std::string& id() const { return id_; }
  const StreamPipeline* pipeline() const { return pipeline_.get(); }
  bool closed() const;

  // A JPEG viewer of `variant`; `client` is woken after every frame. Null when closed.
  std::shared_ptr<MjpegViewer> subscribe(const MjpegVariant& variant, std::weak_ptr<LiveClient> client);
  // A queue of per-frame analysis JSON (kTextQueueFrames); null when closed.
  // With `captions`, the stream's caption events too (their event JSON).
  std::shared_ptr<TextQueue> listen(std::weak_ptr<LiveClient> client, bool captions = false);
  // A caption event of this stream (its JSON): to the listeners that asked for captions.
  void on_caption(const std::string& text);
  // A queue of Verolux's gate_check JSON, one per analysed frame; null when closed.
  std::shared_ptr<TextQueue> listen_gate(std::weak_ptr<LiveClient> client);

  // {"viewers", "frames_seen", "frames_encoded", "drops", "variants": [...], "ws_clients", "ws_drops"}
  nlohmann::json stats_json() const;

 private:
  void on_frame(const FrameResult& r);
  void wake_clients();
  std::string frame_json(const FrameResult& r) const;
  std::string gate_json(const FrameResult& r) const;

  const std::string id_;
  const std::shared_ptr<StreamPipeline> pipeline_;
  const std::vector<std::string> class_names_;
  const std::vector<ZoneConfig> zones_;
  const std::vector<LineConfig> lines_;
  const GateFeedInfo gate_;

  // Held by the observer for a whole frame and by close(): after close()
  // returns, no observer call touches hub_ any more.
  mutable std::mutex frame_mu_;
  std::unique_ptr<MjpegHub> hub_;  // null once closed
  int observer_id_ = 0;
  bool closed_ = false;
  // Stream loop thread only (under frame_mu_).
  TrailHistory trails_;

  mutable std::mutex clients_mu_;
  std::vector<std::weak_ptr<LiveClient>> clients_;
  std::vector<std::pair<std::weak_ptr<LiveClient>, std::weak_ptr<TextQueue>>> listeners_;
  std::vector<std::weak_ptr<TextQueue>> caption_listeners_;  // a subset of listeners_' queues
  std::vector<std::pair<std::weak_ptr<LiveClient>, std::weak_ptr<TextQueue>>> gate_listeners_;
};

class VideoRegistry {
 public:
  static constexpr std::size_t kEventQueue = 256;  // per /ws/events client, drop-oldest

  explicit VideoRegistry(Engine& engine);  // subscribes to engine.events() and its stream changes
  ~VideoRegistry();                        // shutdown()
  VideoRegistry(const VideoRegistry&) = delete;
  VideoRegistry& operator=(const VideoRegistry&) = delete;

  // Attaches a StreamVideo to every engine stream that has none (or whose
  // pipeline was replaced) and closes those of removed streams. Called on
  // every stream change the engine announces.
  void sync();
  // The stream's feed (syncing first when needed); null for an unknown id.
  std::shared_ptr<StreamVideo> find(const std::string& id);
  // Every event of the engine as JSON text (store/event_json.h); null after shutdown.
  std::shared_ptr<TextQueue> listen_events(std::weak_ptr<LiveClient> client);
  // stream id -> StreamVideo::stats_json()
  nlohmann::json stats_json() const;
  // Unsubscribes from the event bus, closes every feed. Idempotent.
  void shutdown();
  // The streams /ws/gate-check starts for URL sources.
  GateStreams& gate_streams() { return *gate_streams_; }
  // /ws/gate-check's feed: of the configured `stream`, or (stream empty) of
  // the on-demand stream of `url`, which runs while the returned function
  // (it holds the lease) lives. Errors: the engine's (kNotFound, ...).
  using GateListen = std::function<std::shared_ptr<TextQueue>(std::weak_ptr<LiveClient>)>;
  Result<GateListen> gate_feed(const std::string& stream, const std::string& url, bool substream);

 private:
  void on_event(const std::string& json);
  void forward_caption(const std::string& stream, const std::string& json);

  Engine& engine_;
  const GateFeedInfo gate_info_;
  const std::shared_ptr<GateStreams> gate_streams_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<StreamVideo>> videos_;
  bool shut_ = false;
  int event_sub_ = 0;
  int stream_observer_ = 0;

  std::mutex events_mu_;
  std::vector<std::pair<std::weak_ptr<LiveClient>, std::weak_ptr<TextQueue>>> event_listeners_;
};

}  // namespace vigil
