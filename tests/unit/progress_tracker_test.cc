// ProgressTracker (jobs/analyze_job.h): the figures of JobProgress as chunk
// workers report, without running a job.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "jobs/analyze_job.h"

namespace vigil {
namespace {

ChunkState chunk_state(int index, ChunkStatus state) {
  ChunkState c;
  c.chunk = Chunk{index, index * 10.0, index * 10.0 + 10.0};
  c.state = state;
  return c;
}

TEST(ProgressTracker, CountsWhatWasDoneBeforeThisRun) {
  std::vector<JobProgress> seen;
  ProgressTracker t(7, 40, {chunk_state(0, ChunkStatus::kDone), chunk_state(1, ChunkStatus::kFailed),
                            chunk_state(2, ChunkStatus::kRunning), chunk_state(3, ChunkStatus::kPending)},
                    [&](const JobProgress& p) { seen.push_back(p); });
  t.ended(JobStatus::kRunning, "look");
  ASSERT_EQ(seen.size(), 1u);
  const JobProgress& p = seen[0];
  EXPECT_EQ(p.job_id, 7);
  EXPECT_EQ(p.chunks, 4);
  EXPECT_EQ(p.chunks_done, 1);
  EXPECT_EQ(p.chunks_failed, 1);
  EXPECT_DOUBLE_EQ(p.source_done_s, 20);
  // A chunk left running by a process that died is pending for this run.
  EXPECT_EQ(p.chunk_states, (std::vector<ChunkStatus>{ChunkStatus::kDone, ChunkStatus::kFailed, ChunkStatus::kPending,
                                                      ChunkStatus::kPending}));
  EXPECT_EQ(p.eta_s, -1);  // nothing done in this run yet
}

TEST(ProgressTracker, ChunkEventsAreReportedAtOnceAndProgressNeverGoesBack) {
  std::vector<JobProgress> seen;
  ProgressTracker t(1, 20, {chunk_state(0, ChunkStatus::kPending), chunk_state(1, ChunkStatus::kPending)},
                    [&](const JobProgress& p) { seen.push_back(p); });
  const Chunk c0{0, 0, 10};
  t.started(c0);  // the first report goes out (none yet)
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen.back().running.size(), 1u);
  EXPECT_EQ(seen.back().chunk_states[0], ChunkStatus::kRunning);
  // Sample progress is reported at most every kReportEvery: keep reporting
  // until it goes out (a deadline, not a sleep).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (seen.size() < 2 && std::chrono::steady_clock::now() < deadline) t.advanced(0, 5, 10);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_DOUBLE_EQ(seen.back().source_done_s, 5);
  const std::size_t before = seen.size();
  t.left(c0, ChunkStatus::kPending, "chunk 0 failed, retrying");  // a chunk event: reported at once
  ASSERT_EQ(seen.size(), before + 1);
  EXPECT_DOUBLE_EQ(seen.back().source_done_s, 5);  // half of chunk 0 was seen; a retry does not take it back
  EXPECT_EQ(seen.back().message, "chunk 0 failed, retrying");
  EXPECT_TRUE(seen.back().running.empty());
  t.started(c0);
  t.left(c0, ChunkStatus::kDone, "chunk 0 done");
  EXPECT_EQ(seen.back().chunks_done, 1);
  EXPECT_DOUBLE_EQ(seen.back().source_done_s, 10);
  t.ended(JobStatus::kCancelled, "cancelled");
  EXPECT_EQ(seen.back().state, JobStatus::kCancelled);
  const auto j = seen.back().to_json();
  EXPECT_EQ(j["state"], "cancelled");
  EXPECT_EQ(j["chunk_states"], nlohmann::json::array({"done", "pending"}));
  EXPECT_DOUBLE_EQ(j["progress"].get<double>(), 0.5);
}

TEST(ProgressTracker, PendingIsQueuedInJson) {
  JobProgress p;
  p.state = JobStatus::kPending;
  EXPECT_EQ(p.to_json()["state"], "queued");
}

TEST(ProgressTracker, WorkersMayReportAtOnce) {
  int calls = 0;
  std::vector<ChunkState> initial;
  for (int i = 0; i < 8; ++i) initial.push_back(chunk_state(i, ChunkStatus::kPending));
  ProgressTracker t(1, 80, initial, [&](const JobProgress&) { ++calls; });  // serialised: no race on calls
  std::vector<std::thread> workers;
  for (int i = 0; i < 8; ++i)
    workers.emplace_back([&t, i] {
      const Chunk c{i, i * 10.0, i * 10.0 + 10};
      t.started(c);
      for (std::size_t s = 1; s <= 10; ++s) t.advanced(i, s, 10);
      t.left(c, ChunkStatus::kDone, "done");
    });
  for (auto& w : workers) w.join();
  t.ended(JobStatus::kDone, "finished");
  EXPECT_GE(calls, 9);  // every left() and the end
}

}  // namespace
}  // namespace vigil
