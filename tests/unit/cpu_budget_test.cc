// The CPU budget (core/cpu_budget.h, Engine's cpu_budget_of), the usable
// core count's cgroup parsing, the config knobs of the budget and of
// TensorRT, the DEVICE variable, and the message for models that are not ONNX.
#include "core/cpu_budget.h"

#include <string>

#include <gtest/gtest.h>

#include "config/engine_config.h"
#include "inference/backend.h"
#include "metrics/system_stats.h"
#include "pipeline/engine.h"

namespace vigil {
namespace {

TEST(CpuBudget, DecoderThreadsAreOneWhenStreamsFillTheCores) {
  EXPECT_EQ(auto_decode_threads(10, 2), 1);
  EXPECT_EQ(auto_decode_threads(2, 2), 1);
  EXPECT_EQ(auto_decode_threads(16, 16), 1);
  EXPECT_EQ(auto_decode_threads(17, 16), 1);
}

TEST(CpuBudget, DecoderThreadsShareIdleCoresUpToTheCap) {
  EXPECT_EQ(auto_decode_threads(1, 2), 2);
  EXPECT_EQ(auto_decode_threads(1, 3), 3);
  EXPECT_EQ(auto_decode_threads(3, 8), 2);   // 8 / 3, rounded down
  EXPECT_EQ(auto_decode_threads(1, 64), kMaxAutoDecodeThreads);
  EXPECT_EQ(auto_decode_threads(2, 64), kMaxAutoDecodeThreads);
}

TEST(CpuBudget, DecoderThreadsTreatNonPositiveInputsAsOne) {
  EXPECT_EQ(auto_decode_threads(0, 4), 4);   // no stream yet: the first one
  EXPECT_EQ(auto_decode_threads(3, 0), 1);
  EXPECT_EQ(auto_decode_threads(-1, -1), 1);
}

TEST(CpuBudget, InferenceThreadsShareTheCoresAmongWorkers) {
  EXPECT_EQ(auto_inference_threads(2, 1), 2);
  EXPECT_EQ(auto_inference_threads(2, 2), 1);
  EXPECT_EQ(auto_inference_threads(8, 3), 2);
  EXPECT_EQ(auto_inference_threads(2, 4), 1);  // never 0 (0 would hand the choice back to ONNX Runtime)
  EXPECT_EQ(auto_inference_threads(0, 0), 1);
  EXPECT_EQ(resolve_threads(3, 2), 3);
  EXPECT_EQ(resolve_threads(0, 2), 2);
}

EngineConfig engine_with(int streams, int workers, int threads) {
  EngineConfig c;
  c.workers = workers;
  c.model.threads = threads;
  for (int i = 0; i < streams; ++i) {
    std::string id = "s";
    id += std::to_string(i);  // not "s" + to_string(i): GCC 12 -O3 warns falsely (-Wrestrict) there
    c.streams.push_back(default_stream(id, "a.mp4"));
  }
  return c;
}

TEST(CpuBudget, EngineBudgetFromStreamsWorkersAndCores) {
  CpuBudget b = cpu_budget_of(engine_with(10, 1, 0), 2);
  EXPECT_EQ(b.cores, 2);
  EXPECT_EQ(b.decode_threads, 1);
  EXPECT_EQ(b.inference_threads, 2);
  EXPECT_TRUE(b.cpu_budget);
  b = cpu_budget_of(engine_with(1, 2, 0), 8);
  EXPECT_EQ(b.decode_threads, 4);
  EXPECT_EQ(b.inference_threads, 4);
  b = cpu_budget_of(engine_with(1, 1, 3), 8);  // an explicit model.threads wins
  EXPECT_EQ(b.inference_threads, 3);
}

TEST(CpuBudget, OffRestoresTheDefaultsBeforeTheBudget) {
  EngineConfig c = engine_with(1, 1, 0);
  c.cpu_budget = false;
  const CpuBudget b = cpu_budget_of(c, 8);
  EXPECT_FALSE(b.cpu_budget);
  EXPECT_EQ(b.inference_threads, 0);  // ONNX Runtime's own pool
  EXPECT_EQ(b.decode_threads, 1);
}

TEST(CpuBudget, CgroupCpuMaxGivesWholeCores) {
  EXPECT_EQ(cores_of_cpu_max("200000 100000"), 2);
  EXPECT_EQ(cores_of_cpu_max("150000 100000\n"), 2);
  EXPECT_EQ(cores_of_cpu_max("50000 100000"), 1);
  EXPECT_EQ(cores_of_cpu_max("max 100000"), std::nullopt);
  EXPECT_EQ(cores_of_cpu_max(""), std::nullopt);
  EXPECT_EQ(cores_of_cpu_max("lots 100000"), std::nullopt);
  EXPECT_EQ(cores_of_cpu_max("100000 0"), std::nullopt);
  EXPECT_GE(usable_cores(), 1);
}

std::string error_of(const std::string& yaml) {
  auto c = parse_config(yaml);
  return c ? std::string("(accepted)") : c.error().message;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(CpuBudgetConfig, ThreadKnobsDefaultToAutoAndCheckTheirRange) {
  auto c = parse_config("streams: [{id: a, url: x.mp4}]");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->model.threads, 0);
  EXPECT_EQ(c->streams[0].decode_threads, 0);
  auto set = parse_config("model: {threads: 1}\nstreams: [{id: a, url: x.mp4, decode_threads: 2}]");
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(set->model.threads, 1);
  EXPECT_EQ(set->streams[0].decode_threads, 2);
  EXPECT_TRUE(has(error_of("streams: [{id: a, url: x.mp4, decode_threads: 65}]"),
                  "streams[0].decode_threads: must be between 0 and 64"))
      << error_of("streams: [{id: a, url: x.mp4, decode_threads: 65}]");
  EXPECT_TRUE(has(error_of("streams: [{id: a, url: x.mp4, decode_threads: auto}]"),
                  "streams[0].decode_threads: expected an integer"));
  EXPECT_TRUE(has(error_of("model: {threads: -1}\nstreams: [{id: a, url: x.mp4}]"), "model.threads"));
}

TEST(CpuBudgetConfig, TensorRtKnobs) {
  auto c = parse_config(
      "model: {device: tensorrt, trt_fp16: true, trt_int8: true, trt_cache_dir: /var/cache/vigil-trt}\n"
      "streams: [{id: a, url: x.mp4}]");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->model.trt_fp16);
  EXPECT_TRUE(c->model.trt_int8);
  EXPECT_EQ(c->model.trt_cache_dir, "/var/cache/vigil-trt");
  auto automatic = parse_config("model: {trt_fp16: true}\nstreams: [{id: a, url: x.mp4}]");
  ASSERT_TRUE(automatic) << automatic.error().message;  // device auto: used when TensorRT starts
  EXPECT_EQ(automatic->model.device, "auto");

  const std::string cpu = error_of("model: {device: cpu, trt_fp16: true}\nstreams: [{id: a, url: x.mp4}]");
  EXPECT_TRUE(has(cpu, "model.trt_fp16: only used with device tensorrt or auto (device is cpu)")) << cpu;
  const std::string cuda = error_of("model: {device: cuda, trt_int8: true}\nstreams: [{id: a, url: x.mp4}]");
  EXPECT_TRUE(has(cuda, "model.trt_int8: only used with device tensorrt or auto (device is cuda)")) << cuda;
  const std::string dir = error_of("model: {device: cpu, trt_cache_dir: c}\nstreams: [{id: a, url: x.mp4}]");
  EXPECT_TRUE(has(dir, "model.trt_cache_dir: only used with device tensorrt or auto")) << dir;
  EXPECT_TRUE(has(error_of("model: {trt_fp16: maybe}\nstreams: [{id: a, url: x.mp4}]"), "model.trt_fp16"));
  EXPECT_TRUE(has(error_of("model: {trt_engine: x}\nstreams: [{id: a, url: x.mp4}]"), "model.trt_engine: unknown option"));
}

TEST(DeviceVariable, NamesAndAliases) {
  EXPECT_EQ(device_from_env("cpu").value(), "cpu");
  EXPECT_EQ(device_from_env("GPU").value(), "cuda");
  EXPECT_EQ(device_from_env("trt").value(), "tensorrt");
  EXPECT_EQ(device_from_env("auto").value(), "auto");
  auto bad = device_from_env("npu");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message, "DEVICE: 'npu' is not one of auto, cpu, cuda (gpu), tensorrt (trt)");
}

TEST(DeviceVariable, OverridesTheConfigOrNamesItselfInTheError) {
  auto c = parse_config("model: {device: cpu}\nstreams: [{id: a, url: x.mp4}]");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_TRUE(apply_env_overrides(*c, {{"DEVICE", "tensorrt"}}));
  EXPECT_EQ(c->model.device, "tensorrt");
  auto bad = apply_env_overrides(*c, {{"DEVICE", "quantum"}});
  ASSERT_FALSE(bad);
  EXPECT_TRUE(has(bad.error().message, "DEVICE: 'quantum' is not one of")) << bad.error().message;
  EXPECT_EQ(c->model.device, "tensorrt");  // unchanged by the bad value
}

TEST(NonOnnxModel, PyTorchAndTensorRtFilesSayHowToExport) {
  const auto pt = non_onnx_model_hint("/models/yolov8n.pt");
  ASSERT_TRUE(pt);
  EXPECT_TRUE(has(*pt, "PyTorch")) << *pt;
  EXPECT_TRUE(has(*pt, "yolo export model=yolov8n.pt format=onnx")) << *pt;
  const auto engine = non_onnx_model_hint("yolo11n.ENGINE");
  ASSERT_TRUE(engine);
  EXPECT_TRUE(has(*engine, "TensorRT engine")) << *engine;
  EXPECT_TRUE(has(*engine, "format=onnx")) << *engine;
  for (const char* p : {"m.pth", "m.tflite", "m.torchscript", "m.safetensors"}) {
    const auto hint = non_onnx_model_hint(p);
    ASSERT_TRUE(hint) << p;
    EXPECT_TRUE(has(*hint, "ONNX")) << *hint;
  }
  EXPECT_FALSE(non_onnx_model_hint("models/nanodet-m-416.onnx"));
  EXPECT_FALSE(non_onnx_model_hint("model"));
}

TEST(NonOnnxModel, BackendRefusesThemBeforeReadingTheFile) {
  BackendOptions o;
  o.model_path = "/nonexistent/yolov8n.pt";  // the hint comes first, even for a missing file
  auto b = Backend::open(o);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, ErrorCode::kBadInput);
  EXPECT_TRUE(has(b.error().message, "model /nonexistent/yolov8n.pt: a PyTorch model (.pt), not ONNX"))
      << b.error().message;
  EXPECT_TRUE(has(b.error().message, "yolo export model=yolov8n.pt format=onnx")) << b.error().message;
}

}  // namespace
}  // namespace vigil
