// Media worker, transport level, over real UDP: ICE-lite + DTLS with a real
// client, the MX-03 gate (nothing but STUN from an unchecked tuple), and
// garbage on the shared port.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include "rtc/stun/stun_message.h"
#include "sfu/worker.h"
#include "test_peer.h"
#include "worker_test_util.h"

namespace aegis::sfu::testing {
namespace {

constexpr uint64_t kTransport = 7;

BindingOptions WrongPassword() {
  BindingOptions o;
  o.password = "wrongPassword0123456789wrongPass";
  return o;
}

TEST_F(WorkerTest, PeerConnectsThroughIceAndDtls) {
  std::unique_ptr<TestPeer> peer = NewPeer(kTransport);
  ASSERT_TRUE(peer);
  Sync();
  EXPECT_EQ(worker_->counters().transports.load(), 1u);

  ASSERT_TRUE(peer->DoIce());
  ASSERT_FALSE(peer->stun_responses.empty());  // more if a check was retransmitted
  const StunResponse& ok = peer->stun_responses[0];
  EXPECT_EQ(ok.cls, rtc::StunClass::kSuccessResponse);
  ASSERT_TRUE(ok.xor_mapped.has_value());
  EXPECT_EQ(*ok.xor_mapped, peer->local_endpoint());
  EXPECT_TRUE(ok.has_integrity);
  EXPECT_TRUE(ok.integrity_ok);
  EXPECT_TRUE(ok.fingerprint_ok);

  ASSERT_TRUE(peer->StartDtls(worker_->certificate().fingerprint()));
  ASSERT_TRUE(peer->PumpUntil([&] { return peer->srtp_ready(); })) << peer->dtls_failure();
  EXPECT_EQ(peer->dtls_state(), rtc::DtlsState::kConnected);
  ASSERT_TRUE(listener_.WaitFor(kTransport, TransportState::kConnected));
  const auto events = listener_.EventsFor(kTransport);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].state, TransportState::kConnected);
  EXPECT_EQ(peer->srtp_errors, 0u);
  EXPECT_EQ(peer->foreign_datagrams, 0u);
}

TEST_F(WorkerTest, TwoTransportsConnectIndependently) {
  std::unique_ptr<TestPeer> a = ConnectedPeer(1);
  std::unique_ptr<TestPeer> b = ConnectedPeer(2);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(listener_.EventsFor(1).size(), 1u);
  EXPECT_EQ(listener_.EventsFor(2).size(), 1u);
  EXPECT_EQ(worker_->counters().transports.load(), 2u);
}

// The ClientHello can beat the SDP answer through signalling: DTLS from a
// checked tuple is held until the fingerprint is known, then the handshake
// completes.
TEST_F(WorkerTest, DtlsBeforeRemoteFingerprintCompletesOnceItIsSet) {
  std::unique_ptr<TestPeer> peer = NewPeer(kTransport, /*tell_worker=*/false);
  ASSERT_TRUE(peer);
  ASSERT_TRUE(peer->DoIce());  // any remote ufrag is accepted until it is known
  ASSERT_TRUE(peer->StartDtls(worker_->certificate().fingerprint()));
  // Barrier: the ClientHello sent above has been handled (held) by now.
  ASSERT_TRUE(peer->RoundTrip().has_value());
  EXPECT_EQ(peer->dtls_datagrams, 0u);
  EXPECT_FALSE(listener_.Saw(kTransport, TransportState::kConnected));

  worker_->SetRemoteParameters(kTransport, peer->local_ice().ufrag, "sha-256", peer->fingerprint());
  ASSERT_TRUE(peer->PumpUntil([&] { return peer->srtp_ready(); })) << peer->dtls_failure();
  EXPECT_TRUE(listener_.WaitFor(kTransport, TransportState::kConnected));
}

// WR-04 through the worker: the fingerprint in the remote SDP is not the
// client's certificate.
TEST_F(WorkerTest, WrongClientFingerprintFailsTheTransport) {
  std::unique_ptr<TestPeer> peer = NewPeer(kTransport, /*tell_worker=*/false);
  std::unique_ptr<TestPeer> other = NewPeer(kTransport + 1, /*tell_worker=*/false);
  ASSERT_TRUE(peer && other);
  worker_->SetRemoteParameters(kTransport, peer->local_ice().ufrag, "sha-256",
                               other->fingerprint());
  ASSERT_TRUE(peer->DoIce());
  ASSERT_TRUE(peer->StartDtls(worker_->certificate().fingerprint()));
  EXPECT_TRUE(peer->PumpUntil([&] { return listener_.Saw(kTransport, TransportState::kFailed); }));
  EXPECT_FALSE(listener_.Saw(kTransport, TransportState::kConnected));
  EXPECT_FALSE(peer->srtp_ready());
  // The client got the alert and no keys either.
  EXPECT_TRUE(peer->PumpUntil([&] { return peer->dtls_state() == rtc::DtlsState::kFailed; }));
}

// MX-03: DTLS from a tuple that never passed a check reaches no transport,
// even one whose fingerprint matches; a check with the wrong password gets a
// 401 without MESSAGE-INTEGRITY and validates nothing. The same tuple is let
// in once it passes a real check (the gate is ICE, not the DTLS content).
TEST_F(WorkerTest, DtlsFromUncheckedTupleIsDroppedUntilTheTupleIsValidated) {
  std::unique_ptr<TestPeer> peer = NewPeer(kTransport);
  ASSERT_TRUE(peer);
  Sync();
  const uint64_t dropped_before = worker_->counters().dropped.load();

  ASSERT_TRUE(peer->StartDtls(worker_->certificate().fingerprint()));  // no ICE first
  const std::optional<StunResponse> unauthorized = peer->RoundTrip(WrongPassword());
  ASSERT_TRUE(unauthorized.has_value()) << "no answer to a wrong-password check";
  EXPECT_EQ(unauthorized->cls, rtc::StunClass::kErrorResponse);
  EXPECT_EQ(unauthorized->error_code, 401);
  EXPECT_FALSE(unauthorized->has_integrity);
  EXPECT_TRUE(unauthorized->fingerprint_ok);
  // The ClientHello was handled before the check: dropped, never answered.
  EXPECT_EQ(peer->dtls_datagrams, 0u);
  EXPECT_GE(worker_->counters().dropped.load(), dropped_before + 1);

  // The wrong-password tuple is no more valid than before: a retransmitted
  // ClientHello is dropped too.
  ASSERT_TRUE(
      peer->PumpUntil([&] { return worker_->counters().dropped.load() >= dropped_before + 2; }));
  ASSERT_TRUE(peer->RoundTrip(WrongPassword()).has_value());
  EXPECT_EQ(peer->dtls_datagrams, 0u);
  EXPECT_FALSE(peer->srtp_ready());
  EXPECT_FALSE(listener_.Saw(kTransport, TransportState::kConnected));

  // Positive control: after a valid check the next retransmission connects.
  ASSERT_TRUE(peer->DoIce());
  ASSERT_TRUE(peer->PumpUntil([&] { return peer->srtp_ready(); })) << peer->dtls_failure();
  EXPECT_TRUE(listener_.WaitFor(kTransport, TransportState::kConnected));
}

TEST_F(WorkerTest, ChecksWithUnknownUfragOrWrongCredentialsValidateNothing) {
  std::unique_ptr<TestPeer> peer = NewPeer(kTransport);
  ASSERT_TRUE(peer);
  Sync();

  // Our ufrag unknown: routed to no transport, never answered.
  BindingOptions unknown;
  unknown.username = "nosuchufrag:" + peer->local_ice().ufrag;
  (void)peer->SendBindingRequest(unknown);
  // Right server ufrag, but not the client ufrag from the remote SDP: 401.
  BindingOptions other_client;
  other_client.username = peer->server_ice().ufrag + ":someoneElse";
  const std::optional<StunResponse> bad_user = peer->RoundTrip(other_client);
  ASSERT_TRUE(bad_user.has_value());
  EXPECT_EQ(bad_user->error_code, 401);
  // Wrong password: 401 without MESSAGE-INTEGRITY (RFC 8489 §9.1.3).
  const std::optional<StunResponse> bad_pwd = peer->RoundTrip(WrongPassword());
  ASSERT_TRUE(bad_pwd.has_value());
  EXPECT_EQ(bad_pwd->cls, rtc::StunClass::kErrorResponse);
  EXPECT_EQ(bad_pwd->error_code, 401);
  EXPECT_FALSE(bad_pwd->has_integrity);
  // Handled in order, so an answer to the unknown-ufrag check would be here.
  EXPECT_EQ(peer->stun_responses.size(), 2u);

  // Nothing was validated: RTP-looking bytes from this tuple are dropped.
  const uint64_t dropped_before = worker_->counters().dropped.load();
  std::array<uint8_t, 40> rtp_like{};
  rtp_like[0] = 0x80;
  rtp_like[1] = 96;
  peer->SendRaw(rtp_like);
  EXPECT_TRUE(WaitForCounter(worker_->counters().dropped, dropped_before + 1));
  EXPECT_FALSE(listener_.Saw(kTransport, TransportState::kConnected));
}

// Item 6: garbage never crashes the worker and every datagram the worker can
// place as garbage bumps counters().dropped exactly once.
TEST_F(WorkerTest, GarbageDatagramsAreCountedAsDroppedAndTheWorkerKeepsWorking) {
  std::unique_ptr<TestPeer> victim = ConnectedPeer(1);
  ASSERT_TRUE(victim);
  std::unique_ptr<TestPeer> junk = NewPeer(2);  // never does ICE
  ASSERT_TRUE(junk);
  Sync();
  const uint64_t dropped_before = worker_->counters().dropped.load();
  uint64_t expected = 0;
  auto send = [&](const Bytes& d) {
    junk->SendRaw(d);
    ++expected;
  };

  send(Bytes(200, 0x50));  // 80–127: not WebRTC (RFC 7983)
  send(Bytes(200, 0xC5));  // 192–255
  send(Bytes(200, 0x10));  // ZRTP range
  send(Bytes(64, 0x45));   // TURN channel range: not terminated here
  send({0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4});  // STUN < 20 bytes
  send(Bytes(kDatagramBufferSize - 20, 0x80));  // > 1500: too large to parse (FZ-06)
  send({0x80, 0x60, 0x00});                     // RTP shorter than its header
  {
    Bytes rtp(60, 0xAA);  // well-formed RTP header from an unknown tuple
    rtp[0] = 0x80;
    rtp[1] = 96;
    send(rtp);
    Bytes rtcp(28, 0);  // an RTCP SR header from an unknown tuple
    rtcp[0] = 0x80;
    rtcp[1] = 200;
    rtcp[3] = 6;
    send(rtcp);
    Bytes dtls(60, 0);  // a DTLS handshake record from an unknown tuple
    dtls[0] = 22;
    dtls[1] = 0xFE;
    dtls[2] = 0xFD;
    send(dtls);
  }
  // Random bytes whose first byte is not STUN's 0–3 (STUN from an unknown
  // tuple is looked up by ufrag; see the disabled test below).
  std::mt19937 rng(12345);
  for (int i = 0; i < 200; ++i) {
    Bytes d(20 + rng() % 1200);
    for (uint8_t& b : d) b = static_cast<uint8_t>(rng());
    if (d[0] <= 3) d[0] = 0xFF;
    send(d);
  }
  ASSERT_TRUE(WaitForCounter(worker_->counters().dropped, dropped_before + expected))
      << "dropped " << worker_->counters().dropped.load() - dropped_before << " of " << expected;

  // Still alive and still serving: the connected peer gets answers, a new
  // peer connects.
  ASSERT_TRUE(victim->RoundTrip().has_value());
  std::unique_ptr<TestPeer> late = ConnectedPeer(3);
  ASSERT_TRUE(late);
  EXPECT_EQ(worker_->counters().dropped.load(), dropped_before + expected);
  EXPECT_FALSE(listener_.Saw(2, TransportState::kConnected));
}

TEST_F(WorkerTest, EmptyAndOversizedDatagramsDoNotDisturbTheWorker) {
  std::unique_ptr<TestPeer> peer = ConnectedPeer(1);
  ASSERT_TRUE(peer);
  Sync();
  const uint64_t dropped_before = worker_->counters().dropped.load();
  const int fd = peer->socket().fd();
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(worker_->port());
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const Bytes huge(4000, 0x80);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(::sendto(fd, nullptr, 0, 0, reinterpret_cast<const sockaddr*>(&to),  // NOLINT
                       sizeof(to)),
              0);
    ASSERT_EQ(::sendto(fd, huge.data(), huge.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                       sizeof(to)),  // NOLINT
              static_cast<ssize_t>(huge.size()));
  }
  // Processed in order: the answer to this check comes after all of them.
  const std::optional<StunResponse> r = peer->RoundTrip();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cls, rtc::StunClass::kSuccessResponse);
  // Empty datagrams are classified and dropped; truncated ones never leave
  // the socket layer (UdpSocket::Stats::truncated, not exported).
  EXPECT_EQ(worker_->counters().dropped.load(), dropped_before + 3);
  EXPECT_FALSE(listener_.Saw(1, TransportState::kFailed));
}

// BUG (worker.cc HandleDatagram): a STUN-looking datagram from an unknown
// tuple that does not parse, has no USERNAME, or names an unknown ufrag
// returns without counting it, so the cheapest flood (first byte 0–3 plus
// the magic cookie) is invisible in counters().dropped. Enable once fixed.
TEST_F(WorkerTest, MalformedOrUnroutableStunFromUnknownTupleCountsAsDropped) {
  std::unique_ptr<TestPeer> peer = NewPeer(1);
  ASSERT_TRUE(peer);
  Sync();
  const uint64_t dropped_before = worker_->counters().dropped.load();
  // Header claims 40 bytes of attributes; the datagram has 4.
  peer->SendRaw(std::vector<uint8_t>{0x00, 0x01, 0x00, 0x28, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4,
                                     5,    6,    7,    8,    9,    10,   11,   12,   0, 0, 0, 0});
  // A well-formed Binding request without USERNAME.
  {
    std::array<uint8_t, 64> buf{};
    const rtc::StunTransactionId tid{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    rtc::StunMessageBuilder b(buf, rtc::kStunMethodBinding, rtc::StunClass::kRequest, tid);
    ASSERT_TRUE(b.AddFingerprint().ok());
    auto built = b.Finish();
    ASSERT_TRUE(built.ok());
    peer->SendRaw(*built);
  }
  // A check for a ufrag no transport has.
  BindingOptions unknown;
  unknown.username = "nosuchufrag:" + peer->local_ice().ufrag;
  (void)peer->SendBindingRequest(unknown);
  EXPECT_TRUE(WaitForCounter(worker_->counters().dropped, dropped_before + 3, Millis{1000}))
      << "counted " << worker_->counters().dropped.load() - dropped_before << " of 3";
}

}  // namespace
}  // namespace aegis::sfu::testing
