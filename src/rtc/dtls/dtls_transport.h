// DTLS 1.2 endpoint for one WebRTC transport (RFC 6347, DTLS-SRTP RFC 5764),
// socket-less: the owner feeds received datagrams to ProcessDatagram() and
// gets every outgoing datagram, the SRTP keys and the outcome through the
// Listener. Received datagrams are untrusted input: oversized ones are
// ignored, malformed records are discarded or fail the handshake, nothing
// asserts. Keys are exported only after the peer certificate's fingerprint
// matched the remote SDP value (WR-04), on every completion path.
// Time: OpenSSL's retransmission timer is exposed through NextTimeoutMs() /
// OnTimer(); no threads. Owned by one event loop; not thread-safe. The
// Listener and the certificate are not owned and must outlive the transport;
// a Listener must not destroy the transport from inside a callback.
#pragma once

#include <openssl/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "rtc/dtls/dtls_certificate.h"
#include "rtc/srtp/srtp_session.h"  // SrtpProfile

namespace aegis::rtc {

enum class DtlsRole : uint8_t { kClient, kServer };
enum class DtlsState : uint8_t { kNew, kConnecting, kConnected, kFailed, kClosed };

// IANA DTLS-SRTP protection profiles we allow (WR-03), preferred first.

const char* SrtpProfileName(SrtpProfile profile);  // OpenSSL/IANA name
size_t SrtpKeyLength(SrtpProfile profile);         // 32 or 16
size_t SrtpSaltLength(SrtpProfile profile);        // 12 (GCM) or 14 (CM)

// Master key || master salt per direction (RFC 5764 §4.2), chosen by role:
// `local` protects what we send, `remote` what we receive.
struct SrtpKeys {
  SrtpProfile profile = SrtpProfile::kAeadAes256Gcm;
  std::vector<uint8_t> local;
  std::vector<uint8_t> remote;
};

// Largest datagram accepted (mediasoup MtuSize; demux kMaxDatagramSize).
inline constexpr size_t kDtlsMaxDatagramSize = 1500;
// Datagram size we produce: fits a 1280-byte IPv6 path with TURN overhead.
inline constexpr size_t kDtlsDefaultMtu = 1200;

// WR-03 preference order: AEAD first, no _32 or NULL profiles.
inline constexpr std::array<SrtpProfile, 3> kDefaultSrtpProfiles = {
    SrtpProfile::kAeadAes256Gcm, SrtpProfile::kAeadAes128Gcm, SrtpProfile::kAes128CmHmacSha1_80};

struct DtlsConfig {
  DtlsRole role = DtlsRole::kServer;
  // Not owned; must outlive the transport.
  const DtlsCertificate* certificate = nullptr;
  // Offered/accepted profiles in preference order; a non-empty subset of the
  // three above (tests use a single profile to check negotiation).
  // Built from an array, not an initializer list: GCC 12 at -O2 reports a false
  // -Wmaybe-uninitialized for initializer-list default members.
  std::vector<SrtpProfile> srtp_profiles{kDefaultSrtpProfiles.begin(), kDefaultSrtpProfiles.end()};
  size_t mtu = kDtlsDefaultMtu;
  // First retransmission timeout; doubled per retransmission up to 4 s
  // (mediasoup uses 100 ms; RFC 6347 §4.2.4.1 suggests 1 s).
  uint32_t initial_retransmit_ms = 100;
};

class DtlsTransport {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // One DTLS datagram to send to the (ICE-selected) remote tuple.
    virtual void OnDtlsSend(std::span<const uint8_t> datagram) = 0;
    // Handshake done and the remote fingerprint verified. Copy what you need:
    // the transport wipes its copy when this returns.
    virtual void OnDtlsConnected(const SrtpKeys& keys) = 0;
    // Terminal: handshake error, fingerprint mismatch, timeout or fatal alert.
    virtual void OnDtlsFailed(const std::string& reason) = 0;
    // Application data (SCTP) received after OnDtlsConnected.
    virtual void OnDtlsApplicationData(std::span<const uint8_t> data) = 0;
    // Peer sent close_notify.
    virtual void OnDtlsClosed() {}
  };

  // Error codes: dtls_config (no certificate, bad profile list or MTU),
  // dtls_openssl (context setup failed).
  static Result<std::unique_ptr<DtlsTransport>> Create(const DtlsConfig& config,
                                                       Listener* listener);
  ~DtlsTransport();
  DtlsTransport(const DtlsTransport&) = delete;
  DtlsTransport& operator=(const DtlsTransport&) = delete;

  // From the remote SDP a=fingerprint ("sha-256", "AB:CD:..."). Must be set
  // before the handshake completes, or the transport fails. Error code:
  // dtls_fingerprint (unsupported hash, malformed value, wrong length).
  Status SetRemoteFingerprint(std::string_view algorithm, std::string_view value);

  // Moves kNew -> kConnecting; a client sends its ClientHello. Datagrams
  // received before Start() are ignored. Error code: dtls_state.
  Status Start();

  // One received datagram. Ignored when empty, larger than
  // kDtlsMaxDatagramSize, not a DTLS record by its first byte (RFC 7983), or
  // when the transport is kNew, kFailed or kClosed.
  void ProcessDatagram(std::span<const uint8_t> datagram);

  // Milliseconds until OnTimer() should run (0 = now), or nullopt when no
  // retransmission timer is armed. Cheap when none is: OpenSSL is asked
  // again only after a call into it that could have armed one.
  std::optional<int64_t> NextTimeoutMs() const;
  // Retransmits the last flight if its timer expired; fails the transport
  // once OpenSSL gives up.
  void OnTimer();

  // Sends application data (SCTP) once connected. Error code: dtls_state,
  // dtls_send.
  Status SendApplicationData(std::span<const uint8_t> data);

  // Sends close_notify (when connected) and moves to kClosed.
  void Close();

  DtlsState state() const { return state_; }
  DtlsRole role() const { return config_.role; }
  // The negotiated profile, once connected.
  std::optional<SrtpProfile> srtp_profile() const { return profile_; }

 private:
  DtlsTransport(const DtlsConfig& config, Listener* listener);
  Status Init();
  // Drives SSL_do_handshake or SSL_read after input or a timer.
  void Advance();
  void OnHandshakeDone();
  // send_queued: flush what OpenSSL queued (an alert) before notifying.
  void Fail(const std::string& reason, bool send_queued = true);
  void FlushOutgoing();
  // Called by the verify callback and after the handshake.
  bool RemoteCertificateMatches(X509* cert) const;

  friend struct DtlsTransportAccess;

  // Passed by argument.
  DtlsConfig config_;
  Listener* listener_;
  // Allocated by this.
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;  // owns both BIOs
  BIO* rbio_ = nullptr;
  std::vector<std::vector<uint8_t>> outgoing_;
  DtlsState state_ = DtlsState::kNew;
  const EVP_MD* remote_md_ = nullptr;
  std::vector<uint8_t> remote_fingerprint_;
  std::optional<SrtpProfile> profile_;
  bool fingerprint_mismatch_ = false;
  // False once OpenSSL said no timer is armed, until the next call into it
  // (handshake, read, write, timeout, shutdown): only those arm one. Spares
  // a DTLSv1_get_timeout (an SSL_ctrl) per transport and worker tick.
  mutable bool timer_may_run_ = true;
};

}  // namespace aegis::rtc
