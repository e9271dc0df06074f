#include "sfu/webrtc_transport.h"

#include <utility>

#include "core/log.h"
#include "rtc/rtp/rtcp_packet.h"
#include "sfu/tcp_server.h"

namespace aegis::sfu {
namespace {

constexpr const char* kTag = "transport";
// DTLS records held until the remote fingerprint arrives (the ClientHello
// flight can beat the SDP answer through signalling).
constexpr size_t kMaxHeldDtls = 16;
// A transport that never completes ICE+DTLS is failed after this long.
constexpr int64_t kConnectTimeoutMs = 30'000;

}  // namespace

const char* TransportStateName(TransportState state) {
  switch (state) {
    case TransportState::kNew:
      return "new";
    case TransportState::kConnected:
      return "connected";
    case TransportState::kFailed:
      return "failed";
    case TransportState::kClosed:
      return "closed";
  }
  return "unknown";
}

Result<std::unique_ptr<WebRtcTransport>> WebRtcTransport::Create(
    uint64_t id, rtc::IceCredentials local_ice, const rtc::DtlsCertificate* certificate,
    UdpSocket* socket, TcpServer* tcp, Listener* listener) {
  auto ice = rtc::IceLiteServer::Create(std::move(local_ice));
  if (!ice.ok()) return ice.status();
  std::unique_ptr<WebRtcTransport> t(
      new WebRtcTransport(id, std::move(ice).value(), socket, tcp, listener));
  t->ice_.set_listener(t.get());
  rtc::DtlsConfig config;
  config.role = rtc::DtlsRole::kServer;
  config.certificate = certificate;
  auto dtls = rtc::DtlsTransport::Create(config, t.get());
  if (!dtls.ok()) return dtls.status();
  t->dtls_ = std::move(dtls).value();
  AEGIS_RETURN_IF_ERROR(t->dtls_->Start());
  return t;
}

WebRtcTransport::WebRtcTransport(uint64_t id, rtc::IceLiteServer ice, UdpSocket* socket,
                                 TcpServer* tcp, Listener* listener)
    : id_(id), socket_(socket), tcp_(tcp), listener_(listener), ice_(std::move(ice)) {}

WebRtcTransport::~WebRtcTransport() {
  // The DTLS transport may call back while closing; detach first.
  listener_ = nullptr;
  if (dtls_) dtls_->Close();
}

Status WebRtcTransport::SetRemoteParameters(std::string_view ice_ufrag,
                                            std::string_view fingerprint_algorithm,
                                            std::string_view fingerprint_value) {
  if (!ice_ufrag.empty()) AEGIS_RETURN_IF_ERROR(ice_.SetRemoteUfrag(ice_ufrag));
  if (!remote_fingerprint_set_) {
    AEGIS_RETURN_IF_ERROR(dtls_->SetRemoteFingerprint(fingerprint_algorithm, fingerprint_value));
    remote_fingerprint_set_ = true;
    std::vector<std::vector<uint8_t>> held = std::move(held_dtls_);
    held_dtls_.clear();
    for (const std::vector<uint8_t>& d : held) dtls_->ProcessDatagram(d);
  }
  return Status::Ok();
}

void WebRtcTransport::ReceiveDatagram(rtc::PacketKind kind, std::span<uint8_t> data,
                                      const rtc::Tuple& from, int64_t now_ms) {
  if (state_ == TransportState::kClosed || state_ == TransportState::kFailed) return;
  if (created_ms_ < 0) created_ms_ = now_ms;
  if (kind == rtc::PacketKind::kStun) {
    const rtc::IceResult r = ice_.HandleRequest(data, from, now_ms, stun_response_);
    if (r.action != rtc::IceAction::kDrop) SendTo(r.response, from);
    // Every authenticated check (re)maps the tuple: the worker may have let
    // it go while the peer kept using it (repeats are cheap there).
    if (r.action == rtc::IceAction::kSuccessResponse && listener_ != nullptr) {
      listener_->OnTransportTupleAdded(*this, from);
    }
    return;
  }
  // MX-03: DTLS and SRTP only from a tuple that passed an authenticated check.
  if (!ice_.IsValidTuple(from, now_ms)) {
    ++stats_.unvalidated_drops;
    return;
  }
  if (kind == rtc::PacketKind::kDtls) {
    if (!remote_fingerprint_set_) {
      if (held_dtls_.size() < kMaxHeldDtls) held_dtls_.emplace_back(data.begin(), data.end());
      return;
    }
    dtls_->ProcessDatagram(data);
    return;
  }
  if (!srtp_in_) return;
  size_t len = data.size();
  if (kind == rtc::PacketKind::kRtp) {
    if (!srtp_in_->UnprotectRtp(data, &len).ok()) {
      ++stats_.srtp_errors;
      return;
    }
    auto packet = rtc::RtpPacket::Parse(data.first(len));
    if (!packet.ok()) return;
    ++stats_.rtp_in;
    if (listener_ != nullptr) listener_->OnTransportRtp(*this, *packet, now_ms);
  } else if (kind == rtc::PacketKind::kRtcp) {
    if (!srtp_in_->UnprotectRtcp(data, &len).ok()) {
      ++stats_.srtp_errors;
      return;
    }
    const std::span<const uint8_t> compound = data.first(len);
    if (!rtc::ValidateRtcpCompound(compound).ok()) return;
    ++stats_.rtcp_in;
    if (listener_ != nullptr) listener_->OnTransportRtcp(*this, compound, now_ms);
  }
}

void WebRtcTransport::Commit(std::span<uint8_t> slot, size_t len, bool rtcp) {
  if (len == 0) return;
  const Status s = rtcp ? srtp_out_->ProtectRtcp(slot, &len) : srtp_out_->ProtectRtp(slot, &len);
  if (!s.ok()) {
    ++stats_.srtp_errors;
    return;
  }
  ++(rtcp ? stats_.rtcp_out : stats_.rtp_out);
  if (selected_->is_tcp()) {
    // The slot is not committed, so the UDP socket reuses it.
    if (tcp_ != nullptr) tcp_->Send(*selected_, slot.first(len));
    return;
  }
  socket_->CommitSendSlot(len, selected_->endpoint);
}

void WebRtcTransport::SendTo(std::span<const uint8_t> packet, const rtc::Tuple& to) {
  if (to.is_tcp()) {
    if (tcp_ != nullptr) tcp_->Send(to, packet);
  } else {
    socket_->Send(packet, to.endpoint);
  }
}

void WebRtcTransport::RemoveTuple(const rtc::Tuple& tuple) {
  ice_.RemoveTuple(tuple);
  if (selected_ && *selected_ == tuple) selected_.reset();
}

void WebRtcTransport::OnTimer(int64_t now_ms) {
  if (state_ == TransportState::kClosed || state_ == TransportState::kFailed) return;
  if (created_ms_ < 0) created_ms_ = now_ms;
  if (const auto due = dtls_->NextTimeoutMs(); due && *due == 0) dtls_->OnTimer();
  if (state_ == TransportState::kNew && now_ms - created_ms_ > kConnectTimeoutMs) {
    SetState(TransportState::kFailed, "ICE/DTLS did not complete in time");
  } else if (state_ == TransportState::kConnected && !ice_.IsConsentFresh(now_ms)) {
    // RFC 7675 §5.1: stop sending once consent expired.
    SetState(TransportState::kFailed, "ICE consent expired");
  }
}

void WebRtcTransport::Close() {
  if (state_ == TransportState::kClosed) return;
  dtls_->Close();
  socket_->Flush();
  state_ = TransportState::kClosed;
}

void WebRtcTransport::SetState(TransportState state, const std::string& reason) {
  if (state_ == state) return;
  state_ = state;
  LogDebug(kTag, "transport state",
           {{"transport", std::to_string(id_)},
            {"state", TransportStateName(state)},
            {"reason", reason}});
  if (listener_ != nullptr) listener_->OnTransportStateChanged(*this, state, reason);
}

void WebRtcTransport::OnSelectedTupleChanged(const rtc::Tuple& tuple) { selected_ = tuple; }

void WebRtcTransport::OnDtlsSend(std::span<const uint8_t> datagram) {
  if (selected_) SendTo(datagram, *selected_);
}

void WebRtcTransport::OnDtlsConnected(const rtc::SrtpKeys& keys) {
  auto in =
      rtc::SrtpSession::Create(keys.profile, keys.remote, rtc::SrtpSession::Direction::kInbound);
  auto out =
      rtc::SrtpSession::Create(keys.profile, keys.local, rtc::SrtpSession::Direction::kOutbound);
  if (!in.ok() || !out.ok()) {
    SetState(TransportState::kFailed, "SRTP setup failed");
    return;
  }
  srtp_in_ = std::move(in).value();
  srtp_out_ = std::move(out).value();
  SetState(TransportState::kConnected, rtc::SrtpProfileName(keys.profile));
}

void WebRtcTransport::OnDtlsFailed(const std::string& reason) {
  SetState(TransportState::kFailed, "DTLS: " + reason);
}

void WebRtcTransport::OnDtlsApplicationData(std::span<const uint8_t> data) {
  // SCTP of the data channels; the worker's DataChannelRouter terminates it.
  if (listener_ != nullptr) listener_->OnTransportApplicationData(*this, data);
}

Status WebRtcTransport::SendApplicationData(std::span<const uint8_t> data) {
  if (state_ != TransportState::kConnected || !selected_) {
    return Status::Error("dtls_state", "The transport is not connected.");
  }
  return dtls_->SendApplicationData(data);
}

void WebRtcTransport::OnDtlsClosed() { SetState(TransportState::kClosed, "DTLS close_notify"); }

}  // namespace aegis::sfu
