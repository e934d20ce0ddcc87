// SQLite plumbing shared by the file-backed stores (events, jobs): RAII
// handles, error messages that name the database, path checks and opening.
// `label` names the kind of database in messages ("event database").
// Pure helpers; the caller owns every handle and its threading.
#pragma once

#include <sqlite3.h>

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

}  // namespace vigil
