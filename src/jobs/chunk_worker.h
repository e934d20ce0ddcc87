// run_chunk_workers: `vigil worker`, the worker side of a distributed offline
// analysis (the schema: jobs/chunk_tasks.h).
//
// N chunk threads, each a consumer `<name>/<i>` of group vigil-workers on
// stream vigil:chunks with its own Redis connections (one per thread, and one
// for its heartbeats). A thread takes a task: first a pending one idle for
// claim_idle (its worker died: XAUTOCLAIM), else a new one (XREADGROUP
// BLOCK). It reads the job spec, rebuilds the AnalyzeSettings and checks that
// their key is the job's (the same video and model files), analyses the chunk
// with analyze_chunk (jobs/chunk_analyzer.h, the code `vigil analyze` runs
// locally, through one offline BatchScheduler per model shared by the
// threads), stores the ChunkResult text and acknowledges the entry in one
// script. While the chunk runs, every min(claim_idle / 3, 1 s) a heartbeat
// resets the entry's idle time and records progress; when it finds that
// another worker took the task over, the chunk is abandoned.
//
// A task that cannot run here (the video is not at its path, a different
// file, the model missing) fails with an error naming the video and this
// worker ("worker w2: video /media/a.mp4: no such file on this worker");
// it is tried again (possibly elsewhere) until max_attempts.
//
// Threads: run_chunk_workers blocks until `stop` is set (running chunks are
// given back: pending again, the attempt not counted). Redis going away is
// waited out (each connection reconnects; options.redis.reconnect_for).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "cluster/redis_client.h"
#include "config/stream_state.h"
#include "core/error.h"

namespace vigil {

struct ChunkWorkerOptions {
  RedisClientOptions redis;
  std::string name;  // this worker's name in task states and consumer names
  int workers = 1;   // chunk threads
  int batch = 1;     // images per inference batch
  int threads = 0;   // inference threads (0 = one per core)
  std::string device = "auto";
  std::chrono::milliseconds claim_idle{30000};  // a pending task idle this long is taken over
  std::chrono::milliseconds block{1000};        // XREADGROUP BLOCK
  LocalSecrets secrets;  // `vigil worker -c`: api_keys for the tasks' captioners (fill_local_api_key)
};

// kInvalidArgument for options out of range (workers < 1, claim_idle < 100 ms);
// kRuntime when Redis cannot be reached at the start. Otherwise runs until stop.
Result<void> run_chunk_workers(const ChunkWorkerOptions& options, const std::atomic<bool>& stop);

}  // namespace vigil
