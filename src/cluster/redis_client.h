// RedisClient: one blocking connection to a Redis server (hiredis), the
// transport of the cluster (offline chunk tasks, live leases and events).
//
// URL: redis://[user:password@]host[:port][/db] (port 6379, db 0 by
// default; a user without a password, "redis://:secret@host", is AUTH with the
// password only). Messages never show the password: RedisUrl::redacted().
//
// Commands go by argv (redisCommandArgv), so keys and values are
// binary-safe strings (a chunk result, a JPEG). Replies come back as a small
// owned tree (RedisReply); no hiredis type leaves redis_client.cc.
//
// Failures: a reply of type kError is a normal reply of command() (the
// caller decides: "BUSYGROUP" is fine for XGROUP CREATE); call() turns it
// into a kBadInput failure naming the command. An I/O error (the server went
// away, a timeout) drops the connection; the next attempt reconnects with
// capped exponential backoff (reconnect_min .. reconnect_max) and the
// command is sent again, until reconnect_for has passed without a
// connection (-> kRuntime naming the URL) or `stop` is set (-> kCancelled).
// So a command may run twice when the server applied it and the reply was
// lost: send idempotent commands, or scripts that check state first.
//
// Threads: one connection per thread. A RedisClient is not thread-safe;
// each thread that talks to Redis opens its own (connect() is cheap).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace vigil {

struct RedisUrl {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string user;      // empty: AUTH with the password only
  std::string password;  // empty: no AUTH
  std::string text;      // as given

  // The URL with the password shown as "***" (for messages and logs).
  std::string redacted() const;
};

// kInvalidArgument naming the URL (password redacted) for anything but
// redis://[user:password@]host[:port][/db] with port 1..65535 and db >= 0.
Result<RedisUrl> parse_redis_url(std::string_view url);

struct RedisReply {
  enum class Type { kNil, kInteger, kString, kArray, kStatus, kError };
  Type type = Type::kNil;
  std::int64_t integer = 0;
  std::string str;  // kString, kStatus, kError
  std::vector<RedisReply> elements;  // kArray

  bool is_nil() const { return type == Type::kNil; }
  bool is_error() const { return type == Type::kError; }
  bool is_array() const { return type == Type::kArray; }
  // str for kString / kStatus, the number for kInteger, else "".
  std::string text() const;
};

struct RedisClientOptions {
  RedisUrl url;
  std::chrono::milliseconds connect_timeout{2000};
  // Per command; a blocking command (XREADGROUP BLOCK n) needs more than n.
  std::chrono::milliseconds command_timeout{5000};
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{2000};
  // How long a command keeps trying to reconnect before it fails.
  std::chrono::milliseconds reconnect_for{std::chrono::seconds(60)};
  const std::atomic<bool>* stop = nullptr;  // set: reconnecting gives up (kCancelled)
};

class RedisClient {
 public:
  // Connects (AUTH, SELECT) once, failing at once if that does not work:
  // kRuntime "redis redis://host:port/0: connection refused", kBadInput for
  // a refused AUTH or SELECT.
  static Result<std::unique_ptr<RedisClient>> connect(const RedisClientOptions& options);

  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // One command; error replies are returned as replies (type kError).
  Result<RedisReply> command(const std::vector<std::string>& argv);
  // command(), but an error reply is kBadInput "redis URL: XADD: ERR ...".
  Result<RedisReply> call(const std::vector<std::string>& argv);
  // Several commands in one round trip (sent together, replies in order;
  // error replies as replies). After an I/O error all are sent again.
  Result<std::vector<RedisReply>> pipeline(const std::vector<std::vector<std::string>>& commands);

  // Times a connection was made again after an I/O error.
  int reconnects() const { return reconnects_; }
  const RedisUrl& url() const { return options_.url; }

 private:
  struct Conn;
  explicit RedisClient(RedisClientOptions options);
  Result<void> open();
  Result<void> ensure_open();
  Result<std::vector<RedisReply>> send(const std::vector<std::vector<std::string>>& commands, bool& io_error);

  RedisClientOptions options_;
  std::unique_ptr<Conn> conn_;
  int reconnects_ = 0;
};

}  // namespace vigil
