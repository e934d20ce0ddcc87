#include "store/sqlite_store.h"

#include "store/sqlite_db.h"

#include <sqlite3.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <variant>

namespace vigil {

namespace {

using Clock = std::chrono::steady_clock;

using DbPtr = SqliteDbPtr;
constexpr std::string_view kLabel = "event database";

// The statements that create schema version 1. Every one is idempotent.
constexpr const char* kSchemaV1[] = {
    "CREATE TABLE IF NOT EXISTS events("
    "id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, stream TEXT NOT NULL, "
    "pts REAL NOT NULL, wall_time REAL NOT NULL, track_id INTEGER, class TEXT, class_id INTEGER, "
    "zone TEXT, line TEXT, direction TEXT, dwell_s REAL, text TEXT)",
    // Each index ends in wall_time (and, implicitly, the rowid), so a filtered
    // query's "newest first" order comes from the index without a sort.
    "CREATE INDEX IF NOT EXISTS events_stream_time ON events(stream, wall_time)",
    "CREATE INDEX IF NOT EXISTS events_kind_time ON events(kind, wall_time)",
    "CREATE INDEX IF NOT EXISTS events_zone_time ON events(zone, wall_time)",
    "CREATE INDEX IF NOT EXISTS events_time ON events(wall_time)",
};

// Version 2 adds the caption columns; a version-1 file is upgraded in place.
constexpr const char* kSchemaV2[] = {
    "ALTER TABLE events ADD COLUMN latency_ms REAL",
    "ALTER TABLE events ADD COLUMN captioner TEXT",
};

// Version 3 adds the event id ("<stream>-<n>", Event::id).
constexpr const char* kSchemaV3[] = {
    "ALTER TABLE events ADD COLUMN event_id TEXT",
    "CREATE INDEX IF NOT EXISTS events_event_id ON events(event_id)",
};

// Version 4 adds where the event's media is (the recorder) and whether
// retention deleted it.
constexpr const char* kSchemaV4[] = {
    "ALTER TABLE events ADD COLUMN snapshot TEXT",
    "ALTER TABLE events ADD COLUMN clip TEXT",
    "ALTER TABLE events ADD COLUMN expired INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX IF NOT EXISTS events_snapshot ON events(snapshot)",
    "CREATE INDEX IF NOT EXISTS events_clip ON events(clip)",
};

constexpr const char* kInsertSql =
    "INSERT INTO events(kind, stream, pts, wall_time, track_id, class, class_id, zone, line, direction, dwell_s, text, "
    "latency_ms, captioner, event_id, snapshot, clip) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)";

constexpr const char* kSelectSql =
    "SELECT id, kind, stream, pts, wall_time, track_id, class, class_id, zone, line, direction, dwell_s, text, "
    "latency_ms, captioner, event_id, snapshot, clip, expired "
    "FROM events";

bool has_dwell(EventKind k) { return k == EventKind::kZoneExit || k == EventKind::kDwell; }

Result<SqliteStatement> prepare(sqlite3* db, const std::string& path, std::string_view sql) {
  return SqliteStatement::prepare(db, kLabel, path, sql);
}

// Runs a statement that returns at most one row; the first column of it, if any.
using Value = std::variant<std::monostate, std::int64_t, std::string>;
Result<Value> exec_one(sqlite3* db, const std::string& path, std::string_view sql) {
  auto stmt = prepare(db, path, sql);
  if (!stmt) return fail(stmt.error());
  auto row = stmt->step();
  if (!row) return fail(row.error());
  if (!*row) return Value{};
  if (sqlite3_column_type(stmt->get(), 0) == SQLITE_INTEGER) return Value{stmt->int64(0)};
  return Value{stmt->text(0)};
}

Result<std::int64_t> exec_int(sqlite3* db, const std::string& path, std::string_view sql) {
  auto v = exec_one(db, path, sql);
  if (!v) return fail(v.error());
  if (const auto* i = std::get_if<std::int64_t>(&*v)) return *i;
  return fail(ErrorCode::kRuntime, "event database '" + path + "': '" + std::string(sql) + "' returned no integer");
}

Result<DbPtr> open_connection(const std::string& path, int flags, int busy_timeout_ms) {
  return open_sqlite(kLabel, path, flags, busy_timeout_ms);
}

// The event's columns (kInsertSql); its strings are bound without a copy,
// so the event must outlive the statement's run.
void bind_event(SqliteStatement& s, const Event& e) {
  s.bind_static(1, to_string(e.kind))
      .bind_static(2, e.stream)
      .bind(3, e.pts)
      .bind(4, e.wall_time)
      .bind_if(5, e.track_id >= 0, e.track_id);
  if (e.class_id >= 0)
    s.bind_static(6, e.class_name).bind(7, e.class_id);
  else
    s.bind_null(6).bind_null(7);
  s.bind_static_or_null(8, e.zone)
      .bind_static_or_null(9, e.line)
      .bind_static_or_null(10, e.direction)
      .bind_if(11, has_dwell(e.kind), e.dwell_s)
      .bind_static_or_null(12, e.text)
      .bind_if(13, e.kind == EventKind::kCaption, e.latency_ms)
      .bind_static_or_null(14, e.captioner)
      .bind_static_or_null(15, e.id)
      .bind_static_or_null(16, e.snapshot)
      .bind_static_or_null(17, e.clip);
}

// The event of a row of kSelectSql.
Result<Event> event_of_row(const SqliteStatement& st, const std::string& path) {
  Event e;
  const std::string kind = st.text(1);
  const auto parsed = parse_event_kind(kind);
  if (!parsed)
    return fail(ErrorCode::kBadInput, "event database '" + path + "': row " + std::to_string(st.int64(0)) +
                                          " has unknown kind '" + kind + "'");
  e.kind = *parsed;
  e.stream = st.text(2);
  e.pts = st.real(3);
  e.wall_time = st.real(4);
  if (!st.is_null(5)) e.track_id = st.int64(5);
  e.class_name = st.text(6);
  if (!st.is_null(7)) e.class_id = st.integer(7);
  e.zone = st.text(8);
  e.line = st.text(9);
  e.direction = st.text(10);
  e.dwell_s = st.real(11);  // 0 for NULL
  e.text = st.text(12);
  e.latency_ms = st.real(13);  // 0 for NULL
  e.captioner = st.text(14);
  e.id = st.text(15);
  e.snapshot = st.text(16);
  e.clip = st.text(17);
  e.expired = st.int64(18) != 0;
  return e;
}

}  // namespace

struct SqliteStore::Impl {
  struct Pending {
    Event event;
    Clock::time_point queued_at;
  };

  std::string path;
  SqliteStoreOptions options;

  // Writer connection and its statements: used on the opening thread until the
  // writer thread starts, then by the writer thread only. Statements are
  // declared after the connection so they are finalised first.
  DbPtr write_db;
  std::optional<SqliteStatement> begin_stmt, commit_stmt, rollback_stmt, insert_stmt;

  mutable std::mutex read_mu;  // the read connection serves one query at a time
  DbPtr read_db;

  std::mutex mu;  // guards queue, accepted, processed, flush_waiters, stopping
  std::condition_variable wake_writer;
  std::condition_variable progress;  // a batch was taken or finished: flush() and add_wait() re-check
  std::deque<Pending> queue;
  std::uint64_t accepted = 0;   // events ever put on the queue
  std::uint64_t processed = 0;  // of those, committed or lost in a failed batch
  int flush_waiters = 0;
  bool stopping = false;

  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> stored{0};
  bool failing = false;  // writer thread only: logs a run of failures once

  std::thread writer;

  bool push_locked(const Event& e) {
    queue.push_back(Pending{e, Clock::now()});
    ++accepted;
    return queue.size() == 1 || queue.size() == full_batch();
  }

  // A batch is worth committing at once when it is batch_max events long, or
  // when the queue is full (capacity < batch_max): waiting could only drop.
  std::size_t full_batch() const {
    return std::min(static_cast<std::size_t>(options.batch_max), options.queue_capacity);
  }

  void writer_loop() {
    std::vector<Event> batch;
    batch.reserve(static_cast<std::size_t>(options.batch_max));
    const auto batch_wait = std::chrono::milliseconds(options.batch_wait_ms);
    const auto batch_max = static_cast<std::size_t>(options.batch_max);
    std::unique_lock lock(mu);
    for (;;) {
      const auto ready = [&] {
        return stopping || flush_waiters > 0 || queue.size() >= full_batch() ||
               (!queue.empty() && Clock::now() - queue.front().queued_at >= batch_wait);
      };
      if (queue.empty() && !stopping)
        wake_writer.wait(lock, [&] { return stopping || !queue.empty(); });
      if (!ready()) wake_writer.wait_until(lock, queue.front().queued_at + batch_wait, ready);
      if (queue.empty()) {
        if (stopping) return;
        continue;
      }
      const std::size_t n = std::min(batch_max, queue.size());
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue.front().event));
        queue.pop_front();
      }
      lock.unlock();
      progress.notify_all();  // room on the queue for add_wait()
      commit(batch);
      lock.lock();
      processed += batch.size();
      batch.clear();
      progress.notify_all();
    }
  }

  // Writer thread. One transaction for the whole batch.
  void commit(const std::vector<Event>& batch) {
    Result<void> r = begin_stmt->run();
    if (r) {
      for (const Event& e : batch) {
        bind_event(*insert_stmt, e);
        r = insert_stmt->run();  // resets and clears the bindings: the bound strings die with the batch
        if (!r) break;
      }
      if (r) r = commit_stmt->run();
      if (!r && !sqlite3_get_autocommit(write_db.get())) (void)rollback_stmt->run();
    }
    if (r) {
      stored.fetch_add(batch.size(), std::memory_order_relaxed);
      if (failing) spdlog::info("event database {}: writing again", path);
      failing = false;
      return;
    }
    errors.fetch_add(batch.size(), std::memory_order_relaxed);
    if (!failing)
      spdlog::error("{} ({} events lost; further failures counted, not logged)", r.error().message, batch.size());
    failing = true;
  }
};

namespace {

Error newer_schema(const std::string& path, std::int64_t version) {
  return Error{ErrorCode::kUnsupported, "event database '" + path + "' has schema version " + std::to_string(version) +
                                            ", newer than this build's " + std::to_string(SqliteStore::kSchemaVersion) +
                                            "; it was left unchanged (use a newer Vigil)"};
}

Result<void> check_options(const std::string& path, const SqliteStoreOptions& o) {
  if (o.queue_capacity < 1 || o.batch_max < 1 || o.batch_wait_ms < 1 || o.busy_timeout_ms < 0)
    return fail(ErrorCode::kInvalidArgument, "event database '" + path +
                                                 "': queue_capacity, batch_max and batch_wait_ms must be >= 1 and "
                                                 "busy_timeout_ms >= 0");
  return check_sqlite_path(kLabel, path);
}

// Reads the header first: a file that is not a database fails here, before
// anything (journal mode, schema) could write to it. Then WAL mode.
Result<void> check_header_and_set_wal(sqlite3* w, const std::string& path) {
  if (sqlite3_db_readonly(w, "main") == 1)
    return fail(ErrorCode::kBadInput, "event database '" + path + "' is read-only (file permissions)");
  auto version = exec_int(w, path, "PRAGMA user_version");
  if (!version) return fail(version.error());
  if (*version > SqliteStore::kSchemaVersion) return fail(newer_schema(path, *version));
  auto mode = exec_one(w, path, "PRAGMA journal_mode=WAL");
  if (!mode) return fail(mode.error());
  if (const auto* m = std::get_if<std::string>(&*mode); !m || *m != "wal")
    return fail(ErrorCode::kRuntime, "event database '" + path + "': cannot switch to WAL mode");
  if (auto r = exec_one(w, path, "PRAGMA synchronous=NORMAL"); !r) return fail(r.error());
  return {};
}

// Inside the write transaction: refuses a foreign or newer database, creates
// or upgrades the schema.
Result<void> migrate_schema(sqlite3* w, const std::string& path) {
  auto v = exec_int(w, path, "PRAGMA user_version");
  if (!v) return fail(v.error());
  if (*v > SqliteStore::kSchemaVersion) return fail(newer_schema(path, *v));
  if (*v == 0) {
    auto tables =
        exec_int(w, path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
    if (!tables) return fail(tables.error());
    if (*tables > 0)
      return fail(ErrorCode::kBadInput, "'" + path +
                                            "' is an SQLite database but not a Vigil event store (it has "
                                            "tables and no schema version); it was left unchanged");
  }
  for (const char* sql : kSchemaV1)
    if (auto r = exec_one(w, path, sql); !r) return fail(r.error());
  if (*v < 2)
    for (const char* sql : kSchemaV2)
      if (auto r = exec_one(w, path, sql); !r) return fail(r.error());
  if (*v < 3)
    for (const char* sql : kSchemaV3)
      if (auto r = exec_one(w, path, sql); !r) return fail(r.error());
  if (*v < 4)
    for (const char* sql : kSchemaV4)
      if (auto r = exec_one(w, path, sql); !r) return fail(r.error());
  if (*v < SqliteStore::kSchemaVersion)
    if (auto r = exec_one(w, path, "PRAGMA user_version = " + std::to_string(SqliteStore::kSchemaVersion)); !r)
      return fail(r.error());
  return {};
}

// Schema check and creation in one write transaction, so two processes
// opening a new file at once do not both create it.
Result<void> migrate_in_transaction(sqlite3* w, const std::string& path) {
  if (auto r = exec_one(w, path, "BEGIN IMMEDIATE"); !r) return fail(r.error());
  auto migrated = migrate_schema(w, path);
  if (migrated) {
    if (auto r = exec_one(w, path, "COMMIT"); !r) migrated = fail(r.error());
  }
  if (!migrated) (void)exec_one(w, path, "ROLLBACK");
  return migrated;
}

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path, SqliteStoreOptions options) {
  if (auto ok = check_options(path, options); !ok) return fail(ok.error());
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->options = options;

  auto db = open_connection(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, options.busy_timeout_ms);
  if (!db) return fail(db.error());
  sqlite3* w = db->get();
  if (auto r = check_header_and_set_wal(w, path); !r) return fail(r.error());
  if (auto r = migrate_in_transaction(w, path); !r) return fail(r.error());
  for (auto [stmt, sql] : {std::pair{&impl->begin_stmt, "BEGIN IMMEDIATE"}, std::pair{&impl->commit_stmt, "COMMIT"},
                           std::pair{&impl->rollback_stmt, "ROLLBACK"}, std::pair{&impl->insert_stmt, kInsertSql}}) {
    auto s = prepare(w, path, sql);
    if (!s) return fail(s.error());
    stmt->emplace(std::move(*s));
  }
  impl->write_db = std::move(*db);

  auto rdb = open_connection(path, SQLITE_OPEN_READONLY, options.busy_timeout_ms);
  if (!rdb) return fail(rdb.error());
  impl->read_db = std::move(*rdb);

  Impl* raw = impl.get();
  impl->writer = std::thread([raw] { raw->writer_loop(); });
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(impl)));
}

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->wake_writer.notify_all();
  impl_->progress.notify_all();
  impl_->writer.join();
}

bool SqliteStore::add(const Event& event) {
  Impl& s = *impl_;
  bool wake = false;
  {
    std::lock_guard lock(s.mu);
    if (s.stopping || s.queue.size() >= s.options.queue_capacity) {
      s.dropped.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    wake = s.push_locked(event);
  }
  if (wake) s.wake_writer.notify_one();
  return true;
}

bool SqliteStore::add_wait(const Event& event) {
  Impl& s = *impl_;
  bool wake = false;
  {
    std::unique_lock lock(s.mu);
    s.progress.wait(lock, [&] { return s.stopping || s.queue.size() < s.options.queue_capacity; });
    if (s.stopping) return false;
    wake = s.push_locked(event);
  }
  if (wake) s.wake_writer.notify_one();
  return true;
}

void SqliteStore::flush() {
  Impl& s = *impl_;
  std::unique_lock lock(s.mu);
  const std::uint64_t target = s.accepted;
  if (s.processed >= target) return;
  ++s.flush_waiters;
  s.wake_writer.notify_one();
  s.progress.wait(lock, [&] { return s.processed >= target; });
  --s.flush_waiters;
}

Result<std::vector<Event>> SqliteStore::query(const EventQuery& q) const {
  const Impl& s = *impl_;
  if (q.limit < 1 || q.limit > kMaxQueryLimit)
    return fail(ErrorCode::kInvalidArgument,
                "event query: limit must be 1.." + std::to_string(kMaxQueryLimit) + ", got " + std::to_string(q.limit));
  if (!q.kind.empty() && !parse_event_kind(q.kind))
    return fail(ErrorCode::kInvalidArgument, "event query: unknown kind '" + q.kind + "'");
  if (!std::isfinite(q.since)) return fail(ErrorCode::kInvalidArgument, "event query: since must be a finite number");

  // Only placeholders are appended; values travel as bindings.
  std::string sql = kSelectSql;
  std::vector<std::variant<const std::string*, double>> binds;
  const auto where = [&](const char* cond, std::variant<const std::string*, double> value) {
    sql += binds.empty() ? " WHERE " : " AND ";
    sql += cond;
    binds.push_back(value);
  };
  if (!q.stream.empty()) where("stream = ?", &q.stream);
  if (!q.zone.empty()) where("zone = ?", &q.zone);
  if (!q.kind.empty()) where("kind = ?", &q.kind);
  if (q.since > 0) where("wall_time >= ?", q.since);
  sql += " ORDER BY wall_time DESC, id DESC LIMIT ?";

  std::lock_guard lock(s.read_mu);
  auto stmt = prepare(s.read_db.get(), s.path, sql);
  if (!stmt) return fail(stmt.error());
  int idx = 1;
  for (const auto& b : binds) {
    if (const auto* str = std::get_if<const std::string*>(&b))
      stmt->bind_static(idx++, **str);
    else
      stmt->bind(idx++, std::get<double>(b));
  }
  stmt->bind(idx, q.limit);

  std::vector<Event> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return fail(row.error());
    if (!*row) return out;
    auto e = event_of_row(*stmt, s.path);
    if (!e) return fail(e.error());
    out.push_back(std::move(*e));
  }
}

Result<std::optional<Event>> SqliteStore::find(const std::string& event_id) const {
  const Impl& s = *impl_;
  std::lock_guard lock(s.read_mu);
  auto stmt = prepare(s.read_db.get(), s.path, std::string(kSelectSql) + " WHERE event_id = ?1 ORDER BY id DESC LIMIT 1");
  if (!stmt) return fail(stmt.error());
  stmt->bind_static(1, event_id);
  auto row = stmt->step();
  if (!row) return fail(row.error());
  if (!*row) return std::optional<Event>();
  auto e = event_of_row(*stmt, s.path);
  if (!e) return fail(e.error());
  return std::optional<Event>(std::move(*e));
}

Result<std::int64_t> SqliteStore::mark_expired(const std::vector<std::string>& files) {
  const Impl& s = *impl_;
  if (files.empty()) return std::int64_t{0};
  // Its own connection: the writer's belongs to the writer thread.
  auto db = open_connection(s.path, SQLITE_OPEN_READWRITE, s.options.busy_timeout_ms);
  if (!db) return fail(db.error());
  if (auto r = exec_one(db->get(), s.path, "BEGIN IMMEDIATE"); !r) return fail(r.error());
  auto stmt = prepare(db->get(), s.path, "UPDATE events SET expired = 1 WHERE expired = 0 AND (snapshot = ?1 OR clip = ?1)");
  if (!stmt) {
    (void)exec_one(db->get(), s.path, "ROLLBACK");
    return fail(stmt.error());
  }
  std::int64_t rows = 0;
  for (const auto& f : files) {
    stmt->bind_static(1, f);
    if (auto r = stmt->run(); !r) {
      (void)exec_one(db->get(), s.path, "ROLLBACK");
      return fail(r.error());
    }
    rows += sqlite3_changes(db->get());
  }
  if (auto r = exec_one(db->get(), s.path, "COMMIT"); !r) {
    (void)exec_one(db->get(), s.path, "ROLLBACK");
    return fail(r.error());
  }
  return rows;
}

Result<std::int64_t> SqliteStore::count() const {
  std::lock_guard lock(impl_->read_mu);
  return exec_int(impl_->read_db.get(), impl_->path, "SELECT count(*) FROM events");
}

const std::string& SqliteStore::path() const { return impl_->path; }
std::uint64_t SqliteStore::dropped() const { return impl_->dropped.load(std::memory_order_relaxed); }
std::uint64_t SqliteStore::errors() const { return impl_->errors.load(std::memory_order_relaxed); }
std::uint64_t SqliteStore::stored() const { return impl_->stored.load(std::memory_order_relaxed); }
std::size_t SqliteStore::queued() const {
  std::lock_guard lock(impl_->mu);
  return impl_->queue.size();
}

}  // namespace vigil
