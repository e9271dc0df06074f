#include "bench_peer.h"

#include <algorithm>
#include <array>
#include <utility>

#include "crypto/primitives.h"
#include "media.h"
#include "rtc/demux.h"

namespace aegis::bench {
namespace {

namespace asio = boost::asio;

// What Chrome puts in PRIORITY for a host candidate (RFC 8445 §5.1.2.1).
constexpr uint32_t kCheckPriority = 0x6e0001ff;
constexpr int64_t kIceRetransmitMs = 100;
constexpr int64_t kIceGiveUpMs = 15'000;
// RFC 7675 §5.1: consent checks every 5 s on average; 2.5 s keeps a loaded
// generator well inside the server's 30 s consent window.
constexpr int64_t kConsentIntervalMs = 2'500;
constexpr size_t kMaxPendingChecks = 64;

}  // namespace

Result<std::unique_ptr<BenchPeer>> BenchPeer::Create(asio::io_context& io,
                                                     const rtc::DtlsCertificate* certificate,
                                                     Listener* listener, const std::string& bind_ip,
                                                     bool arrival_at_socket) {
  std::unique_ptr<BenchPeer> peer(new BenchPeer(io, listener));
  peer->certificate_ = certificate;
  peer->bind_ip_ = bind_ip;
  sfu::UdpSocketOptions options;
  options.receive_timestamps = arrival_at_socket;
  auto socket = sfu::UdpSocket::Bind(bind_ip, 0, options);
  if (!socket.ok()) return socket.status();
  peer->socket_ = std::move(socket).value();
  boost::system::error_code ec;
  peer->watcher_.assign(peer->socket_->fd(), ec);
  if (ec) return Status::Error("bench_io", "cannot watch the UDP socket: " + ec.message());
  peer->ArmRead();
  return peer;
}

BenchPeer::BenchPeer(asio::io_context& io, Listener* listener)
    : listener_(listener),
      watcher_(io),
      timer_(io),
      local_ice_(rtc::IceCredentials::Generate()),
      tie_breaker_(crypto::RandomU64()),
      local_ssrc_(crypto::RandomNonZeroU32()) {}

BenchPeer::~BenchPeer() {
  dtls_.reset();  // may call back (close_notify) while being destroyed
  boost::system::error_code ec;
  watcher_.cancel(ec);
  (void)watcher_.release();  // the UdpSocket closes its own fd
}

LocalTransport BenchPeer::local_transport() const {
  LocalTransport t;
  t.ice_ufrag = local_ice_.ufrag;
  t.ice_pwd = local_ice_.pwd;
  t.fingerprint = certificate_->fingerprint();
  t.address = bind_ip_;
  t.port = socket_->port();
  return t;
}

std::optional<rtc::SrtpProfile> BenchPeer::srtp_profile() const {
  return dtls_ ? dtls_->srtp_profile() : std::nullopt;
}

Status BenchPeer::Start(const rtc::Endpoint& remote, const std::string& remote_ufrag,
                        const std::string& remote_pwd, const rtc::Fingerprint& remote_fingerprint,
                        rtc::DtlsRole role) {
  if (started_) return Status::Error("bench_state", "peer already started");
  started_ = true;
  remote_ = remote;
  remote_ufrag_ = remote_ufrag;
  remote_pwd_ = remote_pwd;
  rtc::DtlsConfig config;
  config.role = role;
  config.certificate = certificate_;
  auto dtls = rtc::DtlsTransport::Create(config, this);
  if (!dtls.ok()) return dtls.status();
  dtls_ = std::move(dtls).value();
  AEGIS_RETURN_IF_ERROR(
      dtls_->SetRemoteFingerprint(remote_fingerprint.algorithm, remote_fingerprint.value));
  SendCheck();
  ArmTimer(kIceRetransmitMs);
  return Status::Ok();
}

void BenchPeer::SendCheck() {
  // Regular nomination like libwebrtc (RFC 8445 §8.1.1): plain checks until
  // one succeeds, then the same pair again with USE-CANDIDATE. libnice as an
  // ICE-lite agent (Janus) does not accept a nomination on the first check.
  const bool nominate = pair_valid_;
  rtc::StunTransactionId tid{};
  crypto::RandomBytes(tid);
  std::array<uint8_t, 512> buf{};
  rtc::StunMessageBuilder b(buf, rtc::kStunMethodBinding, rtc::StunClass::kRequest, tid);
  const std::string username = remote_ufrag_ + ":" + local_ice_.ufrag;
  if (!b.AddUsername(username).ok() || !b.AddPriority(kCheckPriority).ok() ||
      !b.AddIceControlling(tie_breaker_).ok() || (nominate && !b.AddUseCandidate().ok()) ||
      !b.AddMessageIntegrity(remote_pwd_).ok() || !b.AddFingerprint().ok()) {
    Fail("cannot build a STUN check");
    return;
  }
  auto built = b.Finish();
  if (!built.ok()) {
    Fail("cannot build a STUN check: " + built.status().ToString());
    return;
  }
  if (pending_checks_.size() >= kMaxPendingChecks) pending_checks_.erase(pending_checks_.begin());
  pending_checks_.push_back(tid);
  ++counters_.ice_checks;
  socket_->Send(*built, remote_);
  socket_->Flush();
}

void BenchPeer::AnswerCheck(const rtc::StunMessage& request) {
  // RFC 8445 §7.3: authenticated with our password, USERNAME "<ours>:<theirs>".
  const auto username = request.username();
  if (request.method() != rtc::kStunMethodBinding || !username ||
      !username->starts_with(local_ice_.ufrag + ":") ||
      !request.CheckIntegrity(std::string_view(local_ice_.pwd))) {
    return;
  }
  rtc::StunTransactionId tid{};
  std::ranges::copy(request.transaction_id(), tid.begin());
  std::array<uint8_t, 256> buf{};
  rtc::StunMessageBuilder b(buf, rtc::kStunMethodBinding, rtc::StunClass::kSuccessResponse, tid);
  if (!b.AddXorMappedAddress(remote_).ok() || !b.AddMessageIntegrity(local_ice_.pwd).ok() ||
      !b.AddFingerprint().ok()) {
    return;
  }
  auto built = b.Finish();
  if (built.ok()) socket_->Send(*built, remote_);
}

void BenchPeer::ArmTimer(int64_t ms) {
  timer_.expires_after(std::chrono::milliseconds(ms));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) OnTimer();
  });
}

void BenchPeer::OnTimer() {
  if (closed_ || failed_) return;
  int64_t next = kIceRetransmitMs;
  if (!ice_done_) {
    ice_elapsed_ms_ += kIceRetransmitMs;
    if (ice_elapsed_ms_ >= kIceGiveUpMs) {
      Fail("ICE: no answer to connectivity checks");
      return;
    }
    SendCheck();
  } else {
    since_consent_ms_ += kIceRetransmitMs;
    if (since_consent_ms_ >= kConsentIntervalMs) {
      since_consent_ms_ = 0;
      SendCheck();
    }
    if (dtls_) {
      if (const auto due = dtls_->NextTimeoutMs(); due && *due == 0) dtls_->OnTimer();
      if (const auto due = dtls_->NextTimeoutMs()) next = std::clamp<int64_t>(*due, 1, next);
    }
  }
  socket_->Flush();  // DTLS retransmissions
  ArmTimer(next);
}

void BenchPeer::ArmRead() {
  watcher_.async_wait(asio::posix::stream_descriptor::wait_read,
                      [this](const boost::system::error_code& ec) {
                        if (ec || closed_) return;
                        OnReadable();
                        ArmRead();
                      });
}

void BenchPeer::OnReadable() {
  while (true) {
    const size_t n = socket_->Receive();
    // Kernel arrival times are CLOCK_REALTIME: moved onto the monotonic
    // clock by the two clocks' difference now (once per batch).
    const uint64_t now_ns = MonotonicNs();
    const uint64_t realtime_offset_ns = now_ns - RealtimeNs();
    for (size_t i = 0; i < n; ++i) {
      if (socket_->sender(i) != remote_ || !started_) {
        ++counters_.foreign;
        continue;
      }
      // (Never after now: the two clocks' reads are not simultaneous.)
      const uint64_t at_socket = socket_->receive_time_ns(i);
      const uint64_t arrival =
          at_socket == 0 ? MonotonicNs() : std::min(at_socket + realtime_offset_ns, now_ns);
      HandleDatagram(socket_->received(i), arrival);
    }
    if (n < sfu::UdpSocket::kBatch) break;
  }
  socket_->Flush();  // DTLS answers, RTCP written from callbacks
}

void BenchPeer::HandleDatagram(std::span<uint8_t> data, uint64_t arrival_ns) {
  switch (rtc::Classify(data)) {
    case rtc::PacketKind::kStun: {
      auto msg = rtc::StunMessage::Parse(data);
      if (!msg.ok()) return;
      if (msg->message_class() == rtc::StunClass::kRequest) {
        AnswerCheck(*msg);  // a full remote agent (Janus's libnice) checks us too
        return;
      }
      if (msg->message_class() != rtc::StunClass::kSuccessResponse ||
          !msg->CheckIntegrity(std::string_view(remote_pwd_))) {
        return;
      }
      const auto tid = msg->transaction_id();
      const bool ours = std::ranges::any_of(pending_checks_, [&](const rtc::StunTransactionId& t) {
        return std::ranges::equal(t, tid);
      });
      if (!ours) return;
      pending_checks_.clear();
      if (!pair_valid_) {
        pair_valid_ = true;
        SendCheck();  // now nominate
        return;
      }
      if (!ice_done_) {
        ice_done_ = true;
        const Status s = dtls_->Start();
        if (!s.ok()) Fail("DTLS start: " + s.ToString());
      }
      return;
    }
    case rtc::PacketKind::kDtls:
      if (dtls_ && ice_done_) dtls_->ProcessDatagram(data);
      return;
    case rtc::PacketKind::kRtp: {
      if (!srtp_in_) {
        ++counters_.srtp_errors;
        return;
      }
      size_t len = data.size();
      if (!srtp_in_->UnprotectRtp(data, &len).ok()) {
        ++counters_.srtp_errors;
        return;
      }
      auto packet = rtc::RtpPacket::Parse(data.first(len));
      if (!packet.ok()) {
        ++counters_.foreign;
        return;
      }
      ++counters_.rtp_received;
      listener_->OnRtp(*this, *packet, arrival_ns);
      return;
    }
    case rtc::PacketKind::kRtcp: {
      if (!srtp_in_) {
        ++counters_.srtp_errors;
        return;
      }
      size_t len = data.size();
      if (!srtp_in_->UnprotectRtcp(data, &len).ok()) {
        ++counters_.srtp_errors;
        return;
      }
      ++counters_.rtcp_received;
      listener_->OnRtcp(*this, data.first(len));
      return;
    }
    case rtc::PacketKind::kDrop:
      ++counters_.foreign;
      return;
  }
}

bool BenchPeer::SendRtp(const std::function<size_t(std::span<uint8_t>)>& build) {
  if (!connected() || closed_) return false;
  std::span<uint8_t> slot = socket_->AcquireSendSlot();
  size_t len = build(slot.first(kMaxRtpPacket));
  if (len == 0) return false;
  if (!srtp_out_->ProtectRtp(slot, &len).ok()) return false;
  socket_->CommitSendSlot(len, remote_);
  ++counters_.rtp_sent;
  counters_.rtp_bytes_sent += len;
  return true;
}

bool BenchPeer::SendRtcp(const std::function<size_t(std::span<uint8_t>)>& build) {
  if (!connected() || closed_) return false;
  std::span<uint8_t> slot = socket_->AcquireSendSlot();
  size_t len = build(slot.first(kMaxRtpPacket));
  if (len == 0) return false;
  if (!srtp_out_->ProtectRtcp(slot, &len).ok()) return false;
  socket_->CommitSendSlot(len, remote_);
  ++counters_.rtcp_sent;
  return true;
}

void BenchPeer::Close() {
  if (closed_) return;
  if (dtls_ && dtls_->state() == rtc::DtlsState::kConnected) {
    dtls_->Close();
    socket_->Flush();
  }
  closed_ = true;
  boost::system::error_code ec;
  timer_.cancel();
  watcher_.cancel(ec);
}

void BenchPeer::Fail(const std::string& reason) {
  if (failed_) return;
  failed_ = true;
  listener_->OnPeerFailed(*this, reason);
}

void BenchPeer::OnDtlsSend(std::span<const uint8_t> datagram) { socket_->Send(datagram, remote_); }

void BenchPeer::OnDtlsConnected(const rtc::SrtpKeys& keys) {
  auto out =
      rtc::SrtpSession::Create(keys.profile, keys.local, rtc::SrtpSession::Direction::kOutbound);
  auto in =
      rtc::SrtpSession::Create(keys.profile, keys.remote, rtc::SrtpSession::Direction::kInbound);
  if (!out.ok() || !in.ok()) {
    Fail("SRTP setup: " + out.status().ToString() + " / " + in.status().ToString());
    return;
  }
  srtp_out_ = std::move(out).value();
  srtp_in_ = std::move(in).value();
  listener_->OnPeerConnected(*this);
}

void BenchPeer::OnDtlsFailed(const std::string& reason) { Fail("DTLS: " + reason); }

void BenchPeer::OnDtlsApplicationData(std::span<const uint8_t> /*data*/) {}

}  // namespace aegis::bench
