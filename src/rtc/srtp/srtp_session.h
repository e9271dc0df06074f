// SrtpSession: SRTP/SRTCP protection for one direction of one DTLS-SRTP
// association (RFC 3711, AEAD per RFC 7714), keyed once at creation from the
// RFC 5764 exported key||salt. Every call works in place on a caller-owned
// buffer and never allocates per packet; input to Unprotect*() is untrusted
// and every length is checked before any crypto runs. Owned by one media
// worker; not thread-safe (distinct sessions may be used on distinct threads).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "core/status.h"

namespace aegis::rtc {

enum class SrtpProfile : uint8_t {
  kAes128CmHmacSha1_80,  // SRTP_AES128_CM_HMAC_SHA1_80 (RFC 5764 §4.1.2)
  kAeadAes128Gcm,        // SRTP_AEAD_AES_128_GCM (RFC 7714 §14.2)
  kAeadAes256Gcm,        // SRTP_AEAD_AES_256_GCM (RFC 7714 §14.2)
};

// Master key and master salt lengths in bytes; the Create() input is key||salt.
constexpr size_t SrtpMasterKeyLength(SrtpProfile p) {
  return p == SrtpProfile::kAeadAes256Gcm ? 32 : 16;
}
constexpr size_t SrtpMasterSaltLength(SrtpProfile p) {
  return p == SrtpProfile::kAes128CmHmacSha1_80 ? 14 : 12;
}
constexpr size_t SrtpKeyAndSaltLength(SrtpProfile p) {
  return SrtpMasterKeyLength(p) + SrtpMasterSaltLength(p);
}
// Authentication tag appended to every SRTP and SRTCP packet: 80-bit HMAC
// (RFC 3711 §5.2) or the 16-byte GCM tag (RFC 7714 §7.2).
constexpr size_t SrtpTagLength(SrtpProfile p) {
  return p == SrtpProfile::kAes128CmHmacSha1_80 ? 10 : 16;
}
// Exact bytes ProtectRtp()/ProtectRtcp() add for a profile (no MKI is used).
constexpr size_t SrtpRtpOverhead(SrtpProfile p) { return SrtpTagLength(p); }
constexpr size_t SrtpRtcpOverhead(SrtpProfile p) {
  return 4 + SrtpTagLength(p);  // E-flag + 31-bit SRTCP index, then the tag
}

// The part of an RTP packet SRTP leaves in clear (RFC 3711 §3.1): fixed
// header, CSRCs and the RFC 3550 §5.3.1 extension; 0 when it does not fit
// in the first `len` bytes of `packet`. Shared by both implementations.
size_t SrtpRtpHeaderLength(std::span<const uint8_t> packet, size_t len);

class SrtpSession {
 public:
  enum class Direction : uint8_t { kInbound, kOutbound };

  // Largest packet any call accepts as input (FZ-06); larger ones get
  // srtp_bad_length before any crypto runs.
  static constexpr size_t kMaxPacketSize = 1500;
  // Worst-case growth of Protect*() over all profiles. A caller sizing
  // buffers as packet + kMaxRtcpOverhead never sees srtp_no_room.
  static constexpr size_t kMaxRtpOverhead = 16;
  static constexpr size_t kMaxRtcpOverhead = 20;
  static constexpr size_t kRtpHeaderSize = 12;  // RFC 3550 §5.1 fixed header
  static constexpr size_t kRtcpHeaderSize = 8;  // header + sender SSRC

  // Error codes (Status::code()), stable for logs and counters (MX-05).
  static constexpr const char* kAuthFailed = "srtp_auth_failed";  // tag mismatch: drop
  static constexpr const char* kReplay = "srtp_replay";           // index seen or too old
  static constexpr const char* kBadLength = "srtp_bad_length";    // too short/long, bad header
  static constexpr const char* kNoRoom = "srtp_no_room";          // buffer lacks overhead room
  static constexpr const char* kInit = "srtp_init";               // bad key, library failure
  static constexpr const char* kWrongDirection = "srtp_wrong_direction";

  // `key_and_salt` must be exactly SrtpKeyAndSaltLength(profile) bytes; it is
  // copied into the library's key schedule and not retained. An inbound
  // session accepts only Unprotect*(), an outbound one only Protect*().
  // Returns the OpenSSL EVP implementation (evp_srtp_session.h); libsrtp2
  // is only a test oracle (libsrtp_session.h).
  static Result<std::unique_ptr<SrtpSession>> Create(SrtpProfile profile,
                                                     std::span<const uint8_t> key_and_salt,
                                                     Direction direction);

  virtual ~SrtpSession() = default;
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;

  // `buffer` is the whole writable storage; `*len` is the packet length in
  // it on input and the protected/unprotected length on success. On any
  // error `*len` is unchanged and the buffer content must not be forwarded
  // (Unprotect may have decrypted into it before the check failed for AEAD;
  // libsrtp authenticates first, but callers must not rely on that).
  // Protect*() needs buffer.size() >= *len + Srtp{Rtp,Rtcp}Overhead(profile).
  // Retransmitting a sequence number already protected is allowed (RTX/NACK
  // resend the same payload, RFC 4588), so it is not a replay on this side;
  // an index 1024 or more behind the newest one protected is kReplay (it
  // could only reuse a keystream). Inbound, the RTP replay window is 1024
  // packets and the SRTCP one 128.
  virtual Status ProtectRtp(std::span<uint8_t> buffer, size_t* len) = 0;
  virtual Status UnprotectRtp(std::span<uint8_t> buffer, size_t* len) = 0;
  virtual Status ProtectRtcp(std::span<uint8_t> buffer, size_t* len) = 0;
  virtual Status UnprotectRtcp(std::span<uint8_t> buffer, size_t* len) = 0;

  virtual SrtpProfile profile() const = 0;
  virtual Direction direction() const = 0;

 protected:
  SrtpSession() = default;

  // The checks every call starts with, before any crypto: the session's
  // direction is `wanted`, and `*len` fits both `buffer` and kMaxPacketSize.
  // Errors: kWrongDirection, kBadLength (message prefixed with `what`).
  Status CheckCall(Direction wanted, std::span<uint8_t> buffer, const size_t* len,
                   const char* what) const;
};

}  // namespace aegis::rtc
