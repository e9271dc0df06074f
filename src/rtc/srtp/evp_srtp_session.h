// The product SrtpSession on OpenSSL 3 EVP (RFC 3711 AES-CM + HMAC-SHA1-80,
// RFC 7714 AEAD AES-GCM), returned by SrtpSession::Create(). This header
// only adds the entry point that takes already-derived session keys, which
// RFC 7714 §16/§17 vectors need (they publish session keys, no master key);
// product code keys sessions through SrtpSession::Create(). Key bytes are
// copied into EVP key schedules and not retained. Same threading and
// ownership rules as SrtpSession.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "core/status.h"
#include "rtc/srtp/srtp_session.h"

namespace aegis::rtc {

// Session keys of one of SRTP or SRTCP (RFC 3711 §4.3). `cipher_key` is
// SrtpMasterKeyLength(profile) bytes, `salt` 14 (AES-CM) or 12 (GCM)
// bytes, `auth_key` 20 bytes for HMAC-SHA1 and empty for GCM.
struct SrtpSessionKeys {
  std::span<const uint8_t> cipher_key;
  std::span<const uint8_t> salt;
  std::span<const uint8_t> auth_key;
};

// Wrong lengths are kInit. Otherwise identical to a session from Create().
Result<std::unique_ptr<SrtpSession>> CreateEvpSrtpSession(SrtpProfile profile,
                                                          const SrtpSessionKeys& rtp,
                                                          const SrtpSessionKeys& rtcp,
                                                          SrtpSession::Direction direction);

}  // namespace aegis::rtc
