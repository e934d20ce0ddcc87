// Output decoders on ONNX models generated at test time (tests/tools/
// make_test_models.py) whose outputs are known exactly: the decoded boxes,
// mapped through the letterbox, must equal the expected ones in source pixels.
#include "models/decoder.h"

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "pipeline/detector.h"

namespace vigil {
namespace {

const std::string kDir = VIGIL_TEST_MODELS_DIR;

nlohmann::json expected() {
  std::ifstream f(kDir + "/expected.json");
  return nlohmann::json::parse(f);
}

std::unique_ptr<Detector> open(const std::string& file) {
  BackendOptions o;
  o.model_path = kDir + "/" + file;
  o.provider = ExecutionProvider::kCpu;
  auto d = Detector::create(o);
  EXPECT_TRUE(d) << (d ? "" : d.error().message);
  return d ? std::move(*d) : nullptr;
}

// Expected source box: model box minus the padding, divided by the scale
// (written out by hand per source size below), clipped to the source.
struct Mapping {
  int src_w, src_h;
  float scale, pad_x, pad_y;
};

Box to_source(const nlohmann::json& b, const Mapping& m) {
  auto cx = [&](float v) { return std::clamp((v - m.pad_x) / m.scale, 0.0F, static_cast<float>(m.src_w)); };
  auto cy = [&](float v) { return std::clamp((v - m.pad_y) / m.scale, 0.0F, static_cast<float>(m.src_h)); };
  return Box{cx(b[0].get<float>()), cy(b[1].get<float>()), cx(b[2].get<float>()), cy(b[3].get<float>())};
}

void expect_matches(const std::vector<Detection>& got, const nlohmann::json& exp, const Mapping& m,
                    const std::string& what) {
  const auto& want = exp["detections"];
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const Box b = to_source(want[i]["box"], m);
    EXPECT_EQ(got[i].class_id, want[i]["class_id"].get<int>()) << what << " #" << i;
    EXPECT_NEAR(got[i].score, want[i]["score"].get<float>(), 1e-5F) << what << " #" << i;
    EXPECT_NEAR(got[i].box.x1, b.x1, 1e-3F) << what << " #" << i;
    EXPECT_NEAR(got[i].box.y1, b.y1, 1e-3F) << what << " #" << i;
    EXPECT_NEAR(got[i].box.x2, b.x2, 1e-3F) << what << " #" << i;
    EXPECT_NEAR(got[i].box.y2, b.y2, 1e-3F) << what << " #" << i;
  }
}

DecodeOptions options_of(const nlohmann::json& exp) {
  DecodeOptions o;
  o.conf = exp["conf"].get<float>();
  o.iou = exp["iou"].get<float>();
  return o;
}

class YoloDecoders : public ::testing::TestWithParam<std::string> {};

TEST_P(YoloDecoders, BoxesInSourcePixelsForEveryImageOfABatch) {
  const auto all = expected();
  const auto& exp = all.at(GetParam());
  auto det = open(GetParam());
  ASSERT_TRUE(det);
  // Three different source shapes in one batch: landscape, portrait, square.
  const Image landscape(PixelFormat::kBgr24, 1280, 720), portrait(PixelFormat::kBgr24, 720, 1280),
      square(PixelFormat::kRgb24, 640, 640);
  const Image* batch[] = {&landscape, &portrait, &square};
  auto r = det->detect(batch, options_of(exp));
  ASSERT_TRUE(r) << r.error().message;
  expect_matches((*r)[0], exp, Mapping{1280, 720, 0.5F, 0, 140}, GetParam() + " landscape");
  expect_matches((*r)[1], exp, Mapping{720, 1280, 0.5F, 140, 0}, GetParam() + " portrait");
  expect_matches((*r)[2], exp, Mapping{640, 640, 1.0F, 0, 0}, GetParam() + " square");
}

INSTANTIATE_TEST_SUITE_P(AllLayouts, YoloDecoders,
                         ::testing::Values("yolov8.onnx", "yolov8_fp16.onnx", "yolov5.onnx", "yolov10.onnx"),
                         [](const auto& p) {
                           std::string n = p.param.substr(0, p.param.find('.'));
                           return n;
                         });

TEST(NanoDetDecoder, GflDistributionsToSourcePixels) {
  const auto all = expected();
  const auto& exp = all.at("nanodet_small.onnx");
  auto det = open("nanodet_small.onnx");
  ASSERT_TRUE(det);
  EXPECT_EQ(det->info().arch, ModelArch::kNanoDet);
  const Image src(PixelFormat::kBgr24, 128, 96);  // -> 64x48 inside 64x64, pad_y 8
  const Image* batch[] = {&src};
  auto r = det->detect(batch, options_of(exp));
  ASSERT_TRUE(r) << r.error().message;
  expect_matches((*r)[0], exp, Mapping{128, 96, 0.5F, 0, 8}, "nanodet");
}

TEST(DecoderFilters, ClassMaskAndMaxDet) {
  auto det = open("yolov8.onnx");
  ASSERT_TRUE(det);
  const Image src(PixelFormat::kBgr24, 640, 640);
  const Image* batch[] = {&src};
  auto mask = class_mask_from_names(det->info(), {"dog"});
  ASSERT_TRUE(mask);
  DecodeOptions o;
  o.conf = 0.25F;
  o.iou = 0.45F;
  o.class_mask = *mask;
  auto dogs = det->detect(batch, o);
  ASSERT_TRUE(dogs);
  ASSERT_EQ((*dogs)[0].size(), 2U);
  for (const auto& d : (*dogs)[0]) EXPECT_EQ(d.class_id, 2);

  o.class_mask.clear();
  o.max_det = 2;
  auto top2 = det->detect(batch, o);
  ASSERT_TRUE(top2);
  ASSERT_EQ((*top2)[0].size(), 2U);
  EXPECT_FLOAT_EQ((*top2)[0][0].score, 0.9F);
  EXPECT_FLOAT_EQ((*top2)[0][1].score, 0.8F);

  o.max_det = 100;
  o.conf = 0.85F;
  auto high = det->detect(batch, o);
  ASSERT_TRUE(high);
  EXPECT_EQ((*high)[0].size(), 1U);

  auto unknown = class_mask_from_names(det->info(), {"dog", "unicorn"});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("unicorn"), std::string::npos);
}

TEST(BackendErrors, UnsupportedLayoutAndNotAModel) {
  BackendOptions o;
  o.provider = ExecutionProvider::kCpu;
  o.model_path = kDir + "/unsupported.onnx";
  auto u = Backend::open(o);
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().code, ErrorCode::kUnsupported);
  o.model_path = kDir + "/not_a_model.onnx";
  auto n = Backend::open(o);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, ErrorCode::kBadInput);
  o.model_path = kDir + "/missing.onnx";
  auto m = Backend::open(o);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace vigil
