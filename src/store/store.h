// Persistent state of one Aegis node (embedded default: SQLite).
//
//  <data_dir>/control.db      accounts, applications, application keys,
//                              secrets, wrapped DEKs, audit log
//  <data_dir>/apps/<id>.db     one file per application: its rooms and
//                              sessions history (tenant isolation, R26)
//
// Code outside this module never builds SQL. Per-application data is only
// reachable through an AppStore obtained for one SdkAppId, so a cross-tenant
// read is not expressible. Secret columns (application keys, SecretKeys,
// user ids in app DBs) are sealed with the owner's DEK from the Keyring,
// bound to row and column. Every mutation of the control DB takes an
// AuditContext and appends its audit record in the same transaction.
//
// Migrations are versioned, forward-only and applied by Open(). WAL mode and
// foreign keys are on; other processes (aegisctl) may write concurrently and
// their changes are visible to the next call (no caching of mutable rows).
// ControlStore and AppStore are thread-safe (one connection, internal mutex).
// Error codes: store_not_found, store_conflict, store_invalid, store_io,
// store_disabled, plus crypto_* from the keyring.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/keyring.h"

namespace aegis::store {

struct Account {
  uint64_t uin = 0;
  std::string name;
  std::string status;      // "enabled" | "disabled"
  int64_t created_at = 0;  // unix seconds
};

struct Application {
  uint32_t sdkappid = 0;
  uint64_t uin = 0;
  std::string name;
  std::string status;  // "enabled" | "disabled"
  int64_t created_at = 0;
  std::map<std::string, std::string> tags;
  bool recording_enabled = false;
  bool relay_enabled = false;
  std::string plan = "standard";
};

struct AppKeyInfo {
  uint32_t key_id = 0;
  std::string status;  // "active" | "retiring" | "revoked"
  int64_t created_at = 0;
};

struct AppKeyMaterial {
  AppKeyInfo info;
  std::string key;  // plaintext application key (64 hex chars); never log it
};

struct SecretInfo {
  std::string secret_id;  // "AKID" + 32 alphanumerics
  uint64_t uin = 0;
  std::string status;  // "enabled" | "disabled"
  int64_t created_at = 0;
  int64_t last_used_at = 0;  // 0: never
};

struct SecretMaterial {
  SecretInfo info;
  std::string secret_key;  // plaintext (32 alphanumerics); never log it
};

// Who is making a change, for the audit record.
struct AuditContext {
  std::string actor;       // "operator:local" or "secret:<masked SecretId>"
  std::string request_id;  // empty for CLI actions
  std::string client_ip;   // full address; stored masked + keyed hash only
};

struct AuditEvent {
  std::string actor;
  std::string action;  // e.g. "app.create", "api.DismissRoom", "auth.failure"
  std::string target;  // e.g. "app:1400000001", "room:1400000001/1234"
  std::string result;  // "ok" or an error code
  std::string request_id;
  std::string client_ip;  // full; masked + hashed before storage
  std::string detail;     // optional, must not contain secrets or unmasked PII
};

struct AuditRecord {
  uint64_t seq = 0;  // strictly +1
  int64_t time_ms = 0;
  std::string actor, action, target, result, request_id;
  std::string client_ip_masked;
  std::string client_ip_hash;  // hex HMAC of the full address under the audit key
  std::string detail;
  std::string prev_hash;  // hex; the previous record's hash (genesis: 64 zeros)
  std::string hash;       // hex SHA-256(prev_hash || canonical(record))
  std::string mac;        // hex HMAC-SHA256(audit key, hash)
};

struct AuditVerifyReport {
  bool ok = true;
  uint64_t records = 0;
  uint64_t first_bad_seq = 0;  // when !ok
  // "modified" | "removed" | "inserted" | "reordered" | "bad_mac" | "truncated" |
  // "checkpoint_bad_mac" | "checkpoint_missing"
  std::string problem;
};

class AuditLog {
 public:
  virtual ~AuditLog() = default;
  // store_invalid when the checkpoint is missing or behind existing records:
  // appending would hide the damage (every audited mutation fails with it).
  virtual Status Append(const AuditEvent& event) = 0;
  virtual Result<std::vector<AuditRecord>> List(int64_t since_ms, size_t limit) = 0;
  virtual Result<AuditVerifyReport> Verify() = 0;
};

struct RoomInstance {
  std::string comm_id;  // unique per room instance
  std::string room_id;  // numeric id as decimal, or the string room id
  bool is_str_room = false;
  std::string creator;  // user id (plaintext in memory; sealed at rest)
  int64_t created_at = 0;
  int64_t destroyed_at = 0;  // 0: still live
};

struct UserSession {
  std::string comm_id;
  std::string user_id;  // plaintext in memory; sealed at rest
  std::string role;     // "anchor" | "audience"
  int64_t joined_at = 0;
  int64_t left_at = 0;  // 0: still in the room
  std::string leave_reason;
  std::string sdk_version;
  std::string os;
  std::string client_ip_masked;  // only the masked form is ever stored (R9)
};

struct RoomQuery {
  int64_t start_time = 0;  // rooms overlapping [start_time, end_time]
  int64_t end_time = 0;
  std::optional<std::string> room_id;
  size_t offset = 0;
  size_t limit = 100;
};

struct SessionQuery {
  std::string comm_id;
  int64_t start_time = 0;
  int64_t end_time = 0;
  std::vector<std::string> user_ids;  // empty: all
  size_t offset = 0;
  size_t limit = 100;
};

// One application's own database. Obtain from ControlStore::OpenApp.
class AppStore {
 public:
  virtual ~AppStore() = default;
  virtual uint32_t sdkappid() const = 0;
  virtual Status RecordRoomCreated(const RoomInstance& room) = 0;
  virtual Status RecordRoomDestroyed(std::string_view comm_id, int64_t at) = 0;
  virtual Status RecordSessionJoined(const UserSession& session) = 0;
  virtual Status RecordSessionLeft(std::string_view comm_id, std::string_view user_id, int64_t at,
                                   std::string_view reason) = 0;
  // Results plus the total count matching (for paging).
  virtual Result<std::pair<std::vector<RoomInstance>, size_t>> ListRooms(const RoomQuery& q) = 0;
  virtual Result<std::pair<std::vector<UserSession>, size_t>> ListSessions(
      const SessionQuery& q) = 0;
};

class ControlStore {
 public:
  virtual ~ControlStore() = default;

  // Opens (creating if needed) <data_dir>/control.db and applies migrations.
  // The keyring must outlive the store.
  static Result<std::unique_ptr<ControlStore>> Open(const std::string& data_dir,
                                                    crypto::Keyring& keyring, const Clock& clock);

  // Cheap query proving the database is reachable (for /readyz).
  virtual Status Ping() = 0;

  // Accounts. Uins start at 100000001.
  virtual Result<Account> CreateAccount(std::string_view name, const AuditContext& ctx) = 0;
  virtual Result<std::vector<Account>> ListAccounts() = 0;
  virtual Result<Account> GetAccount(uint64_t uin) = 0;

  // Applications. SdkAppIds start at 1400000001. Creating one creates its
  // DEK, its first key and its database file.
  struct CreatedApp {
    Application app;
    AppKeyMaterial key;
  };
  virtual Result<CreatedApp> CreateApplication(uint64_t uin, std::string_view name,
                                               const AuditContext& ctx) = 0;
  virtual Result<std::vector<Application>> ListApplications(std::optional<uint64_t> uin) = 0;
  virtual Result<Application> GetApplication(uint32_t sdkappid) = 0;
  // Destroys the application's DEK (crypto-shredding), marks it deleted and
  // removes its database file. Its keys stop verifying at once.
  virtual Status DeleteApplication(uint32_t sdkappid, const AuditContext& ctx) = 0;

  // Keys that verify UserSigs now: active and retiring, newest first.
  virtual Result<std::vector<AppKeyMaterial>> VerifyingAppKeys(uint32_t sdkappid) = 0;
  virtual Result<std::vector<AppKeyInfo>> ListAppKeys(uint32_t sdkappid) = 0;
  // The newest active key (`aegisctl app key show`).
  virtual Result<AppKeyMaterial> CurrentAppKey(uint32_t sdkappid, const AuditContext& ctx) = 0;
  // New active key; previous active keys become "retiring".
  virtual Result<AppKeyMaterial> RotateAppKey(uint32_t sdkappid, const AuditContext& ctx) = 0;
  virtual Status RevokeAppKey(uint32_t sdkappid, uint32_t key_id, const AuditContext& ctx) = 0;

  // API secrets of an account.
  virtual Result<SecretMaterial> CreateSecret(uint64_t uin, const AuditContext& ctx) = 0;
  virtual Result<std::vector<SecretInfo>> ListSecrets(uint64_t uin) = 0;
  virtual Status DisableSecret(std::string_view secret_id, const AuditContext& ctx) = 0;
  // For request authentication. store_not_found if unknown; returns disabled
  // secrets too (the caller decides) so the audit can say why.
  virtual Result<SecretMaterial> LookupSecret(std::string_view secret_id) = 0;
  // Best effort "last used" update (coalesced to at most once a minute).
  virtual void TouchSecret(std::string_view secret_id) = 0;

  // Re-wraps every DEK under the current KEK (after `keys rotate-master`).
  // Idempotent and restartable. Returns how many DEKs were re-wrapped.
  virtual Result<size_t> RewrapAllDeks(const AuditContext& ctx) = 0;

  // The application's own database (store_not_found for unknown/deleted apps,
  // and for a live app whose file is missing: it is never silently recreated).
  virtual Result<std::unique_ptr<AppStore>> OpenApp(uint32_t sdkappid) = 0;

  virtual AuditLog& audit() = 0;
};

}  // namespace aegis::store
