// A local fake OpenAI chat-completions server for tests (a TEST DOUBLE: no
// vision-language model can run on this machine). It listens on 127.0.0.1
// (ephemeral port, Boost.Beast, one thread), records each request and answers
// what the test's handler says: a caption, an HTTP error, invalid JSON, a slow
// answer, or one held until release().
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>  // before Boost 1.74 asio: its awaitable.hpp uses std::exchange
#include <vector>

// GCC 12 with -fsanitize=address reports a false -Wmaybe-uninitialized inside
// Beast's parser (boost::optional content length); silence it for Boost only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#pragma GCC diagnostic pop
#include <nlohmann/json.hpp>

namespace vigil::test {

namespace fake_chat {
using namespace std::chrono_literals;
using nlohmann::json;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
}  // namespace fake_chat

using namespace fake_chat;

struct SeenRequest {
  std::string method, target, body, authorization, content_type;
};

struct Reply {
  int status = 200;
  std::string body;
  double delay_s = 0;  // wait before answering
  bool hold = false;   // wait until release() before answering
};

inline std::string chat_answer(const std::string& content) {
  return json{{"id", "chatcmpl-1"},
              {"object", "chat.completion"},
              {"choices", json::array({{{"index", 0},
                                        {"message", {{"role", "assistant"}, {"content", content}}},
                                        {"finish_reason", "stop"}}})}}
      .dump();
}

class FakeChatServer {
 public:
  using Handler = std::function<Reply(const SeenRequest&, int index)>;

  explicit FakeChatServer(Handler handler) : handler_(std::move(handler)), acceptor_(ioc_) {
    const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
  }

  ~FakeChatServer() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      cv_.notify_all();
    }
    // Wake a blocking accept() with a connection of our own.
    beast::error_code ec;
    tcp::socket poke(ioc_);
    poke.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
    poke.close(ec);
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::vector<SeenRequest> requests() {
    std::lock_guard lock(mu_);
    return seen_;
  }

  void release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

  // Blocks until `n` requests have arrived (false after 10 s).
  bool wait_requests(std::size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return seen_.size() >= n; });
  }

 private:
  bool stopping() {
    std::lock_guard lock(mu_);
    return stop_;
  }

  void serve() {
    while (!stopping()) {
      tcp::socket socket(ioc_);
      beast::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec) continue;
      handle(socket);
    }
  }

  void handle(tcp::socket& socket) {
    beast::error_code ec;
    beast::flat_buffer buffer;
    http::request_parser<http::string_body> parser;
    parser.body_limit(64u << 20);
    http::read(socket, buffer, parser, ec);
    if (ec) return;
    const auto& req = parser.get();
    SeenRequest seen{std::string(req.method_string()), std::string(req.target()), req.body(),
                     std::string(req[http::field::authorization]), std::string(req[http::field::content_type])};
    int index = 0;
    {
      std::lock_guard lock(mu_);
      index = static_cast<int>(seen_.size());
      seen_.push_back(seen);
      cv_.notify_all();
    }
    const Reply reply = handler_(seen, index);
    {
      std::unique_lock lock(mu_);
      const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(reply.delay_s);
      cv_.wait_until(lock, until, [&] { return stop_; });
      cv_.wait(lock, [&] { return stop_ || released_ || !reply.hold; });
      if (stop_) return;
    }
    http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(false);
    res.body() = reply.body;
    res.prepare_payload();
    http::write(socket, res, ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }

  Handler handler_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<SeenRequest> seen_;  // guarded by mu_
  bool stop_ = false;              // guarded by mu_
  bool released_ = false;          // guarded by mu_
};

// A port with nothing listening on it (bound, then closed).
inline std::uint16_t closed_port() {
  asio::io_context ioc;
  tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = a.local_endpoint().port();
  a.close();
  return port;
}

}  // namespace vigil::test
