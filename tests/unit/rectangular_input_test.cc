// Rectangular inference, the pure parts: which input size a frame runs at
// (choose_input_size), the letterbox at that size, what describe_model reads
// about dynamic height/width and the stride, and the NanoDet decoder on
// synthetic outputs of non-square grids (a known box at a known cell).
#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

#include "inference/letterbox.h"
#include "inference/model_info.h"
#include "models/decoder.h"

namespace vigil {
namespace {

ModelInfo dynamic_model(int w = 416, int h = 416, int stride = 32) {
  ModelInfo m;
  m.input_w = w;
  m.input_h = h;
  m.dynamic_hw = true;
  m.stride = stride;
  return m;
}

TEST(ChooseInputSize, TheLetterboxOnTheSquareInputsStrideGrid) {
  const ModelInfo m = dynamic_model();
  EXPECT_EQ(choose_input_size(m, 1280, 720, true), (InputSize{416, 288}));   // 416x234, square pad 91 = 64 + 27
  EXPECT_EQ(choose_input_size(m, 1920, 1080, true), (InputSize{416, 288}));
  EXPECT_EQ(choose_input_size(m, 640, 480, true), (InputSize{416, 352}));    // 4:3: 416x312, pad 52 = 32 + 20
  EXPECT_EQ(choose_input_size(m, 720, 1280, true), (InputSize{288, 416}));   // portrait
  EXPECT_EQ(choose_input_size(m, 480, 640, true), (InputSize{352, 416}));
  EXPECT_EQ(choose_input_size(m, 416, 416, true), (InputSize{416, 416}));
  EXPECT_EQ(choose_input_size(m, 2000, 100, true), (InputSize{416, 32}));    // 416x21, pad 197 = 192 + 5 -> 31 -> 32
  EXPECT_EQ(choose_input_size(m, 320, 180, true), (InputSize{416, 288}));    // upscaled like the square input
  EXPECT_EQ(choose_input_size(m, 720, 528, true), (InputSize{416, 352}));    // Megamind.avi: 416x305, pad 55 = 32 + 23
}

TEST(ChooseInputSize, SquareWhenOffOrFixedOrUnknown) {
  ModelInfo m = dynamic_model();
  EXPECT_EQ(choose_input_size(m, 1280, 720, false), (InputSize{416, 416}));
  EXPECT_EQ(choose_input_size(m, 0, 720, true), (InputSize{416, 416}));
  m.dynamic_hw = false;
  EXPECT_EQ(choose_input_size(m, 1280, 720, true), (InputSize{416, 416}));
  ModelInfo wide = dynamic_model(640, 480);
  wide.dynamic_hw = false;
  EXPECT_EQ(choose_input_size(wide, 1280, 720, true), (InputSize{640, 480}));
}

// Over many frame sizes: the chosen size is a stride multiple within the
// nominal input, its letterbox has the square input's scale and scaled
// size, so only the padding differs, and the picture lies on the square
// input's stride grid.
TEST(ChooseInputSize, KeepsTheNominalScaleForEveryFrameSize) {
  const ModelInfo m = dynamic_model();
  int checked = 0;
  for (int w = 16; w <= 4000; w += 37) {
    for (int h = 16; h <= 4000; h += 41) {
      const InputSize in = choose_input_size(m, w, h, true);
      ASSERT_EQ(in.width % 32, 0) << w << "x" << h;
      ASSERT_EQ(in.height % 32, 0) << w << "x" << h;
      ASSERT_LE(in.width, 416);
      ASSERT_LE(in.height, 416);
      const auto square = compute_letterbox(w, h, 416, 416);
      const auto rect = compute_letterbox(w, h, in.width, in.height);
      ASSERT_EQ(rect.new_w, square.new_w) << w << "x" << h << " at " << in.width << "x" << in.height;
      ASSERT_EQ(rect.new_h, square.new_h) << w << "x" << h << " at " << in.width << "x" << in.height;
      // The picture on the square input's stride grid: the same offset modulo the stride.
      ASSERT_EQ(rect.pad_x % 32, square.pad_x % 32) << w << "x" << h << " at " << in.width << "x" << in.height;
      ASSERT_EQ(rect.pad_y % 32, square.pad_y % 32) << w << "x" << h << " at " << in.width << "x" << in.height;
      // And no larger than that needs: under a stride more on each side than the
      // aligned padding or the exact scaled size (+1: the rounding to a multiple).
      auto small_enough = [&](int extent, int nominal_pad, int scaled, float exact) {
        const float aligned = static_cast<float>(scaled + 2 * (nominal_pad % 32));
        return extent == 416 || static_cast<float>(extent) < std::max(aligned, exact) + 65;
      };
      ASSERT_TRUE(small_enough(in.width, square.pad_x, square.new_w, static_cast<float>(w) * square.scale)) << w << "x" << h;
      ASSERT_TRUE(small_enough(in.height, square.pad_y, square.new_h, static_cast<float>(h) * square.scale)) << w << "x" << h;
      ++checked;
    }
  }
  EXPECT_GT(checked, 10000);
}

TEST(LetterboxRect, SixteenByNineInto416x288) {
  const auto t = compute_letterbox(1280, 720, 416, 288);
  EXPECT_EQ(t.new_w, 416);
  EXPECT_EQ(t.new_h, 234);
  EXPECT_EQ(t.pad_x, 0);
  EXPECT_EQ(t.pad_y, 27);
  const Box src{100, 200, 500, 600};
  const Box back = t.to_source(t.to_model(src));
  EXPECT_NEAR(back.x1, src.x1, 1e-3);
  EXPECT_NEAR(back.y2, src.y2, 1e-3);
  // The same source box lands two strides (64 rows) higher than in the square input (pad 27 vs 91).
  const auto sq = compute_letterbox(1280, 720, 416, 416);
  EXPECT_EQ(sq.pad_y, 91);
  EXPECT_NEAR(sq.to_model(src).y1 - t.to_model(src).y1, 64, 1e-3);
  EXPECT_NEAR(sq.to_model(src).x1, t.to_model(src).x1, 1e-4);
}

TEST(LetterboxRect, WritesAPortraitTensorWithPaddedColumns) {
  Image img(PixelFormat::kBgr24, 90, 160);  // 9:16, into 288x416 -> 234x416, pad_x 27 (square: 91)
  for (std::size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = 200;
  const ModelInfo m = dynamic_model();
  const InputSize in = choose_input_size(m, img.width, img.height, true);
  ASSERT_EQ(in, (InputSize{288, 416}));
  PreprocessSpec spec = PreprocessSpec::from(m, in);
  ASSERT_EQ(spec.width, 288);
  ASSERT_EQ(spec.height, 416);
  spec.pad_value = 0;
  std::vector<float> t(spec.tensor_elements(), -999);
  const auto lb = letterbox_into(img, spec, t.data());
  EXPECT_EQ(lb.new_w, 234);
  EXPECT_EQ(lb.pad_x, 27);
  auto at = [&](int c, int y, int x) { return t[static_cast<std::size_t>((c * 416 + y) * 288 + x)]; };
  EXPECT_FLOAT_EQ(at(0, 200, 26), 0);             // left padding
  EXPECT_FLOAT_EQ(at(0, 200, 27), 200 / 255.0F);  // first image column
  EXPECT_FLOAT_EQ(at(2, 415, 260), 200 / 255.0F);  // last image column, last row
  EXPECT_FLOAT_EQ(at(2, 415, 261), 0);             // right padding
}

RawModelDescription nanodet_raw(std::int64_t cells_dim, bool dynamic_input) {
  RawModelDescription r;
  r.path = "nano.onnx";
  r.inputs = {{"images", {-1, 3, dynamic_input ? -1 : 416, dynamic_input ? -1 : 416}, ElementType::kFloat32}};
  for (const char* kind : {"cls", "dis"})
    for (int s : {8, 16, 32}) {
      const std::int64_t cells = cells_dim < 0 ? -1 : (416 / s) * (416 / s);
      r.outputs.push_back({std::string(kind) + "_pred_stride" + std::to_string(s),
                           {-1, cells, std::string(kind) == "cls" ? 2 : 44}, ElementType::kFloat32});
    }
  r.metadata = {{"vigil.arch", "nanodet"}, {"vigil.input_size", "416,416"}, {"vigil.strides", "8,16,32"},
                {"vigil.reg_max", "10"},   {"vigil.names", R"(["a","b"])"},  {"vigil.center_offset", "0.5"}};
  return r;
}

TEST(DescribeModelDynamic, NanoDetWithDynamicSizeAndStride) {
  auto info = describe_model(nanodet_raw(-1, true));
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_TRUE(info->dynamic_hw);
  EXPECT_EQ(info->input_w, 416);
  EXPECT_EQ(info->input_h, 416);
  EXPECT_EQ(info->stride, 32);  // the largest of vigil.strides
  auto raw = nanodet_raw(-1, true);
  raw.metadata["vigil.stride"] = "64";
  EXPECT_EQ(describe_model(raw)->stride, 64);
  raw.metadata["vigil.stride"] = "x";
  auto bad = describe_model(raw);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("vigil.stride"), std::string::npos) << bad.error().message;
  // Fixed size: not dynamic, and dynamic cell axes are refused.
  auto fixed = describe_model(nanodet_raw(0, false));
  ASSERT_TRUE(fixed) << fixed.error().message;
  EXPECT_FALSE(fixed->dynamic_hw);
  EXPECT_FALSE(describe_model(nanodet_raw(-1, false)));
}

TEST(DescribeModelDynamic, UltralyticsDynamicExport) {
  RawModelDescription r;
  r.path = "yolo11n.onnx";
  r.inputs = {{"images", {-1, 3, -1, -1}, ElementType::kFloat32}};
  r.outputs = {{"output0", {-1, 84, -1}, ElementType::kFloat32}};
  r.metadata = {{"imgsz", "[640, 640]"}, {"stride", "32"}, {"task", "detect"}};
  auto info = describe_model(r);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->arch, ModelArch::kYoloV8);
  EXPECT_TRUE(info->dynamic_hw);
  EXPECT_EQ(info->stride, 32);
  EXPECT_EQ(choose_input_size(*info, 1280, 720, true), (InputSize{640, 384}));  // 640x360
  r.inputs[0].shape = {1, 3, 640, 640};
  auto fixed = describe_model(r);
  ASSERT_TRUE(fixed);
  EXPECT_FALSE(fixed->dynamic_hw);
  EXPECT_EQ(choose_input_size(*fixed, 1280, 720, true), (InputSize{640, 640}));
}

// A NanoDet model (2 classes, reg_max 10, centre offset 0.5, sigmoid scores)
// and its outputs for one image at `in`: zero everywhere except one cell of
// the stride-`stride` head, at (row, col), class 1 with score 0.9 and every
// side's distance distribution peaked at bin `bin` (distance bin * stride).
struct SyntheticNanoDet {
  ModelInfo info;
  std::vector<Tensor> outputs;
};

SyntheticNanoDet synthetic(InputSize in, int stride, int row, int col, int bin) {
  SyntheticNanoDet s;
  s.info = dynamic_model();
  s.info.path = "synthetic";
  s.info.arch = ModelArch::kNanoDet;
  s.info.class_names = {"a", "b"};
  s.info.reg_max = 10;
  s.info.center_offset = 0.5F;
  const int strides[] = {8, 16, 32};
  for (int k = 0; k < 3; ++k) s.info.heads.push_back({strides[k], k, 3 + k});
  for (const char* kind : {"cls", "dis"})
    for (int st : strides) s.info.outputs.push_back({std::string(kind) + "_pred_stride" + std::to_string(st), {}, {}});
  s.outputs.resize(6);
  for (int k = 0; k < 3; ++k) {
    const std::int64_t gw = (in.width + strides[k] - 1) / strides[k];
    const std::int64_t gh = (in.height + strides[k] - 1) / strides[k];
    Tensor& cls = s.outputs[static_cast<std::size_t>(k)];
    Tensor& dis = s.outputs[static_cast<std::size_t>(3 + k)];
    cls.shape = {1, gw * gh, 2};
    dis.shape = {1, gw * gh, 44};
    cls.data.assign(static_cast<std::size_t>(gw * gh * 2), 0.0F);
    dis.data.assign(static_cast<std::size_t>(gw * gh * 44), 0.0F);
    if (strides[k] != stride) continue;
    const std::int64_t cell = row * gw + col;
    cls.data[static_cast<std::size_t>(cell * 2 + 1)] = 0.9F;
    for (int side = 0; side < 4; ++side) dis.data[static_cast<std::size_t>(cell * 44 + side * 11 + bin)] = 60.0F;
  }
  return s;
}

void expect_one_box(const std::vector<Detection>& dets, const Box& want) {
  ASSERT_EQ(dets.size(), 1U);
  EXPECT_EQ(dets[0].class_id, 1);
  EXPECT_FLOAT_EQ(dets[0].score, 0.9F);
  EXPECT_NEAR(dets[0].box.x1, want.x1, 1e-3);
  EXPECT_NEAR(dets[0].box.y1, want.y1, 1e-3);
  EXPECT_NEAR(dets[0].box.x2, want.x2, 1e-3);
  EXPECT_NEAR(dets[0].box.y2, want.y2, 1e-3);
}

TEST(NanoDetGrid, BoxAtAKnownCellOfA416x256Grid) {
  // Stride 16 at 416x256: a 26 x 16 grid; cell (row 10, col 20) has its centre
  // at (20.5 * 16, 10.5 * 16) = (328, 168); distances 2 * 16 = 32 each side.
  const InputSize in{416, 256};
  const auto s = synthetic(in, 16, 10, 20, 2);
  ASSERT_TRUE(check_output_shapes(s.info, s.outputs, in));
  DecodeOptions o;
  o.conf = 0.5F;
  expect_one_box(decode_detections(s.info, s.outputs, 0, o, in), Box{296, 136, 360, 200});
  // Stride 8 (52 x 32), the last row: centre (3.5 * 8, 31.5 * 8) = (28, 252), distance 5 * 8.
  const auto bottom = synthetic(in, 8, 31, 3, 5);
  expect_one_box(decode_detections(bottom.info, bottom.outputs, 0, o, in), Box{-12, 212, 68, 292});
}

TEST(NanoDetGrid, BoxAtAKnownCellOfAPortraitGrid) {
  // 256x416 (portrait): stride 32 is 8 columns x 13 rows; cell index
  // row * 8 + col, not row * 13 + col as at the nominal 416 width.
  const InputSize in{256, 416};
  const auto s = synthetic(in, 32, 11, 6, 1);
  ASSERT_TRUE(check_output_shapes(s.info, s.outputs, in));
  DecodeOptions o;
  o.conf = 0.5F;
  // centre (6.5 * 32, 11.5 * 32) = (208, 368), distance 32
  expect_one_box(decode_detections(s.info, s.outputs, 0, o, in), Box{176, 336, 240, 400});
}

TEST(NanoDetGrid, OutputsOfAnotherSizeAreAnError) {
  const auto s = synthetic({416, 416}, 16, 1, 1, 1);
  auto r = check_output_shapes(s.info, s.outputs, {416, 256});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cls_pred_stride8"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("416x256"), std::string::npos) << r.error().message;
}

TEST(YoloRect, DecoderReadsTheCandidateCountFromTheOutput) {
  // YOLOv8 [1, 4 + 2, N] at 416x256: N = 52*32 + 26*16 + 13*8 = 2184 candidates.
  ModelInfo m = dynamic_model();
  m.arch = ModelArch::kYoloV8;
  m.class_names = {"a", "b"};
  const std::int64_t n = 52 * 32 + 26 * 16 + 13 * 8;
  Tensor t;
  t.shape = {1, 6, n};
  t.data.assign(static_cast<std::size_t>(6 * n), 0.0F);
  const std::int64_t i = n - 1;  // the last candidate
  const float row[] = {300, 200, 40, 20, 0.1F, 0.8F};
  for (int r = 0; r < 6; ++r) t.data[static_cast<std::size_t>(r * n + i)] = row[r];
  DecodeOptions o;
  o.conf = 0.5F;
  auto dets = decode_detections(m, {t}, 0, o, {416, 256});
  ASSERT_EQ(dets.size(), 1U);
  EXPECT_EQ(dets[0].class_id, 1);
  EXPECT_FLOAT_EQ(dets[0].box.x1, 280);
  EXPECT_FLOAT_EQ(dets[0].box.y2, 210);
}

}  // namespace
}  // namespace vigil
