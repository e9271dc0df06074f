#include "api/room_registry.h"

#include <utility>

namespace aegis::api {

std::string RoomKey::ToString() const {
  return std::to_string(sdkappid) + (is_str_room ? "/str:" : "/") + room_id;
}

void RoomRegistry::SetListener(Listener* listener) {
  std::lock_guard lock(mu_);
  listener_ = listener;
}

Status RoomRegistry::AddUser(const RoomKey& room, const RoomUser& user, std::string_view comm_id,
                             int64_t now_ms, std::shared_ptr<UserListener> listener) {
  if (room.room_id.empty() || user.user_id.empty()) {
    return Status::Error("room_invalid", "room id and user id must not be empty");
  }
  std::shared_ptr<UserListener> replaced;  // released outside the lock
  std::lock_guard lock(mu_);
  auto [it, created] = rooms_.try_emplace(room);
  if (created) {
    it->second.comm_id = std::string(comm_id);
    it->second.created_at_ms = now_ms;
  }
  UserEntry& entry = it->second.users[user.user_id];
  replaced = std::move(entry.listener);
  entry.user = user;
  entry.listener = std::move(listener);
  return Status::Ok();
}

bool RoomRegistry::RemoveUser(const RoomKey& room, std::string_view user_id) {
  std::shared_ptr<UserListener> released;  // destroyed outside the lock
  std::lock_guard lock(mu_);
  auto it = rooms_.find(room);
  if (it == rooms_.end()) {
    return false;
  }
  auto user = it->second.users.find(user_id);
  if (user == it->second.users.end()) {
    return false;
  }
  released = std::move(user->second.listener);
  it->second.users.erase(user);
  if (it->second.users.empty()) {
    rooms_.erase(it);
  }
  return true;
}

Result<std::vector<std::string>> RoomRegistry::KickUsers(const RoomKey& room,
                                                         const std::vector<std::string>& user_ids) {
  std::vector<std::pair<std::string, std::shared_ptr<UserListener>>> kicked;
  {
    std::lock_guard lock(mu_);
    auto it = rooms_.find(room);
    if (it == rooms_.end()) {
      return Status::Error("room_not_found", "room " + room.ToString() + " is not live");
    }
    for (const std::string& id : user_ids) {
      auto user = it->second.users.find(id);
      if (user == it->second.users.end()) {
        continue;
      }
      kicked.emplace_back(user->first, std::move(user->second.listener));
      it->second.users.erase(user);
    }
    if (it->second.users.empty()) {
      rooms_.erase(it);
    }
  }
  std::vector<std::string> removed;
  removed.reserve(kicked.size());
  for (auto& [id, listener] : kicked) {
    if (listener) {
      listener->OnRemovedByServer(room, id, RemoveReason::kRemovedByApi);
    }
    removed.push_back(std::move(id));
  }
  return removed;
}

Result<size_t> RoomRegistry::DismissRoom(const RoomKey& room) {
  Room taken;
  Listener* room_listener = nullptr;
  {
    std::lock_guard lock(mu_);
    auto it = rooms_.find(room);
    if (it == rooms_.end()) {
      return Status::Error("room_not_found", "room " + room.ToString() + " is not live");
    }
    taken = std::move(it->second);
    rooms_.erase(it);
    room_listener = listener_;
  }
  for (auto& [id, entry] : taken.users) {
    if (entry.listener) {
      entry.listener->OnRemovedByServer(room, id, RemoveReason::kRoomDismissed);
    }
  }
  if (room_listener != nullptr) {
    room_listener->OnRoomDismissed(room);
  }
  return taken.users.size();
}

RoomSnapshot RoomRegistry::SnapshotLocked(const RoomKey& key, const Room& room) {
  RoomSnapshot snap;
  snap.key = key;
  snap.comm_id = room.comm_id;
  snap.created_at_ms = room.created_at_ms;
  snap.users.reserve(room.users.size());
  for (const auto& [id, entry] : room.users) {
    snap.users.push_back(entry.user);
  }
  return snap;
}

std::optional<RoomSnapshot> RoomRegistry::Find(const RoomKey& room) const {
  std::lock_guard lock(mu_);
  auto it = rooms_.find(room);
  if (it == rooms_.end()) {
    return std::nullopt;
  }
  return SnapshotLocked(it->first, it->second);
}

std::vector<RoomSnapshot> RoomRegistry::ListRooms(uint32_t sdkappid) const {
  std::vector<RoomSnapshot> out;
  std::lock_guard lock(mu_);
  // Keys order by sdkappid first, so one application's rooms are contiguous.
  for (auto it = rooms_.lower_bound(RoomKey{sdkappid, false, ""});
       it != rooms_.end() && it->first.sdkappid == sdkappid; ++it) {
    out.push_back(SnapshotLocked(it->first, it->second));
  }
  return out;
}

size_t RoomRegistry::room_count() const {
  std::lock_guard lock(mu_);
  return rooms_.size();
}

size_t RoomRegistry::user_count() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [key, room] : rooms_) {
    n += room.users.size();
  }
  return n;
}

}  // namespace aegis::api
