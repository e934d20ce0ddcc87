#include "cluster/redis_client.h"

#include <sys/time.h>

#include <algorithm>
#include <charconv>
#include <thread>

#include <hiredis/hiredis.h>

namespace vigil {
namespace {

constexpr int kMaxPort = 65535;
constexpr std::string_view kScheme = "redis://";

std::string redact(std::string_view url) {
  const auto at = url.rfind('@');
  if (url.substr(0, kScheme.size()) != kScheme || at == std::string_view::npos) return std::string(url);
  const std::string_view userinfo = url.substr(kScheme.size(), at - kScheme.size());
  const auto colon = userinfo.find(':');
  if (colon == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, kScheme.size() + colon + 1)) + "***" + std::string(url.substr(at));
}

Result<int> parse_int(std::string_view s, int lo, int hi) {
  int v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi)
    return fail(ErrorCode::kInvalidArgument, "");
  return v;
}

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

RedisReply to_reply(const redisReply* r) {
  RedisReply out;
  if (!r) return out;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      out.type = r->type == REDIS_REPLY_STRING   ? RedisReply::Type::kString
                 : r->type == REDIS_REPLY_STATUS ? RedisReply::Type::kStatus
                                                 : RedisReply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(to_reply(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
  }
  return out;
}

struct ReplyDeleter {
  void operator()(void* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<void, ReplyDeleter>;

}  // namespace

std::string RedisUrl::redacted() const { return redact(text); }

std::string RedisReply::text() const {
  if (type == Type::kString || type == Type::kStatus) return str;
  if (type == Type::kInteger) return std::to_string(integer);
  return {};
}

Result<RedisUrl> parse_redis_url(std::string_view url) {
  const std::string shown = redact(url);
  auto bad = [&](const std::string& why) {
    return fail(ErrorCode::kInvalidArgument,
                "redis URL '" + shown + "': " + why + " (expected redis://[user:password@]host[:port][/db])");
  };
  if (url.substr(0, kScheme.size()) != kScheme) return bad("does not start with redis://");
  RedisUrl u;
  u.text = std::string(url);
  std::string_view rest = url.substr(kScheme.size());
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    const std::string_view db = rest.substr(slash + 1);
    if (!db.empty()) {
      auto n = parse_int(db, 0, 1'000'000);
      if (!n) return bad("database '" + std::string(db) + "' is not a number >= 0");
      u.db = *n;
    }
  }
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const auto colon = userinfo.find(':');
    u.user = std::string(userinfo.substr(0, colon));
    if (colon != std::string_view::npos) u.password = std::string(userinfo.substr(colon + 1));
    else return bad("user '" + u.user + "' without a password");
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {  // [IPv6]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("unclosed '[' in the host");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("unexpected text after the host");
      port = after.substr(1);
      if (port.empty()) return bad("empty port");
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return bad("empty port");
  }
  if (host.empty()) return bad("no host");
  u.host = std::string(host);
  if (!port.empty()) {
    auto p = parse_int(port, 1, kMaxPort);
    if (!p) return bad("port '" + std::string(port) + "' is not a number from 1 to 65535");
    u.port = *p;
  }
  return u;
}

struct RedisClient::Conn {
  redisContext* ctx = nullptr;
  ~Conn() {
    if (ctx) redisFree(ctx);
  }
};

RedisClient::RedisClient(RedisClientOptions options) : options_(std::move(options)) {}
RedisClient::~RedisClient() = default;

Result<std::unique_ptr<RedisClient>> RedisClient::connect(const RedisClientOptions& options) {
  std::unique_ptr<RedisClient> c(new RedisClient(options));
  if (auto r = c->open(); !r) return fail(r.error());
  return c;
}

// A new connection (the old one dropped), authenticated, on the database.
Result<void> RedisClient::open() {
  conn_.reset();
  const std::string where = "redis " + options_.url.redacted();
  auto conn = std::make_unique<Conn>();
  const timeval ct = to_timeval(options_.connect_timeout);
  conn->ctx = redisConnectWithTimeout(options_.url.host.c_str(), options_.url.port, ct);
  if (!conn->ctx) return fail(ErrorCode::kRuntime, where + ": out of memory");
  if (conn->ctx->err) return fail(ErrorCode::kRuntime, where + ": " + conn->ctx->errstr);
  const timeval cmd = to_timeval(options_.command_timeout);
  if (redisSetTimeout(conn->ctx, cmd) != REDIS_OK) return fail(ErrorCode::kRuntime, where + ": cannot set the timeout");
  auto setup = [&](const std::vector<std::string>& argv, const char* what) -> Result<void> {
    std::vector<const char*> args;
    std::vector<std::size_t> lens;
    for (const auto& a : argv) args.push_back(a.data()), lens.push_back(a.size());
    ReplyPtr r(redisCommandArgv(conn->ctx, static_cast<int>(args.size()), args.data(), lens.data()));
    if (!r) return fail(ErrorCode::kRuntime, where + ": " + what + ": " + conn->ctx->errstr);
    const auto* rr = static_cast<const redisReply*>(r.get());
    if (rr->type == REDIS_REPLY_ERROR) return fail(ErrorCode::kBadInput, where + ": " + what + " refused: " + rr->str);
    return {};
  };
  if (!options_.url.password.empty()) {
    std::vector<std::string> auth{"AUTH"};
    if (!options_.url.user.empty()) auth.push_back(options_.url.user);
    auth.push_back(options_.url.password);
    if (auto r = setup(auth, "AUTH"); !r) return r;
  }
  if (options_.url.db != 0)
    if (auto r = setup({"SELECT", std::to_string(options_.url.db)}, "SELECT"); !r) return r;
  conn_ = std::move(conn);
  return {};
}

// Reconnects with capped backoff until reconnect_for passes or stop is set.
Result<void> RedisClient::ensure_open() {
  if (conn_) return {};
  const auto deadline = std::chrono::steady_clock::now() + options_.reconnect_for;
  auto wait = options_.reconnect_min;
  Error last{ErrorCode::kRuntime, "redis " + options_.url.redacted() + ": not connected"};
  while (true) {
    if (options_.stop && options_.stop->load())
      return fail(ErrorCode::kCancelled, "redis " + options_.url.redacted() + ": stopped while reconnecting");
    auto r = open();
    if (r) {
      ++reconnects_;
      return {};
    }
    last = r.error();
    if (last.code != ErrorCode::kRuntime) return fail(last);  // AUTH refused: waiting will not help
    if (std::chrono::steady_clock::now() + wait > deadline)
      return fail(ErrorCode::kRuntime, last.message + " (gave up reconnecting after " +
                                           std::to_string(options_.reconnect_for.count() / 1000) + " s)");
    std::this_thread::sleep_for(wait);
    wait = std::min(options_.reconnect_max, wait * 2);
  }
}

Result<std::vector<RedisReply>> RedisClient::send(const std::vector<std::vector<std::string>>& commands,
                                                  bool& io_error) {
  io_error = false;
  redisContext* ctx = conn_->ctx;
  for (const auto& argv : commands) {
    std::vector<const char*> args;
    std::vector<std::size_t> lens;
    args.reserve(argv.size());
    lens.reserve(argv.size());
    for (const auto& a : argv) args.push_back(a.data()), lens.push_back(a.size());
    if (redisAppendCommandArgv(ctx, static_cast<int>(args.size()), args.data(), lens.data()) != REDIS_OK) {
      io_error = true;
      return fail(ErrorCode::kRuntime, "redis " + options_.url.redacted() + ": " + ctx->errstr);
    }
  }
  std::vector<RedisReply> out;
  out.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx, &raw) != REDIS_OK || !raw) {
      io_error = true;
      return fail(ErrorCode::kRuntime, "redis " + options_.url.redacted() + ": " +
                                           (commands[i].empty() ? std::string("?") : commands[i][0]) + ": " +
                                           ctx->errstr);
    }
    ReplyPtr r(raw);
    out.push_back(to_reply(static_cast<const redisReply*>(raw)));
  }
  return out;
}

Result<std::vector<RedisReply>> RedisClient::pipeline(const std::vector<std::vector<std::string>>& commands) {
  if (commands.empty()) return std::vector<RedisReply>{};
  for (const auto& c : commands)
    if (c.empty()) return fail(ErrorCode::kInvalidArgument, "redis: an empty command");
  const auto deadline = std::chrono::steady_clock::now() + options_.reconnect_for;
  while (true) {
    if (auto r = ensure_open(); !r) return fail(r.error());
    bool io_error = false;
    auto replies = send(commands, io_error);
    if (replies || !io_error) return replies;
    conn_.reset();  // the connection is unusable after an I/O error
    if (std::chrono::steady_clock::now() > deadline) return replies;
  }
}

Result<RedisReply> RedisClient::command(const std::vector<std::string>& argv) {
  auto replies = pipeline({argv});
  if (!replies) return fail(replies.error());
  return std::move(replies->front());
}

Result<RedisReply> RedisClient::call(const std::vector<std::string>& argv) {
  auto reply = command(argv);
  if (!reply) return reply;
  if (reply->is_error())
    return fail(ErrorCode::kBadInput, "redis " + options_.url.redacted() + ": " + argv.front() + ": " + reply->str);
  return reply;
}

}  // namespace vigil
