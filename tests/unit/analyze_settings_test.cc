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

TEST(AnalyzeSettings, AnHttpUrlIsKeptAsGivenAndNamedByItsLastPathPart) {
  AnalyzeRequest req;
  req.video = "https://media.example/rec/Lobby%20Cam.mp4?v=2#t=1";
  auto s = make_analyze_settings(req, nullptr, "", "model.onnx");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->video, req.video);  // not made absolute like a path
  EXPECT_EQ(s->name, "Lobby%20Cam.mp4");
  EXPECT_EQ(s->stream.id, "lobby_20cam");
  EXPECT_EQ(video_file_name("http://host:8080"), "");
  EXPECT_EQ(video_file_name("HTTP://host/a/b.mkv"), "b.mkv");
  EXPECT_TRUE(is_http_video_url("HTTPS://x/y"));
  EXPECT_FALSE(is_http_video_url("/srv/http://x"));
}

TEST(AnalyzeSettings, LiveSourcesAndUrlsWithSecretsAreRefusedNamingThem) {
  AnalyzeRequest req;
  req.video = "rtsp://cam.local/live";
  auto s = make_analyze_settings(req, nullptr, "", "model.onnx");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message,
            "video rtsp://cam.local/live: offline analysis reads files and http(s) URLs; a live source (rtsp, rtmp, "
            "udp...) goes in `vigil run`");
  req.video = "https://me:hush@media.example/a.mp4";
  s = make_analyze_settings(req, nullptr, "", "model.onnx");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("a URL with a password or token"), std::string::npos);
  EXPECT_EQ(s.error().message.find("hush"), std::string::npos) << s.error().message;
  // A relative path with "://" further on is still a path.
  req.video = "clips/a://b.mp4";
  EXPECT_TRUE(make_analyze_settings(req, nullptr, "", "model.onnx"));
}

TEST(AnalyzeSettings, TheConfigTextOfTheJobKeyHasNoSecrets) {
  AnalyzeRequest req;
  req.video = "/rec/a.mp4";
  const std::string text =
      "describe: {captioner: vlm, endpoint: 'http://vlm:8081', api_key: sk-live-123}\n"
      "mqtt:\n  url: mqtt://127.0.0.1:1883\n  password: \"hunter2\"\n  username: me\n"
      "webhooks: [{url: 'http://hook/x', headers: {Authorization: Bearer abc.def}}]\n"
      "jobs: {redis: 'redis://:redispw@10.0.0.5:6379/0'}\n"
      "streams:\n  - id: cam\n    url: rtsp://admin:campw@10.0.0.7/live\n"
      "    describe: {api_key: ${VLM_KEY}}\n";
  auto s = make_analyze_settings(req, nullptr, text, "model.onnx");
  ASSERT_TRUE(s) << s.error().message;
  for (const char* secret : {"sk-live-123", "hunter2", "abc.def", "redispw", "campw"}) {
    EXPECT_EQ(s->config_text.find(secret), std::string::npos) << secret << " in\n" << s->config_text;
    EXPECT_EQ(s->key().find(secret), std::string::npos) << secret;
  }
  EXPECT_NE(s->config_text.find("api_key: ${VLM_KEY}"), std::string::npos) << "a reference is not a secret";
  EXPECT_NE(s->config_text.find("username: me"), std::string::npos);
  EXPECT_NE(s->config_text.find("endpoint: 'http://vlm:8081'"), std::string::npos);
  // A config without secrets is its own text: the keys of earlier jobs stay valid.
  const std::string plain = "defaults: {conf: 0.4}\nstreams:\n  - id: cam\n    url: /rec/a.mp4\n";
  auto p = make_analyze_settings(req, nullptr, plain, "model.onnx");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->config_text, plain);
}

}  // namespace
}  // namespace vigil
