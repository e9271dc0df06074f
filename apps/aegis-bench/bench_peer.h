// BenchPeer: the client side of one WebRTC peer connection for aegis-bench,
// built from the project's rtc pieces (as tests/sfu/test_peer does): one
// non-blocking sfu::UdpSocket watched by the Asio loop, the ICE controlling
// agent (regular nomination like libwebrtc: Binding requests every 100 ms
// until one succeeds, then USE-CANDIDATE, then a consent check every 2.5 s,
// RFC 7675; checks from a full remote agent are answered), a DTLS client or
// server (rtc::DtlsTransport) and the two SRTP sessions from the exported
// keys. Received datagrams are untrusted: anything not from the remote
// endpoint, or that fails to parse or authenticate, is counted and dropped.
// Owned by the single event-loop thread; not thread-safe. Pending handlers
// capture `this`, so a peer must outlive the io_context's run() (the runner
// destroys peers only after the loop stopped). The Listener is not owned.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "rtc/dtls/dtls_certificate.h"
#include "rtc/dtls/dtls_transport.h"
#include "rtc/endpoint.h"
#include "rtc/rtp/rtp_packet.h"
#include "rtc/srtp/srtp_session.h"
#include "rtc/stun/ice_lite.h"
#include "rtc/stun/stun_message.h"
#include "sdp_builder.h"
#include "sfu/udp_socket.h"

namespace aegis::bench {

class BenchPeer final : public rtc::DtlsTransport::Listener {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void OnPeerConnected(BenchPeer& peer) = 0;
    virtual void OnPeerFailed(BenchPeer& peer, const std::string& reason) = 0;
    // A decrypted, parsed RTP packet; `arrival_ns` is MonotonicNs() at receipt.
    virtual void OnRtp(BenchPeer& peer, const rtc::RtpPacket& packet, uint64_t arrival_ns) = 0;
    // A decrypted RTCP compound.
    virtual void OnRtcp(BenchPeer& peer, std::span<const uint8_t> compound) = 0;
  };

  struct Counters {
    uint64_t rtp_sent = 0;
    uint64_t rtp_bytes_sent = 0;
    uint64_t rtcp_sent = 0;
    uint64_t rtp_received = 0;
    uint64_t rtcp_received = 0;
    uint64_t srtp_errors = 0;
    uint64_t foreign = 0;  // not from the remote endpoint, or unclassifiable
    uint64_t ice_checks = 0;

    Counters& operator+=(const Counters& o) {
      rtp_sent += o.rtp_sent;
      rtp_bytes_sent += o.rtp_bytes_sent;
      rtcp_sent += o.rtcp_sent;
      rtp_received += o.rtp_received;
      rtcp_received += o.rtcp_received;
      srtp_errors += o.srtp_errors;
      foreign += o.foreign;
      ice_checks += o.ice_checks;
      return *this;
    }
  };

  // The certificate is shared by every peer of the process (one per process is
  // what a browser does per origin too); not owned, must outlive the peer.
  static Result<std::unique_ptr<BenchPeer>> Create(boost::asio::io_context& io,
                                                   const rtc::DtlsCertificate* certificate,
                                                   Listener* listener,
                                                   const std::string& bind_ip = "127.0.0.1",
                                                   bool arrival_at_socket = true);
  ~BenchPeer() override;
  BenchPeer(const BenchPeer&) = delete;
  BenchPeer& operator=(const BenchPeer&) = delete;

  LocalTransport local_transport() const;

  // Starts ICE towards `remote` and, once a check succeeds, DTLS in `role`
  // (kClient when the remote answered/offered passive/actpass, kServer when
  // it took a=setup:active). Error: bench_state when already started.
  Status Start(const rtc::Endpoint& remote, const std::string& remote_ufrag,
               const std::string& remote_pwd, const rtc::Fingerprint& remote_fingerprint,
               rtc::DtlsRole role);
  bool started() const { return started_; }
  bool connected() const { return srtp_out_ != nullptr && srtp_in_ != nullptr; }
  bool failed() const { return failed_; }
  std::optional<rtc::SrtpProfile> srtp_profile() const;

  // Writes one RTP packet with `build` (into a send slot of kMaxRtpPacket +
  // SRTP room), protects it in place and queues it; false when not
  // connected or the packet could not be built/protected.
  bool SendRtp(const std::function<size_t(std::span<uint8_t>)>& build);
  bool SendRtcp(const std::function<size_t(std::span<uint8_t>)>& build);
  // Sends every queued datagram (sendmmsg batches).
  void Flush() { socket_->Flush(); }
  void Close();

  const Counters& counters() const { return counters_; }
  uint32_t local_ssrc() const { return local_ssrc_; }

 private:
  BenchPeer(boost::asio::io_context& io, Listener* listener);

  void ArmRead();
  void OnReadable();
  // `arrival_ns`: when the datagram reached the socket (MonotonicNs clock).
  void HandleDatagram(std::span<uint8_t> data, uint64_t arrival_ns);
  void SendCheck();
  void AnswerCheck(const rtc::StunMessage& request);
  void ArmTimer(int64_t ms);
  void OnTimer();
  void Fail(const std::string& reason);

  // rtc::DtlsTransport::Listener
  void OnDtlsSend(std::span<const uint8_t> datagram) override;
  void OnDtlsConnected(const rtc::SrtpKeys& keys) override;
  void OnDtlsFailed(const std::string& reason) override;
  void OnDtlsApplicationData(std::span<const uint8_t> data) override;
  void OnDtlsClosed() override {}

  // Passed by argument.
  Listener* listener_;
  const rtc::DtlsCertificate* certificate_ = nullptr;
  // Allocated by this.
  std::unique_ptr<sfu::UdpSocket> socket_;
  boost::asio::posix::stream_descriptor watcher_;  // does not own the fd (released)
  boost::asio::steady_timer timer_;
  rtc::IceCredentials local_ice_;
  uint64_t tie_breaker_ = 0;
  uint32_t local_ssrc_ = 0;
  std::unique_ptr<rtc::DtlsTransport> dtls_;
  std::unique_ptr<rtc::SrtpSession> srtp_out_;
  std::unique_ptr<rtc::SrtpSession> srtp_in_;
  rtc::Endpoint remote_;
  std::string bind_ip_;
  std::string remote_ufrag_;
  std::string remote_pwd_;
  std::vector<rtc::StunTransactionId> pending_checks_;
  bool started_ = false;
  bool pair_valid_ = false;  // a plain check succeeded; next ones nominate
  bool ice_done_ = false;
  bool failed_ = false;
  bool closed_ = false;
  int64_t ice_elapsed_ms_ = 0;
  int64_t since_consent_ms_ = 0;
  Counters counters_;
};

}  // namespace aegis::bench
