// Private to src/store: a small RAII layer over the SQLite C API (connection,
// prepared statement, transaction) and the forward-only migration runner.
// A Db is one connection; callers serialize access with their own mutex.
// Errors map to store_* codes; SQL text never leaves this module.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/primitives.h"

namespace aegis::store::internal {

inline constexpr int kBusyTimeoutMs = 5000;

struct DbOptions {
  bool synchronous_full = false;  // FULL for the control DB (audit durability)
  bool secure_delete = false;     // overwrite deleted content (crypto-shredding)
  bool create_if_missing = true;  // false: a missing file is store_not_found
};

class Db {
 public:
  // Opens or (if options.create_if_missing) creates `path` with mode 0600
  // (tightened if looser), then sets WAL, foreign_keys=ON and a 5 s busy timeout.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, const DbOptions& options);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements that return no rows worth reading.
  Status Exec(const char* sql);
  int64_t LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  const std::string& path() const { return path_; }
  sqlite3* handle() { return db_; }

  // Maps an SQLite result code to a store_* Status.
  Status Error(int rc, std::string_view what) const;

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
};

// A prepared statement; parameters are bound in order with the Bind* calls.
// A failure while preparing or binding is remembered and returned by Step/Run.
class Stmt {
 public:
  Stmt(Db& db, std::string_view sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& BindInt(int64_t value);
  Stmt& BindText(std::string_view value);
  Stmt& BindBlob(std::span<const uint8_t> value);
  Stmt& BindNull();

  // true: a row is available; false: done.
  Result<bool> Step();
  // Steps to completion, ignoring rows.
  Status Run();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const;
  crypto::Bytes Blob(int col) const;
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  Stmt& Check(int rc, const char* what);

  Db& db_;
  sqlite3_stmt* stmt_ = nullptr;
  int next_param_ = 1;
  Status status_;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back on destruction unless committed.
// IMMEDIATE takes the write lock up front (waiting up to the busy timeout), so
// reads inside the transaction see the latest committed state and cannot be
// invalidated by another process's write (the audit tail relies on this).
class Txn {
 public:
  explicit Txn(Db& db) : db_(db) {}
  ~Txn();
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  Status Begin();
  Status Commit();

 private:
  Db& db_;
  bool active_ = false;
};

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// Applies every migration newer than the recorded version, each in its own
// transaction, recording it in schema_migrations. Refuses (store_invalid) a
// database whose version is newer than the newest migration known here.
Status Migrate(Db& db, std::span<const Migration> migrations, const Clock& clock,
               std::string_view what);

// The schemas (schema.cc).
std::span<const Migration> ControlMigrations();
std::span<const Migration> AppMigrations();

}  // namespace aegis::store::internal
