// In-memory registry of the live rooms of this node, per (SdkAppId, room).
// The signalling layer adds and removes users as they join and leave; the
// REST API dismisses rooms and removes users, which is reported to each
// affected user's UserListener (that closes the user's connection) and to the
// optional registry Listener (media side). Numeric room 1234 and string room
// "1234" are different rooms, as in the TRTC convention.
// Thread-safe (internal mutex). Listeners are always called after the lock is
// released, so they may call back into the registry.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace aegis::api {

struct RoomKey {
  uint32_t sdkappid = 0;
  bool is_str_room = false;
  std::string room_id;  // decimal for numeric rooms

  static RoomKey Numeric(uint32_t sdkappid, uint64_t room) {
    return RoomKey{sdkappid, false, std::to_string(room)};
  }
  static RoomKey String(uint32_t sdkappid, std::string room) {
    return RoomKey{sdkappid, true, std::move(room)};
  }
  // "1400000001/1234" or "1400000001/str:abc" (audit targets, logs).
  std::string ToString() const;
  auto operator<=>(const RoomKey&) const = default;
};

enum class RemoveReason {
  kRemovedByApi,   // RemoveUser / RemoveUserByStrRoomId
  kRoomDismissed,  // DismissRoom / DismissRoomByStrRoomId
};

struct RoomUser {
  std::string user_id;
  std::string role;  // "anchor" | "audience"
  int64_t joined_at_ms = 0;
};

struct RoomSnapshot {
  RoomKey key;
  std::string comm_id;  // this room instance (see store::RoomInstance)
  int64_t created_at_ms = 0;
  std::vector<RoomUser> users;  // sorted by user id
};

class RoomRegistry {
 public:
  // Implemented by the owner of one user's session (signalling connection).
  class UserListener {
   public:
    virtual ~UserListener() = default;
    // The server removed this user from `room`; the session must leave.
    virtual void OnRemovedByServer(const RoomKey& room, const std::string& user_id,
                                   RemoveReason reason) = 0;
  };
  // Room-level events (media router owner). Optional.
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void OnRoomDismissed(const RoomKey& room) = 0;
  };

  RoomRegistry() = default;
  RoomRegistry(const RoomRegistry&) = delete;
  RoomRegistry& operator=(const RoomRegistry&) = delete;

  // Not owned; must outlive the registry or be reset to nullptr first.
  void SetListener(Listener* listener);

  // Adds `user` to `room`, creating the room (with `comm_id`, used only when
  // the room is created) if needed. A user already in the room is replaced
  // (re-join from a new connection); the old listener is not notified.
  // The listener is a shared_ptr because it may be called after the lock is
  // released while its session is tearing down concurrently; the registry's
  // reference keeps it alive for the duration of the call.
  // Errors: room_invalid (empty user id or room id).
  Status AddUser(const RoomKey& room, const RoomUser& user, std::string_view comm_id,
                 int64_t now_ms, std::shared_ptr<UserListener> listener);

  // The user left on their own (no listener call). The room disappears with
  // its last user. False when the user was not in the room.
  bool RemoveUser(const RoomKey& room, std::string_view user_id);

  // Server-side removal of the named users (RemoveUser API). Names that are
  // not in the room are ignored. Returns the ids actually removed.
  // Errors: room_not_found.
  Result<std::vector<std::string>> KickUsers(const RoomKey& room,
                                             const std::vector<std::string>& user_ids);

  // Removes every user (reason kRoomDismissed) and the room.
  // Returns how many users were removed. Errors: room_not_found.
  Result<size_t> DismissRoom(const RoomKey& room);

  std::optional<RoomSnapshot> Find(const RoomKey& room) const;
  std::optional<RoomSnapshot> FindNumeric(uint32_t sdkappid, uint64_t room) const {
    return Find(RoomKey::Numeric(sdkappid, room));
  }
  std::optional<RoomSnapshot> FindString(uint32_t sdkappid, std::string_view room) const {
    return Find(RoomKey::String(sdkappid, std::string(room)));
  }
  // Live rooms of one application, in key order.
  std::vector<RoomSnapshot> ListRooms(uint32_t sdkappid) const;

  size_t room_count() const;
  size_t user_count() const;

 private:
  struct UserEntry {
    RoomUser user;
    std::shared_ptr<UserListener> listener;
  };
  struct Room {
    std::string comm_id;
    int64_t created_at_ms = 0;
    std::map<std::string, UserEntry, std::less<>> users;
  };
  static RoomSnapshot SnapshotLocked(const RoomKey& key, const Room& room);

  mutable std::mutex mu_;
  std::map<RoomKey, Room> rooms_;
  Listener* listener_ = nullptr;  // not owned
};

}  // namespace aegis::api
