// Schema 4 of the event store: where an event's media is (snapshot, clip)
// and whether retention deleted it (expired); a schema-3 file is upgraded in
// place with its rows kept. Real SQLite files in the test's temp folder.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>

#include "store/event_json.h"
#include "store/sqlite_store.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;

std::string fresh(const std::string& name) {
  const fs::path dir = fs::path(VIGIL_TEST_TMP) / "event_media_store";
  fs::create_directories(dir);
  const fs::path p = dir / name;
  for (const char* ext : {"", "-wal", "-shm"}) fs::remove(p.string() + ext);
  return p.string();
}

Event event(const std::string& id, const std::string& snapshot, const std::string& clip) {
  Event e;
  e.id = id;
  e.kind = EventKind::kZoneEnter;
  e.stream = "cam";
  e.pts = 1.5;
  e.wall_time = 1000;
  e.zone = "plaza";
  e.snapshot = snapshot;
  e.clip = clip;
  return e;
}

TEST(EventMediaStore, KeepsPathsFindsByIdAndMarksExpired) {
  const std::string path = fresh("media.db");
  auto store = SqliteStore::open(path);
  ASSERT_TRUE(store) << store.error().message;
  ASSERT_TRUE((*store)->add(event("cam-1", "/m/cam-1.jpg", "/m/cam-1.mp4")));
  ASSERT_TRUE((*store)->add(event("cam-2", "/m/cam-2.jpg", "/m/cam-1.mp4")));  // shares cam-1's clip
  ASSERT_TRUE((*store)->add(event("cam-3", "", "")));
  (*store)->flush();
  auto found = (*store)->find("cam-2");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->snapshot, "/m/cam-2.jpg");
  EXPECT_EQ((*found)->clip, "/m/cam-1.mp4");
  EXPECT_FALSE((*found)->expired);
  auto none = (*store)->find("cam-9");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);

  // The clip of cam-1 (shared by cam-2) goes: both rows are expired, cam-3 is not.
  auto changed = (*store)->mark_expired({"/m/cam-1.jpg", "/m/cam-1.mp4"});
  ASSERT_TRUE(changed) << changed.error().message;
  EXPECT_EQ(*changed, 2);
  for (const char* id : {"cam-1", "cam-2"}) {
    auto e = (*store)->find(id);
    ASSERT_TRUE(e && *e);
    EXPECT_TRUE((*e)->expired) << id;
  }
  auto kept = (*store)->find("cam-3");
  ASSERT_TRUE(kept && *kept);
  EXPECT_FALSE((*kept)->expired);
  // The JSON says what the event has, not where it is.
  const auto j = to_json(**(*store)->find("cam-1"));
  EXPECT_EQ(j.value("has_snapshot", false), true);
  EXPECT_EQ(j.value("has_clip", false), true);
  EXPECT_EQ(j.value("expired", false), true);
  EXPECT_EQ(j.dump().find("/m/"), std::string::npos) << j.dump();
  const auto plain = to_json(**kept);
  EXPECT_FALSE(plain.contains("has_snapshot"));
  EXPECT_FALSE(plain.contains("has_clip"));
  EXPECT_FALSE(plain.contains("expired"));
}

TEST(EventMediaStore, SchemaThreeFileIsUpgradedWithItsRows) {
  const std::string path = fresh("v3.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const char* v3 =
      "CREATE TABLE events(id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, stream TEXT NOT NULL, "
      "pts REAL NOT NULL, wall_time REAL NOT NULL, track_id INTEGER, class TEXT, class_id INTEGER, "
      "zone TEXT, line TEXT, direction TEXT, dwell_s REAL, text TEXT, latency_ms REAL, captioner TEXT, event_id TEXT);"
      "INSERT INTO events(kind, stream, pts, wall_time, event_id) VALUES('zone_enter', 'cam', 2.0, 1000, 'cam-7');"
      "PRAGMA user_version = 3;";
  ASSERT_EQ(sqlite3_exec(db, v3, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);

  auto store = SqliteStore::open(path);
  ASSERT_TRUE(store) << store.error().message;
  auto old = (*store)->find("cam-7");
  ASSERT_TRUE(old && *old);
  EXPECT_TRUE((*old)->snapshot.empty());
  EXPECT_TRUE((*old)->clip.empty());
  EXPECT_FALSE((*old)->expired);
  ASSERT_TRUE((*store)->add(event("cam-8", "/m/a.jpg", "")));
  (*store)->flush();
  auto added = (*store)->find("cam-8");
  ASSERT_TRUE(added && *added);
  EXPECT_EQ((*added)->snapshot, "/m/a.jpg");
  store->reset();

  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), SqliteStore::kSchemaVersion);
  EXPECT_EQ(SqliteStore::kSchemaVersion, 4);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

}  // namespace
}  // namespace vigil
