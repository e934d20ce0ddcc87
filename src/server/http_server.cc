#include "server/http_server.h"

#include <atomic>
#include <chrono>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>  // before Boost 1.74 asio: its awaitable.hpp uses std::exchange
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <spdlog/spdlog.h>

#include "server/api_router.h"
#include "server/engine_adapter.h"
#include "server/cluster_stream_engine.h"
#include "server/beast_request.h"
#include "jobs/job_manager.h"
#include "server/live_session.h"
#include "server/upload_store.h"
#include "server/video_registry.h"

namespace vigil {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr unsigned long kMaxPort = 65535;
constexpr int kMaxIoThreads = 64;
// What a refused connection may still send is read (and dropped) in pieces
// of this size, so it sees the 503 rather than a reset.
constexpr std::size_t kRejectReadBytes = 4096;
// The same after an answer that closes the connection (the rest of a too-large body).
constexpr std::size_t kDrainBufferBytes = 64 * 1024;
// An upload's body is read and written to disk in pieces of this size.
constexpr std::size_t kUploadChunkBytes = 256 * 1024;

struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
};

Result<ListenAddress> parse_listen(const std::string& listen) {
  const std::string what = "listen: '" + listen + "' ";
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size())
    return fail(ErrorCode::kInvalidArgument, what + "is not host:port (e.g. 127.0.0.1:8080)");
  ListenAddress a;
  a.host = listen.substr(0, colon);
  if (a.host.size() >= 2 && a.host.front() == '[' && a.host.back() == ']') a.host = a.host.substr(1, a.host.size() - 2);
  if (a.host.empty()) return fail(ErrorCode::kInvalidArgument, what + "has no host (use 127.0.0.1 or 0.0.0.0)");
  const std::string port = listen.substr(colon + 1);
  unsigned long value = 0;
  for (char c : port) {
    if (c < '0' || c > '9' || value > kMaxPort)
      return fail(ErrorCode::kInvalidArgument, what + "has a bad port (0.." + std::to_string(kMaxPort) + ")");
    value = value * 10 + static_cast<unsigned long>(c - '0');
  }
  if (value > kMaxPort)
    return fail(ErrorCode::kInvalidArgument, what + "has a bad port (0.." + std::to_string(kMaxPort) + ")");
  a.port = static_cast<std::uint16_t>(value);
  return a;
}

// Open connections, in total and per remote address. acquire() returns a
// slot held for the connection's life (HTTP session, then the live session
// it hands over to); null when a cap is reached.
class ConnectionLimits {
 public:
  ConnectionLimits(int max_total, int max_per_address) : max_total_(max_total), max_per_address_(max_per_address) {}

  std::shared_ptr<void> acquire(const std::string& address) {
    std::lock_guard lock(mu_);
    int& mine = per_address_[address];
    if (total_ >= max_total_ || mine >= max_per_address_) {
      if (mine == 0) per_address_.erase(address);
      return nullptr;
    }
    ++total_;
    ++mine;
    return std::shared_ptr<void>(this, [address](ConnectionLimits* self) { self->release(address); });
  }

 private:
  void release(const std::string& address) {
    std::lock_guard lock(mu_);
    --total_;
    if (--per_address_[address] <= 0) per_address_.erase(address);
  }

  const int max_total_, max_per_address_;
  std::mutex mu_;
  int total_ = 0;
  std::map<std::string, int> per_address_;
};

// The security headers of every answer (the dashboard's CSP comes from the router).
template <class Response>
void set_common_headers(Response& res) {
  res.set(http::field::server, "vigil");
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "no-referrer");
}

// Answers a connection over a cap with 503 and closes it, without reading
// more than the client has already sent.
void reject_connection(tcp::socket&& socket, const std::string& why) {
  auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
  auto res = std::make_shared<http::response<http::string_body>>(http::status::service_unavailable, 11);
  set_common_headers(*res);
  res->set(http::field::content_type, "application/json");
  res->set(http::field::retry_after, "5");
  res->body() = json_error(503, why).body;
  res->keep_alive(false);
  res->prepare_payload();
  stream->expires_after(std::chrono::seconds(5));
  http::async_write(*stream, *res, [stream, res](beast::error_code, std::size_t) {
    beast::error_code ec;
    stream->socket().shutdown(tcp::socket::shutdown_send, ec);
    // Read what the client still sends for a moment so it sees the answer, not a reset.
    auto buf = std::make_shared<std::vector<char>>(kRejectReadBytes);
    stream->expires_after(std::chrono::seconds(1));
    stream->async_read_some(asio::buffer(*buf), [stream, buf](beast::error_code, std::size_t) {});
  });
}

// One connection: read a request, answer it, repeat while keep-alive.
// All of it runs on the connection's strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, ApiRouter& router, VideoRegistry& videos, const ServerOptions& options,
          std::string remote, std::shared_ptr<void> slot)
      : stream_(std::move(socket)),
        router_(router),
        videos_(videos),
        options_(options),
        remote_(std::move(remote)),
        slot_(std::move(slot)) {}

  void run() {
    asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::read, shared_from_this()));
  }

 private:
  // The header first: an upload's body is streamed to disk (read_upload),
  // any other body is read whole, at most kBodyLimit.
  void read() {
    header_parser_.emplace();
    // Checked once the route is known. (Not boost::none: Boost 1.74 compares
    // the length with it and refuses every body.)
    header_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    stream_.expires_after(std::chrono::seconds(first_ ? options_.request_timeout_s : options_.keep_alive_timeout_s));
    first_ = false;
    http::async_read_header(stream_, buffer_, *header_parser_,
                            beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  // The boundary of a request: whatever goes wrong answers 500 and closes,
  // never an exception out of the I/O thread.
  template <class Step>
  void guarded(Step&& step) {
    try {
      step();
    } catch (const std::exception& e) {
      spdlog::error("HTTP: request from {} failed: {}", remote_, e.what());
      drop_upload();
      send_error(500, std::string("internal error: ") + e.what(), http::status::internal_server_error);
    } catch (...) {
      drop_upload();
      send_error(500, "internal error", http::status::internal_server_error);
    }
  }

  void on_header(beast::error_code ec, std::size_t) {
    guarded([&] {
      if (read_failed(ec)) return;
      const auto& h = header_parser_->get();
      if (ApiRouter::is_upload(std::string(h.method_string()), std::string(h.target()))) return start_upload();
      const bool too_large = header_parser_->content_length() && *header_parser_->content_length() > HttpServer::kBodyLimit;
      parser_.emplace(std::move(*header_parser_));
      header_parser_.reset();
      if (too_large) return send_error(413, "request body larger than 1 MiB", http::status::payload_too_large);
      parser_->body_limit(HttpServer::kBodyLimit);
      http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_read, shared_from_this()));
    });
  }

  void on_read(beast::error_code ec, std::size_t) {
    guarded([&] { answer(ec); });
  }

  // True when the read ended the request (answered or closed).
  bool read_failed(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted) {
      shutdown();
      return true;
    }
    if (ec == http::error::body_limit) {
      send_error(413, "request body larger than 1 MiB", http::status::payload_too_large);
      return true;
    }
    if (ec) {
      if (ec == asio::error::eof || ec == asio::error::connection_reset) {
        shutdown();
      } else {
        send_error(400, "malformed HTTP request: " + ec.message(), http::status::bad_request);
      }
      return true;
    }
    return false;
  }

  // POST /api/uploads: checked on its header, then the body goes to disk in
  // pieces (the read timeout counts per piece); a client that goes away
  // leaves the .part for a restart.
  void start_upload() {
    auto& h = header_parser_->get();
    std::optional<std::uint64_t> length;
    if (header_parser_->content_length()) length = *header_parser_->content_length();
    UploadStart start = router_.begin_upload(to_api_request(h, remote_), length);
    if (start.error) return respond(std::move(*start.error), h.version(), false, h.method());
    upload_ = std::move(start.file);
    upload_parser_.emplace(std::move(*header_parser_));
    header_parser_.reset();
    upload_parser_->body_limit(start.body_limit);
    upload_chunk_.resize(kUploadChunkBytes);
    if (!beast::iequals(upload_parser_->get()[http::field::expect], "100-continue")) return read_upload();
    auto res = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
      self->guarded([&] {
        if (ec) return self->abandon_upload();
        self->read_upload();
      });
    });
  }

  void read_upload() {
    auto& body = upload_parser_->get().body();
    body.data = upload_chunk_.data();
    body.size = upload_chunk_.size();
    stream_.expires_after(std::chrono::seconds(options_.request_timeout_s));
    http::async_read(stream_, buffer_, *upload_parser_,
                     beast::bind_front_handler(&Session::on_upload_piece, shared_from_this()));
  }

  void on_upload_piece(beast::error_code ec, std::size_t) {
    guarded([&] {
      if (ec == http::error::need_buffer) ec = {};
      if (ec == http::error::body_limit) {  // a chunked body past the limit
        drop_upload();
        return respond(router_.upload_too_large(), 11, false, http::verb::post);
      }
      // What arrived is kept, also when the client went away after it.
      const std::size_t got = upload_chunk_.size() - upload_parser_->get().body().size;
      if (auto w = upload_->write(upload_chunk_.data(), got); !w) {
        drop_upload();
        return send_error(500, w.error().message, http::status::internal_server_error);
      }
      if (ec) return abandon_upload();
      if (!upload_parser_->is_done()) return read_upload();
      const auto& h = upload_parser_->get();
      ApiResponse a = router_.finish_upload(*upload_);
      upload_.reset();
      respond(std::move(a), h.version(), h.keep_alive(), h.method());
    });
  }

  // The connection ended (or failed) mid-upload: what arrived stays in the .part.
  void abandon_upload() {
    drop_upload();
    shutdown();
  }
  void drop_upload() {
    if (upload_)
      spdlog::info("HTTP: upload {} from {} ended early; {} bytes kept for a restart", upload_->name(), remote_,
                   upload_->bytes());
    upload_.reset();
  }

  void answer(beast::error_code ec) {
    if (read_failed(ec)) return;
    const auto& req = parser_->get();
    ApiRequest r = to_api_request(req, remote_);
    if (serve_media(r)) return;
    ApiResponse a = router_.handle(r);
    respond(std::move(a), req.version(), req.keep_alive(), req.method());
  }

  // Live media take the connection over (live_session.h); true when this
  // request was one (served or answered with an error).
  bool serve_media(const ApiRequest& r) {
    auto& req = parser_->get();
    const MediaRequest m = router_.media(r, beast::websocket::is_upgrade(req));
    if (m.kind == MediaRequest::Kind::kNone) return false;
    if (m.has_error) {
      respond(m.error, req.version(), req.keep_alive() && !beast::websocket::is_upgrade(req), req.method());
      return true;
    }
    if (m.kind == MediaRequest::Kind::kGateSocket) return serve_gate_check(m);
    std::shared_ptr<StreamVideo> video;
    if (m.kind != MediaRequest::Kind::kEventSocket && m.kind != MediaRequest::Kind::kJobSocket) {
      video = videos_.find(m.stream);
      if (!video) {
        respond(json_error(404, "stream '" + m.stream + "' does not exist"), req.version(), req.keep_alive(),
                req.method());
        return true;
      }
    }
    beast::tcp_stream stream(stream_.release_socket());
    switch (m.kind) {
      case MediaRequest::Kind::kMjpeg:
        live::serve_mjpeg(std::move(stream), std::move(video), m.variant, slot_);
        break;
      case MediaRequest::Kind::kSnapshot:
        live::serve_snapshot(std::move(stream), std::move(video), m.variant, req.version(), slot_);
        break;
      case MediaRequest::Kind::kStreamSocket:
        live::serve_stream_socket(std::move(stream), parser_->release(), std::move(video), m.video, m.captions,
                                  m.variant, slot_);
        break;
      case MediaRequest::Kind::kEventSocket:
        live::serve_event_socket(std::move(stream), parser_->release(), videos_, slot_);
        break;
      case MediaRequest::Kind::kJobSocket:
        live::serve_text_socket(std::move(stream), parser_->release(),
                                [jobs = options_.jobs, id = m.job](std::weak_ptr<LiveClient> client) {
                                  return jobs ? jobs->listen(id, std::move(client)) : nullptr;
                                },
                                slot_);
        break;
      case MediaRequest::Kind::kNone:
      case MediaRequest::Kind::kGateSocket:
        break;
    }
    return true;
  }

  // Verolux's /ws/gate-check (video_registry.h, gate_feed).
  bool serve_gate_check(const MediaRequest& m) {
    auto& req = parser_->get();
    auto feed = videos_.gate_feed(m.stream, m.gate_url, m.use_substream);
    if (!feed) {
      respond(error_response(feed.error()), req.version(), false, req.method());
      return true;
    }
    live::serve_text_socket(beast::tcp_stream(stream_.release_socket()), parser_->release(), std::move(*feed), slot_);
    return true;
  }

  void respond(ApiResponse a, unsigned version, bool keep_alive, http::verb method) {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(a.status), version);
    set_common_headers(*res);
    res->set(http::field::content_type, a.content_type);
    if (!a.allow.empty()) res->set(http::field::allow, a.allow);
    if (a.status == 401) res->set(http::field::www_authenticate, "Bearer");
    for (const auto& [name, value] : a.headers) res->insert(name, value);
    if (method != http::verb::head) res->body() = std::move(a.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    write(res);
  }

  // An error found before routing (the request could not be read whole): answer and close.
  void send_error(int status, const std::string& message, http::status code) {
    auto res = std::make_shared<http::response<http::string_body>>(code, 11);
    set_common_headers(*res);
    res->set(http::field::content_type, "application/json");
    res->body() = json_error(status, message).body;
    res->keep_alive(false);
    res->prepare_payload();
    write(res);
  }

  void write(const std::shared_ptr<http::response<http::string_body>>& res) {
    stream_.expires_after(std::chrono::seconds(options_.request_timeout_s));
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
      if (ec) return self->shutdown();
      if (!res->keep_alive()) return self->drain();
      self->read();
    });
  }

  // After an answer that closes the connection: stop sending, then read and
  // discard what the client still sends (the rest of a too-large body) for a
  // short while, so closing does not reset the connection before the client
  // has read the answer.
  void drain() {
    shutdown();
    stream_.expires_after(std::chrono::seconds(2));
    drain_buf_.resize(kDrainBufferBytes);
    stream_.async_read_some(asio::buffer(drain_buf_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec) self->drain_more();
    });
  }
  void drain_more() {
    stream_.async_read_some(asio::buffer(drain_buf_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec) self->drain_more();
    });
  }

  void shutdown() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> header_parser_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::request_parser<http::buffer_body>> upload_parser_;
  std::unique_ptr<UploadFile> upload_;  // the upload being read, if any
  std::vector<char> upload_chunk_;
  ApiRouter& router_;
  VideoRegistry& videos_;
  const ServerOptions& options_;
  const std::string remote_;   // the client's IP address
  std::shared_ptr<void> slot_;  // this connection's place in ConnectionLimits
  bool first_ = true;
  std::vector<char> drain_buf_;
};

}  // namespace

struct HttpServer::Impl {
  Impl(ServerOptions o, Engine& engine)
      : options(std::move(o)),
        limits(options.max_connections, options.max_connections_per_address),
        ioc(options.threads),
        engine_api(engine),
        cluster_api(options.cluster ? std::make_unique<ClusterStreamEngine>(engine_api, *options.cluster) : nullptr),
        router(cluster_api ? static_cast<StreamEngine&>(*cluster_api) : engine_api, options),
        videos(engine),
        acceptor(ioc),
        timer(ioc) {
    router.set_video(&videos);
  }

  void accept() {
    acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      } else {
        admit(std::move(socket));
      }
      accept();
    });
  }

  void admit(tcp::socket&& socket) {
    beast::error_code ec;
    const auto peer = socket.remote_endpoint(ec);
    if (ec) return;  // already gone
    const std::string remote = peer.address().to_string();
    auto slot = limits.acquire(remote);
    if (!slot) {
      spdlog::warn("HTTP: connection from {} refused: over max_connections ({}) or max_connections_per_address ({})",
                   remote, options.max_connections, options.max_connections_per_address);
      return reject_connection(std::move(socket), "too many connections (the server allows " +
                                                      std::to_string(options.max_connections) + " in all and " +
                                                      std::to_string(options.max_connections_per_address) +
                                                      " per address): try again later");
    }
    std::make_shared<Session>(std::move(socket), router, videos, options, remote, std::move(slot))->run();
  }

  void tick() {
    timer.expires_after(std::chrono::seconds(1));
    timer.async_wait([this](beast::error_code ec) {
      if (ec) return;
      router.sample();
      tick();
    });
  }

  ServerOptions options;
  ConnectionLimits limits;  // before ioc: sessions destroyed with the context release their slots into it
  asio::io_context ioc;
  EngineAdapter engine_api;  // the router's view of the engine
  std::unique_ptr<ClusterStreamEngine> cluster_api;  // a cluster node: stream changes go to the cluster
  ApiRouter router;
  VideoRegistry videos;  // before the I/O threads stop: sessions' feeds close first
  tcp::acceptor acceptor;
  asio::steady_timer timer;
  std::vector<std::thread> threads;
  std::once_flag stopped;
  tcp::endpoint bound;  // set once in start()
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::start(ServerOptions options, Engine& engine) {
  auto addr = parse_listen(options.listen);
  if (!addr) return fail(addr.error());
  if (options.threads < 1 || options.threads > kMaxIoThreads)
    return fail(ErrorCode::kInvalidArgument,
                "threads: " + std::to_string(options.threads) + " is not in 1.." + std::to_string(kMaxIoThreads));
  if (options.max_connections < 1 || options.max_connections_per_address < 1)
    return fail(ErrorCode::kInvalidArgument, "server.max_connections and server.max_connections_per_address must be >= 1");
  if (options.login_free_attempts < 1)
    return fail(ErrorCode::kInvalidArgument, "server.login_free_attempts must be >= 1");
  if (options.request_timeout_s < 1 || options.keep_alive_timeout_s < 1)
    return fail(ErrorCode::kInvalidArgument, "request_timeout_s and keep_alive_timeout_s must be >= 1");

  boost::system::error_code ec;
  asio::ip::address ip = asio::ip::make_address(addr->host, ec);
  if (ec) {
    if (addr->host != "localhost")
      return fail(ErrorCode::kInvalidArgument,
                  "listen: '" + addr->host + "' is not an IP address (use 127.0.0.1, ::1, 0.0.0.0 or localhost)");
    ip = asio::ip::make_address("127.0.0.1");
  }
  if (!ip.is_loopback() && options.token.empty())
    return fail(ErrorCode::kInvalidArgument,
                "listen: refusing to serve on non-loopback address " + options.listen +
                    " without a token: anyone on the network could control the engine (set a token, or listen on 127.0.0.1)");

  auto impl = std::make_unique<Impl>(std::move(options), engine);
  const tcp::endpoint endpoint(ip, addr->port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return fail(ErrorCode::kInvalidArgument, "listen: cannot listen on " + impl->options.listen + ": " + ec.message());

  impl->bound = impl->acceptor.local_endpoint(ec);
  impl->accept();
  impl->tick();
  const int n = impl->options.threads;
  for (int i = 0; i < n; ++i)
    impl->threads.emplace_back([ioc = &impl->ioc] {
      // A handler that throws must not end the thread (and the process): log and go on.
      for (;;) {
        try {
          ioc->run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("HTTP: I/O handler failed: {}", e.what());
        } catch (...) {
          spdlog::error("HTTP: I/O handler failed");
        }
      }
    });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

void HttpServer::stop() {
  if (!impl_) return;
  std::call_once(impl_->stopped, [this] {
    // Observers and the event bus stop posting to the context first.
    impl_->videos.shutdown();
    // Open connections hold work, so the context is stopped rather than left
    // to run out; destroying it (with the server) closes their sockets.
    impl_->ioc.stop();
    for (auto& t : impl_->threads)
      if (t.joinable()) t.join();
    beast::error_code ec;
    impl_->timer.cancel();
    impl_->acceptor.close(ec);
  });
}

std::uint16_t HttpServer::port() const { return impl_->bound.port(); }

std::string HttpServer::host() const { return impl_->bound.address().to_string(); }

}  // namespace vigil
