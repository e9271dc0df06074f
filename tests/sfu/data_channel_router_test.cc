// Room messages: the envelope parser (malformed input table) and the
// DataChannelRouter with real client-role SctpAssociations wired to it in
// memory (what DTLS would carry is queued and pumped deterministically; the
// simulated clock moves only when the wire is idle). No sockets, no sleeps.
#include "sfu/data_channel_router.h"

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "rtc/sctp/sctp_association.h"
#include "sfu/room_message.h"

namespace aegis::sfu {
namespace {

int64_t g_now_ms = 5'000'000;  // one clock per binary (usrsctp's timers are process-wide)

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
std::string Text(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// ---- envelope ----

TEST(RoomMessageEnvelope, SendRoundTrip) {
  const std::vector<std::string_view> to = {"alice", "bob"};
  const auto env = BuildSendEnvelope(kRoomMessageText, 0xA1B2C3D4, to, Bytes("hello"));
  auto m = ParseClientEnvelope(env);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->flags, kRoomMessageText);
  EXPECT_EQ(m->seq, 0xA1B2C3D4u);
  ASSERT_EQ(m->to.size(), 2u);
  EXPECT_EQ(m->to[0], "alice");
  EXPECT_EQ(m->to[1], "bob");
  EXPECT_EQ(Text(m->payload), "hello");
}

TEST(RoomMessageEnvelope, EmptyPayloadAndNoRecipients) {
  const auto env = BuildSendEnvelope(0, 7, {}, {});
  auto m = ParseClientEnvelope(env);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->to.empty());
  EXPECT_TRUE(m->payload.empty());
}

TEST(RoomMessageEnvelope, MalformedInputs) {
  struct Case {
    const char* name;
    std::vector<uint8_t> bytes;
    const char* code;
  };
  std::vector<uint8_t> too_many = {0x01, 0, 0, 0, 0, 1, 17};
  for (int i = 0; i < 17; ++i) too_many.insert(too_many.end(), {1, 'x'});
  const std::vector<Case> cases = {
      {"empty", {}, "msg_type"},
      {"deliver type from a client", {0x02, 0, 1, 'a'}, "msg_type"},
      {"unknown type", {0x7F, 0, 0, 0, 0, 0, 0}, "msg_type"},
      {"type only", {0x01}, "msg_header"},
      {"seq cut", {0x01, 0, 0, 0}, "msg_header"},
      {"no recipient count", {0x01, 0, 0, 0, 0, 1}, "msg_header"},
      {"too many recipients", too_many, "msg_recipients"},
      {"recipient length past end", {0x01, 0, 0, 0, 0, 1, 1, 5, 'a', 'b'}, "msg_user_id"},
      {"recipient length missing", {0x01, 0, 0, 0, 0, 1, 1}, "msg_user_id"},
      {"empty recipient", {0x01, 0, 0, 0, 0, 1, 1, 0}, "msg_user_id"},
      {"recipient longer than 64",
       [] {
         std::vector<uint8_t> b = {0x01, 0, 0, 0, 0, 1, 1, 65};
         b.insert(b.end(), 65, 'u');
         return b;
       }(),
       "msg_user_id"},
  };
  for (const Case& c : cases) {
    auto m = ParseClientEnvelope(c.bytes);
    ASSERT_FALSE(m.ok()) << c.name;
    EXPECT_EQ(m.status().code(), c.code) << c.name;
  }
}

TEST(RoomMessageEnvelope, ServerEnvelopes) {
  EXPECT_EQ(BuildAckEnvelope(0x01020304), (std::vector<uint8_t>{0x03, 1, 2, 3, 4}));
  const auto err = BuildErrorEnvelope(9, kErrMessageRateLimited);
  ASSERT_EQ(err.size(), 6 + kErrMessageRateLimited.size());
  EXPECT_EQ(err[0], 0x04);
  EXPECT_EQ(err[4], 9);
  EXPECT_EQ(err[5], kErrMessageRateLimited.size());
  const auto d = BuildDeliverEnvelope(kRoomMessageText, "bob", Bytes("hi"));
  EXPECT_EQ(d, (std::vector<uint8_t>{0x02, 0x01, 3, 'b', 'o', 'b', 'h', 'i'}));
}

// ---- router ----

// One browser-like client: a client-role association with the SDK's channel.
class Client : public rtc::SctpAssociation::Listener {
 public:
  Client(uint64_t transport_id, std::deque<std::pair<uint64_t, std::vector<uint8_t>>>* to_server)
      : transport_id_(transport_id), to_server_(to_server) {
    rtc::SctpConfig config;
    config.role = rtc::SctpRole::kClient;
    config.max_message_size = RoomMessageSctpLimit(rtc::kRoomMessageMaxSize);
    auto a = rtc::SctpAssociation::Create(config, this);
    EXPECT_TRUE(a.ok());
    association = std::move(a).value();
  }

  void OnSctpOutgoing(std::span<const uint8_t> packet) override {
    to_server_->emplace_back(transport_id_, std::vector<uint8_t>(packet.begin(), packet.end()));
  }
  void OnSctpConnected() override { connected = true; }
  void OnSctpChannelOpen(uint16_t, std::string_view, std::string_view, bool, bool) override {}
  void OnSctpMessage(uint16_t, rtc::SctpPpid, std::span<const uint8_t> message) override {
    if (message.empty()) return;
    switch (static_cast<RoomMessageType>(message[0])) {
      case RoomMessageType::kDeliver: {
        const size_t n = message[2];
        delivered.push_back({Text(message.subspan(3, n)), Text(message.subspan(3 + n))});
        break;
      }
      case RoomMessageType::kAck:
        ++acks;
        break;
      case RoomMessageType::kError:
        errors.push_back(Text(message.subspan(6, message[5])));
        break;
      default:
        break;
    }
  }
  void OnSctpClosed(const std::string&) override {}

  struct Delivered {
    std::string from;
    std::string payload;
  };
  std::unique_ptr<rtc::SctpAssociation> association;
  uint16_t stream = 0;
  bool connected = false;
  std::vector<Delivered> delivered;
  size_t acks = 0;
  std::vector<std::string> errors;

 private:
  uint64_t transport_id_;
  std::deque<std::pair<uint64_t, std::vector<uint8_t>>>* to_server_;
};

class DataChannelRouterTest : public ::testing::Test, public DataChannelRouter::Sender {
 protected:
  void SendApplicationData(uint64_t transport_id, std::span<const uint8_t> packet) override {
    to_clients_.emplace_back(transport_id, std::vector<uint8_t>(packet.begin(), packet.end()));
  }

  Client& AddClient(uint64_t id, const std::string& room, const std::string& user) {
    EXPECT_TRUE(router_.SetRoute(id, room, user).ok());
    auto c = std::make_unique<Client>(id, &to_server_);
    Client& ref = *c;
    clients_[id] = std::move(c);
    EXPECT_TRUE(ref.association->Start().ok());
    EXPECT_TRUE(Pump([&] { return ref.connected; }));
    rtc::DcepOpen open;
    open.label = kRoomMessageLabel;
    auto stream = ref.association->OpenChannel(open);
    EXPECT_TRUE(stream.ok());
    ref.stream = *stream;
    EXPECT_TRUE(Pump([&] {
      const rtc::SctpChannel* ch = ref.association->channel(ref.stream);
      return ch != nullptr && ch->acked;
    }));
    return ref;
  }

  bool Pump(const std::function<bool()>& done, int max_idle_steps = 500) {
    int idle = 0;
    while (!done()) {
      if (to_server_.empty() && to_clients_.empty()) {
        if (++idle > max_idle_steps) return false;
        g_now_ms += 10;
        router_.OnTick(g_now_ms);
        for (auto& entry : clients_) entry.second->association->OnTick(g_now_ms);
        continue;
      }
      if (!to_server_.empty()) {
        auto [id, packet] = std::move(to_server_.front());
        to_server_.pop_front();
        router_.OnApplicationData(id, packet, g_now_ms);
      }
      if (!to_clients_.empty()) {
        auto [id, packet] = std::move(to_clients_.front());
        to_clients_.pop_front();
        if (auto it = clients_.find(id); it != clients_.end()) {
          it->second->association->HandleIncoming(packet);
        }
      }
    }
    return true;
  }

  void Send(Client& c, uint32_t seq, std::string_view payload,
            std::vector<std::string_view> to = {}) {
    const auto env = BuildSendEnvelope(kRoomMessageText, seq, to, Bytes(payload));
    ASSERT_TRUE(c.association->Send(c.stream, rtc::SctpPpid::kBinary, env).ok());
  }

  // Drains everything in flight (acks, deliveries).
  void Settle() {
    Pump([] { return false; }, 20);
  }

  std::deque<std::pair<uint64_t, std::vector<uint8_t>>> to_server_;
  std::deque<std::pair<uint64_t, std::vector<uint8_t>>> to_clients_;
  DataChannelRouter router_{DataChannelLimits{}, this};
  std::map<uint64_t, std::unique_ptr<Client>> clients_;
};

TEST_F(DataChannelRouterTest, DeliversInOrderToTheRoomOnly) {
  Client& a = AddClient(1, "room-1", "alice");
  Client& b = AddClient(2, "room-1", "bob");
  Client& c = AddClient(3, "room-2", "carol");
  for (uint32_t i = 0; i < 25; ++i) Send(a, i, "m" + std::to_string(i));
  ASSERT_TRUE(Pump([&] { return a.acks == 25 && b.delivered.size() == 25; }));
  Settle();
  for (size_t i = 0; i < 25; ++i) {
    EXPECT_EQ(b.delivered[i].from, "alice");
    EXPECT_EQ(b.delivered[i].payload, "m" + std::to_string(i));
  }
  EXPECT_TRUE(c.delivered.empty());  // another room
  EXPECT_TRUE(a.delivered.empty());  // never echoed to the sender
  EXPECT_TRUE(a.errors.empty());
  EXPECT_EQ(router_.stats().delivered, 25u);
}

TEST_F(DataChannelRouterTest, ToOneRecipientOnly) {
  Client& a = AddClient(1, "room-1", "alice");
  Client& b = AddClient(2, "room-1", "bob");
  Client& d = AddClient(4, "room-1", "dave");
  Send(a, 1, "for bob", {"bob"});
  ASSERT_TRUE(Pump([&] { return a.acks == 1 && b.delivered.size() == 1; }));
  Settle();
  EXPECT_EQ(b.delivered[0].payload, "for bob");
  EXPECT_TRUE(d.delivered.empty());
}

TEST_F(DataChannelRouterTest, OversizeIsRejectedWithAnError) {
  Client& a = AddClient(1, "room-1", "alice");
  Client& b = AddClient(2, "room-1", "bob");
  Send(a, 1, std::string(rtc::kRoomMessageMaxSize + 1, 'x'));
  Send(a, 2, std::string(rtc::kRoomMessageMaxSize, 'y'));  // exactly the cap: fine
  ASSERT_TRUE(Pump([&] { return a.errors.size() == 1 && a.acks == 1; }));
  ASSERT_TRUE(Pump([&] { return b.delivered.size() == 1; }));
  EXPECT_EQ(a.errors[0], kErrMessageTooLarge);
  EXPECT_EQ(b.delivered[0].payload.size(), rtc::kRoomMessageMaxSize);
  EXPECT_EQ(router_.stats().too_large, 1u);
}

TEST_F(DataChannelRouterTest, OverRateIsRejected) {
  Client& a = AddClient(1, "room-1", "alice");
  Client& b = AddClient(2, "room-1", "bob");
  // 60 messages without the clock moving: the 30-message burst passes.
  for (uint32_t i = 0; i < 60; ++i) Send(a, i, "x");
  ASSERT_TRUE(Pump([&] { return a.acks + a.errors.size() == 60; }));
  Settle();
  EXPECT_EQ(a.acks, 30u);
  EXPECT_EQ(a.errors.size(), 30u);
  for (const std::string& e : a.errors) EXPECT_EQ(e, kErrMessageRateLimited);
  EXPECT_EQ(b.delivered.size(), 30u);
}

TEST_F(DataChannelRouterTest, MalformedEnvelopeAndRemovedRoute) {
  Client& a = AddClient(1, "room-1", "alice");
  Client& b = AddClient(2, "room-1", "bob");
  ASSERT_TRUE(a.association->Send(a.stream, rtc::SctpPpid::kBinary, Bytes("\x01\x00")).ok());
  ASSERT_TRUE(Pump([&] { return a.errors.size() == 1; }));
  EXPECT_EQ(a.errors[0], kErrMessageMalformed);
  router_.RemoveRoute(2);
  EXPECT_FALSE(router_.HasRoute(2));
  Send(a, 5, "after");
  ASSERT_TRUE(Pump([&] { return a.acks == 1; }));
  Settle();
  EXPECT_TRUE(b.delivered.empty());
}

}  // namespace
}  // namespace aegis::sfu
