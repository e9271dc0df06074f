// Room messages through a real media worker over loopback UDP: each TestPeer
// runs ICE + DTLS and carries a client-role SctpAssociation over its DTLS
// application data, as a browser's publish connection would. Two transports
// in one data route exchange messages; a third in another route gets nothing.
// SCTP is ticked with the real monotonic clock (usrsctp needs it for T3).
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "rtc/sctp/sctp_association.h"
#include "sfu/room_message.h"
#include "worker_test_util.h"

namespace aegis::sfu::testing {
namespace {

int64_t MonotonicMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string Text(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// The browser side of one publish connection's data channels.
class SctpClient final : public rtc::SctpAssociation::Listener {
 public:
  explicit SctpClient(TestPeer* peer) : peer_(peer) {
    rtc::SctpConfig config;
    config.role = rtc::SctpRole::kClient;
    config.max_message_size = RoomMessageSctpLimit(rtc::kRoomMessageMaxSize);
    auto a = rtc::SctpAssociation::Create(config, this);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    if (a.ok()) association = std::move(a).value();
    peer_->on_application_data = [this](std::span<const uint8_t> data) {
      association->HandleIncoming(data);
    };
  }
  ~SctpClient() override { peer_->on_application_data = nullptr; }

  void OnSctpOutgoing(std::span<const uint8_t> packet) override {
    (void)peer_->SendApplicationData(packet);
  }
  void OnSctpConnected() override { connected = true; }
  void OnSctpChannelOpen(uint16_t, std::string_view, std::string_view, bool, bool) override {}
  void OnSctpMessage(uint16_t, rtc::SctpPpid, std::span<const uint8_t> m) override {
    if (m.size() >= 3 && m[0] == static_cast<uint8_t>(RoomMessageType::kDeliver)) {
      const size_t n = m[2];
      if (m.size() >= 3 + n) delivered.push_back({Text(m.subspan(3, n)), Text(m.subspan(3 + n))});
    } else if (!m.empty() && m[0] == static_cast<uint8_t>(RoomMessageType::kAck)) {
      ++acks;
    }
  }
  void OnSctpClosed(const std::string& reason) override { closed = reason; }

  void Tick() { association->OnTick(MonotonicMs()); }

  struct Delivered {
    std::string from;
    std::string payload;
  };
  std::unique_ptr<rtc::SctpAssociation> association;
  uint16_t stream = 0;
  bool connected = false;
  std::string closed;
  std::vector<Delivered> delivered;
  size_t acks = 0;

 private:
  TestPeer* peer_;
};

class WorkerDataChannelTest : public WorkerTest {
 protected:
  struct Member {
    std::unique_ptr<TestPeer> peer;
    std::unique_ptr<SctpClient> sctp;
  };

  // A connected transport in `room` as `user`, its association up and the
  // `aegis-msg` channel acknowledged.
  Member Join(uint64_t transport_id, const std::string& room, const std::string& user) {
    Member m;
    m.peer = NewPeer(transport_id);
    if (!m.peer) return m;
    worker_->SetDataRoute(transport_id, room, user);
    Sync();
    EXPECT_TRUE(m.peer->Connect(worker_->certificate().fingerprint()));
    EXPECT_TRUE(listener_.WaitFor(transport_id, TransportState::kConnected));
    m.sctp = std::make_unique<SctpClient>(m.peer.get());
    EXPECT_TRUE(m.sctp->association->Start().ok());
    members_.push_back(&m);
    EXPECT_TRUE(Pump([&] { return m.sctp->connected; }));
    rtc::DcepOpen open;
    open.label = kRoomMessageLabel;
    auto stream = m.sctp->association->OpenChannel(open);
    EXPECT_TRUE(stream.ok());
    m.sctp->stream = stream.ok() ? *stream : 0;
    EXPECT_TRUE(Pump([&] {
      const rtc::SctpChannel* ch = m.sctp->association->channel(m.sctp->stream);
      return ch != nullptr && ch->acked;
    }));
    members_.pop_back();
    return m;
  }

  bool Pump(const std::function<bool()>& done, Millis timeout = kTimeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return done();
      for (Member* m : members_) {
        m->peer->Poll(Millis{2});
        m->sctp->Tick();
      }
    }
    return true;
  }

  void Send(Member& m, uint32_t seq, const std::string& payload) {
    const auto env =
        BuildSendEnvelope(kRoomMessageText, seq, {},
                          {reinterpret_cast<const uint8_t*>(payload.data()), payload.size()});
    ASSERT_TRUE(m.sctp->association->Send(m.sctp->stream, rtc::SctpPpid::kBinary, env).ok());
  }

  std::vector<Member*> members_;  // pumped
};

TEST_F(WorkerDataChannelTest, MessagesStayInTheirRoute) {
  Member a = Join(1, "room-a", "alice");
  ASSERT_TRUE(a.sctp);
  Member b = Join(2, "room-a", "bob");
  ASSERT_TRUE(b.sctp);
  Member c = Join(3, "room-b", "carol");
  ASSERT_TRUE(c.sctp);
  members_ = {&a, &b, &c};

  for (uint32_t i = 0; i < 20; ++i) Send(a, i, "a" + std::to_string(i));
  Send(b, 100, "hi alice");
  ASSERT_TRUE(Pump([&] {
    return b.sctp->delivered.size() == 20 && a.sctp->delivered.size() == 1 && a.sctp->acks == 20 &&
           b.sctp->acks == 1;
  }));
  for (size_t i = 0; i < 20; ++i) {
    EXPECT_EQ(b.sctp->delivered[i].from, "alice");
    EXPECT_EQ(b.sctp->delivered[i].payload, "a" + std::to_string(i));
  }
  EXPECT_EQ(a.sctp->delivered[0].from, "bob");
  EXPECT_EQ(a.sctp->delivered[0].payload, "hi alice");
  // Carol (another room) got nothing, even after a while.
  Pump([] { return false; }, Millis{200});
  EXPECT_TRUE(c.sctp->delivered.empty());

  // Closing bob's transport removes him from the route.
  worker_->CloseTransport(2);
  Sync();
  Send(a, 50, "anyone?");
  ASSERT_TRUE(Pump([&] { return a.sctp->acks == 21; }));
  EXPECT_EQ(b.sctp->delivered.size(), 20u);
  members_.clear();
}

}  // namespace
}  // namespace aegis::sfu::testing
