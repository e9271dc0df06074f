// SignalServer driven directly on the test thread, without sockets for the
// signalling: fake WebSocket connections record what the server sends and how
// it closes them, a FakeClock drives every timer through OnTick, and the
// ControlStore (temp dir), RoomRegistry and media workers (127.0.0.1, port 0)
// are real. Worker events reach the server through `post`, which only queues:
// the test drains the queue on its own thread, as the io thread would.
#include "signal/signal_server.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/room_registry.h"
#include "auth/usersig.h"
#include "common/temp_dir.h"
#include "core/clock.h"
#include "core/log.h"
#include "crypto/keyring.h"
#include "net/http_types.h"
#include "net/websocket.h"
#include "rtc/sdp/sdp.h"
#include "sfu/worker.h"
#include "store/store.h"

namespace aegis::signal {
namespace {

using json = nlohmann::json;
using ::aegis::testing::TempDir;

constexpr const char* kIp = "198.51.100.7";
constexpr const char* kOtherIp = "203.0.113.9";
constexpr uint32_t kRoom = 1234;
constexpr const char* kPublishFixture = "chromium_publish_plain.sdp";
// The fixture's transceivers: audio is mid 0, video mid 1.
constexpr const char* kAudioMid = "0";
constexpr const char* kVideoMid = "1";

std::string SourceDir() {
  const char* env = std::getenv("AEGIS_SOURCE_DIR");
  return env != nullptr && *env != '\0' ? std::string(env) : std::string(AEGIS_TEST_SOURCE_DIR);
}

std::string ReadSdpFixture(const std::string& name) {
  std::ifstream in(SourceDir() + "/tests/rtc/sdp/fixtures/" + name, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  EXPECT_FALSE(ss.str().empty()) << "missing fixture " << name << " (AEGIS_SOURCE_DIR?)";
  return ss.str();
}

// Removes every line starting with `prefix` (fixture variants).
std::string WithoutLines(const std::string& sdp, std::string_view prefix) {
  std::istringstream in(sdp);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0) {
      continue;
    }
    out += line + "\n";
  }
  return out;
}

size_t CountOf(const std::string& text, std::string_view needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

std::string MsgType(const json& message) {
  return message.is_object() ? message.value("type", std::string()) : std::string();
}

// One accepted WebSocket as the server sees it. Like the real connection,
// it drops messages sent after Close and counts only the first Close.
class FakeConnection final : public net::WebSocketConnection {
 public:
  FakeConnection(uint64_t id, std::string ip) : id_(id), ip_(std::move(ip)) {}

  void SendText(std::string text) override {
    if (closed_) {
      ++dropped_after_close;
      return;
    }
    json doc = json::parse(text, nullptr, false);
    EXPECT_TRUE(doc.is_object()) << "server sent non-JSON: " << text;
    inbox.push_back(std::move(doc));
  }
  void Close(uint16_t code, std::string reason) override {
    if (closed_) {
      return;
    }
    closed_ = true;
    close_code = code;
    close_reason = std::move(reason);
  }
  const std::string& client_ip() const override { return ip_; }
  uint64_t id() const override { return id_; }

  // The peer went away (no close code from the server).
  void DropByPeer() { closed_ = true; }
  bool closed() const { return closed_; }

  std::deque<json> inbox;  // received, not yet taken by the test
  std::optional<uint16_t> close_code;
  std::string close_reason;
  size_t dropped_after_close = 0;
  bool close_delivered = false;  // server.OnClose was called

 private:
  uint64_t id_;
  std::string ip_;
  bool closed_ = false;
};

using Conn = std::shared_ptr<FakeConnection>;

struct App {
  uint32_t sdkappid = 0;
  std::string key;
};

class SignalServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Logger::Global().SetSink([](std::string_view) {});
    ASSERT_FALSE(dir_.path().empty());
    auto provider = crypto::FileMasterKeyProvider::Open(dir_.path() + "/master.key", true);
    ASSERT_TRUE(provider.ok()) << provider.status().ToString();
    keyring_ = std::make_unique<crypto::Keyring>(std::move(provider).value());
    auto store = store::ControlStore::Open(dir_.path() + "/data", *keyring_, clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    app1_ = MakeApp("acme");
    app2_ = MakeApp("globex");
    ASSERT_NE(app1_.sdkappid, 0u);
    ASSERT_NE(app2_.sdkappid, 0u);
    ASSERT_NE(app1_.sdkappid, app2_.sdkappid);

    server_ = std::make_unique<SignalServer>(ServerOptions(), *store_, registry_, clock_,
                                             [this](std::function<void()> fn) {
                                               // Worker threads call this: queue only, the test
                                               // thread runs it.
                                               std::lock_guard lock(posted_mu_);
                                               posted_.push_back(std::move(fn));
                                             });
    std::vector<sfu::Worker*> raw;
    for (size_t i = 0; i < 2; ++i) {
      sfu::WorkerOptions wo;
      wo.index = i;
      wo.listen_ip = "127.0.0.1";
      wo.port = 0;
      auto worker = sfu::Worker::Start(wo, server_.get());
      ASSERT_TRUE(worker.ok()) << worker.status().ToString();
      ASSERT_NE((*worker)->port(), 0);
      raw.push_back(worker->get());
      workers_.push_back(std::move(worker).value());
    }
    server_->SetWorkers(raw);
  }

  // Overridden by fixtures that test a non-default configuration.
  virtual SignalServerOptions ServerOptions() const { return SignalServerOptions{}; }

  void TearDown() override {
    for (auto& w : workers_) {
      w->Stop();
    }
    workers_.clear();  // no listener calls from here on
    Drain();
    server_.reset();
  }

  App MakeApp(const std::string& name) {
    const store::AuditContext op{"operator:local", "", ""};
    App out;
    auto account = store_->CreateAccount(name, op);
    EXPECT_TRUE(account.ok()) << account.status().ToString();
    if (!account.ok()) {
      return out;
    }
    auto app = store_->CreateApplication(account->uin, name + "-app", op);
    EXPECT_TRUE(app.ok()) << app.status().ToString();
    if (!app.ok()) {
      return out;
    }
    auto key = store_->CurrentAppKey(app->app.sdkappid, op);
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    if (!key.ok()) {
      return out;
    }
    out.sdkappid = app->app.sdkappid;
    out.key = key->key;
    return out;
  }

  int64_t NowS() const { return clock_.NowUnixSeconds(); }

  // A UserSig issued now (FakeClock time) unless `time` is given.
  std::string Sig(const App& app, const std::string& user,
                  std::optional<auth::PrivateMapKey> pmk = std::nullopt,
                  std::optional<int64_t> time = std::nullopt, int64_t expire = 86400) {
    auth::UserSigGenParams p;
    p.sdkappid = app.sdkappid;
    p.key = app.key;
    p.user_id = user;
    p.time = time.value_or(NowS());
    p.expire = expire;
    p.private_map_key = std::move(pmk);
    auto ticket = auth::GenUserSig(p);
    EXPECT_TRUE(ticket.ok()) << ticket.status().ToString();
    return ticket.ok() ? *ticket : std::string();
  }

  auth::PrivateMapKey Pmk(const App& app, const std::string& user, uint32_t room,
                          uint32_t privileges) const {
    auth::PrivateMapKey p;
    p.version = 0;
    p.account = user;
    p.sdkappid = app.sdkappid;
    p.room_id = room;
    p.expire_at = static_cast<uint32_t>(NowS() + 3600);
    p.privilege_map = privileges;
    return p;
  }

  // ---- driving the server as the HTTPS io thread would ----

  Conn Connect(const std::string& ip = kIp) {
    auto conn = std::make_shared<FakeConnection>(next_conn_id_++, ip);
    net::HttpRequest upgrade;
    upgrade.method = "GET";
    upgrade.target = "/signal";
    upgrade.path = "/signal";
    upgrade.client_ip = ip;
    server_->OnOpen(conn, upgrade);
    conns_.push_back(conn);
    Pump();
    return conn;
  }

  // Runs what workers posted, then delivers OnClose for every connection the
  // server closed (the real server does so once the close frame is out).
  void Pump() {
    for (bool progress = true; progress;) {
      progress = Drain() > 0;
      for (size_t i = 0; i < conns_.size(); ++i) {
        Conn c = conns_[i];
        if (c->closed() && !c->close_delivered) {
          c->close_delivered = true;
          server_->OnClose(c);
          progress = true;
        }
      }
    }
  }

  size_t Drain() {
    std::vector<std::function<void()>> batch;
    {
      std::lock_guard lock(posted_mu_);
      batch.swap(posted_);
    }
    for (auto& fn : batch) {
      fn();
    }
    return batch.size();
  }

  // The client's socket dropped.
  void Disconnect(const Conn& conn) {
    conn->DropByPeer();
    Pump();
  }

  void Tick(int64_t advance_ms) {
    clock_.AdvanceMillis(advance_ms);
    server_->OnTick();
    Pump();
  }

  void SendText(const Conn& conn, const std::string& text) {
    server_->OnText(conn, text);
    Pump();
  }

  // Sends `msg` with a fresh numeric id; returns the reply to it (ok/error).
  // Events stay in the inbox.
  json Request(const Conn& conn, json msg) {
    const int64_t id = next_request_id_++;
    msg["id"] = id;
    SendText(conn, msg.dump());
    return TakeReply(*conn, id);
  }

  static json TakeReply(FakeConnection& conn, int64_t id) {
    for (auto it = conn.inbox.begin(); it != conn.inbox.end(); ++it) {
      const std::string type = MsgType(*it);
      if ((type == "ok" || type == "error") && it->contains("id") && (*it)["id"] == id) {
        json reply = std::move(*it);
        conn.inbox.erase(it);
        return reply;
      }
    }
    ADD_FAILURE() << "no reply to request " << id << "; inbox: " << Dump(conn);
    return json::object();
  }

  // Removes and returns the first queued message of `type`.
  static json TakeEvent(FakeConnection& conn, std::string_view type) {
    for (auto it = conn.inbox.begin(); it != conn.inbox.end(); ++it) {
      if (MsgType(*it) == type) {
        json event = std::move(*it);
        conn.inbox.erase(it);
        return event;
      }
    }
    ADD_FAILURE() << "no `" << type << "` message; inbox: " << Dump(conn);
    return json::object();
  }

  static bool Has(const FakeConnection& conn, std::string_view type) {
    for (const json& m : conn.inbox) {
      if (MsgType(m) == type) {
        return true;
      }
    }
    return false;
  }

  static std::string Dump(const FakeConnection& conn) {
    json all = json::array();
    for (const json& m : conn.inbox) {
      json shown = m;
      if (shown.contains("sdp")) {
        shown["sdp"] = "<sdp>";
      }
      all.push_back(std::move(shown));
    }
    return all.dump();
  }

  json JoinMsg(const App& app, const std::string& user, uint32_t room, const std::string& sig,
               const std::string& role = "anchor") const {
    return json{{"type", "join"}, {"sdkAppId", app.sdkappid}, {"userId", user},
                {"userSig", sig}, {"roomId", room},           {"role", role}};
  }

  json Join(const Conn& conn, const App& app, const std::string& user, uint32_t room = kRoom,
            const std::string& role = "anchor") {
    return Request(conn, JoinMsg(app, user, room, Sig(app, user), role));
  }

  // A join whose UserSig carries a PrivateMapKey with `privileges` for kRoom.
  json JoinWithRights(const Conn& conn, const App& app, const std::string& user,
                      uint32_t privileges, const std::string& role = "anchor") {
    return Request(
        conn, JoinMsg(app, user, kRoom, Sig(app, user, Pmk(app, user, kRoom, privileges)), role));
  }

  // A new connection that joined successfully.
  Conn Joined(const App& app, const std::string& user, uint32_t room = kRoom,
              const std::string& role = "anchor") {
    Conn conn = Connect();
    json reply = Join(conn, app, user, room, role);
    EXPECT_EQ(MsgType(reply), "ok") << user << ": " << reply.dump();
    return conn;
  }

  json Heartbeat(const Conn& conn) { return Request(conn, json{{"type", "heartbeat"}}); }

  static json MicCamTracks() {
    return json::array(
        {{{"trackId", "mic"}, {"kind", "audio"}, {"source", "microphone"}, {"mid", kAudioMid}},
         {{"trackId", "cam"}, {"kind", "video"}, {"source", "camera"}, {"mid", kVideoMid}}});
  }

  json Publish(const Conn& conn, const std::string& sdp, const json& tracks) {
    return Request(conn, json{{"type", "publish"}, {"sdp", sdp}, {"tracks", tracks}});
  }

  // What a browser answers to our subscribe offer: same m-sections, recvonly
  // (inactive stays inactive), DTLS client role, its own ICE and fingerprint.
  static std::string SubscribeAnswer(const std::string& offer_sdp) {
    auto offer = rtc::ParseSdp(offer_sdp);
    EXPECT_TRUE(offer.ok()) << offer.status().ToString();
    if (!offer.ok()) {
      return std::string();
    }
    rtc::SessionDescription answer = *offer;
    answer.origin = rtc::Origin{};
    answer.origin.session_id = 777;
    answer.origin.session_version = 2;
    answer.ice_lite = false;
    answer.setup.reset();
    answer.ice = rtc::IceParameters{};
    answer.fingerprints.clear();
    for (rtc::MediaSection& m : answer.media) {
      m.direction = m.direction == rtc::MediaDirection::kSendOnly ? rtc::MediaDirection::kRecvOnly
                                                                  : rtc::MediaDirection::kInactive;
      m.setup = rtc::SetupRole::kActive;
      m.ice = rtc::IceParameters{"cLnT", "clientpasswordclientpw", {}};
      m.fingerprints = {rtc::Fingerprint{
          "sha-256",
          "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
          "AB:CD:EF"}};
      m.candidates.clear();
      m.end_of_candidates = false;
      m.ssrcs.clear();
      m.ssrc_groups.clear();
      m.msids.clear();
    }
    auto text = rtc::WriteSdp(answer);
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    return text.ok() ? *text : std::string();
  }

  json Subscribe(const Conn& conn, int64_t offer_id, const std::string& sdp) {
    return Request(conn, json{{"type", "subscribe"}, {"offerId", offer_id}, {"sdp", sdp}});
  }

  // The worker a room of `app` lives on (the server's placement rule).
  size_t RoomWorker(const App& app, uint32_t room = kRoom) const {
    return sfu::PlaceRoom(app.sdkappid, api::RoomKey::Numeric(app.sdkappid, room).ToString(),
                          workers_.size());
  }

  // Transports on worker `i` once it has run everything posted so far (a
  // bounded wait on the worker thread, no sleeping).
  uint64_t TransportsOn(size_t i) {
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> ready = done->get_future();
    workers_[i]->Post([done] { done->set_value(); });
    EXPECT_EQ(ready.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    return workers_[i]->counters().transports.load();
  }

  // Producers (relayed copies included) on worker `i`, as TransportsOn.
  uint64_t ProducersOn(size_t i) {
    TransportsOn(i);
    return workers_[i]->counters().producers.load();
  }

  std::vector<store::RoomInstance> StoredRooms(const App& app) {
    auto app_store = store_->OpenApp(app.sdkappid);
    EXPECT_TRUE(app_store.ok()) << app_store.status().ToString();
    if (!app_store.ok()) {
      return {};
    }
    auto rooms = (*app_store)->ListRooms(store::RoomQuery{});
    EXPECT_TRUE(rooms.ok()) << rooms.status().ToString();
    return rooms.ok() ? rooms->first : std::vector<store::RoomInstance>{};
  }

  std::vector<store::UserSession> StoredSessions(const App& app, const std::string& comm_id) {
    auto app_store = store_->OpenApp(app.sdkappid);
    EXPECT_TRUE(app_store.ok()) << app_store.status().ToString();
    if (!app_store.ok()) {
      return {};
    }
    store::SessionQuery q;
    q.comm_id = comm_id;
    auto sessions = (*app_store)->ListSessions(q);
    EXPECT_TRUE(sessions.ok()) << sessions.status().ToString();
    return sessions.ok() ? sessions->first : std::vector<store::UserSession>{};
  }

  // Registry role of `user` ("" when absent).
  std::string RegistryRole(const App& app, const std::string& user, uint32_t room = kRoom) const {
    if (auto snap = registry_.FindNumeric(app.sdkappid, room)) {
      for (const api::RoomUser& u : snap->users) {
        if (u.user_id == user) {
          return u.role;
        }
      }
    }
    return "";
  }

  json SwitchRole(const Conn& conn, const std::string& role) {
    return Request(conn, json{{"type", "switch-role"}, {"role", role}});
  }

  // Mic on the fixture's audio transceiver, a screen share on its video one.
  static json MicScreenTracks() {
    return json::array(
        {{{"trackId", "mic"}, {"kind", "audio"}, {"source", "microphone"}, {"mid", kAudioMid}},
         {{"trackId", "screen"}, {"kind", "video"}, {"source", "screen"}, {"mid", kVideoMid}}});
  }

  std::vector<std::string> RegistryUsers(const App& app, uint32_t room = kRoom) const {
    std::vector<std::string> ids;
    if (auto snap = registry_.FindNumeric(app.sdkappid, room)) {
      for (const api::RoomUser& u : snap->users) {
        ids.push_back(u.user_id);
      }
    }
    return ids;
  }

  static void ExpectError(const json& reply, const std::string& code) {
    EXPECT_EQ(MsgType(reply), "error") << reply.dump();
    EXPECT_EQ(reply.value("code", std::string()), code) << reply.dump();
  }

  // Declaration order is destruction order in reverse: workers stop first
  // (they call the server), then the server, then what it borrows.
  TempDir dir_{"aegis-signal"};
  FakeClock clock_;
  std::unique_ptr<crypto::Keyring> keyring_;
  std::unique_ptr<store::ControlStore> store_;
  api::RoomRegistry registry_;
  App app1_;
  App app2_;
  std::mutex posted_mu_;
  std::vector<std::function<void()>> posted_;
  std::unique_ptr<SignalServer> server_;
  std::vector<std::unique_ptr<sfu::Worker>> workers_;
  std::vector<Conn> conns_;
  uint64_t next_conn_id_ = 1;
  int64_t next_request_id_ = 1;
};

// ---- join ----

TEST_F(SignalServerTest, JoinReturnsSessionAndRoomState) {
  Conn alice = Connect();
  json first = Join(alice, app1_, "alice");
  ASSERT_EQ(MsgType(first), "ok") << first.dump();
  const json& data = first["data"];
  ASSERT_TRUE(data["sessionToken"].is_string());
  const std::string token = data["sessionToken"].get<std::string>();
  EXPECT_GE(token.size(), 16u);
  EXPECT_EQ(data["heartbeatIntervalMs"], 5000);
  EXPECT_EQ(data["sessionTimeoutMs"], 20000);
  EXPECT_EQ(data["users"], json::array());
  EXPECT_TRUE(data["iceServers"].is_array());
  EXPECT_TRUE(alice->inbox.empty()) << Dump(*alice);

  Conn bob = Connect();
  json second = Join(bob, app1_, "bob");
  ASSERT_EQ(MsgType(second), "ok") << second.dump();
  EXPECT_NE(second["data"]["sessionToken"], token);
  EXPECT_EQ(second["data"]["users"],
            json::parse(R"([{"userId":"alice","role":"anchor","tracks":[]}])"));
  EXPECT_TRUE(bob->inbox.empty()) << Dump(*bob);  // nothing to subscribe to yet

  json joined = TakeEvent(*alice, "user-joined");
  EXPECT_EQ(joined, json::parse(R"({"type":"user-joined","userId":"bob","role":"anchor"})"));
  EXPECT_TRUE(alice->inbox.empty()) << Dump(*alice);
  EXPECT_FALSE(alice->closed());
  EXPECT_FALSE(bob->closed());

  EXPECT_EQ(RegistryUsers(app1_), (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(server_->session_count(), 2u);
  // The instance and both sessions are recorded in the application's store.
  const auto rooms = StoredRooms(app1_);
  ASSERT_EQ(rooms.size(), 1u);
  EXPECT_EQ(rooms[0].room_id, "1234");
  EXPECT_FALSE(rooms[0].is_str_room);
  EXPECT_EQ(rooms[0].creator, "alice");
  EXPECT_EQ(rooms[0].destroyed_at, 0);
  const auto sessions = StoredSessions(app1_, rooms[0].comm_id);
  ASSERT_EQ(sessions.size(), 2u);
  for (const store::UserSession& s : sessions) {
    EXPECT_EQ(s.role, "anchor");
    EXPECT_EQ(s.joined_at, NowS());
    EXPECT_EQ(s.left_at, 0);
    EXPECT_FALSE(s.client_ip_masked.empty());
    EXPECT_NE(s.client_ip_masked, kIp);  // only the masked address is stored
  }
}

TEST_F(SignalServerTest, RefusedJoinsReportAuthCodesAndKeepTheConnection) {
  Conn conn = Connect();
  // Signed with another application's key.
  App forged{app1_.sdkappid, app2_.key};
  ExpectError(Request(conn, JoinMsg(app1_, "alice", kRoom, Sig(forged, "alice"))),
              "usersig_bad_signature");
  // Issued two days ago for one day.
  ExpectError(Request(conn, JoinMsg(app1_, "alice", kRoom,
                                    Sig(app1_, "alice", std::nullopt, NowS() - 2 * 86400, 86400))),
              "usersig_expired");
  // No such application.
  App unknown{app2_.sdkappid + 1000, app1_.key};
  ExpectError(Request(conn, JoinMsg(unknown, "alice", kRoom, Sig(unknown, "alice"))),
              "app_unavailable");
  // A genuine UserSig of another user.
  ExpectError(Request(conn, JoinMsg(app1_, "mallory", kRoom, Sig(app1_, "alice"))),
              "usersig_identifier_mismatch");
  // A genuine UserSig of another application.
  ExpectError(Request(conn, JoinMsg(app2_, "alice", kRoom, Sig(app1_, "alice"))),
              "usersig_sdkappid_mismatch");
  // Not a ticket at all.
  ExpectError(Request(conn, JoinMsg(app1_, "alice", kRoom, "eJyrVkosKMhJVbJSMjQwMFLSUcpMSc0r")),
              "usersig_malformed");

  EXPECT_FALSE(conn->closed());
  EXPECT_TRUE(conn->inbox.empty()) << Dump(*conn);
  EXPECT_EQ(registry_.room_count(), 0u);
  EXPECT_TRUE(StoredRooms(app1_).empty());

  // The same connection can still join.
  json ok = Join(conn, app1_, "alice");
  EXPECT_EQ(MsgType(ok), "ok") << ok.dump();
  EXPECT_EQ(RegistryUsers(app1_), std::vector<std::string>{"alice"});
  ExpectError(Join(conn, app1_, "alice"), "already_joined");
}

TEST_F(SignalServerTest, RequestsBeforeJoinAreRefusedWithNotJoined) {
  Conn conn = Connect();
  const std::string sdp = ReadSdpFixture(kPublishFixture);
  const json requests[] = {
      {{"type", "leave"}},
      {{"type", "publish"}, {"sdp", sdp}, {"tracks", MicCamTracks()}},
      {{"type", "unpublish"}, {"trackIds", json::array({"cam"})}},
      {{"type", "subscribe"}, {"offerId", 1}, {"sdp", sdp}},
      {{"type", "mute"}, {"trackId", "cam"}, {"muted", true}},
      {{"type", "ice-candidate"}, {"pc", "publish"}, {"candidate", ""}},
  };
  for (const json& r : requests) {
    json reply = Request(conn, r);
    ExpectError(reply, "not_joined");
    EXPECT_EQ(reply["message"], "Join a room first.");
  }
  json hb = Heartbeat(conn);
  EXPECT_EQ(MsgType(hb), "ok") << hb.dump();
  EXPECT_FALSE(hb.contains("data"));
  // A malformed message gets the codec's code, and the connection stays.
  SendText(conn, R"({"type":"join","id":"x"})");
  ASSERT_EQ(conn->inbox.size(), 1u);
  ExpectError(conn->inbox.front(), "missing_field");
  EXPECT_EQ(conn->inbox.front()["id"], "x");
  conn->inbox.clear();
  SendText(conn, "not json");
  ASSERT_EQ(conn->inbox.size(), 1u);
  ExpectError(conn->inbox.front(), "bad_message");
  EXPECT_TRUE(conn->inbox.front()["id"].is_null());
  EXPECT_FALSE(conn->closed());
  EXPECT_EQ(registry_.room_count(), 0u);
}

// ---- PrivateMapKey ----

TEST_F(SignalServerTest, PrivateMapKeyForAnotherRoomIsRefused) {
  Conn conn = Connect();
  ExpectError(Request(conn, JoinMsg(app1_, "alice", kRoom,
                                    Sig(app1_, "alice", Pmk(app1_, "alice", 999, auth::kPrivAll)))),
              "privatemapkey_room_mismatch");
  // Same through the separate privateMapKey field.
  json msg = JoinMsg(app1_, "alice", kRoom, Sig(app1_, "alice"));
  msg["privateMapKey"] = Sig(app1_, "alice", Pmk(app1_, "alice", 999, auth::kPrivAll));
  ExpectError(Request(conn, msg), "privatemapkey_room_mismatch");
  EXPECT_FALSE(conn->closed());
  EXPECT_EQ(registry_.room_count(), 0u);
  // A matching one is accepted.
  msg = JoinMsg(app1_, "alice", kRoom, Sig(app1_, "alice"));
  msg["privateMapKey"] = Sig(app1_, "alice", Pmk(app1_, "alice", kRoom, auth::kPrivAll));
  json ok = Request(conn, msg);
  EXPECT_EQ(MsgType(ok), "ok") << ok.dump();
}

TEST_F(SignalServerTest, PrivateMapKeyWithoutCreateRightCannotOpenARoom) {
  Conn conn = Connect();
  const uint32_t enter_only = auth::kPrivEnterRoom | auth::kPrivRecvAudio | auth::kPrivRecvVideo;
  ExpectError(JoinWithRights(conn, app1_, "bob", enter_only), "permission_denied");
  // Without the enter right, not even an existing room.
  Conn alice = Joined(app1_, "alice");
  ExpectError(JoinWithRights(conn, app1_, "bob", auth::kPrivCreateRoom), "permission_denied");
  EXPECT_FALSE(conn->closed());
  EXPECT_EQ(RegistryUsers(app1_), std::vector<std::string>{"alice"});
  EXPECT_FALSE(Has(*alice, "user-joined"));
}

TEST_F(SignalServerTest, PrivateMapKeyWithEnterOnlyJoinsAnExistingRoom) {
  Conn alice = Joined(app1_, "alice");
  Conn bob = Connect();
  json ok = JoinWithRights(bob, app1_, "bob", auth::kPrivEnterRoom, "anchor");
  ASSERT_EQ(MsgType(ok), "ok") << ok.dump();
  EXPECT_EQ(ok["data"]["users"].size(), 1u);
  EXPECT_EQ(TakeEvent(*alice, "user-joined")["userId"], "bob");
  EXPECT_EQ(RegistryUsers(app1_), (std::vector<std::string>{"alice", "bob"}));
  // Entering is all it grants: no sending.
  ExpectError(Publish(bob, ReadSdpFixture(kPublishFixture), MicCamTracks()), "permission_denied");
  EXPECT_FALSE(Has(*alice, "track-published"));
}

// ---- tenancy ----

TEST_F(SignalServerTest, SameRoomNumberInTwoApplicationsAreTwoRooms) {
  Conn a1 = Joined(app1_, "alice");
  Conn b2 = Connect();
  json ok = Join(b2, app2_, "bob");
  ASSERT_EQ(MsgType(ok), "ok") << ok.dump();
  EXPECT_EQ(ok["data"]["users"], json::array());
  // The same user id in the other application is another user (no kick).
  Conn a2 = Connect();
  json ok2 = Join(a2, app2_, "alice");
  ASSERT_EQ(MsgType(ok2), "ok") << ok2.dump();
  EXPECT_EQ(ok2["data"]["users"].size(), 1u);
  EXPECT_EQ(ok2["data"]["users"][0]["userId"], "bob");

  EXPECT_TRUE(a1->inbox.empty()) << Dump(*a1);  // no user-joined across applications
  EXPECT_FALSE(a1->closed());
  EXPECT_EQ(TakeEvent(*b2, "user-joined")["userId"], "alice");
  EXPECT_EQ(registry_.room_count(), 2u);
  EXPECT_EQ(RegistryUsers(app1_), std::vector<std::string>{"alice"});
  EXPECT_EQ(RegistryUsers(app2_), (std::vector<std::string>{"alice", "bob"}));
  const auto rooms1 = StoredRooms(app1_);
  const auto rooms2 = StoredRooms(app2_);
  ASSERT_EQ(rooms1.size(), 1u);
  ASSERT_EQ(rooms2.size(), 1u);
  EXPECT_NE(rooms1[0].comm_id, rooms2[0].comm_id);
  EXPECT_EQ(rooms1[0].comm_id.rfind(std::to_string(app1_.sdkappid) + "_", 0), 0u);
  EXPECT_EQ(rooms2[0].comm_id.rfind(std::to_string(app2_.sdkappid) + "_", 0), 0u);
}

// ---- kicks ----

TEST_F(SignalServerTest, DuplicateLoginKicksTheOlderConnection) {
  Conn alice1 = Joined(app1_, "alice");
  Conn bob = Joined(app1_, "bob");
  alice1->inbox.clear();
  const std::string comm_id = registry_.FindNumeric(app1_.sdkappid, kRoom)->comm_id;

  Conn alice2 = Connect(kOtherIp);
  json ok = Join(alice2, app1_, "alice");
  ASSERT_EQ(MsgType(ok), "ok") << ok.dump();
  EXPECT_EQ(ok["data"]["users"].size(), 1u);
  EXPECT_EQ(ok["data"]["users"][0]["userId"], "bob");

  EXPECT_EQ(TakeEvent(*alice1, "kicked"),
            json::parse(R"({"type":"kicked","reason":"kicked_duplicate_login"})"));
  EXPECT_TRUE(alice1->inbox.empty()) << Dump(*alice1);
  EXPECT_TRUE(alice1->closed());
  EXPECT_EQ(alice1->close_code, net::kWsCloseNormal);
  EXPECT_EQ(alice1->close_reason, "kicked_duplicate_login");
  EXPECT_FALSE(alice2->closed());

  EXPECT_EQ(TakeEvent(*bob, "user-left"),
            json::parse(R"({"type":"user-left","userId":"alice","reason":"kicked"})"));
  EXPECT_EQ(TakeEvent(*bob, "user-joined")["userId"], "alice");
  EXPECT_EQ(RegistryUsers(app1_), (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(registry_.user_count(), 2u);
  EXPECT_EQ(registry_.FindNumeric(app1_.sdkappid, kRoom)->comm_id, comm_id);  // same instance

  // The old socket's close (already delivered by Pump) does not touch the new session.
  EXPECT_TRUE(alice1->close_delivered);
  EXPECT_EQ(MsgType(Heartbeat(alice2)), "ok");
  EXPECT_FALSE(Has(*bob, "user-left"));
  EXPECT_EQ(server_->session_count(), 2u);
  int alice_open = 0;
  for (const store::UserSession& s : StoredSessions(app1_, comm_id)) {
    if (s.user_id == "alice" && s.left_at != 0) {
      EXPECT_EQ(s.leave_reason, "kicked_duplicate_login");
    }
    alice_open += s.user_id == "alice" && s.left_at == 0 ? 1 : 0;
  }
  EXPECT_EQ(alice_open, 1);
}

TEST_F(SignalServerTest, RestKickUsersRemovesAndClosesTheUser) {
  Conn alice = Joined(app1_, "alice");
  Conn bob = Joined(app1_, "bob");
  alice->inbox.clear();
  const std::string comm_id = registry_.FindNumeric(app1_.sdkappid, kRoom)->comm_id;

  auto kicked =
      registry_.KickUsers(api::RoomKey::Numeric(app1_.sdkappid, kRoom), {"bob", "nobody"});
  ASSERT_TRUE(kicked.ok()) << kicked.status().ToString();
  EXPECT_EQ(*kicked, std::vector<std::string>{"bob"});
  Pump();

  EXPECT_EQ(TakeEvent(*bob, "kicked"),
            json::parse(R"({"type":"kicked","reason":"removed_by_api"})"));
  EXPECT_TRUE(bob->closed());
  EXPECT_EQ(bob->close_code, net::kWsCloseNormal);
  EXPECT_EQ(TakeEvent(*alice, "user-left"),
            json::parse(R"({"type":"user-left","userId":"bob","reason":"kicked"})"));
  EXPECT_FALSE(alice->closed());
  EXPECT_EQ(RegistryUsers(app1_), std::vector<std::string>{"alice"});
  EXPECT_EQ(server_->session_count(), 1u);
  for (const store::UserSession& s : StoredSessions(app1_, comm_id)) {
    if (s.user_id == "bob") {
      EXPECT_EQ(s.left_at, NowS());
      EXPECT_EQ(s.leave_reason, "removed_by_api");
    } else {
      EXPECT_EQ(s.left_at, 0);
    }
  }
}

TEST_F(SignalServerTest, RestDismissRoomKicksEveryoneAndEndsTheInstance) {
  Conn alice = Joined(app1_, "alice");
  Conn bob = Joined(app1_, "bob");
  alice->inbox.clear();
  const std::string comm_id = registry_.FindNumeric(app1_.sdkappid, kRoom)->comm_id;
  clock_.AdvanceMillis(3000);

  auto dismissed = registry_.DismissRoom(api::RoomKey::Numeric(app1_.sdkappid, kRoom));
  ASSERT_TRUE(dismissed.ok()) << dismissed.status().ToString();
  EXPECT_EQ(*dismissed, 2u);
  Pump();

  for (const Conn& c : {alice, bob}) {
    ASSERT_GE(c->inbox.size(), 2u) << Dump(*c);
    // room-dismissed comes right before the kick.
    auto kick = std::find_if(c->inbox.begin(), c->inbox.end(),
                             [](const json& m) { return MsgType(m) == "kicked"; });
    ASSERT_NE(kick, c->inbox.end()) << Dump(*c);
    ASSERT_NE(kick, c->inbox.begin());
    EXPECT_EQ(*(kick - 1), json::parse(R"({"type":"room-dismissed"})"));
    EXPECT_EQ(*kick, json::parse(R"({"type":"kicked","reason":"room_dismissed"})"));
    EXPECT_TRUE(c->closed());
    EXPECT_EQ(c->close_code, net::kWsCloseNormal);
  }
  EXPECT_EQ(registry_.room_count(), 0u);
  EXPECT_EQ(server_->session_count(), 0u);
  const auto rooms = StoredRooms(app1_);
  ASSERT_EQ(rooms.size(), 1u);
  EXPECT_EQ(rooms[0].comm_id, comm_id);
  EXPECT_EQ(rooms[0].destroyed_at, NowS());
  const auto sessions = StoredSessions(app1_, comm_id);
  ASSERT_EQ(sessions.size(), 2u);
  for (const store::UserSession& s : sessions) {
    EXPECT_EQ(s.left_at, NowS()) << s.user_id;
    EXPECT_EQ(s.leave_reason, "room_dismissed") << s.user_id;
  }
  // The room number is free again: a new instance with a new CommId.
  Conn carol = Joined(app1_, "carol");
  ASSERT_TRUE(registry_.FindNumeric(app1_.sdkappid, kRoom).has_value());
  EXPECT_NE(registry_.FindNumeric(app1_.sdkappid, kRoom)->comm_id, comm_id);
  EXPECT_EQ(StoredRooms(app1_).size(), 2u);
}

// ---- leave ----

TEST_F(SignalServerTest, LeaveClosesAndTheLastUserEndsTheRoom) {
  const int64_t created = NowS();
  Conn alice = Joined(app1_, "alice");
  Conn bob = Joined(app1_, "bob");
  alice->inbox.clear();
  auto snap = registry_.FindNumeric(app1_.sdkappid, kRoom);
  ASSERT_TRUE(snap.has_value());
  const std::string comm_id = snap->comm_id;
  EXPECT_EQ(comm_id, std::to_string(app1_.sdkappid) + "_1234_" + std::to_string(created));
  ASSERT_EQ(StoredRooms(app1_).size(), 1u);
  EXPECT_EQ(StoredRooms(app1_)[0].comm_id, comm_id);
  EXPECT_EQ(StoredRooms(app1_)[0].created_at, created);

  clock_.AdvanceMillis(2000);
  json bye = Request(bob, json{{"type", "leave"}});
  EXPECT_EQ(MsgType(bye), "ok") << bye.dump();
  EXPECT_FALSE(bye.contains("data"));
  EXPECT_TRUE(bob->closed());
  EXPECT_EQ(bob->close_code, net::kWsCloseNormal);
  EXPECT_EQ(TakeEvent(*alice, "user-left"),
            json::parse(R"({"type":"user-left","userId":"bob","reason":"left"})"));
  EXPECT_EQ(RegistryUsers(app1_), std::vector<std::string>{"alice"});
  EXPECT_EQ(StoredRooms(app1_)[0].destroyed_at, 0);

  clock_.AdvanceMillis(5000);
  const int64_t ended = NowS();
  EXPECT_EQ(MsgType(Request(alice, json{{"type", "leave"}})), "ok");
  EXPECT_TRUE(alice->closed());
  EXPECT_EQ(alice->close_code, net::kWsCloseNormal);
  EXPECT_EQ(registry_.room_count(), 0u);
  EXPECT_FALSE(registry_.FindNumeric(app1_.sdkappid, kRoom).has_value());
  EXPECT_EQ(server_->session_count(), 0u);
  const auto rooms = StoredRooms(app1_);
  ASSERT_EQ(rooms.size(), 1u);
  EXPECT_EQ(rooms[0].destroyed_at, ended);
  for (const store::UserSession& s : StoredSessions(app1_, comm_id)) {
    EXPECT_EQ(s.leave_reason, "left") << s.user_id;
    EXPECT_EQ(s.left_at, s.user_id == "bob" ? created + 2 : ended) << s.user_id;
  }
}

// ---- timers ----

TEST_F(SignalServerTest, UnauthenticatedConnectionIsClosedAfterTenSeconds) {
  Conn idle = Connect();
  Conn busy = Connect();  // heartbeats do not count as authentication
  Tick(5000);
  EXPECT_EQ(MsgType(Heartbeat(busy)), "ok");
  Conn alice = Joined(app1_, "alice");
  Tick(5000);  // exactly 10 s: still allowed
  EXPECT_FALSE(idle->closed());
  EXPECT_FALSE(busy->closed());
  Tick(1);
  EXPECT_TRUE(idle->closed());
  EXPECT_EQ(idle->close_code, net::kWsClosePolicyViolation);
  EXPECT_TRUE(busy->closed());
  EXPECT_EQ(busy->close_code, net::kWsClosePolicyViolation);
  EXPECT_FALSE(alice->closed());
  EXPECT_EQ(server_->session_count(), 1u);
}

TEST_F(SignalServerTest, SilentUserIsDroppedAfterTwentySeconds) {
  Conn alice = Joined(app1_, "alice");
  Conn bob = Joined(app1_, "bob");
  alice->inbox.clear();
  const std::string comm_id = registry_.FindNumeric(app1_.sdkappid, kRoom)->comm_id;
  for (int i = 0; i < 4; ++i) {  // 20 s: alice heartbeats, bob is silent
    Tick(5000);
    EXPECT_EQ(MsgType(Heartbeat(alice)), "ok");
  }
  EXPECT_FALSE(bob->closed());
  EXPECT_TRUE(alice->inbox.empty()) << Dump(*alice);
  Tick(1);
  EXPECT_TRUE(bob->closed());
  EXPECT_EQ(bob->close_code, net::kWsClosePolicyViolation);
  EXPECT_FALSE(alice->closed());
  EXPECT_EQ(TakeEvent(*alice, "user-left"),
            json::parse(R"({"type":"user-left","userId":"bob","reason":"timeout"})"));
  EXPECT_EQ(RegistryUsers(app1_), std::vector<std::string>{"alice"});
  EXPECT_EQ(server_->session_count(), 1u);
  for (const store::UserSession& s : StoredSessions(app1_, comm_id)) {
    if (s.user_id == "bob") {
      EXPECT_EQ(s.leave_reason, "timeout");
      EXPECT_NE(s.left_at, 0);
    }
  }
}

TEST_F(SignalServerTest, ResumeWithinTheWindowKeepsTheSession) {
  Conn alice = Joined(app1_, "alice");
  Conn bob = Connect();
  json joined = Join(bob, app1_, "bob");
  ASSERT_EQ(MsgType(joined), "ok");
  const std::string token = joined["data"]["sessionToken"].get<std::string>();
  alice->inbox.clear();

  Disconnect(bob);
  EXPECT_EQ(server_->session_count(), 2u);  // kept for the resume window
  for (int i = 0; i < 3; ++i) {
    Tick(5000);
    EXPECT_EQ(MsgType(Heartbeat(alice)), "ok");
  }
  EXPECT_EQ(RegistryUsers(app1_), (std::vector<std::string>{"alice", "bob"}));

  Conn bob2 = Connect(kOtherIp);
  json resumed = Request(bob2, json{{"type", "resume"}, {"sessionToken", token}});
  ASSERT_EQ(MsgType(resumed), "ok") << resumed.dump();
  EXPECT_EQ(resumed["data"]["sessionToken"], token);  // the same session
  EXPECT_EQ(resumed["data"]["users"],
            json::parse(R"([{"userId":"alice","role":"anchor","tracks":[]}])"));
  EXPECT_FALSE(bob2->closed());
  EXPECT_TRUE(alice->inbox.empty()) << Dump(*alice);  // no user-left, no user-joined
  EXPECT_EQ(server_->session_count(), 2u);
  EXPECT_EQ(RegistryUsers(app1_), (std::vector<std::string>{"alice", "bob"}));

  // The resumed session is live: requests work and its clock restarted.
  EXPECT_EQ(MsgType(Heartbeat(bob2)), "ok");
  ExpectError(Join(bob2, app1_, "bob"), "already_joined");
  ExpectError(Request(bob2, json{{"type", "resume"}, {"sessionToken", token}}), "already_joined");
  for (int i = 0; i < 3; ++i) {
    Tick(5000);
    EXPECT_EQ(MsgType(Heartbeat(alice)), "ok");
    EXPECT_EQ(MsgType(Heartbeat(bob2)), "ok");
  }
  EXPECT_TRUE(alice->inbox.empty()) << Dump(*alice);
  // Leaving from the new connection ends it for everybody.
  EXPECT_EQ(MsgType(Request(bob2, json{{"type", "leave"}})), "ok");
  EXPECT_TRUE(bob2->closed());
  EXPECT_EQ(TakeEvent(*alice, "user-left")["reason"], "left");
  EXPECT_EQ(RegistryUsers(app1_), std::vector<std::string>{"alice"});
}

TEST_F(SignalServerTest, ResumeFailsWithABadTokenOrAfterTheWindow) {
  Conn alice = Joined(app1_, "alice");
  Conn bob = Connect();
  json joined = Join(bob, app1_, "bob");
  ASSERT_EQ(MsgType(joined), "ok");
  const std::string token = joined["data"]["sessionToken"].get<std::string>();
  alice->inbox.clear();

  Conn probe = Connect();
  ExpectError(
      Request(probe, json{{"type", "resume"}, {"sessionToken", "AAAAAAAAAAAAAAAAAAAAAAAA"}}),
      "resume_failed");
  EXPECT_FALSE(probe->closed());

  Disconnect(bob);
  for (int i = 0; i < 4; ++i) {
    Tick(5000);
    EXPECT_EQ(MsgType(Heartbeat(alice)), "ok");
  }
  EXPECT_TRUE(alice->inbox.empty()) << Dump(*alice);
  Tick(1);
  EXPECT_EQ(TakeEvent(*alice, "user-left"),
            json::parse(R"({"type":"user-left","userId":"bob","reason":"timeout"})"));
  EXPECT_EQ(RegistryUsers(app1_), std::vector<std::string>{"alice"});

  Conn bob2 = Connect();
  ExpectError(Request(bob2, json{{"type", "resume"}, {"sessionToken", token}}), "resume_failed");
  EXPECT_FALSE(bob2->closed());
  ExpectError(Request(bob2, json{{"type", "mute"}, {"trackId", "cam"}, {"muted", true}}),
              "not_joined");
  EXPECT_FALSE(Has(*alice, "user-joined"));
}

// ---- caps ----

TEST_F(SignalServerTest, MessageFloodClosesOnlyThatConnection) {
  Conn alice = Joined(app1_, "alice");
  Conn bob = Joined(app1_, "bob");
  alice->inbox.clear();
  // The clock stands still: the whole burst allowance is spent, nothing refills.
  // One message of it went to joining; the 61st message overall is refused.
  const size_t burst = static_cast<size_t>(SignalServerOptions{}.max_message_burst);
  for (size_t i = 1; i < burst; ++i) {
    ASSERT_EQ(MsgType(Heartbeat(alice)), "ok") << i;
  }
  EXPECT_FALSE(alice->closed());
  SendText(alice, R"({"type":"heartbeat","id":"last"})");
  ASSERT_EQ(alice->inbox.size(), 1u) << Dump(*alice);
  ExpectError(alice->inbox.front(), "rate_limited");
  EXPECT_TRUE(alice->inbox.front()["id"].is_null());
  EXPECT_TRUE(alice->closed());
  EXPECT_EQ(alice->close_code, net::kWsClosePolicyViolation);

  EXPECT_FALSE(bob->closed());
  EXPECT_EQ(MsgType(Heartbeat(bob)), "ok");
  // alice's socket is gone but her session waits for a resume.
  EXPECT_FALSE(Has(*bob, "user-left"));
}

TEST_F(SignalServerTest, SustainedRateWithinTheLimitIsNotAFlood) {
  Conn alice = Joined(app1_, "alice");
  // 20 messages/s allowed: one every 50 ms for 10 s, three times the burst.
  for (int i = 0; i < 200; ++i) {
    clock_.AdvanceMillis(50);
    ASSERT_EQ(MsgType(Heartbeat(alice)), "ok") << i;
  }
  EXPECT_FALSE(alice->closed());
}

TEST_F(SignalServerTest, ConnectionsPerAddressAreCapped) {
  const size_t cap = SignalServerOptions{}.max_connections_per_ip;
  std::vector<Conn> conns;
  for (size_t i = 0; i < cap; ++i) {
    conns.push_back(Connect());
    ASSERT_FALSE(conns.back()->closed()) << i;
  }
  Conn over = Connect();
  EXPECT_TRUE(over->closed());
  EXPECT_EQ(over->close_code, net::kWsClosePolicyViolation);
  EXPECT_TRUE(over->close_delivered);

  Conn elsewhere = Connect(kOtherIp);
  EXPECT_FALSE(elsewhere->closed());
  for (const Conn& c : conns) {
    EXPECT_FALSE(c->closed());
  }
  // A slot freed by a closed socket can be reused; the next one is refused again.
  Disconnect(conns.front());
  Conn again = Connect();
  EXPECT_FALSE(again->closed());
  EXPECT_EQ(MsgType(Join(again, app1_, "alice")), "ok");
  Conn refused = Connect();
  EXPECT_TRUE(refused->closed());
  EXPECT_EQ(refused->close_code, net::kWsClosePolicyViolation);
}

// ---- media negotiation ----

TEST_F(SignalServerTest, PublishAnswersAndSubscribersFollow) {
  Conn alice = Joined(app1_, "alice");
  Conn bob = Joined(app1_, "bob");
  alice->inbox.clear();
  const size_t w = RoomWorker(app1_);
  const std::string port = std::to_string(workers_[w]->port());

  json published = Publish(alice, ReadSdpFixture(kPublishFixture), MicCamTracks());
  ASSERT_EQ(MsgType(published), "ok") << published.dump();
  const std::string answer = published["data"]["sdp"].get<std::string>();
  EXPECT_NE(answer.find("a=ice-lite"), std::string::npos) << answer;
  EXPECT_NE(answer.find("a=fingerprint:sha-256 " + workers_[w]->certificate().fingerprint()),
            std::string::npos)
      << answer;
  EXPECT_NE(answer.find(" udp 2130706431 127.0.0.1 " + port + " typ host"), std::string::npos)
      << answer;
  EXPECT_NE(answer.find("a=setup:passive"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("a=setup:actpass"), std::string::npos) << answer;
  EXPECT_NE(answer.find("a=group:BUNDLE 0 1"), std::string::npos) << answer;
  EXPECT_EQ(CountOf(answer, "a=recvonly"), 2u) << answer;
  EXPECT_FALSE(Has(*alice, "subscribe-offer"));  // nothing to receive

  // bob hears about both tracks (no mid: that is alice's business) ...
  EXPECT_EQ(
      TakeEvent(*bob, "track-published"),
      json::parse(R"({"type":"track-published","userId":"alice","track":)"
                  R"({"trackId":"mic","kind":"audio","source":"microphone","muted":false}})"));
  EXPECT_EQ(TakeEvent(*bob, "track-published"),
            json::parse(R"({"type":"track-published","userId":"alice","track":)"
                        R"({"trackId":"cam","kind":"video","source":"camera","muted":false}})"));
  // ... and gets one offer for both.
  json offer = TakeEvent(*bob, "subscribe-offer");
  EXPECT_FALSE(Has(*bob, "subscribe-offer"));
  ASSERT_TRUE(offer["offerId"].is_number_integer()) << offer.dump();
  const int64_t offer_id = offer["offerId"].get<int64_t>();
  // Sections are numbered in the server's order, not the publish order.
  ASSERT_EQ(offer["tracks"].size(), 2u) << offer.dump();
  std::map<std::string, std::string> mid_of;  // track id -> subscribe m-section
  for (json& t : offer["tracks"]) {
    const std::string track_id = t.value("trackId", "");
    mid_of[track_id] = t.value("mid", "");
    t.erase("mid");
    EXPECT_EQ(t, track_id == "mic" ? json::parse(R"({"userId":"alice","trackId":"mic",)"
                                                 R"("kind":"audio","source":"microphone"})")
                                   : json::parse(R"({"userId":"alice","trackId":"cam",)"
                                                 R"("kind":"video","source":"camera"})"));
  }
  ASSERT_EQ(mid_of.size(), 2u);
  EXPECT_NE(mid_of["mic"], mid_of["cam"]);
  const std::string offer_sdp = offer["sdp"].get<std::string>();
  EXPECT_NE(offer_sdp.find("a=setup:actpass"), std::string::npos) << offer_sdp;
  EXPECT_EQ(CountOf(offer_sdp, "\r\nm="), 2u) << offer_sdp;
  EXPECT_EQ(CountOf(offer_sdp, "a=sendonly"), 2u) << offer_sdp;
  EXPECT_NE(offer_sdp.find(" 127.0.0.1 " + port + " typ host"), std::string::npos) << offer_sdp;
  EXPECT_NE(offer_sdp.find("a=rtpmap:111 opus/48000/2"), std::string::npos) << offer_sdp;
  // The room's worker now runs alice's publish and bob's subscribe transports.
  EXPECT_EQ(TransportsOn(w), 2u);
  EXPECT_EQ(TransportsOn(1 - w), 0u);

  ExpectError(Subscribe(bob, offer_id + 1, SubscribeAnswer(offer_sdp)), "stale_offer");

  // Mute: subscribers are told; repeating it is a no-op.
  EXPECT_EQ(MsgType(Request(alice, json{{"type", "mute"}, {"trackId", "cam"}, {"muted", true}})),
            "ok");
  EXPECT_EQ(TakeEvent(*bob, "track-muted"),
            json::parse(R"({"type":"track-muted","userId":"alice","trackId":"cam"})"));
  EXPECT_EQ(MsgType(Request(alice, json{{"type", "mute"}, {"trackId", "cam"}, {"muted", true}})),
            "ok");
  EXPECT_FALSE(Has(*bob, "track-muted"));
  EXPECT_EQ(MsgType(Request(alice, json{{"type", "mute"}, {"trackId", "cam"}, {"muted", false}})),
            "ok");
  EXPECT_EQ(TakeEvent(*bob, "track-unmuted")["trackId"], "cam");
  ExpectError(Request(alice, json{{"type", "mute"}, {"trackId", "screen"}, {"muted", true}}),
              "unknown_track");

  // Unpublish: an unknown id refuses the whole request.
  ExpectError(
      Request(alice, json{{"type", "unpublish"}, {"trackIds", json::array({"cam", "screen"})}}),
      "unknown_track");
  EXPECT_FALSE(Has(*bob, "track-unpublished"));
  EXPECT_EQ(
      MsgType(Request(alice, json{{"type", "unpublish"}, {"trackIds", json::array({"cam"})}})),
      "ok");
  EXPECT_EQ(TakeEvent(*bob, "track-unpublished"),
            json::parse(R"({"type":"track-unpublished","userId":"alice","trackId":"cam"})"));
  // One offer at a time: the next comes once bob answered the current one.
  EXPECT_FALSE(Has(*bob, "subscribe-offer"));
  json answered = Subscribe(bob, offer_id, SubscribeAnswer(offer_sdp));
  EXPECT_EQ(MsgType(answered), "ok") << answered.dump();
  json reoffer = TakeEvent(*bob, "subscribe-offer");
  EXPECT_GT(reoffer["offerId"].get<int64_t>(), offer_id);
  EXPECT_EQ(reoffer["tracks"], json::array({{{"mid", mid_of["mic"]},
                                             {"userId", "alice"},
                                             {"trackId", "mic"},
                                             {"kind", "audio"},
                                             {"source", "microphone"}}}));
  auto parsed = rtc::ParseSdp(reoffer["sdp"].get<std::string>());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->media.size(), 2u);  // m-sections are never removed
  for (const rtc::MediaSection& m : parsed->media) {
    if (m.mid == mid_of["cam"]) {
      EXPECT_EQ(m.kind, "video");
      EXPECT_EQ(m.direction, rtc::MediaDirection::kInactive);
      EXPECT_TRUE(m.ssrcs.empty());
    } else {
      EXPECT_EQ(m.mid, mid_of["mic"]);
      EXPECT_EQ(m.kind, "audio");
      EXPECT_EQ(m.direction, rtc::MediaDirection::kSendOnly);
    }
  }
  EXPECT_EQ(CountOf(reoffer["sdp"].get<std::string>(), "a=inactive"), 1u);
  ExpectError(Subscribe(bob, offer_id, SubscribeAnswer(offer_sdp)), "stale_offer");
  EXPECT_EQ(MsgType(Subscribe(bob, reoffer["offerId"].get<int64_t>(),
                              SubscribeAnswer(reoffer["sdp"].get<std::string>()))),
            "ok");
  EXPECT_FALSE(Has(*bob, "subscribe-offer"));

  // A late joiner sees the room as it is now.
  Conn carol = Connect();
  json carol_ok = Join(carol, app1_, "carol");
  ASSERT_EQ(MsgType(carol_ok), "ok");
  for (const json& u : carol_ok["data"]["users"]) {
    if (u["userId"] == "alice") {
      EXPECT_EQ(u["tracks"], json::parse(R"([{"trackId":"mic","kind":"audio",)"
                                         R"("source":"microphone","muted":false}])"));
    } else {
      EXPECT_EQ(u["tracks"], json::array());
    }
  }
  json carol_offer = TakeEvent(*carol, "subscribe-offer");
  EXPECT_EQ(carol_offer["tracks"].size(), 1u);
  EXPECT_EQ(carol_offer["tracks"][0]["trackId"], "mic");

  // alice leaves: her track goes, then she does; the media state goes with her.
  EXPECT_EQ(MsgType(Request(alice, json{{"type", "leave"}})), "ok");
  EXPECT_EQ(TakeEvent(*bob, "track-unpublished")["trackId"], "mic");
  EXPECT_EQ(TakeEvent(*bob, "user-left")["userId"], "alice");
  EXPECT_EQ(TakeEvent(*carol, "track-unpublished")["trackId"], "mic");
  Request(bob, json{{"type", "leave"}});
  Request(carol, json{{"type", "leave"}});
  EXPECT_EQ(TransportsOn(w), 0u);
}

TEST_F(SignalServerTest, PublishRefusals) {
  Conn alice = Joined(app1_, "alice");
  Conn viewer = Joined(app1_, "viewer", kRoom, "audience");
  alice->inbox.clear();
  const std::string sdp = ReadSdpFixture(kPublishFixture);

  ExpectError(Publish(viewer, sdp, MicCamTracks()), "role_audience_cannot_publish");
  ExpectError(Publish(alice, WithoutLines(sdp, "a=group:BUNDLE"), MicCamTracks()),
              "sdp_unsupported");
  // A track naming a transceiver the offer does not have.
  json tracks = MicCamTracks();
  tracks[1]["mid"] = "7";
  ExpectError(Publish(alice, sdp, tracks), "sdp_unsupported");
  // A video track announced on the audio transceiver.
  tracks = MicCamTracks();
  tracks[1]["mid"] = kAudioMid;
  ExpectError(Publish(alice, sdp, tracks), "sdp_unsupported");
  // Not SDP.
  json garbage = Publish(alice, "v=0\r\nnonsense\r\n", MicCamTracks());
  EXPECT_EQ(MsgType(garbage), "error") << garbage.dump();

  EXPECT_FALSE(Has(*viewer, "track-published"));
  EXPECT_FALSE(Has(*viewer, "subscribe-offer"));
  EXPECT_FALSE(alice->closed());
  EXPECT_FALSE(viewer->closed());
  // After all that, a correct publish still works.
  EXPECT_EQ(MsgType(Publish(alice, sdp, MicCamTracks())), "ok");
  EXPECT_EQ(TakeEvent(*viewer, "subscribe-offer")["tracks"].size(), 2u);
}

TEST_F(SignalServerTest, UserSigExpiryKicksTheUser) {
  Conn alice = Connect();
  json ok =
      Request(alice, JoinMsg(app1_, "alice", kRoom, Sig(app1_, "alice", std::nullopt, NowS(), 60)));
  ASSERT_EQ(MsgType(ok), "ok") << ok.dump();
  Conn bob = Joined(app1_, "bob");
  alice->inbox.clear();
  // Expiry is enforced with the same clock skew the join check allows (300 s).
  for (int i = 0; i < 72; ++i) {
    Tick(5000);
    Heartbeat(alice);
    Heartbeat(bob);
  }
  EXPECT_FALSE(alice->closed());
  Tick(1000);
  EXPECT_EQ(TakeEvent(*alice, "kicked"),
            json::parse(R"({"type":"kicked","reason":"usersig_expired"})"));
  EXPECT_TRUE(alice->closed());
  EXPECT_EQ(TakeEvent(*bob, "user-left")["reason"], "kicked");
  EXPECT_EQ(RegistryUsers(app1_), std::vector<std::string>{"bob"});
}

// ---- regressions for server bugs found by these tests ----

// A subscriber answering its outstanding offer after the room gained a track
// (the re-offer is pending) is refused with sdp_unsupported, because the
// answer is compared with the current section count instead of the offer's;
// the offer stays outstanding forever and the subscribe connection is stuck.
TEST_F(SignalServerTest, AnswerToOutstandingOfferAfterTheRoomGrewIsAccepted) {
  Conn alice = Joined(app1_, "alice");
  Conn bob = Joined(app1_, "bob");
  const std::string sdp = ReadSdpFixture(kPublishFixture);
  ASSERT_EQ(MsgType(Publish(alice, sdp, json::array({MicCamTracks()[0]}))), "ok");
  json offer1 = TakeEvent(*bob, "subscribe-offer");
  ASSERT_EQ(offer1["tracks"].size(), 1u);
  // alice adds her camera while bob's first offer is outstanding.
  ASSERT_EQ(MsgType(Publish(alice, sdp, MicCamTracks())), "ok");
  EXPECT_FALSE(Has(*bob, "subscribe-offer"));
  json answered = Subscribe(bob, offer1["offerId"].get<int64_t>(),
                            SubscribeAnswer(offer1["sdp"].get<std::string>()));
  EXPECT_EQ(MsgType(answered), "ok") << answered.dump();
  json offer2 = TakeEvent(*bob, "subscribe-offer");
  EXPECT_EQ(offer2["tracks"].size(), 2u);
}

// Track changes made while a user's socket was down set the re-offer flag,
// but resume only re-sends when an offer was outstanding: the resumed user
// never gets an offer for the tracks it should now receive.
TEST_F(SignalServerTest, ResumeDeliversTheOfferPendingWhileDetached) {
  Conn alice = Joined(app1_, "alice");
  Conn bob = Connect();
  json joined = Join(bob, app1_, "bob");
  ASSERT_EQ(MsgType(joined), "ok");
  const std::string token = joined["data"]["sessionToken"].get<std::string>();
  Disconnect(bob);
  ASSERT_EQ(MsgType(Publish(alice, ReadSdpFixture(kPublishFixture), MicCamTracks())), "ok");
  Conn bob2 = Connect();
  json resumed = Request(bob2, json{{"type", "resume"}, {"sessionToken", token}});
  ASSERT_EQ(MsgType(resumed), "ok") << resumed.dump();
  EXPECT_EQ(resumed["data"]["users"][0]["tracks"].size(), 2u);
  json offer = TakeEvent(*bob2, "subscribe-offer");
  EXPECT_EQ(offer["tracks"].size(), 2u);
}

// VerifyUserSig accepts a UserSig up to clock_skew_s (300 s) past its expiry,
// but OnTick kicks on the exact expiry: such a join succeeds and the user is
// kicked with usersig_expired on the next tick.
TEST_F(SignalServerTest, UserSigAcceptedWithinSkewIsNotKickedAtOnce) {
  Conn alice = Connect();
  json ok = Request(alice, JoinMsg(app1_, "alice", kRoom,
                                   Sig(app1_, "alice", std::nullopt, NowS() - 86400 - 100, 86400)));
  ASSERT_EQ(MsgType(ok), "ok") << ok.dump();
  Tick(1000);
  EXPECT_FALSE(Has(*alice, "kicked")) << Dump(*alice);
  EXPECT_FALSE(alice->closed());
}

// A connection the server displaced (resume elsewhere) is only asked to
// close; a frame it had already sent is still dispatched to the session,
// which now belongs to the new connection: here a stale `leave` ends the
// resumed session and closes the new socket. The io thread can run such a
// queued read before the posted Close, so this is reachable in production.
TEST_F(SignalServerTest, FrameFromADisplacedConnectionIsIgnored) {
  Conn alice = Joined(app1_, "alice");
  Conn bob1 = Connect();
  json joined = Join(bob1, app1_, "bob");
  ASSERT_EQ(MsgType(joined), "ok");
  const std::string token = joined["data"]["sessionToken"].get<std::string>();
  alice->inbox.clear();
  Conn bob2 = Connect(kOtherIp);
  // No Pump: bob1's OnClose has not been delivered yet.
  server_->OnText(bob2, json{{"type", "resume"}, {"id", 1}, {"sessionToken", token}}.dump());
  ASSERT_TRUE(bob1->closed());
  ASSERT_EQ(MsgType(TakeReply(*bob2, 1)), "ok");
  server_->OnText(bob1, json{{"type", "leave"}, {"id", 2}}.dump());
  Pump();
  EXPECT_FALSE(bob2->closed());
  EXPECT_TRUE(bob2->inbox.empty()) << Dump(*bob2);
  EXPECT_FALSE(Has(*alice, "user-left")) << Dump(*alice);
  EXPECT_EQ(RegistryUsers(app1_), (std::vector<std::string>{"alice", "bob"}));
}

// The PrivateMapKey create-room check runs before the duplicate-login kick,
// which can end the room: a user whose PrivateMapKey only allows entering,
// alone in a room, logs in again and thereby creates a new room instance.
TEST_F(SignalServerTest, EnterOnlyPrivateMapKeyCannotRecreateTheRoomByLoggingInAgain) {
  Conn alice = Joined(app1_, "alice");
  const uint32_t enter_only = auth::kPrivEnterRoom;
  Conn bob1 = Connect();
  ASSERT_EQ(MsgType(JoinWithRights(bob1, app1_, "bob", enter_only)), "ok");
  ASSERT_EQ(MsgType(Request(alice, json{{"type", "leave"}})), "ok");
  const std::string comm_id = registry_.FindNumeric(app1_.sdkappid, kRoom)->comm_id;
  Conn bob2 = Connect();
  json again = JoinWithRights(bob2, app1_, "bob", enter_only);
  // Either the re-login keeps the instance, or it is refused like any other
  // attempt to create a room without the create right.
  if (MsgType(again) == "ok") {
    ASSERT_TRUE(registry_.FindNumeric(app1_.sdkappid, kRoom).has_value());
    EXPECT_EQ(registry_.FindNumeric(app1_.sdkappid, kRoom)->comm_id, comm_id);
    EXPECT_EQ(StoredRooms(app1_).size(), 1u);
  } else {
    ExpectError(again, "permission_denied");
  }
}

// ---- live-streaming roles (R6) and screen share ----

std::vector<std::string> TypesOf(const FakeConnection& conn) {
  std::vector<std::string> types;
  for (const json& m : conn.inbox) {
    types.push_back(MsgType(m));
  }
  return types;
}

TEST_F(SignalServerTest, AudienceIsHiddenByDefaultAndOnlyCounted) {
  Conn alice = Joined(app1_, "alice");
  Conn viewer = Connect();
  json ok = Join(viewer, app1_, "viewer", kRoom, "audience");
  ASSERT_EQ(MsgType(ok), "ok") << ok.dump();
  EXPECT_EQ(ok["data"]["users"],
            json::parse(R"([{"userId":"alice","role":"anchor","tracks":[]}])"));
  EXPECT_EQ(ok["data"]["audienceCount"], 1);
  // The anchor is not told about the viewer, only how many are watching.
  EXPECT_EQ(TypesOf(*alice), std::vector<std::string>{"audience-count"});
  EXPECT_EQ(TakeEvent(*alice, "audience-count"),
            json::parse(R"({"type":"audience-count","count":1})"));
  EXPECT_TRUE(viewer->inbox.empty()) << Dump(*viewer);

  // A later anchor does not list the viewer either; the viewer sees it come.
  Conn bob = Connect();
  json bob_ok = Join(bob, app1_, "bob");
  ASSERT_EQ(MsgType(bob_ok), "ok") << bob_ok.dump();
  EXPECT_EQ(bob_ok["data"]["users"],
            json::parse(R"([{"userId":"alice","role":"anchor","tracks":[]}])"));
  EXPECT_EQ(bob_ok["data"]["audienceCount"], 1);
  EXPECT_EQ(TakeEvent(*viewer, "user-joined"),
            json::parse(R"({"type":"user-joined","userId":"bob","role":"anchor"})"));
  // The REST registry lists everybody, with their role.
  EXPECT_EQ(RegistryUsers(app1_), (std::vector<std::string>{"alice", "bob", "viewer"}));
  EXPECT_EQ(RegistryRole(app1_, "viewer"), "audience");

  // The viewer leaves: the count drops, nobody hears of a user leaving. The
  // room heard a count less than a second ago, so the new one waits for the
  // second to pass.
  alice->inbox.clear();
  bob->inbox.clear();
  ASSERT_EQ(MsgType(Request(viewer, json{{"type", "leave"}})), "ok");
  EXPECT_TRUE(alice->inbox.empty()) << Dump(*alice);
  Tick(999);
  EXPECT_TRUE(alice->inbox.empty()) << Dump(*alice);
  Tick(1);
  EXPECT_EQ(TypesOf(*alice), std::vector<std::string>{"audience-count"});
  EXPECT_EQ(TakeEvent(*alice, "audience-count")["count"], 0);
  EXPECT_EQ(TypesOf(*bob), std::vector<std::string>{"audience-count"});
  EXPECT_EQ(TakeEvent(*bob, "audience-count")["count"], 0);
}

TEST_F(SignalServerTest, AudienceCannotPublishUntilItSwitchesToAnchor) {
  Conn alice = Joined(app1_, "alice");
  Conn viewer = Joined(app1_, "viewer", kRoom, "audience");
  alice->inbox.clear();
  const std::string sdp = ReadSdpFixture(kPublishFixture);
  const size_t w = RoomWorker(app1_);

  json refused = Publish(viewer, sdp, MicCamTracks());
  ExpectError(refused, "role_audience_cannot_publish");
  EXPECT_NE(refused.value("message", "").find("anchor"), std::string::npos) << refused.dump();
  EXPECT_TRUE(alice->inbox.empty()) << Dump(*alice);
  EXPECT_EQ(TransportsOn(w), 0u);  // refused before any media state exists

  // Promotion: the room now sees a new anchor; the audience count drops.
  Tick(1000);  // a second after the last count: the next one goes out at once
  ASSERT_EQ(MsgType(SwitchRole(viewer, "anchor")), "ok");
  EXPECT_EQ(TypesOf(*alice), (std::vector<std::string>{"user-joined", "audience-count"}));
  EXPECT_EQ(TakeEvent(*alice, "user-joined"),
            json::parse(R"({"type":"user-joined","userId":"viewer","role":"anchor"})"));
  EXPECT_EQ(TakeEvent(*alice, "audience-count")["count"], 0);
  EXPECT_EQ(TakeEvent(*viewer, "audience-count")["count"], 0);
  EXPECT_EQ(RegistryRole(app1_, "viewer"), "anchor");
  // The same role again changes nothing.
  ASSERT_EQ(MsgType(SwitchRole(viewer, "anchor")), "ok");
  EXPECT_TRUE(alice->inbox.empty()) << Dump(*alice);
  EXPECT_TRUE(viewer->inbox.empty()) << Dump(*viewer);

  json published = Publish(viewer, sdp, MicCamTracks());
  ASSERT_EQ(MsgType(published), "ok") << published.dump();
  EXPECT_EQ(TakeEvent(*alice, "track-published")["userId"], "viewer");
  EXPECT_EQ(TakeEvent(*alice, "track-published")["userId"], "viewer");
  EXPECT_EQ(TakeEvent(*alice, "subscribe-offer")["tracks"].size(), 2u);
  // A late joiner lists the promoted user with its tracks.
  Conn carol = Connect();
  json carol_ok = Join(carol, app1_, "carol");
  ASSERT_EQ(carol_ok["data"]["users"].size(), 2u) << carol_ok.dump();
  EXPECT_EQ(carol_ok["data"]["users"][1]["userId"], "viewer");
  EXPECT_EQ(carol_ok["data"]["users"][1]["role"], "anchor");
  EXPECT_EQ(carol_ok["data"]["users"][1]["tracks"].size(), 2u);
  EXPECT_EQ(carol_ok["data"]["audienceCount"], 0);
}

TEST_F(SignalServerTest, SwitchingToAudienceUnpublishesAndLeavesTheUserList) {
  Conn alice = Joined(app1_, "alice");
  Conn bob = Joined(app1_, "bob");
  const std::string sdp = ReadSdpFixture(kPublishFixture);
  ASSERT_EQ(MsgType(Publish(alice, sdp, MicCamTracks())), "ok");
  json offer = TakeEvent(*bob, "subscribe-offer");
  ASSERT_EQ(MsgType(Subscribe(bob, offer["offerId"].get<int64_t>(),
                              SubscribeAnswer(offer["sdp"].get<std::string>()))),
            "ok");
  alice->inbox.clear();
  bob->inbox.clear();
  const size_t w = RoomWorker(app1_);
  EXPECT_EQ(TransportsOn(w), 2u);  // alice's publish, bob's subscribe

  ASSERT_EQ(MsgType(SwitchRole(alice, "audience")), "ok");
  // In order: her tracks go (and bob's offer follows), then she does.
  EXPECT_EQ(TypesOf(*bob),
            (std::vector<std::string>{"track-unpublished", "track-unpublished", "subscribe-offer",
                                      "user-left", "audience-count"}));
  EXPECT_EQ(TakeEvent(*bob, "subscribe-offer")["tracks"], json::array());
  EXPECT_EQ(TakeEvent(*bob, "user-left"),
            json::parse(R"({"type":"user-left","userId":"alice","reason":"role_changed"})"));
  EXPECT_EQ(TakeEvent(*bob, "audience-count")["count"], 1);
  EXPECT_EQ(TypesOf(*alice), std::vector<std::string>{"audience-count"});
  alice->inbox.clear();
  EXPECT_EQ(RegistryRole(app1_, "alice"), "audience");
  // Her publish transport stays (a later promotion renegotiates it), but
  // nothing may be sent on it.
  ExpectError(Publish(alice, sdp, MicCamTracks()), "role_audience_cannot_publish");
  ExpectError(Request(alice, json{{"type", "unpublish"}, {"trackIds", json::array({"cam"})}}),
              "unknown_track");
  // A late joiner does not list her.
  Conn carol = Connect();
  json carol_ok = Join(carol, app1_, "carol");
  EXPECT_EQ(carol_ok["data"]["users"],
            json::parse(R"([{"userId":"bob","role":"anchor","tracks":[]}])"));
  EXPECT_EQ(carol_ok["data"]["audienceCount"], 1);

  // Back to anchor: she reappears and may publish again.
  bob->inbox.clear();
  ASSERT_EQ(MsgType(SwitchRole(alice, "anchor")), "ok");
  EXPECT_EQ(TakeEvent(*bob, "user-joined")["role"], "anchor");
  ASSERT_EQ(MsgType(Publish(alice, sdp, MicCamTracks())), "ok");
  EXPECT_EQ(TakeEvent(*bob, "track-published")["userId"], "alice");
}

TEST_F(SignalServerTest, PrivateMapKeySendRightsGateTheAnchorRoleAndEachTrack) {
  Conn alice = Joined(app1_, "alice");
  const std::string sdp = ReadSdpFixture(kPublishFixture);
  // Watch-only rights: joining as audience works, becoming an anchor does not.
  const uint32_t watch_only =
      auth::kPrivEnterRoom | auth::kPrivRecvAudio | auth::kPrivRecvVideo | auth::kPrivRecvScreen;
  Conn viewer = Connect();
  ASSERT_EQ(MsgType(JoinWithRights(viewer, app1_, "viewer", watch_only, "audience")), "ok");
  alice->inbox.clear();
  ExpectError(SwitchRole(viewer, "anchor"), "permission_denied");
  EXPECT_EQ(RegistryRole(app1_, "viewer"), "audience");
  EXPECT_TRUE(alice->inbox.empty()) << Dump(*alice);
  ExpectError(Publish(viewer, sdp, MicCamTracks()), "role_audience_cannot_publish");

  // Audio-only send rights: may become an anchor and send audio, nothing else.
  const uint32_t audio_only =
      auth::kPrivEnterRoom | auth::kPrivSendAudio | auth::kPrivRecvAudio | auth::kPrivRecvVideo;
  Conn singer = Connect();
  ASSERT_EQ(MsgType(JoinWithRights(singer, app1_, "singer", audio_only, "audience")), "ok");
  ASSERT_EQ(MsgType(SwitchRole(singer, "anchor")), "ok");
  ExpectError(Publish(singer, sdp, MicCamTracks()), "permission_denied");
  ExpectError(Publish(singer, sdp, MicScreenTracks()), "permission_denied");
  EXPECT_FALSE(Has(*alice, "track-published"));
  json mic_only = json::array({MicCamTracks()[0]});
  json ok = Publish(singer, sdp, mic_only);
  EXPECT_EQ(MsgType(ok), "ok") << ok.dump();
  EXPECT_EQ(TakeEvent(*alice, "track-published")["track"]["trackId"], "mic");
}

TEST_F(SignalServerTest, ScreenShareIsForwardedAsItsOwnSourceAndHonoursScreenRights) {
  Conn alice = Joined(app1_, "alice");
  Conn bob = Joined(app1_, "bob");
  // carol may receive audio and camera video, not screens.
  const uint32_t no_screen =
      auth::kPrivEnterRoom | auth::kPrivRecvAudio | auth::kPrivRecvVideo | auth::kPrivSendAudio;
  Conn carol = Connect();
  ASSERT_EQ(MsgType(JoinWithRights(carol, app1_, "carol", no_screen)), "ok");
  const std::string sdp = ReadSdpFixture(kPublishFixture);
  // One track per kind and source.
  json two_cams = json::array(
      {{{"trackId", "cam"}, {"kind", "video"}, {"source", "camera"}, {"mid", kAudioMid}},
       {{"trackId", "cam2"}, {"kind", "video"}, {"source", "camera"}, {"mid", kVideoMid}}});
  ExpectError(Publish(alice, sdp, two_cams), "invalid_field");
  // Without the screen send right (carol), a screen track is refused.
  ExpectError(Publish(carol, sdp, MicScreenTracks()), "permission_denied");

  json published = Publish(alice, sdp, MicScreenTracks());
  ASSERT_EQ(MsgType(published), "ok") << published.dump();
  TakeEvent(*bob, "track-published");  // mic
  EXPECT_EQ(TakeEvent(*bob, "track-published"),
            json::parse(R"({"type":"track-published","userId":"alice","track":)"
                        R"({"trackId":"screen","kind":"video","source":"screen","muted":false}})"));
  json offer = TakeEvent(*bob, "subscribe-offer");
  ASSERT_EQ(offer["tracks"].size(), 2u) << offer.dump();
  bool screen_listed = false;
  for (const json& t : offer["tracks"]) {
    if (t["trackId"] == "screen") {
      screen_listed = true;
      EXPECT_EQ(t["source"], "screen");
      EXPECT_EQ(t["kind"], "video");
      EXPECT_EQ(t["userId"], "alice");
    } else {
      EXPECT_EQ(t["source"], "microphone");
    }
  }
  EXPECT_TRUE(screen_listed) << offer.dump();
  // carol is told the screen exists but is only offered the microphone.
  json carol_offer = TakeEvent(*carol, "subscribe-offer");
  ASSERT_EQ(carol_offer["tracks"].size(), 1u) << carol_offer.dump();
  EXPECT_EQ(carol_offer["tracks"][0]["trackId"], "mic");
  EXPECT_EQ(CountOf(carol_offer["sdp"].get<std::string>(), "\r\nm="), 1u);

  // Stopping the share removes only the screen track.
  ASSERT_EQ(
      MsgType(Request(alice, json{{"type", "unpublish"}, {"trackIds", json::array({"screen"})}})),
      "ok");
  EXPECT_EQ(TakeEvent(*bob, "track-unpublished")["trackId"], "screen");
  EXPECT_FALSE(Has(*carol, "subscribe-offer"));  // nothing she receives changed
}

// room.show_audience = true: the audience is listed like anchors.
class SignalServerShowAudienceTest : public SignalServerTest {
 protected:
  SignalServerOptions ServerOptions() const override {
    SignalServerOptions o;
    o.show_audience = true;
    return o;
  }
};

TEST_F(SignalServerShowAudienceTest, AudienceIsListedAndRoleChangesAreAnnounced) {
  Conn alice = Joined(app1_, "alice");
  Conn viewer = Joined(app1_, "viewer", kRoom, "audience");
  EXPECT_EQ(TypesOf(*alice), (std::vector<std::string>{"user-joined", "audience-count"}));
  EXPECT_EQ(TakeEvent(*alice, "user-joined"),
            json::parse(R"({"type":"user-joined","userId":"viewer","role":"audience"})"));
  EXPECT_EQ(TakeEvent(*alice, "audience-count")["count"], 1);
  Conn bob = Connect();
  json bob_ok = Join(bob, app1_, "bob");
  EXPECT_EQ(bob_ok["data"]["users"],
            json::parse(R"([{"userId":"alice","role":"anchor","tracks":[]},)"
                        R"({"userId":"viewer","role":"audience","tracks":[]}])"));
  EXPECT_EQ(bob_ok["data"]["audienceCount"], 1);
  alice->inbox.clear();
  viewer->inbox.clear();

  Tick(1000);  // a second after the last count: the next one goes out at once
  ASSERT_EQ(MsgType(SwitchRole(viewer, "anchor")), "ok");
  EXPECT_EQ(TypesOf(*alice), (std::vector<std::string>{"user-role-changed", "audience-count"}));
  EXPECT_EQ(TakeEvent(*alice, "user-role-changed"),
            json::parse(R"({"type":"user-role-changed","userId":"viewer","role":"anchor"})"));
  ASSERT_EQ(MsgType(SwitchRole(viewer, "audience")), "ok");
  EXPECT_EQ(TakeEvent(*bob, "user-role-changed")["role"], "anchor");
  EXPECT_EQ(TakeEvent(*bob, "user-role-changed")["role"], "audience");
  EXPECT_FALSE(Has(*bob, "user-left"));
  ASSERT_EQ(MsgType(Request(viewer, json{{"type", "leave"}})), "ok");
  EXPECT_EQ(TakeEvent(*bob, "user-left"),
            json::parse(R"({"type":"user-left","userId":"viewer","reason":"left"})"));
}

// ---- audio levels: volume and active-speaker events ----

class SignalServerAudioTest : public SignalServerTest {
 protected:
  // One level interval as the room's worker reports it (either worker: the
  // other has no room and ignores it).
  void Levels(std::vector<sfu::AudioLevel> levels) {
    for (size_t w = 0; w < 2; ++w) server_->OnAudioLevels(w, levels);
    Pump();
  }

  // The producer id of `user`'s microphone, found through the real API: the
  // one id whose level yields a volume event naming `user`.
  uint64_t FindMic(FakeConnection& observer, const std::string& user) {
    for (uint64_t id = 1; id < 200; ++id) {
      Levels({sfu::AudioLevel{id, 50}});
      while (Has(observer, "volume")) {
        const json ev = TakeEvent(observer, "volume");
        if (ev["volumes"][0]["userId"] == user) return id;
      }
    }
    ADD_FAILURE() << "no producer for " << user;
    return 0;
  }

  static void DropAll(FakeConnection& conn, std::string_view type) {
    while (Has(conn, type)) TakeEvent(conn, type);
  }
};

TEST_F(SignalServerAudioTest, VolumeEveryIntervalAndActiveSpeakerAfterTwo) {
  Conn alice = Connect();
  ASSERT_EQ(MsgType(Join(alice, app1_, "alice")), "ok");
  Conn bob = Connect();
  ASSERT_EQ(MsgType(Join(bob, app1_, "bob")), "ok");
  ASSERT_EQ(MsgType(Publish(alice, ReadSdpFixture(kPublishFixture), MicCamTracks())), "ok");
  ASSERT_EQ(MsgType(Publish(bob, ReadSdpFixture(kPublishFixture), MicCamTracks())), "ok");
  const uint64_t alice_mic = FindMic(*bob, "alice");
  const uint64_t bob_mic = FindMic(*bob, "bob");
  ASSERT_NE(alice_mic, 0u);
  ASSERT_NE(bob_mic, 0u);
  Levels({});  // an empty interval resets any streak the search started
  for (FakeConnection* c : {alice.get(), bob.get()}) {
    DropAll(*c, "volume");
    DropAll(*c, "active-speaker");
  }

  // Interval 1: both above the threshold; alice loudest once is not enough.
  Levels({{alice_mic, 80}, {bob_mic, 40}});
  EXPECT_EQ(TakeEvent(*bob, "volume"),
            json::parse(R"({"type":"volume","volumes":[{"userId":"alice","volume":80},)"
                        R"({"userId":"bob","volume":40}]})"));
  EXPECT_TRUE(Has(*alice, "volume"));  // the speaker gets it too
  EXPECT_FALSE(Has(*bob, "active-speaker"));
  // Interval 2: loudest again → active speaker, to everyone.
  Levels({{alice_mic, 75}, {bob_mic, 30}});
  EXPECT_EQ(TakeEvent(*bob, "active-speaker"),
            json::parse(R"({"type":"active-speaker","userId":"alice"})"));
  EXPECT_EQ(TakeEvent(*alice, "active-speaker")["userId"], "alice");
  // Bob loud once, then alice again: no switch (hysteresis).
  Levels({{alice_mic, 30}, {bob_mic, 90}});
  Levels({{alice_mic, 80}, {bob_mic, 30}});
  EXPECT_FALSE(Has(*bob, "active-speaker"));
  // Bob loudest twice in a row: switch.
  Levels({{bob_mic, 90}});
  Levels({{alice_mic, 26}, {bob_mic, 88}});
  EXPECT_EQ(TakeEvent(*alice, "active-speaker")["userId"], "bob");
  // Nobody above the threshold: no volume event at all.
  DropAll(*bob, "volume");
  Levels({});
  EXPECT_FALSE(Has(*bob, "volume"));
  // A video producer id never yields a volume (only audio tracks count).
  Levels({{alice_mic + 1, 90}});
  EXPECT_FALSE(Has(*bob, "volume"));
}

TEST_F(SignalServerAudioTest, AudienceMayOpenADataOnlyPublishConnection) {
  Conn alice = Connect();
  ASSERT_EQ(MsgType(Join(alice, app1_, "alice", kRoom, "audience")), "ok");
  // Media is still refused for the audience...
  ExpectError(Publish(alice, ReadSdpFixture(kPublishFixture), MicCamTracks()),
              "role_audience_cannot_publish");
  // ...but a publish without tracks (data channels only) is answered.
  json reply = Publish(alice, ReadSdpFixture(kPublishFixture), json::array());
  ASSERT_EQ(MsgType(reply), "ok") << reply.dump();
}

// Simulcast: a simulcast publish is answered with a=simulcast:recv, the
// subscribe offer lets the subscriber send REMB and transport-cc, and set-video-quality /
// pause-video are accepted for another member's video only.
TEST_F(SignalServerTest, SimulcastPublishAndSubscriberVideoControls) {
  Conn alice = Joined(app1_, "alice");
  Conn bob = Joined(app1_, "bob");
  json published = Publish(alice, ReadSdpFixture("chromium_publish_simulcast.sdp"), MicCamTracks());
  ASSERT_EQ(MsgType(published), "ok") << published.dump();
  const std::string answer = published["data"]["sdp"].get<std::string>();
  EXPECT_NE(answer.find("a=simulcast:recv q;h;f"), std::string::npos) << answer;
  EXPECT_NE(answer.find("a=rid:q recv"), std::string::npos) << answer;
  json offer = TakeEvent(*bob, "subscribe-offer");
  const std::string offer_sdp = offer["sdp"].get<std::string>();
  EXPECT_NE(offer_sdp.find(" goog-remb"), std::string::npos) << offer_sdp;
  // ...and transport-cc feedback, which the server's downlink estimate uses.
  EXPECT_NE(offer_sdp.find(" transport-cc"), std::string::npos) << offer_sdp;
  EXPECT_NE(
      offer_sdp.find("a=extmap:3 "
                     "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"),
      std::string::npos)
      << offer_sdp;

  EXPECT_EQ(MsgType(Request(
                bob, json{{"type", "set-video-quality"}, {"userId", "alice"}, {"quality", "low"}})),
            "ok");
  EXPECT_EQ(MsgType(Request(bob, json{{"type", "set-video-quality"},
                                      {"userId", "alice"},
                                      {"quality", "auto"},
                                      {"source", "screen"}})),
            "ok");
  EXPECT_EQ(
      MsgType(Request(bob, json{{"type", "pause-video"}, {"userId", "alice"}, {"paused", true}})),
      "ok");
  EXPECT_EQ(
      MsgType(Request(bob, json{{"type", "pause-video"}, {"userId", "alice"}, {"paused", false}})),
      "ok");
  ExpectError(
      Request(bob, json{{"type", "set-video-quality"}, {"userId", "carol"}, {"quality", "high"}}),
      "unknown_user");
  ExpectError(Request(bob, json{{"type", "pause-video"}, {"userId", "bob"}, {"paused", true}}),
              "unknown_user");
  ExpectError(
      Request(bob, json{{"type", "set-video-quality"}, {"userId", "alice"}, {"quality", "medium"}}),
      "invalid_field");
  EXPECT_FALSE(bob->closed());
}

// ---- fan-out across workers ----

class SignalServerFanoutTest : public SignalServerTest {
 protected:
  void SetUp() override {
    SignalServerTest::SetUp();
    std::vector<sfu::Worker*> raw;
    for (auto& w : workers_) raw.push_back(w.get());
    sfu::Worker::ConnectPeers(raw);
  }
  SignalServerOptions ServerOptions() const override {
    SignalServerOptions o;
    o.fanout_min_subscribers = 1;
    return o;
  }
  // Worker `w`'s host candidate as a subscribe offer lists it.
  std::string CandidateOf(size_t w) const {
    return " 127.0.0.1 " + std::to_string(workers_[w]->port()) + " typ host";
  }
};

TEST_F(SignalServerFanoutTest, SubscribersBeyondTheThresholdGoToTheLeastLoadedWorker) {
  Conn alice = Joined(app1_, "alice");
  Conn bob = Joined(app1_, "bob");
  Conn carol = Joined(app1_, "carol");
  const size_t home = RoomWorker(app1_);
  const size_t other = 1 - home;
  ASSERT_EQ(MsgType(Publish(alice, ReadSdpFixture(kPublishFixture), MicCamTracks())), "ok");
  // bob's subscribe transport is the room's first: home. carol's is the
  // second (threshold 1): the other worker, which has fewer transports.
  const std::string bob_sdp = TakeEvent(*bob, "subscribe-offer")["sdp"].get<std::string>();
  EXPECT_NE(bob_sdp.find(CandidateOf(home)), std::string::npos) << bob_sdp;
  json carol_offer = TakeEvent(*carol, "subscribe-offer");
  const std::string carol_sdp = carol_offer["sdp"].get<std::string>();
  EXPECT_NE(carol_sdp.find(CandidateOf(other)), std::string::npos) << carol_sdp;
  EXPECT_EQ(carol_sdp.find(CandidateOf(home)), std::string::npos) << carol_sdp;
  EXPECT_NE(carol_sdp.find("a=fingerprint:sha-256 " + workers_[other]->certificate().fingerprint()),
            std::string::npos)
      << carol_sdp;
  EXPECT_EQ(TransportsOn(home), 2u);   // alice's publish, bob's subscribe
  EXPECT_EQ(TransportsOn(other), 1u);  // carol's subscribe
  // Her consumers take relayed copies of alice's two producers there.
  EXPECT_EQ(ProducersOn(home), 2u);
  EXPECT_EQ(ProducersOn(other), 2u);
  EXPECT_EQ(
      MsgType(Subscribe(carol, carol_offer["offerId"].get<int64_t>(), SubscribeAnswer(carol_sdp))),
      "ok");
  // Mute/unmute and video controls reach the copies and carol's worker.
  EXPECT_EQ(MsgType(Request(alice, json{{"type", "mute"}, {"trackId", "cam"}, {"muted", true}})),
            "ok");
  EXPECT_EQ(MsgType(Request(alice, json{{"type", "mute"}, {"trackId", "cam"}, {"muted", false}})),
            "ok");
  EXPECT_EQ(
      MsgType(Request(carol, json{{"type", "pause-video"}, {"userId", "alice"}, {"paused", true}})),
      "ok");

  // The last consumer of a producer there goes: so does its copy.
  EXPECT_EQ(
      MsgType(Request(alice, json{{"type", "unpublish"}, {"trackIds", json::array({"cam"})}})),
      "ok");
  EXPECT_EQ(ProducersOn(home), 1u);
  EXPECT_EQ(ProducersOn(other), 1u);

  // A late joiner also goes to the other worker (1 transport against 2);
  // the mic's copy there is shared.
  Conn dave = Joined(app1_, "dave");
  EXPECT_NE(TakeEvent(*dave, "subscribe-offer")["sdp"].get<std::string>().find(CandidateOf(other)),
            std::string::npos);
  EXPECT_EQ(TransportsOn(other), 2u);
  EXPECT_EQ(ProducersOn(other), 1u);
  ASSERT_EQ(MsgType(Request(carol, json{{"type", "leave"}})), "ok");
  EXPECT_EQ(TransportsOn(other), 1u);
  EXPECT_EQ(ProducersOn(other), 1u);  // dave still consumes it
  ASSERT_EQ(MsgType(Request(dave, json{{"type", "leave"}})), "ok");
  EXPECT_EQ(TransportsOn(other), 0u);
  EXPECT_EQ(ProducersOn(other), 0u);

  // A producer that goes takes its copies with it.
  Conn erin = Joined(app1_, "erin");
  EXPECT_NE(TakeEvent(*erin, "subscribe-offer")["sdp"].get<std::string>().find(CandidateOf(other)),
            std::string::npos);
  EXPECT_EQ(ProducersOn(other), 1u);
  ASSERT_EQ(MsgType(Request(alice, json{{"type", "leave"}})), "ok");
  EXPECT_EQ(ProducersOn(home), 0u);
  EXPECT_EQ(ProducersOn(other), 0u);
  EXPECT_EQ(TransportsOn(other), 1u);  // erin's subscribe transport stays
  ASSERT_EQ(MsgType(Request(erin, json{{"type", "leave"}})), "ok");
  ASSERT_EQ(MsgType(Request(bob, json{{"type", "leave"}})), "ok");
  EXPECT_EQ(TransportsOn(home), 0u);
  EXPECT_EQ(TransportsOn(other), 0u);
}

class SignalServerNoFanoutTest : public SignalServerFanoutTest {
 protected:
  SignalServerOptions ServerOptions() const override {
    SignalServerOptions o;
    o.fanout_min_subscribers = 0;
    return o;
  }
};

TEST_F(SignalServerNoFanoutTest, ZeroKeepsEveryTransportOnTheRoomsWorker) {
  Conn alice = Joined(app1_, "alice");
  Conn bob = Joined(app1_, "bob");
  Conn carol = Joined(app1_, "carol");
  const size_t home = RoomWorker(app1_);
  ASSERT_EQ(MsgType(Publish(alice, ReadSdpFixture(kPublishFixture), MicCamTracks())), "ok");
  const std::string port = CandidateOf(home);
  EXPECT_NE(TakeEvent(*bob, "subscribe-offer")["sdp"].get<std::string>().find(port),
            std::string::npos);
  EXPECT_NE(TakeEvent(*carol, "subscribe-offer")["sdp"].get<std::string>().find(port),
            std::string::npos);
  EXPECT_EQ(TransportsOn(home), 3u);
  EXPECT_EQ(TransportsOn(1 - home), 0u);
  EXPECT_EQ(ProducersOn(home), 2u);
  EXPECT_EQ(ProducersOn(1 - home), 0u);
}

class SignalServerLargeRoomTest : public SignalServerTest {
 protected:
  SignalServerOptions ServerOptions() const override {
    SignalServerOptions o;
    o.max_users_per_room = 1000;
    return o;
  }

  // A viewer on an address of its own (the per-address connection cap).
  Conn JoinedViewer(int i) {
    Conn conn = Connect("10.9." + std::to_string(i / 200) + "." + std::to_string(i % 200 + 1));
    json reply = Join(conn, app1_, "viewer" + std::to_string(i), kRoom, "audience");
    EXPECT_EQ(MsgType(reply), "ok") << reply.dump();
    return conn;
  }

  // Takes every queued `audience-count` event; returns how many there were
  // and, through `last`, the latest count (-1 when none).
  static size_t TakeCounts(FakeConnection& conn, int64_t* last) {
    size_t n = 0;
    *last = -1;
    for (auto it = conn.inbox.begin(); it != conn.inbox.end();) {
      if (MsgType(*it) == "audience-count") {
        *last = (*it)["count"].get<int64_t>();
        ++n;
        it = conn.inbox.erase(it);
      } else {
        ++it;
      }
    }
    return n;
  }
};

// A live stream's audience arrives and leaves in crowds. Each arrival or
// departure may cost the room a few messages, not one per member: the
// audience count goes out at most once a second per room, and the latest
// count always follows.
TEST_F(SignalServerLargeRoomTest, ACrowdOfViewersCostsMessagesInProportionToItsSize) {
  constexpr int kViewers = 400;
  Conn alice = Joined(app1_, "alice");
  ASSERT_EQ(MsgType(Publish(alice, ReadSdpFixture(kPublishFixture), MicCamTracks())), "ok");
  alice->inbox.clear();

  std::vector<Conn> viewers;
  for (int i = 0; i < kViewers; ++i) viewers.push_back(JoinedViewer(i));
  Tick(1000);
  size_t messages = alice->inbox.size();
  int64_t last = 0;
  EXPECT_LE(TakeCounts(*alice, &last), 2u);
  EXPECT_EQ(last, kViewers);
  EXPECT_TRUE(alice->inbox.empty()) << Dump(*alice);
  json first_offer;  // viewer 1's
  for (int i = 0; i < kViewers; ++i) {
    FakeConnection& v = *viewers[i];
    messages += v.inbox.size();
    EXPECT_LE(TakeCounts(v, &last), 2u) << i;
    EXPECT_EQ(last, kViewers) << i;
    // Each viewer was offered the anchor's two tracks, once.
    json offer = TakeEvent(v, "subscribe-offer");
    EXPECT_EQ(offer["tracks"].size(), 2u) << i;
    if (i == 1) first_offer = offer;
    EXPECT_TRUE(v.inbox.empty()) << i << ": " << Dump(v);
  }
  EXPECT_LE(messages, 4u * kViewers);

  // Half of them leave at once.
  messages = 0;
  for (int i = 0; i < kViewers; i += 2) {
    ASSERT_EQ(MsgType(Request(viewers[i], json{{"type", "leave"}})), "ok");
  }
  Tick(1000);
  for (int i = 0; i < kViewers; ++i) {
    messages += viewers[i]->inbox.size();
  }
  messages += alice->inbox.size();
  EXPECT_LE(TakeCounts(*alice, &last), 2u);
  EXPECT_EQ(last, kViewers / 2);
  for (int i = 1; i < kViewers; i += 2) {
    EXPECT_LE(TakeCounts(*viewers[i], &last), 2u) << i;
    EXPECT_EQ(last, kViewers / 2) << i;
  }
  EXPECT_LE(messages, 2u * kViewers);
  EXPECT_EQ(TransportsOn(0) + TransportsOn(1), 1u + kViewers / 2);  // alice's publish + viewers'

  // The anchor leaving does change what everyone receives.
  ASSERT_EQ(MsgType(Request(alice, json{{"type", "leave"}})), "ok");
  for (int i = 1; i < kViewers; i += 2) {
    FakeConnection& v = *viewers[i];
    std::set<std::string> gone;
    gone.insert(TakeEvent(v, "track-unpublished").value("trackId", ""));
    gone.insert(TakeEvent(v, "track-unpublished").value("trackId", ""));
    EXPECT_EQ(gone, (std::set<std::string>{"cam", "mic"})) << i;
    EXPECT_EQ(TakeEvent(v, "user-left")["userId"], "alice") << i;
    EXPECT_TRUE(v.inbox.empty()) << i << ": " << Dump(v);  // the re-offer waits for an answer
  }
  ASSERT_EQ(MsgType(Subscribe(viewers[1], first_offer["offerId"].get<int64_t>(),
                              SubscribeAnswer(first_offer["sdp"].get<std::string>()))),
            "ok");
  EXPECT_EQ(TakeEvent(*viewers[1], "subscribe-offer")["tracks"], json::array());
}

}  // namespace
}  // namespace aegis::signal
