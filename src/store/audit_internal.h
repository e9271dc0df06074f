// Private to src/store: the hash-chained, MACed audit log in control.db.
//
//  hash_i = SHA-256(netstring(prev_hash_i) || canonical(record_i))
//  mac_i  = HMAC-SHA256(audit MAC key, hash_i)
//  canonical = netstrings of a version tag and every field in a fixed order
//              (seq, time_ms, actor, action, target, result, request_id,
//               client_ip_masked, client_ip_hash, detail); no ambiguity.
// Only masked data enters the chain, so verification never needs PII. A MACed
// checkpoint of the head (last seq + hash) detects truncation of the tail.
// Both keys come from the "audit" DEK: HMAC(dek, "audit-mac"), HMAC(dek, "ip-hash").
// Thread-safe through the mutex it shares with its ControlStore.
#pragma once

#include <array>
#include <mutex>
#include <string>
#include <string_view>

#include "crypto/keyring.h"
#include "store/sqlite_internal.h"
#include "store/store.h"

namespace aegis::store::internal {

inline constexpr std::string_view kAuditOwner = "audit";
inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

struct AuditKeys {
  std::array<uint8_t, 32> mac_key{};
  std::array<uint8_t, 32> ip_key{};

  static AuditKeys Derive(const crypto::Dek& audit_dek);
  AuditKeys() = default;
  AuditKeys(const AuditKeys&) = default;
  AuditKeys& operator=(const AuditKeys&) = default;
  ~AuditKeys();
};

std::string CanonicalAuditRecord(const AuditRecord& record);
// Hex SHA-256 over record.prev_hash and the canonical form.
std::string ComputeAuditHash(const AuditRecord& record);
std::string ComputeAuditMac(const AuditKeys& keys, std::string_view hash);

class AuditLogImpl final : public AuditLog {
 public:
  AuditLogImpl(Db& db, std::mutex& mu, const Clock& clock, const AuditKeys& keys)
      : db_(db), mu_(mu), clock_(clock), keys_(keys) {}

  Status Append(const AuditEvent& event) override;
  Result<std::vector<AuditRecord>> List(int64_t since_ms, size_t limit) override;
  Result<AuditVerifyReport> Verify() override;

  // For ControlStore mutations: the caller holds the mutex and an open Txn,
  // so the record commits (or rolls back) with the change it describes.
  Status AppendLocked(const AuditEvent& event);

 private:
  Db& db_;
  std::mutex& mu_;
  const Clock& clock_;
  const AuditKeys keys_;
};

}  // namespace aegis::store::internal
