// Backend: one loaded ONNX model on one execution provider.
// ONNX Runtime stays behind the pimpl; nothing outside inference/ sees it.
// Thread-safety: run() may be called from several threads at once (ONNX
// Runtime sessions are thread-safe for Run); open() is not.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "inference/model_info.h"

namespace vigil {

enum class ExecutionProvider { kAuto, kCpu, kCuda, kTensorRt };
enum class GraphOptLevel { kDisabled, kBasic, kExtended, kAll };

Result<ExecutionProvider> parse_execution_provider(const std::string& name);
Result<GraphOptLevel> parse_graph_opt_level(const std::string& name);

// True when this ONNX Runtime build has the CUDA or TensorRT provider
// (the GPU package, scripts/setup_gpu.sh); device auto then tries the GPU.
bool gpu_provider_available();

// True when `device` (auto|cpu|cuda|tensorrt) runs the model on a GPU
// provider: cuda and tensorrt always, auto when gpu_provider_available().
bool device_uses_gpu(const std::string& device);

// The ONNX Runtime version in use, e.g. "1.29.0".
std::string onnxruntime_version();

struct BackendOptions {
  std::string model_path;
  ExecutionProvider provider = ExecutionProvider::kAuto;
  int intra_threads = 0;  // 0 = ONNX Runtime's default (one per core)
  GraphOptLevel opt_level = GraphOptLevel::kAll;
  // Let idle intra-op threads spin: lower latency when the model runs alone
  // (vigil detect, bench), wasted CPU when decoders share the cores (engine).
  bool spin = false;
  // ONNX Runtime's CPU memory arena: ~10% more throughput under load, ~40 MB
  // more resident memory (docs/performance.md).
  bool arena = true;
  // TensorRT only (provider tensorrt, or auto when TensorRT starts): FP16
  // and INT8 kernels (INT8 takes its scales from a QDQ model), and a folder
  // where built engines and timing caches are kept ("" = build every run).
  bool trt_fp16 = false;
  bool trt_int8 = false;
  std::string trt_cache_dir;
};

// For a model file that is not ONNX by its extension (.pt, .pth, .engine,
// .tflite...): what it is and how to get an ONNX model from it; nullopt for
// any other name. Pure.
std::optional<std::string> non_onnx_model_hint(const std::string& path);

class Backend {
 public:
  // Loads the model, picks the provider and reads its ModelInfo. Errors name
  // the model path: missing file, not an ONNX model, unsupported layout,
  // requested provider unavailable.
  static Result<std::unique_ptr<Backend>> open(const BackendOptions& options);
  ~Backend();
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  const ModelInfo& info() const;
  // The provider actually in use ("cpu", "cuda", "tensorrt") and why it was chosen.
  const std::string& provider() const;
  const std::string& provider_reason() const;

  // input: [batch, 3, H, W] (or NHWC per info().layout) float32, preprocessed,
  // at `size` (W x H): the nominal size, or for a dynamic-size model
  // (info().dynamic_hw) any multiple of info().stride up to it; another size is
  // an error naming it. Returns the graph outputs in ModelInfo::outputs
  // order, batch-major. Models with a fixed batch of 1 are run once per image.
  Result<std::vector<Tensor>> run(const float* input, int batch, InputSize size) const;
  // At the nominal size (info().input_w x input_h).
  Result<std::vector<Tensor>> run(const float* input, int batch) const;

 private:
  struct Impl;
  explicit Backend(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
