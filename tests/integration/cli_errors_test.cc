// Bad input through the real `vigil detect` binary: each gives a clear message
// on stderr naming the input, exit code 2, no crash, and the good inputs of
// the same run are still processed.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;
const std::string kModel = std::string(VIGIL_TEST_MODELS_DIR) + "/yolov8.onnx";
const std::string kDog = "/usr/share/darknet/data/dog.jpg";

std::string write_file(const std::string& name, const std::string& content) {
  const std::string path = test::tmp_dir("cli_errors") + "/" + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

void expect_bad_input(const test::ProcessResult& r, const std::string& names) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(names), std::string::npos) << "stderr does not name " << names << ": " << r.err;
  EXPECT_EQ(r.err.find("terminate called"), std::string::npos) << r.err;
}

TEST(CliErrors, MissingModelPath) {
  auto r = test::run_process(kVigil + " detect --model /nonexistent/model.onnx " + kDog);
  expect_bad_input(r, "/nonexistent/model.onnx");
  EXPECT_NE(r.err.find("no such file"), std::string::npos);
}

TEST(CliErrors, TextFileNamedOnnx) {
  const auto path = write_file("notes.onnx", "hello, I am not a model\n");
  auto r = test::run_process(kVigil + " detect --model " + path + " " + kDog);
  expect_bad_input(r, path);
  EXPECT_NE(r.err.find("ONNX model"), std::string::npos) << r.err;
}

TEST(CliErrors, TextFileThatLooksLikeProtobuf) {
  // Starts with a byte that is a valid protobuf tag: ONNX Runtime itself rejects it.
  const auto path = write_file("tricky.onnx", "\x0a\x05hello world, still not a model");
  auto r = test::run_process(kVigil + " detect --model " + path + " " + kDog);
  expect_bad_input(r, path);
}

TEST(CliErrors, UnsupportedOutputLayout) {
  const std::string path = std::string(VIGIL_TEST_MODELS_DIR) + "/unsupported.onnx";
  auto r = test::run_process(kVigil + " detect --model " + path + " " + kDog);
  expect_bad_input(r, path);
  EXPECT_NE(r.err.find("unsupported output layout"), std::string::npos);
}

TEST(CliErrors, NotAnImageAndMissingImageDoNotStopTheGoodOnes) {
  const auto text = write_file("photo.jpg", "this is text, not a JPEG");
  const auto empty = write_file("empty.png", "");
  const std::string missing = "/nonexistent/cat.jpg";
  auto r = test::run_process(kVigil + " detect --json --model " + kModel + " " + text + " " + missing + " " + empty +
                             " " + kDog);
  expect_bad_input(r, text);
  EXPECT_NE(r.err.find(missing), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(empty), std::string::npos) << r.err;
  // The good image was still processed: exactly one JSON line, for dog.jpg.
  ASSERT_FALSE(r.out.empty());
  auto j = nlohmann::json::parse(r.out.substr(0, r.out.find('\n')));
  EXPECT_EQ(j["file"], kDog);
  EXPECT_EQ(j["width"], 768);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
}

TEST(CliErrors, UnknownClassAndDevice) {
  auto r = test::run_process(kVigil + " detect --model " + kModel + " --classes person,unicorn " + kDog);
  expect_bad_input(r, "unicorn");
  auto d = test::run_process(kVigil + " detect --model " + kModel + " --device quantum " + kDog);
  expect_bad_input(d, "quantum");
}

TEST(CliErrors, EmptyDirectory) {
  const std::string dir = test::tmp_dir("cli_errors/empty_dir");
  auto r = test::run_process(kVigil + " detect --model " + kModel + " " + dir);
  expect_bad_input(r, dir);
}

TEST(Cli, AnnotatedImagesAndTable) {
  const std::string out = test::tmp_dir("cli_annotated");
  std::filesystem::remove(out + "/dog.jpg");
  auto r = test::run_process(kVigil + " detect --model " + kModel + " -o " + out + " " + kDog);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("person"), std::string::npos) << r.out;  // the test model's class 0
  ASSERT_TRUE(std::filesystem::exists(out + "/dog.jpg"));
  std::ifstream f(out + "/dog.jpg", std::ios::binary);
  unsigned char soi[2] = {};
  f.read(reinterpret_cast<char*>(soi), 2);
  EXPECT_EQ(soi[0], 0xFF);
  EXPECT_EQ(soi[1], 0xD8);
}

}  // namespace
}  // namespace vigil
