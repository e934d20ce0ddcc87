// A small blocking HTTP/WebSocket client (Boost.Beast) for the server tests:
// one request per connection, an MJPEG part reader, WebSocket helpers and
// the process's thread and descriptor counts.
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <utility>  // before Boost 1.74 asio: its awaitable.hpp uses std::exchange

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace vigil::http_test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;
using namespace std::chrono_literals;

struct Reply {
  int status = 0;
  std::string content_type;
  std::string allow;
  std::string location;
  std::string set_cookie;
  std::string body;
  std::map<std::string, std::string> headers;  // every response header, by its name as sent
  json parsed() const { return json::parse(body, nullptr, false); }
  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

using Headers = std::map<std::string, std::string>;

// One request on a fresh connection; status 0 if the exchange failed.
inline Reply request(std::uint16_t port, http::verb method, const std::string& target, const std::string& body = "",
              const Headers& headers = {}) {
  Reply out;
  try {
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(30s);
    stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    http::request<http::string_body> req(method, target, 11);
    req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty()) {
      if (!headers.count("Content-Type")) req.set(http::field::content_type, "application/json");
      req.body() = body;
    }
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    http::read(stream, buffer, parser);
    const auto& res = parser.get();
    out.status = static_cast<int>(res.result_int());
    out.content_type = std::string(res[http::field::content_type]);
    out.allow = std::string(res[http::field::allow]);
    out.location = std::string(res[http::field::location]);
    out.set_cookie = std::string(res[http::field::set_cookie]);
    out.body = res.body();
    for (const auto& field : res) out.headers[std::string(field.name_string())] = std::string(field.value());
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "request " << target << " failed: " << e.what();
  }
  return out;
}

inline Reply get(std::uint16_t port, const std::string& target, const Headers& headers = {}) {
  return request(port, http::verb::get, target, "", headers);
}

// The error contract: the status, a JSON content type, and {"error": "..."}.
inline void expect_error(const Reply& r, int status, const std::string& contains = "") {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  const json j = r.parsed();
  ASSERT_TRUE(j.is_object() && j.contains("error") && j["error"].is_string()) << r.body;
  EXPECT_FALSE(j["error"].get<std::string>().empty());
  if (!contains.empty()) {
    EXPECT_NE(j["error"].get<std::string>().find(contains), std::string::npos) << r.body;
  }
}



// ---------------------------------------------------------------- live media helpers

inline bool is_jpeg(const std::string& b) {
  return b.size() > 4 && static_cast<unsigned char>(b[0]) == 0xFF && static_cast<unsigned char>(b[1]) == 0xD8 &&
         static_cast<unsigned char>(b[b.size() - 2]) == 0xFF && static_cast<unsigned char>(b[b.size() - 1]) == 0xD9;
}

// A blocking multipart/x-mixed-replace reader over a plain socket.
class MjpegClient {
 public:
  // rcvbuf > 0: a small receive buffer (set before connecting), for a client that stops reading.
  MjpegClient(std::uint16_t port, const std::string& target, int rcvbuf = 0) : socket_(ioc_) {
    socket_.open(tcp::v4());
    if (rcvbuf > 0) socket_.set_option(asio::socket_base::receive_buffer_size(rcvbuf));
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    const std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n\r\n";
    asio::write(socket_, asio::buffer(req));
  }
  // The response head ("HTTP/1.1 200 OK\r\n...").
  std::string head() { return read_until("\r\n\r\n"); }
  // One part: false on a protocol error or a closed connection.
  bool part(std::string& content_type, std::string& jpeg) {
    try {
      std::string h = read_until("\r\n\r\n");
      if (h.rfind("\r\n", 0) == 0) h.erase(0, 2);  // the CRLF that ends the previous part
      if (h.rfind("--vigilframe\r\n", 0) != 0) return false;
      content_type = field(h, "Content-Type");
      const std::size_t n = std::stoul(field(h, "Content-Length"));
      while (buf_.size() < n) fill();
      jpeg = buf_.substr(0, n);
      buf_.erase(0, n);
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }
  tcp::socket& socket() { return socket_; }

 private:
  static std::string field(const std::string& head, const std::string& name) {
    const std::size_t at = head.find(name + ": ");
    if (at == std::string::npos) return "";
    const std::size_t end = head.find("\r\n", at);
    return head.substr(at + name.size() + 2, end - at - name.size() - 2);
  }
  void fill() {
    char tmp[65536];
    const std::size_t n = socket_.read_some(asio::buffer(tmp));
    buf_.append(tmp, n);
  }
  std::string read_until(const std::string& delim) {
    std::size_t at;
    while ((at = buf_.find(delim)) == std::string::npos) fill();
    std::string out = buf_.substr(0, at + delim.size());
    buf_.erase(0, at + delim.size());
    return out;
  }
  asio::io_context ioc_;
  tcp::socket socket_;
  std::string buf_;
};


using WebSocket = beast::websocket::stream<beast::tcp_stream>;

inline std::unique_ptr<WebSocket> ws_connect(asio::io_context& ioc, std::uint16_t port, const std::string& target) {
  auto ws = std::make_unique<WebSocket>(ioc);
  beast::get_lowest_layer(*ws).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  ws->handshake("127.0.0.1:" + std::to_string(port), target);
  return ws;
}

struct WsMessage {
  bool ok = false;
  bool binary = false;
  std::string data;
};

// One message within `timeout` (ok false on timeout or error).
inline WsMessage ws_read(asio::io_context& ioc, WebSocket& ws, std::chrono::milliseconds timeout) {
  WsMessage m;
  beast::flat_buffer buffer;
  bool done = false;
  ws.async_read(buffer, [&](beast::error_code ec, std::size_t) {
    done = true;
    m.ok = !ec;
  });
  ioc.restart();
  ioc.run_for(timeout);
  if (!done) {
    beast::get_lowest_layer(ws).close();
    ioc.restart();
    ioc.run_for(1s);
    return {};
  }
  m.binary = ws.got_binary();
  m.data = beast::buffers_to_string(buffer.data());
  return m;
}

inline int proc_threads() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  return -1;
}

inline int proc_fds() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

}  // namespace vigil::http_test
