// TestPeer: a WebRTC client built from the project's own rtc pieces, for
// driving a media worker over real UDP on 127.0.0.1. It owns one
// sfu::UdpSocket, plays the ICE controlling agent (Binding requests with
// USERNAME, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY and
// FINGERPRINT), a DTLS client with its own certificate, and the two SRTP
// sessions derived from the exported keys. Everything it receives is decoded
// and recorded for the test to inspect. Test-only; used by one thread; never
// sleeps on wall time for correctness (Pump* poll the socket until a
// deadline).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "rtc/dtls/dtls_certificate.h"
#include "rtc/dtls/dtls_transport.h"
#include "rtc/endpoint.h"
#include "rtc/rtp/rtcp_report.h"
#include "rtc/srtp/srtp_session.h"
#include "rtc/stun/ice_lite.h"
#include "rtc/stun/stun_message.h"
#include "sfu/udp_socket.h"

namespace aegis::sfu::testing {

using Bytes = std::vector<uint8_t>;
using Millis = std::chrono::milliseconds;

// Generous: a loaded CI machine must not turn into a flaky test.
inline constexpr Millis kTimeout{5000};

// One Binding response (success or error) as the peer saw it.
struct StunResponse {
  rtc::StunClass cls = rtc::StunClass::kSuccessResponse;
  rtc::StunTransactionId transaction_id{};
  uint16_t error_code = 0;
  std::optional<rtc::Endpoint> xor_mapped;
  bool has_integrity = false;
  bool integrity_ok = false;  // MESSAGE-INTEGRITY under the server pwd
  bool fingerprint_ok = false;
};

// One decrypted RTP packet as the peer saw it.
struct ReceivedRtp {
  uint32_t ssrc = 0;
  uint8_t payload_type = 0;
  uint16_t sequence_number = 0;
  uint32_t timestamp = 0;
  bool marker = false;
  bool has_extension = false;
  uint8_t csrc_count = 0;
  Bytes payload;
  bool padding_only = false;  // RTP padding, no payload (a probe)
  // The transport-wide sequence number, when TestPeer::transport_cc_extension_id is set.
  std::optional<uint16_t> transport_seq;
};

struct ReceivedRr {
  uint32_t sender_ssrc = 0;
  rtc::ReportBlock block;
};

// What a publisher puts on the wire (RFC 3550 §5.1), optionally with a
// one-byte header extension block (RFC 8285 §4.2).
struct RtpSpec {
  uint32_t ssrc = 0;
  uint8_t payload_type = 96;
  uint16_t sequence_number = 0;
  uint32_t timestamp = 0;
  bool marker = false;
  bool with_extension = true;
  // With with_extension: these one-byte elements (id, value) instead of the
  // default block, e.g. MID / RID (RFC 8843, RFC 8852) for simulcast.
  std::vector<std::pair<uint8_t, std::string>> extensions;
  Bytes payload;
};

struct BindingOptions {
  std::optional<std::string> password;  // default: the server's pwd
  std::optional<std::string> username;  // default: "<server ufrag>:<client ufrag>"
  bool use_candidate = true;
};

class TestPeer final : public rtc::DtlsTransport::Listener {
 public:
  // `server`: the worker's UDP endpoint; `server_ice`: the credentials the
  // worker's transport was created with (the peer learns them from SDP).
  // Fails the current test (and returns nullptr) if setup fails.
  static std::unique_ptr<TestPeer> Create(const rtc::Endpoint& server,
                                          rtc::IceCredentials server_ice);
  ~TestPeer() override;

  const rtc::IceCredentials& local_ice() const { return local_ice_; }
  const rtc::IceCredentials& server_ice() const { return server_ice_; }
  const std::string& fingerprint() const { return certificate_->fingerprint(); }
  rtc::Endpoint local_endpoint() const;
  UdpSocket& socket() { return *socket_; }

  // --- ICE
  rtc::StunTransactionId SendBindingRequest(const BindingOptions& options = {});
  // Sends checks (retransmitted every 100 ms) until one gets a success
  // response; false on timeout.
  bool DoIce(const BindingOptions& options = {}, Millis timeout = kTimeout);
  // One check and its answer (success or error): a barrier, since the worker
  // handles and answers datagrams in arrival order. nullopt on timeout.
  std::optional<StunResponse> RoundTrip(const BindingOptions& options = {},
                                        Millis timeout = kTimeout);

  // --- DTLS
  // Pins the server fingerprint and sends the ClientHello.
  bool StartDtls(const std::string& server_fingerprint);
  // ICE, then DTLS until the SRTP sessions exist; false on timeout/failure.
  bool Connect(const std::string& server_fingerprint, Millis timeout = kTimeout);
  bool srtp_ready() const { return srtp_out_ != nullptr && srtp_in_ != nullptr; }
  rtc::DtlsState dtls_state() const { return dtls_->state(); }
  const std::string& dtls_failure() const { return dtls_failure_; }
  bool dtls_closed() const { return dtls_closed_; }

  // --- Media
  static Bytes BuildRtp(const RtpSpec& spec);
  // The SRTP-protected datagram for `spec` (advances the outbound context).
  Bytes ProtectRtp(const RtpSpec& spec);
  void SendRtp(const RtpSpec& spec);
  // `build` writes one clear RTCP compound and returns its length.
  void SendRtcp(const std::function<size_t(std::span<uint8_t>)>& build);
  void SendPli(uint32_t sender_ssrc, uint32_t media_ssrc);
  void SendSenderReport(const rtc::SenderInfo& info);
  // --- Data channels: SCTP packets as DTLS application data (a test wires
  // a client-role rtc::SctpAssociation to these two).
  bool SendApplicationData(std::span<const uint8_t> data);
  std::function<void(std::span<const uint8_t>)> on_application_data;

  // Any bytes, unprotected, to the worker (or `to`).
  void SendRaw(std::span<const uint8_t> datagram);
  void SendRawTo(std::span<const uint8_t> datagram, const rtc::Endpoint& to);

  // --- Receive side
  // Waits up to `timeout` for readability, then handles every datagram
  // pending; also drives the DTLS retransmission timer.
  void Poll(Millis timeout);
  // Polls until done() holds or `timeout` passes; returns done().
  bool PumpUntil(const std::function<bool()>& done, Millis timeout = kTimeout);
  // Keeps polling for `duration` (to check that nothing else arrives).
  void PumpFor(Millis duration);

  std::vector<StunResponse> stun_responses;
  std::vector<ReceivedRtp> rtp;
  // Extension id to read ReceivedRtp::transport_seq with (0: not read).
  uint8_t transport_cc_extension_id = 0;
  std::vector<uint32_t> pli_media_ssrcs;
  struct Nacked {
    uint32_t media_ssrc = 0;
    uint16_t seq = 0;
  };
  std::vector<Nacked> nacked;  // every sequence number of every generic NACK
  std::vector<rtc::SenderInfo> sender_reports;
  std::vector<ReceivedRr> receiver_reports;
  size_t dtls_datagrams = 0;     // DTLS records received (any state)
  size_t srtp_errors = 0;        // SRTP/SRTCP that failed to unprotect
  size_t foreign_datagrams = 0;  // from anyone but the server endpoint

 private:
  TestPeer(const rtc::Endpoint& server, rtc::IceCredentials server_ice);

  void HandleDatagram(std::span<uint8_t> data, const rtc::Endpoint& from);
  void HandleStun(std::span<const uint8_t> data);
  void HandleRtp(std::span<const uint8_t> data);
  void HandleRtcp(std::span<const uint8_t> data);

  // rtc::DtlsTransport::Listener
  void OnDtlsSend(std::span<const uint8_t> datagram) override;
  void OnDtlsConnected(const rtc::SrtpKeys& keys) override;
  void OnDtlsFailed(const std::string& reason) override;
  void OnDtlsApplicationData(std::span<const uint8_t> data) override;
  void OnDtlsClosed() override;

  // Passed by argument.
  rtc::Endpoint server_;
  rtc::IceCredentials server_ice_;
  // Allocated by this.
  rtc::IceCredentials local_ice_;
  uint64_t tie_breaker_ = 0;
  std::unique_ptr<UdpSocket> socket_;
  std::unique_ptr<rtc::DtlsCertificate> certificate_;
  std::unique_ptr<rtc::DtlsTransport> dtls_;
  std::unique_ptr<rtc::SrtpSession> srtp_out_;
  std::unique_ptr<rtc::SrtpSession> srtp_in_;
  std::string dtls_failure_;
  bool dtls_closed_ = false;
};

}  // namespace aegis::sfu::testing
