// The INT8 copy of the default model (tools/quantize/qdq_int8.py make, run by
// the int8_model fixture with the freshly built vigil): it loads with the
// original's description, and its detections agree with the float32 model's
// on darknet's sample photos (same class, IoU >= 0.5, match_detections; both
// at the same input size, rectangular for these dynamic-size models): recall
// and precision against float32 >= 0.9 over all of them (0.7 on CPUs without
// VNNI, see the test). kite, giraffe and scream are also
// calibration images; dog, person, horses and eagle are not.
#include <algorithm>
#include <filesystem>
#include <iostream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/cpu_features.h"
#include "media/image_io.h"
#include "models/detection_match.h"
#include "pipeline/detector.h"
#include "test_support.h"

namespace vigil {
namespace {

const char* const kImages[] = {"dog", "person", "horses", "eagle", "giraffe", "kite", "scream"};

std::unique_ptr<Detector> open(const std::string& path) {
  BackendOptions o;
  o.model_path = path;
  o.provider = ExecutionProvider::kCpu;
  auto d = Detector::create(o);
  EXPECT_TRUE(d) << d.error().message;
  return d ? std::move(*d) : nullptr;
}

TEST(Int8Model, LoadsWithTheOriginalsDescription) {
  ASSERT_TRUE(std::filesystem::exists(VIGIL_INT8_TEST_MODEL)) << "made by the int8_model fixture";
  auto fp32 = open(VIGIL_DEFAULT_MODEL);
  auto int8 = open(VIGIL_INT8_TEST_MODEL);
  ASSERT_TRUE(fp32 && int8);
  const ModelInfo& a = fp32->info();
  const ModelInfo& b = int8->info();
  EXPECT_EQ(b.arch, ModelArch::kNanoDet);
  EXPECT_EQ(b.class_names, a.class_names);
  EXPECT_EQ(b.input_w, a.input_w);
  EXPECT_EQ(b.input_h, a.input_h);
  EXPECT_EQ(b.heads.size(), a.heads.size());
  ASSERT_TRUE(b.metadata.count("vigil.precision"));
  EXPECT_EQ(b.metadata.at("vigil.precision"), "int8");
  for (const auto& [key, value] : a.metadata) {
    ASSERT_TRUE(b.metadata.count(key)) << key;
    EXPECT_EQ(b.metadata.at(key), value) << key;
  }
  // A quarter of the float32 file: the weights are int8.
  EXPECT_LT(std::filesystem::file_size(VIGIL_INT8_TEST_MODEL), std::filesystem::file_size(VIGIL_DEFAULT_MODEL) / 3);
}

TEST(Int8Model, DetectionsAgreeWithFloat32OnTheSamplePhotos) {
  auto fp32 = open(VIGIL_DEFAULT_MODEL);
  auto int8 = open(VIGIL_INT8_TEST_MODEL);
  ASSERT_TRUE(fp32 && int8);
  DecodeOptions opts;  // conf 0.35, as vigil detect
  MatchCounts all;
  for (const char* name : kImages) {
    const std::string path = std::string("/usr/share/darknet/data/") + name + ".jpg";
    auto img = load_image(path);
    ASSERT_TRUE(img) << img.error().message;
    const Image* batch[] = {&*img};
    auto a = fp32->detect(batch, opts);
    auto b = int8->detect(batch, opts);
    ASSERT_TRUE(a && b);
    const MatchCounts m = match_detections((*a)[0], (*b)[0]);
    std::cout << name << ": fp32 " << m.reference << ", int8 " << m.candidate << ", matched " << m.matched << "\n";
    all += m;
  }
  ASSERT_GT(all.reference, 10);  // the photos hold objects at all
  const double recall = all.recall();
  const double precision = all.precision();
  std::cout << "int8 vs fp32: " << all.reference << " fp32 detections, " << all.candidate << " int8, recall " << recall
            << ", precision " << precision << "\n";
  // ONNX Runtime's U8S8 convolutions saturate (16-bit intermediate sums) on
  // CPUs without VNNI, so the copy agrees less there: 0.78 / 0.78 on an
  // AVX2-only AMD EPYC (2026-12-02), 0.9+ with VNNI. That is why
  // `precision: auto` picks the INT8 copy only with VNNI (docs/performance.md,
  // "INT8 on CPUs without VNNI"); without it, the bar is the floor the copy
  // must still clear to be usable when asked for.
  const double bar = cpu_features().has_int8_dot() ? 0.9 : 0.7;
  std::cout << "CPU: " << cpu_features().describe() << ", bar " << bar << "\n";
  EXPECT_GE(recall, bar);
  EXPECT_GE(precision, bar);
}

// model.precision int8 with no INT8 copy beside the model: refused before
// anything runs, naming the missing file and how to make it.
TEST(Int8Model, MissingInt8CopyIsAClearErrorOfTheCommands) {
  const auto dir = std::filesystem::path(VIGIL_TEST_TMP) / "int8_missing";
  std::filesystem::create_directories(dir);
  const auto model = dir / "solo.onnx";
  std::filesystem::copy_file(VIGIL_DEFAULT_MODEL, model, std::filesystem::copy_options::overwrite_existing);
  const std::string missing = (dir / "solo-int8.onnx").string();
  auto r = test::run_process(std::string(VIGIL_BINARY) + " detect --precision int8 --model " + model.string() +
                             " /usr/share/darknet/data/dog.jpg");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--precision: int8: " + missing), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("tools/quantize"), std::string::npos) << r.err;
  auto bench = test::run_process(std::string(VIGIL_BINARY) + " bench model --iterations 1 --warmup 0 --batch 1 "
                                 "--threads 1 --precision int8 --model " + model.string());
  EXPECT_EQ(bench.exit_code, 2);
  EXPECT_NE(bench.err.find(missing), std::string::npos) << bench.err;
  auto bad = test::run_process(std::string(VIGIL_BINARY) + " detect --precision int4 /usr/share/darknet/data/dog.jpg");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--precision: 'int4' is not one of auto, fp32, int8"), std::string::npos) << bad.err;
}

// With the INT8 copy beside the model, --precision int8 runs it: bench
// model's JSON names the file each row ran; detect finds the dog with it.
TEST(Int8Model, CommandsRunTheInt8CopyWhenAsked) {
  const auto dir = std::filesystem::path(VIGIL_TEST_TMP) / "int8_present";
  std::filesystem::create_directories(dir);
  const auto model = dir / "pair.onnx";
  const auto copy = dir / "pair-int8.onnx";
  std::filesystem::copy_file(VIGIL_DEFAULT_MODEL, model, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(VIGIL_INT8_TEST_MODEL, copy, std::filesystem::copy_options::overwrite_existing);
  auto bench = test::run_process(std::string(VIGIL_BINARY) + " bench model --json --iterations 1 --warmup 0 "
                                 "--batch 1 --threads 1 --precision fp32,int8 --model " + model.string());
  ASSERT_EQ(bench.exit_code, 0) << bench.err;
  const auto j = nlohmann::json::parse(bench.out);
  ASSERT_EQ(j["results"].size(), 2U) << bench.out;
  EXPECT_EQ(j["results"][0]["precision"], "fp32");
  EXPECT_EQ(j["results"][0]["model"], model.string());
  EXPECT_EQ(j["results"][1]["precision"], "int8");
  EXPECT_EQ(j["results"][1]["model"], copy.string());
  auto r = test::run_process(std::string(VIGIL_BINARY) + " detect --json --precision int8 --model " + model.string() +
                             " /usr/share/darknet/data/dog.jpg");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"dog\""), std::string::npos) << r.out;
}

}  // namespace
}  // namespace vigil
