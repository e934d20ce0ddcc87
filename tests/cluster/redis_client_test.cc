// RedisClient against a real redis-server started here (tests/cluster/redis_fixture.h):
// URL parsing and its errors, replies of every type, binary-safe values,
// pipelines, AUTH/SELECT, and reconnecting after the server restarts.
#include <gtest/gtest.h>

#include "cluster/redis_client.h"
#include "cluster/redis_fixture.h"
#include "test_support.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;

TEST(RedisUrlTest, ParsesHostPortDbAndCredentials) {
  auto u = parse_redis_url("redis://cache.local");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->host, "cache.local");
  EXPECT_EQ(u->port, 6379);
  EXPECT_EQ(u->db, 0);
  EXPECT_TRUE(u->password.empty());

  u = parse_redis_url("redis://alice:s3cret@10.0.0.5:7000/4");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->host, "10.0.0.5");
  EXPECT_EQ(u->port, 7000);
  EXPECT_EQ(u->db, 4);
  EXPECT_EQ(u->user, "alice");
  EXPECT_EQ(u->password, "s3cret");
  EXPECT_EQ(u->redacted(), "redis://alice:***@10.0.0.5:7000/4");

  u = parse_redis_url("redis://:pw@[::1]:6380/");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 6380);
  EXPECT_EQ(u->user, "");
  EXPECT_EQ(u->password, "pw");
}

TEST(RedisUrlTest, RefusesBadUrlsNamingThemWithoutThePassword) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"http://host:6379", "does not start with redis://"},
      {"redis://", "no host"},
      {"redis://host:0", "port '0'"},
      {"redis://host:70000", "port '70000'"},
      {"redis://host:abc", "port 'abc'"},
      {"redis://host:", "empty port"},
      {"redis://host/x", "database 'x'"},
      {"redis://host/-1", "database '-1'"},
      {"redis://alice@host", "without a password"},
      {"redis://u:topsecret@host:99999", "port '99999'"},
  };
  for (const auto& [url, why] : bad) {
    auto u = parse_redis_url(url);
    ASSERT_FALSE(u) << url;
    EXPECT_EQ(u.error().code, ErrorCode::kInvalidArgument) << url;
    EXPECT_NE(u.error().message.find(why), std::string::npos) << url << ": " << u.error().message;
    EXPECT_EQ(u.error().message.find("topsecret"), std::string::npos) << u.error().message;
  }
}

RedisClientOptions options_for(const std::string& url) {
  RedisClientOptions o;
  o.url = *parse_redis_url(url);
  return o;
}

class RedisClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<test::RedisServer>(test::tmp_dir("redis_client_" + std::to_string(::getpid())));
    ASSERT_TRUE(server_->start()) << "redis-server did not start (see " << server_->dir() << "/redis.log)";
  }
  std::unique_ptr<RedisClient> client(int db = 0) {
    auto c = RedisClient::connect(options_for(server_->url(db)));
    EXPECT_TRUE(c) << c.error().message;
    return c ? std::move(*c) : nullptr;
  }
  std::unique_ptr<test::RedisServer> server_;
};

TEST_F(RedisClientTest, RepliesOfEveryTypeAndBinarySafeValues) {
  auto c = client();
  ASSERT_TRUE(c);
  const std::string binary("a\0b\r\n\xff", 6);
  auto set = c->call({"SET", std::string("k\0ey", 4), binary});
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(set->type, RedisReply::Type::kStatus);
  EXPECT_EQ(set->str, "OK");
  auto get = c->call({"GET", std::string("k\0ey", 4)});
  ASSERT_TRUE(get);
  EXPECT_EQ(get->type, RedisReply::Type::kString);
  EXPECT_EQ(get->str, binary);
  auto missing = c->call({"GET", "nothing"});
  ASSERT_TRUE(missing);
  EXPECT_TRUE(missing->is_nil());
  auto n = c->call({"INCRBY", "n", "41"});
  ASSERT_TRUE(n);
  EXPECT_EQ(n->type, RedisReply::Type::kInteger);
  EXPECT_EQ(n->integer, 41);
  ASSERT_TRUE(c->call({"RPUSH", "l", "x", "y"}));
  auto list = c->call({"LRANGE", "l", "0", "-1"});
  ASSERT_TRUE(list);
  ASSERT_TRUE(list->is_array());
  ASSERT_EQ(list->elements.size(), 2u);
  EXPECT_EQ(list->elements[1].text(), "y");

  auto err = c->command({"INCR", "l"});  // WRONGTYPE: a reply, not a failure
  ASSERT_TRUE(err);
  EXPECT_TRUE(err->is_error());
  EXPECT_NE(err->str.find("WRONGTYPE"), std::string::npos);
  auto failed = c->call({"INCR", "l"});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kBadInput);
  EXPECT_NE(failed.error().message.find("INCR: WRONGTYPE"), std::string::npos) << failed.error().message;
  EXPECT_NE(failed.error().message.find(server_->url()), std::string::npos) << failed.error().message;
}

TEST_F(RedisClientTest, PipelineRepliesInOrderWithErrorsInPlace) {
  auto c = client();
  ASSERT_TRUE(c);
  auto r = c->pipeline({{"SET", "a", "1"}, {"INCR", "a"}, {"HSET", "a", "f", "v"}, {"GET", "a"}});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[1].integer, 2);
  EXPECT_TRUE((*r)[2].is_error());
  EXPECT_EQ((*r)[3].str, "2");
  EXPECT_FALSE(c->pipeline({{"GET", "a"}, {}}));
}

TEST_F(RedisClientTest, SelectsTheDatabaseOfTheUrl) {
  auto c3 = client(3);
  auto c0 = client(0);
  ASSERT_TRUE(c3 && c0);
  ASSERT_TRUE(c3->call({"SET", "only3", "x"}));
  EXPECT_TRUE(c0->call({"GET", "only3"})->is_nil());
  EXPECT_EQ(c3->call({"GET", "only3"})->str, "x");
}

TEST_F(RedisClientTest, ReconnectsAfterTheServerRestartsAndKeepsItsData) {
  auto c = client();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->call({"SET", "kept", "yes"}));
  server_->stop();
  ASSERT_TRUE(server_->start());
  auto get = c->call({"GET", "kept"});  // the old connection is dead: reconnect, send again
  ASSERT_TRUE(get) << get.error().message;
  EXPECT_EQ(get->str, "yes");
  EXPECT_EQ(c->reconnects(), 1);
}

TEST_F(RedisClientTest, GivesUpReconnectingAfterReconnectFor) {
  RedisClientOptions o = options_for(server_->url());
  o.reconnect_for = 300ms;
  auto c = RedisClient::connect(o);
  ASSERT_TRUE(c) << c.error().message;
  server_->kill();
  auto r = (*c)->call({"PING"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kRuntime);
  EXPECT_NE(r.error().message.find("gave up reconnecting"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(server_->url()), std::string::npos) << r.error().message;
}

TEST(RedisClientConnectTest, RefusedConnectionNamesTheUrl) {
  const int port = test::free_port();  // nothing listens there
  auto c = RedisClient::connect(options_for("redis://127.0.0.1:" + std::to_string(port)));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kRuntime);
  EXPECT_NE(c.error().message.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << c.error().message;
}

TEST(RedisClientConnectTest, AuthWithThePasswordAndRefusedAuthIsClear) {
  test::RedisServer server(test::tmp_dir("redis_auth_" + std::to_string(::getpid())), false, "requirepass s3cret\n");
  ASSERT_TRUE(server.start());
  const std::string port = std::to_string(server.port());
  auto ok = RedisClient::connect(options_for("redis://:s3cret@127.0.0.1:" + port));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ((*ok)->call({"PING"})->str, "PONG");
  auto bad = RedisClient::connect(options_for("redis://:wr0ngpw@127.0.0.1:" + port));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kBadInput);
  EXPECT_NE(bad.error().message.find("AUTH refused"), std::string::npos) << bad.error().message;
  EXPECT_EQ(bad.error().message.find("wr0ngpw"), std::string::npos) << bad.error().message;
  auto none = RedisClient::connect(options_for("redis://127.0.0.1:" + port));
  ASSERT_TRUE(none);  // connecting works; commands are refused
  auto r = (*none)->call({"GET", "x"});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("NOAUTH"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace vigil
