// The DEVICE variable through the real binary: every command takes it as its
// default provider, --device wins over it, and a bad value is an error
// naming DEVICE (exit 2). Models that are not ONNX are refused with how to
// export one. The machine may or may not have a GPU provider: DEVICE=cuda is
// checked by what the command reports, either way.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;
const std::string kModel = std::string(VIGIL_TEST_MODELS_DIR) + "/yolov8.onnx";
const std::string kDog = "/usr/share/darknet/data/dog.jpg";
const std::string kVideo = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string bench(const std::string& env) {
  return env + " " + kVigil + " bench model --model " + kModel +
         " --json --batch 1 --threads 1 --iterations 1 --warmup 0";
}

TEST(DeviceEnv, BenchModelRunsOnTheNamedProvider) {
  auto cpu = test::run_process(bench("DEVICE=cpu"));
  ASSERT_EQ(cpu.exit_code, 0) << cpu.err;
  EXPECT_EQ(nlohmann::json::parse(cpu.out)["results"][0]["provider"], "cpu") << cpu.out;
  // Without DEVICE, bench model's default is the CPU; DEVICE=cuda must change that.
  auto cuda = test::run_process(bench("DEVICE=cuda"));
  if (cuda.exit_code == 0) {
    EXPECT_EQ(nlohmann::json::parse(cuda.out)["results"][0]["provider"], "cuda") << cuda.out;
  } else {
    EXPECT_TRUE(has(cuda.err, "device cuda")) << cuda.err;  // no CUDA here: the provider's error, not a CPU run
  }
}

TEST(DeviceEnv, DetectTakesItAndTheFlagWins) {
  auto cpu = test::run_process("DEVICE=CPU " + kVigil + " detect --json --model " + kModel + " " + kDog);
  EXPECT_EQ(cpu.exit_code, 0) << cpu.err;
  EXPECT_TRUE(has(cpu.out, "\"detections\"")) << cpu.out;
  auto flag = test::run_process("DEVICE=bogus " + kVigil + " detect --device cpu --model " + kModel + " " + kDog);
  EXPECT_EQ(flag.exit_code, 0) << flag.err;
}

TEST(DeviceEnv, BadValueIsNamedByEveryCommand) {
  const std::string msg = "DEVICE: 'bogus' is not one of auto, cpu, cuda (gpu), tensorrt (trt)";
  const std::string out = test::tmp_dir("device_env");
  for (const std::string& cmd : {"detect --model " + kModel + " " + kDog, "bench model --model " + kModel,
                                 "run --no-server --duration 1 --model " + kModel + " " + kVideo,
                                 "analyze --model " + kModel + " -o " + out + "/job " + kVideo}) {
    auto r = test::run_process("DEVICE=bogus " + kVigil + " " + cmd);
    EXPECT_EQ(r.exit_code, 2) << cmd << ": " << r.err;
    EXPECT_TRUE(has(r.err, msg)) << cmd << ": " << r.err;
    EXPECT_FALSE(has(r.err, "terminate called")) << r.err;
  }
}

TEST(NonOnnxModels, RefusedWithHowToExport) {
  for (const std::string& cmd : {"detect --model /tmp/vigil-none/yolov8n.pt " + kDog,
                                 "run --no-server --duration 1 --model /tmp/vigil-none/yolov8n.pt " + kVideo}) {
    auto r = test::run_process(kVigil + " " + cmd);
    EXPECT_EQ(r.exit_code, 2) << cmd << ": " << r.err;
    EXPECT_TRUE(has(r.err, "yolov8n.pt: a PyTorch model (.pt), not ONNX")) << r.err;
    EXPECT_TRUE(has(r.err, "yolo export model=yolov8n.pt format=onnx")) << r.err;
  }
  auto engine = test::run_process(kVigil + " detect --model /tmp/vigil-none/yolo11n.engine " + kDog);
  EXPECT_EQ(engine.exit_code, 2) << engine.err;
  EXPECT_TRUE(has(engine.err, "a TensorRT engine (.engine), not ONNX")) << engine.err;
}

}  // namespace
}  // namespace vigil
