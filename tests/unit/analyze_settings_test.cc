// make_analyze_settings: file names are not stream ids.
#include <gtest/gtest.h>

#include "jobs/analyze_settings.h"

namespace vigil {
namespace {

TEST(StreamIdForFile, SlugOfTheStem) {
  EXPECT_EQ(stream_id_for_file("/rec/Lobby Cam.2024-01-01.mp4"), "lobby_cam_2024-01-01");
  EXPECT_EQ(stream_id_for_file("My Video.mp4"), "my_video");
  EXPECT_EQ(stream_id_for_file("cam_1-a.mkv"), "cam_1-a");
  EXPECT_EQ(stream_id_for_file("/rec/"), "stream");  // no stem
  EXPECT_EQ(stream_id_for_file(std::string(60, 'a') + ".mp4"), "stream");
}

TEST(AnalyzeSettings, FileNameWithSpacesAndDotsKeepsItsNameAndGetsASlugId) {
  AnalyzeRequest req;
  req.video = "/rec/Lobby Cam.2024-01-01.mp4";
  auto s = make_analyze_settings(req, nullptr, "", "model.onnx");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->name, "Lobby Cam.2024-01-01.mp4");
  EXPECT_EQ(s->stream.id, "lobby_cam_2024-01-01");
  EXPECT_EQ(s->video, "/rec/Lobby Cam.2024-01-01.mp4");
  // Under a config: its stream's options, the file's id.
  EngineConfig cfg;
  cfg.streams.push_back(default_stream("lobby", "/rec/Lobby Cam.2024-01-01.mp4"));
  cfg.streams.back().conf = 0.6F;
  auto c = make_analyze_settings(req, &cfg, "streams: ...", "model.onnx");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->stream.id, "lobby_cam_2024-01-01");
  EXPECT_FLOAT_EQ(c->stream.conf, 0.6F);
}

}  // namespace
}  // namespace vigil
