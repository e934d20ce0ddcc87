// Live media sessions on a connection taken over from the HTTP session
// (docs/api.md, "Live video"): the MJPEG stream, the one-shot snapshot and
// the WebSocket feeds.
//
// Threading: fully asynchronous on the connection's strand of the server's
// io_context; no thread per client and no blocking call on an I/O thread.
// Producers (the stream loop's observer, the event bus) only push into the
// client's bounded queue (MjpegViewer: 2 frames, TextQueue) and call
// LiveClient::wake(), which posts pump() to the strand; pump() starts the
// next write when none is in flight. A write that has not completed after
// kWriteTimeout closes the connection (for MJPEG the tcp_stream's write
// expiry, for WebSocket a timer, since Beast's websocket timeouts cover only
// the handshake and idle reads). While a write is stuck, the queue keeps
// dropping the oldest frame, so neither the stream nor other clients wait.
// The kernel send buffer of these sockets is limited to kSendBuffer so a
// slow client cannot hide seconds of video (latency) in socket buffers.
//
// Lifetime: each session keeps a read pending (to see the client go away),
// which holds it alive; an error or the feed closing (stream removed or
// replaced, server stopping) closes the socket and every handler drops
// its reference.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <utility>  // before Boost 1.74 asio: its awaitable.hpp uses std::exchange

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "render/mjpeg_hub.h"

namespace vigil {

class StreamVideo;
class VideoRegistry;
class TextQueue;
class LiveClient;

namespace live {

constexpr std::chrono::seconds kWriteTimeout{10};
constexpr int kSendBuffer = 256 * 1024;
constexpr std::chrono::seconds kSnapshotWait{2};
constexpr const char* kBoundary = "vigilframe";
// Largest WebSocket message a client may send (clients send nothing the
// server needs; a bigger one closes the connection with 1009).
constexpr std::size_t kMaxInboundMessage = 4096;

// The connection's place in the server's connection limits: held for as
// long as the session lives (null in tests without limits).
using Slot = std::shared_ptr<void>;

using Request = boost::beast::http::request<boost::beast::http::string_body>;

// multipart/x-mixed-replace JPEG stream of `variant` until the client or the stream goes away.
void serve_mjpeg(boost::beast::tcp_stream&& stream, std::shared_ptr<StreamVideo> video, MjpegVariant variant,
                 Slot slot);
// One JPEG (the next frame within kSnapshotWait) or 503 JSON; then closes.
void serve_snapshot(boost::beast::tcp_stream&& stream, std::shared_ptr<StreamVideo> video, MjpegVariant variant,
                    unsigned http_version, Slot slot);
// WebSocket upgrade, then per-frame JSON (text), with `captions` the stream's
// caption events (text) and, with `video`, JPEG frames (binary).
void serve_stream_socket(boost::beast::tcp_stream&& stream, Request&& upgrade, std::shared_ptr<StreamVideo> video,
                         bool with_video, bool captions, MjpegVariant variant, Slot slot);
// WebSocket upgrade, then every engine event as JSON text.
void serve_event_socket(boost::beast::tcp_stream&& stream, Request&& upgrade, VideoRegistry& registry, Slot slot);
// WebSocket upgrade, then the messages of the queue `listen` returns (null:
// closed at once) as JSON text; closes when the queue is closed and drained.
using TextListen = std::function<std::shared_ptr<TextQueue>(std::weak_ptr<LiveClient>)>;
void serve_text_socket(boost::beast::tcp_stream&& stream, Request&& upgrade, TextListen listen, Slot slot);

}  // namespace live
}  // namespace vigil
