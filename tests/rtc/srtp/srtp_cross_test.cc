// The EVP SrtpSession against the libsrtp2 oracle, packet for packet, for
// every profile: the same plaintexts protected in the same order must give
// byte-identical SRTP/SRTCP, and each side's receiver must accept, reject
// and recover exactly what the other side's does. Packets carry CSRCs and
// header extensions, payloads of 0..1200 bytes, sequence numbers that wrap
// (ROC 0 -> 1) and jump, sender-side reordering and retransmission,
// receiver-side reordering and duplicates. Deterministic (fixed seeds).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "srtp_test_util.h"

namespace aegis::rtc {
namespace {

using Bytes = std::vector<uint8_t>;
using Dir = SrtpSession::Direction;

struct Sessions {
  std::unique_ptr<SrtpSession> evp_out;
  std::unique_ptr<SrtpSession> lib_out;
  std::unique_ptr<SrtpSession> evp_in;
  std::unique_ptr<SrtpSession> lib_in;
};

std::unique_ptr<SrtpSession> Make(const srtp_test::SrtpImpl& impl, SrtpProfile profile,
                                  const Bytes& key, Dir dir) {
  Result<std::unique_ptr<SrtpSession>> s = impl.create(profile, key, dir);
  EXPECT_TRUE(s.ok()) << impl.name << ": " << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

Sessions MakeSessions(SrtpProfile profile, uint8_t seed) {
  const Bytes key = srtp_test::TestKey(profile, seed);
  return {Make(srtp_test::kEvp, profile, key, Dir::kOutbound),
          Make(srtp_test::kLibsrtp, profile, key, Dir::kOutbound),
          Make(srtp_test::kEvp, profile, key, Dir::kInbound),
          Make(srtp_test::kLibsrtp, profile, key, Dir::kInbound)};
}

uint8_t Byte(std::mt19937& rng) { return static_cast<uint8_t>(rng()); }

// An RTP packet with random CSRCs (0-3), an optional one- or two-byte
// header extension block of 0-4 words, and `payload` random bytes.
Bytes RandomRtp(std::mt19937& rng, uint16_t seq, uint32_t ssrc, size_t payload) {
  const uint8_t csrcs = static_cast<uint8_t>(rng() % 4);
  const bool extension = rng() % 2 == 0;
  Bytes p = {static_cast<uint8_t>(0x80 | (extension ? 0x10 : 0) | csrcs),
             static_cast<uint8_t>(rng() % 2 == 0 ? 111 : 0x80 | 96),
             static_cast<uint8_t>(seq >> 8),
             static_cast<uint8_t>(seq),
             Byte(rng),
             Byte(rng),
             Byte(rng),
             Byte(rng),
             static_cast<uint8_t>(ssrc >> 24),
             static_cast<uint8_t>(ssrc >> 16),
             static_cast<uint8_t>(ssrc >> 8),
             static_cast<uint8_t>(ssrc)};
  for (int i = 0; i < 4 * csrcs; ++i) p.push_back(Byte(rng));
  if (extension) {
    const uint8_t words = static_cast<uint8_t>(rng() % 5);
    const bool two_byte = rng() % 2 == 0;
    p.insert(p.end(), {two_byte ? uint8_t{0x10} : uint8_t{0xBE},
                       two_byte ? uint8_t{0x00} : uint8_t{0xDE}, 0, words});
    for (int i = 0; i < 4 * words; ++i) p.push_back(Byte(rng));
  }
  for (size_t i = 0; i < payload; ++i) p.push_back(Byte(rng));
  return p;
}

// An RTCP-shaped packet of `size` >= 8 bytes (header, sender SSRC, body).
Bytes RandomRtcp(std::mt19937& rng, uint32_t ssrc, size_t size) {
  Bytes p = {0x80,
             static_cast<uint8_t>(200 + rng() % 7),
             static_cast<uint8_t>(((size / 4) - 1) >> 8),
             static_cast<uint8_t>((size / 4) - 1),
             static_cast<uint8_t>(ssrc >> 24),
             static_cast<uint8_t>(ssrc >> 16),
             static_cast<uint8_t>(ssrc >> 8),
             static_cast<uint8_t>(ssrc)};
  while (p.size() < size) p.push_back(Byte(rng));
  return p;
}

// Moves every element by at most `distance` places.
template <typename T>
void LocalShuffle(std::mt19937& rng, std::vector<T>* v, size_t distance) {
  for (size_t i = 0; i + 1 < v->size(); ++i) {
    const size_t j = std::min(v->size() - 1, i + rng() % (distance + 1));
    std::swap((*v)[i], (*v)[j]);
  }
}

struct Sent {
  uint32_t ssrc;
  uint16_t seq;
  Bytes plain;
  Bytes wire;  // identical for both implementations (checked)
};

using Protect = Status (SrtpSession::*)(std::span<uint8_t>, size_t*);

// Protects `plain` with both senders; the outputs must be byte-identical
// and the Status codes equal (`*code` gets it when not null).
Bytes ProtectWithBoth(Sessions& s, Protect protect, const Bytes& plain, const std::string& what,
                      std::string* code = nullptr) {
  Bytes a = plain;
  Bytes b = plain;
  a.resize(plain.size() + SrtpSession::kMaxRtcpOverhead);
  b.resize(plain.size() + SrtpSession::kMaxRtcpOverhead);
  size_t len_a = plain.size();
  size_t len_b = plain.size();
  const Status sa = (s.evp_out.get()->*protect)(a, &len_a);
  const Status sb = (s.lib_out.get()->*protect)(b, &len_b);
  EXPECT_EQ(sa.code(), sb.code()) << what << ": " << sa.ToString() << " vs " << sb.ToString();
  if (code != nullptr) *code = sa.code();
  if (!sa.ok() || !sb.ok()) return {};
  a.resize(len_a);
  b.resize(len_b);
  EXPECT_EQ(a, b) << what << ": protected bytes differ";
  return a;
}

// Delivers `wire` to both receivers; both must agree, and an accepted
// packet must come back as `plain`. Returns the (common) Status code.
std::string UnprotectWithBoth(Sessions& s, Protect unprotect, const Bytes& wire, const Bytes& plain,
                              const std::string& what) {
  Bytes a = wire;
  Bytes b = wire;
  size_t len_a = a.size();
  size_t len_b = b.size();
  const Status sa = (s.evp_in.get()->*unprotect)(a, &len_a);
  const Status sb = (s.lib_in.get()->*unprotect)(b, &len_b);
  EXPECT_EQ(sa.code(), sb.code()) << what << ": " << sa.ToString() << " vs " << sb.ToString();
  if (sa.ok()) {
    a.resize(len_a);
    EXPECT_EQ(a, plain) << what << ": EVP recovered other bytes";
  }
  if (sb.ok()) {
    b.resize(len_b);
    EXPECT_EQ(b, plain) << what << ": libsrtp recovered other bytes";
  }
  return sa.code();
}

class SrtpCrossTest : public testing::TestWithParam<SrtpProfile> {};

TEST_P(SrtpCrossTest, RtpBothWaysAcrossWrapReorderAndRetransmission) {
  Sessions s = MakeSessions(GetParam(), 0x5A);
  ASSERT_TRUE(s.evp_out && s.lib_out && s.evp_in && s.lib_in);
  std::mt19937 rng(20240611u + static_cast<unsigned>(GetParam()));

  // Three streams: 250 consecutive numbers, a jump of 1000, 250 more; the
  // bases put the ROC 0 -> 1 wrap in the first run, in the jump, and in the
  // second run. (Jumps beyond the window: RtpJumpsInOrder.)
  const uint32_t ssrcs[] = {0x11111111, 0x22222222, 0xCAFEBABE};
  const uint32_t bases[] = {65536 - 150, 65536 - 1100, 65536 - 1300};
  std::vector<std::vector<uint16_t>> streams(3);
  for (size_t k = 0; k < 3; ++k) {
    for (uint32_t i = 0; i < 500; ++i) {
      streams[k].push_back(static_cast<uint16_t>(bases[k] + (i < 250 ? i : 1000 + i)));
    }
  }
  // Interleave the streams, keeping each one's order, then reorder a little
  // on the sending side (an SFU forwards what arrives reordered).
  std::vector<std::pair<uint32_t, uint16_t>> order;
  std::vector<size_t> next(3, 0);
  while (order.size() < 1500) {
    const size_t k = rng() % 3;
    if (next[k] < streams[k].size()) order.emplace_back(ssrcs[k], streams[k][next[k]++]);
  }
  LocalShuffle(rng, &order, 6);

  std::map<std::pair<uint32_t, uint16_t>, Bytes> plains;
  std::vector<Sent> sent;
  size_t n = 0;
  for (const auto& [ssrc, seq] : order) {
    const size_t payload = n % 97 == 0 ? 0 : n % 89 == 0 ? 1200 : rng() % 1201;
    ++n;
    Bytes plain = RandomRtp(rng, seq, ssrc, payload);
    const std::string what = "rtp ssrc " + std::to_string(ssrc) + " seq " + std::to_string(seq);
    std::string code;
    Bytes wire = ProtectWithBoth(s, &SrtpSession::ProtectRtp, plain, what, &code);
    ASSERT_FALSE(wire.empty()) << what << ": " << code;
    plains[{ssrc, seq}] = plain;
    sent.push_back({ssrc, seq, plain, wire});
    // NACK: now and then the sender retransmits a recent packet unchanged.
    if (rng() % 10 == 0 && sent.size() > 20) {
      const Sent old = sent[sent.size() - 1 - rng() % 20];
      const Bytes again = ProtectWithBoth(s, &SrtpSession::ProtectRtp, old.plain, what + " rtx");
      EXPECT_EQ(again, old.wire) << "retransmission reuses the same keystream and tag";
      sent.push_back({old.ssrc, old.seq, old.plain, again});
    }
  }

  // Receivers see another local reordering plus duplicates.
  LocalShuffle(rng, &sent, 10);
  std::map<std::pair<uint32_t, uint16_t>, int> seen;
  size_t accepted = 0;
  for (const Sent& p : sent) {
    const std::string what =
        "deliver ssrc " + std::to_string(p.ssrc) + " seq " + std::to_string(p.seq);
    const std::string code =
        UnprotectWithBoth(s, &SrtpSession::UnprotectRtp, p.wire, p.plain, what);
    const bool first = seen[{p.ssrc, p.seq}]++ == 0;
    EXPECT_EQ(code, first ? "" : "srtp_replay") << what;
    accepted += code.empty();
  }
  EXPECT_EQ(accepted, plains.size());
}

// Jumps of up to half the sequence space, in order, through two wraps, and
// late packets from before each jump: both senders and both receivers agree
// on every index (RFC 3711 Appendix A guesses) and every verdict.
TEST_P(SrtpCrossTest, RtpJumpsInOrder) {
  Sessions s = MakeSessions(GetParam(), 0x21);
  ASSERT_TRUE(s.evp_out && s.lib_out && s.evp_in && s.lib_in);
  std::mt19937 rng(5);
  const uint32_t starts[] = {0, 30000, 60000, 25000, 55000, 20000, 100, 50000};
  std::vector<Sent> sent;
  for (uint32_t start : starts) {
    for (uint32_t i = 0; i < 40; ++i) {
      const uint16_t seq = static_cast<uint16_t>(start + i);
      const Bytes plain = RandomRtp(rng, seq, 0x777, rng() % 200);
      std::string code;
      const Bytes wire = ProtectWithBoth(s, &SrtpSession::ProtectRtp, plain,
                                         "jump seq " + std::to_string(seq), &code);
      if (!code.empty()) continue;  // both refused alike (checked inside)
      sent.push_back({0x777, seq, plain, wire});
    }
  }
  size_t accepted = 0;
  for (size_t i = 0; i < sent.size(); ++i) {
    accepted += UnprotectWithBoth(s, &SrtpSession::UnprotectRtp, sent[i].wire, sent[i].plain,
                                  "jump delivery " + std::to_string(sent[i].seq))
                    .empty();
    if (i >= 45) {  // a late packet from before the previous jump
      UnprotectWithBoth(s, &SrtpSession::UnprotectRtp, sent[i - 45].wire, sent[i - 45].plain,
                        "late " + std::to_string(sent[i - 45].seq));
    }
  }
  EXPECT_EQ(accepted, sent.size());
}

TEST_P(SrtpCrossTest, RtcpBothWaysWithReorderAndDuplicates) {
  Sessions s = MakeSessions(GetParam(), 0x3C);
  ASSERT_TRUE(s.evp_out && s.lib_out && s.evp_in && s.lib_in);
  std::mt19937 rng(77u + static_cast<unsigned>(GetParam()));
  const uint32_t ssrcs[] = {1, 0xDEADBEEF, 0x01020304};
  std::vector<Sent> sent;
  for (int i = 0; i < 600; ++i) {
    const uint32_t ssrc = ssrcs[rng() % 3];
    const size_t size = i == 0 ? 8 : 8 + 4 * (rng() % 300);
    const Bytes plain = RandomRtcp(rng, ssrc, size);
    const Bytes wire =
        ProtectWithBoth(s, &SrtpSession::ProtectRtcp, plain, "rtcp " + std::to_string(i));
    ASSERT_FALSE(wire.empty());
    sent.push_back({ssrc, 0, plain, wire});
    if (rng() % 8 == 0) sent.push_back(sent.back());  // duplicated on the path
  }
  LocalShuffle(rng, &sent, 10);
  std::map<Bytes, int> seen;
  for (size_t i = 0; i < sent.size(); ++i) {
    const std::string code = UnprotectWithBoth(s, &SrtpSession::UnprotectRtcp, sent[i].wire,
                                               sent[i].plain, "rtcp delivery " + std::to_string(i));
    EXPECT_EQ(code, seen[sent[i].wire]++ == 0 ? "" : "srtp_replay") << i;
  }
}

// Tampering is rejected the same way by both receivers.
TEST_P(SrtpCrossTest, TamperedPacketsRejectedAlike) {
  Sessions s = MakeSessions(GetParam(), 0x77);
  ASSERT_TRUE(s.evp_out && s.lib_out && s.evp_in && s.lib_in);
  std::mt19937 rng(99);
  for (int i = 0; i < 200; ++i) {
    const Bytes plain = RandomRtp(rng, static_cast<uint16_t>(100 + i), 0xABCD, rng() % 300);
    const Bytes wire = ProtectWithBoth(s, &SrtpSession::ProtectRtp, plain, "tamper");
    Bytes bad = wire;
    bad[rng() % bad.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    // A flip in the sequence number may turn into a replay verdict; either
    // way both must agree and neither may deliver.
    const std::string code = UnprotectWithBoth(s, &SrtpSession::UnprotectRtp, bad, plain, "bad");
    EXPECT_FALSE(code.empty());
    const Bytes rtcp_plain = RandomRtcp(rng, 0xABCD, 8 + 4 * (rng() % 20));
    const Bytes rtcp = ProtectWithBoth(s, &SrtpSession::ProtectRtcp, rtcp_plain, "tamper rtcp");
    Bytes bad_rtcp = rtcp;
    const size_t at = rng() % bad_rtcp.size();
    int bit = static_cast<int>(rng() % 8);
    // Clearing the AES-CM E flag is a policy mismatch to libsrtp (a
    // different code) and an authentication failure to EVP; both drop it.
    const bool cm = GetParam() == SrtpProfile::kAes128CmHmacSha1_80;
    if (cm && at == rtcp.size() - 14 && bit == 7) bit = 6;
    bad_rtcp[at] ^= static_cast<uint8_t>(1u << bit);
    EXPECT_FALSE(UnprotectWithBoth(s, &SrtpSession::UnprotectRtcp, bad_rtcp, rtcp_plain, "bad rtcp")
                     .empty());
  }
}

INSTANTIATE_TEST_SUITE_P(AllProfiles, SrtpCrossTest, testing::ValuesIn(srtp_test::kProfiles),
                         [](const testing::TestParamInfo<SrtpProfile>& info) {
                           return srtp_test::ProfileName(info.param);
                         });

}  // namespace
}  // namespace aegis::rtc
