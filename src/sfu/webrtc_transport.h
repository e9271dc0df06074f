// WebRtcTransport: one peer connection's transport on a media worker —
// ICE-lite (which remote tuples may talk to us), DTLS 1.2 server (SRTP keys),
// and the two SRTP sessions (inbound from the peer, outbound to it). It gets
// every datagram the worker routed to it and hands decrypted RTP/RTCP up
// through its Listener; it sends through the worker's UdpSocket, or its
// TcpServer when the selected tuple is an ICE-TCP connection. Only
// datagrams from ICE-validated tuples reach DTLS or SRTP (MX-03). DTLS
// records that arrive before the remote fingerprint is known are held (a few,
// bounded) and replayed when it is set. Owned by one worker; not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "rtc/demux.h"
#include "rtc/dtls/dtls_transport.h"
#include "rtc/endpoint.h"
#include "rtc/rtp/rtp_packet.h"
#include "rtc/srtp/srtp_session.h"
#include "rtc/stun/ice_lite.h"
#include "rtc/tuple.h"
#include "sfu/udp_socket.h"

namespace aegis::sfu {

class TcpServer;

enum class TransportState : uint8_t { kNew, kConnected, kFailed, kClosed };
const char* TransportStateName(TransportState state);

class WebRtcTransport final : public rtc::IceLiteServer::Listener,
                              public rtc::DtlsTransport::Listener {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void OnTransportStateChanged(WebRtcTransport& transport, TransportState state,
                                         const std::string& reason) = 0;
    // A new remote tuple was validated (the worker maps it to this transport).
    virtual void OnTransportTupleAdded(WebRtcTransport& transport, const rtc::Tuple& tuple) = 0;
    // Decrypted, parsed RTP; the packet's buffer is valid during the call only.
    virtual void OnTransportRtp(WebRtcTransport& transport, rtc::RtpPacket& packet,
                                int64_t now_ms) = 0;
    // Decrypted, validated RTCP compound; valid during the call only.
    virtual void OnTransportRtcp(WebRtcTransport& transport, std::span<const uint8_t> compound,
                                 int64_t now_ms) = 0;
    // DTLS application data (SCTP packets of the data channels); valid during
    // the call only.
    virtual void OnTransportApplicationData(WebRtcTransport& /*transport*/,
                                            std::span<const uint8_t> /*data*/) {}
  };

  struct Stats {
    uint64_t rtp_in = 0;
    uint64_t rtcp_in = 0;
    uint64_t rtp_out = 0;
    uint64_t rtcp_out = 0;
    uint64_t srtp_errors = 0;
    uint64_t unvalidated_drops = 0;  // DTLS/SRTP from a tuple ICE never validated
  };

  // `certificate`, `socket`, `tcp` and `listener` are not owned and outlive
  // this; `tcp` may be null (no ICE-TCP).
  static Result<std::unique_ptr<WebRtcTransport>> Create(uint64_t id, rtc::IceCredentials local_ice,
                                                         const rtc::DtlsCertificate* certificate,
                                                         UdpSocket* socket, TcpServer* tcp,
                                                         Listener* listener);
  ~WebRtcTransport() override;

  uint64_t id() const { return id_; }
  const std::string& local_ufrag() const { return ice_.local_credentials().ufrag; }
  TransportState state() const { return state_; }
  const std::optional<rtc::Tuple>& selected_tuple() const { return selected_; }
  const Stats& stats() const { return stats_; }
  std::optional<rtc::SrtpProfile> srtp_profile() const { return dtls_->srtp_profile(); }

  // From the remote SDP. Errors: dtls_fingerprint, ice_credentials.
  Status SetRemoteParameters(std::string_view ice_ufrag, std::string_view fingerprint_algorithm,
                             std::string_view fingerprint_value);

  // One datagram (or RFC 4571 frame) from `from`, already classified.
  void ReceiveDatagram(rtc::PacketKind kind, std::span<uint8_t> data, const rtc::Tuple& from,
                       int64_t now_ms);
  // The path of `tuple` is gone (closed TCP connection): forget it.
  void RemoveTuple(const rtc::Tuple& tuple);

  // Protects (in place, in a send slot of the socket) and sends to the
  // selected tuple. `build` writes the clear packet into the slot and returns
  // its length (0: nothing to send). No-op unless connected.
  template <typename Build>
  void SendRtp(Build&& build);
  template <typename Build>
  void SendRtcp(Build&& build);

  // One SCTP packet as DTLS application data to the selected tuple. Error
  // codes: dtls_state (not connected), dtls_send.
  Status SendApplicationData(std::span<const uint8_t> data);

  // DTLS retransmission and consent freshness (RFC 7675).
  void OnTimer(int64_t now_ms);
  void Close();

 private:
  WebRtcTransport(uint64_t id, rtc::IceLiteServer ice, UdpSocket* socket, TcpServer* tcp,
                  Listener* listener);

  void SetState(TransportState state, const std::string& reason);
  // Shared body of SendRtp/SendRtcp: build into a send slot, then Commit.
  template <typename Build>
  void Send(Build&& build, bool rtcp);
  void Commit(std::span<uint8_t> slot, size_t len, bool rtcp);
  void SendTo(std::span<const uint8_t> packet, const rtc::Tuple& to);

  // rtc::IceLiteServer::Listener
  void OnSelectedTupleChanged(const rtc::Tuple& tuple) override;
  // rtc::DtlsTransport::Listener
  void OnDtlsSend(std::span<const uint8_t> datagram) override;
  void OnDtlsConnected(const rtc::SrtpKeys& keys) override;
  void OnDtlsFailed(const std::string& reason) override;
  void OnDtlsApplicationData(std::span<const uint8_t> data) override;
  void OnDtlsClosed() override;

  // Passed by argument.
  uint64_t id_;
  UdpSocket* socket_;
  TcpServer* tcp_;
  Listener* listener_;
  // Allocated by this.
  rtc::IceLiteServer ice_;
  std::unique_ptr<rtc::DtlsTransport> dtls_;
  std::unique_ptr<rtc::SrtpSession> srtp_in_;
  std::unique_ptr<rtc::SrtpSession> srtp_out_;
  std::optional<rtc::Tuple> selected_;
  bool remote_fingerprint_set_ = false;
  std::vector<std::vector<uint8_t>> held_dtls_;  // before the fingerprint is known
  std::array<uint8_t, 512> stun_response_{};
  TransportState state_ = TransportState::kNew;
  int64_t created_ms_ = -1;
  Stats stats_;
};

template <typename Build>
void WebRtcTransport::SendRtp(Build&& build) {
  Send(std::forward<Build>(build), /*rtcp=*/false);
}

template <typename Build>
void WebRtcTransport::SendRtcp(Build&& build) {
  Send(std::forward<Build>(build), /*rtcp=*/true);
}

template <typename Build>
void WebRtcTransport::Send(Build&& build, bool rtcp) {
  if (state_ != TransportState::kConnected || !selected_ || !srtp_out_) return;
  std::span<uint8_t> slot = socket_->AcquireSendSlot();
  const size_t len = build(slot.first(slot.size() - rtc::SrtpSession::kMaxRtcpOverhead));
  Commit(slot, len, rtcp);
}

}  // namespace aegis::sfu
