#include "store/sqlite_db.h"

#include <cstring>
#include <filesystem>
#include <utility>

namespace vigil {

std::string sqlite_describe(sqlite3* db, int rc) {
  std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (db) {
    if (const int sys = sqlite3_system_errno(db); sys != 0) msg += std::string(" (") + std::strerror(sys) + ")";
  }
  return msg;
}

Error sqlite_error(std::string_view label, const std::string& path, std::string_view what, sqlite3* db, int rc) {
  const std::string name = std::string(label) + " '" + path + "'";
  const int primary = rc & 0xff;
  if (primary == SQLITE_NOTADB)
    return Error{ErrorCode::kBadInput,
                 name + " is not an SQLite database (SQLite: file is not a database); it was left unchanged"};
  if (primary == SQLITE_READONLY) return Error{ErrorCode::kBadInput, name + " is read-only: " + sqlite_describe(db, rc)};
  return Error{ErrorCode::kRuntime, name + ": " + std::string(what) + ": " + sqlite_describe(db, rc)};
}

Result<void> check_sqlite_path(std::string_view label, const std::string& path) {
  namespace fs = std::filesystem;
  if (path.empty() || path == ":memory:" || path.starts_with("file:"))
    return fail(ErrorCode::kInvalidArgument,
                std::string(label) + " path '" + path + "' must name a file (WAL mode needs one)");
  std::error_code ec;
  const fs::path p(path);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec))
    return fail(ErrorCode::kNotFound, "cannot open " + std::string(label) + " '" + path + "': directory '" +
                                          dir.string() + "' does not exist");
  if (fs::is_directory(p, ec))
    return fail(ErrorCode::kBadInput, "cannot open " + std::string(label) + " '" + path + "': it is a directory");
  return {};
}

Result<SqliteDbPtr> open_sqlite(std::string_view label, const std::string& path, int flags, int busy_timeout_ms) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  SqliteDbPtr db(raw);  // a handle comes back even on failure and must be closed
  if (rc != SQLITE_OK) return fail(sqlite_error(label, path, "cannot open", raw, rc));
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), busy_timeout_ms);
  return db;
}

std::string sqlite_column_text(sqlite3_stmt* s, int col) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, col))) : std::string();
}

SqliteStatement::SqliteStatement(sqlite3* db, std::string_view label, std::string path, std::string_view sql)
    : db_(db), label_(label), path_(std::move(path)), sql_(sql) {
  sqlite3_stmt* raw = nullptr;
  rc_ = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
  stmt_.reset(raw);
}

Result<SqliteStatement> SqliteStatement::prepare(sqlite3* db, std::string_view label, std::string path,
                                                 std::string_view sql) {
  SqliteStatement s(db, label, std::move(path), sql);
  if (!s.ok()) return fail(s.error("preparing"));
  return s;
}

Error SqliteStatement::error(std::string_view what) const {
  // The start of the statement is enough to tell which one failed.
  constexpr std::size_t kSqlShown = 48;
  return sqlite_error(label_, path_, std::string(what) + " '" + sql_.substr(0, kSqlShown) + "'", db_, rc_);
}

SqliteStatement& SqliteStatement::bind(int i, std::int64_t v) {
  if (stmt_) sqlite3_bind_int64(stmt_.get(), i, v);
  return *this;
}

SqliteStatement& SqliteStatement::bind(int i, double v) {
  if (stmt_) sqlite3_bind_double(stmt_.get(), i, v);
  return *this;
}

SqliteStatement& SqliteStatement::bind(int i, std::string_view v) {
  if (stmt_) sqlite3_bind_text(stmt_.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

SqliteStatement& SqliteStatement::bind_static(int i, std::string_view v) {
  if (stmt_) sqlite3_bind_text(stmt_.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  return *this;
}

SqliteStatement& SqliteStatement::bind_null(int i) {
  if (stmt_) sqlite3_bind_null(stmt_.get(), i);
  return *this;
}

Result<bool> SqliteStatement::step() {
  if (!stmt_) return fail(error("preparing"));
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  rc_ = rc;
  return fail(error("running"));
}

Result<void> SqliteStatement::run() {
  Result<bool> r = true;
  while (r && *r) r = step();
  reset();
  if (!r) return fail(r.error());
  return {};
}

void SqliteStatement::reset() {
  if (!stmt_) return;
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
  rc_ = SQLITE_OK;
}

}  // namespace vigil
