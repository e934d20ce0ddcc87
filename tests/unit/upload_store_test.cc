// UploadStore and the in-process POST /api/uploads: names, .part then
// rename, restarts by offset, the size limit, no overwrite (real files in a
// temp directory).
#include "server/upload_routes.h"
#include "server/upload_store.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace vigil {
namespace {

namespace fs = std::filesystem;

class UploadStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vigil-upload-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string read(const std::string& name) {
    std::ifstream in(fs::path(dir_) / name, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::string dir_;
};

TEST(UploadName, AcceptsVideoBasenamesOnly) {
  EXPECT_TRUE(check_upload_name("lobby-1_cam.MP4"));
  for (const char* bad : {"", "../x.mp4", "a/b.mp4", ".x.mp4", "x.txt", "x", "a b.mp4", "x.mp4.part", "x.mp4\n"}) {
    auto r = check_upload_name(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find("name"), std::string::npos) << r.error().message;
  }
  EXPECT_FALSE(check_upload_name(std::string(kMaxUploadName, 'a') + ".mp4"));
}

TEST_F(UploadStoreTest, WritesPartThenRenames) {
  UploadStore store(dir_, 1000);
  auto f = store.begin("a.mp4", std::nullopt);
  ASSERT_TRUE(f) << f.error().message;
  ASSERT_TRUE((*f)->write("hello", 5));
  EXPECT_TRUE(fs::exists(fs::path(dir_) / "a.mp4.part"));
  EXPECT_FALSE(fs::exists(fs::path(dir_) / "a.mp4"));
  auto again = store.begin("a.mp4", std::nullopt);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("another request"), std::string::npos);
  auto done = (*f)->finish();
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_TRUE(done->complete);
  EXPECT_EQ(done->bytes, 5u);
  EXPECT_EQ(read("a.mp4"), "hello");
  EXPECT_FALSE(fs::exists(fs::path(dir_) / "a.mp4.part"));
  auto exists = store.begin("a.mp4", std::uint64_t{0});
  ASSERT_FALSE(exists);
  EXPECT_EQ(exists.error().code, ErrorCode::kConflict);
  EXPECT_EQ(read("a.mp4"), "hello");
}

TEST_F(UploadStoreTest, RestartsFromTheStoredOffset) {
  UploadStore store(dir_, 1000);
  {
    auto f = store.begin("cut.avi", std::nullopt);
    ASSERT_TRUE(f);
    ASSERT_TRUE((*f)->write("abc", 3));
  }  // cut: the .part stays
  auto s = store.status("cut.avi");
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->complete);
  EXPECT_EQ(s->bytes, 3u);
  auto no_offset = store.begin("cut.avi", std::nullopt);
  ASSERT_FALSE(no_offset);
  EXPECT_NE(no_offset.error().message.find("offset=3"), std::string::npos) << no_offset.error().message;
  auto wrong = store.begin("cut.avi", std::uint64_t{2});
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ErrorCode::kConflict);
  auto f = store.begin("cut.avi", std::uint64_t{3});
  ASSERT_TRUE(f) << f.error().message;
  ASSERT_TRUE((*f)->write("def", 3));
  ASSERT_TRUE((*f)->finish());
  EXPECT_EQ(read("cut.avi"), "abcdef");
  EXPECT_FALSE(store.status("none.avi"));
}

TEST_F(UploadStoreTest, RoutesRefuseTooLargeAndNoMediaDir) {
  UploadRoutes routes(dir_, 4);
  EXPECT_EQ(routes.post_whole("name=a.mp4", "12345").status, 413);
  EXPECT_NE(routes.post_whole("name=a.mp4", "12345").body.find("server.upload_max_mb"), std::string::npos);
  EXPECT_FALSE(fs::exists(fs::path(dir_) / "a.mp4.part"));
  EXPECT_EQ(routes.post_whole("name=a.mp4", "1234").status, 201);
  EXPECT_EQ(routes.post_whole("name=b.mp4&offset=x", "1").status, 400);
  EXPECT_EQ(routes.post_whole("name=b.txt", "1").status, 400);
  EXPECT_EQ(routes.status("a.mp4").status, 200);
  UploadRoutes none("", 4);
  const ApiResponse r = none.post_whole("name=a.mp4", "1");
  EXPECT_EQ(r.status, 409);
  EXPECT_NE(r.body.find("--media-dir"), std::string::npos);
}

}  // namespace
}  // namespace vigil
