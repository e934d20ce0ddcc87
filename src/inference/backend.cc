#include "inference/backend.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <onnxruntime_cxx_api.h>
#include <spdlog/spdlog.h>

namespace vigil {
namespace {

ElementType element_type(ONNXTensorElementDataType t) {
  switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return ElementType::kFloat32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: return ElementType::kFloat16;
    default: return ElementType::kOther;
  }
}

Ort::Env& ort_env() {
  static Ort::Env env(ORT_LOGGING_LEVEL_ERROR, "vigil");
  return env;
}

// The folder of the libonnxruntime.so this process mapped, from
// /proc/self/maps; "" when not found.
std::string onnxruntime_library_dir() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    const auto at = line.find('/');
    if (at == std::string::npos || line.find("libonnxruntime.so", at) == std::string::npos) continue;
    return std::filesystem::path(line.substr(at)).parent_path().string();
  }
  return "";
}

// A provider ONNX Runtime lists, or whose shared library sits beside
// libonnxruntime.so: the npm GPU package adds libonnxruntime_providers_cuda.so
// and _tensorrt.so to a core library that lists only the CPU provider, yet
// loads them when a session asks for them.
bool has_provider(const std::vector<std::string>& available, const char* name) {
  if (std::find(available.begin(), available.end(), name) != available.end()) return true;
  const char* lib = std::strcmp(name, "TensorrtExecutionProvider") == 0 ? "libonnxruntime_providers_tensorrt.so"
                    : std::strcmp(name, "CUDAExecutionProvider") == 0   ? "libonnxruntime_providers_cuda.so"
                                                                        : nullptr;
  static const std::string dir = onnxruntime_library_dir();
  std::error_code ec;
  return lib && !dir.empty() && std::filesystem::exists(std::filesystem::path(dir) / lib, ec);
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// ONNX files start with a protobuf field tag; a text file or an image does not.
bool looks_like_onnx(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char c = 0;
  if (!f.get(c)) return false;
  // ModelProto fields 1..20 as varint (wire type 0) or length-delimited (2).
  const auto tag = static_cast<unsigned char>(c);
  const unsigned field = tag >> 3U, wire = tag & 7U;
  return field >= 1 && field <= 20 && (wire == 0 || wire == 2);
}

}  // namespace

std::optional<std::string> non_onnx_model_hint(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  constexpr const char* kExport = "; export it to ONNX (Ultralytics: `yolo export model=";
  const std::string name = std::filesystem::path(path).filename().string();
  if (ext == ".pt" || ext == ".pth" || ext == ".torchscript")
    return "a PyTorch model (" + ext + "), not ONNX" + kExport + name +
           " format=onnx`, which writes a .onnx file beside it; other PyTorch models: torch.onnx.export) and give "
           "the .onnx file";
  if (ext == ".engine" || ext == ".plan" || ext == ".trt")
    return "a TensorRT engine (" + ext + "), not ONNX: engines are tied to one GPU and TensorRT version; give "
           "the ONNX model it was built from (Ultralytics: `yolo export model=MODEL.pt format=onnx`) with "
           "device: tensorrt, and ONNX Runtime builds its own engine (kept in model.trt_cache_dir)";
  if (ext == ".tflite" || ext == ".pb" || ext == ".h5" || ext == ".keras")
    return "a TensorFlow model (" + ext + "), not ONNX: convert it to ONNX (tf2onnx; Ultralytics models: `yolo "
           "export model=MODEL.pt format=onnx`) and give the .onnx file";
  if (ext == ".safetensors" || ext == ".ckpt")
    return "model weights (" + ext + "), not an ONNX graph: export the model to ONNX (Ultralytics: `yolo export "
           "model=MODEL.pt format=onnx`) and give the .onnx file";
  return std::nullopt;
}

Result<ExecutionProvider> parse_execution_provider(const std::string& name) {
  if (name == "auto") return ExecutionProvider::kAuto;
  if (name == "cpu") return ExecutionProvider::kCpu;
  if (name == "cuda" || name == "gpu") return ExecutionProvider::kCuda;
  if (name == "tensorrt" || name == "trt") return ExecutionProvider::kTensorRt;
  return fail(ErrorCode::kInvalidArgument, "device '" + name + "' is not one of auto, cpu, cuda, tensorrt");
}

Result<GraphOptLevel> parse_graph_opt_level(const std::string& name) {
  if (name == "disabled" || name == "none") return GraphOptLevel::kDisabled;
  if (name == "basic") return GraphOptLevel::kBasic;
  if (name == "extended") return GraphOptLevel::kExtended;
  if (name == "all") return GraphOptLevel::kAll;
  return fail(ErrorCode::kInvalidArgument, "graph optimisation level '" + name + "' is not one of disabled, basic, extended, all");
}

struct Backend::Impl {
  std::unique_ptr<Ort::Session> session;
  ModelInfo info;
  std::string provider;
  std::string provider_reason;
  std::vector<std::string> output_names;
  std::vector<const char*> output_name_ptrs;
  Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
};

Backend::Backend(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Backend::~Backend() = default;
const ModelInfo& Backend::info() const { return impl_->info; }
bool gpu_provider_available() {
  const std::vector<std::string> available = Ort::GetAvailableProviders();
  return has_provider(available, "CUDAExecutionProvider") || has_provider(available, "TensorrtExecutionProvider");
}

bool device_uses_gpu(const std::string& device) {
  return device == "cuda" || device == "tensorrt" || (device == "auto" && gpu_provider_available());
}

std::string onnxruntime_version() {
  const OrtApiBase* base = OrtGetApiBase();
  return base ? base->GetVersionString() : "unknown";
}

const std::string& Backend::provider() const { return impl_->provider; }
const std::string& Backend::provider_reason() const { return impl_->provider_reason; }

namespace {

// Step 1: the file exists, is not empty and starts like an ONNX protobuf.
Result<void> check_model_file(const std::string& path) {
  std::error_code ec;
  if (path.empty()) return fail(ErrorCode::kInvalidArgument, "no model path given");
  if (auto hint = non_onnx_model_hint(path)) return fail(ErrorCode::kBadInput, "model " + path + ": " + *hint);
  if (!std::filesystem::exists(path, ec)) return fail(ErrorCode::kNotFound, "model " + path + ": no such file");
  if (!std::filesystem::is_regular_file(path, ec))
    return fail(ErrorCode::kBadInput, "model " + path + ": not a regular file");
  if (std::filesystem::file_size(path, ec) == 0)
    return fail(ErrorCode::kBadInput, "model " + path + ": the file is empty");
  if (!looks_like_onnx(path))
    return fail(ErrorCode::kBadInput,
                "model " + path + ": not an ONNX model (the file does not start with an ONNX protobuf)");
  return {};
}

Ort::SessionOptions session_options(const BackendOptions& options) {
  Ort::SessionOptions so;
  if (options.intra_threads > 0) so.SetIntraOpNumThreads(options.intra_threads);
  so.SetInterOpNumThreads(1);
  // Spinning pool threads answer a few ms sooner but burn CPU that, in the
  // engine, the decoders and the other streams need.
  so.AddConfigEntry("session.intra_op.allow_spinning", options.spin ? "1" : "0");
  if (!options.arena) so.DisableCpuMemArena();
  switch (options.opt_level) {
    case GraphOptLevel::kDisabled: so.SetGraphOptimizationLevel(ORT_DISABLE_ALL); break;
    case GraphOptLevel::kBasic: so.SetGraphOptimizationLevel(ORT_ENABLE_BASIC); break;
    case GraphOptLevel::kExtended: so.SetGraphOptimizationLevel(ORT_ENABLE_EXTENDED); break;
    case GraphOptLevel::kAll: so.SetGraphOptimizationLevel(ORT_ENABLE_ALL); break;
  }
  return so;
}

// model.trt_* onto TensorRT's provider options; "" or the reason it failed
// (the cache folder cannot be made, an option ONNX Runtime refuses).
std::string apply_tensorrt_options(const OrtApi& api, OrtTensorRTProviderOptionsV2* trt, const BackendOptions& options) {
  std::vector<std::pair<std::string, std::string>> kv = {{"trt_fp16_enable", options.trt_fp16 ? "1" : "0"},
                                                         {"trt_int8_enable", options.trt_int8 ? "1" : "0"}};
  if (!options.trt_cache_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.trt_cache_dir, ec);
    if (ec || !std::filesystem::is_directory(options.trt_cache_dir, ec))
      return "model.trt_cache_dir " + options.trt_cache_dir + ": cannot make the folder";
    kv.emplace_back("trt_engine_cache_enable", "1");
    kv.emplace_back("trt_engine_cache_path", options.trt_cache_dir);
    kv.emplace_back("trt_timing_cache_enable", "1");
    kv.emplace_back("trt_timing_cache_path", options.trt_cache_dir);
  }
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : kv) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  if (OrtStatus* st = api.UpdateTensorRTProviderOptions(trt, keys.data(), values.data(), keys.size())) {
    std::string msg = std::string("TensorRT options refused: ") + api.GetErrorMessage(st);
    api.ReleaseStatus(st);
    return msg;
  }
  return "";
}

// One session on `provider` ("cpu", "cuda", "tensorrt"; TensorRT falls back
// to CUDA inside ONNX Runtime for the nodes it cannot take); nullptr and
// ONNX Runtime's message in `err` when it does not start.
std::unique_ptr<Ort::Session> try_session(const BackendOptions& options, const std::string& provider, std::string& err) {
  try {
    Ort::SessionOptions so = session_options(options);
    const OrtApi& api = Ort::GetApi();
    if (provider == "tensorrt") {
      OrtTensorRTProviderOptionsV2* trt = nullptr;
      Ort::ThrowOnError(api.CreateTensorRTProviderOptions(&trt));
      std::unique_ptr<OrtTensorRTProviderOptionsV2, decltype(api.ReleaseTensorRTProviderOptions)> guard(
          trt, api.ReleaseTensorRTProviderOptions);
      if (auto set = apply_tensorrt_options(api, trt, options); !set.empty()) {
        err = set;
        return nullptr;
      }
      so.AppendExecutionProvider_TensorRT_V2(*trt);
    }
    if (provider == "tensorrt" || provider == "cuda") {
      OrtCUDAProviderOptionsV2* cuda = nullptr;
      Ort::ThrowOnError(api.CreateCUDAProviderOptions(&cuda));
      std::unique_ptr<OrtCUDAProviderOptionsV2, decltype(api.ReleaseCUDAProviderOptions)> guard(
          cuda, api.ReleaseCUDAProviderOptions);
      so.AppendExecutionProvider_CUDA_V2(*cuda);
    }
    return std::make_unique<Ort::Session>(ort_env(), options.model_path.c_str(), so);
  } catch (const Ort::Exception& e) {
    err = e.what();
    return nullptr;
  }
}

// A started session, the provider it runs on and why that one.
struct StartedSession {
  std::unique_ptr<Ort::Session> session;  // null: not a valid model (err says why)
  std::string provider;
  std::string reason;
  std::string err;
};

// How much of a GPU provider's start-up error the fallback reason keeps.
constexpr std::size_t kFallbackErrorChars = 160;

// kAuto: TensorRT, then CUDA, then the CPU; the reason says what failed.
StartedSession start_best_session(const BackendOptions& options, const std::vector<std::string>& available) {
  StartedSession s;
  std::string why;
  for (const char* cand : {"tensorrt", "cuda"}) {
    if (!has_provider(available, std::strcmp(cand, "tensorrt") == 0 ? "TensorrtExecutionProvider"
                                                                     : "CUDAExecutionProvider"))
      continue;
    s.session = try_session(options, cand, s.err);
    if (s.session) {
      s.provider = cand;
      s.reason = "best available provider";
      break;
    }
    why += std::string(cand) + " failed to start (" + s.err.substr(0, kFallbackErrorChars) + "); ";
  }
  if (!s.session) {
    s.session = try_session(options, "cpu", s.err);
    s.provider = "cpu";
    s.reason = why.empty() ? "no GPU provider in this ONNX Runtime build (available: " + join(available) + ")"
                           : why + "falling back";
  }
  spdlog::info("inference provider: {} ({})", s.provider, s.reason);
  return s;
}

// Step 2: a session on the requested provider (a named GPU provider that is
// missing or fails is an error, not a silent CPU run).
Result<StartedSession> start_session(const BackendOptions& options) {
  const std::vector<std::string> available = Ort::GetAvailableProviders();
  StartedSession s;
  switch (options.provider) {
    case ExecutionProvider::kCpu:
      s.session = try_session(options, "cpu", s.err);
      s.provider = "cpu";
      s.reason = "requested";
      return s;
    case ExecutionProvider::kCuda:
    case ExecutionProvider::kTensorRt: {
      const bool trt = options.provider == ExecutionProvider::kTensorRt;
      const char* name = trt ? "tensorrt" : "cuda";
      if (!has_provider(available, trt ? "TensorrtExecutionProvider" : "CUDAExecutionProvider"))
        return fail(ErrorCode::kUnsupported, std::string("device ") + name +
                                                 ": this ONNX Runtime build has no such provider (available: " +
                                                 join(available) + ")");
      s.session = try_session(options, name, s.err);
      if (!s.session)
        return fail(ErrorCode::kRuntime,
                    std::string("device ") + name + ": cannot start on " + options.model_path + ": " + s.err);
      s.provider = name;
      s.reason = "requested";
      return s;
    }
    case ExecutionProvider::kAuto: return start_best_session(options, available);
  }
  return s;
}

TensorDesc describe_port(const Ort::TypeInfo& ti, std::string name) {
  TensorDesc d;
  d.name = std::move(name);
  if (ti.GetONNXType() == ONNX_TYPE_TENSOR) {
    auto tsi = ti.GetTensorTypeAndShapeInfo();
    d.shape = tsi.GetShape();
    d.type = element_type(tsi.GetElementType());
  } else {
    d.type = ElementType::kOther;
  }
  return d;
}

// Step 3: the graph's inputs, outputs and metadata, for describe_model().
Result<RawModelDescription> read_graph(Ort::Session& s, const std::string& path) {
  RawModelDescription raw;
  raw.path = path;
  try {
    Ort::AllocatorWithDefaultOptions alloc;
    for (std::size_t i = 0; i < s.GetInputCount(); ++i)
      raw.inputs.push_back(describe_port(s.GetInputTypeInfo(i), s.GetInputNameAllocated(i, alloc).get()));
    for (std::size_t i = 0; i < s.GetOutputCount(); ++i)
      raw.outputs.push_back(describe_port(s.GetOutputTypeInfo(i), s.GetOutputNameAllocated(i, alloc).get()));
    auto meta = s.GetModelMetadata();
    for (auto& key : meta.GetCustomMetadataMapKeysAllocated(alloc)) {
      auto value = meta.LookupCustomMetadataMapAllocated(key.get(), alloc);
      if (value) raw.metadata[key.get()] = value.get();
    }
  } catch (const Ort::Exception& e) {
    return fail(ErrorCode::kBadInput, "model " + path + ": cannot read its inputs and outputs: " + e.what());
  }
  for (const auto& o : raw.outputs)
    if (o.type == ElementType::kOther)
      return fail(ErrorCode::kUnsupported, "model " + path + ": output '" + o.name + "' is neither float32 nor float16");
  return raw;
}

}  // namespace

// check the file -> start a session -> read the graph -> describe the model.
Result<std::unique_ptr<Backend>> Backend::open(const BackendOptions& options) {
  const std::string& path = options.model_path;
  if (auto ok = check_model_file(path); !ok) return fail(ok.error());
  auto started = start_session(options);
  if (!started) return fail(started.error());
  if (!started->session)
    return fail(ErrorCode::kBadInput,
                "model " + path + ": not a valid ONNX model (ONNX Runtime: " + started->err + ")");
  auto raw = read_graph(*started->session, path);
  if (!raw) return fail(raw.error());
  auto info = describe_model(*raw);
  if (!info) return fail(info.error());

  auto impl = std::make_unique<Impl>();
  impl->session = std::move(started->session);
  impl->provider = std::move(started->provider);
  impl->provider_reason = std::move(started->reason);
  impl->info = std::move(*info);
  for (const auto& o : impl->info.outputs) impl->output_names.push_back(o.name);
  for (const auto& n : impl->output_names) impl->output_name_ptrs.push_back(n.c_str());
  return std::unique_ptr<Backend>(new Backend(std::move(impl)));
}

Result<std::vector<Tensor>> Backend::run(const float* input, int batch) const {
  return run(input, batch, impl_->info.input_size());
}

namespace {

// A size the model takes: its nominal one, or (dynamic H/W) a multiple of its
// stride no larger than the nominal one.
Result<void> check_input_size(const ModelInfo& info, InputSize size) {
  if (size == info.input_size()) return {};
  const std::string asked = std::to_string(size.width) + "x" + std::to_string(size.height);
  const std::string nominal = std::to_string(info.input_w) + "x" + std::to_string(info.input_h);
  if (!info.dynamic_hw)
    return fail(ErrorCode::kInvalidArgument,
                "model " + info.path + " has a fixed input of " + nominal + ", cannot run " + asked);
  if (size.width <= 0 || size.height <= 0 || size.width % info.stride != 0 || size.height % info.stride != 0 ||
      size.width > info.input_w || size.height > info.input_h)
    return fail(ErrorCode::kInvalidArgument, "model " + info.path + ": input " + asked +
                                                 " is not a multiple of its stride " + std::to_string(info.stride) +
                                                 " within its nominal " + nominal);
  return {};
}

}  // namespace

Result<std::vector<Tensor>> Backend::run(const float* input, int batch, InputSize size) const {
  const ModelInfo& info = impl_->info;
  if (batch <= 0) return fail(ErrorCode::kInvalidArgument, "batch must be positive");
  if (auto ok = check_input_size(info, size); !ok) return fail(ok.error());
  const std::size_t per_image = static_cast<std::size_t>(size.width) * static_cast<std::size_t>(size.height) * 3;
  const int step = info.dynamic_batch ? batch : info.fixed_batch;
  if (!info.dynamic_batch && batch % step != 0)
    return fail(ErrorCode::kInvalidArgument,
                "model " + info.path + " has a fixed batch of " + std::to_string(step) + ", cannot run " + std::to_string(batch));

  std::vector<Tensor> result;
  std::vector<Ort::Float16_t> half;
  for (int start = 0; start < batch; start += step) {
    std::vector<std::int64_t> shape = info.layout == TensorLayout::kNchw
                                          ? std::vector<std::int64_t>{step, 3, size.height, size.width}
                                          : std::vector<std::int64_t>{step, size.height, size.width, 3};
    const float* src = input + per_image * static_cast<std::size_t>(start);
    const std::size_t count = per_image * static_cast<std::size_t>(step);
    std::vector<Ort::Value> outputs;
    try {
      Ort::Value in_tensor{nullptr};
      if (info.input_type == ElementType::kFloat16) {
        half.resize(count);
        for (std::size_t i = 0; i < count; ++i) half[i] = Ort::Float16_t(src[i]);
        in_tensor = Ort::Value::CreateTensor<Ort::Float16_t>(impl_->mem, half.data(), count, shape.data(), shape.size());
      } else {
        in_tensor = Ort::Value::CreateTensor<float>(impl_->mem, const_cast<float*>(src), count, shape.data(), shape.size());
      }
      const char* in_name = info.input_name.c_str();
      outputs = impl_->session->Run(Ort::RunOptions{nullptr}, &in_name, &in_tensor, 1, impl_->output_name_ptrs.data(),
                                    impl_->output_name_ptrs.size());
    } catch (const Ort::Exception& e) {
      return fail(ErrorCode::kRuntime, "inference on " + info.path + " failed: " + e.what());
    }
    if (result.empty()) result.resize(outputs.size());
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      auto tsi = outputs[i].GetTensorTypeAndShapeInfo();
      const std::size_t n = tsi.GetElementCount();
      Tensor& t = result[i];
      if (t.shape.empty()) {
        t.shape = tsi.GetShape();
        if (!t.shape.empty()) t.shape[0] = batch;
        t.data.reserve(n * static_cast<std::size_t>(batch / step));
      }
      if (tsi.GetElementType() == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16) {
        const auto* p = outputs[i].GetTensorData<Ort::Float16_t>();
        for (std::size_t k = 0; k < n; ++k) t.data.push_back(p[k].ToFloat());
      } else {
        const float* p = outputs[i].GetTensorData<float>();
        t.data.insert(t.data.end(), p, p + n);
      }
    }
  }
  return result;
}

}  // namespace vigil
