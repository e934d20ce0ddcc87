#include "server/live_session.h"

#include <array>
#include <string>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include "server/video_registry.h"

namespace vigil::live {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

void limit_send_buffer(tcp::socket& socket) {
  beast::error_code ec;
  socket.set_option(asio::socket_base::send_buffer_size(kSendBuffer), ec);  // best effort
}

// Posts pump() to the session's strand; a session already gone is skipped.
template <class Session>
void post_pump(const asio::any_io_executor& executor, std::weak_ptr<Session> weak) {
  asio::post(executor, [weak = std::move(weak)] {
    if (auto self = weak.lock()) self->pump();
  });
}

// ---------------------------------------------------------------- MJPEG and snapshot

class JpegSession : public LiveClient, public std::enable_shared_from_this<JpegSession> {
 public:
  JpegSession(beast::tcp_stream&& stream, std::shared_ptr<StreamVideo> video, MjpegVariant variant, bool snapshot,
              unsigned version, Slot slot)
      : slot_(std::move(slot)),
        stream_(std::move(stream)),
        executor_(stream_.get_executor()),
        video_(std::move(video)),
        variant_(variant),
        snapshot_(snapshot),
        version_(version),
        deadline_(executor_) {}

  void start() {
    asio::dispatch(executor_, [self = shared_from_this()] { self->begin(); });
  }

  void wake() override { post_pump<JpegSession>(executor_, weak_from_this()); }

  void pump() {
    if (done_ || writing_ || !started_) return;
    if (JpegBuffer jpeg = viewer_->pop(std::chrono::milliseconds(0))) return snapshot_ ? send_snapshot(jpeg) : send_part(jpeg);
    if (viewer_->closed()) {
      if (snapshot_) return send_text(503, "stream '" + video_->id() + "' was removed");
      return finish();
    }
  }

 private:
  void begin() {
    limit_send_buffer(stream_.socket());
    viewer_ = video_->subscribe(variant_, weak_from_this());
    if (!viewer_) return send_text(404, "stream '" + video_->id() + "' was removed");
    // A read stays pending to notice the client leaving; it has no timeout.
    stream_.expires_never();
    read();
    if (snapshot_) {
      started_ = true;
      deadline_.expires_after(kSnapshotWait);
      deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (ec || self->done_ || self->writing_) return;
        self->send_text(503, "no frame from stream '" + self->video_->id() + "' within 2 s");
      });
      return;
    }
    head_ = "HTTP/1.1 200 OK\r\nServer: vigil\r\nContent-Type: multipart/x-mixed-replace; boundary=" +
            std::string(kBoundary) +
            "\r\nCache-Control: no-store, no-cache, must-revalidate\r\nPragma: no-cache\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "X-Accel-Buffering: no\r\nConnection: close\r\n\r\n";
    writing_ = true;
    stream_.expires_after(kWriteTimeout);
    asio::async_write(stream_, asio::buffer(head_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->writing_ = false;
      if (ec) return self->abort();
      self->started_ = true;
      self->pump();
    });
  }

  void read() {
    stream_.async_read_some(asio::buffer(sink_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->abort();
      self->read();  // whatever the client sends is ignored
    });
  }

  void send_part(const JpegBuffer& jpeg) {
    part_head_ = "--" + std::string(kBoundary) + "\r\nContent-Type: image/jpeg\r\nContent-Length: " +
                 std::to_string(jpeg->size()) + "\r\n\r\n";
    const std::array<asio::const_buffer, 3> buffers{asio::buffer(part_head_), asio::buffer(*jpeg),
                                                    asio::buffer("\r\n", 2)};
    write(buffers, jpeg, false);
  }

  void send_snapshot(const JpegBuffer& jpeg) {
    part_head_ = "HTTP/1." + std::to_string(version_ % 10) +
                 " 200 OK\r\nServer: vigil\r\nContent-Type: image/jpeg\r\nCache-Control: no-store\r\n"
                 "X-Content-Type-Options: nosniff\r\n"
                 "Connection: close\r\nContent-Length: " +
                 std::to_string(jpeg->size()) + "\r\n\r\n";
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(part_head_), asio::buffer(*jpeg)};
    write(buffers, jpeg, true);
  }

  void send_text(int status, const std::string& message) {
    const std::string body = nlohmann::json{{"error", message}}.dump();
    const char* reason = status == 404 ? "Not Found" : "Service Unavailable";
    part_head_ = "HTTP/1.1 " + std::to_string(status) + " " + reason +
                 "\r\nServer: vigil\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n"
                 "Connection: close\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n" + body;
    const std::array<asio::const_buffer, 1> buffers{asio::buffer(part_head_)};
    write(buffers, nullptr, true);
  }

  template <class Buffers>
  void write(const Buffers& buffers, JpegBuffer keep, bool last) {
    writing_ = true;
    stream_.expires_after(kWriteTimeout);  // only the write: the pending read started with no expiry
    asio::async_write(stream_, buffers,
                      [self = shared_from_this(), keep = std::move(keep), last](beast::error_code ec, std::size_t) {
                        self->writing_ = false;
                        if (ec) return self->abort();
                        if (last) return self->finish();
                        self->pump();
                      });
  }

  // Ends the response: the client sees the end of the stream.
  void finish() {
    if (done_) return;
    done_ = true;
    deadline_.cancel();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    // The pending read ends when the client closes; bound the wait.
    closer_ = std::make_unique<asio::steady_timer>(executor_, std::chrono::seconds(2));
    closer_->async_wait([self = shared_from_this()](beast::error_code) { self->abort(); });
  }

  void abort() {
    done_ = true;
    deadline_.cancel();
    if (closer_) closer_->cancel();
    stream_.close();
  }

  Slot slot_;  // the connection's place in the server's connection limits
  beast::tcp_stream stream_;
  asio::any_io_executor executor_;  // the connection's strand
  std::shared_ptr<StreamVideo> video_;
  const MjpegVariant variant_;
  const bool snapshot_;
  const unsigned version_;
  std::shared_ptr<MjpegViewer> viewer_;
  asio::steady_timer deadline_;
  std::unique_ptr<asio::steady_timer> closer_;
  std::string head_, part_head_;
  std::array<char, 512> sink_{};
  bool writing_ = false, started_ = false, done_ = false;
};

// ---------------------------------------------------------------- WebSocket

class SocketSession : public LiveClient, public std::enable_shared_from_this<SocketSession> {
 public:
  SocketSession(beast::tcp_stream&& stream, Request&& upgrade, std::shared_ptr<StreamVideo> video,
                TextListen listen, bool with_video, bool captions, MjpegVariant variant, Slot slot)
      : slot_(std::move(slot)),
        ws_(std::move(stream)),
        executor_(ws_.get_executor()),
        upgrade_(std::move(upgrade)),
        video_(std::move(video)),
        listen_(std::move(listen)),
        with_video_(with_video),
        captions_(captions),
        variant_(variant),
        write_timer_(executor_) {}

  void start() {
    asio::dispatch(executor_, [self = shared_from_this()] { self->accept(); });
  }

  void wake() override { post_pump<SocketSession>(executor_, weak_from_this()); }

  void pump() {
    if (closed_ || writing_ || !accepted_) return;
    if (auto text = text_->pop()) return send(text->data(), text->size(), true, text, nullptr);
    if (viewer_)
      if (JpegBuffer jpeg = viewer_->pop(std::chrono::milliseconds(0)))
        return send(jpeg->data(), jpeg->size(), false, nullptr, jpeg);
    if (text_->closed() || (viewer_ && viewer_->closed())) {
      // The feed ended (stream removed, server stopping): say so and close.
      closed_ = true;
      write_timer_.expires_after(kWriteTimeout);
      write_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec) self->abort();
      });
      ws_.async_close(websocket::close_code::going_away, [self = shared_from_this()](beast::error_code) {
        self->abort();
      });
    }
  }

 private:
  void accept() {
    auto& lowest = beast::get_lowest_layer(ws_);
    lowest.expires_never();  // the websocket's own timeouts apply from here
    limit_send_buffer(lowest.socket());
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    // Clients have nothing big to say: a larger message closes the connection
    // (1009) instead of growing a buffer (Beast's default allows 16 MB).
    ws_.read_message_max(kMaxInboundMessage);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "vigil"); }));
    ws_.async_accept(upgrade_, [self = shared_from_this()](beast::error_code ec) { self->on_accept(ec); });
  }

  void on_accept(beast::error_code ec) {
    if (ec) return abort();
    upgrade_ = {};
    if (video_) {
      text_ = video_->listen(weak_from_this(), captions_);
      if (text_ && with_video_) viewer_ = video_->subscribe(variant_, weak_from_this());
    } else {
      text_ = listen_(weak_from_this());
    }
    if (!text_ || (with_video_ && video_ && !viewer_)) {
      text_ = std::make_shared<TextQueue>(1);
      text_->close();
    }
    accepted_ = true;
    read();
    pump();
  }

  void read() {
    ws_.async_read(read_buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->abort();  // closed by the client, or gone
      self->read_buffer_.consume(self->read_buffer_.size());  // clients have nothing to say
      self->read();
    });
  }

  void send(const void* data, std::size_t size, bool text, TextQueue::Message keep_text, JpegBuffer keep_jpeg) {
    writing_ = true;
    ws_.text(text);
    // Beast's websocket timeouts do not cover a write the peer does not read.
    write_timer_.expires_after(kWriteTimeout);
    write_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec && self->writing_) self->abort();
    });
    ws_.async_write(asio::buffer(data, size), [self = shared_from_this(), keep_text = std::move(keep_text),
                                               keep_jpeg = std::move(keep_jpeg)](beast::error_code ec, std::size_t) {
      self->writing_ = false;
      self->write_timer_.cancel();
      if (ec) return self->abort();
      self->pump();
    });
  }

  void abort() {
    closed_ = true;
    write_timer_.cancel();
    beast::get_lowest_layer(ws_).close();
  }

  Slot slot_;
  websocket::stream<beast::tcp_stream> ws_;
  asio::any_io_executor executor_;
  Request upgrade_;
  std::shared_ptr<StreamVideo> video_;  // null for the event feed
  TextListen listen_;  // the text feed when there is no video_
  const bool with_video_;
  const bool captions_;
  const MjpegVariant variant_;
  std::shared_ptr<TextQueue> text_;
  std::shared_ptr<MjpegViewer> viewer_;
  asio::steady_timer write_timer_;
  beast::flat_buffer read_buffer_;
  bool accepted_ = false, writing_ = false, closed_ = false;
};

}  // namespace

void serve_mjpeg(beast::tcp_stream&& stream, std::shared_ptr<StreamVideo> video, MjpegVariant variant, Slot slot) {
  std::make_shared<JpegSession>(std::move(stream), std::move(video), variant, false, 11, std::move(slot))->start();
}

void serve_snapshot(beast::tcp_stream&& stream, std::shared_ptr<StreamVideo> video, MjpegVariant variant,
                    unsigned http_version, Slot slot) {
  std::make_shared<JpegSession>(std::move(stream), std::move(video), variant, true, http_version, std::move(slot))
      ->start();
}

void serve_stream_socket(beast::tcp_stream&& stream, Request&& upgrade, std::shared_ptr<StreamVideo> video,
                         bool with_video, bool captions, MjpegVariant variant, Slot slot) {
  std::make_shared<SocketSession>(std::move(stream), std::move(upgrade), std::move(video), TextListen{}, with_video,
                                  captions, variant, std::move(slot))
      ->start();
}

void serve_event_socket(beast::tcp_stream&& stream, Request&& upgrade, VideoRegistry& registry, Slot slot) {
  serve_text_socket(
      std::move(stream), std::move(upgrade),
      [&registry](std::weak_ptr<LiveClient> client) { return registry.listen_events(std::move(client)); },
      std::move(slot));
}

void serve_text_socket(beast::tcp_stream&& stream, Request&& upgrade, TextListen listen, Slot slot) {
  std::make_shared<SocketSession>(std::move(stream), std::move(upgrade), nullptr, std::move(listen), false, false,
                                  MjpegVariant{}, std::move(slot))
      ->start();
}

}  // namespace vigil::live
