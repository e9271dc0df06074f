#include "api/room_registry.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

namespace aegis::api {
namespace {

struct Kick {
  RoomKey room;
  std::string user_id;
  RemoveReason reason;
};

class RecordingUser final : public RoomRegistry::UserListener {
 public:
  void OnRemovedByServer(const RoomKey& room, const std::string& user_id,
                         RemoveReason reason) override {
    kicks.push_back({room, user_id, reason});
  }
  std::vector<Kick> kicks;
};

class RecordingRooms final : public RoomRegistry::Listener {
 public:
  void OnRoomDismissed(const RoomKey& room) override { dismissed.push_back(room); }
  std::vector<RoomKey> dismissed;
};

constexpr uint32_t kApp = 1400000001;
constexpr uint32_t kOtherApp = 1400000002;

RoomUser User(std::string id, std::string role = "anchor") {
  return RoomUser{std::move(id), std::move(role), 1000};
}

TEST(RoomRegistryTest, AddFindAndRemoveUsers) {
  RoomRegistry reg;
  const RoomKey room = RoomKey::Numeric(kApp, 1234);
  ASSERT_TRUE(reg.AddUser(room, User("alice"), "c1", 5000, nullptr).ok());
  ASSERT_TRUE(reg.AddUser(room, User("bob", "audience"), "ignored", 6000, nullptr).ok());

  auto snap = reg.FindNumeric(kApp, 1234);
  ASSERT_TRUE(snap.has_value());
  EXPECT_EQ(snap->comm_id, "c1");  // set by the first user only
  EXPECT_EQ(snap->created_at_ms, 5000);
  ASSERT_EQ(snap->users.size(), 2u);
  EXPECT_EQ(snap->users[0].user_id, "alice");
  EXPECT_EQ(snap->users[1].role, "audience");
  EXPECT_EQ(reg.user_count(), 2u);

  EXPECT_TRUE(reg.RemoveUser(room, "alice"));
  EXPECT_FALSE(reg.RemoveUser(room, "alice"));
  EXPECT_TRUE(reg.RemoveUser(room, "bob"));
  EXPECT_FALSE(reg.Find(room).has_value()) << "the room goes with its last user";
  EXPECT_EQ(reg.room_count(), 0u);
}

TEST(RoomRegistryTest, RejectsEmptyIds) {
  RoomRegistry reg;
  EXPECT_EQ(reg.AddUser(RoomKey::Numeric(kApp, 1), User(""), "c", 0, nullptr).code(),
            "room_invalid");
  EXPECT_EQ(reg.AddUser(RoomKey::String(kApp, ""), User("a"), "c", 0, nullptr).code(),
            "room_invalid");
}

TEST(RoomRegistryTest, NumericAndStringRoomsAreDistinct) {
  RoomRegistry reg;
  ASSERT_TRUE(reg.AddUser(RoomKey::Numeric(kApp, 1234), User("a"), "n", 0, nullptr).ok());
  EXPECT_FALSE(reg.FindString(kApp, "1234").has_value());
  ASSERT_TRUE(reg.AddUser(RoomKey::String(kApp, "1234"), User("b"), "s", 0, nullptr).ok());
  EXPECT_EQ(reg.FindString(kApp, "1234")->users[0].user_id, "b");
  EXPECT_EQ(reg.FindNumeric(kApp, 1234)->users[0].user_id, "a");
  EXPECT_EQ(reg.room_count(), 2u);
}

TEST(RoomRegistryTest, ApplicationsAreIsolated) {
  RoomRegistry reg;
  auto a = std::make_shared<RecordingUser>();
  auto b = std::make_shared<RecordingUser>();
  ASSERT_TRUE(reg.AddUser(RoomKey::Numeric(kApp, 7), User("u"), "a", 0, a).ok());
  ASSERT_TRUE(reg.AddUser(RoomKey::Numeric(kOtherApp, 7), User("u"), "b", 0, b).ok());
  ASSERT_TRUE(reg.AddUser(RoomKey::Numeric(kOtherApp, 8), User("v"), "b", 0, nullptr).ok());

  ASSERT_TRUE(reg.DismissRoom(RoomKey::Numeric(kOtherApp, 7)).ok());
  EXPECT_TRUE(a->kicks.empty());
  EXPECT_EQ(b->kicks.size(), 1u);
  EXPECT_TRUE(reg.FindNumeric(kApp, 7).has_value());
  EXPECT_EQ(reg.ListRooms(kApp).size(), 1u);
  EXPECT_EQ(reg.ListRooms(kOtherApp).size(), 1u);
  EXPECT_EQ(reg.ListRooms(kOtherApp)[0].key.room_id, "8");
  EXPECT_TRUE(reg.ListRooms(1400000003).empty());
}

TEST(RoomRegistryTest, DismissNotifiesEveryUserAndTheRoomListener) {
  RoomRegistry reg;
  RecordingRooms rooms;
  reg.SetListener(&rooms);
  auto a = std::make_shared<RecordingUser>();
  auto b = std::make_shared<RecordingUser>();
  const RoomKey room = RoomKey::String(kApp, "team standup");
  ASSERT_TRUE(reg.AddUser(room, User("alice"), "c", 0, a).ok());
  ASSERT_TRUE(reg.AddUser(room, User("bob"), "c", 0, b).ok());

  auto n = reg.DismissRoom(room);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);
  ASSERT_EQ(a->kicks.size(), 1u);
  EXPECT_EQ(a->kicks[0].user_id, "alice");
  EXPECT_EQ(a->kicks[0].reason, RemoveReason::kRoomDismissed);
  EXPECT_EQ(a->kicks[0].room, room);
  ASSERT_EQ(b->kicks.size(), 1u);
  ASSERT_EQ(rooms.dismissed.size(), 1u);
  EXPECT_EQ(rooms.dismissed[0], room);
  EXPECT_FALSE(reg.Find(room).has_value());

  EXPECT_EQ(reg.DismissRoom(room).status().code(), "room_not_found");
  reg.SetListener(nullptr);
}

TEST(RoomRegistryTest, KickRemovesOnlyNamedUsers) {
  RoomRegistry reg;
  auto a = std::make_shared<RecordingUser>();
  auto b = std::make_shared<RecordingUser>();
  auto c = std::make_shared<RecordingUser>();
  const RoomKey room = RoomKey::Numeric(kApp, 42);
  ASSERT_TRUE(reg.AddUser(room, User("a"), "c", 0, a).ok());
  ASSERT_TRUE(reg.AddUser(room, User("b"), "c", 0, b).ok());
  ASSERT_TRUE(reg.AddUser(room, User("c"), "c", 0, c).ok());

  auto removed = reg.KickUsers(room, {"b", "nobody", "c"});
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, (std::vector<std::string>{"b", "c"}));
  EXPECT_TRUE(a->kicks.empty());
  ASSERT_EQ(b->kicks.size(), 1u);
  EXPECT_EQ(b->kicks[0].reason, RemoveReason::kRemovedByApi);
  ASSERT_EQ(c->kicks.size(), 1u);
  auto snap = reg.Find(room);
  ASSERT_TRUE(snap.has_value());
  ASSERT_EQ(snap->users.size(), 1u);
  EXPECT_EQ(snap->users[0].user_id, "a");

  EXPECT_EQ(reg.KickUsers(RoomKey::Numeric(kApp, 43), {"a"}).status().code(), "room_not_found");
  // Kicking the last user removes the room.
  ASSERT_TRUE(reg.KickUsers(room, {"a"}).ok());
  EXPECT_FALSE(reg.Find(room).has_value());
}

TEST(RoomRegistryTest, RejoinReplacesListener) {
  RoomRegistry reg;
  auto old_conn = std::make_shared<RecordingUser>();
  auto new_conn = std::make_shared<RecordingUser>();
  const RoomKey room = RoomKey::Numeric(kApp, 1);
  ASSERT_TRUE(reg.AddUser(room, User("a"), "c", 0, old_conn).ok());
  ASSERT_TRUE(reg.AddUser(room, User("a", "audience"), "c", 0, new_conn).ok());
  EXPECT_EQ(reg.Find(room)->users.size(), 1u);
  EXPECT_EQ(reg.Find(room)->users[0].role, "audience");
  ASSERT_TRUE(reg.DismissRoom(room).ok());
  EXPECT_TRUE(old_conn->kicks.empty());
  EXPECT_EQ(new_conn->kicks.size(), 1u);
}

// A listener may call back into the registry (no lock held during the call).
class ReentrantUser final : public RoomRegistry::UserListener {
 public:
  explicit ReentrantUser(RoomRegistry& reg) : reg_(reg) {}
  void OnRemovedByServer(const RoomKey& room, const std::string&, RemoveReason) override {
    seen_room_live = reg_.Find(room).has_value();
    rooms_after = reg_.room_count();
  }
  bool seen_room_live = true;
  size_t rooms_after = 99;

 private:
  RoomRegistry& reg_;
};

TEST(RoomRegistryTest, ListenersMayReenter) {
  RoomRegistry reg;
  auto user = std::make_shared<ReentrantUser>(reg);
  const RoomKey room = RoomKey::Numeric(kApp, 5);
  ASSERT_TRUE(reg.AddUser(room, User("a"), "c", 0, user).ok());
  ASSERT_TRUE(reg.DismissRoom(room).ok());
  EXPECT_FALSE(user->seen_room_live);
  EXPECT_EQ(user->rooms_after, 0u);
}

TEST(RoomRegistryTest, ConcurrentUse) {
  RoomRegistry reg;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&reg, t] {
      for (int i = 0; i < 500; ++i) {
        RoomKey room = RoomKey::Numeric(kApp, static_cast<uint64_t>(i % 10 + 1));
        std::string id = "u" + std::to_string(t) + "_" + std::to_string(i);
        (void)reg.AddUser(room, User(id), "c", i, nullptr);
        if (i % 3 == 0) {
          (void)reg.KickUsers(room, {id});
        } else if (i % 7 == 0) {
          (void)reg.DismissRoom(room);
        } else {
          reg.RemoveUser(room, id);
        }
        (void)reg.ListRooms(kApp);
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(reg.user_count(), 0u);
  EXPECT_EQ(reg.room_count(), 0u);
}

TEST(RoomRegistryTest, KeyToString) {
  EXPECT_EQ(RoomKey::Numeric(kApp, 9).ToString(), "1400000001/9");
  EXPECT_EQ(RoomKey::String(kApp, "9").ToString(), "1400000001/str:9");
}

}  // namespace
}  // namespace aegis::api
