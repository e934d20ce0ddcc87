#include "inference/backend.h"

#include <algorithm>
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

bool has_provider(const std::vector<std::string>& available, const char* name) {
  return std::find(available.begin(), available.end(), name) != available.end();
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
std::string onnxruntime_version() {
  const OrtApiBase* base = OrtGetApiBase();
  return base ? base->GetVersionString() : "unknown";
}

const std::string& Backend::provider() const { return impl_->provider; }
const std::string& Backend::provider_reason() const { return impl_->provider_reason; }

Result<std::unique_ptr<Backend>> Backend::open(const BackendOptions& options) {
  const std::string& path = options.model_path;
  std::error_code ec;
  if (path.empty()) return fail(ErrorCode::kInvalidArgument, "no model path given");
  if (!std::filesystem::exists(path, ec))
    return fail(ErrorCode::kNotFound, "model " + path + ": no such file");
  if (!std::filesystem::is_regular_file(path, ec))
    return fail(ErrorCode::kBadInput, "model " + path + ": not a regular file");
  if (std::filesystem::file_size(path, ec) == 0)
    return fail(ErrorCode::kBadInput, "model " + path + ": the file is empty");
  if (!looks_like_onnx(path))
    return fail(ErrorCode::kBadInput, "model " + path + ": not an ONNX model (the file does not start with an ONNX protobuf)");

  auto impl = std::make_unique<Impl>();
  const std::vector<std::string> available = Ort::GetAvailableProviders();

  auto make_options = [&]() {
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
  };
  auto try_session = [&](const std::string& which, std::string& err) -> std::unique_ptr<Ort::Session> {
    try {
      Ort::SessionOptions so = make_options();
      const OrtApi& api = Ort::GetApi();
      if (which == "tensorrt") {
        OrtTensorRTProviderOptionsV2* trt = nullptr;
        Ort::ThrowOnError(api.CreateTensorRTProviderOptions(&trt));
        std::unique_ptr<OrtTensorRTProviderOptionsV2, decltype(api.ReleaseTensorRTProviderOptions)> guard(
            trt, api.ReleaseTensorRTProviderOptions);
        so.AppendExecutionProvider_TensorRT_V2(*trt);
      }
      if (which == "tensorrt" || which == "cuda") {
        OrtCUDAProviderOptionsV2* cuda = nullptr;
        Ort::ThrowOnError(api.CreateCUDAProviderOptions(&cuda));
        std::unique_ptr<OrtCUDAProviderOptionsV2, decltype(api.ReleaseCUDAProviderOptions)> guard(
            cuda, api.ReleaseCUDAProviderOptions);
        so.AppendExecutionProvider_CUDA_V2(*cuda);
      }
      return std::make_unique<Ort::Session>(ort_env(), path.c_str(), so);
    } catch (const Ort::Exception& e) {
      err = e.what();
      return nullptr;
    }
  };

  std::string err;
  const bool has_trt = has_provider(available, "TensorrtExecutionProvider");
  const bool has_cuda = has_provider(available, "CUDAExecutionProvider");
  switch (options.provider) {
    case ExecutionProvider::kCpu:
      impl->session = try_session("cpu", err);
      impl->provider = "cpu";
      impl->provider_reason = "requested";
      break;
    case ExecutionProvider::kCuda:
    case ExecutionProvider::kTensorRt: {
      const bool trt = options.provider == ExecutionProvider::kTensorRt;
      const char* name = trt ? "tensorrt" : "cuda";
      if (!(trt ? has_trt : has_cuda))
        return fail(ErrorCode::kUnsupported, std::string("device ") + name +
                                                 ": this ONNX Runtime build has no such provider (available: " +
                                                 join(available) + ")");
      impl->session = try_session(name, err);
      if (!impl->session)
        return fail(ErrorCode::kRuntime, std::string("device ") + name + ": cannot start on " + path + ": " + err);
      impl->provider = name;
      impl->provider_reason = "requested";
      break;
    }
    case ExecutionProvider::kAuto: {
      std::string why;
      for (const char* cand : {"tensorrt", "cuda"}) {
        const bool present = std::strcmp(cand, "tensorrt") == 0 ? has_trt : has_cuda;
        if (!present) continue;
        impl->session = try_session(cand, err);
        if (impl->session) {
          impl->provider = cand;
          impl->provider_reason = "best available provider";
          break;
        }
        why += std::string(cand) + " failed to start (" + err.substr(0, 160) + "); ";
      }
      if (!impl->session) {
        impl->session = try_session("cpu", err);
        impl->provider = "cpu";
        impl->provider_reason =
            why.empty() ? "no GPU provider in this ONNX Runtime build (available: " + join(available) + ")"
                        : why + "falling back";
      }
      spdlog::info("inference provider: {} ({})", impl->provider, impl->provider_reason);
      break;
    }
  }
  if (!impl->session) return fail(ErrorCode::kBadInput, "model " + path + ": not a valid ONNX model (ONNX Runtime: " + err + ")");

  RawModelDescription raw;
  raw.path = path;
  try {
    Ort::AllocatorWithDefaultOptions alloc;
    auto& s = *impl->session;
    for (std::size_t i = 0; i < s.GetInputCount(); ++i) {
      auto ti = s.GetInputTypeInfo(i);
      TensorDesc d;
      d.name = s.GetInputNameAllocated(i, alloc).get();
      if (ti.GetONNXType() == ONNX_TYPE_TENSOR) {
        auto tsi = ti.GetTensorTypeAndShapeInfo();
        d.shape = tsi.GetShape();
        d.type = element_type(tsi.GetElementType());
      } else {
        d.type = ElementType::kOther;
      }
      raw.inputs.push_back(std::move(d));
    }
    for (std::size_t i = 0; i < s.GetOutputCount(); ++i) {
      auto ti = s.GetOutputTypeInfo(i);
      TensorDesc d;
      d.name = s.GetOutputNameAllocated(i, alloc).get();
      if (ti.GetONNXType() == ONNX_TYPE_TENSOR) {
        auto tsi = ti.GetTensorTypeAndShapeInfo();
        d.shape = tsi.GetShape();
        d.type = element_type(tsi.GetElementType());
      } else {
        d.type = ElementType::kOther;
      }
      raw.outputs.push_back(std::move(d));
    }
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
  auto info = describe_model(raw);
  if (!info) return fail(info.error());
  impl->info = std::move(*info);
  for (const auto& o : impl->info.outputs) impl->output_names.push_back(o.name);
  for (const auto& n : impl->output_names) impl->output_name_ptrs.push_back(n.c_str());
  return std::unique_ptr<Backend>(new Backend(std::move(impl)));
}

Result<std::vector<Tensor>> Backend::run(const float* input, int batch) const {
  const ModelInfo& info = impl_->info;
  if (batch <= 0) return fail(ErrorCode::kInvalidArgument, "batch must be positive");
  const std::size_t per_image = static_cast<std::size_t>(info.input_w) * static_cast<std::size_t>(info.input_h) * 3;
  const int step = info.dynamic_batch ? batch : info.fixed_batch;
  if (!info.dynamic_batch && batch % step != 0)
    return fail(ErrorCode::kInvalidArgument,
                "model " + info.path + " has a fixed batch of " + std::to_string(step) + ", cannot run " + std::to_string(batch));

  std::vector<Tensor> result;
  std::vector<Ort::Float16_t> half;
  for (int start = 0; start < batch; start += step) {
    std::vector<std::int64_t> shape = info.layout == TensorLayout::kNchw
                                          ? std::vector<std::int64_t>{step, 3, info.input_h, info.input_w}
                                          : std::vector<std::int64_t>{step, info.input_h, info.input_w, 3};
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
