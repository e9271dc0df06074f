// Database schemas as forward-only migrations. Never edit a released
// migration: append a new one (version + 1).
#include <array>
#include <string_view>

#include "store/audit_internal.h"
#include "store/sqlite_internal.h"

namespace aegis::store::internal {
namespace {

constexpr const char* kControlV1 = R"sql(
CREATE TABLE accounts (
  uin         INTEGER PRIMARY KEY,
  name        TEXT    NOT NULL,
  status      TEXT    NOT NULL CHECK (status IN ('enabled', 'disabled')),
  created_at  INTEGER NOT NULL
);
CREATE TABLE applications (
  sdkappid           INTEGER PRIMARY KEY,
  uin                INTEGER NOT NULL REFERENCES accounts (uin),
  name               TEXT    NOT NULL,
  status             TEXT    NOT NULL CHECK (status IN ('enabled', 'disabled', 'deleted')),
  created_at         INTEGER NOT NULL,
  deleted_at         INTEGER NOT NULL DEFAULT 0,
  tags               TEXT    NOT NULL DEFAULT '{}',
  recording_enabled  INTEGER NOT NULL DEFAULT 0,
  relay_enabled      INTEGER NOT NULL DEFAULT 0,
  plan               TEXT    NOT NULL DEFAULT 'standard'
);
CREATE INDEX applications_by_uin ON applications (uin);
CREATE TABLE app_keys (
  sdkappid    INTEGER NOT NULL REFERENCES applications (sdkappid),
  key_id      INTEGER NOT NULL,
  status      TEXT    NOT NULL CHECK (status IN ('active', 'retiring', 'revoked')),
  created_at  INTEGER NOT NULL,
  key_sealed  BLOB,
  PRIMARY KEY (sdkappid, key_id)
);
CREATE TABLE secrets (
  secret_id          TEXT    PRIMARY KEY,
  uin                INTEGER NOT NULL REFERENCES accounts (uin),
  status             TEXT    NOT NULL CHECK (status IN ('enabled', 'disabled')),
  created_at         INTEGER NOT NULL,
  last_used_at       INTEGER NOT NULL DEFAULT 0,
  secret_key_sealed  BLOB    NOT NULL
);
CREATE INDEX secrets_by_uin ON secrets (uin);
CREATE TABLE deks (
  owner        TEXT    NOT NULL,
  dek_version  INTEGER NOT NULL,
  kek_version  INTEGER NOT NULL,
  wrapped      BLOB    NOT NULL,
  created_at   INTEGER NOT NULL,
  PRIMARY KEY (owner, dek_version)
);
CREATE TABLE audit_log (
  id                INTEGER PRIMARY KEY,
  seq               INTEGER NOT NULL,
  time_ms           INTEGER NOT NULL,
  actor             TEXT    NOT NULL,
  action            TEXT    NOT NULL,
  target            TEXT    NOT NULL,
  result            TEXT    NOT NULL,
  request_id        TEXT    NOT NULL,
  client_ip_masked  TEXT    NOT NULL,
  client_ip_hash    TEXT    NOT NULL,
  detail            TEXT    NOT NULL,
  prev_hash         TEXT    NOT NULL,
  hash              TEXT    NOT NULL,
  mac               TEXT    NOT NULL
);
CREATE INDEX audit_log_by_seq ON audit_log (seq);
CREATE INDEX audit_log_by_time ON audit_log (time_ms);
CREATE TABLE audit_checkpoint (
  id       INTEGER PRIMARY KEY CHECK (id = 1),
  seq      INTEGER NOT NULL,
  hash     TEXT    NOT NULL,
  time_ms  INTEGER NOT NULL,
  mac      TEXT    NOT NULL
);
)sql";

// Every log gets its checkpoint row up front, so a missing row always means
// tampering and the next append refuses instead of continuing the chain. A
// log that already has records but no checkpoint is left without one so that
// Verify keeps reporting "checkpoint_missing".
constexpr const char* kControlV2 = R"sql(
INSERT INTO audit_checkpoint (id, seq, hash, time_ms, mac)
  SELECT 1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0, ''
  WHERE NOT EXISTS (SELECT 1 FROM audit_checkpoint) AND NOT EXISTS (SELECT 1 FROM audit_log);
)sql";
static_assert(std::string_view(kControlV2).find(kGenesisHash) != std::string_view::npos);

constexpr const char* kAppV1 = R"sql(
CREATE TABLE rooms (
  comm_id         TEXT    PRIMARY KEY,
  room_id         TEXT    NOT NULL,
  is_str_room     INTEGER NOT NULL,
  creator_sealed  BLOB,
  creator_lookup  TEXT    NOT NULL,
  created_at      INTEGER NOT NULL,
  destroyed_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX rooms_by_created ON rooms (created_at);
CREATE INDEX rooms_by_room_id ON rooms (room_id, created_at);
CREATE TABLE sessions (
  id                INTEGER PRIMARY KEY,
  comm_id           TEXT    NOT NULL REFERENCES rooms (comm_id),
  user_sealed       BLOB    NOT NULL,
  user_lookup       TEXT    NOT NULL,
  role              TEXT    NOT NULL,
  joined_at         INTEGER NOT NULL,
  left_at           INTEGER NOT NULL DEFAULT 0,
  leave_reason      TEXT    NOT NULL DEFAULT '',
  sdk_version       TEXT    NOT NULL DEFAULT '',
  os                TEXT    NOT NULL DEFAULT '',
  client_ip_masked  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_by_comm ON sessions (comm_id, joined_at);
CREATE INDEX sessions_by_user ON sessions (user_lookup, joined_at);
CREATE INDEX sessions_by_joined ON sessions (joined_at);
)sql";

constexpr std::array<Migration, 2> kControl = {{
    {1, "initial control schema", kControlV1},
    {2, "genesis audit checkpoint", kControlV2},
}};

constexpr std::array<Migration, 1> kApp = {{
    {1, "initial application schema", kAppV1},
}};

}  // namespace

std::span<const Migration> ControlMigrations() { return kControl; }
std::span<const Migration> AppMigrations() { return kApp; }

}  // namespace aegis::store::internal
