// libFuzzer target for SRTP/SRTCP unprotect (FZ-01, SECURITY-CHECKS §1.4): one
// inbound session per profile with a fixed key unprotects arbitrary bytes as
// RTP and as RTCP. Nothing may crash or over-read (exact-size heap copies for
// ASan), and an accepted packet can only shrink. Inputs are capped at 1500
// bytes like the server (FZ-06). The first byte picks the profile.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "rtc/srtp/srtp_session.h"

namespace {

using aegis::rtc::SrtpProfile;
using aegis::rtc::SrtpSession;

void Check(bool condition) {
  if (!condition) std::abort();  // a broken SrtpSession promise, not bad input
}

std::unique_ptr<SrtpSession> MakeInbound(SrtpProfile profile) {
  std::vector<uint8_t> key(aegis::rtc::SrtpKeyAndSaltLength(profile));
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(0xA5 ^ i);
  auto s = SrtpSession::Create(profile, key, SrtpSession::Direction::kInbound);
  Check(s.ok());
  return std::move(s).value();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Sessions persist across inputs so replay state is exercised too.
  static std::unique_ptr<SrtpSession> sessions[3] = {MakeInbound(SrtpProfile::kAes128CmHmacSha1_80),
                                                     MakeInbound(SrtpProfile::kAeadAes128Gcm),
                                                     MakeInbound(SrtpProfile::kAeadAes256Gcm)};
  if (size == 0 || size > SrtpSession::kMaxPacketSize + 1) return 0;
  SrtpSession& session = *sessions[data[0] % 3];
  const size_t n = size - 1;

  std::vector<uint8_t> rtp(data + 1, data + size);
  size_t len = n;
  if (session.UnprotectRtp(rtp, &len).ok()) {
    Check(len < n);
  } else {
    Check(len == n);
  }

  std::vector<uint8_t> rtcp(data + 1, data + size);
  len = n;
  if (session.UnprotectRtcp(rtcp, &len).ok()) {
    Check(len < n);
  } else {
    Check(len == n);
  }
  return 0;
}
