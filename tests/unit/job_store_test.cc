#include "jobs/job_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

namespace vigil {
namespace {

namespace fs = std::filesystem;

class JobStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(testing::TempDir()) / ("vigil-jobs-test-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "jobs.db").string();
    plan_ = *plan_chunks(10, ChunkPlanOptions{3, 1});  // 4 chunks: [0,3) [3,6) [6,9) [9,10)
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<JobStore> open_ok() {
    auto store = JobStore::open(path_);
    EXPECT_TRUE(store.has_value()) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }

  fs::path dir_;
  std::string path_;
  std::vector<Chunk> plan_;
};

TEST_F(JobStoreTest, CreatesSchemaVersionOneInWalMode) {
  { ASSERT_TRUE(open_ok()); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), 1);
  sqlite3_finalize(s);
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "wal");
  sqlite3_finalize(s);
  sqlite3_close(db);
}

TEST_F(JobStoreTest, CreateOrResumeReturnsTheSameIdAndKeepsDoneChunks) {
  auto store = open_ok();
  const auto id = store->create_or_resume("video.mp4|fps=1", "video.mp4", R"({"fps":1})", plan_);
  ASSERT_TRUE(id.has_value()) << id.error().message;
  const auto c = store->claim_next(*id);
  ASSERT_TRUE(c.has_value() && c->has_value());
  EXPECT_EQ((*c)->index, 0);
  ASSERT_TRUE(store->complete(*id, 0, R"({"n":1})").has_value());

  const auto again = store->create_or_resume("video.mp4|fps=1", "video.mp4", R"({"fps":1})", plan_);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *id);
  const auto other = store->create_or_resume("other.mp4|fps=1", "other.mp4", "{}", plan_);
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(*other, *id);

  const auto states = store->chunks(*id);
  ASSERT_TRUE(states.has_value());
  ASSERT_EQ(states->size(), 4u);
  EXPECT_EQ((*states)[0].state, "done");
  EXPECT_EQ((*states)[0].result, R"({"n":1})");
  for (int i = 1; i < 4; ++i) EXPECT_EQ((*states)[static_cast<std::size_t>(i)].state, "pending");
  for (int i = 0; i < 4; ++i) EXPECT_EQ((*states)[static_cast<std::size_t>(i)].chunk, plan_[static_cast<std::size_t>(i)]);

  const auto jobs = store->jobs();
  ASSERT_TRUE(jobs.has_value());
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_EQ((*jobs)[0].key, "video.mp4|fps=1");
  EXPECT_EQ((*jobs)[0].input, "video.mp4");
  EXPECT_EQ((*jobs)[0].options_json, R"({"fps":1})");
  EXPECT_EQ((*jobs)[0].state, "pending");
  EXPECT_GT((*jobs)[0].created, 0);
  EXPECT_GE((*jobs)[0].updated, (*jobs)[0].created);

  // The same key with another plan: the input changed under us.
  const auto changed = store->create_or_resume("video.mp4|fps=1", "video.mp4", "{}", *plan_chunks(20, {3, 1}));
  ASSERT_FALSE(changed.has_value());
  EXPECT_EQ(changed.error().code, ErrorCode::kBadInput);
}

TEST_F(JobStoreTest, ClaimCompleteFailRetryOnceThenFailed) {
  auto store = open_ok();
  const auto id = *store->create_or_resume("k", "in", "{}", plan_);
  std::vector<int> claimed;
  for (int i = 0; i < 4; ++i) {
    const auto c = store->claim_next(id);
    ASSERT_TRUE(c.has_value() && c->has_value()) << i;
    claimed.push_back((*c)->index);
  }
  EXPECT_EQ(claimed, (std::vector<int>{0, 1, 2, 3}));  // never the same chunk twice in one process
  const auto none = store->claim_next(id);
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());

  ASSERT_TRUE(store->complete(id, 0, "[]").has_value());
  ASSERT_TRUE(store->complete(id, 2, "[]").has_value());
  ASSERT_TRUE(store->complete(id, 3, "[]").has_value());
  // Chunk 1 fails: retried once, then failed with its error.
  ASSERT_TRUE(store->fail_chunk(id, 1, "corrupt packet at 4.2 s", 2).has_value());
  auto st = *store->chunks(id);
  EXPECT_EQ(st[1].state, "pending");
  EXPECT_EQ(st[1].attempts, 1);
  const auto retry = store->claim_next(id);
  ASSERT_TRUE(retry.has_value() && retry->has_value());
  EXPECT_EQ((*retry)->index, 1);
  ASSERT_TRUE(store->fail_chunk(id, 1, "corrupt packet at 4.3 s", 2).has_value());
  st = *store->chunks(id);
  EXPECT_EQ(st[1].state, "failed");
  EXPECT_EQ(st[1].attempts, 2);
  EXPECT_EQ(st[1].error, "corrupt packet at 4.3 s");
  EXPECT_EQ(st[0].attempts, 1);
  EXPECT_FALSE(store->claim_next(id)->has_value());

  // Completing or failing a chunk that is not running is refused.
  const auto twice = store->complete(id, 0, "[]");
  ASSERT_FALSE(twice.has_value());
  EXPECT_EQ(twice.error().code, ErrorCode::kInvalidArgument);
  const auto missing = store->complete(id, 99, "[]");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  ASSERT_TRUE(store->set_job_state(id, "done").has_value());
  EXPECT_EQ(store->jobs()->front().state, "done");
  const auto bad = store->set_job_state(id, "finished");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(JobStoreTest, RunningChunkIsReclaimedAfterReopen) {
  std::int64_t id = 0;
  {
    auto store = open_ok();
    id = *store->create_or_resume("k", "in", "{}", plan_);
    ASSERT_EQ((*store->claim_next(id))->index, 0);
    ASSERT_TRUE(store->complete(id, 0, "r0").has_value());
    ASSERT_EQ((*store->claim_next(id))->index, 1);
    // Simulated crash: closed with chunk 1 running.
  }
  auto store = open_ok();
  ASSERT_EQ(*store->create_or_resume("k", "in", "{}", plan_), id);
  const auto c = store->claim_next(id);
  ASSERT_TRUE(c.has_value() && c->has_value());
  EXPECT_EQ((*c)->index, 1);
  EXPECT_EQ((**c), plan_[1]);
  EXPECT_EQ((*store->chunks(id))[1].attempts, 2);
  EXPECT_EQ((*store->claim_next(id))->index, 2);  // chunk 1 is now ours: not handed out again
}

TEST_F(JobStoreTest, ResultsSurviveReopenExactly) {
  const std::string result = "{\"tracks\":[1,2,3],\"text\":\"caf\xC3\xA9 \\\"quoted\\\"\\n\",\"x\":0.1}";
  std::int64_t id = 0;
  {
    auto store = open_ok();
    id = *store->create_or_resume("k", "in", "{}", plan_);
    for (int i = 0; i < 4; ++i) {
      const auto c = *store->claim_next(id);
      ASSERT_TRUE(store->complete(id, c->index, result + std::to_string(i)).has_value());
    }
  }
  auto store = open_ok();
  const auto st = store->chunks(id);
  ASSERT_TRUE(st.has_value());
  ASSERT_EQ(st->size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ((*st)[i].state, "done");
    EXPECT_EQ((*st)[i].result, result + std::to_string(i));
    EXPECT_EQ((*st)[i].chunk, plan_[i]);  // doubles round-trip bit for bit
  }
}

TEST_F(JobStoreTest, TextFileIsRefusedAndLeftUnchanged) {
  const std::string content = "not a database, just notes\n";
  { std::ofstream(path_, std::ios::binary) << content; }
  const auto store = JobStore::open(path_);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kBadInput);
  EXPECT_NE(store.error().message.find(path_), std::string::npos) << store.error().message;
  std::ifstream in(path_, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), content);
  EXPECT_FALSE(fs::exists(path_ + "-wal"));
  EXPECT_FALSE(fs::exists(path_ + "-journal"));
}

TEST_F(JobStoreTest, OtherDatabasesAndBadPathsAreRefused) {
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    // An event store also has user_version 1.
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE events(id INTEGER); PRAGMA user_version = 1", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  const auto other = JobStore::open(path_);
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code, ErrorCode::kBadInput);
  EXPECT_NE(other.error().message.find("not a Vigil job store"), std::string::npos) << other.error().message;

  const auto no_dir = JobStore::open((dir_ / "missing" / "jobs.db").string());
  ASSERT_FALSE(no_dir.has_value());
  EXPECT_EQ(no_dir.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(JobStore::open(":memory:").has_value());
}

TEST_F(JobStoreTest, UnknownJobIdErrors) {
  auto store = open_ok();
  const auto id = *store->create_or_resume("k", "in", "{}", plan_);
  const std::int64_t unknown = id + 41;
  const auto claim = store->claim_next(unknown);
  ASSERT_FALSE(claim.has_value());
  EXPECT_EQ(claim.error().code, ErrorCode::kNotFound);
  EXPECT_NE(claim.error().message.find(std::to_string(unknown)), std::string::npos) << claim.error().message;
  EXPECT_EQ(store->chunks(unknown).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store->complete(unknown, 0, "{}").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store->fail_chunk(unknown, 0, "x", 2).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store->set_job_state(unknown, "done").error().code, ErrorCode::kNotFound);
}

TEST_F(JobStoreTest, WorkerThreadsNeverClaimTheSameChunk) {
  auto store = open_ok();
  const auto plan = *plan_chunks(1000, ChunkPlanOptions{10, 1});  // 100 chunks
  const auto id = *store->create_or_resume("many", "in", "{}", plan);
  std::vector<std::vector<int>> got(4);
  std::vector<std::thread> workers;
  for (std::size_t w = 0; w < got.size(); ++w)
    workers.emplace_back([&, w] {
      while (true) {
        const auto c = store->claim_next(id);
        if (!c || !c->has_value()) return;
        got[w].push_back((*c)->index);
        (void)store->complete(id, (*c)->index, "{}");
      }
    });
  for (auto& t : workers) t.join();
  std::vector<int> all;
  for (const auto& g : got) all.insert(all.end(), g.begin(), g.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(all[static_cast<std::size_t>(i)], i);
  const auto states = store->chunks(id);  // kept: a range-for over *temporary would dangle
  ASSERT_TRUE(states.has_value());
  for (const auto& c : *states) EXPECT_EQ(c.attempts, 1);
}

}  // namespace
}  // namespace vigil
