#include "server/video_registry.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/class_name.h"
#include "core/model_precision.h"
#include "pipeline/engine.h"
#include "pipeline/stream_pipeline.h"
#include "store/event_json.h"

namespace vigil {

using nlohmann::json;

// ---------------------------------------------------------------- StreamVideo

StreamVideo::StreamVideo(std::string id, std::shared_ptr<StreamPipeline> pipeline,
                         std::vector<std::string> class_names, GateFeedInfo gate)
    : id_(std::move(id)),
      pipeline_(std::move(pipeline)),
      class_names_(std::move(class_names)),
      zones_(pipeline_->config().zones),
      lines_(pipeline_->config().lines),
      gate_(std::move(gate)),
      hub_(std::make_unique<MjpegHub>()) {
  // The live views' work shows in the engine's stage timings (overlay, encode).
  // The pipeline outlives the hub: this StreamVideo holds it.
  hub_->set_timing_sink([&metrics = pipeline_->stage_metrics()](const MjpegHub::FrameTiming& t) {
    if (t.overlay) metrics.add(Stage::kOverlay, t.overlay_ms);
    metrics.add(Stage::kEncode, t.encode_ms);
  });
}

StreamVideo::~StreamVideo() { close(); }

void StreamVideo::attach() {
  std::weak_ptr<StreamVideo> weak = weak_from_this();
  const int id = pipeline_->add_observer([weak](const FrameResult& r) {
    if (auto self = weak.lock()) self->on_frame(r);
  });
  std::lock_guard lock(frame_mu_);
  observer_id_ = id;
}

void StreamVideo::close() {
  int observer = 0;
  {
    std::lock_guard lock(frame_mu_);
    if (closed_) return;
    closed_ = true;
    observer = observer_id_;
    hub_.reset();  // closes every viewer
  }
  if (observer) pipeline_->remove_observer(observer);
  {
    std::lock_guard lock(clients_mu_);
    for (auto& [client, queue] : listeners_)
      if (auto q = queue.lock()) q->close();
    for (auto& [client, queue] : gate_listeners_)
      if (auto q = queue.lock()) q->close();
  }
  wake_clients();
}

bool StreamVideo::closed() const {
  std::lock_guard lock(frame_mu_);
  return closed_;
}

std::shared_ptr<MjpegViewer> StreamVideo::subscribe(const MjpegVariant& variant, std::weak_ptr<LiveClient> client) {
  std::shared_ptr<MjpegViewer> viewer;
  {
    std::lock_guard lock(frame_mu_);
    if (closed_) return nullptr;
    viewer = hub_->subscribe(variant);
  }
  std::lock_guard lock(clients_mu_);
  clients_.push_back(std::move(client));
  return viewer;
}

std::shared_ptr<TextQueue> StreamVideo::listen(std::weak_ptr<LiveClient> client, bool captions) {
  if (closed()) return nullptr;
  auto queue = std::make_shared<TextQueue>(kTextQueueFrames);
  std::lock_guard lock(clients_mu_);
  clients_.push_back(client);
  listeners_.emplace_back(std::move(client), queue);
  if (captions) caption_listeners_.push_back(queue);
  return queue;
}

std::shared_ptr<TextQueue> StreamVideo::listen_gate(std::weak_ptr<LiveClient> client) {
  if (closed()) return nullptr;
  auto queue = std::make_shared<TextQueue>(kTextQueueFrames);
  std::lock_guard lock(clients_mu_);
  clients_.push_back(client);
  gate_listeners_.emplace_back(std::move(client), queue);
  return queue;
}

void StreamVideo::on_caption(const std::string& text) {
  auto message = std::make_shared<const std::string>(text);
  {
    std::lock_guard lock(clients_mu_);
    std::erase_if(caption_listeners_, [&](const std::weak_ptr<TextQueue>& weak) {
      auto q = weak.lock();
      if (!q) return true;
      q->push(message);
      return false;
    });
  }
  std::lock_guard lock(frame_mu_);  // as on_frame: nothing is woken after close()
  if (!closed_) wake_clients();
}

void StreamVideo::wake_clients() {
  std::vector<std::shared_ptr<LiveClient>> live;
  {
    std::lock_guard lock(clients_mu_);
    std::erase_if(clients_, [&](const std::weak_ptr<LiveClient>& w) {
      auto c = w.lock();
      if (!c) return true;
      live.push_back(std::move(c));
      return false;
    });
  }
  for (const auto& c : live) c->wake();
}

std::string StreamVideo::frame_json(const FrameResult& r) const {
  json tracks = json::array();
  for (const Track& t : r.tracks) {
    tracks.push_back({{"id", t.id},
                      {"class", class_name(class_names_, t.class_id)},
                      {"class_id", t.class_id},
                      {"score", std::round(t.score * 1000.0F) / 1000.0},
                      {"box", {std::round(t.box.x1 * 10) / 10, std::round(t.box.y1 * 10) / 10,
                               std::round(t.box.x2 * 10) / 10, std::round(t.box.y2 * 10) / 10}}});
  }
  json events = json::array();
  for (const Event& e : r.events) events.push_back(to_json(e));
  const json j = {{"stream", r.stream},
                  {"seq", r.seq},
                  {"pts", round_ms(r.pts)},
                  {"analysed", r.analysed},
                  {"tracks", std::move(tracks)},
                  {"events", std::move(events)},
                  {"fps", std::round(r.display_fps * 100) / 100},
                  {"width", r.frame ? r.frame->width() : 0},
                  {"height", r.frame ? r.frame->height() : 0}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string StreamVideo::gate_json(const FrameResult& r) const {
  json detections = json::array();
  for (const Track& t : r.tracks)
    detections.push_back({{"track_id", t.id},
                          {"class", class_name(class_names_, t.class_id)},
                          {"confidence", std::round(t.score * 1000.0F) / 1000.0},
                          {"bbox", {std::round(t.box.x1 * 10) / 10, std::round(t.box.y1 * 10) / 10,
                                    std::round(t.box.x2 * 10) / 10, std::round(t.box.y2 * 10) / 10}}});
  const StreamSnapshot s = pipeline_->snapshot();
  const SubstreamConfig& sub = pipeline_->config().substream;
  const int width = r.frame ? r.frame->width() : 0;
  double scale = 1.0;  // the analysed copy's share of the frame width
  if (sub.scale > 0) scale = sub.scale;
  else if (sub.width > 0 && width > sub.width) scale = static_cast<double>(sub.width) / width;
  const json j = {{"type", "gate_check"},
                  {"stream", r.stream},
                  {"pts", round_ms(r.pts)},
                  {"fps", {{"inference", std::round(s.analysed_fps * 100) / 100},
                           {"capture", std::round(s.capture_fps * 100) / 100}}},
                  {"optimizations",
                   {{"dual_stream", scale < 1.0},
                    {"async_grabber", true},  // capture runs on its own thread (pipeline/stream_capture.h)
                    {"batch_inference", gate_.batch_inference},
                    {"precision", gate_.precision},
                    {"substream_scale", std::round(scale * 1000) / 1000}}},
                  {"detections", std::move(detections)}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

void StreamVideo::on_frame(const FrameResult& r) {
  std::vector<std::shared_ptr<TextQueue>> queues, gate_queues;
  {
    std::lock_guard lock(clients_mu_);
    std::erase_if(listeners_, [&](const auto& entry) {
      auto q = entry.second.lock();
      if (!q) {
        return true;
      }
      queues.push_back(std::move(q));
      return false;
    });
    std::erase_if(gate_listeners_, [&](const auto& entry) {
      auto q = entry.second.lock();
      if (!q) return true;
      gate_queues.push_back(std::move(q));
      return false;
    });
  }
  {
    std::lock_guard lock(frame_mu_);
    if (closed_) return;
    trails_.update(r.tracks, r.pts);
    const bool watched = r.frame && hub_->has_viewers();
    if (watched) {
      OverlayInput in;
      in.tracks = &r.tracks;
      in.zones = &zones_;
      in.lines = &lines_;
      in.occupancy = r.analytics ? &r.analytics->occupancy : nullptr;
      in.line_counts = r.analytics ? &r.analytics->line_counts : nullptr;
      in.class_names = &class_names_;
      in.trails = &trails_;
      if (r.motion) {
        in.motion = &r.motion->boxes;
        in.regions = &r.motion->regions;
      }
      hub_->on_frame(*r.frame, r.pts, in);
    }
    if (!queues.empty() && (r.analysed || !r.events.empty())) {
      auto text = std::make_shared<const std::string>(frame_json(r));
      for (const auto& q : queues) q->push(text);
    }
    if (!gate_queues.empty() && r.analysed) {
      auto text = std::make_shared<const std::string>(gate_json(r));
      for (const auto& q : gate_queues) q->push(text);
    }
    // Under frame_mu_: once close() has returned, nothing posts to a client's
    // executor any more (the server may then destroy its io_context).
    wake_clients();
  }
}

json StreamVideo::stats_json() const {
  json out = {{"viewers", 0}, {"frames_seen", 0}, {"frames_encoded", 0}, {"drops", 0}, {"variants", json::array()}};
  {
    std::lock_guard lock(frame_mu_);
    if (hub_) {
      const MjpegHubStats s = hub_->stats();
      std::uint64_t drops = 0;
      for (const auto& v : s.variants) {
        drops += v.drops;
        const double avg = v.frames_encoded + v.encode_errors > 0
                               ? v.encode_ms_total / static_cast<double>(v.frames_encoded + v.encode_errors)
                               : 0.0;
        out["variants"].push_back({{"overlay", v.variant.overlay},
                                   {"motion", v.variant.motion},
                                   {"quality", v.variant.quality},
                                   {"fps", v.variant.fps},
                                   {"max_width", v.variant.max_width},
                                   {"viewers", v.viewers},
                                   {"frames_encoded", v.frames_encoded},
                                   {"encode_errors", v.encode_errors},
                                   {"encode_ms_avg", std::round(avg * 1000) / 1000},
                                   {"encode_ms_last", std::round(v.encode_ms_last * 1000) / 1000},
                                   {"bytes_last", v.bytes_last},
                                   {"drops", v.drops}});
      }
      out["viewers"] = s.viewers;
      out["frames_seen"] = s.frames_seen;
      out["frames_encoded"] = s.frames_encoded;
      out["drops"] = drops;
    }
  }
  std::size_t ws = 0;
  std::uint64_t ws_drops = 0;
  {
    std::lock_guard lock(clients_mu_);
    for (const auto* list : {&listeners_, &gate_listeners_})
      for (const auto& [client, queue] : *list)
        if (auto q = queue.lock()) {
          ++ws;
          ws_drops += q->drops();
        }
  }
  out["ws_clients"] = ws;
  out["ws_drops"] = ws_drops;
  return out;
}

// ---------------------------------------------------------------- VideoRegistry

namespace {

GateFeedInfo gate_feed_info(const EngineConfig& config) {
  GateFeedInfo g;
  g.precision = to_string(model_file_format(config.model.path));
  g.batch_inference = config.batch_max > 1;
  return g;
}

}  // namespace

VideoRegistry::VideoRegistry(Engine& engine)
    : engine_(engine),
      gate_info_(gate_feed_info(engine.config())),
      gate_streams_(std::make_shared<GateStreams>(engine)) {
  event_sub_ = engine_.events().subscribe([this](const Event& e) {
    const std::string text = to_json(e).dump(-1, ' ', false, json::error_handler_t::replace);
    on_event(text);
    if (e.kind == EventKind::kCaption) forward_caption(e.stream, text);
  });
  stream_observer_ = engine_.add_stream_observer([this](Engine::StreamChange, const std::string&) { sync(); });
  sync();
}

VideoRegistry::~VideoRegistry() { shutdown(); }

void VideoRegistry::shutdown() {
  std::map<std::string, std::shared_ptr<StreamVideo>> videos;
  {
    std::lock_guard lock(mu_);
    if (shut_) return;
    shut_ = true;
    videos.swap(videos_);
  }
  // Both wait for a call in progress: after this, no on_event or sync runs.
  engine_.events().unsubscribe(event_sub_);
  engine_.remove_stream_observer(stream_observer_);
  for (auto& [id, v] : videos) v->close();
  std::vector<std::shared_ptr<LiveClient>> clients;
  {
    std::lock_guard lock(events_mu_);
    for (auto& [client, queue] : event_listeners_) {
      if (auto q = queue.lock()) q->close();
      if (auto c = client.lock()) clients.push_back(std::move(c));
    }
    event_listeners_.clear();
  }
  for (const auto& c : clients) c->wake();
}

void VideoRegistry::sync() {
  std::vector<std::shared_ptr<StreamVideo>> closing;
  {
    std::lock_guard lock(mu_);
    if (shut_) return;
    const std::vector<std::string> ids = engine_.stream_ids();
    for (auto it = videos_.begin(); it != videos_.end();) {
      const auto p = engine_.stream(it->first);
      if (!p || p.get() != it->second->pipeline()) {
        closing.push_back(std::move(it->second));
        it = videos_.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& id : ids) {
      if (videos_.count(id)) continue;
      auto p = engine_.stream(id);
      if (!p) continue;
      auto v = std::make_shared<StreamVideo>(id, std::move(p), engine_.model().class_names, gate_info_);
      v->attach();
      videos_[id] = std::move(v);
    }
  }
  for (auto& v : closing) v->close();
}

std::shared_ptr<StreamVideo> VideoRegistry::find(const std::string& id) {
  const auto p = engine_.stream(id);
  if (!p) return nullptr;
  {
    std::lock_guard lock(mu_);
    if (shut_) return nullptr;
    const auto it = videos_.find(id);
    if (it != videos_.end() && it->second->pipeline() == p.get()) return it->second;
  }
  sync();
  std::lock_guard lock(mu_);
  const auto it = videos_.find(id);
  return it == videos_.end() ? nullptr : it->second;
}

Result<VideoRegistry::GateListen> VideoRegistry::gate_feed(const std::string& stream, const std::string& url,
                                                          bool substream) {
  std::string id = stream;
  std::shared_ptr<void> holder;
  if (id.empty()) {
    auto lease = gate_streams_->acquire(url, substream);
    if (!lease) return fail(lease.error());
    id = lease->stream;
    holder = std::move(lease->holder);
  }
  auto video = find(id);
  if (!video) return fail(ErrorCode::kNotFound, "stream '" + id + "' does not exist");
  return GateListen([video = std::move(video), holder = std::move(holder)](std::weak_ptr<LiveClient> client) {
    return video->listen_gate(std::move(client));
  });
}

std::shared_ptr<TextQueue> VideoRegistry::listen_events(std::weak_ptr<LiveClient> client) {
  {
    std::lock_guard lock(mu_);
    if (shut_) return nullptr;
  }
  auto queue = std::make_shared<TextQueue>(kEventQueue);
  std::lock_guard lock(events_mu_);
  event_listeners_.emplace_back(std::move(client), queue);
  return queue;
}

void VideoRegistry::on_event(const std::string& text) {
  auto message = std::make_shared<const std::string>(text);
  std::vector<std::shared_ptr<LiveClient>> wake;
  {
    std::lock_guard lock(events_mu_);
    std::erase_if(event_listeners_, [&](const auto& entry) {
      auto q = entry.second.lock();
      auto c = entry.first.lock();
      if (!q || !c) return true;
      q->push(message);
      wake.push_back(std::move(c));
      return false;
    });
  }
  for (const auto& c : wake) c->wake();
}

void VideoRegistry::forward_caption(const std::string& stream, const std::string& text) {
  std::shared_ptr<StreamVideo> video;
  {
    std::lock_guard lock(mu_);
    if (shut_) return;
    const auto it = videos_.find(stream);
    if (it == videos_.end()) return;
    video = it->second;
  }
  video->on_caption(text);
}

json VideoRegistry::stats_json() const {
  std::map<std::string, std::shared_ptr<StreamVideo>> videos;
  {
    std::lock_guard lock(mu_);
    videos = videos_;
  }
  json out = json::object();
  for (const auto& [id, v] : videos) out[id] = v->stats_json();
  return out;
}

}  // namespace vigil
