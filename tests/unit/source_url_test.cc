// Secrets in source URLs never reach what is shown or stored.
#include <gtest/gtest.h>

#include "media/source_url.h"

namespace vigil {
namespace {

TEST(RedactUrl, ReplacesThePasswordOfTheUserinfo) {
  EXPECT_EQ(redact_url("rtsp://admin:s3cret@10.0.0.5:554/Streaming/101"), "rtsp://admin:***@10.0.0.5:554/Streaming/101");
  EXPECT_EQ(redact_url("rtsps://u:p@cam"), "rtsps://u:***@cam");
  EXPECT_EQ(redact_url("http://a:b@host/x.m3u8?x=1"), "http://a:***@host/x.m3u8?x=1");
}

TEST(RedactUrl, APasswordWithAtSignsIsRedactedWhole) {
  EXPECT_EQ(redact_url("rtsp://admin:p@ss@w0rd@host/live"), "rtsp://admin:***@host/live");
}

TEST(RedactUrl, SecretQueryValuesAreRedacted) {
  EXPECT_EQ(redact_url("http://cam/video.cgi?user=admin&password=x1&res=hd"),
            "http://cam/video.cgi?user=admin&password=***&res=hd");
  EXPECT_EQ(redact_url("https://h/s?TOKEN=abc#frag"), "https://h/s?TOKEN=***#frag");
}

TEST(RedactUrl, UrlsWithoutSecretsAndPathsAreUnchanged) {
  EXPECT_EQ(redact_url("rtsp://host:8554/cam"), "rtsp://host:8554/cam");
  EXPECT_EQ(redact_url("rtsp://user@host/cam"), "rtsp://user@host/cam");
  EXPECT_EQ(redact_url("/videos/My Video.mp4"), "/videos/My Video.mp4");
  EXPECT_EQ(redact_url("webcam:0"), "webcam:0");
  EXPECT_EQ(redact_url(""), "");
}

TEST(RedactUrlsIn, RedactsEveryUrlInsideText) {
  EXPECT_EQ(redact_urls_in("source 'rtsp://a:b@h/1': connection refused (rtsp://c:d@h/2)"),
            "source 'rtsp://a:***@h/1': connection refused (rtsp://c:***@h/2)");
  EXPECT_EQ(redact_urls_in("no url here"), "no url here");
  EXPECT_EQ(redact_urls_in("odd :// text"), "odd :// text");
}

TEST(ParseSourceUrl, DisplayIsRedactedAndErrorsNeverShowThePassword) {
  auto spec = parse_source_url("rtsp://admin:s3cret@host/live");
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->ffmpeg_url, "rtsp://admin:s3cret@host/live");
  EXPECT_EQ(spec->display, "rtsp://admin:***@host/live");
  auto bad = parse_source_url("ftp://admin:s3cret@host/x");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.find("s3cret"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("ftp://admin:***@host/x"), std::string::npos) << bad.error().message;
}

}  // namespace
}  // namespace vigil
