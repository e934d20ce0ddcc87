// The CPU budget of the live engine: how many threads the decoders and the
// inference get, from the number of streams, inference workers and usable
// cores. Decoders (one capture thread each, plus FFmpeg's frame threads),
// ONNX Runtime's intra-op pool and the stream loops share the same cores;
// more threads than cores only adds switching (measured on 2 cores: a 720p
// decode took ~4 ms inside a 10-stream engine against 1.8 ms alone).
// Pure functions; safe from any thread.
#pragma once

namespace vigil {

// A decoder gets more than one thread only while the streams leave cores idle.
inline constexpr int kMaxAutoDecodeThreads = 4;

// FFmpeg decoder threads for one stream when the config says 0 (auto):
// 1 when streams >= cores (each stream's capture thread is already one
// runnable thread per core), else cores / streams, at most
// kMaxAutoDecodeThreads (frame threads add a frame of delay each and hold
// frames in memory). Non-positive inputs count as 1.
int auto_decode_threads(int streams, int cores);

// ONNX Runtime intra-op threads per inference worker when model.threads is 0
// (auto): the cores shared among the workers, at least 1. An explicit count
// also keeps ONNX Runtime from pinning its pool threads to cores (its own
// default does), which stalls a whole operator whenever a decoder holds the
// pinned core.
int auto_inference_threads(int cores, int workers);

// A configured count, or the automatic one when it is 0.
inline int resolve_threads(int configured, int automatic) { return configured > 0 ? configured : automatic; }

}  // namespace vigil
