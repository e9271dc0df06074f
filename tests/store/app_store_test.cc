// AppStore: rooms and sessions history in the per-application database,
// sealed user ids with keyed lookup hashes, tenant isolation.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <regex>

#include "store_test_util.h"

namespace aegis::store::testing {
namespace {

class AppStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    auto account = store_->CreateAccount("acme", Ctx());
    ASSERT_TRUE(account.ok());
    for (auto* id : {&a_, &b_}) {
      auto app = store_->CreateApplication(account->uin, "app", Ctx());
      ASSERT_TRUE(app.ok());
      *id = app->app.sdkappid;
    }
    auto app = store_->OpenApp(a_);
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    app_ = std::move(*app);
  }

  static UserSession Session(const std::string& comm, const std::string& user, int64_t joined) {
    UserSession s;
    s.comm_id = comm;
    s.user_id = user;
    s.role = "anchor";
    s.joined_at = joined;
    s.sdk_version = "1.0";
    s.os = "web";
    s.client_ip_masked = "10.1.*.*";
    return s;
  }

  uint32_t a_ = 0;
  uint32_t b_ = 0;
  std::unique_ptr<AppStore> app_;
};

TEST_F(AppStoreTest, RoomsOverlappingAWindowWithPaging) {
  EXPECT_EQ(app_->sdkappid(), a_);
  ASSERT_TRUE(app_->RecordRoomCreated({"c1", "100", false, "alice", 100, 0}).ok());
  ASSERT_TRUE(app_->RecordRoomCreated({"c2", "100", false, "bob", 200, 0}).ok());
  ASSERT_TRUE(app_->RecordRoomCreated({"c3", "room-x", true, "carol", 300, 0}).ok());
  ASSERT_TRUE(app_->RecordRoomDestroyed("c1", 150).ok());
  ASSERT_TRUE(app_->RecordRoomDestroyed("c1", 999).ok());  // idempotent, keeps the first
  EXPECT_EQ(app_->RecordRoomDestroyed("nope", 1).code(), "store_not_found");
  EXPECT_EQ(app_->RecordRoomCreated({"c1", "1", false, "x", 1, 0}).code(), "store_conflict");
  EXPECT_EQ(app_->RecordRoomCreated({"", "1", false, "x", 1, 0}).code(), "store_invalid");

  auto all = app_->ListRooms(RoomQuery{});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->first.size(), 3u);
  EXPECT_EQ(all->second, 3u);
  EXPECT_EQ(all->first[0].creator, "alice");
  EXPECT_EQ(all->first[0].destroyed_at, 150);
  EXPECT_TRUE(all->first[2].is_str_room);

  RoomQuery q;
  q.start_time = 160;  // c1 ended before the window
  q.end_time = 250;    // c3 began after it
  auto window = app_->ListRooms(q);
  ASSERT_TRUE(window.ok());
  ASSERT_EQ(window->first.size(), 1u);
  EXPECT_EQ(window->first[0].comm_id, "c2");

  RoomQuery by_id;
  by_id.room_id = "100";
  by_id.limit = 1;
  by_id.offset = 1;
  auto page = app_->ListRooms(by_id);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->second, 2u);
  ASSERT_EQ(page->first.size(), 1u);
  EXPECT_EQ(page->first[0].comm_id, "c2");
}

TEST_F(AppStoreTest, SessionsFilteredBySealedUserIds) {
  ASSERT_TRUE(app_->RecordRoomCreated({"c1", "100", false, "alice", 100, 0}).ok());
  ASSERT_TRUE(app_->RecordSessionJoined(Session("c1", "alice", 100)).ok());
  ASSERT_TRUE(app_->RecordSessionJoined(Session("c1", "bob", 110)).ok());
  ASSERT_TRUE(app_->RecordSessionJoined(Session("c1", "carol", 120)).ok());
  ASSERT_TRUE(app_->RecordSessionLeft("c1", "bob", 130, "kicked").ok());
  EXPECT_EQ(app_->RecordSessionLeft("c1", "bob", 140, "again").code(), "store_not_found");
  EXPECT_EQ(app_->RecordSessionJoined(Session("nope", "dave", 1)).code(), "store_not_found");

  SessionQuery q;
  q.comm_id = "c1";
  auto all = app_->ListSessions(q);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->first.size(), 3u);
  EXPECT_EQ(all->first[1].user_id, "bob");
  EXPECT_EQ(all->first[1].left_at, 130);
  EXPECT_EQ(all->first[1].leave_reason, "kicked");
  EXPECT_EQ(all->first[0].client_ip_masked, "10.1.*.*");

  q.user_ids = {"carol", "alice", "nobody"};
  auto some = app_->ListSessions(q);
  ASSERT_TRUE(some.ok());
  EXPECT_EQ(some->second, 2u);
  ASSERT_EQ(some->first.size(), 2u);
  EXPECT_EQ(some->first[0].user_id, "alice");
  EXPECT_EQ(some->first[1].user_id, "carol");

  SessionQuery window;
  window.start_time = 135;  // bob left before
  auto live = app_->ListSessions(window);
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->second, 2u);

  // At rest: no plaintext user id, only sealed bytes and a keyed hash.
  RawDb raw(AppPath(a_));
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM sessions WHERE CAST(user_sealed AS TEXT) LIKE '%alice%' "
                    "OR user_lookup LIKE '%alice%';"),
            0);
  EXPECT_TRUE(std::regex_match(raw.Text("SELECT user_lookup FROM sessions LIMIT 1;"),
                               std::regex("[0-9a-f]{64}")));
}

TEST_F(AppStoreTest, LookupHashesDifferPerApplication) {
  auto b = store_->OpenApp(b_);
  ASSERT_TRUE(b.ok());
  for (AppStore* s : {app_.get(), b->get()}) {
    ASSERT_TRUE(s->RecordRoomCreated({"c1", "1", false, "alice", 1, 0}).ok());
    ASSERT_TRUE(s->RecordSessionJoined(Session("c1", "alice", 1)).ok());
  }
  RawDb ra(AppPath(a_));
  RawDb rb(AppPath(b_));
  EXPECT_NE(ra.Text("SELECT user_lookup FROM sessions;"),
            rb.Text("SELECT user_lookup FROM sessions;"));
}

TEST_F(AppStoreTest, SwappedSealedUserIdsFailAuthentication) {
  ASSERT_TRUE(app_->RecordRoomCreated({"c1", "1", false, "alice", 1, 0}).ok());
  ASSERT_TRUE(app_->RecordSessionJoined(Session("c1", "alice", 1)).ok());
  ASSERT_TRUE(app_->RecordSessionJoined(Session("c1", "bob", 2)).ok());
  {
    RawDb raw(AppPath(a_));
    raw.SwapBlobs("sessions", "user_sealed", "id = 1", "id = 2");
  }
  EXPECT_EQ(app_->ListSessions(SessionQuery{}).status().code(), "crypto_auth_failed");
  SessionQuery only_bob;
  only_bob.user_ids = {"bob"};  // the second row alone fails too
  EXPECT_EQ(app_->ListSessions(only_bob).status().code(), "crypto_auth_failed");
}

TEST_F(AppStoreTest, SealedValuesFromAnotherTenantFailAuthentication) {
  auto b = store_->OpenApp(b_);
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(app_->RecordRoomCreated({"c1", "1", false, "alice", 1, 0}).ok());
  ASSERT_TRUE((*b)->RecordRoomCreated({"c1", "1", false, "mallory", 1, 0}).ok());
  // Copy tenant B's sealed creator into tenant A's row with the same comm_id.
  const std::string b_path = AppPath(b_);
  {
    RawDb raw(AppPath(a_));
    raw.Exec("ATTACH DATABASE '" + b_path + "' AS other;");
    raw.Exec(
        "UPDATE main.rooms SET creator_sealed = "
        "(SELECT creator_sealed FROM other.rooms WHERE comm_id = 'c1');");
    raw.Exec("DETACH DATABASE other;");
  }
  EXPECT_EQ(app_->ListRooms(RoomQuery{}).status().code(), "crypto_auth_failed");
  auto rooms_b = (*b)->ListRooms(RoomQuery{});
  ASSERT_TRUE(rooms_b.ok());
  EXPECT_EQ(rooms_b->first[0].creator, "mallory");
}

TEST_F(AppStoreTest, TenantsSeeOnlyTheirOwnData) {
  ASSERT_TRUE(app_->RecordRoomCreated({"only-a", "1", false, "alice", 1, 0}).ok());
  auto b = store_->OpenApp(b_);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)->sdkappid(), b_);
  auto rooms = (*b)->ListRooms(RoomQuery{});
  ASSERT_TRUE(rooms.ok());
  EXPECT_EQ(rooms->second, 0u);
  EXPECT_EQ(store_->OpenApp(1).status().code(), "store_not_found");
}

TEST_F(AppStoreTest, TooManyUserIdsIsRejected) {
  SessionQuery q;
  q.user_ids.assign(101, "u");
  EXPECT_EQ(app_->ListSessions(q).status().code(), "store_invalid");
}

}  // namespace
}  // namespace aegis::store::testing
