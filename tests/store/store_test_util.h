// Shared fixtures for the store tests: a temp data dir, a file keyring, a
// FakeClock and raw SQLite access for tampering with the files directly.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/temp_dir.h"
#include "core/clock.h"
#include "crypto/keyring.h"
#include "crypto/primitives.h"
#include "store/store.h"

namespace aegis::store::testing {

using ::aegis::testing::TempDir;

// Raw connection for tests that tamper with or inspect the files.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  void Exec(const std::string& sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (err ? err : "");
    sqlite3_free(err);
  }
  // First column of the first row as text ("" if none).
  std::string Text(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sql;
    std::string out;
    if (s && sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0)) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    return out;
  }
  crypto::Bytes Blob(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sql;
    crypto::Bytes out;
    if (s && sqlite3_step(s) == SQLITE_ROW) {
      const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(s, 0));
      out.assign(p, p + sqlite3_column_bytes(s, 0));
    }
    sqlite3_finalize(s);
    return out;
  }
  int64_t Int(const std::string& sql) { return std::stoll("0" + Text(sql)); }
  // Exchanges `column` between the rows selected by two WHERE clauses.
  void SwapBlobs(const std::string& table, const std::string& column, const std::string& where1,
                 const std::string& where2) {
    const auto b1 = Blob("SELECT " + column + " FROM " + table + " WHERE " + where1 + ";");
    const auto b2 = Blob("SELECT " + column + " FROM " + table + " WHERE " + where2 + ";");
    ASSERT_FALSE(b1.empty());
    ASSERT_FALSE(b2.empty());
    ASSERT_NE(b1, b2);
    Exec("UPDATE " + table + " SET " + column + " = X'" + crypto::HexEncode(b2) + "' WHERE " +
         where1 + ";");
    Exec("UPDATE " + table + " SET " + column + " = X'" + crypto::HexEncode(b1) + "' WHERE " +
         where2 + ";");
  }

 private:
  sqlite3* db_ = nullptr;
};

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_path_ = dir_.path() + "/master.key";
    keyring_ = MakeKeyring();
    data_dir_ = dir_.path() + "/data";
    store_ = OpenStore();
  }

  std::unique_ptr<crypto::Keyring> MakeKeyring() {
    auto provider = crypto::FileMasterKeyProvider::Open(key_path_, /*create_if_missing=*/true);
    EXPECT_TRUE(provider.ok()) << provider.status().ToString();
    return std::make_unique<crypto::Keyring>(std::move(*provider));
  }

  std::unique_ptr<ControlStore> OpenStore() {
    auto store = ControlStore::Open(data_dir_, *keyring_, clock_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  std::string ControlPath() const { return data_dir_ + "/control.db"; }
  std::string AppPath(uint32_t sdkappid) const {
    return data_dir_ + "/apps/" + std::to_string(sdkappid) + ".db";
  }

  AuditContext Ctx() const { return AuditContext{"operator:local", "req-1", "203.0.113.7"}; }

  TempDir dir_;
  std::string key_path_;
  std::string data_dir_;
  FakeClock clock_;
  std::unique_ptr<crypto::Keyring> keyring_;
  std::unique_ptr<ControlStore> store_;
};

}  // namespace aegis::store::testing
