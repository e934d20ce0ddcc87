// read_image_header against files written by OpenCV's own encoders (so each
// parser is checked against a real writer), and load_image's pixel limit.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "media/image_io.h"
#include "test_support.h"

namespace vigil {
namespace {

std::string write_image(const std::string& name, int width, int height) {
  const std::string path = test::tmp_dir("image_io") + "/" + name;
  const bool grey = name.size() > 4 && name.substr(name.size() - 4) == ".pgm";
  cv::Mat m(height, width, grey ? CV_8UC1 : CV_8UC3, cv::Scalar(10, 120, 230));
  EXPECT_TRUE(cv::imwrite(path, m)) << path;
  return path;
}

std::string write_bytes(const std::string& name, const std::string& bytes) {
  const std::string path = test::tmp_dir("image_io") + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST(ImageHeader, ReadsTheDimensionsOfEveryFormat) {
  const struct {
    const char* name;
    ImageFormat format;
  } cases[] = {{"a.png", ImageFormat::kPng}, {"a.jpg", ImageFormat::kJpeg}, {"a.bmp", ImageFormat::kBmp},
               {"a.tif", ImageFormat::kTiff}, {"a.ppm", ImageFormat::kPnm}, {"a.pgm", ImageFormat::kPnm},
               {"a.webp", ImageFormat::kWebp}};
  for (const auto& c : cases) {
    const std::string path = write_image(c.name, 321, 123);
    auto h = read_image_header(path);
    ASSERT_TRUE(h) << c.name << ": " << h.error().message;
    EXPECT_EQ(h->format, c.format) << c.name;
    EXPECT_EQ(h->width, 321) << c.name;
    EXPECT_EQ(h->height, 123) << c.name;
  }
}

TEST(ImageHeader, LosslessWebpAndBigEndianTiff) {
  const std::string dir = test::tmp_dir("image_io");
  cv::Mat m(77, 99, CV_8UC3, cv::Scalar(1, 2, 3));
  ASSERT_TRUE(cv::imwrite(dir + "/lossless.webp", m, {cv::IMWRITE_WEBP_QUALITY, 101}));  // > 100: VP8L
  auto w = read_image_header(dir + "/lossless.webp");
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(w->width, 99);
  EXPECT_EQ(w->height, 77);
  // A hand-made big-endian TIFF header: one IFD with ImageWidth (LONG) and ImageLength (SHORT).
  std::string t("MM\0*\0\0\0\x08\0\x02", 10);
  t += std::string("\x01\x00\x00\x04\0\0\0\x01\0\0\x4e\x20", 12);  // 256 LONG 20000
  t += std::string("\x01\x01\x00\x03\0\0\0\x01\x30\x39\0\0", 12);  // 257 SHORT 12345
  auto h = read_image_header(write_bytes("be.tif", t));
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->width, 20000);
  EXPECT_EQ(h->height, 12345);
}

TEST(ImageHeader, TruncatedAndUnknownFilesAreRefusedByName) {
  const std::string png = write_image("full.png", 10, 10);
  std::string bytes;
  {
    std::ifstream in(png, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (const std::size_t n : {std::size_t{2}, std::size_t{9}, std::size_t{20}}) {
    const std::string path = write_bytes("cut" + std::to_string(n) + ".png", bytes.substr(0, n));
    auto h = read_image_header(path);
    ASSERT_FALSE(h) << n;
    EXPECT_NE(h.error().message.find(path), std::string::npos) << h.error().message;
  }
  const std::string text = write_bytes("notes.jpg", "hello, not a JPEG at all");
  auto h = read_image_header(text);
  ASSERT_FALSE(h);
  EXPECT_NE(h.error().message.find(text), std::string::npos);
  // A JPEG whose markers run off the end before any frame header.
  auto j = read_image_header(write_bytes("nosof.jpg", std::string("\xFF\xD8\xFF\xE0\x00\x10JFIF", 10)));
  EXPECT_FALSE(j);
}

TEST(LoadImage, RefusesImagesOverThePixelLimitBeforeDecoding) {
  const std::string path = write_image("big.png", 200, 100);
  auto ok = load_image(path, 200 * 100);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->width, 200);
  auto refused = load_image(path, 200 * 100 - 1);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find(path), std::string::npos);
  EXPECT_NE(refused.error().message.find("200x100"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find("19999"), std::string::npos) << refused.error().message;
}

}  // namespace
}  // namespace vigil
