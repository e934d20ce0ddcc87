#include "jobs/job_store.h"

#include "store/sqlite_db.h"

#include <sqlite3.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <set>
#include <string_view>
#include <utility>

namespace vigil {

namespace {

using DbPtr = SqliteDbPtr;
constexpr std::string_view kLabel = "job database";

// Schema version 1; every statement is idempotent.
constexpr const char* kSchemaV1[] = {
    "CREATE TABLE IF NOT EXISTS jobs("
    "id INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL, input TEXT, options_json TEXT, "
    "state TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS chunks("
    "job_id INTEGER NOT NULL REFERENCES jobs(id), idx INTEGER NOT NULL, start_s REAL NOT NULL, "
    "end_s REAL NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, error TEXT, result TEXT, "
    "PRIMARY KEY(job_id, idx))",
};

double now_unix() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A statement of the job store (errors say "job database").
SqliteStatement stmt(sqlite3* db, const std::string& path, std::string_view sql) {
  return SqliteStatement(db, kLabel, path, sql);
}

Result<void> exec(sqlite3* db, const std::string& path, std::string_view sql) { return stmt(db, path, sql).run(); }

Result<std::int64_t> query_int(sqlite3* db, const std::string& path, std::string_view sql) {
  auto s = stmt(db, path, sql);
  auto r = s.step();
  if (!r) return fail(r.error());
  if (!*r) return fail(ErrorCode::kRuntime, "job database '" + path + "': '" + std::string(sql) + "' returned no row");
  return s.int64(0);
}

// Runs body inside BEGIN IMMEDIATE ... COMMIT; rolls back if body or COMMIT fails.
template <class T>
Result<T> in_transaction(sqlite3* db, const std::string& path, const std::function<Result<T>()>& body) {
  if (auto r = exec(db, path, "BEGIN IMMEDIATE"); !r) return fail(r.error());
  auto result = body();
  if (!result) {
    if (!sqlite3_get_autocommit(db)) (void)exec(db, path, "ROLLBACK");
    return result;
  }
  if (auto r = exec(db, path, "COMMIT"); !r) {
    if (!sqlite3_get_autocommit(db)) (void)exec(db, path, "ROLLBACK");
    return fail(r.error());
  }
  return result;
}

Error unknown_state(const std::string& path, const std::string& row, const std::string& state) {
  return Error{ErrorCode::kBadInput, "job database '" + path + "': " + row + " has unknown state '" + state +
                                         "' (written by a newer Vigil?)"};
}

}  // namespace

struct JobStore::Impl {
  std::string path;
  mutable std::mutex mu;  // guards db and claimed
  DbPtr db;
  // (job_id, idx) claimed by this object and not yet completed or failed.
  std::set<std::pair<std::int64_t, int>> claimed;

  Error unknown_job(std::int64_t job_id) const {
    return Error{ErrorCode::kNotFound, "job database '" + path + "': no job with id " + std::to_string(job_id)};
  }

  Result<void> require_job(std::int64_t job_id) const {
    auto s = stmt(db.get(), path, "SELECT 1 FROM jobs WHERE id = ?1");
    s.bind(1, job_id);
    auto r = s.step();
    if (!r) return fail(r.error());
    if (!*r) return fail(unknown_job(job_id));
    return {};
  }

  Result<void> touch_job(std::int64_t job_id) const {
    auto s = stmt(db.get(), path, "UPDATE jobs SET updated = ?1 WHERE id = ?2");
    s.bind(1, now_unix()).bind(2, job_id);
    return s.run();
  }

  // One transaction that moves a running chunk out of `running`: checks it
  // is running, runs `update` (given its attempts so far), touches the job,
  // and forgets this object's claim once committed. Call with mu held.
  Result<void> leave_running(std::int64_t job_id, int idx, const std::function<Result<void>(int attempts)>& update) {
    auto r = in_transaction<int>(db.get(), path, [&]() -> Result<int> {
      auto attempts = running_attempts(job_id, idx);
      if (!attempts) return fail(attempts.error());
      if (auto u = update(*attempts); !u) return fail(u.error());
      if (auto u = touch_job(job_id); !u) return fail(u.error());
      return 0;
    });
    if (!r) return fail(r.error());
    claimed.erase({job_id, idx});
    return {};
  }

  // The state and attempts of a chunk that must be running.
  Result<int> running_attempts(std::int64_t job_id, int idx) const {
    if (auto r = require_job(job_id); !r) return fail(r.error());
    auto s = stmt(db.get(), path, "SELECT state, attempts FROM chunks WHERE job_id = ?1 AND idx = ?2");
    s.bind(1, job_id).bind(2, idx);
    auto r = s.step();
    if (!r) return fail(r.error());
    const std::string where = "job database '" + path + "': job " + std::to_string(job_id) + " chunk " +
                              std::to_string(idx);
    if (!*r) return fail(ErrorCode::kNotFound, where + " does not exist");
    const std::string state = s.text(0);
    if (parse_chunk_status(state) != ChunkStatus::kRunning)
      return fail(ErrorCode::kInvalidArgument, where + " is " + state + ", not running");
    return s.integer(1);
  }
};

Result<std::unique_ptr<JobStore>> JobStore::open(const std::string& path, int busy_timeout_ms) {
  if (busy_timeout_ms < 0)
    return fail(ErrorCode::kInvalidArgument, "job database '" + path + "': busy_timeout_ms must be >= 0");
  if (auto ok = check_sqlite_path(kLabel, path); !ok) return fail(ok.error());

  auto opened = open_sqlite(kLabel, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, busy_timeout_ms);
  if (!opened) return fail(opened.error());
  DbPtr db = std::move(*opened);
  sqlite3* w = db.get();
  if (sqlite3_db_readonly(w, "main") == 1)
    return fail(ErrorCode::kBadInput, "job database '" + path + "' is read-only (file permissions)");

  // Reading the header first: a file that is not a database fails here, before
  // anything (journal mode, schema) could write to it.
  const auto newer = [&](std::int64_t v) {
    return Error{ErrorCode::kUnsupported, "job database '" + path + "' has schema version " + std::to_string(v) +
                                              ", newer than this build's " + std::to_string(kSchemaVersion) +
                                              "; it was left unchanged (use a newer Vigil)"};
  };
  auto version = query_int(w, path, "PRAGMA user_version");
  if (!version) return fail(version.error());
  if (*version > kSchemaVersion) return fail(newer(*version));

  {
    auto s = stmt(w, path, "PRAGMA journal_mode=WAL");
    auto r = s.step();
    if (!r) return fail(r.error());
    if (!*r || s.text(0) != "wal")
      return fail(ErrorCode::kRuntime, "job database '" + path + "': cannot switch to WAL mode");
  }
  if (auto r = exec(w, path, "PRAGMA synchronous=FULL"); !r) return fail(r.error());

  // Schema check and creation in one write transaction.
  auto created = in_transaction<int>(w, path, [&]() -> Result<int> {
    auto v = query_int(w, path, "PRAGMA user_version");
    if (!v) return fail(v.error());
    if (*v > kSchemaVersion) return fail(newer(*v));
    auto tables = query_int(w, path,
                            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
    if (!tables) return fail(tables.error());
    auto ours = query_int(w, path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('jobs', 'chunks')");
    if (!ours) return fail(ours.error());
    // Version 0 must be empty; version 1 must be ours (an event store also has version 1).
    if ((*v == 0 && *tables > 0) || (*v == kSchemaVersion && *ours != 2))
      return fail(ErrorCode::kBadInput, "'" + path +
                                            "' is an SQLite database but not a Vigil job store; it was left unchanged");
    for (const char* sql : kSchemaV1)
      if (auto r = exec(w, path, sql); !r) return fail(r.error());
    if (*v == 0)
      if (auto r = exec(w, path, "PRAGMA user_version = " + std::to_string(kSchemaVersion)); !r) return fail(r.error());
    return 0;
  });
  if (!created) return fail(created.error());

  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->db = std::move(db);
  return std::unique_ptr<JobStore>(new JobStore(std::move(impl)));
}

JobStore::JobStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JobStore::~JobStore() = default;

const std::string& JobStore::path() const { return impl_->path; }

Result<std::int64_t> JobStore::create_or_resume(const std::string& key, const std::string& input,
                                                const std::string& options_json, const std::vector<Chunk>& plan) {
  Impl& s = *impl_;
  if (key.empty()) return fail(ErrorCode::kInvalidArgument, "job database '" + s.path + "': job key is empty");
  if (plan.empty()) return fail(ErrorCode::kInvalidArgument, "job '" + key + "': the chunk plan is empty");
  for (std::size_t i = 0; i < plan.size(); ++i)
    if (plan[i].index != static_cast<int>(i))
      return fail(ErrorCode::kInvalidArgument, "job '" + key + "': chunk " + std::to_string(i) + " has index " +
                                                   std::to_string(plan[i].index));
  std::lock_guard lock(s.mu);
  sqlite3* db = s.db.get();
  return in_transaction<std::int64_t>(db, s.path, [&]() -> Result<std::int64_t> {
    auto find = stmt(db, s.path, "SELECT id FROM jobs WHERE key = ?1");
    find.bind(1, key);
    auto found = find.step();
    if (!found) return fail(found.error());
    if (*found) {
      const std::int64_t id = find.int64(0);
      auto q = stmt(db, s.path, "SELECT idx, start_s, end_s FROM chunks WHERE job_id = ?1 ORDER BY idx");
      q.bind(1, id);
      std::vector<Chunk> stored;
      while (true) {
        auto r = q.step();
        if (!r) return fail(r.error());
        if (!*r) break;
        stored.push_back(Chunk{q.integer(0), q.real(1),
                               q.real(2)});
      }
      if (stored != plan)
        return fail(ErrorCode::kBadInput, "job database '" + s.path + "': job " + std::to_string(id) + " ('" + key +
                                              "') has a different chunk plan (" + std::to_string(stored.size()) +
                                              " chunks stored, " + std::to_string(plan.size()) +
                                              " planned); did the input change?");
      return id;
    }
    const double t = now_unix();
    auto ins = stmt(db, s.path,
             "INSERT INTO jobs(key, input, options_json, state, created, updated) VALUES(?1, ?2, ?3, 'pending', ?4, ?4)");
    ins.bind(1, key).bind(2, input).bind(3, options_json).bind(4, t);
    if (auto r = ins.run(); !r) return fail(r.error());
    const std::int64_t id = sqlite3_last_insert_rowid(db);
    auto chunk = stmt(db, s.path,
               "INSERT INTO chunks(job_id, idx, start_s, end_s, state, attempts) VALUES(?1, ?2, ?3, ?4, 'pending', 0)");
    for (const Chunk& c : plan) {
      chunk.bind(1, id).bind(2, c.index).bind(3, c.start_s).bind(4, c.end_s);
      if (auto r = chunk.run(); !r) return fail(r.error());
    }
    return id;
  });
}

Result<std::optional<Chunk>> JobStore::claim_next(std::int64_t job_id) {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  sqlite3* db = s.db.get();
  auto claimed = in_transaction<std::optional<Chunk>>(db, s.path, [&]() -> Result<std::optional<Chunk>> {
    if (auto r = s.require_job(job_id); !r) return fail(r.error());
    auto q = stmt(db, s.path,
           "SELECT idx, start_s, end_s, state FROM chunks WHERE job_id = ?1 AND state IN ('pending', 'running') "
           "ORDER BY idx");
    q.bind(1, job_id);
    std::optional<Chunk> pick;
    while (!pick) {
      auto r = q.step();
      if (!r) return fail(r.error());
      if (!*r) return std::optional<Chunk>();
      const int idx = q.integer(0);
      const bool running = parse_chunk_status(q.text(3)) == ChunkStatus::kRunning;
      if (running && s.claimed.contains({job_id, idx})) continue;  // ours, in progress
      pick = Chunk{idx, q.real(1), q.real(2)};
    }
    auto up = stmt(db, s.path,
            "UPDATE chunks SET state = 'running', attempts = attempts + 1 WHERE job_id = ?1 AND idx = ?2");
    up.bind(1, job_id).bind(2, pick->index);
    if (auto r = up.run(); !r) return fail(r.error());
    if (auto r = s.touch_job(job_id); !r) return fail(r.error());
    return pick;
  });
  if (claimed && *claimed) s.claimed.insert({job_id, (*claimed)->index});  // only once committed
  return claimed;
}

Result<void> JobStore::complete(std::int64_t job_id, int idx, const std::string& result_json) {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  return s.leave_running(job_id, idx, [&](int) -> Result<void> {
    auto up = stmt(s.db.get(), s.path, "UPDATE chunks SET state = 'done', result = ?1, error = NULL WHERE job_id = ?2 AND idx = ?3");
    up.bind(1, result_json).bind(2, job_id).bind(3, idx);
    return up.run();
  });
}

Result<void> JobStore::fail_chunk(std::int64_t job_id, int idx, const std::string& error, int max_attempts) {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  return s.leave_running(job_id, idx, [&](int attempts) -> Result<void> {
    auto up = stmt(s.db.get(), s.path, "UPDATE chunks SET state = ?1, error = ?2 WHERE job_id = ?3 AND idx = ?4");
    const ChunkStatus next = attempts < max_attempts ? ChunkStatus::kPending : ChunkStatus::kFailed;
    up.bind_static(1, to_string(next)).bind(2, error).bind(3, job_id).bind(4, idx);
    return up.run();
  });
}

Result<void> JobStore::reset_failed(std::int64_t job_id) {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  sqlite3* db = s.db.get();
  auto r = in_transaction<int>(db, s.path, [&]() -> Result<int> {
    if (auto j = s.require_job(job_id); !j) return fail(j.error());
    auto up = stmt(db, s.path,
            "UPDATE chunks SET state = 'pending', attempts = 0, error = NULL WHERE job_id = ?1 AND state = 'failed'");
    up.bind(1, job_id);
    if (auto u = up.run(); !u) return fail(u.error());
    if (auto u = s.touch_job(job_id); !u) return fail(u.error());
    return 0;
  });
  if (!r) return fail(r.error());
  return {};
}

Result<void> JobStore::release(std::int64_t job_id, int idx) {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  return s.leave_running(job_id, idx, [&](int) -> Result<void> {
    auto up = stmt(s.db.get(), s.path,
            "UPDATE chunks SET state = 'pending', attempts = MAX(attempts - 1, 0) WHERE job_id = ?1 AND idx = ?2");
    up.bind(1, job_id).bind(2, idx);
    return up.run();
  });
}

Result<std::vector<ChunkState>> JobStore::chunks(std::int64_t job_id, bool with_results) const {
  const Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  sqlite3* db = s.db.get();
  {
    if (auto r = s.require_job(job_id); !r) return fail(r.error());
    auto q = stmt(db, s.path,
           with_results ? "SELECT idx, start_s, end_s, state, attempts, error, result FROM chunks WHERE job_id = ?1 "
                          "ORDER BY idx"
                        : "SELECT idx, start_s, end_s, state, attempts, error, NULL FROM chunks WHERE job_id = ?1 "
                          "ORDER BY idx");
    q.bind(1, job_id);
    std::vector<ChunkState> out;
    while (true) {
      auto r = q.step();
      if (!r) return fail(r.error());
      if (!*r) return out;
      ChunkState c;
      c.chunk = Chunk{q.integer(0), q.real(1), q.real(2)};
      const std::string state = q.text(3);
      const auto parsed = parse_chunk_status(state);
      if (!parsed)
        return fail(unknown_state(s.path, "job " + std::to_string(job_id) + " chunk " + std::to_string(c.chunk.index), state));
      c.state = *parsed;
      c.attempts = q.integer(4);
      c.error = q.text(5);
      c.result = q.text(6);
      out.push_back(std::move(c));
    }
  }
}

Result<void> JobStore::set_job_state(std::int64_t job_id, JobStatus state) {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  sqlite3* db = s.db.get();
  auto up = stmt(db, s.path, "UPDATE jobs SET state = ?1, updated = ?2 WHERE id = ?3");
  up.bind_static(1, to_string(state)).bind(2, now_unix()).bind(3, job_id);
  if (auto r = up.run(); !r) return fail(r.error());
  if (sqlite3_changes(db) == 0) return fail(s.unknown_job(job_id));
  return {};
}

Result<std::vector<JobInfo>> JobStore::jobs() const {
  const Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  auto q = stmt(s.db.get(), s.path, "SELECT id, key, input, options_json, state, created, updated FROM jobs ORDER BY id");
  std::vector<JobInfo> out;
  while (true) {
    auto r = q.step();
    if (!r) return fail(r.error());
    if (!*r) return out;
    const std::int64_t id = q.int64(0);
    const std::string state = q.text(4);
    const auto parsed = parse_job_status(state);
    if (!parsed) return fail(unknown_state(s.path, "job " + std::to_string(id), state));
    out.push_back(JobInfo{id, q.text(1), q.text(2), q.text(3), *parsed,
                          q.real(5), q.real(6)});
  }
}

}  // namespace vigil
