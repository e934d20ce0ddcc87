// model.precision: the config value, and which file each choice loads
// (inference/model_choice.h), on real files in a temporary folder.
#include "inference/model_choice.h"

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "config/engine_config.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;

CpuFeatures with_vnni() {
  CpuFeatures c;
  c.avx2 = c.avx512f = c.avx512bw = c.avx512_vnni = true;
  return c;
}

CpuFeatures avx2_only() {
  CpuFeatures c;
  c.avx2 = true;
  return c;
}

class ModelChoiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(VIGIL_TEST_TMP) / ("model_choice_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fp32_ = (dir_ / "m.onnx").string();
    std::ofstream(fp32_) << "x";
  }
  void make_int8_copy() { std::ofstream((dir_ / "m-int8.onnx").string()) << "x"; }
  fs::path dir_;
  std::string fp32_;
};

TEST(ModelChoice, Int8CopyIsNamedAfterTheModel) {
  EXPECT_EQ(int8_model_path("models/nanodet-m-416.onnx"), "models/nanodet-m-416-int8.onnx");
  EXPECT_EQ(int8_model_path("/a/b.c/m"), "/a/b.c/m-int8.onnx");
  EXPECT_TRUE(is_int8_model_name("models/nanodet-m-416-int8.onnx"));
  EXPECT_FALSE(is_int8_model_name("models/nanodet-m-416.onnx"));
  EXPECT_FALSE(is_int8_model_name("-int8.onnx"));
}

TEST_F(ModelChoiceTest, Fp32IsTheModelAsGiven) {
  make_int8_copy();
  auto c = choose_model_file(fp32_, ModelPrecision::kFp32, with_vnni());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->path, fp32_);
  EXPECT_EQ(c->precision, ModelPrecision::kFp32);
}

TEST_F(ModelChoiceTest, Int8WithoutTheCopyNamesTheFileAndHowToMakeIt) {
  auto c = choose_model_file(fp32_, ModelPrecision::kInt8, with_vnni());
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kNotFound);
  EXPECT_NE(c.error().message.find((dir_ / "m-int8.onnx").string() + " (the INT8 copy of " + fp32_ + ") does not exist"),
            std::string::npos)
      << c.error().message;
  EXPECT_NE(c.error().message.find("tools/quantize/qdq_int8.py make"), std::string::npos) << c.error().message;
}

TEST_F(ModelChoiceTest, Int8LoadsTheCopy) {
  make_int8_copy();
  auto c = choose_model_file(fp32_, ModelPrecision::kInt8, avx2_only());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->path, (dir_ / "m-int8.onnx").string());
  EXPECT_EQ(c->precision, ModelPrecision::kInt8);
}

TEST_F(ModelChoiceTest, AutoWithoutACopyOrWithoutVnniIsFp32) {
  auto none = choose_model_file(fp32_, ModelPrecision::kAuto, with_vnni());
  ASSERT_TRUE(none);
  EXPECT_EQ(none->path, fp32_);
  EXPECT_EQ(none->precision, ModelPrecision::kFp32);
  make_int8_copy();
  auto old_cpu = choose_model_file(fp32_, ModelPrecision::kAuto, avx2_only());
  ASSERT_TRUE(old_cpu);
  EXPECT_EQ(old_cpu->precision, ModelPrecision::kFp32);
  EXPECT_EQ(old_cpu->path, fp32_);
}

TEST_F(ModelChoiceTest, AutoOnAGpuProviderKeepsFloat32) {
  make_int8_copy();
  auto c = choose_model_file(fp32_, ModelPrecision::kAuto, with_vnni(), /*gpu=*/true);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->path, fp32_);
  EXPECT_EQ(c->precision, ModelPrecision::kFp32);
  EXPECT_NE(c->reason.find("GPU"), std::string::npos) << c->reason;
  // Asked for by name, the copy still runs there.
  auto i = choose_model_file(fp32_, ModelPrecision::kInt8, with_vnni(), /*gpu=*/true);
  ASSERT_TRUE(i);
  EXPECT_EQ(i->precision, ModelPrecision::kInt8);
}

TEST_F(ModelChoiceTest, AutoWithTheCopyOnAVnniCpuIsInt8) {
  make_int8_copy();
  auto c = choose_model_file(fp32_, ModelPrecision::kAuto, with_vnni());
  ASSERT_TRUE(c);
  EXPECT_EQ(c->path, (dir_ / "m-int8.onnx").string());
  EXPECT_EQ(c->precision, ModelPrecision::kInt8);
  CpuFeatures hybrid = avx2_only();
  hybrid.avx_vnni = true;  // AVX-VNNI without AVX-512 (Alder Lake and later)
  auto h = choose_model_file(fp32_, ModelPrecision::kAuto, hybrid);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->precision, ModelPrecision::kInt8);
}

TEST_F(ModelChoiceTest, AModelNamedAsAnInt8CopyRunsAsGiven) {
  const std::string copy = (dir_ / "m-int8.onnx").string();
  make_int8_copy();
  auto a = choose_model_file(copy, ModelPrecision::kAuto, avx2_only());
  ASSERT_TRUE(a);
  EXPECT_EQ(a->path, copy);
  EXPECT_EQ(a->precision, ModelPrecision::kInt8);
  auto i = choose_model_file(copy, ModelPrecision::kInt8, avx2_only());
  ASSERT_TRUE(i);
  EXPECT_EQ(i->path, copy);
  auto f = choose_model_file(copy, ModelPrecision::kFp32, avx2_only());
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message.find(copy + " is an INT8 copy"), std::string::npos) << f.error().message;
}

TEST(ModelPrecisionConfig, ParsedAndBadValuesNamed) {
  auto c = parse_config("model: {path: m.onnx, precision: int8}\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->model.precision, ModelPrecision::kInt8);
  auto d = parse_config("model: m.onnx\n");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->model.precision, ModelPrecision::kFp32);  // the default: exact detections
  auto bad = parse_config("model:\n  precision: int4\n", "vigil.yaml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("model.precision: 'int4' is not one of auto, fp32, int8 (vigil.yaml:2:14)"),
            std::string::npos)
      << bad.error().message;
  auto typed = parse_config("model:\n  precision: [int8]\n");
  ASSERT_FALSE(typed);
  EXPECT_NE(typed.error().message.find("model.precision"), std::string::npos) << typed.error().message;
}

// CPUID + XGETBV agree with the kernel's view (/proc/cpuinfo "flags", which
// Linux also clears for extensions whose register state it does not save).
TEST(CpuFeatures, AgreeWithTheKernelsFlags) {
  std::ifstream info("/proc/cpuinfo");
  std::string line, flags;
  while (std::getline(info, line))
    if (line.rfind("flags", 0) == 0) {
      flags = line.substr(line.find(':') + 1) + " ";
      break;
    }
  if (flags.empty()) GTEST_SKIP() << "no x86 flags in /proc/cpuinfo";
  const auto has = [&flags](const std::string& name) { return flags.find(" " + name + " ") != std::string::npos; };
  const CpuFeatures& f = cpu_features();
  EXPECT_EQ(f.avx2, has("avx2"));
  EXPECT_EQ(f.avx512f, has("avx512f"));
  EXPECT_EQ(f.avx512bw, has("avx512bw"));
  EXPECT_EQ(f.avx512_vnni, has("avx512_vnni"));
  EXPECT_EQ(f.avx_vnni, has("avx_vnni"));
  EXPECT_NE(f.describe().find(f.avx2 ? "avx2" : "none"), std::string::npos) << f.describe();
}

}  // namespace
}  // namespace vigil

namespace vigil {
namespace {

// MODEL_PATH naming a folder (Verolux): the fastest .onnx for the device.
class ModelFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(VIGIL_TEST_TMP) / ("model_folder_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  std::string make(const std::string& name) {
    const std::string p = (dir_ / name).string();
    std::ofstream(p) << "x";
    return p;
  }
  fs::path dir_;
};

TEST(ModelFileFormat, IsReadFromTheName) {
  EXPECT_EQ(model_file_format("models/weight-int8.onnx"), ModelFileFormat::kInt8);
  EXPECT_EQ(model_file_format("models/weight_int8.onnx"), ModelFileFormat::kInt8);
  EXPECT_EQ(model_file_format("weight-fp16.onnx"), ModelFileFormat::kFp16);
  EXPECT_EQ(model_file_format("a/weight_fp16.onnx"), ModelFileFormat::kFp16);
  EXPECT_EQ(model_file_format("a/weight.onnx"), ModelFileFormat::kFp32);
  EXPECT_EQ(model_file_format("fp16.onnx"), ModelFileFormat::kFp32);  // a stem that is only the suffix
  EXPECT_STREQ(to_string(ModelFileFormat::kFp16), "FP16");
}

TEST_F(ModelFolderTest, CpuWithVnniTakesInt8ThenFp32) {
  const auto fp32 = make("weight.onnx");
  const auto fp16 = make("weight-fp16.onnx");
  const auto int8 = make("weight-int8.onnx");
  make("notes.txt");
  auto c = choose_model_file(dir_.string(), ModelPrecision::kAuto, with_vnni());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->path, int8);
  EXPECT_EQ(c->format, ModelFileFormat::kInt8);
  EXPECT_EQ(c->precision, ModelPrecision::kInt8);
  EXPECT_NE(c->reason.find("VNNI"), std::string::npos) << c->reason;
  c = choose_model_file(dir_.string(), ModelPrecision::kAuto, avx2_only());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->path, fp32);
  EXPECT_NE(c->reason.find("lacks VNNI"), std::string::npos) << c->reason;
  fs::remove(fp32);
  c = choose_model_file(dir_.string(), ModelPrecision::kAuto, avx2_only());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->path, fp16);
  EXPECT_EQ(c->format, ModelFileFormat::kFp16);
}

TEST_F(ModelFolderTest, GpuTakesFp16First) {
  make("weight.onnx");
  make("weight-int8.onnx");
  const auto fp16 = make("weight_fp16.onnx");
  auto c = choose_model_file(dir_.string(), ModelPrecision::kAuto, with_vnni(), true);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->path, fp16);
  EXPECT_NE(c->reason.find("GPU"), std::string::npos) << c->reason;
}

TEST_F(ModelFolderTest, SeveralOfAFormatTakeTheFirstByNameAndSaySo) {
  const auto a = make("a.onnx");
  make("b.onnx");
  auto c = choose_model_file(dir_.string(), ModelPrecision::kAuto, avx2_only());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->path, a);
  EXPECT_NE(c->reason.find("the first of 2 FP32 files by name"), std::string::npos) << c->reason;
}

TEST_F(ModelFolderTest, RequestedFormatMissingOrEmptyFolderNamesTheFolder) {
  auto c = choose_model_file(dir_.string(), ModelPrecision::kAuto, avx2_only());
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(c.error().message, "the model folder " + dir_.string() + " has no .onnx file");
  make("weight.onnx");
  c = choose_model_file(dir_.string(), ModelPrecision::kInt8, with_vnni());
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message, "int8: the model folder " + dir_.string() +
                                   " has no INT8 .onnx file (a name ending in -int8.onnx)");
  c = choose_model_file(dir_.string(), ModelPrecision::kFp32, with_vnni());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->format, ModelFileFormat::kFp32);
}

TEST_F(ModelFolderTest, Fp32TakesFloatFilesOnlyFp16FirstOnAGpu) {
  make("weight.onnx");
  const auto int8 = make("weight-int8.onnx");
  const auto fp16 = make("weight-fp16.onnx");
  auto c = choose_model_file(dir_.string(), ModelPrecision::kFp32, with_vnni());  // INT8 would be auto's
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->format, ModelFileFormat::kFp32);
  EXPECT_NE(c->reason.find("fp32 (float files only)"), std::string::npos) << c->reason;
  c = choose_model_file(dir_.string(), ModelPrecision::kFp32, with_vnni(), true);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->path, fp16);
  fs::remove(dir_ / "weight.onnx");
  fs::remove(fp16);
  c = choose_model_file(dir_.string(), ModelPrecision::kFp32, with_vnni());
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("has no float .onnx file"), std::string::npos) << c.error().message;
  c = choose_model_file(dir_.string(), ModelPrecision::kAuto, avx2_only());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->path, int8);
}

}  // namespace
}  // namespace vigil
