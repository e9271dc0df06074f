// libFuzzer target for SRTP/SRTCP (FZ-01, SECURITY-CHECKS §1.4).
// 1. Robustness: one inbound session per profile (the product's EVP one,
//    SrtpSession::Create) with a fixed key unprotects arbitrary bytes as RTP
//    and as RTCP. Nothing may crash or over-read (exact-size heap copies for
//    ASan), and an accepted packet can only shrink.
// 2. Differential: the same bytes, when they form an RTP/RTCP packet (SSRC
//    folded onto four values), are protected by the EVP session and by the
//    libsrtp2 oracle; both must agree on the verdict and the protected
//    bytes, and both receivers on theirs and on the plaintext.
// Inputs are capped at 1500 bytes like the server (FZ-06). The first byte
// picks the profile.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "rtc/srtp/libsrtp_session.h"
#include "rtc/srtp/srtp_session.h"

namespace {

using aegis::rtc::SrtpProfile;
using aegis::rtc::SrtpSession;
using Dir = SrtpSession::Direction;

void Check(bool condition) {
  if (!condition) std::abort();  // a broken SrtpSession promise, not bad input
}

std::vector<uint8_t> Key(SrtpProfile profile) {
  std::vector<uint8_t> key(aegis::rtc::SrtpKeyAndSaltLength(profile));
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(0xA5 ^ i);
  return key;
}

std::unique_ptr<SrtpSession> MakeEvp(SrtpProfile profile, Dir dir) {
  auto s = SrtpSession::Create(profile, Key(profile), dir);
  Check(s.ok());
  return std::move(s).value();
}

std::unique_ptr<SrtpSession> MakeLibsrtp(SrtpProfile profile, Dir dir) {
  auto s = aegis::rtc::CreateLibSrtpSession(profile, Key(profile), dir);
  Check(s.ok());
  return std::move(s).value();
}

struct Differential {
  std::unique_ptr<SrtpSession> evp_out, lib_out, evp_in, lib_in;
  explicit Differential(SrtpProfile p)
      : evp_out(MakeEvp(p, Dir::kOutbound)),
        lib_out(MakeLibsrtp(p, Dir::kOutbound)),
        evp_in(MakeEvp(p, Dir::kInbound)),
        lib_in(MakeLibsrtp(p, Dir::kInbound)) {}
};

using Call = aegis::Status (SrtpSession::*)(std::span<uint8_t>, size_t*);

// Protects `input` with both senders and unprotects with both receivers.
// The SSRC at `ssrc_at` is folded onto four values: EVP's per-SSRC table
// evicts beyond 1024 SSRCs (libsrtp grows without bound), a documented
// difference this comparison is not about.
void CompareBoth(Differential& d, Call protect, Call unprotect, const uint8_t* input, size_t n,
                 size_t ssrc_at) {
  std::vector<uint8_t> plain(input, input + n);
  if (n >= ssrc_at + 4) {
    const uint8_t fold = static_cast<uint8_t>(plain[ssrc_at + 3] & 3);
    plain[ssrc_at] = 0x50;
    plain[ssrc_at + 1] = 0;
    plain[ssrc_at + 2] = 0;
    plain[ssrc_at + 3] = fold;
  }
  std::vector<uint8_t> a = plain;
  std::vector<uint8_t> b = plain;
  a.resize(n + SrtpSession::kMaxRtcpOverhead);
  b.resize(n + SrtpSession::kMaxRtcpOverhead);
  size_t len_a = n;
  size_t len_b = n;
  const aegis::Status sa = (d.evp_out.get()->*protect)(a, &len_a);
  const aegis::Status sb = (d.lib_out.get()->*protect)(b, &len_b);
  Check(sa.code() == sb.code());
  if (!sa.ok()) return;
  Check(len_a == len_b && std::memcmp(a.data(), b.data(), len_a) == 0);
  a.resize(len_a);
  b.resize(len_b);
  const aegis::Status ua = (d.evp_in.get()->*unprotect)(a, &len_a);
  const aegis::Status ub = (d.lib_in.get()->*unprotect)(b, &len_b);
  Check(ua.code() == ub.code());
  if (ua.ok()) {
    Check(len_a == n && std::memcmp(a.data(), plain.data(), n) == 0);
    Check(len_b == n && std::memcmp(b.data(), plain.data(), n) == 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Sessions persist across inputs so replay state is exercised too.
  static std::unique_ptr<SrtpSession> sessions[3] = {
      MakeEvp(SrtpProfile::kAes128CmHmacSha1_80, Dir::kInbound),
      MakeEvp(SrtpProfile::kAeadAes128Gcm, Dir::kInbound),
      MakeEvp(SrtpProfile::kAeadAes256Gcm, Dir::kInbound)};
  static Differential differential[3] = {Differential(SrtpProfile::kAes128CmHmacSha1_80),
                                         Differential(SrtpProfile::kAeadAes128Gcm),
                                         Differential(SrtpProfile::kAeadAes256Gcm)};
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

  Differential& d = differential[data[0] % 3];
  CompareBoth(d, &SrtpSession::ProtectRtp, &SrtpSession::UnprotectRtp, data + 1, n, 8);
  CompareBoth(d, &SrtpSession::ProtectRtcp, &SrtpSession::UnprotectRtcp, data + 1, n, 4);
  return 0;
}
