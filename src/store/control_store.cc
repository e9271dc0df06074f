#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>

#include "core/log.h"
#include "core/mask.h"
#include "crypto/primitives.h"
#include "store/app_store_internal.h"
#include "store/audit_internal.h"
#include "store/control_store_internal.h"
#include "store/data_dir.h"
#include "store/sqlite_internal.h"
#include "store/store.h"

namespace aegis::store {
namespace {

using internal::Db;
using internal::Stmt;
using internal::Txn;

constexpr std::string_view kLogTag = "store";
constexpr uint64_t kFirstUin = 100000001;
constexpr uint32_t kFirstSdkAppId = 1400000001;
constexpr int64_t kTouchIntervalMs = 60'000;
constexpr size_t kMaxTouchEntries = 10'000;
constexpr size_t kMaxNameBytes = 128;
constexpr uint32_t kFirstDekVersion = 1;

std::string AccountOwner(uint64_t uin) { return "account:" + std::to_string(uin); }
std::string AppTarget(uint32_t sdkappid) { return "app:" + std::to_string(sdkappid); }
std::string SecretTarget(std::string_view secret_id) {
  return "secret:" + MaskCredentialId(secret_id);
}
// A short unkeyed fingerprint so an operator can tell masked SecretIds apart
// in the audit log; a SecretId is an identifier, not a credential.
std::string SecretFingerprint(std::string_view secret_id) {
  return crypto::HexEncode(crypto::Sha256(crypto::AsBytes(secret_id))).substr(0, 12);
}

Status CheckName(std::string_view what, std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) {
    return Status::Error("store_invalid", std::string(what) + " name must be 1.." +
                                              std::to_string(kMaxNameBytes) + " bytes");
  }
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return Status::Error("store_invalid", std::string(what) + " name has control characters");
    }
  }
  return Status::Ok();
}

bool LooksLikeSecretId(std::string_view id) {
  return id.size() == 36 && id.substr(0, 4) == "AKID" && std::ranges::all_of(id, [](char c) {
           return std::isalnum(static_cast<unsigned char>(c));
         });
}

Status StatusOf(const Status& s) { return s; }
template <typename T>
Status StatusOf(const Result<T>& r) {
  return r.status();
}

class ControlStoreImpl final : public ControlStore {
 public:
  ControlStoreImpl(std::string data_dir, crypto::Keyring& keyring, const Clock& clock,
                   std::unique_ptr<Db> db)
      : data_dir_(std::move(data_dir)), keyring_(keyring), clock_(clock), db_(std::move(db)) {}

  Status Init() {
    auto dek = LoadOrCreateAuditDek();
    if (!dek.ok()) return dek.status();
    audit_ = std::make_unique<internal::AuditLogImpl>(*db_, mu_, clock_,
                                                      internal::AuditKeys::Derive(*dek));
    return Status::Ok();
  }

  Status Ping() override {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt s(*db_, "SELECT COUNT(*) FROM schema_migrations;");
    auto row = s.Step();
    return row.ok() ? Status::Ok() : row.status();
  }

  // ---- Accounts ----

  Result<Account> CreateAccount(std::string_view name, const AuditContext& ctx) override {
    AEGIS_RETURN_IF_ERROR(CheckName("account", name));
    return Mutate("account.create", "account", ctx, [&](AuditEvent& ev) -> Result<Account> {
      Stmt next(*db_, "SELECT COALESCE(MAX(uin) + 1, ?) FROM accounts;");
      next.BindInt(static_cast<int64_t>(kFirstUin));
      auto row = next.Step();
      if (!row.ok()) return row.status();
      Account a;
      a.uin = static_cast<uint64_t>(next.Int(0));
      a.name = std::string(name);
      a.status = "enabled";
      a.created_at = clock_.NowUnixSeconds();
      ev.target = AccountOwner(a.uin);
      AEGIS_RETURN_IF_ERROR(
          Stmt(*db_, "INSERT INTO accounts (uin, name, status, created_at) VALUES (?, ?, ?, ?);")
              .BindInt(static_cast<int64_t>(a.uin))
              .BindText(a.name)
              .BindText(a.status)
              .BindInt(a.created_at)
              .Run());
      auto dek = CreateDek(AccountOwner(a.uin));
      if (!dek.ok()) return dek.status();
      return a;
    });
  }

  Result<std::vector<Account>> ListAccounts() override {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt s(*db_, "SELECT uin, name, status, created_at FROM accounts ORDER BY uin;");
    std::vector<Account> out;
    for (;;) {
      auto row = s.Step();
      if (!row.ok()) return row.status();
      if (!*row) return out;
      out.push_back(ReadAccount(s));
    }
  }

  Result<Account> GetAccount(uint64_t uin) override {
    std::lock_guard<std::mutex> lock(mu_);
    return GetAccountLocked(uin);
  }

  // ---- Applications ----

  Result<CreatedApp> CreateApplication(uint64_t uin, std::string_view name,
                                       const AuditContext& ctx) override {
    AEGIS_RETURN_IF_ERROR(CheckName("application", name));
    std::string created_path;
    auto result =
        Mutate("app.create", AccountOwner(uin), ctx, [&](AuditEvent& ev) -> Result<CreatedApp> {
          auto account = GetAccountLocked(uin);
          if (!account.ok()) return account.status();
          if (account->status != "enabled") {
            return Status::Error("store_disabled", "account is disabled");
          }
          Stmt next(*db_, "SELECT COALESCE(MAX(sdkappid) + 1, ?) FROM applications;");
          next.BindInt(kFirstSdkAppId);
          auto row = next.Step();
          if (!row.ok()) return row.status();
          CreatedApp created;
          Application& app = created.app;
          app.sdkappid = static_cast<uint32_t>(next.Int(0));
          app.uin = uin;
          app.name = std::string(name);
          app.status = "enabled";
          app.created_at = clock_.NowUnixSeconds();
          ev.target = AppTarget(app.sdkappid);
          ev.detail = "uin=" + std::to_string(uin) + " key_id=1";
          AEGIS_RETURN_IF_ERROR(
              Stmt(*db_,
                   "INSERT INTO applications (sdkappid, uin, name, status, created_at, tags, "
                   "recording_enabled, relay_enabled, plan) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?);")
                  .BindInt(app.sdkappid)
                  .BindInt(static_cast<int64_t>(uin))
                  .BindText(app.name)
                  .BindText(app.status)
                  .BindInt(app.created_at)
                  .BindText(nlohmann::json(app.tags).dump())
                  .BindInt(app.recording_enabled ? 1 : 0)
                  .BindInt(app.relay_enabled ? 1 : 0)
                  .BindText(app.plan)
                  .Run());
          auto dek = CreateDek(internal::AppOwner(app.sdkappid));
          if (!dek.ok()) return dek.status();
          auto key = InsertAppKey(app.sdkappid, 1);
          if (!key.ok()) return key.status();
          created.key = std::move(*key);

          // The database file: an orphan left by a crashed attempt for this
          // (never committed) id belongs to no one and is replaced.
          const std::string path = AppDbPath(app.sdkappid);
          RemoveAppFiles(path);
          created_path = path;
          auto store = internal::OpenAppStore(path, app.sdkappid, {*dek}, clock_,
                                              internal::AppDbMode::kCreate);
          if (!store.ok()) return store.status();
          return created;
        });
    if (!result.ok() && !created_path.empty()) RemoveAppFiles(created_path);
    return result;
  }

  Result<std::vector<Application>> ListApplications(std::optional<uint64_t> uin) override {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt s(*db_, std::string(kAppColumns) + "WHERE status != 'deleted'" +
                     (uin ? " AND uin = ?" : "") + " ORDER BY sdkappid;");
    if (uin) s.BindInt(static_cast<int64_t>(*uin));
    std::vector<Application> out;
    for (;;) {
      auto row = s.Step();
      if (!row.ok()) return row.status();
      if (!*row) return out;
      out.push_back(ReadApplication(s));
    }
  }

  Result<Application> GetApplication(uint32_t sdkappid) override {
    std::lock_guard<std::mutex> lock(mu_);
    return GetLiveAppLocked(sdkappid);
  }

  Status DeleteApplication(uint32_t sdkappid, const AuditContext& ctx) override {
    Status s = Mutate("app.delete", AppTarget(sdkappid), ctx, [&](AuditEvent&) -> Status {
      auto app = GetLiveAppLocked(sdkappid);
      if (!app.ok()) return app.status();
      // Crypto-shredding: without the DEK, the app database, its backups and
      // the sealed key bytes are unreadable.
      AEGIS_RETURN_IF_ERROR(Stmt(*db_, "DELETE FROM deks WHERE owner = ?;")
                                .BindText(internal::AppOwner(sdkappid))
                                .Run());
      AEGIS_RETURN_IF_ERROR(
          Stmt(*db_,
               "UPDATE app_keys SET status = 'revoked', key_sealed = NULL WHERE sdkappid = ?;")
              .BindInt(sdkappid)
              .Run());
      return Stmt(*db_,
                  "UPDATE applications SET status = 'deleted', deleted_at = ? WHERE sdkappid = ?;")
          .BindInt(clock_.NowUnixSeconds())
          .BindInt(sdkappid)
          .Run();
    });
    if (!s.ok()) return s;
    RemoveAppFiles(AppDbPath(sdkappid));
    {
      // Push the deleted DEK pages out of the WAL (secure_delete zeroes them
      // in the main file). Best effort: a concurrent reader may hold the WAL.
      std::lock_guard<std::mutex> lock(mu_);
      (void)db_->Exec("PRAGMA wal_checkpoint(TRUNCATE);");
    }
    return Status::Ok();
  }

  // ---- Application keys ----

  Result<std::vector<AppKeyMaterial>> VerifyingAppKeys(uint32_t sdkappid) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto app = GetLiveAppLocked(sdkappid);
    if (!app.ok()) return app.status();
    if (app->status != "enabled") {
      return Status::Error("store_disabled", "application is disabled");
    }
    Stmt s(*db_,
           "SELECT key_id, status, created_at, key_sealed FROM app_keys WHERE sdkappid = ? AND "
           "status IN ('active', 'retiring') ORDER BY key_id DESC;");
    s.BindInt(sdkappid);
    std::vector<AppKeyMaterial> out;
    for (;;) {
      auto row = s.Step();
      if (!row.ok()) return row.status();
      if (!*row) return out;
      auto key = ReadAppKeyMaterial(sdkappid, s);
      if (!key.ok()) return key.status();  // fail closed: a tampered row is an error
      out.push_back(std::move(*key));
    }
  }

  Result<std::vector<AppKeyInfo>> ListAppKeys(uint32_t sdkappid) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto app = GetLiveAppLocked(sdkappid);
    if (!app.ok()) return app.status();
    Stmt s(*db_,
           "SELECT key_id, status, created_at FROM app_keys WHERE sdkappid = ? ORDER BY key_id;");
    s.BindInt(sdkappid);
    std::vector<AppKeyInfo> out;
    for (;;) {
      auto row = s.Step();
      if (!row.ok()) return row.status();
      if (!*row) return out;
      out.push_back(ReadAppKeyInfo(s));
    }
  }

  Result<AppKeyMaterial> CurrentAppKey(uint32_t sdkappid, const AuditContext& ctx) override {
    return Mutate("app.key.show", AppTarget(sdkappid), ctx,
                  [&](AuditEvent& ev) -> Result<AppKeyMaterial> {
                    auto app = GetLiveAppLocked(sdkappid);
                    if (!app.ok()) return app.status();
                    Stmt s(*db_,
                           "SELECT key_id, status, created_at, key_sealed FROM app_keys WHERE "
                           "sdkappid = ? AND status = 'active' ORDER BY key_id DESC LIMIT 1;");
                    s.BindInt(sdkappid);
                    auto row = s.Step();
                    if (!row.ok()) return row.status();
                    if (!*row) return Status::Error("store_not_found", "no active key");
                    auto key = ReadAppKeyMaterial(sdkappid, s);
                    if (key.ok()) ev.detail = "key_id=" + std::to_string(key->info.key_id);
                    return key;
                  });
  }

  Result<AppKeyMaterial> RotateAppKey(uint32_t sdkappid, const AuditContext& ctx) override {
    return Mutate(
        "app.key.rotate", AppTarget(sdkappid), ctx, [&](AuditEvent& ev) -> Result<AppKeyMaterial> {
          auto app = GetLiveAppLocked(sdkappid);
          if (!app.ok()) return app.status();
          Stmt next(*db_, "SELECT COALESCE(MAX(key_id), 0) + 1 FROM app_keys WHERE sdkappid = ?;");
          next.BindInt(sdkappid);
          auto row = next.Step();
          if (!row.ok()) return row.status();
          const auto key_id = static_cast<uint32_t>(next.Int(0));
          AEGIS_RETURN_IF_ERROR(
              Stmt(*db_,
                   "UPDATE app_keys SET status = 'retiring' WHERE sdkappid = ? AND "
                   "status = 'active';")
                  .BindInt(sdkappid)
                  .Run());
          ev.detail = "key_id=" + std::to_string(key_id);
          return InsertAppKey(sdkappid, key_id);
        });
  }

  Status RevokeAppKey(uint32_t sdkappid, uint32_t key_id, const AuditContext& ctx) override {
    return Mutate("app.key.revoke", AppTarget(sdkappid), ctx, [&](AuditEvent& ev) -> Status {
      ev.detail = "key_id=" + std::to_string(key_id);
      auto app = GetLiveAppLocked(sdkappid);
      if (!app.ok()) return app.status();
      Stmt find(*db_, "SELECT status FROM app_keys WHERE sdkappid = ? AND key_id = ?;");
      find.BindInt(sdkappid).BindInt(key_id);
      auto row = find.Step();
      if (!row.ok()) return row.status();
      if (!*row) return Status::Error("store_not_found", "unknown key id");
      // The key material is dropped, not just flagged.
      return Stmt(*db_,
                  "UPDATE app_keys SET status = 'revoked', key_sealed = NULL "
                  "WHERE sdkappid = ? AND key_id = ?;")
          .BindInt(sdkappid)
          .BindInt(key_id)
          .Run();
    });
  }

  // ---- Secrets ----

  Result<SecretMaterial> CreateSecret(uint64_t uin, const AuditContext& ctx) override {
    return Mutate(
        "secret.create", AccountOwner(uin), ctx, [&](AuditEvent& ev) -> Result<SecretMaterial> {
          auto account = GetAccountLocked(uin);
          if (!account.ok()) return account.status();
          if (account->status != "enabled") {
            return Status::Error("store_disabled", "account is disabled");
          }
          SecretMaterial m;
          m.info.secret_id = "AKID" + crypto::RandomAlnum(32);
          m.info.uin = uin;
          m.info.status = "enabled";
          m.info.created_at = clock_.NowUnixSeconds();
          m.secret_key = crypto::RandomAlnum(32);
          const std::string owner = AccountOwner(uin);
          auto sealed = SealFor(owner, "secrets", "secret_key", m.info.secret_id, m.secret_key);
          if (!sealed.ok()) return sealed.status();
          ev.target = SecretTarget(m.info.secret_id);
          ev.detail = "uin=" + std::to_string(uin) + " fp=" + SecretFingerprint(m.info.secret_id);
          AEGIS_RETURN_IF_ERROR(
              Stmt(*db_,
                   "INSERT INTO secrets (secret_id, uin, status, created_at, last_used_at, "
                   "secret_key_sealed) VALUES (?, ?, ?, ?, 0, ?);")
                  .BindText(m.info.secret_id)
                  .BindInt(static_cast<int64_t>(uin))
                  .BindText(m.info.status)
                  .BindInt(m.info.created_at)
                  .BindBlob(*sealed)
                  .Run());
          return m;
        });
  }

  Result<std::vector<SecretInfo>> ListSecrets(uint64_t uin) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto account = GetAccountLocked(uin);
    if (!account.ok()) return account.status();
    Stmt s(*db_,
           "SELECT secret_id, uin, status, created_at, last_used_at FROM secrets WHERE uin = ? "
           "ORDER BY created_at, secret_id;");
    s.BindInt(static_cast<int64_t>(uin));
    std::vector<SecretInfo> out;
    for (;;) {
      auto row = s.Step();
      if (!row.ok()) return row.status();
      if (!*row) return out;
      out.push_back(ReadSecretInfo(s));
    }
  }

  Status DisableSecret(std::string_view secret_id, const AuditContext& ctx) override {
    return Mutate("secret.disable", SecretTarget(secret_id), ctx, [&](AuditEvent& ev) -> Status {
      ev.detail = "fp=" + SecretFingerprint(secret_id);
      AEGIS_RETURN_IF_ERROR(
          Stmt(*db_, "UPDATE secrets SET status = 'disabled' WHERE secret_id = ?;")
              .BindText(secret_id)
              .Run());
      if (db_->Changes() == 0) return Status::Error("store_not_found", "unknown SecretId");
      return Status::Ok();
    });
  }

  Result<SecretMaterial> LookupSecret(std::string_view secret_id) override {
    if (!LooksLikeSecretId(secret_id)) {
      return Status::Error("store_not_found", "unknown SecretId");
    }
    std::lock_guard<std::mutex> lock(mu_);
    Stmt s(*db_,
           "SELECT secret_id, uin, status, created_at, last_used_at, secret_key_sealed FROM "
           "secrets WHERE secret_id = ?;");
    s.BindText(secret_id);
    auto row = s.Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Error("store_not_found", "unknown SecretId");
    SecretMaterial m;
    m.info = ReadSecretInfo(s);
    auto key =
        OpenFor(AccountOwner(m.info.uin), "secrets", "secret_key", m.info.secret_id, s.Blob(5));
    if (!key.ok()) return key.status();
    m.secret_key = std::move(*key);
    return m;
  }

  void TouchSecret(std::string_view secret_id) override {
    if (!LooksLikeSecretId(secret_id)) return;
    const int64_t now = clock_.NowUnixMillis();
    std::lock_guard<std::mutex> lock(mu_);
    const std::string id(secret_id);
    auto it = touched_.find(id);
    if (it != touched_.end() && now - it->second < kTouchIntervalMs) return;
    if (touched_.size() >= kMaxTouchEntries) {
      std::erase_if(touched_, [&](const auto& e) { return now - e.second >= kTouchIntervalMs; });
    }
    touched_[id] = now;
    const Status s = Stmt(*db_, "UPDATE secrets SET last_used_at = ? WHERE secret_id = ?;")
                         .BindInt(now / 1000)
                         .BindText(secret_id)
                         .Run();
    if (!s.ok()) LogWarn(kLogTag, "cannot record secret use", {{"error", s.code()}});
  }

  // ---- Keys ----

  Result<size_t> RewrapAllDeks(const AuditContext& ctx) override {
    return Mutate("keys.rewrap", "deks", ctx, [&](AuditEvent& ev) -> Result<size_t> {
      const uint32_t current = keyring_.master().CurrentVersion();
      Stmt s(*db_,
             "SELECT owner, dek_version, kek_version, wrapped FROM deks WHERE kek_version != ? "
             "ORDER BY owner, dek_version;");
      s.BindInt(current);
      struct Row {
        std::string owner;
        uint32_t dek_version;
        crypto::WrappedDek wrapped;
      };
      std::vector<Row> rows;
      for (;;) {
        auto row = s.Step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        rows.push_back({s.Text(0), static_cast<uint32_t>(s.Int(1)),
                        crypto::WrappedDek{static_cast<uint32_t>(s.Int(2)), s.Blob(3)}});
      }
      for (const Row& r : rows) {
        auto rewrapped = keyring_.Rewrap(r.owner, r.dek_version, r.wrapped);
        if (!rewrapped.ok()) return rewrapped.status();
        AEGIS_RETURN_IF_ERROR(
            Stmt(
                *db_,
                "UPDATE deks SET kek_version = ?, wrapped = ? WHERE owner = ? AND dek_version = ?;")
                .BindInt(rewrapped->kek_version)
                .BindBlob(rewrapped->wrapped)
                .BindText(r.owner)
                .BindInt(r.dek_version)
                .Run());
      }
      ev.detail =
          "rewrapped=" + std::to_string(rows.size()) + " kek_version=" + std::to_string(current);
      return rows.size();
    });
  }

  Result<std::unique_ptr<AppStore>> OpenApp(uint32_t sdkappid) override {
    std::vector<crypto::Dek> deks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto app = GetLiveAppLocked(sdkappid);
      if (!app.ok()) return app.status();
      auto loaded = LoadDeks(internal::AppOwner(sdkappid));
      if (!loaded.ok()) return loaded.status();
      deks = std::move(*loaded);
    }
    if (deks.empty()) return Status::Error("store_not_found", "application has no data key");
    // Never recreate a vanished file: an empty database would silently stand
    // in for the application's history (restore it from backup instead).
    auto store = internal::OpenAppStore(AppDbPath(sdkappid), sdkappid, std::move(deks), clock_,
                                        internal::AppDbMode::kMustExist);
    if (!store.ok() && store.status().code() == "store_not_found") {
      LogError(kLogTag, "application database missing", {{"sdkappid", sdkappid}});
      return Status::Error("store_not_found", "application database missing");
    }
    return store;
  }

  AuditLog& audit() override { return *audit_; }

 private:
  static constexpr const char* kAppColumns =
      "SELECT sdkappid, uin, name, status, created_at, tags, recording_enabled, relay_enabled, "
      "plan FROM applications ";

  // Runs `fn` in one write transaction together with the audit record it
  // fills in. On failure the change rolls back and the failure is audited in
  // a transaction of its own (best effort).
  template <typename Fn>
  auto Mutate(std::string_view action, std::string target, const AuditContext& ctx, Fn&& fn)
      -> decltype(fn(std::declval<AuditEvent&>())) {
    using R = decltype(fn(std::declval<AuditEvent&>()));
    AuditEvent ev;
    ev.actor = ctx.actor;
    ev.action = std::string(action);
    ev.target = std::move(target);
    ev.result = "ok";
    ev.request_id = ctx.request_id;
    ev.client_ip = ctx.client_ip;
    std::lock_guard<std::mutex> lock(mu_);
    Status failure;
    {
      Txn txn(*db_);
      failure = txn.Begin();
      if (failure.ok()) {
        R r = fn(ev);
        failure = StatusOf(r);
        if (failure.ok()) failure = audit_->AppendLocked(ev);
        if (failure.ok()) failure = txn.Commit();
        if (failure.ok()) return r;
      }
    }
    ev.result = failure.code();
    Txn txn(*db_);
    if (txn.Begin().ok() && audit_->AppendLocked(ev).ok()) (void)txn.Commit();
    return failure;
  }

  // ---- DEKs (caller holds mu_) ----

  Result<crypto::Dek> CreateDek(const std::string& owner) {
    auto dek = keyring_.NewDek(owner, kFirstDekVersion);
    if (!dek.ok()) return dek.status();
    AEGIS_RETURN_IF_ERROR(Stmt(*db_,
                               "INSERT INTO deks (owner, dek_version, kek_version, wrapped, "
                               "created_at) VALUES (?, ?, ?, ?, ?);")
                              .BindText(owner)
                              .BindInt(kFirstDekVersion)
                              .BindInt(dek->second.kek_version)
                              .BindBlob(dek->second.wrapped)
                              .BindInt(clock_.NowUnixSeconds())
                              .Run());
    return dek->first;  // Dek is copy-only (its copy zeroes on destruction)
  }

  Result<std::vector<crypto::Dek>> LoadDeks(const std::string& owner,
                                            std::optional<uint32_t> version = std::nullopt) {
    Stmt s(*db_, std::string("SELECT dek_version, kek_version, wrapped FROM deks WHERE owner = ?") +
                     (version ? " AND dek_version = ?" : "") + " ORDER BY dek_version;");
    s.BindText(owner);
    if (version) s.BindInt(*version);
    std::vector<crypto::Dek> out;
    for (;;) {
      auto row = s.Step();
      if (!row.ok()) return row.status();
      if (!*row) return out;
      const auto dek_version = static_cast<uint32_t>(s.Int(0));
      auto dek = keyring_.UnwrapDek(owner, dek_version,
                                    crypto::WrappedDek{static_cast<uint32_t>(s.Int(1)), s.Blob(2)});
      if (!dek.ok()) return dek.status();
      out.push_back(std::move(*dek));
    }
  }

  Result<crypto::Bytes> SealFor(const std::string& owner, std::string_view table,
                                std::string_view column, std::string_view row_id,
                                std::string_view plaintext) {
    auto deks = LoadDeks(owner);
    if (!deks.ok()) return deks.status();
    if (deks->empty()) return Status::Error("store_not_found", "no data key for " + owner);
    return deks->back().Seal(crypto::FieldContext(owner, table, column, row_id),
                             crypto::AsBytes(plaintext));
  }

  Result<std::string> OpenFor(const std::string& owner, std::string_view table,
                              std::string_view column, std::string_view row_id,
                              const crypto::Bytes& sealed) {
    auto version = crypto::Dek::SealedVersion(sealed);
    if (!version.ok()) return version.status();
    auto deks = LoadDeks(owner, *version);
    if (!deks.ok()) return deks.status();
    if (deks->empty()) return Status::Error("store_not_found", "no data key for " + owner);
    auto plain = deks->front().Open(crypto::FieldContext(owner, table, column, row_id), sealed);
    if (!plain.ok()) return plain.status();
    std::string out(crypto::AsString(*plain));
    crypto::SecureZero(*plain);
    return out;
  }

  Result<crypto::Dek> LoadOrCreateAuditDek() {
    std::lock_guard<std::mutex> lock(mu_);
    Txn txn(*db_);  // IMMEDIATE: two processes opening at once create one DEK
    AEGIS_RETURN_IF_ERROR(txn.Begin());
    auto deks = LoadDeks(std::string(internal::kAuditOwner));
    if (!deks.ok()) {
      return Status::Error(
          deks.status().code(),
          "cannot unwrap the audit key (wrong master key file?): " + deks.status().message());
    }
    if (!deks->empty()) {
      AEGIS_RETURN_IF_ERROR(txn.Commit());
      return deks->front();
    }
    auto dek = CreateDek(std::string(internal::kAuditOwner));
    if (!dek.ok()) return dek.status();
    AEGIS_RETURN_IF_ERROR(txn.Commit());
    return dek;
  }

  // ---- Rows (caller holds mu_) ----

  static Account ReadAccount(const Stmt& s) {
    Account a;
    a.uin = static_cast<uint64_t>(s.Int(0));
    a.name = s.Text(1);
    a.status = s.Text(2);
    a.created_at = s.Int(3);
    return a;
  }

  Result<Account> GetAccountLocked(uint64_t uin) {
    Stmt s(*db_, "SELECT uin, name, status, created_at FROM accounts WHERE uin = ?;");
    s.BindInt(static_cast<int64_t>(uin));
    auto row = s.Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Error("store_not_found", "unknown account");
    return ReadAccount(s);
  }

  static Application ReadApplication(const Stmt& s) {
    Application a;
    a.sdkappid = static_cast<uint32_t>(s.Int(0));
    a.uin = static_cast<uint64_t>(s.Int(1));
    a.name = s.Text(2);
    a.status = s.Text(3);
    a.created_at = s.Int(4);
    const auto tags = nlohmann::json::parse(s.Text(5), nullptr, /*allow_exceptions=*/false);
    if (tags.is_object()) {
      for (const auto& [k, v] : tags.items()) {
        if (v.is_string()) a.tags[k] = v.get<std::string>();
      }
    }
    a.recording_enabled = s.Int(6) != 0;
    a.relay_enabled = s.Int(7) != 0;
    a.plan = s.Text(8);
    return a;
  }

  // Unknown and deleted applications are both store_not_found.
  Result<Application> GetLiveAppLocked(uint32_t sdkappid) {
    Stmt s(*db_, std::string(kAppColumns) + "WHERE sdkappid = ? AND status != 'deleted';");
    s.BindInt(sdkappid);
    auto row = s.Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Error("store_not_found", "unknown application");
    return ReadApplication(s);
  }

  static AppKeyInfo ReadAppKeyInfo(const Stmt& s) {
    AppKeyInfo k;
    k.key_id = static_cast<uint32_t>(s.Int(0));
    k.status = s.Text(1);
    k.created_at = s.Int(2);
    return k;
  }

  static std::string AppKeyRow(uint32_t sdkappid, uint32_t key_id) {
    return std::to_string(sdkappid) + "/" + std::to_string(key_id);
  }

  // Columns: key_id, status, created_at, key_sealed.
  Result<AppKeyMaterial> ReadAppKeyMaterial(uint32_t sdkappid, const Stmt& s) {
    AppKeyMaterial m;
    m.info = ReadAppKeyInfo(s);
    if (s.IsNull(3)) return Status::Error("store_not_found", "key material was destroyed");
    auto key = OpenFor(internal::AppOwner(sdkappid), "app_keys", "key",
                       AppKeyRow(sdkappid, m.info.key_id), s.Blob(3));
    if (!key.ok()) return key.status();
    m.key = std::move(*key);
    return m;
  }

  Result<AppKeyMaterial> InsertAppKey(uint32_t sdkappid, uint32_t key_id) {
    AppKeyMaterial m;
    m.info.key_id = key_id;
    m.info.status = "active";
    m.info.created_at = clock_.NowUnixSeconds();
    auto raw = crypto::RandomBytes(32);
    m.key = crypto::HexEncode(raw);
    crypto::SecureZero(raw);
    auto sealed = SealFor(internal::AppOwner(sdkappid), "app_keys", "key",
                          AppKeyRow(sdkappid, key_id), m.key);
    if (!sealed.ok()) return sealed.status();
    AEGIS_RETURN_IF_ERROR(Stmt(*db_,
                               "INSERT INTO app_keys (sdkappid, key_id, status, created_at, "
                               "key_sealed) VALUES (?, ?, ?, ?, ?);")
                              .BindInt(sdkappid)
                              .BindInt(key_id)
                              .BindText(m.info.status)
                              .BindInt(m.info.created_at)
                              .BindBlob(*sealed)
                              .Run());
    return m;
  }

  static SecretInfo ReadSecretInfo(const Stmt& s) {
    SecretInfo i;
    i.secret_id = s.Text(0);
    i.uin = static_cast<uint64_t>(s.Int(1));
    i.status = s.Text(2);
    i.created_at = s.Int(3);
    i.last_used_at = s.Int(4);
    return i;
  }

  // ---- Files ----

  std::string AppDbPath(uint32_t sdkappid) const {
    return data_dir_ + "/apps/" + std::to_string(sdkappid) + ".db";
  }

  static void RemoveAppFiles(const std::string& path) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      const std::string p = path + suffix;
      if (::unlink(p.c_str()) != 0 && errno != ENOENT) {
        LogWarn(kLogTag, "cannot remove application database file",
                {{"path", p}, {"error", std::strerror(errno)}});
      }
    }
  }

  // Passed by argument.
  const std::string data_dir_;
  crypto::Keyring& keyring_;
  const Clock& clock_;
  // Allocated by this.
  std::mutex mu_;  // guards db_, touched_; shared with audit_
  std::unique_ptr<Db> db_;
  std::unique_ptr<internal::AuditLogImpl> audit_;
  std::unordered_map<std::string, int64_t> touched_;  // secret_id -> last update (ms)
};

}  // namespace

Result<std::unique_ptr<ControlStore>> ControlStore::Open(const std::string& data_dir,
                                                         crypto::Keyring& keyring,
                                                         const Clock& clock) {
  internal::DbOptions options;
  options.synchronous_full = true;
  options.secure_delete = true;
  return internal::OpenControlStore(data_dir, keyring, clock, options);
}

namespace internal {

Result<std::unique_ptr<ControlStore>> OpenControlStore(const std::string& data_dir,
                                                       crypto::Keyring& keyring, const Clock& clock,
                                                       const DbOptions& options) {
  AEGIS_RETURN_IF_ERROR(store::EnsurePrivateDir(data_dir));
  AEGIS_RETURN_IF_ERROR(store::EnsurePrivateDir(data_dir + "/apps"));
  struct stat st {};
  if (::stat(data_dir.c_str(), &st) == 0 && (st.st_mode & 0077) != 0) {
    // An operator-made directory is left alone; the files inside are 0600.
    LogWarn(kLogTag, "data directory is accessible by group or others; run chmod 700",
            {{"path", data_dir}});
  }
  auto db = Db::Open(data_dir + "/control.db", options);
  if (!db.ok()) return db.status();
  AEGIS_RETURN_IF_ERROR(Migrate(**db, ControlMigrations(), clock, "control database"));
  auto store = std::make_unique<ControlStoreImpl>(data_dir, keyring, clock, std::move(*db));
  AEGIS_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<ControlStore>(std::move(store));
}

}  // namespace internal
}  // namespace aegis::store
