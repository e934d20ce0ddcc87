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

  std::int64_t create(JobStore& store) {
    auto id = store.create_or_resume("video.mp4|fps=1", "video.mp4", R"({"fps":1})", plan_);
    EXPECT_TRUE(id.has_value()) << id.error().message;
    return id ? *id : -1;
  }

  static ChunkState chunk_state(const JobStore& store, std::int64_t id, int idx) {
    auto states = store.chunks(id);
    EXPECT_TRUE(states.has_value()) << states.error().message;
    if (!states || static_cast<std::size_t>(idx) >= states->size()) return {};
    return (*states)[static_cast<std::size_t>(idx)];
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
  EXPECT_EQ((*states)[0].state, ChunkStatus::kDone);
  EXPECT_EQ((*states)[0].result, R"({"n":1})");
  for (int i = 1; i < 4; ++i) EXPECT_EQ((*states)[static_cast<std::size_t>(i)].state, ChunkStatus::kPending);
  for (int i = 0; i < 4; ++i) EXPECT_EQ((*states)[static_cast<std::size_t>(i)].chunk, plan_[static_cast<std::size_t>(i)]);

  const auto jobs = store->jobs();
  ASSERT_TRUE(jobs.has_value());
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_EQ((*jobs)[0].key, "video.mp4|fps=1");
  EXPECT_EQ((*jobs)[0].input, "video.mp4");
  EXPECT_EQ((*jobs)[0].options_json, R"({"fps":1})");
  EXPECT_EQ((*jobs)[0].state, JobStatus::kPending);
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
  EXPECT_EQ(st[1].state, ChunkStatus::kPending);
  EXPECT_EQ(st[1].attempts, 1);
  const auto retry = store->claim_next(id);
  ASSERT_TRUE(retry.has_value() && retry->has_value());
  EXPECT_EQ((*retry)->index, 1);
  ASSERT_TRUE(store->fail_chunk(id, 1, "corrupt packet at 4.3 s", 2).has_value());
  st = *store->chunks(id);
  EXPECT_EQ(st[1].state, ChunkStatus::kFailed);
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

  ASSERT_TRUE(store->set_job_state(id, JobStatus::kDone).has_value());
  EXPECT_EQ(store->jobs()->front().state, JobStatus::kDone);
}

// States are stored as their names; a row whose state this build does not
// know (a newer writer, a hand edit) is refused naming the row, not guessed.
TEST_F(JobStoreTest, UnknownStoredStateIsBadInputNamingTheRow) {
  auto store = open_ok();
  ASSERT_TRUE(store);
  const std::int64_t id = create(*store);
  ASSERT_TRUE(store->set_job_state(id, JobStatus::kCancelled).has_value());
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    // The stored text is the enum's name.
    sqlite3_stmt* q = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT state FROM jobs", -1, &q, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)), "cancelled");
    sqlite3_finalize(q);
    EXPECT_EQ(sqlite3_exec(db, "UPDATE jobs SET state = 'finished'; UPDATE chunks SET state = 'paused' WHERE idx = 2",
                           nullptr, nullptr, &err),
              SQLITE_OK);
    sqlite3_free(err);
    sqlite3_close(db);
  }
  const auto jobs = store->jobs();
  ASSERT_FALSE(jobs.has_value());
  EXPECT_EQ(jobs.error().code, ErrorCode::kBadInput);
  EXPECT_NE(jobs.error().message.find("job " + std::to_string(id) + " has unknown state 'finished'"), std::string::npos)
      << jobs.error().message;
  const auto chunks = store->chunks(id);
  ASSERT_FALSE(chunks.has_value());
  EXPECT_NE(chunks.error().message.find("chunk 2 has unknown state 'paused'"), std::string::npos)
      << chunks.error().message;
}

TEST(JobState, NamesRoundTrip) {
  for (JobStatus s : {JobStatus::kPending, JobStatus::kRunning, JobStatus::kDone, JobStatus::kFailed,
                      JobStatus::kCancelled})
    EXPECT_EQ(parse_job_status(to_string(s)), s);
  for (ChunkStatus s : {ChunkStatus::kPending, ChunkStatus::kRunning, ChunkStatus::kDone, ChunkStatus::kFailed})
    EXPECT_EQ(parse_chunk_status(to_string(s)), s);
  EXPECT_STREQ(to_string(JobStatus::kCancelled), "cancelled");
  EXPECT_STREQ(api_name(JobStatus::kPending), "queued");
  EXPECT_STREQ(api_name(JobStatus::kDone), "done");
  EXPECT_FALSE(parse_job_status("queued").has_value());  // the API's word, never stored
  EXPECT_FALSE(parse_chunk_status("cancelled").has_value());
  EXPECT_TRUE(is_finished(JobStatus::kFailed));
  EXPECT_FALSE(is_finished(JobStatus::kPending));
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
    EXPECT_EQ((*st)[i].state, ChunkStatus::kDone);
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
  EXPECT_EQ(store->set_job_state(unknown, JobStatus::kDone).error().code, ErrorCode::kNotFound);
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

// release(), reset_failed() and states-only reads.
TEST_F(JobStoreTest, ReleaseRunningChunkGoesBackToPendingWithoutCountingTheAttempt) {
  auto store = open_ok();
  ASSERT_TRUE(store);
  const auto id = create(*store);
  const auto c = store->claim_next(id);
  ASSERT_TRUE(c.has_value() && c->has_value());
  EXPECT_EQ((*c)->index, 0);
  EXPECT_EQ(chunk_state(*store, id, 0).state, ChunkStatus::kRunning);
  EXPECT_EQ(chunk_state(*store, id, 0).attempts, 1);

  ASSERT_TRUE(store->release(id, 0).has_value());
  const ChunkState s = chunk_state(*store, id, 0);
  EXPECT_EQ(s.state, ChunkStatus::kPending);
  EXPECT_EQ(s.attempts, 0);
  EXPECT_EQ(s.error, "");
  EXPECT_EQ(s.result, "");

  // The same object hands it out again (it is no longer "claimed by me").
  const auto again = store->claim_next(id);
  ASSERT_TRUE(again.has_value() && again->has_value());
  EXPECT_EQ((*again)->index, 0);
  EXPECT_EQ(chunk_state(*store, id, 0).attempts, 1);
  // And it can be completed normally.
  ASSERT_TRUE(store->complete(id, 0, R"({"ok":true})").has_value());
  EXPECT_EQ(chunk_state(*store, id, 0).state, ChunkStatus::kDone);
}

TEST_F(JobStoreTest, ReleaseKeepsEarlierFailedAttempts) {
  auto store = open_ok();
  ASSERT_TRUE(store);
  const auto id = create(*store);
  ASSERT_TRUE(store->claim_next(id).has_value());                            // chunk 0, attempt 1
  ASSERT_TRUE(store->fail_chunk(id, 0, "corrupt packet", 3).has_value());    // back to pending
  const auto c = store->claim_next(id);                                       // chunk 0, attempt 2
  ASSERT_TRUE(c.has_value() && c->has_value());
  EXPECT_EQ((*c)->index, 0);
  EXPECT_EQ(chunk_state(*store, id, 0).attempts, 2);
  ASSERT_TRUE(store->release(id, 0).has_value());
  const ChunkState s = chunk_state(*store, id, 0);
  EXPECT_EQ(s.state, ChunkStatus::kPending);
  EXPECT_EQ(s.attempts, 1);  // the failed attempt still counts
  EXPECT_EQ(s.error, "corrupt packet");
}

TEST_F(JobStoreTest, ReleasedChunkDoesNotFailEarlyAgainstMaxAttempts) {
  auto store = open_ok();
  ASSERT_TRUE(store);
  const auto id = create(*store);
  // Released many times: never counted, so the first real failure with
  // max_attempts 2 still leaves a retry.
  for (int i = 0; i < 5; ++i) {
    const auto c = store->claim_next(id);
    ASSERT_TRUE(c.has_value() && c->has_value());
    ASSERT_EQ((*c)->index, 0);
    ASSERT_TRUE(store->release(id, 0).has_value());
  }
  ASSERT_TRUE(store->claim_next(id).has_value());
  ASSERT_TRUE(store->fail_chunk(id, 0, "x", 2).has_value());
  EXPECT_EQ(chunk_state(*store, id, 0).state, ChunkStatus::kPending);
  EXPECT_EQ(chunk_state(*store, id, 0).attempts, 1);
}

TEST_F(JobStoreTest, ReleaseChunkLeftRunningByACrashIsReleasedToItsEarlierCount) {
  std::int64_t id = 0;
  {
    auto crashed = open_ok();
    ASSERT_TRUE(crashed);
    id = create(*crashed);
    ASSERT_TRUE(crashed->claim_next(id).has_value());  // attempt 1, never finished
  }
  auto store = open_ok();
  ASSERT_TRUE(store);
  const auto c = store->claim_next(id);  // reclaimed: attempt 2
  ASSERT_TRUE(c.has_value() && c->has_value());
  EXPECT_EQ((*c)->index, 0);
  EXPECT_EQ(chunk_state(*store, id, 0).attempts, 2);
  ASSERT_TRUE(store->release(id, 0).has_value());
  EXPECT_EQ(chunk_state(*store, id, 0).state, ChunkStatus::kPending);
  EXPECT_EQ(chunk_state(*store, id, 0).attempts, 1);
}

TEST_F(JobStoreTest, ReleaseSurvivesReopening) {
  std::int64_t id = 0;
  {
    auto store = open_ok();
    ASSERT_TRUE(store);
    id = create(*store);
    ASSERT_TRUE(store->claim_next(id).has_value());
    ASSERT_TRUE(store->release(id, 0).has_value());
  }
  auto store = open_ok();
  ASSERT_TRUE(store);
  EXPECT_EQ(chunk_state(*store, id, 0).state, ChunkStatus::kPending);
  EXPECT_EQ(chunk_state(*store, id, 0).attempts, 0);
}

TEST_F(JobStoreTest, ReleaseChunkThatIsNotRunningIsAnError) {
  auto store = open_ok();
  ASSERT_TRUE(store);
  const auto id = create(*store);

  // Pending.
  auto pending = store->release(id, 1);
  ASSERT_FALSE(pending.has_value());
  EXPECT_EQ(pending.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(pending.error().message.find("pending"), std::string::npos) << pending.error().message;
  EXPECT_EQ(chunk_state(*store, id, 1).state, ChunkStatus::kPending);
  EXPECT_EQ(chunk_state(*store, id, 1).attempts, 0);

  // Done.
  ASSERT_TRUE(store->claim_next(id).has_value());  // chunk 0
  ASSERT_TRUE(store->complete(id, 0, R"({"n":1})").has_value());
  auto done = store->release(id, 0);
  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(done.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(chunk_state(*store, id, 0).state, ChunkStatus::kDone);
  EXPECT_EQ(chunk_state(*store, id, 0).attempts, 1);
  EXPECT_EQ(chunk_state(*store, id, 0).result, R"({"n":1})");

  // Failed for good.
  ASSERT_TRUE(store->claim_next(id).has_value());  // chunk 1
  ASSERT_TRUE(store->fail_chunk(id, 1, "broken", 1).has_value());
  EXPECT_EQ(chunk_state(*store, id, 1).state, ChunkStatus::kFailed);
  auto failed = store->release(id, 1);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(chunk_state(*store, id, 1).state, ChunkStatus::kFailed);
  EXPECT_EQ(chunk_state(*store, id, 1).attempts, 1);

  // Released twice: the second call finds it pending.
  ASSERT_TRUE(store->claim_next(id).has_value());  // chunk 2
  ASSERT_TRUE(store->release(id, 2).has_value());
  auto twice = store->release(id, 2);
  ASSERT_FALSE(twice.has_value());
  EXPECT_EQ(twice.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(chunk_state(*store, id, 2).attempts, 0);
}

TEST_F(JobStoreTest, ReleaseUnknownJobOrChunkIsNotFound) {
  auto store = open_ok();
  ASSERT_TRUE(store);
  const auto id = create(*store);
  auto chunk = store->release(id, 99);
  ASSERT_FALSE(chunk.has_value());
  EXPECT_EQ(chunk.error().code, ErrorCode::kNotFound);
  auto job = store->release(id + 1000, 0);
  ASSERT_FALSE(job.has_value());
  EXPECT_EQ(job.error().code, ErrorCode::kNotFound);

}

TEST_F(JobStoreTest, StatesOnlyLeaveResultsOutAndResetFailedRetriesFailedChunks) {
  auto store = open_ok();
  ASSERT_TRUE(store);
  const auto id = create(*store);
  auto c0 = store->claim_next(id);
  ASSERT_TRUE(c0 && *c0);
  ASSERT_TRUE(store->complete(id, 0, R"({"samples":[]})").has_value());
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto c1 = store->claim_next(id);
    ASSERT_TRUE(c1 && *c1);
    ASSERT_EQ((*c1)->index, 1);
    ASSERT_TRUE(store->fail_chunk(id, 1, "corrupt packet", 2).has_value());
  }
  auto full = store->chunks(id);
  auto light = store->chunks(id, false);
  ASSERT_TRUE(full && light);
  EXPECT_EQ((*full)[0].result, R"({"samples":[]})");
  EXPECT_TRUE((*light)[0].result.empty());
  EXPECT_EQ((*light)[0].state, ChunkStatus::kDone);
  EXPECT_EQ((*light)[1].state, ChunkStatus::kFailed);
  EXPECT_EQ((*light)[1].error, "corrupt packet");
  ASSERT_TRUE(store->reset_failed(id).has_value());
  const ChunkState again = chunk_state(*store, id, 1);
  EXPECT_EQ(again.state, ChunkStatus::kPending);
  EXPECT_EQ(again.attempts, 0);
  EXPECT_TRUE(again.error.empty());
  EXPECT_EQ(chunk_state(*store, id, 0).state, ChunkStatus::kDone);  // done chunks untouched
  EXPECT_EQ(store->reset_failed(999).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace vigil
