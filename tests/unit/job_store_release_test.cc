#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "jobs/job_store.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;

class JobStoreReleaseTest : public testing::Test {
 protected:
  void SetUp() override {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(testing::TempDir()) / ("vigil-jobs-release-test-" + std::to_string(::getpid()) + "-" + info->name());
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

TEST_F(JobStoreReleaseTest, RunningChunkGoesBackToPendingWithoutCountingTheAttempt) {
  auto store = open_ok();
  ASSERT_TRUE(store);
  const auto id = create(*store);
  const auto c = store->claim_next(id);
  ASSERT_TRUE(c.has_value() && c->has_value());
  EXPECT_EQ((*c)->index, 0);
  EXPECT_EQ(chunk_state(*store, id, 0).state, "running");
  EXPECT_EQ(chunk_state(*store, id, 0).attempts, 1);

  ASSERT_TRUE(store->release(id, 0).has_value());
  const ChunkState s = chunk_state(*store, id, 0);
  EXPECT_EQ(s.state, "pending");
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
  EXPECT_EQ(chunk_state(*store, id, 0).state, "done");
}

TEST_F(JobStoreReleaseTest, ReleaseKeepsEarlierFailedAttempts) {
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
  EXPECT_EQ(s.state, "pending");
  EXPECT_EQ(s.attempts, 1);  // the failed attempt still counts
  EXPECT_EQ(s.error, "corrupt packet");
}

TEST_F(JobStoreReleaseTest, ReleasedChunkDoesNotFailEarlyAgainstMaxAttempts) {
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
  EXPECT_EQ(chunk_state(*store, id, 0).state, "pending");
  EXPECT_EQ(chunk_state(*store, id, 0).attempts, 1);
}

TEST_F(JobStoreReleaseTest, ChunkLeftRunningByACrashIsReleasedToItsEarlierCount) {
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
  EXPECT_EQ(chunk_state(*store, id, 0).state, "pending");
  EXPECT_EQ(chunk_state(*store, id, 0).attempts, 1);
}

TEST_F(JobStoreReleaseTest, ReleaseSurvivesReopening) {
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
  EXPECT_EQ(chunk_state(*store, id, 0).state, "pending");
  EXPECT_EQ(chunk_state(*store, id, 0).attempts, 0);
}

TEST_F(JobStoreReleaseTest, ChunkThatIsNotRunningIsAnError) {
  auto store = open_ok();
  ASSERT_TRUE(store);
  const auto id = create(*store);

  // Pending.
  auto pending = store->release(id, 1);
  ASSERT_FALSE(pending.has_value());
  EXPECT_EQ(pending.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(pending.error().message.find("pending"), std::string::npos) << pending.error().message;
  EXPECT_EQ(chunk_state(*store, id, 1).state, "pending");
  EXPECT_EQ(chunk_state(*store, id, 1).attempts, 0);

  // Done.
  ASSERT_TRUE(store->claim_next(id).has_value());  // chunk 0
  ASSERT_TRUE(store->complete(id, 0, R"({"n":1})").has_value());
  auto done = store->release(id, 0);
  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(done.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(chunk_state(*store, id, 0).state, "done");
  EXPECT_EQ(chunk_state(*store, id, 0).attempts, 1);
  EXPECT_EQ(chunk_state(*store, id, 0).result, R"({"n":1})");

  // Failed for good.
  ASSERT_TRUE(store->claim_next(id).has_value());  // chunk 1
  ASSERT_TRUE(store->fail_chunk(id, 1, "broken", 1).has_value());
  EXPECT_EQ(chunk_state(*store, id, 1).state, "failed");
  auto failed = store->release(id, 1);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(chunk_state(*store, id, 1).state, "failed");
  EXPECT_EQ(chunk_state(*store, id, 1).attempts, 1);

  // Released twice: the second call finds it pending.
  ASSERT_TRUE(store->claim_next(id).has_value());  // chunk 2
  ASSERT_TRUE(store->release(id, 2).has_value());
  auto twice = store->release(id, 2);
  ASSERT_FALSE(twice.has_value());
  EXPECT_EQ(twice.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(chunk_state(*store, id, 2).attempts, 0);
}

TEST_F(JobStoreReleaseTest, UnknownJobOrChunkIsNotFound) {
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

TEST_F(JobStoreReleaseTest, StatesOnlyLeaveResultsOutAndResetFailedRetriesFailedChunks) {
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
  EXPECT_EQ((*light)[0].state, "done");
  EXPECT_EQ((*light)[1].state, "failed");
  EXPECT_EQ((*light)[1].error, "corrupt packet");
  ASSERT_TRUE(store->reset_failed(id).has_value());
  const ChunkState again = chunk_state(*store, id, 1);
  EXPECT_EQ(again.state, "pending");
  EXPECT_EQ(again.attempts, 0);
  EXPECT_TRUE(again.error.empty());
  EXPECT_EQ(chunk_state(*store, id, 0).state, "done");  // done chunks untouched
  EXPECT_EQ(store->reset_failed(999).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace vigil
