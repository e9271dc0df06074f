#include "test_peer.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <array>
#include <utility>

#include "crypto/primitives.h"
#include "rtc/byte_io.h"
#include "rtc/demux.h"
#include "rtc/rtp/rtcp_feedback.h"
#include "rtc/rtp/rtcp_nack.h"
#include "rtc/rtp/rtcp_packet.h"
#include "rtc/rtp/rtp_packet.h"

namespace aegis::sfu::testing {
namespace {

// What Chrome puts in PRIORITY for a host candidate (RFC 8445 §5.1.2.1).
constexpr uint32_t kCheckPriority = 0x6e0001ff;
constexpr Millis kIceRetransmit{100};

}  // namespace

std::unique_ptr<TestPeer> TestPeer::Create(const rtc::Endpoint& server,
                                           rtc::IceCredentials server_ice) {
  std::unique_ptr<TestPeer> peer(new TestPeer(server, std::move(server_ice)));
  auto socket = UdpSocket::Bind("127.0.0.1", 0);
  if (!socket.ok()) {
    ADD_FAILURE() << socket.status().ToString();
    return nullptr;
  }
  peer->socket_ = std::move(socket).value();
  auto cert = rtc::DtlsCertificate::Generate();
  if (!cert.ok()) {
    ADD_FAILURE() << cert.status().ToString();
    return nullptr;
  }
  peer->certificate_ = std::move(cert).value();
  rtc::DtlsConfig config;
  config.role = rtc::DtlsRole::kClient;
  config.certificate = peer->certificate_.get();
  auto dtls = rtc::DtlsTransport::Create(config, peer.get());
  if (!dtls.ok()) {
    ADD_FAILURE() << dtls.status().ToString();
    return nullptr;
  }
  peer->dtls_ = std::move(dtls).value();
  return peer;
}

TestPeer::TestPeer(const rtc::Endpoint& server, rtc::IceCredentials server_ice)
    : server_(server),
      server_ice_(std::move(server_ice)),
      local_ice_(rtc::IceCredentials::Generate()),
      tie_breaker_(crypto::RandomU64()) {}

TestPeer::~TestPeer() {
  // The DTLS transport may call back (close_notify) while being destroyed.
  dtls_.reset();
}

rtc::Endpoint TestPeer::local_endpoint() const {
  return rtc::Endpoint::V4({127, 0, 0, 1}, socket_->port());
}

rtc::StunTransactionId TestPeer::SendBindingRequest(const BindingOptions& options) {
  rtc::StunTransactionId tid{};
  crypto::RandomBytes(tid);
  std::array<uint8_t, 512> buf{};
  rtc::StunMessageBuilder b(buf, rtc::kStunMethodBinding, rtc::StunClass::kRequest, tid);
  const std::string username =
      options.username.value_or(server_ice_.ufrag + ":" + local_ice_.ufrag);
  EXPECT_TRUE(b.AddUsername(username).ok());
  EXPECT_TRUE(b.AddPriority(kCheckPriority).ok());
  EXPECT_TRUE(b.AddIceControlling(tie_breaker_).ok());
  if (options.use_candidate) {
    EXPECT_TRUE(b.AddUseCandidate().ok());
  }
  EXPECT_TRUE(b.AddMessageIntegrity(options.password.value_or(server_ice_.pwd)).ok());
  EXPECT_TRUE(b.AddFingerprint().ok());
  auto built = b.Finish();
  EXPECT_TRUE(built.ok()) << built.status().ToString();
  if (built.ok()) SendRaw(*built);
  return tid;
}

bool TestPeer::DoIce(const BindingOptions& options, Millis timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<rtc::StunTransactionId> sent;
  auto answered = [&] {
    return std::ranges::any_of(stun_responses, [&](const StunResponse& r) {
      return r.cls == rtc::StunClass::kSuccessResponse &&
             std::ranges::find(sent, r.transaction_id) != sent.end();
    });
  };
  while (std::chrono::steady_clock::now() < deadline) {
    sent.push_back(SendBindingRequest(options));
    if (PumpUntil(answered, kIceRetransmit)) return true;
  }
  return false;
}

std::optional<StunResponse> TestPeer::RoundTrip(const BindingOptions& options, Millis timeout) {
  const rtc::StunTransactionId tid = SendBindingRequest(options);
  std::optional<StunResponse> answer;
  (void)PumpUntil(
      [&] {
        for (const StunResponse& r : stun_responses) {
          if (r.transaction_id == tid) answer = r;
        }
        return answer.has_value();
      },
      timeout);
  return answer;
}

bool TestPeer::StartDtls(const std::string& server_fingerprint) {
  const Status fp = dtls_->SetRemoteFingerprint("sha-256", server_fingerprint);
  EXPECT_TRUE(fp.ok()) << fp.ToString();
  const Status started = dtls_->Start();
  EXPECT_TRUE(started.ok()) << started.ToString();
  return fp.ok() && started.ok();
}

bool TestPeer::Connect(const std::string& server_fingerprint, Millis timeout) {
  if (!DoIce({}, timeout)) {
    ADD_FAILURE() << "ICE: no success response";
    return false;
  }
  if (!StartDtls(server_fingerprint)) return false;
  const bool ok = PumpUntil(
      [this] { return srtp_ready() || dtls_->state() == rtc::DtlsState::kFailed; }, timeout);
  if (!ok || !srtp_ready()) {
    ADD_FAILURE() << "DTLS did not connect: " << dtls_failure_;
    return false;
  }
  return true;
}

Bytes TestPeer::BuildRtp(const RtpSpec& spec) {
  std::array<uint8_t, kDatagramBufferSize> buf{};
  rtc::ByteWriter w(buf);
  bool ok = w.WriteU8(spec.with_extension ? 0x90 : 0x80) &&
            w.WriteU8(static_cast<uint8_t>((spec.marker ? 0x80 : 0) | spec.payload_type)) &&
            w.WriteU16(spec.sequence_number) && w.WriteU32(spec.timestamp) && w.WriteU32(spec.ssrc);
  if (spec.with_extension && !spec.extensions.empty()) {
    Bytes block;
    for (const auto& [id, value] : spec.extensions) {
      block.push_back(static_cast<uint8_t>((id << 4) | ((value.size() - 1) & 0x0F)));
      block.insert(block.end(), value.begin(), value.end());
    }
    while (block.size() % 4 != 0) block.push_back(0);
    ok = ok && w.WriteU16(rtc::RtpPacket::kOneByteProfile) &&
         w.WriteU16(static_cast<uint16_t>(block.size() / 4)) && w.WriteBytes(block);
  } else if (spec.with_extension) {
    // RFC 8285 one-byte block: abs-send-time (id 2, 3 bytes) and
    // transport-wide-cc (id 3, 2 bytes), padded to 8 bytes = 2 words.
    ok = ok && w.WriteU16(rtc::RtpPacket::kOneByteProfile) && w.WriteU16(2) && w.WriteU8(0x22) &&
         w.WriteU8(0x4b) && w.WriteU8(0x1c) && w.WriteU8(0x3e) && w.WriteU8(0x31) &&
         w.WriteU16(spec.sequence_number) && w.WriteU8(0);
  }
  ok = ok && w.WriteBytes(spec.payload);
  EXPECT_TRUE(ok);
  const auto written = w.Written();
  return Bytes(written.begin(), written.end());
}

Bytes TestPeer::ProtectRtp(const RtpSpec& spec) {
  if (!srtp_ready()) {
    ADD_FAILURE() << "ProtectRtp before DTLS connected";
    return {};
  }
  Bytes packet = BuildRtp(spec);
  size_t len = packet.size();
  packet.resize(len + rtc::SrtpSession::kMaxRtpOverhead);
  const Status s = srtp_out_->ProtectRtp(packet, &len);
  EXPECT_TRUE(s.ok()) << s.ToString();
  packet.resize(s.ok() ? len : 0);
  return packet;
}

void TestPeer::SendRtp(const RtpSpec& spec) {
  const Bytes packet = ProtectRtp(spec);
  if (!packet.empty()) SendRaw(packet);
}

void TestPeer::SendRtcp(const std::function<size_t(std::span<uint8_t>)>& build) {
  if (!srtp_ready()) {
    ADD_FAILURE() << "SendRtcp before DTLS connected";
    return;
  }
  std::array<uint8_t, kDatagramBufferSize> buf{};
  size_t len = build(std::span(buf).first(buf.size() - rtc::SrtpSession::kMaxRtcpOverhead));
  ASSERT_GT(len, 0u);
  const Status s = srtp_out_->ProtectRtcp(buf, &len);
  ASSERT_TRUE(s.ok()) << s.ToString();
  SendRaw(std::span(buf).first(len));
}

void TestPeer::SendPli(uint32_t sender_ssrc, uint32_t media_ssrc) {
  SendRtcp([&](std::span<uint8_t> out) -> size_t {
    rtc::ByteWriter w(out);
    return rtc::WritePli(w, sender_ssrc, media_ssrc).ok() ? w.size() : 0;
  });
}

void TestPeer::SendSenderReport(const rtc::SenderInfo& info) {
  SendRtcp([&](std::span<uint8_t> out) -> size_t {
    rtc::ByteWriter w(out);
    return rtc::WriteSenderReport(w, info, {}).ok() ? w.size() : 0;
  });
}

void TestPeer::SendRaw(std::span<const uint8_t> datagram) { SendRawTo(datagram, server_); }

void TestPeer::SendRawTo(std::span<const uint8_t> datagram, const rtc::Endpoint& to) {
  socket_->Send(datagram, to);
  socket_->Flush();
}

void TestPeer::Poll(Millis timeout) {
  int wait_ms = static_cast<int>(timeout.count());
  if (const auto due = dtls_->NextTimeoutMs()) {
    wait_ms = std::min(wait_ms, static_cast<int>(*due));
  }
  pollfd pfd{socket_->fd(), POLLIN, 0};
  (void)::poll(&pfd, 1, std::max(wait_ms, 0));
  while (true) {
    const size_t n = socket_->Receive();
    for (size_t i = 0; i < n; ++i) HandleDatagram(socket_->received(i), socket_->sender(i));
    if (n < UdpSocket::kBatch) break;
  }
  if (const auto due = dtls_->NextTimeoutMs(); due && *due == 0) dtls_->OnTimer();
}

bool TestPeer::PumpUntil(const std::function<bool()>& done, Millis timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    const auto left =
        std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return done();
    Poll(std::min(left, Millis{10}));
  }
  return true;
}

void TestPeer::PumpFor(Millis duration) {
  (void)PumpUntil([] { return false; }, duration);
}

void TestPeer::HandleDatagram(std::span<uint8_t> data, const rtc::Endpoint& from) {
  if (from != server_) {
    ++foreign_datagrams;
    return;
  }
  switch (rtc::Classify(data)) {
    case rtc::PacketKind::kStun:
      HandleStun(data);
      break;
    case rtc::PacketKind::kDtls:
      ++dtls_datagrams;
      dtls_->ProcessDatagram(data);
      break;
    case rtc::PacketKind::kRtp:
      HandleRtp(data);
      break;
    case rtc::PacketKind::kRtcp:
      HandleRtcp(data);
      break;
    case rtc::PacketKind::kDrop:
      ADD_FAILURE() << "the worker sent an unclassifiable datagram of " << data.size() << " bytes";
      break;
  }
}

void TestPeer::HandleStun(std::span<const uint8_t> data) {
  auto msg = rtc::StunMessage::Parse(data);
  if (!msg.ok()) {
    ADD_FAILURE() << "the worker sent malformed STUN: " << msg.status().ToString();
    return;
  }
  StunResponse r;
  r.cls = msg->message_class();
  std::ranges::copy(msg->transaction_id(), r.transaction_id.begin());
  if (const auto ec = msg->error_code()) r.error_code = ec->code;
  r.xor_mapped = msg->xor_mapped_address();
  r.has_integrity = msg->has_message_integrity();
  r.integrity_ok = msg->CheckIntegrity(std::string_view(server_ice_.pwd));
  r.fingerprint_ok = msg->CheckFingerprint();
  stun_responses.push_back(r);
}

void TestPeer::HandleRtp(std::span<const uint8_t> data) {
  if (!srtp_in_) {
    ++srtp_errors;
    return;
  }
  Bytes buf(data.begin(), data.end());
  size_t len = buf.size();
  if (!srtp_in_->UnprotectRtp(buf, &len).ok()) {
    ++srtp_errors;
    return;
  }
  auto packet = rtc::RtpPacket::Parse(std::span(buf).first(len));
  if (!packet.ok()) {
    ADD_FAILURE() << "the worker sent malformed RTP: " << packet.status().ToString();
    return;
  }
  ReceivedRtp r;
  r.ssrc = packet->ssrc();
  r.payload_type = packet->payload_type();
  r.sequence_number = packet->sequence_number();
  r.timestamp = packet->timestamp();
  r.marker = packet->marker();
  r.has_extension = packet->has_extension();
  r.csrc_count = packet->csrc_count();
  r.payload.assign(packet->payload().begin(), packet->payload().end());
  r.padding_only = packet->payload().empty() && packet->padding_size() > 0;
  if (transport_cc_extension_id != 0) {
    r.transport_seq = packet->GetTransportSequenceNumber(transport_cc_extension_id);
  }
  rtp.push_back(std::move(r));
}

void TestPeer::HandleRtcp(std::span<const uint8_t> data) {
  if (!srtp_in_) {
    ++srtp_errors;
    return;
  }
  Bytes buf(data.begin(), data.end());
  size_t len = buf.size();
  if (!srtp_in_->UnprotectRtcp(buf, &len).ok()) {
    ++srtp_errors;
    return;
  }
  const std::span<const uint8_t> compound = std::span(buf).first(len);
  rtc::RtcpCompoundIterator it(compound);
  for (; it.Valid(); it.Next()) {
    const rtc::RtcpPacketView& v = it.packet();
    if (v.Is(rtc::RtcpType::kSr)) {
      auto sr = rtc::SenderReport::Parse(v);
      ASSERT_TRUE(sr.ok()) << sr.status().ToString();
      sender_reports.push_back(sr->sender_info());
    } else if (v.Is(rtc::RtcpType::kRr)) {
      auto rr = rtc::ReceiverReport::Parse(v);
      ASSERT_TRUE(rr.ok()) << rr.status().ToString();
      for (size_t i = 0; i < rr->report_count(); ++i) {
        receiver_reports.push_back(ReceivedRr{rr->sender_ssrc(), rr->report_block(i)});
      }
    } else if (v.Is(rtc::RtcpType::kPsfb) &&
               v.count == static_cast<uint8_t>(rtc::PsfbFormat::kPli)) {
      auto pli = rtc::Pli::Parse(v);
      ASSERT_TRUE(pli.ok()) << pli.status().ToString();
      pli_media_ssrcs.push_back(pli->media_ssrc());
    } else if (v.Is(rtc::RtcpType::kRtpfb) &&
               v.count == static_cast<uint8_t>(rtc::RtpfbFormat::kNack)) {
      auto nack = rtc::GenericNack::Parse(v);
      ASSERT_TRUE(nack.ok()) << nack.status().ToString();
      nack->ForEachLost([&](uint16_t seq) { nacked.push_back({nack->media_ssrc(), seq}); });
    }
  }
  EXPECT_TRUE(it.status().ok()) << "the worker sent malformed RTCP: " << it.status().ToString();
}

void TestPeer::OnDtlsSend(std::span<const uint8_t> datagram) { SendRaw(datagram); }

void TestPeer::OnDtlsConnected(const rtc::SrtpKeys& keys) {
  auto out =
      rtc::SrtpSession::Create(keys.profile, keys.local, rtc::SrtpSession::Direction::kOutbound);
  auto in =
      rtc::SrtpSession::Create(keys.profile, keys.remote, rtc::SrtpSession::Direction::kInbound);
  if (!out.ok() || !in.ok()) {
    ADD_FAILURE() << "SRTP setup: " << out.status().ToString() << " / " << in.status().ToString();
    return;
  }
  srtp_out_ = std::move(out).value();
  srtp_in_ = std::move(in).value();
}

void TestPeer::OnDtlsFailed(const std::string& reason) { dtls_failure_ = reason; }

void TestPeer::OnDtlsApplicationData(std::span<const uint8_t> data) {
  if (on_application_data) on_application_data(data);
}

bool TestPeer::SendApplicationData(std::span<const uint8_t> data) {
  return dtls_->SendApplicationData(data).ok();
}

void TestPeer::OnDtlsClosed() { dtls_closed_ = true; }

}  // namespace aegis::sfu::testing
