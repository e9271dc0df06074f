// SctpAssociation against a second real SctpAssociation (client role) wired
// back to back in memory: packets one side emits are queued and fed to the
// other by a deterministic pump, which advances a simulated clock only when
// nothing is in flight. No sockets, no threads, no sleeps.
#include "rtc/sctp/sctp_association.h"

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace aegis::rtc {
namespace {

// One clock for the whole binary: usrsctp's timer wheel is process-wide.
int64_t g_now_ms = 1'000'000;

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
std::string Text(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

struct Received {
  uint16_t stream_id;
  SctpPpid ppid;
  std::vector<uint8_t> data;
};

struct Opened {
  uint16_t stream_id;
  std::string label;
  std::string protocol;
  bool reliable;
  bool ordered;
};

class Peer : public SctpAssociation::Listener {
 public:
  explicit Peer(std::deque<std::vector<uint8_t>>* wire) : wire_(wire) {}

  void OnSctpOutgoing(std::span<const uint8_t> packet) override {
    ++packets_sent;
    EXPECT_LE(packet.size(), kSctpMaxPacketSize);  // default mtu, see SctpConfig::mtu
    wire_->emplace_back(packet.begin(), packet.end());
  }
  void OnSctpConnected() override { connected = true; }
  void OnSctpChannelOpen(uint16_t stream_id, std::string_view label, std::string_view protocol,
                         bool reliable, bool ordered) override {
    opened.push_back({stream_id, std::string(label), std::string(protocol), reliable, ordered});
  }
  void OnSctpChannelClosed(uint16_t stream_id) override { closed_channels.push_back(stream_id); }
  void OnSctpMessage(uint16_t stream_id, SctpPpid ppid, std::span<const uint8_t> message) override {
    received.push_back({stream_id, ppid, {message.begin(), message.end()}});
    if (on_message) on_message();
  }
  void OnSctpClosed(const std::string& reason) override { closed_reasons.push_back(reason); }

  bool connected = false;
  size_t packets_sent = 0;
  std::vector<Opened> opened;
  std::vector<uint16_t> closed_channels;
  std::vector<Received> received;
  std::vector<std::string> closed_reasons;
  std::function<void()> on_message;

 private:
  std::deque<std::vector<uint8_t>>* wire_;
};

class SctpPairTest : public ::testing::Test {
 protected:
  void SetUp() override { Create(SctpConfig{}, SctpConfig{}); }

  void Create(SctpConfig server_config, SctpConfig client_config) {
    server_config.role = SctpRole::kServer;
    client_config.role = SctpRole::kClient;
    auto server = SctpAssociation::Create(server_config, &server_peer_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    auto client = SctpAssociation::Create(client_config, &client_peer_);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    server_ = std::move(server).value();
    client_ = std::move(client).value();
  }

  // Delivers queued packets both ways until `done` holds; when the wire is
  // idle the simulated clock moves 10 ms so usrsctp timers (delayed SACK,
  // retransmission) can fire. `drop(n)` drops the n-th packet ever pumped.
  bool Pump(const std::function<bool()>& done, int max_idle_steps = 2000) {
    int idle = 0;
    while (!done()) {
      if (to_server_.empty() && to_client_.empty()) {
        if (++idle > max_idle_steps) return false;
        g_now_ms += 10;
        if (client_) client_->OnTick(g_now_ms);
        if (server_) server_->OnTick(g_now_ms);
        continue;
      }
      if (!to_server_.empty()) Deliver(&to_server_, server_.get());
      if (!to_client_.empty()) Deliver(&to_client_, client_.get());
    }
    return true;
  }

  void Deliver(std::deque<std::vector<uint8_t>>* wire, SctpAssociation* to) {
    std::vector<uint8_t> packet = std::move(wire->front());
    wire->pop_front();
    const size_t n = pumped_++;
    if (drop && drop(n)) return;
    if (to != nullptr) to->HandleIncoming(packet);
  }

  void Connect() {
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_TRUE(client_->Start().ok());
    ASSERT_TRUE(Pump([&] { return server_peer_.connected && client_peer_.connected; }));
    EXPECT_EQ(server_->state(), SctpState::kConnected);
    EXPECT_EQ(client_->state(), SctpState::kConnected);
  }

  // Client opens "chat" (reliable ordered) and waits for the ACK.
  uint16_t OpenClientChannel(DcepChannelType type = DcepChannelType::kReliable) {
    DcepOpen open;
    open.channel_type = type;
    open.label = "chat";
    open.protocol = "aegis-room";
    Result<uint16_t> id = client_->OpenChannel(open);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    EXPECT_TRUE(Pump([&] { return client_->channel(*id) && client_->channel(*id)->acked; }));
    return *id;
  }

  std::deque<std::vector<uint8_t>> to_server_;
  std::deque<std::vector<uint8_t>> to_client_;
  Peer server_peer_{&to_client_};
  Peer client_peer_{&to_server_};
  std::unique_ptr<SctpAssociation> server_;
  std::unique_ptr<SctpAssociation> client_;
  std::function<bool(size_t)> drop;
  size_t pumped_ = 0;
};

TEST_F(SctpPairTest, ConnectsAndClientOpensChannelViaDcep) {
  Connect();
  EXPECT_EQ(server_->outbound_streams(), 1024);
  const uint16_t id = OpenClientChannel();
  EXPECT_EQ(id % 2, 0) << "the DTLS client uses even stream ids (RFC 8832 §6)";
  ASSERT_EQ(server_peer_.opened.size(), 1u);
  EXPECT_EQ(server_peer_.opened[0].stream_id, id);
  EXPECT_EQ(server_peer_.opened[0].label, "chat");
  EXPECT_EQ(server_peer_.opened[0].protocol, "aegis-room");
  EXPECT_TRUE(server_peer_.opened[0].reliable);
  EXPECT_TRUE(server_peer_.opened[0].ordered);
  ASSERT_NE(server_->channel(id), nullptr);
  EXPECT_FALSE(server_->channel(id)->opened_locally);
  EXPECT_TRUE(client_->channel(id)->opened_locally);
  EXPECT_TRUE(client_peer_.opened.empty());
}

TEST_F(SctpPairTest, ThousandMessagesArriveInOrderBothWays) {
  Connect();
  const uint16_t id = OpenClientChannel();
  constexpr int kCount = 1000;
  for (int i = 0; i < kCount; ++i) {
    const std::string text = "message #" + std::to_string(i);
    Status status = client_->Send(id, SctpPpid::kString, Bytes(text));
    while (status.code() == "sctp_buffer_full") {
      ASSERT_TRUE(Pump([&] { return to_server_.empty() && to_client_.empty(); }));
      status = client_->Send(id, SctpPpid::kString, Bytes(text));
    }
    ASSERT_TRUE(status.ok()) << status.ToString();
  }
  ASSERT_TRUE(Pump([&] { return server_peer_.received.size() == kCount; }));
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(server_peer_.received[i].stream_id, id);
    EXPECT_EQ(server_peer_.received[i].ppid, SctpPpid::kString);
    ASSERT_EQ(Text(server_peer_.received[i].data), "message #" + std::to_string(i));
  }
  // And back: the server answers on the same stream.
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(server_->Send(id, SctpPpid::kBinary, Bytes("r" + std::to_string(i))).ok());
  }
  ASSERT_TRUE(Pump([&] { return client_peer_.received.size() == kCount; }));
  for (int i = 0; i < kCount; ++i) {
    ASSERT_EQ(Text(client_peer_.received[i].data), "r" + std::to_string(i));
    EXPECT_EQ(client_peer_.received[i].ppid, SctpPpid::kBinary);
  }
  EXPECT_EQ(server_->dropped_messages(), 0u);
}

TEST_F(SctpPairTest, StringBinaryAndEmptyPpids) {
  Connect();
  const uint16_t id = OpenClientChannel();
  const std::vector<uint8_t> binary = {0x00, 0xff, 0x10, 0x00};
  ASSERT_TRUE(client_->Send(id, SctpPpid::kString, Bytes("hello")).ok());
  ASSERT_TRUE(client_->Send(id, SctpPpid::kBinary, binary).ok());
  ASSERT_TRUE(client_->Send(id, SctpPpid::kString, {}).ok());       // -> PPID 56
  ASSERT_TRUE(client_->Send(id, SctpPpid::kBinaryEmpty, {}).ok());  // PPID 57
  ASSERT_TRUE(Pump([&] { return server_peer_.received.size() == 4; }));
  const auto& r = server_peer_.received;
  EXPECT_EQ(r[0].ppid, SctpPpid::kString);
  EXPECT_EQ(Text(r[0].data), "hello");
  EXPECT_EQ(r[1].ppid, SctpPpid::kBinary);
  EXPECT_EQ(r[1].data, binary);
  EXPECT_EQ(r[2].ppid, SctpPpid::kString);
  EXPECT_TRUE(r[2].data.empty());
  EXPECT_EQ(r[3].ppid, SctpPpid::kBinary);
  EXPECT_TRUE(r[3].data.empty());
  EXPECT_EQ(client_->Send(id, SctpPpid::kDcep, Bytes("x")).code(), "sctp_ppid");
  EXPECT_EQ(client_->Send(id, SctpPpid::kStringEmpty, Bytes("x")).code(), "sctp_ppid");
}

TEST_F(SctpPairTest, SixteenKiBMessageArrivesAndOversizeIsRefused) {
  Connect();
  const uint16_t id = OpenClientChannel();
  std::vector<uint8_t> big(kRoomMessageMaxSize);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7 + (i >> 8));
  ASSERT_TRUE(client_->Send(id, SctpPpid::kBinary, big).ok());
  std::vector<uint8_t> at_limit(client_->config().max_message_size, 0x5a);
  ASSERT_TRUE(client_->Send(id, SctpPpid::kBinary, at_limit).ok());
  std::vector<uint8_t> over(client_->config().max_message_size + 1, 0x11);
  const Status status = client_->Send(id, SctpPpid::kBinary, over);
  EXPECT_EQ(status.code(), "sctp_message_too_big");
  ASSERT_TRUE(Pump([&] { return server_peer_.received.size() == 2; }));
  EXPECT_EQ(server_peer_.received[0].data, big);
  EXPECT_EQ(server_peer_.received[1].data, at_limit);
}

TEST_F(SctpPairTest, ReceiverDropsMessagesAboveItsLimit) {
  SctpConfig server_config;
  server_config.max_message_size = 1000;
  Create(server_config, SctpConfig{});
  Connect();
  const uint16_t id = OpenClientChannel();
  std::vector<uint8_t> too_big(4000, 0x42);  // more than the server accepts
  ASSERT_TRUE(client_->Send(id, SctpPpid::kBinary, too_big).ok());
  ASSERT_TRUE(client_->Send(id, SctpPpid::kString, Bytes("after")).ok());
  ASSERT_TRUE(Pump([&] { return server_peer_.received.size() == 1; }));
  EXPECT_EQ(Text(server_peer_.received[0].data), "after");
  EXPECT_EQ(server_->dropped_messages(), 1u);
}

TEST_F(SctpPairTest, ServerOpensChannelOnOddStream) {
  Connect();
  DcepOpen open;
  open.channel_type = DcepChannelType::kPartialReliableRexmitUnordered;
  open.reliability_parameter = 3;
  open.label = "room-events";
  Result<uint16_t> id = server_->OpenChannel(open);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, 1);
  // Usable before the ACK (sent ordered until then, RFC 8832 §6).
  ASSERT_TRUE(server_->Send(*id, SctpPpid::kString, Bytes("welcome")).ok());
  ASSERT_TRUE(Pump([&] { return !client_peer_.received.empty() && server_->channel(1)->acked; }));
  ASSERT_EQ(client_peer_.opened.size(), 1u);
  EXPECT_EQ(client_peer_.opened[0].stream_id, 1);
  EXPECT_EQ(client_peer_.opened[0].label, "room-events");
  EXPECT_FALSE(client_peer_.opened[0].reliable);
  EXPECT_FALSE(client_peer_.opened[0].ordered);
  EXPECT_EQ(Text(client_peer_.received[0].data), "welcome");
  // The next server channel takes the next odd id.
  Result<uint16_t> second = server_->OpenChannel(open);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, 3);
}

TEST_F(SctpPairTest, CloseChannelKeepsIdUntilPeerResets) {
  Connect();
  const uint16_t id = OpenClientChannel();
  ASSERT_TRUE(client_->CloseChannel(id).ok());
  // The peer has not reset its side yet: a new channel takes the next id.
  Result<uint16_t> next = client_->OpenChannel(DcepOpen{});
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, id + 2);
  ASSERT_TRUE(Pump([&] { return server_peer_.opened.size() == 2; }));
  EXPECT_NE(client_->channel(*next), nullptr) << "the peer's reset of the old id spares it";
}

TEST_F(SctpPairTest, PeerOpenOnWrongParityIsIgnored) {
  // Two DTLS-client-role ends (SCTP simultaneous open): each one's OPEN uses
  // an even id, which the other (expecting a DTLS server's odd ids) refuses.
  SctpConfig other;
  other.role = SctpRole::kClient;
  auto server = SctpAssociation::Create(other, &server_peer_);
  ASSERT_TRUE(server.ok());
  server_ = std::move(server).value();
  ASSERT_EQ(server_->role(), SctpRole::kClient);
  Connect();
  DcepOpen open;
  open.label = "x";
  Result<uint16_t> id = client_->OpenChannel(open);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id % 2, 0);
  ASSERT_TRUE(Pump([&] { return to_server_.empty() && to_client_.empty(); }));
  EXPECT_TRUE(server_peer_.opened.empty());
  EXPECT_EQ(server_->channel(*id), nullptr);
  EXPECT_FALSE(client_->channel(*id)->acked);
}

TEST_F(SctpPairTest, ChannelCloseResetsStreamOnBothSides) {
  Connect();
  const uint16_t first = OpenClientChannel();
  const uint16_t id = OpenClientChannel();  // a non-zero id, so byte order matters
  ASSERT_EQ(id, first + 2);
  ASSERT_TRUE(client_->CloseChannel(id).ok());
  EXPECT_EQ(client_->channel(id), nullptr);
  ASSERT_TRUE(Pump([&] { return !server_peer_.closed_channels.empty(); }));
  EXPECT_EQ(server_peer_.closed_channels[0], id);
  EXPECT_EQ(server_->channel(id), nullptr);
  EXPECT_EQ(server_->Send(id, SctpPpid::kString, Bytes("late")).code(), "sctp_no_channel");
  EXPECT_NE(server_->channel(first), nullptr) << "other channels are untouched";
  // The association itself stays up and the stream id is reused once both
  // directions are reset (RFC 8831 §6.7).
  ASSERT_TRUE(Pump([&] { return to_server_.empty() && to_client_.empty(); }));
  const uint16_t again = OpenClientChannel();
  EXPECT_EQ(again, id);
  ASSERT_TRUE(Pump([&] { return server_peer_.opened.size() == 3; }));
  ASSERT_TRUE(client_->Send(again, SctpPpid::kString, Bytes("again")).ok());
  ASSERT_TRUE(Pump([&] { return server_peer_.received.size() == 1; }));
}

TEST_F(SctpPairTest, CloseAbortsAndPeerIsTold) {
  Connect();
  const uint16_t id = OpenClientChannel();
  client_->Close();
  EXPECT_EQ(client_->state(), SctpState::kClosed);
  EXPECT_EQ(client_->Send(id, SctpPpid::kString, Bytes("x")).code(), "sctp_not_connected");
  ASSERT_TRUE(Pump([&] { return !server_peer_.closed_reasons.empty(); }));
  EXPECT_EQ(server_peer_.closed_reasons.size(), 1u);
  EXPECT_EQ(server_->state(), SctpState::kClosed);
  EXPECT_EQ(server_->Send(id, SctpPpid::kString, Bytes("x")).code(), "sctp_not_connected");
  EXPECT_TRUE(client_peer_.closed_reasons.empty()) << "no callback for a local Close()";
}

TEST_F(SctpPairTest, SendErrorsBeforeConnectAndWithoutChannel) {
  EXPECT_EQ(server_->Send(0, SctpPpid::kString, Bytes("x")).code(), "sctp_not_connected");
  EXPECT_EQ(server_->OpenChannel(DcepOpen{}).status().code(), "sctp_not_connected");
  Connect();
  EXPECT_EQ(server_->Send(0, SctpPpid::kString, Bytes("x")).code(), "sctp_no_channel");
  EXPECT_EQ(server_->Start().code(), "sctp_state");
}

// Two packets lost mid-stream (200 messages follow) are recovered through
// SACK gap reports (fast retransmit), which depends only on packet order. Tail loss
// is not tested here: usrsctp's T3 retransmission only resends chunks whose
// wall-clock send time is older than the RTO (sctp_mark_all_for_resend), so
// it cannot be driven by a simulated clock — see OnTick() in the header.
TEST_F(SctpPairTest, MidStreamLossIsRecoveredInOrder) {
  Connect();
  const uint16_t id = OpenClientChannel();
  const size_t first = pumped_;
  drop = [first](size_t n) { return n == first + 10 || n == first + 41; };
  constexpr int kCount = 200;
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(client_->Send(id, SctpPpid::kString, Bytes(std::to_string(i))).ok());
  }
  ASSERT_TRUE(Pump([&] { return server_peer_.received.size() == kCount; }));
  for (int i = 0; i < kCount; ++i) {
    ASSERT_EQ(Text(server_peer_.received[i].data), std::to_string(i));
  }
  EXPECT_GT(pumped_, first + 41) << "the dropped packets were really in the stream";
}

TEST_F(SctpPairTest, ListenerMaySendFromCallback) {
  Connect();
  const uint16_t id = OpenClientChannel();
  // Echo server: replies from inside OnSctpMessage.
  server_peer_.on_message = [&] {
    const Received& last = server_peer_.received.back();
    ASSERT_TRUE(server_->Send(last.stream_id, last.ppid, last.data).ok());
  };
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(client_->Send(id, SctpPpid::kString, Bytes("echo" + std::to_string(i))).ok());
  }
  ASSERT_TRUE(Pump([&] { return client_peer_.received.size() == 50; }));
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(Text(client_peer_.received[i].data), "echo" + std::to_string(i));
  }
}

TEST_F(SctpPairTest, GarbageInputDoesNotCrash) {
  std::mt19937 rng(12345);
  auto garbage = [&] {
    std::vector<uint8_t> bytes(1 + rng() % 1500);
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    return bytes;
  };
  // Before Start(): ignored.
  server_->HandleIncoming(garbage());
  EXPECT_EQ(server_peer_.packets_sent, 0u);
  // Listening, and then connected with a channel open: garbage (including
  // packets with the right ports) must not disturb the association.
  ASSERT_TRUE(server_->Start().ok());
  for (int i = 0; i < 500; ++i) server_->HandleIncoming(garbage());
  to_client_.clear();
  ASSERT_TRUE(client_->Start().ok());
  ASSERT_TRUE(Pump([&] { return server_peer_.connected && client_peer_.connected; }));
  const uint16_t id = OpenClientChannel();
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> bytes = garbage();
    if (bytes.size() >= 4) {  // SCTP common header with ports 5000 -> 5000
      bytes[0] = 0x13, bytes[1] = 0x88, bytes[2] = 0x13, bytes[3] = 0x88;
    }
    server_->HandleIncoming(bytes);
    client_->HandleIncoming(bytes);
  }
  server_->HandleIncoming({});
  server_->HandleIncoming(std::vector<uint8_t>(kSctpMaxIncomingPacketSize + 1, 0));
  ASSERT_TRUE(client_->Send(id, SctpPpid::kString, Bytes("still alive")).ok());
  ASSERT_TRUE(Pump([&] { return !server_peer_.received.empty(); }));
  EXPECT_EQ(Text(server_peer_.received.back().data), "still alive");
  EXPECT_EQ(server_->state(), SctpState::kConnected);
}

TEST_F(SctpPairTest, DestroyedPeerLeavesNoCallbacksBehind) {
  Connect();
  const uint16_t id = OpenClientChannel();
  ASSERT_TRUE(server_->Send(id, SctpPpid::kString, Bytes("in flight")).ok());
  // Destroy the server with data and timers outstanding, then keep driving
  // the process-wide clock and feeding its address's traffic: nothing may
  // reach the freed object (ASan build checks this).
  server_.reset();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(client_->Send(id, SctpPpid::kString, Bytes("to nobody")).ok());
  }
  Pump([&] { return false; }, 500);                    // 5 s of simulated time
  EXPECT_EQ(client_->state(), SctpState::kConnected);  // no ABORT reached it
  client_.reset();
  g_now_ms += 60'000;
  SctpAssociation::AdvanceClock(g_now_ms);
}

TEST(SctpAssociationTest, RejectsBadConfig) {
  Peer peer(nullptr);
  SctpConfig config;
  config.local_port = 0;
  EXPECT_EQ(SctpAssociation::Create(config, &peer).status().code(), "sctp_config");
  config = SctpConfig{};
  config.max_message_size = 0;
  EXPECT_EQ(SctpAssociation::Create(config, &peer).status().code(), "sctp_config");
  EXPECT_EQ(SctpAssociation::Create(SctpConfig{}, nullptr).status().code(), "sctp_config");
}

}  // namespace
}  // namespace aegis::rtc
