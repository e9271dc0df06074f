// SrtpSession on Debian's libsrtp2 (NSS-backed), kept only as the test
// oracle and benchmark baseline that the product's OpenSSL EVP
// implementation (SrtpSession::Create) is checked against packet for packet
// (DESIGN.md "SRTP"). Product code must not call this. Same contract,
// ownership and threading rules as SrtpSession; replay window 1024 packets,
// retransmission of an already protected RTP index allowed.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "core/status.h"
#include "rtc/srtp/srtp_session.h"

namespace aegis::rtc {

Result<std::unique_ptr<SrtpSession>> CreateLibSrtpSession(SrtpProfile profile,
                                                          std::span<const uint8_t> key_and_salt,
                                                          SrtpSession::Direction direction);

}  // namespace aegis::rtc
