#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>
#include <vector>

namespace vigil {
namespace {

namespace fs = std::filesystem;

// A raw connection for what the store must not be trusted to report about
// itself (journal mode, user_version) and for holding the write lock.
class RawDb {
 public:
  explicit RawDb(const fs::path& path) { EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK); }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  void exec(const std::string& sql) {
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << sql << ": " << (err ? err : "");
    sqlite3_free(err);
  }
  std::string text(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sql;
    std::string out;
    if (s && sqlite3_step(s) == SQLITE_ROW) out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

class SqliteStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(testing::TempDir()) /
           ("vigil-store-test-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "events.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<SqliteStore> open_ok(SqliteStoreOptions options = {}) {
    auto store = SqliteStore::open(path_, options);
    EXPECT_TRUE(store.has_value()) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }

  static Event event(const std::string& stream, EventKind kind, double wall_time, const std::string& zone = "") {
    Event e;
    e.kind = kind;
    e.stream = stream;
    e.pts = wall_time - 1700000000.0;
    e.wall_time = wall_time;
    e.zone = zone;
    return e;
  }

  static std::vector<double> times(const std::vector<Event>& events) {
    std::vector<double> out;
    for (const auto& e : events) out.push_back(e.wall_time);
    return out;
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(SqliteStoreTest, TenThousandEventsFromFourThreadsAreAllStored) {
  auto store = open_ok();
  ASSERT_TRUE(store);
  std::vector<std::thread> threads;
  std::atomic<int> accepted{0};
  const std::string streams[] = {"cam-0", "cam-1", "cam-2", "cam-3"};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2500; ++i) {
        Event e = event(streams[t], EventKind::kTrackNew, 1700000000.0 + i);
        e.track_id = t * 2500 + i;
        if (store->add(e)) ++accepted;
      }
    });
  for (auto& th : threads) th.join();
  store->flush();
  EXPECT_EQ(accepted.load(), 10000);
  EXPECT_EQ(store->dropped(), 0U);
  EXPECT_EQ(store->errors(), 0U);
  EXPECT_EQ(store->stored(), 10000U);
  EXPECT_EQ(store->queued(), 0U);
  const auto n = store->count();
  ASSERT_TRUE(n.has_value()) << n.error().message;
  EXPECT_EQ(*n, 10000);

  EventQuery q;
  q.stream = "cam-2";
  q.limit = 10000;
  const auto cam2 = store->query(q);
  ASSERT_TRUE(cam2.has_value()) << cam2.error().message;
  ASSERT_EQ(cam2->size(), 2500U);
  std::set<std::int64_t> ids;
  for (const auto& e : *cam2) ids.insert(e.track_id);
  EXPECT_EQ(ids.size(), 2500U);
  EXPECT_EQ(*ids.begin(), 5000);
  EXPECT_EQ(*ids.rbegin(), 7499);
}

TEST_F(SqliteStoreTest, EveryFieldSurvivesAndNullsStayAbsent) {
  auto store = open_ok();
  ASSERT_TRUE(store);
  Event cross = event("gate", EventKind::kLineCross, 1700000001.5);
  cross.track_id = 3;
  cross.class_id = 2;
  cross.class_name = "car";
  cross.line = "north";
  cross.direction = "out";
  Event exit = event("gate", EventKind::kZoneExit, 1700000002.25, "lot");
  exit.dwell_s = 12.5;
  exit.track_id = 4;
  Event down = event("gate", EventKind::kStreamDown, 1700000003.0);
  down.text = "timeout; reconnecting in 2 s";
  store->add(cross);
  store->add(exit);
  store->add(down);
  store->flush();

  EventQuery q;
  const auto got = store->query(q);
  ASSERT_TRUE(got.has_value()) << got.error().message;
  ASSERT_EQ(got->size(), 3U);
  const Event& d = (*got)[0];
  EXPECT_EQ(d.kind, EventKind::kStreamDown);
  EXPECT_EQ(d.text, down.text);
  EXPECT_EQ(d.track_id, -1);
  EXPECT_EQ(d.class_id, -1);
  EXPECT_EQ(d.class_name, "");
  const Event& x = (*got)[1];
  EXPECT_EQ(x.kind, EventKind::kZoneExit);
  EXPECT_EQ(x.zone, "lot");
  EXPECT_DOUBLE_EQ(x.dwell_s, 12.5);
  EXPECT_EQ(x.track_id, 4);
  const Event& c = (*got)[2];
  EXPECT_EQ(c.kind, EventKind::kLineCross);
  EXPECT_EQ(c.stream, "gate");
  EXPECT_DOUBLE_EQ(c.pts, 1.5);
  EXPECT_DOUBLE_EQ(c.wall_time, 1700000001.5);
  EXPECT_EQ(c.track_id, 3);
  EXPECT_EQ(c.class_id, 2);
  EXPECT_EQ(c.class_name, "car");
  EXPECT_EQ(c.line, "north");
  EXPECT_EQ(c.direction, "out");
  EXPECT_EQ(c.zone, "");
  EXPECT_DOUBLE_EQ(c.dwell_s, 0);

  RawDb raw(path_);
  EXPECT_EQ(raw.text("SELECT count(*) FROM events WHERE kind = 'line_cross' AND zone IS NULL AND dwell_s IS NULL "
                     "AND text IS NULL"),
            "1");
}

TEST_F(SqliteStoreTest, QueryFiltersAndNewestFirst) {
  auto store = open_ok();
  ASSERT_TRUE(store);
  const double t0 = 1700000000.0;
  // Added out of time order on purpose: "newest" is wall_time, not insertion.
  store->add(event("a", EventKind::kZoneEnter, t0 + 3, "door"));
  store->add(event("a", EventKind::kZoneExit, t0 + 5, "door"));
  store->add(event("b", EventKind::kZoneEnter, t0 + 1, "door"));
  store->add(event("b", EventKind::kZoneEnter, t0 + 4, "yard"));
  store->add(event("a", EventKind::kTrackNew, t0 + 2));
  store->add(event("b", EventKind::kStreamUp, t0 + 0));
  store->flush();

  const auto run = [&](EventQuery q) {
    const auto r = store->query(q);
    EXPECT_TRUE(r.has_value()) << r.error().message;
    return r ? times(*r) : std::vector<double>{};
  };
  EventQuery all;
  EXPECT_EQ(run(all), (std::vector<double>{t0 + 5, t0 + 4, t0 + 3, t0 + 2, t0 + 1, t0 + 0}));
  EventQuery by_stream;
  by_stream.stream = "a";
  EXPECT_EQ(run(by_stream), (std::vector<double>{t0 + 5, t0 + 3, t0 + 2}));
  EventQuery by_zone;
  by_zone.zone = "door";
  EXPECT_EQ(run(by_zone), (std::vector<double>{t0 + 5, t0 + 3, t0 + 1}));
  EventQuery by_kind;
  by_kind.kind = "zone_enter";
  EXPECT_EQ(run(by_kind), (std::vector<double>{t0 + 4, t0 + 3, t0 + 1}));
  EventQuery since;
  since.since = t0 + 3;
  EXPECT_EQ(run(since), (std::vector<double>{t0 + 5, t0 + 4, t0 + 3}));
  EventQuery limited;
  limited.limit = 2;
  EXPECT_EQ(run(limited), (std::vector<double>{t0 + 5, t0 + 4}));
  EventQuery combined;
  combined.stream = "b";
  combined.zone = "door";
  combined.kind = "zone_enter";
  combined.since = t0;
  EXPECT_EQ(run(combined), (std::vector<double>{t0 + 1}));
  EventQuery injection;
  injection.stream = "a' OR '1'='1";
  EXPECT_TRUE(run(injection).empty());
  EventQuery none;
  none.stream = "c";
  EXPECT_TRUE(run(none).empty());
}

TEST_F(SqliteStoreTest, BadQueriesAreRejected) {
  auto store = open_ok();
  ASSERT_TRUE(store);
  for (int limit : {0, -1, 10001}) {
    EventQuery q;
    q.limit = limit;
    const auto r = store->query(q);
    ASSERT_FALSE(r.has_value()) << limit;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find("limit"), std::string::npos);
  }
  EventQuery max;
  max.limit = 10000;
  EXPECT_TRUE(store->query(max).has_value());
  EventQuery kind;
  kind.kind = "explosion";
  const auto r = store->query(kind);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("explosion"), std::string::npos);
}

TEST_F(SqliteStoreTest, ReopenKeepsTheData) {
  {
    auto store = open_ok();
    ASSERT_TRUE(store);
    for (int i = 0; i < 25; ++i) store->add(event("cam", EventKind::kTrackNew, 1700000000.0 + i));
  }  // no flush(): the destructor drains the queue
  auto store = open_ok();
  ASSERT_TRUE(store);
  const auto n = store->count();
  ASSERT_TRUE(n.has_value()) << n.error().message;
  EXPECT_EQ(*n, 25);
  store->add(event("cam", EventKind::kTrackLost, 1700000100.0));
  store->flush();
  EXPECT_EQ(*store->count(), 26);
  EventQuery q;
  q.limit = 1;
  EXPECT_EQ(store->query(q)->at(0).kind, EventKind::kTrackLost);
}

TEST_F(SqliteStoreTest, WalModeAndSchemaVersion) {
  auto store = open_ok();
  ASSERT_TRUE(store);
  RawDb raw(path_);
  EXPECT_EQ(raw.text("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw.text("PRAGMA user_version"), "4");
  EXPECT_EQ(raw.text("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' "
                     "AND name NOT LIKE 'sqlite_%'"),
            "7");
}

TEST_F(SqliteStoreTest, VersionOneFileIsUpgradedKeepingItsEvents) {
  {
    RawDb raw(path_);
    raw.exec("CREATE TABLE events(id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, stream TEXT NOT NULL, "
             "pts REAL NOT NULL, wall_time REAL NOT NULL, track_id INTEGER, class TEXT, class_id INTEGER, "
             "zone TEXT, line TEXT, direction TEXT, dwell_s REAL, text TEXT)");
    raw.exec("INSERT INTO events(kind, stream, pts, wall_time, zone) VALUES('zone_enter', 'cam1', 1.5, 100, 'door')");
    raw.exec("PRAGMA user_version = 1");
  }
  auto store = open_ok();
  ASSERT_TRUE(store);
  Event c;
  c.kind = EventKind::kCaption;
  c.stream = "cam1";
  c.pts = 2;
  c.wall_time = 101;
  c.text = "2 people in 'door'";
  c.latency_ms = 812.5;
  c.captioner = "vlm";
  ASSERT_TRUE(store->add_wait(c));
  store->flush();
  EventQuery q;
  q.limit = 10;
  auto rows = store->query(q);
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(rows->at(0).kind, EventKind::kCaption);
  EXPECT_EQ(rows->at(0).text, "2 people in 'door'");
  EXPECT_DOUBLE_EQ(rows->at(0).latency_ms, 812.5);
  EXPECT_EQ(rows->at(0).captioner, "vlm");
  EXPECT_EQ(rows->at(1).zone, "door");  // the old event is kept
  RawDb raw(path_);
  EXPECT_EQ(raw.text("PRAGMA user_version"), "4");
}

TEST_F(SqliteStoreTest, VersionTwoFileGainsEventIdsKeepingItsEvents) {
  {
    RawDb raw(path_);
    raw.exec("CREATE TABLE events(id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, stream TEXT NOT NULL, "
             "pts REAL NOT NULL, wall_time REAL NOT NULL, track_id INTEGER, class TEXT, class_id INTEGER, "
             "zone TEXT, line TEXT, direction TEXT, dwell_s REAL, text TEXT, latency_ms REAL, captioner TEXT)");
    raw.exec("INSERT INTO events(kind, stream, pts, wall_time, zone) VALUES('zone_enter', 'cam1', 1.5, 100, 'door')");
    raw.exec("PRAGMA user_version = 2");
  }
  auto store = open_ok();
  ASSERT_TRUE(store);
  Event e = event("cam1", EventKind::kZoneExit, 101);
  e.id = "cam1-7";
  ASSERT_TRUE(store->add_wait(e));
  store->flush();
  EventQuery q;
  q.limit = 10;
  auto rows = store->query(q);
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(rows->at(0).id, "cam1-7");
  EXPECT_EQ(rows->at(1).id, "");  // stored before ids: kept, without one
  EXPECT_EQ(rows->at(1).zone, "door");
  RawDb raw(path_);
  EXPECT_EQ(raw.text("PRAGMA user_version"), "4");
}

TEST_F(SqliteStoreTest, TextFileIsRefusedAndLeftUnchanged) {
  const std::string content = "these are my notes, not a database\nline two\n";
  { std::ofstream(path_, std::ios::binary) << content; }
  const auto store = SqliteStore::open(path_);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kBadInput);
  EXPECT_NE(store.error().message.find(path_), std::string::npos) << store.error().message;
  EXPECT_NE(store.error().message.find("not an SQLite database"), std::string::npos) << store.error().message;
  std::ifstream in(path_, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), content);
  EXPECT_FALSE(fs::exists(path_ + "-wal"));
  EXPECT_FALSE(fs::exists(path_ + "-journal"));
}

TEST_F(SqliteStoreTest, NewerSchemaVersionIsRefusedAndLeftUnchanged) {
  {
    RawDb raw(path_);
    raw.exec("CREATE TABLE events(id INTEGER PRIMARY KEY, kind TEXT, future TEXT)");
    raw.exec("INSERT INTO events(kind, future) VALUES('zone_enter', 'x')");
    raw.exec("PRAGMA user_version = 5");
  }
  const auto store = SqliteStore::open(path_);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(store.error().message.find(path_), std::string::npos) << store.error().message;
  EXPECT_NE(store.error().message.find("schema version 5"), std::string::npos) << store.error().message;
  RawDb raw(path_);
  EXPECT_EQ(raw.text("PRAGMA user_version"), "5");
  EXPECT_EQ(raw.text("SELECT future FROM events"), "x");
}

TEST_F(SqliteStoreTest, ForeignSqliteDatabaseIsRefused) {
  {
    RawDb raw(path_);
    raw.exec("CREATE TABLE recipes(name TEXT)");
  }
  const auto store = SqliteStore::open(path_);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kBadInput);
  EXPECT_NE(store.error().message.find("not a Vigil event store"), std::string::npos) << store.error().message;
  RawDb raw(path_);
  EXPECT_EQ(raw.text("SELECT count(*) FROM sqlite_master WHERE name = 'events'"), "0");
}

TEST_F(SqliteStoreTest, UnwritablePathsAreErrorsNamingThePath) {
  const auto missing_dir = (dir_ / "nope" / "events.db").string();
  const auto a = SqliteStore::open(missing_dir);
  ASSERT_FALSE(a.has_value());
  EXPECT_EQ(a.error().code, ErrorCode::kNotFound);
  EXPECT_NE(a.error().message.find(missing_dir), std::string::npos) << a.error().message;

  // A regular file where a directory should be: unwritable even for root.
  { std::ofstream(dir_ / "plain-file") << "x"; }
  const auto under_file = (dir_ / "plain-file" / "events.db").string();
  const auto b = SqliteStore::open(under_file);
  ASSERT_FALSE(b.has_value());
  EXPECT_NE(b.error().message.find(under_file), std::string::npos) << b.error().message;

  const auto c = SqliteStore::open(dir_.string());
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message.find(dir_.string()), std::string::npos) << c.error().message;

  EXPECT_FALSE(SqliteStore::open(":memory:").has_value());
  SqliteStoreOptions zero;
  zero.queue_capacity = 0;
  EXPECT_EQ(SqliteStore::open(path_, zero).error().code, ErrorCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, FlushMakesEventsVisibleToQuery) {
  SqliteStoreOptions slow;
  slow.batch_wait_ms = 60 * 1000;  // without flush() nothing would commit for a minute
  auto store = open_ok(slow);
  ASSERT_TRUE(store);
  for (int round = 1; round <= 3; ++round) {
    store->add(event("cam", EventKind::kCaption, 1700000000.0 + round));
    store->flush();
    const auto got = store->query(EventQuery{});
    ASSERT_TRUE(got.has_value()) << got.error().message;
    EXPECT_EQ(got->size(), static_cast<std::size_t>(round));
  }
  store->flush();  // nothing queued: returns at once
}

TEST_F(SqliteStoreTest, FullQueueDropsTheNewestAndCountsIt) {
  SqliteStoreOptions tiny;
  tiny.queue_capacity = 4;
  auto store = open_ok(tiny);
  ASSERT_TRUE(store);
  // Another connection holds the write lock, so the writer can take at most one
  // batch (<= capacity) and then waits; the queue fills behind it.
  RawDb holder(path_);
  holder.exec("BEGIN IMMEDIATE");
  std::vector<double> accepted;
  for (int i = 0; i < 100; ++i) {
    const double t = 1700000000.0 + i;
    if (store->add(event("cam", EventKind::kTrackNew, t))) accepted.push_back(t);
  }
  holder.exec("COMMIT");
  store->flush();
  EXPECT_LE(accepted.size(), 8U);
  EXPECT_GE(accepted.size(), 4U);
  EXPECT_EQ(store->dropped(), 100 - accepted.size());
  EXPECT_EQ(store->errors(), 0U);
  EXPECT_EQ(*store->count(), static_cast<std::int64_t>(accepted.size()));
  // Exactly the accepted events were stored, the first ones among them: the
  // queue kept what it had and refused the newcomers (drop-newest).
  EventQuery q;
  q.limit = 100;
  const auto got = store->query(q);
  ASSERT_TRUE(got.has_value()) << got.error().message;
  const std::vector<double> expected(accepted.rbegin(), accepted.rend());
  EXPECT_EQ(times(*got), expected);
  EXPECT_DOUBLE_EQ(accepted.front(), 1700000000.0);
}

TEST_F(SqliteStoreTest, FailedBatchIsCountedAndTheStoreGoesOn) {
  SqliteStoreOptions impatient;
  impatient.busy_timeout_ms = 0;
  auto store = open_ok(impatient);
  ASSERT_TRUE(store);
  {
    RawDb holder(path_);
    holder.exec("BEGIN IMMEDIATE");
    for (int i = 0; i < 5; ++i) store->add(event("cam", EventKind::kTrackNew, 1700000000.0 + i));
    store->flush();  // the writer's BEGIN fails at once: database is locked
    EXPECT_EQ(store->errors(), 5U);
    holder.exec("ROLLBACK");
  }
  store->add(event("cam", EventKind::kTrackLost, 1700000010.0));
  store->flush();
  EXPECT_EQ(store->errors(), 5U);
  EXPECT_EQ(*store->count(), 1);
}

TEST_F(SqliteStoreTest, AddWaitIsLossless) {
  SqliteStoreOptions tiny;
  tiny.queue_capacity = 2;
  tiny.batch_max = 3;
  auto store = open_ok(tiny);
  ASSERT_TRUE(store);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) EXPECT_TRUE(store->add_wait(event("cam", EventKind::kDwell, 1700000000.0 + i)));
    });
  for (auto& th : threads) th.join();
  store->flush();
  EXPECT_EQ(store->dropped(), 0U);
  EXPECT_EQ(*store->count(), 2000);
}

TEST_F(SqliteStoreTest, QueriesRunWhileTheWriterWrites) {
  SqliteStoreOptions small_batches;
  small_batches.batch_max = 10;
  auto store = open_ok(small_batches);
  ASSERT_TRUE(store);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 3000; ++i) store->add_wait(event("cam", EventKind::kTrackNew, 1700000000.0 + i));
    done = true;
  });
  std::int64_t last = 0;
  while (!done) {
    const auto n = store->count();
    ASSERT_TRUE(n.has_value()) << n.error().message;
    EXPECT_GE(*n, last);  // committed batches only ever add
    last = *n;
    EventQuery q;
    q.limit = 5;
    ASSERT_TRUE(store->query(q).has_value());
  }
  writer.join();
  store->flush();
  EXPECT_EQ(*store->count(), 3000);
}

}  // namespace
}  // namespace vigil
