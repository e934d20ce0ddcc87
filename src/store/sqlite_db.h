// SQLite plumbing shared by the file-backed stores (events, jobs): RAII
// handles, error messages that name the database, path checks, opening and
// SqliteStatement (the one statement binder).
// `label` names the kind of database in messages ("event database").
// Pure helpers; the caller owns every handle and its threading.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"

namespace vigil {

struct SqliteDbClose {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct SqliteStmtFinalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using SqliteDbPtr = std::unique_ptr<sqlite3, SqliteDbClose>;
using SqliteStmtPtr = std::unique_ptr<sqlite3_stmt, SqliteStmtFinalize>;

// SQLITE_NOTADB and SQLITE_READONLY become kBadInput with a plain message;
// anything else kRuntime with `what` and SQLite's (and the OS's) words.
Error sqlite_error(std::string_view label, const std::string& path, std::string_view what, sqlite3* db, int rc);

// The path must name a file (WAL needs one) in an existing directory.
Result<void> check_sqlite_path(std::string_view label, const std::string& path);

// Opens (or creates, with SQLITE_OPEN_CREATE in flags) one connection with
// extended result codes and a busy timeout.
Result<SqliteDbPtr> open_sqlite(std::string_view label, const std::string& path, int flags, int busy_timeout_ms);

std::string sqlite_column_text(sqlite3_stmt* s, int col);

// SQLite's message for the last error on db (or for rc), with the OS error when there is one.
std::string sqlite_describe(sqlite3* db, int rc);

// A prepared statement with positional bindings (1-based) and typed column
// reads: the one binder of both stores (events, jobs). Text bound with
// bind() is copied (SQLITE_TRANSIENT), so temporaries may be bound;
// bind_static() does not copy (the caller keeps the text alive until the
// statement is stepped and reset). A failed prepare is reported by ok(),
// error() and the first step(). Errors name the database (label, path) and
// the statement. Owned by its creator; one thread at a time.
class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, std::string_view label, std::string path, std::string_view sql);
  // Prepared, or the prepare error.
  static Result<SqliteStatement> prepare(sqlite3* db, std::string_view label, std::string path, std::string_view sql);

  SqliteStatement& bind(int i, std::int64_t v);
  SqliteStatement& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  SqliteStatement& bind(int i, double v);
  SqliteStatement& bind(int i, std::string_view v);
  SqliteStatement& bind_static(int i, std::string_view v);
  SqliteStatement& bind_null(int i);
  // v, or NULL when !present.
  template <class T>
  SqliteStatement& bind_if(int i, bool present, const T& v) {
    return present ? bind(i, v) : bind_null(i);
  }
  // Text, not copied; NULL when empty.
  SqliteStatement& bind_static_or_null(int i, std::string_view v) { return v.empty() ? bind_null(i) : bind_static(i, v); }

  // true: a row is ready; false: done.
  Result<bool> step();
  // Steps to the end (the rows, if any, are ignored), then resets and
  // clears the bindings so the statement can run again.
  Result<void> run();
  // Back to the start, bindings cleared.
  void reset();

  bool ok() const { return rc_ == SQLITE_OK; }
  Error error(std::string_view what) const;

  bool is_null(int col) const { return sqlite3_column_type(stmt_.get(), col) == SQLITE_NULL; }
  std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_.get(), col); }
  int integer(int col) const { return sqlite3_column_int(stmt_.get(), col); }
  double real(int col) const { return sqlite3_column_double(stmt_.get(), col); }
  std::string text(int col) const { return sqlite_column_text(stmt_.get(), col); }
  sqlite3_stmt* get() const { return stmt_.get(); }

 private:
  sqlite3* db_;
  std::string label_, path_, sql_;
  SqliteStmtPtr stmt_;
  int rc_ = SQLITE_OK;  // the prepare's, then the last failed step's
};

}  // namespace vigil
