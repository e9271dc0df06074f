#include <algorithm>
#include <array>
#include <limits>
#include <mutex>

#include "crypto/primitives.h"
#include "store/app_store_internal.h"
#include "store/sqlite_internal.h"

namespace aegis::store::internal {
namespace {

constexpr size_t kMaxIdBytes = 128;
constexpr size_t kMaxTextBytes = 256;
constexpr size_t kMaxPageSize = 1000;
constexpr size_t kDefaultPageSize = 100;
constexpr size_t kMaxUserFilter = 100;

size_t PageSize(size_t limit) {
  return std::min(limit == 0 ? kDefaultPageSize : limit, kMaxPageSize);
}

Status CheckId(std::string_view field, std::string_view value) {
  if (value.empty() || value.size() > kMaxIdBytes) {
    return Status::Error("store_invalid", std::string(field) + " must be 1.." +
                                              std::to_string(kMaxIdBytes) + " bytes");
  }
  return Status::Ok();
}

std::string Clip(std::string_view s) { return std::string(s.substr(0, kMaxTextBytes)); }

class AppStoreImpl final : public AppStore {
 public:
  AppStoreImpl(std::unique_ptr<Db> db, uint32_t sdkappid, std::vector<crypto::Dek> deks)
      : db_(std::move(db)),
        sdkappid_(sdkappid),
        owner_(AppOwner(sdkappid)),
        deks_(std::move(deks)) {
    std::sort(deks_.begin(), deks_.end(),
              [](const crypto::Dek& a, const crypto::Dek& b) { return a.version() < b.version(); });
    lookup_key_ = crypto::HmacSha256(deks_.front().key(), crypto::AsBytes("user-lookup"));
  }
  ~AppStoreImpl() override { crypto::SecureZero(lookup_key_); }

  uint32_t sdkappid() const override { return sdkappid_; }

  Status RecordRoomCreated(const RoomInstance& room) override {
    AEGIS_RETURN_IF_ERROR(CheckId("comm_id", room.comm_id));
    AEGIS_RETURN_IF_ERROR(CheckId("room_id", room.room_id));
    if (room.creator.size() > kMaxIdBytes) {
      return Status::Error("store_invalid", "creator is too long");
    }
    std::lock_guard<std::mutex> lock(mu_);
    auto sealed = Seal("rooms", "creator", room.comm_id, room.creator);
    if (!sealed.ok()) return sealed.status();
    return Stmt(*db_,
                "INSERT INTO rooms (comm_id, room_id, is_str_room, creator_sealed, creator_lookup, "
                "created_at, destroyed_at) VALUES (?, ?, ?, ?, ?, ?, ?);")
        .BindText(room.comm_id)
        .BindText(room.room_id)
        .BindInt(room.is_str_room ? 1 : 0)
        .BindBlob(*sealed)
        .BindText(Lookup(room.creator))
        .BindInt(room.created_at)
        .BindInt(room.destroyed_at)
        .Run();
  }

  Status RecordRoomDestroyed(std::string_view comm_id, int64_t at) override {
    AEGIS_RETURN_IF_ERROR(CheckId("comm_id", comm_id));
    std::lock_guard<std::mutex> lock(mu_);
    Txn txn(*db_);
    AEGIS_RETURN_IF_ERROR(txn.Begin());
    Stmt find(*db_, "SELECT destroyed_at FROM rooms WHERE comm_id = ?;");
    find.BindText(comm_id);
    auto row = find.Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Error("store_not_found", "unknown room instance");
    if (find.Int(0) != 0) return Status::Ok();  // already destroyed: idempotent
    AEGIS_RETURN_IF_ERROR(Stmt(*db_, "UPDATE rooms SET destroyed_at = ? WHERE comm_id = ?;")
                              .BindInt(at)
                              .BindText(comm_id)
                              .Run());
    return txn.Commit();
  }

  Status RecordSessionJoined(const UserSession& s) override {
    AEGIS_RETURN_IF_ERROR(CheckId("comm_id", s.comm_id));
    AEGIS_RETURN_IF_ERROR(CheckId("user_id", s.user_id));
    std::lock_guard<std::mutex> lock(mu_);
    Txn txn(*db_);
    AEGIS_RETURN_IF_ERROR(txn.Begin());
    Stmt room(*db_, "SELECT 1 FROM rooms WHERE comm_id = ?;");
    room.BindText(s.comm_id);
    auto found = room.Step();
    if (!found.ok()) return found.status();
    if (!*found) return Status::Error("store_not_found", "unknown room instance");
    // The row id is part of the sealing context, so insert first, then seal.
    AEGIS_RETURN_IF_ERROR(
        Stmt(*db_,
             "INSERT INTO sessions (comm_id, user_sealed, user_lookup, role, joined_at, left_at, "
             "leave_reason, sdk_version, os, client_ip_masked) "
             "VALUES (?, X'', ?, ?, ?, ?, ?, ?, ?, ?);")
            .BindText(s.comm_id)
            .BindText(Lookup(s.user_id))
            .BindText(Clip(s.role))
            .BindInt(s.joined_at)
            .BindInt(s.left_at)
            .BindText(Clip(s.leave_reason))
            .BindText(Clip(s.sdk_version))
            .BindText(Clip(s.os))
            .BindText(Clip(s.client_ip_masked))
            .Run());
    const int64_t id = db_->LastInsertRowId();
    auto sealed = Seal("sessions", "user_id", std::to_string(id), s.user_id);
    if (!sealed.ok()) return sealed.status();
    AEGIS_RETURN_IF_ERROR(Stmt(*db_, "UPDATE sessions SET user_sealed = ? WHERE id = ?;")
                              .BindBlob(*sealed)
                              .BindInt(id)
                              .Run());
    return txn.Commit();
  }

  Status RecordSessionLeft(std::string_view comm_id, std::string_view user_id, int64_t at,
                           std::string_view reason) override {
    AEGIS_RETURN_IF_ERROR(CheckId("comm_id", comm_id));
    AEGIS_RETURN_IF_ERROR(CheckId("user_id", user_id));
    std::lock_guard<std::mutex> lock(mu_);
    AEGIS_RETURN_IF_ERROR(Stmt(*db_,
                               "UPDATE sessions SET left_at = ?, leave_reason = ? "
                               "WHERE comm_id = ? AND user_lookup = ? AND left_at = 0;")
                              .BindInt(at)
                              .BindText(Clip(reason))
                              .BindText(comm_id)
                              .BindText(Lookup(user_id))
                              .Run());
    if (db_->Changes() == 0) return Status::Error("store_not_found", "no open session");
    return Status::Ok();
  }

  Result<std::pair<std::vector<RoomInstance>, size_t>> ListRooms(const RoomQuery& q) override {
    const int64_t end = q.end_time == 0 ? std::numeric_limits<int64_t>::max() : q.end_time;
    std::string where = "WHERE created_at <= ? AND (destroyed_at = 0 OR destroyed_at >= ?)";
    if (q.room_id) where += " AND room_id = ?";
    auto bind = [&](Stmt& s) {
      s.BindInt(end).BindInt(q.start_time);
      if (q.room_id) s.BindText(*q.room_id);
    };
    std::lock_guard<std::mutex> lock(mu_);
    auto total = Count("SELECT COUNT(*) FROM rooms " + where + ";", bind);
    if (!total.ok()) return total.status();
    Stmt s(*db_,
           "SELECT comm_id, room_id, is_str_room, creator_sealed, created_at, destroyed_at "
           "FROM rooms " +
               where + " ORDER BY created_at, comm_id LIMIT ? OFFSET ?;");
    bind(s);
    s.BindInt(static_cast<int64_t>(PageSize(q.limit))).BindInt(static_cast<int64_t>(q.offset));
    std::vector<RoomInstance> out;
    for (;;) {
      auto row = s.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      RoomInstance r;
      r.comm_id = s.Text(0);
      r.room_id = s.Text(1);
      r.is_str_room = s.Int(2) != 0;
      auto creator = Open("rooms", "creator", r.comm_id, s.Blob(3));
      if (!creator.ok()) return creator.status();
      r.creator = std::move(*creator);
      r.created_at = s.Int(4);
      r.destroyed_at = s.Int(5);
      out.push_back(std::move(r));
    }
    return std::make_pair(std::move(out), *total);
  }

  Result<std::pair<std::vector<UserSession>, size_t>> ListSessions(const SessionQuery& q) override {
    if (q.user_ids.size() > kMaxUserFilter) {
      return Status::Error("store_invalid",
                           "at most " + std::to_string(kMaxUserFilter) + " user ids per query");
    }
    const int64_t end = q.end_time == 0 ? std::numeric_limits<int64_t>::max() : q.end_time;
    std::string where = "WHERE joined_at <= ? AND (left_at = 0 OR left_at >= ?)";
    if (!q.comm_id.empty()) where += " AND comm_id = ?";
    if (!q.user_ids.empty()) {
      where += " AND user_lookup IN (";
      for (size_t i = 0; i < q.user_ids.size(); ++i) where += i == 0 ? "?" : ", ?";
      where += ")";
    }
    std::vector<std::string> lookups;
    for (const auto& u : q.user_ids) lookups.push_back(Lookup(u));
    auto bind = [&](Stmt& s) {
      s.BindInt(end).BindInt(q.start_time);
      if (!q.comm_id.empty()) s.BindText(q.comm_id);
      for (const auto& l : lookups) s.BindText(l);
    };
    std::lock_guard<std::mutex> lock(mu_);
    auto total = Count("SELECT COUNT(*) FROM sessions " + where + ";", bind);
    if (!total.ok()) return total.status();
    Stmt s(*db_,
           "SELECT id, comm_id, user_sealed, role, joined_at, left_at, leave_reason, sdk_version, "
           "os, client_ip_masked FROM sessions " +
               where + " ORDER BY joined_at, id LIMIT ? OFFSET ?;");
    bind(s);
    s.BindInt(static_cast<int64_t>(PageSize(q.limit))).BindInt(static_cast<int64_t>(q.offset));
    std::vector<UserSession> out;
    for (;;) {
      auto row = s.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      UserSession u;
      u.comm_id = s.Text(1);
      auto user = Open("sessions", "user_id", std::to_string(s.Int(0)), s.Blob(2));
      if (!user.ok()) return user.status();
      u.user_id = std::move(*user);
      u.role = s.Text(3);
      u.joined_at = s.Int(4);
      u.left_at = s.Int(5);
      u.leave_reason = s.Text(6);
      u.sdk_version = s.Text(7);
      u.os = s.Text(8);
      u.client_ip_masked = s.Text(9);
      out.push_back(std::move(u));
    }
    return std::make_pair(std::move(out), *total);
  }

 private:
  template <typename BindFn>
  Result<size_t> Count(const std::string& sql, BindFn bind) {
    Stmt s(*db_, sql);
    bind(s);
    auto row = s.Step();
    if (!row.ok()) return row.status();
    return static_cast<size_t>(s.Int(0));
  }

  Result<crypto::Bytes> Seal(std::string_view table, std::string_view column,
                             std::string_view row_id, std::string_view plaintext) const {
    return deks_.back().Seal(crypto::FieldContext(owner_, table, column, row_id),
                             crypto::AsBytes(plaintext));
  }

  Result<std::string> Open(std::string_view table, std::string_view column, std::string_view row_id,
                           const crypto::Bytes& sealed) const {
    auto version = crypto::Dek::SealedVersion(sealed);
    if (!version.ok()) return version.status();
    for (const auto& dek : deks_) {
      if (dek.version() != *version) continue;
      auto plain = dek.Open(crypto::FieldContext(owner_, table, column, row_id), sealed);
      if (!plain.ok()) return plain.status();
      std::string out(crypto::AsString(*plain));
      crypto::SecureZero(*plain);
      return out;
    }
    return Status::Error("crypto_wrong_key_version", "no data key for this value");
  }

  std::string Lookup(std::string_view user_id) const {
    return crypto::HexEncode(crypto::HmacSha256(lookup_key_, crypto::AsBytes(user_id)));
  }

  std::mutex mu_;
  std::unique_ptr<Db> db_;
  const uint32_t sdkappid_;
  const std::string owner_;
  std::vector<crypto::Dek> deks_;  // ascending version; back() seals
  std::array<uint8_t, 32> lookup_key_{};
};

}  // namespace

std::string AppOwner(uint32_t sdkappid) { return "app:" + std::to_string(sdkappid); }

Result<std::unique_ptr<AppStore>> OpenAppStore(const std::string& path, uint32_t sdkappid,
                                               std::vector<crypto::Dek> deks, const Clock& clock,
                                               AppDbMode mode) {
  if (deks.empty()) return Status::Error("store_not_found", "application has no data key");
  DbOptions options;
  options.create_if_missing = mode == AppDbMode::kCreate;
  auto db = Db::Open(path, options);
  if (!db.ok()) return db.status();
  AEGIS_RETURN_IF_ERROR(Migrate(**db, AppMigrations(), clock, "application database"));
  return std::unique_ptr<AppStore>(
      std::make_unique<AppStoreImpl>(std::move(*db), sdkappid, std::move(deks)));
}

}  // namespace aegis::store::internal
