// The default model on real photos (darknet's dog.jpg and person.jpg): the
// expected objects are found, and each box agrees (IoU >= 0.5) with the box the
// independent TF.js reference pipeline (tools/model_convert/reference.js:
// jpeg-js decode, letterbox, the original TF.js graph, JS decode + NMS) gives
// for the same object, computed here in the test run.
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "media/image_io.h"
#include "pipeline/detector.h"
#include "test_support.h"

namespace vigil {
namespace {

struct RefDet {
  std::string cls;
  Box box;
};

std::map<std::string, std::vector<RefDet>> reference(const std::vector<std::string>& files) {
  std::string cmd = "node " VIGIL_REFERENCE_JS " detect --model " VIGIL_TFJS_MODEL " --conf 0.35 --iou 0.5";
  for (const auto& f : files) cmd += " " + f;
  auto r = test::run_process(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::vector<RefDet>> out;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    auto& v = out[j["file"].get<std::string>()];
    for (const auto& d : j["detections"]) {
      const auto& b = d["box"];
      v.push_back({d["class"].get<std::string>(),
                   Box{b[0].get<float>(), b[1].get<float>(), b[2].get<float>(), b[3].get<float>()}});
    }
  }
  return out;
}

class RealDetection : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    BackendOptions o;
    o.model_path = VIGIL_DEFAULT_MODEL;
    o.provider = ExecutionProvider::kCpu;
    auto d = Detector::create(o);
    ASSERT_TRUE(d) << d.error().message;
    detector_ = std::move(*d).release();
    ref_ = new std::map<std::string, std::vector<RefDet>>(reference({kDog, kPerson}));
  }
  static void TearDownTestSuite() {
    delete detector_;
    delete ref_;
  }

  // Runs our detector and checks: every class in `required` (alternatives
  // separated by '|') is found, and each of our boxes of those classes has
  // IoU >= 0.5 with the reference box of the same class that overlaps it most.
  void check(const std::string& file, const std::vector<std::string>& required) {
    auto img = load_image(file);
    ASSERT_TRUE(img) << img.error().message;
    const Image* batch[] = {&*img};
    DecodeOptions o;
    o.conf = 0.35F;
    o.iou = 0.5F;
    auto r = detector_->detect(batch, o);
    ASSERT_TRUE(r) << r.error().message;
    const auto& ours = (*r)[0];
    const auto& refs = ref_->at(file);
    std::set<std::string> found;
    for (const auto& d : ours) found.insert(detector_->info().class_names[static_cast<std::size_t>(d.class_id)]);
    for (const auto& want : required) {
      std::istringstream alts(want);
      std::string alt;
      bool any = false;
      while (std::getline(alts, alt, '|')) {
        if (!found.count(alt)) continue;
        any = true;
        for (const auto& d : ours) {
          if (detector_->info().class_names[static_cast<std::size_t>(d.class_id)] != alt) continue;
          float best = 0;
          for (const auto& rd : refs)
            if (rd.cls == alt) best = std::max(best, iou(d.box, rd.box));
          EXPECT_GE(best, 0.5F) << file << ": our " << alt << " box [" << d.box.x1 << "," << d.box.y1 << ","
                                << d.box.x2 << "," << d.box.y2 << "] has no reference box with IoU >= 0.5";
        }
      }
      EXPECT_TRUE(any) << file << ": no " << want << " detected";
    }
  }

  static constexpr const char* kDog = "/usr/share/darknet/data/dog.jpg";
  static constexpr const char* kPerson = "/usr/share/darknet/data/person.jpg";
  static Detector* detector_;
  static std::map<std::string, std::vector<RefDet>>* ref_;
};
Detector* RealDetection::detector_ = nullptr;
std::map<std::string, std::vector<RefDet>>* RealDetection::ref_ = nullptr;

TEST_F(RealDetection, DogBicycleAndCarOrTruck) { check(kDog, {"dog", "bicycle", "car|truck"}); }
// NanoDet-m labels the horse in person.jpg "cow" (0.46; "horse" is its runner-up
// class at 0.37 on the same box), in our pipeline and in the TF.js reference
// alike, with letterbox preprocessing; see docs/performance.md.
TEST_F(RealDetection, PersonHorseAndDog) { check(kPerson, {"person", "horse|cow", "dog"}); }

// Rectangular inputs against the square one on real photos: dog.jpg (768x576
// -> 416x352), person.jpg (640x424 -> 416x288) and a 16:9 crop of dog.jpg
// (768x432 -> 416x288). Every square box above the threshold has a rect box
// of its class with IoU >= 0.5 (recall) and the other way round (precision);
// both >= 0.9 over the images, and the same classes per image.
TEST(RealDetectionRect, AgreesWithTheSquareInput) {
  BackendOptions bo;
  bo.model_path = VIGIL_DEFAULT_MODEL;
  bo.provider = ExecutionProvider::kCpu;
  auto rect = Detector::create(bo, DetectorOptions{.rectangular = true});
  auto square = Detector::create(bo, DetectorOptions{.rectangular = false});
  ASSERT_TRUE(rect && square);
  ASSERT_TRUE((*rect)->info().dynamic_hw);
  auto dog = load_image("/usr/share/darknet/data/dog.jpg");
  auto person = load_image("/usr/share/darknet/data/person.jpg");
  ASSERT_TRUE(dog && person);
  Image wide(PixelFormat::kBgr24, dog->width, dog->width * 9 / 16);  // rows 72..503 of dog.jpg
  const int top = (dog->height - wide.height) / 2;
  for (int y = 0; y < wide.height; ++y)
    std::copy_n(dog->pixels.data() + static_cast<std::size_t>(y + top) * static_cast<std::size_t>(dog->stride()),
                static_cast<std::size_t>(wide.stride()), wide.pixels.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(wide.stride()));
  const std::vector<std::pair<std::string, const Image*>> images = {
      {"dog.jpg", &*dog}, {"person.jpg", &*person}, {"dog.jpg 16:9", &wide}};
  const std::vector<InputSize> expected_input = {{416, 352}, {416, 288}, {416, 288}};
  DecodeOptions o;
  o.conf = 0.35F;
  o.iou = 0.5F;
  const auto matched = [](const Detection& d, const std::vector<Detection>& others) {
    for (const auto& x : others)
      if (x.class_id == d.class_id && iou(x.box, d.box) >= 0.5F) return true;
    return false;
  };
  int square_n = 0, square_found = 0, rect_n = 0, rect_found = 0;
  float min_iou = 1;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const auto& [name, img] = images[i];
    EXPECT_EQ((*rect)->input_size_for(img->width, img->height), expected_input[i]) << name;
    const Image* one[] = {img};
    auto rs = (*rect)->detect(one, o);
    auto ss = (*square)->detect(one, o);
    ASSERT_TRUE(rs && ss);
    const auto& r = (*rs)[0];
    const auto& q = (*ss)[0];
    std::set<int> rc, qc;
    for (const auto& d : r) rc.insert(d.class_id);
    for (const auto& d : q) qc.insert(d.class_id);
    EXPECT_EQ(rc, qc) << name << ": classes differ";
    for (const auto& d : q) {
      ++square_n;
      square_found += matched(d, r) ? 1 : 0;
      float best = 0;
      for (const auto& x : r)
        if (x.class_id == d.class_id) best = std::max(best, iou(x.box, d.box));
      min_iou = std::min(min_iou, best);
    }
    for (const auto& d : r) {
      ++rect_n;
      rect_found += matched(d, q) ? 1 : 0;
    }
  }
  ASSERT_GT(square_n, 5);
  const double recall = static_cast<double>(square_found) / square_n;
  const double precision = rect_n ? static_cast<double>(rect_found) / rect_n : 0;
  std::printf("rect vs square: %d square boxes, %d rect boxes, recall %.3f, precision %.3f, min IoU %.3f\n", square_n,
              rect_n, recall, precision, static_cast<double>(min_iou));
  RecordProperty("recall", std::to_string(recall));
  RecordProperty("precision", std::to_string(precision));
  EXPECT_GE(recall, 0.9);
  EXPECT_GE(precision, 0.9);
}

TEST(RealDetectionCli, JsonLinesWithTheDefaultModel) {
  auto r = test::run_process(std::string(VIGIL_BINARY) + " detect --json --model " VIGIL_DEFAULT_MODEL
                             " /usr/share/darknet/data/dog.jpg");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["width"], 768);
  EXPECT_EQ(j["height"], 576);
  EXPECT_EQ(j["input"], nlohmann::json::array({416, 352}));  // rectangular: 416x312 + 2 x 20 (pad 52 mod 32)
  std::set<std::string> classes;
  for (const auto& d : j["detections"]) {
    classes.insert(d["class"].get<std::string>());
    const auto& b = d["box"];
    EXPECT_GE(b[0].get<double>(), 0);
    EXPECT_LE(b[2].get<double>(), 768);
    EXPECT_LT(b[0].get<double>(), b[2].get<double>());
    EXPECT_GT(d["score"].get<double>(), 0.35);
  }
  EXPECT_TRUE(classes.count("dog"));
  EXPECT_TRUE(classes.count("bicycle"));
  for (const char* k : {"preprocess", "inference", "postprocess"}) EXPECT_TRUE(j["timings_ms"].contains(k));
}

}  // namespace
}  // namespace vigil
