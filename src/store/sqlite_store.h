// SqliteStore: the event store, one SQLite file in WAL mode.
//
// Writing: add() puts the event on a bounded queue and returns at once; ONE
// writer thread owned by the store takes up to batch_max events at a time and
// inserts them in one transaction, as soon as batch_max are queued or the
// oldest queued event has waited batch_wait_ms, or at once while someone
// waits in flush().
// Overflow policy of the queue (queue_capacity events): add() rejects the
// NEWEST event (the one being added), counts it in dropped() and returns false;
// what is already queued is kept. add_wait() is the lossless variant for
// offline jobs: it blocks while the queue is full (policy: block).
// A batch whose transaction fails (disk full, database locked longer than
// busy_timeout_ms) is rolled back; its events are lost, counted in errors(),
// and the writer goes on with the next batch.
//
// Reading: query() and count() use a second, read-only connection; WAL lets
// them run while the writer commits. They see every event committed before
// they start; flush() first to see everything add()ed so far.
//
// Threads: add/add_wait/flush/query/count/counters from any thread. Queries
// are serialised on the one read connection (a mutex). The destructor must
// not race with other calls: it stops accepting events, commits everything
// queued, joins the writer and closes both connections.
//
// Schema (PRAGMA user_version = kSchemaVersion = 4): see docs/api.md, "Events".
// A file that is not an SQLite database, an SQLite database that is not a
// Vigil event store, or one written with a newer schema version is refused by
// open() and left untouched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/event.h"

namespace vigil {

struct SqliteStoreOptions {
  std::size_t queue_capacity = 10000;  // events waiting for the writer, >= 1; overflow: reject newest
  int batch_max = 500;                 // events per transaction, >= 1
  int batch_wait_ms = 100;             // longest an event waits for its transaction, >= 1
  int busy_timeout_ms = 5000;          // how long a statement waits for another process' lock, >= 0
};

struct EventQuery {
  std::string stream;  // exact stream id; empty: all streams
  std::string zone;    // exact zone name; empty: any
  std::string kind;    // to_string(EventKind); empty: any
  double since = 0;    // Unix seconds: wall_time >= since
  int limit = 100;     // 1..10000
};

class SqliteStore {
 public:
  static constexpr int kSchemaVersion = 4;
  static constexpr int kMaxQueryLimit = 10000;

  // Opens or creates the database at path (its directory must exist) and
  // starts the writer thread. Errors name the path: kNotFound (no such
  // directory), kBadInput (not an SQLite database / not a Vigil event store /
  // read-only), kUnsupported (newer schema version), kInvalidArgument (bad
  // options or a non-file path such as ":memory:"), kRuntime (SQLite failed).
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path, SqliteStoreOptions options = {});

  ~SqliteStore();
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // Never blocks on I/O. false: the queue was full (or the store is closing)
  // and the event was dropped.
  bool add(const Event& event);
  // Blocks while the queue is full. false only while the store is closing.
  bool add_wait(const Event& event);
  // Returns once every event accepted before the call is committed (or
  // counted in errors()).
  void flush();

  // Newest first (wall_time descending, then insertion order descending).
  // kInvalidArgument for a limit outside 1..10000, an unknown kind or a
  // non-finite since.
  Result<std::vector<Event>> query(const EventQuery& query) const;
  Result<std::int64_t> count() const;  // all rows in the table, any writer
  // The newest row with this Event::id (ids repeat across engine runs);
  // nullopt when none.
  Result<std::optional<Event>> find(const std::string& event_id) const;
  // Marks expired every row whose snapshot or clip is one of `files` (the
  // recorder's retention deleted them), in one transaction on a connection
  // of its own; the number of rows changed.
  Result<std::int64_t> mark_expired(const std::vector<std::string>& files);

  const std::string& path() const;
  std::uint64_t dropped() const;  // rejected by add(): queue full
  std::uint64_t errors() const;   // lost in a failed transaction
  std::uint64_t stored() const;   // committed by this instance
  std::size_t queued() const;     // waiting for the writer now

 private:
  struct Impl;
  explicit SqliteStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
