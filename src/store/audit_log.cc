#include <algorithm>
#include <unordered_map>

#include "core/mask.h"
#include "crypto/primitives.h"
#include "store/audit_internal.h"

namespace aegis::store::internal {
namespace {

constexpr std::string_view kCanonicalTag = "aegis-audit-v1";
constexpr size_t kMaxFieldBytes = 256;
constexpr size_t kMaxDetailBytes = 4096;
constexpr size_t kMaxListLimit = 10000;

void AppendNetstring(std::string& out, std::string_view field) {
  out.append(std::to_string(field.size())).push_back(':');
  out.append(field).push_back(',');
}

std::string Clip(std::string_view s, size_t max) { return std::string(s.substr(0, max)); }

constexpr const char* kSelectColumns =
    "SELECT seq, time_ms, actor, action, target, result, request_id, client_ip_masked, "
    "client_ip_hash, detail, prev_hash, hash, mac FROM audit_log ";

AuditRecord ReadRecord(const Stmt& s) {
  AuditRecord r;
  r.seq = static_cast<uint64_t>(s.Int(0));
  r.time_ms = s.Int(1);
  r.actor = s.Text(2);
  r.action = s.Text(3);
  r.target = s.Text(4);
  r.result = s.Text(5);
  r.request_id = s.Text(6);
  r.client_ip_masked = s.Text(7);
  r.client_ip_hash = s.Text(8);
  r.detail = s.Text(9);
  r.prev_hash = s.Text(10);
  r.hash = s.Text(11);
  r.mac = s.Text(12);
  return r;
}

std::string CheckpointMac(const AuditKeys& keys, int64_t seq, std::string_view hash,
                          int64_t time_ms) {
  std::string msg = "aegis-audit-checkpoint-v1";
  AppendNetstring(msg, std::to_string(seq));
  AppendNetstring(msg, hash);
  AppendNetstring(msg, std::to_string(time_ms));
  return ComputeAuditMac(keys, msg);
}

bool HexEqual(std::string_view a, std::string_view b) {
  return crypto::ConstantTimeEqual(crypto::AsBytes(a), crypto::AsBytes(b));
}

AuditVerifyReport Bad(uint64_t records, uint64_t seq, std::string problem) {
  AuditVerifyReport r;
  r.ok = false;
  r.records = records;
  r.first_bad_seq = seq;
  r.problem = std::move(problem);
  return r;
}

}  // namespace

AuditKeys AuditKeys::Derive(const crypto::Dek& audit_dek) {
  AuditKeys k;
  k.mac_key = crypto::HmacSha256(audit_dek.key(), crypto::AsBytes("audit-mac"));
  k.ip_key = crypto::HmacSha256(audit_dek.key(), crypto::AsBytes("ip-hash"));
  return k;
}

AuditKeys::~AuditKeys() {
  crypto::SecureZero(mac_key);
  crypto::SecureZero(ip_key);
}

std::string CanonicalAuditRecord(const AuditRecord& r) {
  std::string out;
  AppendNetstring(out, kCanonicalTag);
  AppendNetstring(out, std::to_string(r.seq));
  AppendNetstring(out, std::to_string(r.time_ms));
  AppendNetstring(out, r.actor);
  AppendNetstring(out, r.action);
  AppendNetstring(out, r.target);
  AppendNetstring(out, r.result);
  AppendNetstring(out, r.request_id);
  AppendNetstring(out, r.client_ip_masked);
  AppendNetstring(out, r.client_ip_hash);
  AppendNetstring(out, r.detail);
  return out;
}

std::string ComputeAuditHash(const AuditRecord& r) {
  std::string input;
  AppendNetstring(input, r.prev_hash);
  input += CanonicalAuditRecord(r);
  return crypto::HexEncode(crypto::Sha256(crypto::AsBytes(input)));
}

std::string ComputeAuditMac(const AuditKeys& keys, std::string_view hash) {
  return crypto::HexEncode(crypto::HmacSha256(keys.mac_key, crypto::AsBytes(hash)));
}

Status AuditLogImpl::Append(const AuditEvent& event) {
  std::lock_guard<std::mutex> lock(mu_);
  Txn txn(db_);
  AEGIS_RETURN_IF_ERROR(txn.Begin());
  AEGIS_RETURN_IF_ERROR(AppendLocked(event));
  return txn.Commit();
}

Status AuditLogImpl::AppendLocked(const AuditEvent& event) {
  // The tail comes from the MACed checkpoint rather than the last row, so a
  // truncated log is not silently "healed" by the next append (the gap stays).
  uint64_t prev_seq = 0;
  std::string prev_hash(kGenesisHash);
  bool have_checkpoint = false;
  {
    Stmt cp(db_, "SELECT seq, hash FROM audit_checkpoint WHERE id = 1;");
    auto row = cp.Step();
    if (!row.ok()) return row.status();
    if (*row) {
      have_checkpoint = true;
      prev_seq = static_cast<uint64_t>(cp.Int(0));
      prev_hash = cp.Text(1);
    }
  }
  if (prev_seq == 0) {
    // Records without a checkpoint (deleted with a truncated tail) or behind
    // the genesis checkpoint: continuing would hide the damage, so refuse
    // until an operator has looked.
    Stmt any(db_, "SELECT EXISTS (SELECT 1 FROM audit_log);");
    auto row = any.Step();
    if (!row.ok()) return row.status();
    if (*row && any.Int(0) != 0) {
      return Status::Error(
          "store_invalid",
          have_checkpoint ? "audit checkpoint does not match the log: run aegisctl audit verify"
                          : "audit checkpoint missing: run aegisctl audit verify");
    }
  }

  AuditRecord r;
  r.seq = prev_seq + 1;
  r.time_ms = clock_.NowUnixMillis();
  r.actor = Clip(event.actor.empty() ? "unknown" : event.actor, kMaxFieldBytes);
  r.action = Clip(event.action, kMaxFieldBytes);
  r.target = Clip(event.target, kMaxFieldBytes);
  r.result = Clip(event.result.empty() ? "ok" : event.result, kMaxFieldBytes);
  r.request_id = Clip(event.request_id, kMaxFieldBytes);
  if (!event.client_ip.empty()) {
    r.client_ip_masked = MaskIp(event.client_ip);
    r.client_ip_hash =
        crypto::HexEncode(crypto::HmacSha256(keys_.ip_key, crypto::AsBytes(event.client_ip)));
  }
  // Defense in depth: callers must not put secrets in detail; scrub anyway.
  r.detail = Clip(ScrubSecrets(event.detail), kMaxDetailBytes);
  r.prev_hash = std::move(prev_hash);
  r.hash = ComputeAuditHash(r);
  r.mac = ComputeAuditMac(keys_, r.hash);

  AEGIS_RETURN_IF_ERROR(
      Stmt(db_,
           "INSERT INTO audit_log (seq, time_ms, actor, action, target, result, request_id, "
           "client_ip_masked, client_ip_hash, detail, prev_hash, hash, mac) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);")
          .BindInt(static_cast<int64_t>(r.seq))
          .BindInt(r.time_ms)
          .BindText(r.actor)
          .BindText(r.action)
          .BindText(r.target)
          .BindText(r.result)
          .BindText(r.request_id)
          .BindText(r.client_ip_masked)
          .BindText(r.client_ip_hash)
          .BindText(r.detail)
          .BindText(r.prev_hash)
          .BindText(r.hash)
          .BindText(r.mac)
          .Run());
  return Stmt(db_,
              "INSERT INTO audit_checkpoint (id, seq, hash, time_ms, mac) VALUES (1, ?, ?, ?, ?) "
              "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, "
              "time_ms = excluded.time_ms, mac = excluded.mac;")
      .BindInt(static_cast<int64_t>(r.seq))
      .BindText(r.hash)
      .BindInt(r.time_ms)
      .BindText(CheckpointMac(keys_, static_cast<int64_t>(r.seq), r.hash, r.time_ms))
      .Run();
}

Result<std::vector<AuditRecord>> AuditLogImpl::List(int64_t since_ms, size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  limit = std::clamp<size_t>(limit == 0 ? 100 : limit, 1, kMaxListLimit);
  Stmt s(db_, std::string(kSelectColumns) + "WHERE time_ms >= ? ORDER BY seq, id LIMIT ?;");
  s.BindInt(since_ms).BindInt(static_cast<int64_t>(limit));
  std::vector<AuditRecord> out;
  for (;;) {
    auto row = s.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back(ReadRecord(s));
  }
  return out;
}

Result<AuditVerifyReport> AuditLogImpl::Verify() {
  std::vector<AuditRecord> records;
  std::optional<AuditRecord> checkpoint;  // seq, hash, time_ms, mac
  {
    std::lock_guard<std::mutex> lock(mu_);
    // One read transaction: a consistent snapshot of log and checkpoint even
    // while another process appends.
    AEGIS_RETURN_IF_ERROR(db_.Exec("BEGIN;"));
    auto read = [&]() -> Status {
      Stmt s(db_, std::string(kSelectColumns) + "ORDER BY seq, id;");
      for (;;) {
        auto row = s.Step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        records.push_back(ReadRecord(s));
      }
      Stmt cp(db_, "SELECT seq, hash, time_ms, mac FROM audit_checkpoint WHERE id = 1;");
      auto row = cp.Step();
      if (!row.ok()) return row.status();
      if (*row) {
        AuditRecord c;
        c.seq = static_cast<uint64_t>(cp.Int(0));
        c.hash = cp.Text(1);
        c.time_ms = cp.Int(2);
        c.mac = cp.Text(3);
        checkpoint = std::move(c);
      }
      return Status::Ok();
    };
    const Status s = read();
    (void)db_.Exec("COMMIT;");
    AEGIS_RETURN_IF_ERROR(s);
  }

  const uint64_t n = records.size();
  // hash -> seq of the row carrying it, to tell a reordering from an edit.
  std::unordered_map<std::string, uint64_t> seq_of_hash;
  seq_of_hash.reserve(records.size());
  for (const auto& r : records) seq_of_hash.emplace(r.hash, r.seq);
  auto links_elsewhere = [&](const AuditRecord& r) {
    auto it = seq_of_hash.find(r.prev_hash);
    return it != seq_of_hash.end() && it->second + 1 != r.seq;
  };

  uint64_t expected = 1;
  std::string prev(kGenesisHash);
  for (const auto& r : records) {
    if (r.seq < expected) return Bad(n, r.seq, "inserted");    // duplicate seq
    if (r.seq > expected) return Bad(n, expected, "removed");  // gap
    const bool linked = HexEqual(r.prev_hash, prev);
    if (!HexEqual(ComputeAuditHash(r), r.hash)) {
      return Bad(n, r.seq, !linked && links_elsewhere(r) ? "reordered" : "modified");
    }
    if (!HexEqual(ComputeAuditMac(keys_, r.hash), r.mac)) return Bad(n, r.seq, "bad_mac");
    if (!linked) return Bad(n, r.seq, links_elsewhere(r) ? "reordered" : "removed");
    prev = r.hash;
    ++expected;
  }
  const uint64_t last = expected - 1;

  if (!checkpoint) {
    if (n == 0) return AuditVerifyReport{true, 0, 0, ""};
    return Bad(n, last + 1, "checkpoint_missing");
  }
  const auto cp_seq = checkpoint->seq;
  // The genesis checkpoint comes from a migration, which has no key to MAC it
  // with; it claims nothing beyond "empty", so it is only valid for an empty log.
  const bool genesis = cp_seq == 0 && HexEqual(checkpoint->hash, kGenesisHash);
  if (genesis && n > 0) return Bad(n, 1, "checkpoint_bad_mac");
  if (!genesis && !HexEqual(CheckpointMac(keys_, static_cast<int64_t>(cp_seq), checkpoint->hash,
                                          checkpoint->time_ms),
                            checkpoint->mac)) {
    return Bad(n, cp_seq, "checkpoint_bad_mac");
  }
  if (last < cp_seq) return Bad(n, last + 1, "truncated");
  if (last > cp_seq) return Bad(n, cp_seq + 1, "inserted");
  if (!HexEqual(prev, checkpoint->hash)) return Bad(n, cp_seq, "modified");
  return AuditVerifyReport{true, n, 0, ""};
}

}  // namespace aegis::store::internal
