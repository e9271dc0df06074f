#include "rtc/dtls/dtls_transport.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/time.h>

#include <array>
#include <cstring>
#include <utility>

#include "crypto/primitives.h"

namespace aegis::rtc {
namespace {

// TLS 1.2 suites allowed for DTLS (WR-02): ECDHE only (PFS) with ECDSA
// certificates and AEAD ciphers; strongest first, server preference.
constexpr const char* kDtlsCipherList =
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256";
constexpr const char* kDtlsGroups = "X25519:P-256";
// RFC 5764 §4.2
constexpr const char kSrtpExporterLabel[] = "EXTRACTOR-dtls_srtp";
// Retransmission back-off ceiling (mediasoup: 4 s).
constexpr unsigned int kMaxRetransmitUs = 4'000'000;

std::string OpenSslErrorText() {
  std::string out;
  unsigned long err = 0;
  while ((err = ERR_get_error()) != 0) {
    std::array<char, 256> buf{};
    ERR_error_string_n(err, buf.data(), buf.size());
    if (!out.empty()) out += "; ";
    out += buf.data();
  }
  return out;
}

std::optional<SrtpProfile> ProfileFromId(unsigned long id) {
  switch (id) {
    case SRTP_AEAD_AES_256_GCM:
      return SrtpProfile::kAeadAes256Gcm;
    case SRTP_AEAD_AES_128_GCM:
      return SrtpProfile::kAeadAes128Gcm;
    case SRTP_AES128_CM_SHA1_80:
      return SrtpProfile::kAes128CmHmacSha1_80;
    default:
      return std::nullopt;  // _32, NULL and anything else are refused (WR-03)
  }
}

}  // namespace

// Bridges OpenSSL C callbacks to the transport's private members.
struct DtlsTransportAccess {
  // The write BIO: every DTLS record OpenSSL emits lands here. Records of one
  // flight are packed into datagrams of at most the configured MTU.
  static int BioWrite(BIO* bio, const char* data, int len) {
    auto* self = static_cast<DtlsTransport*>(BIO_get_data(bio));
    if (self == nullptr || data == nullptr || len <= 0) return len <= 0 ? 0 : -1;
    const auto* bytes = reinterpret_cast<const uint8_t*>(data);
    const size_t n = static_cast<size_t>(len);
    auto& out = self->outgoing_;
    if (out.empty() || out.back().size() + n > self->config_.mtu) out.emplace_back();
    out.back().insert(out.back().end(), bytes, bytes + n);
    return len;
  }

  static long BioCtrl(BIO* /*bio*/, int cmd, long /*num*/, void* /*ptr*/) {
    switch (cmd) {
      case BIO_CTRL_FLUSH:
        return 1;
      case BIO_CTRL_DGRAM_QUERY_MTU:  // SSL_OP_NO_QUERY_MTU: the MTU is set explicitly
      case BIO_CTRL_WPENDING:
      case BIO_CTRL_PENDING:
      default:
        return 0;
    }
  }

  static int BioCreate(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
  }

  static const BIO_METHOD* WriterMethod() {
    // Built once; OpenSSL never mutates it afterwards (thread-safe static init).
    static BIO_METHOD* method = [] {
      BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "aegis-dtls-writer");
      if (m != nullptr) {
        BIO_meth_set_write(m, &BioWrite);
        BIO_meth_set_ctrl(m, &BioCtrl);
        BIO_meth_set_create(m, &BioCreate);
      }
      return m;
    }();
    return method;
  }

  // Accepts self-signed certificates (WebRTC has no PKI); the leaf is pinned
  // to the SDP fingerprint here when it is already known, so a mismatch aborts
  // the handshake with an alert, and again in OnHandshakeDone() (WR-04).
  static int Verify(int /*preverify_ok*/, X509_STORE_CTX* store) {
    auto* ssl =
        static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    if (ssl == nullptr) return 0;
    auto* self = static_cast<DtlsTransport*>(SSL_get_app_data(ssl));
    if (self == nullptr) return 0;
    if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
    if (self->remote_md_ == nullptr) return 1;  // checked after the handshake
    if (!self->RemoteCertificateMatches(X509_STORE_CTX_get_current_cert(store))) {
      self->fingerprint_mismatch_ = true;
      X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
      return 0;
    }
    return 1;
  }

  static unsigned int Timer(SSL* ssl, unsigned int previous_us) {
    auto* self = static_cast<DtlsTransport*>(SSL_get_app_data(ssl));
    if (previous_us == 0) {
      const uint32_t ms = self != nullptr ? self->config_.initial_retransmit_ms : 1000;
      return static_cast<unsigned int>(ms) * 1000U;
    }
    return previous_us >= kMaxRetransmitUs / 2 ? kMaxRetransmitUs : previous_us * 2;
  }
};

const char* SrtpProfileName(SrtpProfile profile) {
  switch (profile) {
    case SrtpProfile::kAeadAes256Gcm:
      return "SRTP_AEAD_AES_256_GCM";
    case SrtpProfile::kAeadAes128Gcm:
      return "SRTP_AEAD_AES_128_GCM";
    case SrtpProfile::kAes128CmHmacSha1_80:
      return "SRTP_AES128_CM_SHA1_80";
  }
  return "";
}

size_t SrtpKeyLength(SrtpProfile profile) {
  return profile == SrtpProfile::kAeadAes256Gcm ? 32 : 16;
}

size_t SrtpSaltLength(SrtpProfile profile) {
  // RFC 7714 §12 (GCM: 96-bit salt), RFC 5764 §4.1.2 (CM: 112-bit salt).
  return profile == SrtpProfile::kAes128CmHmacSha1_80 ? 14 : 12;
}

Result<std::unique_ptr<DtlsTransport>> DtlsTransport::Create(const DtlsConfig& config,
                                                             Listener* listener) {
  if (config.certificate == nullptr || listener == nullptr) {
    return Status::Error("dtls_config", "certificate and listener are required");
  }
  if (config.srtp_profiles.empty() || config.srtp_profiles.size() > 3) {
    return Status::Error("dtls_config", "need one to three SRTP profiles");
  }
  if (config.mtu < 256 || config.mtu > kDtlsMaxDatagramSize) {
    return Status::Error("dtls_config", "MTU must be within 256..1500");
  }
  if (config.initial_retransmit_ms == 0 || config.initial_retransmit_ms > 60'000) {
    return Status::Error("dtls_config", "initial retransmit timeout must be within 1..60000 ms");
  }
  std::unique_ptr<DtlsTransport> t(new DtlsTransport(config, listener));
  AEGIS_RETURN_IF_ERROR(t->Init());
  return t;
}

DtlsTransport::DtlsTransport(const DtlsConfig& config, Listener* listener)
    : config_(config), listener_(listener) {}

DtlsTransport::~DtlsTransport() {
  SSL_free(ssl_);  // frees both BIOs
  SSL_CTX_free(ctx_);
  for (auto& d : outgoing_) crypto::SecureZero(d);
}

Status DtlsTransport::Init() {
  ERR_clear_error();
  auto fail = [](const char* what) {
    return Status::Error("dtls_openssl", std::string(what) + ": " + OpenSslErrorText());
  };
  const bool server = config_.role == DtlsRole::kServer;
  ctx_ = SSL_CTX_new(server ? DTLS_server_method() : DTLS_client_method());
  if (ctx_ == nullptr) return fail("SSL_CTX_new");
  // DTLS 1.2 only (DTLS 1.0 is TLS 1.1-era; WebRTC requires 1.2, RFC 8827 §6.5).
  if (SSL_CTX_set_min_proto_version(ctx_, DTLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx_, DTLS1_2_VERSION) != 1) {
    return fail("protocol version");
  }
  if (SSL_CTX_set_cipher_list(ctx_, kDtlsCipherList) != 1) return fail("cipher list");
  if (SSL_CTX_set1_groups_list(ctx_, kDtlsGroups) != 1) return fail("groups");
  SSL_CTX_set_options(ctx_, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET |
                                SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_OFF);

  std::string profiles;
  for (SrtpProfile p : config_.srtp_profiles) {
    const char* name = SrtpProfileName(p);
    if (*name == '\0') return Status::Error("dtls_config", "unknown SRTP profile");
    if (!profiles.empty()) profiles += ':';
    profiles += name;
  }
  // Returns 0 on success (OpenSSL convention for this call).
  if (SSL_CTX_set_tlsext_use_srtp(ctx_, profiles.c_str()) != 0) return fail("use_srtp");

  if (SSL_CTX_use_certificate(ctx_, config_.certificate->certificate()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx_, config_.certificate->private_key()) != 1 ||
      SSL_CTX_check_private_key(ctx_) != 1) {
    return fail("certificate");
  }
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                     &DtlsTransportAccess::Verify);

  ssl_ = SSL_new(ctx_);
  if (ssl_ == nullptr) return fail("SSL_new");
  SSL_set_app_data(ssl_, this);

  rbio_ = BIO_new(BIO_s_mem());
  const BIO_METHOD* writer = DtlsTransportAccess::WriterMethod();
  BIO* wbio = writer != nullptr ? BIO_new(writer) : nullptr;
  if (rbio_ == nullptr || wbio == nullptr) {
    BIO_free(rbio_);
    BIO_free(wbio);
    rbio_ = nullptr;
    return fail("BIO_new");
  }
  BIO_set_mem_eof_return(rbio_, -1);  // empty means "retry", not EOF
  BIO_set_data(wbio, this);
  SSL_set_bio(ssl_, rbio_, wbio);

  // Returns the MTU on success, 0 below the DTLS minimum.
  if (SSL_set_mtu(ssl_, static_cast<long>(config_.mtu)) <= 0) return fail("SSL_set_mtu");
  DTLS_set_timer_cb(ssl_, &DtlsTransportAccess::Timer);
  if (server) {
    SSL_set_accept_state(ssl_);
  } else {
    SSL_set_connect_state(ssl_);
  }
  return Status::Ok();
}

Status DtlsTransport::SetRemoteFingerprint(std::string_view algorithm, std::string_view value) {
  const EVP_MD* md = FingerprintDigest(algorithm);
  if (md == nullptr) {
    return Status::Error("dtls_fingerprint", "unsupported fingerprint hash function");
  }
  auto bytes = ParseFingerprint(value);
  if (!bytes.ok()) return bytes.status();
  if (bytes->size() != static_cast<size_t>(EVP_MD_get_size(md))) {
    return Status::Error("dtls_fingerprint", "fingerprint length does not match its hash function");
  }
  if (state_ == DtlsState::kConnected || state_ == DtlsState::kFailed ||
      state_ == DtlsState::kClosed) {
    return Status::Error("dtls_state", "fingerprint must be set before the handshake completes");
  }
  remote_md_ = md;
  remote_fingerprint_ = std::move(bytes).value();
  return Status::Ok();
}

Status DtlsTransport::Start() {
  if (state_ != DtlsState::kNew) return Status::Error("dtls_state", "already started");
  state_ = DtlsState::kConnecting;
  if (config_.role == DtlsRole::kClient) Advance();
  return Status::Ok();
}

void DtlsTransport::ProcessDatagram(std::span<const uint8_t> datagram) {
  if (state_ != DtlsState::kConnecting && state_ != DtlsState::kConnected) return;
  if (datagram.empty() || datagram.size() > kDtlsMaxDatagramSize) return;
  if (datagram[0] < 20 || datagram[0] > 63) return;  // RFC 7983 §7: not DTLS
  // Keep datagram boundaries: drop anything a previous call left unread.
  if (BIO_ctrl_pending(rbio_) > 0) (void)BIO_reset(rbio_);
  if (BIO_write(rbio_, datagram.data(), static_cast<int>(datagram.size())) !=
      static_cast<int>(datagram.size())) {
    return;
  }
  Advance();
}

void DtlsTransport::Advance() {
  timer_may_run_ = true;
  if (state_ == DtlsState::kConnecting) {
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl_);
    if (r == 1) {
      OnHandshakeDone();
    } else {
      const int err = SSL_get_error(ssl_, r);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        FlushOutgoing();
        return;
      }
      std::string reason = fingerprint_mismatch_
                               ? "remote certificate fingerprint does not match a=fingerprint"
                               : "handshake failed: " + OpenSslErrorText();
      Fail(reason);
      return;
    }
  }
  if (state_ != DtlsState::kConnected) return;
  // Application data (SCTP), alerts and retransmitted peer flights.
  std::array<uint8_t, kDtlsMaxDatagramSize> buf{};
  for (int i = 0; i < 16; ++i) {
    ERR_clear_error();
    const int n = SSL_read(ssl_, buf.data(), static_cast<int>(buf.size()));
    if (n > 0) {
      FlushOutgoing();
      listener_->OnDtlsApplicationData(
          std::span<const uint8_t>(buf.data(), static_cast<size_t>(n)));
      if (state_ != DtlsState::kConnected) return;
      continue;
    }
    const int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) break;
    if (err == SSL_ERROR_ZERO_RETURN) {
      (void)SSL_shutdown(ssl_);  // answer close_notify
      FlushOutgoing();
      state_ = DtlsState::kClosed;
      listener_->OnDtlsClosed();
      return;
    }
    Fail("connection failed: " + OpenSslErrorText());
    return;
  }
  crypto::SecureZero(buf);
  FlushOutgoing();
}

bool DtlsTransport::RemoteCertificateMatches(X509* cert) const {
  if (cert == nullptr || remote_md_ == nullptr || remote_fingerprint_.empty()) return false;
  auto digest = CertificateDigest(cert, remote_md_);
  return digest.ok() && crypto::ConstantTimeEqual(*digest, remote_fingerprint_);
}

void DtlsTransport::OnHandshakeDone() {
  // Every completion path ends here, and nothing is exported or delivered
  // before the pinned fingerprint matched (WR-04, ex_webrtc GHSA-qwfw-ggxw-577c).
  // On failure the queued final flight (our Finished) is discarded, so the
  // peer does not complete either.
  X509* peer = SSL_get1_peer_certificate(ssl_);
  const bool have_peer = peer != nullptr;
  const bool matches = RemoteCertificateMatches(peer);
  X509_free(peer);
  if (!have_peer) {
    Fail("peer sent no certificate", /*send_queued=*/false);
    return;
  }
  if (remote_md_ == nullptr) {
    Fail("handshake completed before the remote fingerprint was set", /*send_queued=*/false);
    return;
  }
  if (!matches) {
    Fail("remote certificate fingerprint does not match a=fingerprint", /*send_queued=*/false);
    return;
  }
  if (SSL_version(ssl_) != DTLS1_2_VERSION) {
    Fail("negotiated version is not DTLS 1.2", /*send_queued=*/false);
    return;
  }
  const SRTP_PROTECTION_PROFILE* selected = SSL_get_selected_srtp_profile(ssl_);
  const std::optional<SrtpProfile> profile =
      selected != nullptr ? ProfileFromId(selected->id) : std::nullopt;
  if (!profile) {
    Fail("no acceptable SRTP profile negotiated", /*send_queued=*/false);
    return;
  }
  const size_t key_len = SrtpKeyLength(*profile);
  const size_t salt_len = SrtpSaltLength(*profile);
  // RFC 5764 §4.2: client key | server key | client salt | server salt.
  std::vector<uint8_t> material(2 * (key_len + salt_len));
  if (SSL_export_keying_material(ssl_, material.data(), material.size(), kSrtpExporterLabel,
                                 std::strlen(kSrtpExporterLabel), nullptr, 0, 0) != 1) {
    Fail("SRTP keying material export failed", /*send_queued=*/false);
    return;
  }
  auto key_salt = [&](size_t key_offset, size_t salt_offset) {
    std::vector<uint8_t> v;
    v.reserve(key_len + salt_len);
    v.insert(v.end(), material.begin() + static_cast<std::ptrdiff_t>(key_offset),
             material.begin() + static_cast<std::ptrdiff_t>(key_offset + key_len));
    v.insert(v.end(), material.begin() + static_cast<std::ptrdiff_t>(salt_offset),
             material.begin() + static_cast<std::ptrdiff_t>(salt_offset + salt_len));
    return v;
  };
  std::vector<uint8_t> client = key_salt(0, 2 * key_len);
  std::vector<uint8_t> server = key_salt(key_len, 2 * key_len + salt_len);
  crypto::SecureZero(material);

  SrtpKeys keys;
  keys.profile = *profile;
  const bool is_client = config_.role == DtlsRole::kClient;
  if (is_client) {
    keys.local = std::move(client);
    keys.remote = std::move(server);
  } else {
    keys.local = std::move(server);
    keys.remote = std::move(client);
  }
  profile_ = profile;
  state_ = DtlsState::kConnected;
  FlushOutgoing();  // our last flight goes out before the owner reacts
  listener_->OnDtlsConnected(keys);
  crypto::SecureZero(keys.local);
  crypto::SecureZero(keys.remote);
}

void DtlsTransport::Fail(const std::string& reason, bool send_queued) {
  if (state_ == DtlsState::kFailed || state_ == DtlsState::kClosed) return;
  state_ = DtlsState::kFailed;
  if (send_queued) {
    FlushOutgoing();  // a fatal alert, if OpenSSL queued one
  } else {
    for (auto& d : outgoing_) crypto::SecureZero(d);
    outgoing_.clear();
  }
  listener_->OnDtlsFailed(reason);
}

void DtlsTransport::FlushOutgoing() {
  // Swap first: the listener may cause more output.
  std::vector<std::vector<uint8_t>> out;
  out.swap(outgoing_);
  for (const auto& d : out) {
    if (!d.empty()) listener_->OnDtlsSend(d);
  }
}

std::optional<int64_t> DtlsTransport::NextTimeoutMs() const {
  if (state_ != DtlsState::kConnecting && state_ != DtlsState::kConnected) return std::nullopt;
  if (!timer_may_run_) return std::nullopt;
  struct timeval tv {};
  if (DTLSv1_get_timeout(ssl_, &tv) != 1) {
    timer_may_run_ = false;
    return std::nullopt;
  }
  return static_cast<int64_t>(tv.tv_sec) * 1000 + (static_cast<int64_t>(tv.tv_usec) + 999) / 1000;
}

void DtlsTransport::OnTimer() {
  if (state_ != DtlsState::kConnecting && state_ != DtlsState::kConnected) return;
  timer_may_run_ = true;
  ERR_clear_error();
  if (DTLSv1_handle_timeout(ssl_) < 0) {
    if (state_ == DtlsState::kConnecting) {
      Fail("handshake timed out: " + OpenSslErrorText());
      return;
    }
    ERR_clear_error();
  }
  FlushOutgoing();
}

Status DtlsTransport::SendApplicationData(std::span<const uint8_t> data) {
  if (state_ != DtlsState::kConnected) return Status::Error("dtls_state", "not connected");
  if (data.empty()) return Status::Ok();
  if (data.size() > DTLS_get_data_mtu(ssl_)) {
    return Status::Error("dtls_send", "application data exceeds the DTLS record MTU");
  }
  ERR_clear_error();
  timer_may_run_ = true;
  const int n = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
  FlushOutgoing();
  if (n != static_cast<int>(data.size())) {
    return Status::Error("dtls_send", "SSL_write failed: " + OpenSslErrorText());
  }
  return Status::Ok();
}

void DtlsTransport::Close() {
  if (state_ == DtlsState::kConnected) {
    ERR_clear_error();
    timer_may_run_ = true;
    (void)SSL_shutdown(ssl_);
    FlushOutgoing();
  }
  if (state_ != DtlsState::kFailed) state_ = DtlsState::kClosed;
}

}  // namespace aegis::rtc
