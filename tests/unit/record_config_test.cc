// The `record:` options (config/engine_config.h: RecordConfig per stream,
// RecorderConfig for the recorder), retention's choice of files
// (record/recorder.h: files_to_expire) and the Range header of the event
// media routes (server/event_routes.h): pure functions, no threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "config/engine_config.h"
#include "record/recorder.h"
#include "server/event_routes.h"

namespace vigil {
namespace {

const std::string kStreams = "streams:\n  - {id: cam1, url: /tmp/a.mp4}\n";

std::string error_of(const std::string& yaml) {
  auto c = parse_config(yaml);
  return c ? std::string() : c.error().message;
}

TEST(RecordConfig, OffUnlessConfigured) {
  auto c = parse_config(kStreams);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->defaults.record.enabled());
  EXPECT_FALSE(c->streams[0].record.enabled());
  EXPECT_EQ(c->record.dir, "vigil-media");
}

TEST(RecordConfig, TopLevelSetsEveryStreamAndAStreamOverridesKeys) {
  auto c = parse_config(
      "record: {snapshots: true, clips: true, pre_s: 3, post_s: 4, kinds: [zone_enter], dir: /tmp/m, "
      "retention: {days: 7, max_gb: 2.5}, queue: 10, max_clips: 3}\n"
      "streams:\n"
      "  - {id: cam1, url: /tmp/a.mp4}\n"
      "  - {id: cam2, url: /tmp/b.mp4, record: {clips: false, post_s: 1}}\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->streams[0].record.snapshots);
  EXPECT_TRUE(c->streams[0].record.clips);
  EXPECT_DOUBLE_EQ(c->streams[0].record.pre_s, 3);
  EXPECT_DOUBLE_EQ(c->streams[0].record.post_s, 4);
  EXPECT_EQ(c->streams[0].record.kinds, std::vector<std::string>{"zone_enter"});
  EXPECT_TRUE(c->streams[1].record.snapshots);
  EXPECT_FALSE(c->streams[1].record.clips);
  EXPECT_DOUBLE_EQ(c->streams[1].record.pre_s, 3);
  EXPECT_DOUBLE_EQ(c->streams[1].record.post_s, 1);
  EXPECT_EQ(c->record.dir, "/tmp/m");
  EXPECT_DOUBLE_EQ(c->record.retention.days, 7);
  EXPECT_DOUBLE_EQ(c->record.retention.max_gb, 2.5);
  EXPECT_EQ(c->record.queue, 10);
  EXPECT_EQ(c->record.max_clips, 3);
}

TEST(RecordConfig, DefaultsRecordOverridesTheTopLevel) {
  auto c = parse_config("record: {clips: true, pre_s: 3}\ndefaults: {record: {pre_s: 1}}\n" + kStreams);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->streams[0].record.clips);
  EXPECT_DOUBLE_EQ(c->streams[0].record.pre_s, 1);
}

TEST(RecordConfig, EachBadValueIsAnErrorNamingItsKey) {
  const std::pair<std::string, std::string> cases[] = {
      {"record: {pre_s: -1}\n", "record.pre_s: must be in [0, 300] (got -1)"},
      {"record: {post_s: 301}\n", "record.post_s: must be in [0, 300] (got 301)"},
      {"record: {kinds: [zone_enter, bogus]}\n", "record.kinds[1]: 'bogus' is not a recordable event kind"},
      {"record: {kinds: [caption]}\n", "record.kinds[0]: 'caption' is not a recordable event kind"},
      {"record: {snapshots: maybe}\n", "record.snapshots"},
      {"record: {dir: \"\"}\n", "record.dir: must not be empty"},
      {"record: {retention: {max_gb: -1}}\n", "record.retention.max_gb"},
      {"record: {retention: {days: -2}}\n", "record.retention.days"},
      {"record: {retention: {weeks: 2}}\n", "record.retention.weeks: unknown option"},
      {"record: {queue: 0}\n", "record.queue"},
      {"record: {max_clips: 0}\n", "record.max_clips"},
      {"record: {pre: 5}\n", "record.pre: unknown option"},
      {"defaults: {record: {dir: /tmp}}\n", "defaults.record.dir: unknown option"},
  };
  for (const auto& [yaml, expected] : cases) {
    const std::string e = error_of(yaml + kStreams);
    EXPECT_NE(e.find(expected), std::string::npos) << yaml << " gave: " << e;
  }
  const std::string e = error_of("streams:\n  - {id: cam1, url: /tmp/a.mp4, record: {kinds: [stream_down]}}\n");
  EXPECT_NE(e.find("streams[0].record.kinds[0]: 'stream_down' is not a recordable event kind"), std::string::npos) << e;
}

TEST(RecordConfig, StreamViewAndDocsListTheKeys) {
  auto c = parse_config("record: {snapshots: true}\n" + kStreams);
  ASSERT_TRUE(c);
  const ConfigNode n = stream_config_node(c->streams[0]);
  const ConfigNode* r = n.find("record");
  ASSERT_NE(r, nullptr);
  ASSERT_NE(r->find("snapshots"), nullptr);
  const auto patch = patchable_stream_keys();
  EXPECT_NE(std::find(patch.begin(), patch.end(), "record"), patch.end());
  const std::string md = config_doc_markdown();
  for (const char* key : {"`record.snapshots`", "`record.pre_s`", "`record.dir`", "`record.retention.max_gb`"})
    EXPECT_NE(md.find(key), std::string::npos) << key;
}

// ---- retention -------------------------------------------------------------------

std::vector<MediaFile> four_events(double now) {
  std::vector<MediaFile> files;
  for (int i = 1; i <= 4; ++i) {
    const std::string stem = "/m/cam/s/cam-" + std::to_string(i);
    const double t = now - 1000 + i * 100;  // cam-1 oldest
    files.push_back({stem + ".jpg", 1000, t});
    files.push_back({stem + ".mp4", 3000, t + 5});
  }
  return files;
}

TEST(Retention, BySizeTheOldestEventsGoFirstWithBothFiles) {
  const double now = 1e9;
  RetentionConfig r;
  r.max_gb = 9000 / 1e9;  // 16000 bytes held: two events must go
  const auto out = files_to_expire(four_events(now), r, now);
  const std::vector<std::string> expected{"/m/cam/s/cam-1.jpg", "/m/cam/s/cam-1.mp4", "/m/cam/s/cam-2.jpg",
                                          "/m/cam/s/cam-2.mp4"};
  EXPECT_EQ(out, expected);
}

TEST(Retention, ByAgeOnlyOlderEvents) {
  const double now = 1e9;
  RetentionConfig r;
  r.days = 750.0 / 86400;  // older than 750 s: cam-1 (t = now - 895) and cam-2 (now - 795)
  const auto out = files_to_expire(four_events(now), r, now);
  EXPECT_EQ(out.size(), 4u);
  EXPECT_EQ(out.front(), "/m/cam/s/cam-1.jpg");
  EXPECT_EQ(out.back(), "/m/cam/s/cam-2.mp4");
}

TEST(Retention, NoLimitsDeleteNothing) {
  EXPECT_TRUE(files_to_expire(four_events(1e9), RetentionConfig{}, 1e9).empty());
  RetentionConfig big;
  big.max_gb = 1;
  big.days = 30;
  EXPECT_TRUE(files_to_expire(four_events(1e9), big, 1e9).empty());
}

// ---- Range ------------------------------------------------------------------------

TEST(ByteRange, ParsesTheThreeFormsAndRefusesTheRest) {
  auto r = parse_byte_range("bytes=0-99", 1000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 0u);
  EXPECT_EQ(r->last, 99u);
  r = parse_byte_range("bytes=900-", 1000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 900u);
  EXPECT_EQ(r->last, 999u);
  r = parse_byte_range("bytes=-100", 1000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 900u);
  r = parse_byte_range("bytes=10-5000", 1000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->last, 999u);
  for (const char* bad : {"bytes=1000-", "bytes=5-2", "bytes=a-b", "items=0-1", "bytes=0-1,5-6", "bytes=-0", "bytes="})
    EXPECT_FALSE(parse_byte_range(bad, 1000)) << bad;
}

}  // namespace
}  // namespace vigil
