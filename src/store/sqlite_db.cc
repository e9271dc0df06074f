#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "store/sqlite_internal.h"

namespace aegis::store::internal {
namespace {

Status IoError(const std::string& what, const std::string& path) {
  return Status::Error("store_io", what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

// ---- Db ----

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, const DbOptions& options) {
  // Create the file ourselves so its mode is 0600 from the first byte; SQLite
  // gives the -wal and -shm files the same mode as the database file.
  const int flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW | (options.create_if_missing ? O_CREAT : 0);
  const int fd = ::open(path.c_str(), flags, 0600);
  if (fd < 0 && errno == ENOENT && !options.create_if_missing) {
    return Status::Error("store_not_found", "database file " + path + " does not exist");
  }
  if (fd < 0) return IoError("cannot open", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || ((st.st_mode & 0077) != 0 && ::fchmod(fd, st.st_mode & 0700) != 0)) {
    const Status s = IoError("cannot restrict permissions of", path);
    ::close(fd);
    return s;
  }
  ::close(fd);

  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close_v2(raw);
    return Status::Error("store_io", "cannot open database " + path + ": " + msg);
  }
  std::unique_ptr<Db> db(new Db(raw, path));
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);

  AEGIS_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=ON; PRAGMA trusted_schema=OFF;"));
  AEGIS_RETURN_IF_ERROR(db->Exec(options.synchronous_full ? "PRAGMA synchronous=FULL;"
                                                          : "PRAGMA synchronous=NORMAL;"));
  if (options.secure_delete) AEGIS_RETURN_IF_ERROR(db->Exec("PRAGMA secure_delete=ON;"));
  {
    Stmt wal(*db, "PRAGMA journal_mode=WAL;");
    auto row = wal.Step();
    if (!row.ok()) return row.status();
    if (!*row || wal.Text(0) != "wal") {
      return Status::Error("store_io", "cannot enable WAL mode on " + path);
    }
  }
  return db;
}

Db::~Db() { sqlite3_close_v2(db_); }

Status Db::Exec(const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return Error(rc, "exec");
  return Status::Ok();
}

Status Db::Error(int rc, std::string_view what) const {
  const std::string msg = std::string(what) + ": " + sqlite3_errmsg(db_);
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return Status::Error("store_conflict", msg);
      }
      return Status::Error("store_invalid", msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Error("store_io", "database is busy (" + msg + ")");
    default:
      return Status::Error("store_io", msg);
  }
}

// ---- Stmt ----

Stmt::Stmt(Db& db, std::string_view sql) : db_(db) {
  const int rc =
      sqlite3_prepare_v2(db.handle(), sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) status_ = db_.Error(rc, "prepare");
}

Stmt::~Stmt() { sqlite3_finalize(stmt_); }

Stmt& Stmt::Check(int rc, const char* what) {
  if (rc != SQLITE_OK && status_.ok()) status_ = db_.Error(rc, what);
  ++next_param_;
  return *this;
}

Stmt& Stmt::BindInt(int64_t value) {
  if (!status_.ok()) return *this;
  return Check(sqlite3_bind_int64(stmt_, next_param_, value), "bind");
}

Stmt& Stmt::BindText(std::string_view value) {
  if (!status_.ok()) return *this;
  return Check(sqlite3_bind_text64(stmt_, next_param_, value.data(), value.size(), SQLITE_TRANSIENT,
                                   SQLITE_UTF8),
               "bind");
}

Stmt& Stmt::BindBlob(std::span<const uint8_t> value) {
  if (!status_.ok()) return *this;
  // A zero-length blob with a null pointer would bind NULL; use a static byte.
  static const uint8_t kEmpty = 0;
  return Check(sqlite3_bind_blob64(stmt_, next_param_, value.empty() ? &kEmpty : value.data(),
                                   value.size(), SQLITE_TRANSIENT),
               "bind");
}

Stmt& Stmt::BindNull() {
  if (!status_.ok()) return *this;
  return Check(sqlite3_bind_null(stmt_, next_param_), "bind");
}

Result<bool> Stmt::Step() {
  if (!status_.ok()) return status_;
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  status_ = db_.Error(rc, "step");
  return status_;
}

Status Stmt::Run() {
  for (;;) {
    auto row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
  }
}

std::string Stmt::Text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

crypto::Bytes Stmt::Blob(int col) const {
  const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, col));
  const int n = sqlite3_column_bytes(stmt_, col);
  return p ? crypto::Bytes(p, p + n) : crypto::Bytes();
}

// ---- Txn ----

Status Txn::Begin() {
  AEGIS_RETURN_IF_ERROR(db_.Exec("BEGIN IMMEDIATE;"));
  active_ = true;
  return Status::Ok();
}

Status Txn::Commit() {
  Status s = db_.Exec("COMMIT;");
  if (s.ok()) active_ = false;
  return s;
}

Txn::~Txn() {
  if (active_) (void)db_.Exec("ROLLBACK;");
}

// ---- Migrations ----

Status Migrate(Db& db, std::span<const Migration> migrations, const Clock& clock,
               std::string_view what) {
  AEGIS_RETURN_IF_ERROR(
      db.Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
              " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);"));
  const int known = migrations.empty() ? 0 : migrations.back().version;
  for (const Migration& m : migrations) {
    Txn txn(db);
    AEGIS_RETURN_IF_ERROR(txn.Begin());
    // Re-read inside the write transaction: another process may have migrated.
    Stmt current(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations;");
    auto row = current.Step();
    if (!row.ok()) return row.status();
    const int64_t version = current.Int(0);
    if (version > known) {
      return Status::Error("store_invalid",
                           std::string(what) + " " + db.path() + " has schema version " +
                               std::to_string(version) + " but this build knows only up to " +
                               std::to_string(known) + "; upgrade Aegis before opening it");
    }
    if (version >= m.version) continue;
    if (m.version != version + 1) {
      return Status::Error("store_invalid", std::string(what) + " migration " +
                                                std::to_string(m.version) + " out of order");
    }
    AEGIS_RETURN_IF_ERROR(db.Exec(m.sql));
    AEGIS_RETURN_IF_ERROR(
        Stmt(db, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?);")
            .BindInt(m.version)
            .BindText(m.name)
            .BindInt(clock.NowUnixSeconds())
            .Run());
    AEGIS_RETURN_IF_ERROR(txn.Commit());
  }
  // Also refuse when there was nothing to apply but the file is newer.
  Stmt current(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations;");
  auto row = current.Step();
  if (!row.ok()) return row.status();
  if (current.Int(0) > known) {
    return Status::Error("store_invalid",
                         std::string(what) + " " + db.path() + " has schema version " +
                             std::to_string(current.Int(0)) + " but this build knows only up to " +
                             std::to_string(known) + "; upgrade Aegis before opening it");
  }
  return Status::Ok();
}

}  // namespace aegis::store::internal
