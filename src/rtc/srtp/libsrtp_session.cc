// SrtpSession on libsrtp2: the first version allowed by DESIGN.md "SRTP",
// now the test oracle and benchmark baseline of the OpenSSL EVP one.
// Every length is checked here before libsrtp sees the packet, so the
// libsrtp SRTCP `enc_octet_len` underflow class (SECURITY-CHECKS §1.4) and
// header-extension over-reads cannot be reached from the network.
#include "rtc/srtp/libsrtp_session.h"

#include <openssl/crypto.h>
#include <srtp2/srtp.h>

#include <array>
#include <cstring>
#include <mutex>
#include <string>

namespace aegis::rtc {
namespace {

// libsrtp replay window (RFC 3711 §3.3.2 default is 64; video with NACK and
// simulcast reorders more than that, and browsers use 1024 as well).
constexpr unsigned long kReplayWindow = 1024;

Status InitLibrary() {
  static std::once_flag once;
  static srtp_err_status_t init_status = srtp_err_status_fail;
  std::call_once(once, [] { init_status = srtp_init(); });
  if (init_status != srtp_err_status_ok) {
    return Status::Error(SrtpSession::kInit,
                         "srtp_init failed: " + std::to_string(static_cast<int>(init_status)));
  }
  return Status::Ok();
}

Status MapError(srtp_err_status_t err, const char* what) {
  switch (err) {
    case srtp_err_status_auth_fail:
      return Status::Error(SrtpSession::kAuthFailed, std::string(what) + ": authentication failed");
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
      return Status::Error(SrtpSession::kReplay, std::string(what) + ": replayed or too old");
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err:
      return Status::Error(SrtpSession::kBadLength, std::string(what) + ": malformed packet");
    default:
      return Status::Error(SrtpSession::kInit, std::string(what) + ": libsrtp error " +
                                                   std::to_string(static_cast<int>(err)));
  }
}

class LibsrtpSession final : public SrtpSession {
 public:
  LibsrtpSession(SrtpProfile profile, Direction direction, srtp_t session)
      : profile_(profile), direction_(direction), session_(session) {}
  ~LibsrtpSession() override { srtp_dealloc(session_); }

  Status ProtectRtp(std::span<uint8_t> buffer, size_t* len) override {
    AEGIS_RETURN_IF_ERROR(CheckCall(Direction::kOutbound, buffer, len, "protect rtp"));
    if (SrtpRtpHeaderLength(buffer, *len) == 0) {
      return Status::Error(kBadLength, "protect rtp: header does not fit");
    }
    AEGIS_RETURN_IF_ERROR(CheckRoom(buffer, *len, SrtpRtpOverhead(profile_), "protect rtp"));
    int n = static_cast<int>(*len);
    const srtp_err_status_t err = srtp_protect(session_, buffer.data(), &n);
    if (err != srtp_err_status_ok) return MapError(err, "protect rtp");
    *len = static_cast<size_t>(n);
    return Status::Ok();
  }

  Status UnprotectRtp(std::span<uint8_t> buffer, size_t* len) override {
    AEGIS_RETURN_IF_ERROR(CheckCall(Direction::kInbound, buffer, len, "unprotect rtp"));
    const size_t header = SrtpRtpHeaderLength(buffer, *len);
    if (header == 0 || header + SrtpTagLength(profile_) > *len) {
      return Status::Error(kBadLength, "unprotect rtp: shorter than header + tag");
    }
    int n = static_cast<int>(*len);
    const srtp_err_status_t err = srtp_unprotect(session_, buffer.data(), &n);
    if (err != srtp_err_status_ok) return Fail(buffer, *len, err, "unprotect rtp");
    *len = static_cast<size_t>(n);
    return Status::Ok();
  }

  Status ProtectRtcp(std::span<uint8_t> buffer, size_t* len) override {
    AEGIS_RETURN_IF_ERROR(CheckCall(Direction::kOutbound, buffer, len, "protect rtcp"));
    if (*len < kRtcpHeaderSize) {
      return Status::Error(kBadLength, "protect rtcp: shorter than 8 bytes");
    }
    AEGIS_RETURN_IF_ERROR(CheckRoom(buffer, *len, SrtpRtcpOverhead(profile_), "protect rtcp"));
    int n = static_cast<int>(*len);
    const srtp_err_status_t err = srtp_protect_rtcp(session_, buffer.data(), &n);
    if (err != srtp_err_status_ok) return MapError(err, "protect rtcp");
    *len = static_cast<size_t>(n);
    return Status::Ok();
  }

  Status UnprotectRtcp(std::span<uint8_t> buffer, size_t* len) override {
    AEGIS_RETURN_IF_ERROR(CheckCall(Direction::kInbound, buffer, len, "unprotect rtcp"));
    // RFC 3711 §3.4: header + sender SSRC, then E||index, then the tag. This
    // is the check whose absence let libsrtp's enc_octet_len underflow.
    if (*len < kRtcpHeaderSize + SrtpRtcpOverhead(profile_)) {
      return Status::Error(kBadLength, "unprotect rtcp: shorter than header + index + tag");
    }
    int n = static_cast<int>(*len);
    const srtp_err_status_t err = srtp_unprotect_rtcp(session_, buffer.data(), &n);
    if (err != srtp_err_status_ok) return Fail(buffer, *len, err, "unprotect rtcp");
    *len = static_cast<size_t>(n);
    return Status::Ok();
  }

  SrtpProfile profile() const override { return profile_; }
  Direction direction() const override { return direction_; }

 private:
  static Status CheckRoom(std::span<uint8_t> buffer, size_t len, size_t overhead,
                          const char* what) {
    if (buffer.size() - len < overhead) {
      return Status::Error(kNoRoom, std::string(what) + ": no room for the SRTP trailer");
    }
    return Status::Ok();
  }

  // An AEAD open may already have written unauthenticated plaintext into the
  // buffer; wipe it so a caller that ignores the Status forwards nothing.
  static Status Fail(std::span<uint8_t> buffer, size_t len, srtp_err_status_t err,
                     const char* what) {
    if (err == srtp_err_status_auth_fail) std::memset(buffer.data(), 0, len);
    return MapError(err, what);
  }

  // Passed by argument.
  const SrtpProfile profile_;
  const Direction direction_;
  // Allocated by this (srtp_create), released in the destructor.
  srtp_t session_;
};

void SetCryptoPolicy(SrtpProfile profile, srtp_crypto_policy_t* policy) {
  switch (profile) {
    case SrtpProfile::kAes128CmHmacSha1_80:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(policy);
      break;
    case SrtpProfile::kAeadAes128Gcm:
      srtp_crypto_policy_set_aes_gcm_128_16_auth(policy);
      break;
    case SrtpProfile::kAeadAes256Gcm:
      srtp_crypto_policy_set_aes_gcm_256_16_auth(policy);
      break;
  }
}

}  // namespace

Result<std::unique_ptr<SrtpSession>> CreateLibSrtpSession(SrtpProfile profile,
                                                          std::span<const uint8_t> key_and_salt,
                                                          SrtpSession::Direction direction) {
  using Direction = SrtpSession::Direction;
  constexpr const char* kInit = SrtpSession::kInit;
  AEGIS_RETURN_IF_ERROR(InitLibrary());
  if (key_and_salt.size() != SrtpKeyAndSaltLength(profile)) {
    return Status::Error(kInit, "key||salt is " + std::to_string(key_and_salt.size()) +
                                    " bytes, profile needs " +
                                    std::to_string(SrtpKeyAndSaltLength(profile)));
  }
  // libsrtp wants a mutable key pointer; it derives session keys from it in
  // srtp_create() and keeps no reference.
  std::array<uint8_t, 32 + 14> key{};
  std::memcpy(key.data(), key_and_salt.data(), key_and_salt.size());

  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof(policy));
  SetCryptoPolicy(profile, &policy.rtp);
  SetCryptoPolicy(profile, &policy.rtcp);
  policy.ssrc.type = direction == Direction::kInbound ? ssrc_any_inbound : ssrc_any_outbound;
  policy.ssrc.value = 0;
  policy.key = key.data();
  policy.window_size = kReplayWindow;
  policy.allow_repeat_tx = 1;  // NACK/RTX retransmit the same packet (RFC 4588)
  policy.next = nullptr;

  srtp_t session = nullptr;
  const srtp_err_status_t err = srtp_create(&session, &policy);
  OPENSSL_cleanse(key.data(), key.size());
  if (err != srtp_err_status_ok) {
    if (session != nullptr) srtp_dealloc(session);
    return Status::Error(kInit, "srtp_create failed: " + std::to_string(static_cast<int>(err)));
  }
  return std::unique_ptr<SrtpSession>(
      std::make_unique<LibsrtpSession>(profile, direction, session));
}

}  // namespace aegis::rtc
