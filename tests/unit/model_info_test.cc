#include "inference/model_info.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

RawModelDescription yolo(std::vector<std::int64_t> out_shape, std::map<std::string, std::string> meta = {}) {
  RawModelDescription r;
  r.path = "m.onnx";
  r.inputs = {{"images", {-1, 3, 640, 640}, ElementType::kFloat32}};
  r.outputs = {{"output0", std::move(out_shape), ElementType::kFloat32}};
  r.metadata = std::move(meta);
  return r;
}

TEST(ParseClassNames, UltralyticsDictRepr) {
  auto n = parse_class_names("{0: 'person', 1: \"it's\", 2: 'traffic light'}");
  ASSERT_TRUE(n);
  ASSERT_EQ(n->size(), 3U);
  EXPECT_EQ((*n)[1], "it's");
  EXPECT_EQ((*n)[2], "traffic light");
}

TEST(ParseClassNames, JsonForms) {
  auto a = parse_class_names(R"(["a","b"])");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->size(), 2U);
  auto o = parse_class_names(R"({"0":"a","1":"b"})");
  ASSERT_TRUE(o);
  EXPECT_EQ((*o)[1], "b");
  EXPECT_FALSE(parse_class_names("{0: 'a', 2: 'c'}"));  // gap in ids
  EXPECT_FALSE(parse_class_names("nonsense"));
}

TEST(DescribeModel, UltralyticsYolov8) {
  auto info = describe_model(yolo({-1, 6, 8400}, {{"names", "{0: 'a', 1: 'b'}"}, {"imgsz", "[640, 640]"},
                                                  {"stride", "32"}, {"task", "detect"}}));
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->arch, ModelArch::kYoloV8);
  EXPECT_EQ(info->num_classes(), 2);
  EXPECT_TRUE(info->dynamic_batch);
  EXPECT_EQ(info->input_w, 640);
  EXPECT_EQ(info->color, ColorOrder::kRgb);
  EXPECT_FLOAT_EQ(info->std[0], 255);
}

TEST(DescribeModel, ShapesWithoutMetadata) {
  auto v8 = describe_model(yolo({1, 84, 8400}));
  ASSERT_TRUE(v8);
  EXPECT_EQ(v8->arch, ModelArch::kYoloV8);
  EXPECT_EQ(v8->num_classes(), 80);
  EXPECT_EQ(v8->class_names[79], "class79");
  auto v5 = describe_model(yolo({1, 25200, 85}));
  ASSERT_TRUE(v5);
  EXPECT_EQ(v5->arch, ModelArch::kYoloV5);
  EXPECT_EQ(v5->num_classes(), 80);
}

TEST(DescribeModel, EndToEnd) {
  auto e = describe_model(yolo({1, 300, 6}, {{"names", "{0: 'a', 1: 'b'}"}, {"end2end", "True"}}));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->arch, ModelArch::kYoloEnd2End);
}

TEST(DescribeModel, DynamicSpatialSizeFromImgsz) {
  auto r = yolo({-1, 6, -1}, {{"names", "{0: 'a', 1: 'b'}"}, {"imgsz", "[480, 640]"}});
  r.inputs[0].shape = {-1, 3, -1, -1};
  auto info = describe_model(r);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->input_w, 640);
  EXPECT_EQ(info->input_h, 480);
  r.metadata.erase("imgsz");
  EXPECT_FALSE(describe_model(r));
}

TEST(DescribeModel, RejectsWhatItCannotDecode) {
  auto bad = describe_model(yolo({1, 7, 7, 7}));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(bad.error().message.find("m.onnx"), std::string::npos);
  EXPECT_NE(bad.error().message.find("[1,7,7,7]"), std::string::npos);
  auto seg = describe_model(yolo({1, 116, 8400}, {{"task", "segment"}}));
  ASSERT_FALSE(seg);
  EXPECT_NE(seg.error().message.find("segment"), std::string::npos);
  auto r = yolo({1, 84, 8400});
  r.inputs[0].shape = {1, 640, 640};
  EXPECT_FALSE(describe_model(r));
}

TEST(DescribeModel, NanoDetMetadata) {
  RawModelDescription r;
  r.path = "n.onnx";
  r.inputs = {{"images", {-1, 3, 416, 416}, ElementType::kFloat32}};
  for (int s : {8, 16, 32}) {
    const std::int64_t cells = (416 / s) * (416 / s);
    r.outputs.push_back({"cls_pred_stride" + std::to_string(s), {-1, cells, 2}, ElementType::kFloat32});
    r.outputs.push_back({"dis_pred_stride" + std::to_string(s), {-1, cells, 44}, ElementType::kFloat32});
  }
  r.metadata = {{"vigil.arch", "nanodet"}, {"vigil.color", "BGR"}, {"vigil.mean", "103.53,116.28,123.675"},
                {"vigil.std", "57.375,57.12,58.395"}, {"vigil.strides", "8,16,32"}, {"vigil.reg_max", "10"},
                {"vigil.names", R"(["a","b"])"}, {"vigil.scores", "sigmoid"}};
  auto info = describe_model(r);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->arch, ModelArch::kNanoDet);
  EXPECT_EQ(info->color, ColorOrder::kBgr);
  EXPECT_FLOAT_EQ(info->mean[2], 123.675F);
  EXPECT_EQ(info->heads.size(), 3U);
  EXPECT_EQ(info->heads[2].stride, 32);
  EXPECT_EQ(info->heads[2].dis_output, 5);
  EXPECT_FALSE(info->scores_are_logits);
  r.metadata["vigil.reg_max"] = "7";  // 44 != 4*8
  EXPECT_FALSE(describe_model(r));
}

}  // namespace
}  // namespace vigil
