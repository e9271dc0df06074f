// SrtpSession behaviour for every profile, on the EVP implementation and on
// the libsrtp2 oracle alike: round trips with the documented overhead,
// tamper/replay/wrong-key rejection (MX-05), replay-window edges, per-SSRC
// state, retransmission on the sending side, and every truncation of a
// protected packet rejected without a crash (SECURITY-CHECKS §1.4, libsrtp
// SRTCP length underflow).
#include "rtc/srtp/srtp_session.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "srtp_test_util.h"

namespace aegis::rtc {
namespace {

using srtp_test::MakeRtcp;
using srtp_test::MakeRtp;
using srtp_test::SrtpImpl;
using srtp_test::TestKey;
using Dir = SrtpSession::Direction;

// Every test runs against the product's EVP implementation and against the
// libsrtp2 oracle, for every profile: the two must behave the same.
struct ImplAndProfile {
  SrtpImpl impl;
  SrtpProfile profile;
};

std::vector<ImplAndProfile> AllCombinations() {
  std::vector<ImplAndProfile> all;
  for (const SrtpImpl& impl : srtp_test::kImpls) {
    for (SrtpProfile profile : srtp_test::kProfiles) all.push_back({impl, profile});
  }
  return all;
}

std::string ParamName(const testing::TestParamInfo<ImplAndProfile>& info) {
  return std::string(info.param.impl.name) + "_" + srtp_test::ProfileName(info.param.profile);
}

class SrtpSessionTest : public testing::TestWithParam<ImplAndProfile> {
 protected:
  void SetUp() override {
    out_ = MustCreate(profile(), Dir::kOutbound);
    in_ = MustCreate(profile(), Dir::kInbound);
    ASSERT_NE(out_, nullptr);
    ASSERT_NE(in_, nullptr);
  }

  SrtpProfile profile() const { return GetParam().profile; }
  Result<std::unique_ptr<SrtpSession>> Create(SrtpProfile profile, std::span<const uint8_t> key,
                                              Dir dir) const {
    return GetParam().impl.create(profile, key, dir);
  }
  std::unique_ptr<SrtpSession> MustCreate(SrtpProfile profile, Dir dir, uint8_t seed = 0) const {
    const std::vector<uint8_t> key = TestKey(profile, seed);
    Result<std::unique_ptr<SrtpSession>> s = Create(profile, key, dir);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  // A protected RTP packet, trimmed to its exact length.
  std::vector<uint8_t> ProtectedRtp(uint16_t seq, uint32_t ssrc = 0x11223344,
                                    size_t payload = 100) {
    size_t len = 0;
    std::vector<uint8_t> p = MakeRtp(seq, ssrc, payload, &len);
    EXPECT_TRUE(out_->ProtectRtp(p, &len).ok());
    p.resize(len);
    return p;
  }
  std::vector<uint8_t> ProtectedRtcp(uint32_t ssrc = 0x11223344) {
    size_t len = 0;
    std::vector<uint8_t> p = MakeRtcp(ssrc, &len);
    EXPECT_TRUE(out_->ProtectRtcp(p, &len).ok());
    p.resize(len);
    return p;
  }
  // Unprotects a copy of `packet`; the Status code ("" when accepted).
  std::string UnprotectRtpCode(const std::vector<uint8_t>& packet) {
    std::vector<uint8_t> copy = packet;
    size_t len = copy.size();
    return in_->UnprotectRtp(copy, &len).code();
  }

  std::unique_ptr<SrtpSession> out_;
  std::unique_ptr<SrtpSession> in_;
};

TEST(SrtpProfileTest, KeyAndSaltLengths) {
  EXPECT_EQ(SrtpKeyAndSaltLength(SrtpProfile::kAes128CmHmacSha1_80), 30u);
  EXPECT_EQ(SrtpKeyAndSaltLength(SrtpProfile::kAeadAes128Gcm), 28u);
  EXPECT_EQ(SrtpKeyAndSaltLength(SrtpProfile::kAeadAes256Gcm), 44u);
  EXPECT_EQ(SrtpRtpOverhead(SrtpProfile::kAes128CmHmacSha1_80), 10u);
  EXPECT_EQ(SrtpRtcpOverhead(SrtpProfile::kAes128CmHmacSha1_80), 14u);
  EXPECT_EQ(SrtpRtpOverhead(SrtpProfile::kAeadAes256Gcm), 16u);
  EXPECT_EQ(SrtpRtcpOverhead(SrtpProfile::kAeadAes128Gcm), 20u);
  for (SrtpProfile p : {SrtpProfile::kAes128CmHmacSha1_80, SrtpProfile::kAeadAes128Gcm,
                        SrtpProfile::kAeadAes256Gcm}) {
    EXPECT_LE(SrtpRtpOverhead(p), SrtpSession::kMaxRtpOverhead);
    EXPECT_LE(SrtpRtcpOverhead(p), SrtpSession::kMaxRtcpOverhead);
  }
}

TEST_P(SrtpSessionTest, RejectsWrongKeyLength) {
  std::vector<uint8_t> key = TestKey(profile());
  key.pop_back();
  Result<std::unique_ptr<SrtpSession>> s = Create(profile(), key, Dir::kInbound);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), "srtp_init");
  key.resize(key.size() + 2);
  s = Create(profile(), key, Dir::kOutbound);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), "srtp_init");
  EXPECT_FALSE(Create(profile(), {}, Dir::kOutbound).ok());
}

TEST_P(SrtpSessionTest, RtpRoundTrip) {
  for (size_t payload : {size_t{0}, size_t{1}, size_t{15}, size_t{16}, size_t{17}, size_t{1000}}) {
    const uint16_t seq = static_cast<uint16_t>(1000 + payload);
    size_t len = 0;
    std::vector<uint8_t> p = MakeRtp(seq, 0xCAFEBABE, payload, &len);
    const std::vector<uint8_t> plain(p.begin(), p.begin() + static_cast<long>(len));
    ASSERT_TRUE(out_->ProtectRtp(p, &len).ok());
    EXPECT_EQ(len, plain.size() + SrtpRtpOverhead(profile()));
    EXPECT_EQ(0, std::memcmp(p.data(), plain.data(), 12)) << "header stays clear";
    if (payload >= 16) {
      EXPECT_NE(0, std::memcmp(p.data() + 12, plain.data() + 12, payload)) << "payload encrypted";
    }
    ASSERT_TRUE(in_->UnprotectRtp(p, &len).ok());
    ASSERT_EQ(len, plain.size());
    EXPECT_EQ(0, std::memcmp(p.data(), plain.data(), len));
  }
}

TEST_P(SrtpSessionTest, RtpWithCsrcAndExtensionRoundTrip) {
  // V=2, X=1, CC=2; two CSRCs, one-byte extension block of one word.
  std::vector<uint8_t> p = {0x92, 0x60, 0x00, 0x07, 0,    0,    0,    9,   0xAA, 0xBB,
                            0xCC, 0xDD, 0,    0,    0,    1,    0,    0,   0,    2,
                            0xBE, 0xDE, 0x00, 0x01, 0x10, 0x42, 0x00, 0x00};
  for (int i = 0; i < 40; ++i) p.push_back(static_cast<uint8_t>(i));
  const std::vector<uint8_t> plain = p;
  size_t len = p.size();
  p.resize(p.size() + SrtpSession::kMaxRtpOverhead);
  ASSERT_TRUE(out_->ProtectRtp(p, &len).ok());
  EXPECT_EQ(0, std::memcmp(p.data(), plain.data(), 28)) << "CSRCs and extension stay clear";
  ASSERT_TRUE(in_->UnprotectRtp(p, &len).ok());
  ASSERT_EQ(len, plain.size());
  EXPECT_EQ(0, std::memcmp(p.data(), plain.data(), len));
}

TEST_P(SrtpSessionTest, RtcpRoundTrip) {
  for (int i = 0; i < 3; ++i) {
    size_t len = 0;
    std::vector<uint8_t> p = MakeRtcp(0x01020304, &len);
    const std::vector<uint8_t> plain(p.begin(), p.begin() + static_cast<long>(len));
    ASSERT_TRUE(out_->ProtectRtcp(p, &len).ok());
    EXPECT_EQ(len, plain.size() + SrtpRtcpOverhead(profile()));
    EXPECT_EQ(0, std::memcmp(p.data(), plain.data(), 8)) << "first header and SSRC stay clear";
    EXPECT_NE(0, std::memcmp(p.data() + 8, plain.data() + 8, plain.size() - 8));
    // RFC 3711 §3.4 puts E||index before the tag; RFC 7714 §17 puts it after.
    const size_t e_at = profile() == SrtpProfile::kAes128CmHmacSha1_80 ? plain.size() : len - 4;
    EXPECT_EQ(p[e_at] & 0x80, 0x80) << "E flag set";
    ASSERT_TRUE(in_->UnprotectRtcp(p, &len).ok());
    ASSERT_EQ(len, plain.size());
    EXPECT_EQ(0, std::memcmp(p.data(), plain.data(), len));
  }
}

TEST_P(SrtpSessionTest, MinimalRtcpRoundTrip) {
  // Just header + sender SSRC: the smallest RTCP packet protect accepts.
  std::vector<uint8_t> p = {0x80, 201, 0x00, 0x01, 1, 2, 3, 4};
  const std::vector<uint8_t> plain = p;
  size_t len = p.size();
  p.resize(len + SrtpSession::kMaxRtcpOverhead);
  ASSERT_TRUE(out_->ProtectRtcp(p, &len).ok());
  EXPECT_EQ(len, 8 + SrtpRtcpOverhead(profile()));
  ASSERT_TRUE(in_->UnprotectRtcp(p, &len).ok());
  ASSERT_EQ(len, 8u);
  EXPECT_EQ(0, std::memcmp(p.data(), plain.data(), 8));
}

// MX-05: every flipped bit after the clear header is an authentication
// failure, the packet is not delivered (length unchanged, bytes wiped), and
// the session still accepts the genuine packet afterwards.
TEST_P(SrtpSessionTest, FlippedBitInRtpPayloadOrTagFailsAuth) {
  const std::vector<uint8_t> good = ProtectedRtp(7);
  for (size_t i = 12; i < good.size(); ++i) {
    for (uint8_t bit : {uint8_t{0x01}, uint8_t{0x80}}) {
      std::vector<uint8_t> bad = good;
      bad[i] ^= bit;
      size_t len = bad.size();
      const Status s = in_->UnprotectRtp(bad, &len);
      ASSERT_EQ(s.code(), "srtp_auth_failed") << "byte " << i;
      EXPECT_EQ(len, good.size());
      EXPECT_EQ(bad, std::vector<uint8_t>(bad.size(), 0)) << "nothing left to forward";
    }
  }
  // Header fields are authenticated too (sequence number, SSRC, timestamp).
  for (size_t i : {size_t{1}, size_t{3}, size_t{5}, size_t{11}}) {
    std::vector<uint8_t> bad = good;
    bad[i] ^= 0x01;
    size_t len = bad.size();
    EXPECT_EQ(in_->UnprotectRtp(bad, &len).code(), "srtp_auth_failed") << "byte " << i;
  }
  std::vector<uint8_t> ok = good;
  size_t len = ok.size();
  EXPECT_TRUE(in_->UnprotectRtp(ok, &len).ok());
}

TEST_P(SrtpSessionTest, FlippedBitInRtcpBodyIndexOrTagFailsAuth) {
  const std::vector<uint8_t> good = ProtectedRtcp();
  for (size_t i = 0; i < good.size(); ++i) {
    if (i == 0) continue;  // version/padding/count bits: see below
    std::vector<uint8_t> bad = good;
    bad[i] ^= 0x01;
    size_t len = bad.size();
    const Status s = in_->UnprotectRtcp(bad, &len);
    ASSERT_FALSE(s.ok()) << "byte " << i;
    EXPECT_EQ(s.code(), "srtp_auth_failed") << "byte " << i;
    EXPECT_EQ(len, good.size());
  }
  std::vector<uint8_t> bad = good;
  bad[0] ^= 0x01;
  size_t len = bad.size();
  EXPECT_EQ(in_->UnprotectRtcp(bad, &len).code(), "srtp_auth_failed");
  std::vector<uint8_t> ok = good;
  len = ok.size();
  EXPECT_TRUE(in_->UnprotectRtcp(ok, &len).ok());
}

TEST_P(SrtpSessionTest, ReplayedRtpIsRejected) {
  const std::vector<uint8_t> good = ProtectedRtp(42);
  std::vector<uint8_t> first = good;
  size_t len = first.size();
  ASSERT_TRUE(in_->UnprotectRtp(first, &len).ok());
  std::vector<uint8_t> again = good;
  len = again.size();
  EXPECT_EQ(in_->UnprotectRtp(again, &len).code(), "srtp_replay");
  EXPECT_EQ(len, good.size());
}

TEST_P(SrtpSessionTest, ReplayedRtcpIsRejected) {
  const std::vector<uint8_t> good = ProtectedRtcp();
  std::vector<uint8_t> first = good;
  size_t len = first.size();
  ASSERT_TRUE(in_->UnprotectRtcp(first, &len).ok());
  std::vector<uint8_t> again = good;
  len = again.size();
  EXPECT_EQ(in_->UnprotectRtcp(again, &len).code(), "srtp_replay");
}

TEST_P(SrtpSessionTest, ReorderingInsideWindowAcceptedOutsideRejected) {
  std::vector<std::vector<uint8_t>> packets;
  for (uint16_t seq = 0; seq < 1100; ++seq) packets.push_back(ProtectedRtp(seq, 0x5, 20));
  // Newest first, then older ones: within 1024 accepted, beyond rejected.
  size_t len = packets[1099].size();
  ASSERT_TRUE(in_->UnprotectRtp(packets[1099], &len).ok());
  len = packets[1000].size();
  EXPECT_TRUE(in_->UnprotectRtp(packets[1000], &len).ok());
  len = packets[200].size();
  EXPECT_TRUE(in_->UnprotectRtp(packets[200], &len).ok());
  len = packets[10].size();
  EXPECT_EQ(in_->UnprotectRtp(packets[10], &len).code(), "srtp_replay");
}

TEST_P(SrtpSessionTest, RetransmissionAllowedOnSendingSide) {
  size_t len1 = 0;
  size_t len2 = 0;
  std::vector<uint8_t> a = MakeRtp(500, 0x77, 64, &len1);
  std::vector<uint8_t> b = MakeRtp(500, 0x77, 64, &len2);
  ASSERT_TRUE(out_->ProtectRtp(a, &len1).ok());
  ASSERT_TRUE(out_->ProtectRtp(b, &len2).ok()) << "NACK resend of the same sequence number";
  ASSERT_EQ(len1, len2);
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), len1)) << "same keystream, same bytes";
  size_t len = len1;
  EXPECT_TRUE(in_->UnprotectRtp(a, &len).ok());
  len = len2;
  EXPECT_EQ(in_->UnprotectRtp(b, &len).code(), "srtp_replay") << "receiver sees it once";
}

TEST_P(SrtpSessionTest, IndependentSsrcsOnOneSession) {
  for (uint32_t ssrc : {1u, 2u, 3u}) {
    std::vector<uint8_t> p = ProtectedRtp(9, ssrc);
    size_t len = p.size();
    EXPECT_TRUE(in_->UnprotectRtp(p, &len).ok()) << ssrc;
  }
}

TEST_P(SrtpSessionTest, WrongKeyFailsAuth) {
  std::unique_ptr<SrtpSession> other = MustCreate(profile(), Dir::kInbound, /*seed=*/9);
  ASSERT_NE(other, nullptr);
  std::vector<uint8_t> rtp = ProtectedRtp(3);
  size_t len = rtp.size();
  EXPECT_EQ(other->UnprotectRtp(rtp, &len).code(), "srtp_auth_failed");
  std::vector<uint8_t> rtcp = ProtectedRtcp();
  len = rtcp.size();
  EXPECT_EQ(other->UnprotectRtcp(rtcp, &len).code(), "srtp_auth_failed");
}

TEST_P(SrtpSessionTest, OtherProfileFailsAuth) {
  const SrtpProfile other_profile = profile() == SrtpProfile::kAeadAes128Gcm
                                        ? SrtpProfile::kAeadAes256Gcm
                                        : SrtpProfile::kAeadAes128Gcm;
  std::unique_ptr<SrtpSession> other = MustCreate(other_profile, Dir::kInbound);
  std::vector<uint8_t> rtp = ProtectedRtp(3);
  size_t len = rtp.size();
  EXPECT_FALSE(other->UnprotectRtp(rtp, &len).ok());
}

// Every prefix of a protected packet (exact-size heap copies, so ASan sees
// any over-read) is an error, never a crash or a delivered packet.
TEST_P(SrtpSessionTest, EveryTruncatedRtpIsRejected) {
  const std::vector<uint8_t> good = ProtectedRtp(11, 0x99, 60);
  for (size_t n = 0; n < good.size(); ++n) {
    std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<long>(n));
    size_t len = n;
    const Status s = in_->UnprotectRtp(cut, &len);
    EXPECT_FALSE(s.ok()) << n;
    EXPECT_EQ(len, n);
    if (n < 12 + SrtpTagLength(profile())) {
      EXPECT_EQ(s.code(), "srtp_bad_length") << n;
    }
  }
  std::vector<uint8_t> whole = good;
  size_t len = whole.size();
  EXPECT_TRUE(in_->UnprotectRtp(whole, &len).ok()) << "failed prefixes do not poison the window";
}

TEST_P(SrtpSessionTest, EveryTruncatedRtcpIsRejected) {
  const std::vector<uint8_t> good = ProtectedRtcp();
  for (size_t n = 0; n < good.size(); ++n) {
    std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<long>(n));
    size_t len = n;
    const Status s = in_->UnprotectRtcp(cut, &len);
    EXPECT_FALSE(s.ok()) << n;
    EXPECT_EQ(len, n);
    if (n < 8 + SrtpRtcpOverhead(profile())) {
      EXPECT_EQ(s.code(), "srtp_bad_length") << n;
    }
  }
  std::vector<uint8_t> whole = good;
  size_t len = whole.size();
  EXPECT_TRUE(in_->UnprotectRtcp(whole, &len).ok());
}

TEST_P(SrtpSessionTest, ShortPlaintextIsRejectedOnProtect) {
  for (size_t n = 0; n < 12; ++n) {
    std::vector<uint8_t> p(n + SrtpSession::kMaxRtcpOverhead, 0x80);
    size_t len = n;
    EXPECT_EQ(out_->ProtectRtp(p, &len).code(), "srtp_bad_length") << n;
    if (n < 8) {
      len = n;
      EXPECT_EQ(out_->ProtectRtcp(p, &len).code(), "srtp_bad_length") << n;
    }
  }
  // CSRC count and extension length pointing past the end.
  std::vector<uint8_t> csrc = {0x8F, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
  size_t len = csrc.size();
  csrc.resize(len + SrtpSession::kMaxRtpOverhead);
  EXPECT_EQ(out_->ProtectRtp(csrc, &len).code(), "srtp_bad_length");
  std::vector<uint8_t> ext = {0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xBE, 0xDE, 0xFF, 0xFF};
  len = ext.size();
  ext.resize(len + SrtpSession::kMaxRtpOverhead);
  EXPECT_EQ(out_->ProtectRtp(ext, &len).code(), "srtp_bad_length");
  ext[0] = 0x90;
  len = ext.size() - SrtpSession::kMaxRtpOverhead;
  EXPECT_EQ(in_->UnprotectRtp(ext, &len).code(), "srtp_bad_length");
}

TEST_P(SrtpSessionTest, ProtectNeedsRoomForTrailer) {
  size_t len = 0;
  std::vector<uint8_t> p = MakeRtp(1, 2, 50, &len);
  const size_t plain = len;
  p.resize(plain + SrtpRtpOverhead(profile()) - 1);
  EXPECT_EQ(out_->ProtectRtp(p, &len).code(), "srtp_no_room");
  EXPECT_EQ(len, plain);
  p.resize(plain + SrtpRtpOverhead(profile()));  // exactly enough
  EXPECT_TRUE(out_->ProtectRtp(p, &len).ok());

  std::vector<uint8_t> r = MakeRtcp(2, &len);
  const size_t rplain = len;
  r.resize(rplain + SrtpRtcpOverhead(profile()) - 1);
  EXPECT_EQ(out_->ProtectRtcp(r, &len).code(), "srtp_no_room");
  r.resize(rplain + SrtpRtcpOverhead(profile()));
  EXPECT_TRUE(out_->ProtectRtcp(r, &len).ok());
}

TEST_P(SrtpSessionTest, OversizeAndInconsistentLengthsRejected) {
  std::vector<uint8_t> big(SrtpSession::kMaxPacketSize + 1 + SrtpSession::kMaxRtcpOverhead, 0);
  big[0] = 0x80;
  size_t len = SrtpSession::kMaxPacketSize + 1;
  EXPECT_EQ(out_->ProtectRtp(big, &len).code(), "srtp_bad_length");
  EXPECT_EQ(out_->ProtectRtcp(big, &len).code(), "srtp_bad_length");
  EXPECT_EQ(in_->UnprotectRtp(big, &len).code(), "srtp_bad_length");
  EXPECT_EQ(in_->UnprotectRtcp(big, &len).code(), "srtp_bad_length");
  len = SrtpSession::kMaxPacketSize;  // the largest accepted input
  EXPECT_TRUE(out_->ProtectRtp(big, &len).ok());

  std::vector<uint8_t> small(40, 0x80);
  len = 41;  // claims more than the buffer holds
  EXPECT_EQ(in_->UnprotectRtp(small, &len).code(), "srtp_bad_length");
  EXPECT_EQ(in_->UnprotectRtcp(small, &len).code(), "srtp_bad_length");
  EXPECT_EQ(out_->ProtectRtp(small, &len).code(), "srtp_bad_length");
  EXPECT_EQ(out_->ProtectRtcp(small, &len).code(), "srtp_bad_length");
  EXPECT_EQ(in_->UnprotectRtp(small, nullptr).code(), "srtp_bad_length");
}

TEST_P(SrtpSessionTest, DirectionIsFixedAtCreation) {
  size_t len = 0;
  std::vector<uint8_t> p = MakeRtp(1, 2, 10, &len);
  EXPECT_EQ(in_->ProtectRtp(p, &len).code(), "srtp_wrong_direction");
  EXPECT_EQ(in_->ProtectRtcp(p, &len).code(), "srtp_wrong_direction");
  EXPECT_EQ(out_->UnprotectRtp(p, &len).code(), "srtp_wrong_direction");
  EXPECT_EQ(out_->UnprotectRtcp(p, &len).code(), "srtp_wrong_direction");
  EXPECT_EQ(in_->direction(), Dir::kInbound);
  EXPECT_EQ(out_->direction(), Dir::kOutbound);
  EXPECT_EQ(out_->profile(), profile());
}

// RFC 3711 §3.3.2 window edges: the newest index and the 1023 before it are
// in the window, the 1024th behind is too old; a duplicate anywhere is a
// replay; a far jump ahead moves the window with it.
TEST_P(SrtpSessionTest, ReplayWindowEdges) {
  std::vector<std::vector<uint8_t>> packets(2100);
  for (uint16_t seq = 0; seq < packets.size(); ++seq) packets[seq] = ProtectedRtp(seq, 0x42, 8);
  EXPECT_EQ(UnprotectRtpCode(packets[2000]), "");
  EXPECT_EQ(UnprotectRtpCode(packets[2000]), "srtp_replay") << "duplicate of the newest";
  EXPECT_EQ(UnprotectRtpCode(packets[2000 - 1023]), "") << "oldest index in the window";
  EXPECT_EQ(UnprotectRtpCode(packets[2000 - 1024]), "srtp_replay") << "one behind the window";
  EXPECT_EQ(UnprotectRtpCode(packets[1999]), "") << "in-window, out of order";
  EXPECT_EQ(UnprotectRtpCode(packets[1999]), "srtp_replay");
  EXPECT_EQ(UnprotectRtpCode(packets[2050]), "") << "ahead by 50";
  EXPECT_EQ(UnprotectRtpCode(packets[2001]), "") << "skipped index filled in later";
  EXPECT_EQ(UnprotectRtpCode(packets[1500]), "") << "still inside after the window moved";
  EXPECT_EQ(UnprotectRtpCode(packets[1026]), "srtp_replay") << "fell out when the window moved";

  // Far jump ahead (less than half the sequence space, so the same ROC).
  const std::vector<uint8_t> far = ProtectedRtp(2050 + 30000, 0x42, 8);
  EXPECT_EQ(UnprotectRtpCode(far), "");
  EXPECT_EQ(UnprotectRtpCode(packets[2099]), "srtp_replay") << "now 29951 behind";
  EXPECT_EQ(UnprotectRtpCode(far), "srtp_replay");
}

TEST_P(SrtpSessionTest, RejectedPacketsDoNotMoveTheWindow) {
  const std::vector<uint8_t> old_packet = ProtectedRtp(10, 0x43, 8);
  std::vector<uint8_t> forged = ProtectedRtp(5000, 0x43, 8);
  forged.back() ^= 0x01;  // bad tag on a packet far ahead
  EXPECT_EQ(UnprotectRtpCode(forged), "srtp_auth_failed");
  EXPECT_EQ(UnprotectRtpCode(old_packet), "") << "the forged packet did not advance the window";
}

TEST_P(SrtpSessionTest, RtcpReplayAndReordering) {
  std::vector<std::vector<uint8_t>> packets;
  for (int i = 0; i < 200; ++i) packets.push_back(ProtectedRtcp(0x5151));
  auto unprotect = [&](size_t i) {
    std::vector<uint8_t> copy = packets[i];
    size_t len = copy.size();
    return std::string(in_->UnprotectRtcp(copy, &len).code());
  };
  EXPECT_EQ(unprotect(150), "");
  EXPECT_EQ(unprotect(150), "srtp_replay");
  EXPECT_EQ(unprotect(149), "") << "out of order inside the window";
  EXPECT_EQ(unprotect(100), "");
  EXPECT_EQ(unprotect(199), "");
  EXPECT_EQ(unprotect(0), "srtp_replay") << "older than the 128-index window";
  EXPECT_EQ(unprotect(199), "srtp_replay");
}

TEST_P(SrtpSessionTest, RtcpIndexIsPerSsrcAndStartsAtOne) {
  // E flag + 31-bit index: before the tag (RFC 3711 §3.4) or last (RFC 7714 §17).
  const size_t e_offset = profile() == SrtpProfile::kAes128CmHmacSha1_80 ? 14 : 4;
  auto esrtcp_word = [&](const std::vector<uint8_t>& p) {
    const uint8_t* e = p.data() + p.size() - e_offset;
    return (uint32_t{e[0]} << 24) | (uint32_t{e[1]} << 16) | (uint32_t{e[2]} << 8) | e[3];
  };
  EXPECT_EQ(esrtcp_word(ProtectedRtcp(7)), 0x80000001u);
  EXPECT_EQ(esrtcp_word(ProtectedRtcp(8)), 0x80000001u);
  EXPECT_EQ(esrtcp_word(ProtectedRtcp(7)), 0x80000002u);
  EXPECT_EQ(esrtcp_word(ProtectedRtcp(7)), 0x80000003u);
  EXPECT_EQ(esrtcp_word(ProtectedRtcp(8)), 0x80000002u);
}

// More SSRCs than the EVP table reserves: every stream keeps its own state.
TEST_P(SrtpSessionTest, ManySsrcsKeepTheirOwnState) {
  for (int round = 0; round < 3; ++round) {
    for (uint32_t ssrc = 1; ssrc <= 40; ++ssrc) {
      const uint16_t seq = static_cast<uint16_t>(65534 + round);  // wraps: ROC 0 -> 1
      EXPECT_EQ(UnprotectRtpCode(ProtectedRtp(seq, ssrc * 7919, 16)), "") << ssrc << " " << round;
    }
  }
  for (uint32_t ssrc = 1; ssrc <= 40; ++ssrc) {
    EXPECT_EQ(UnprotectRtpCode(ProtectedRtp(0, ssrc * 7919, 16)), "srtp_replay") << ssrc;
  }
}

TEST_P(SrtpSessionTest, SenderRefusesIndexBehindItsWindow) {
  EXPECT_FALSE(ProtectedRtp(3000, 0x44).empty());
  size_t len = 0;
  std::vector<uint8_t> p = MakeRtp(3000 - 1023, 0x44, 10, &len);
  EXPECT_TRUE(out_->ProtectRtp(p, &len).ok()) << "retransmission inside the window";
  p = MakeRtp(3000 - 1024, 0x44, 10, &len);
  EXPECT_EQ(out_->ProtectRtp(p, &len).code(), "srtp_replay");
}

INSTANTIATE_TEST_SUITE_P(AllImplsAndProfiles, SrtpSessionTest, testing::ValuesIn(AllCombinations()),
                         ParamName);

}  // namespace
}  // namespace aegis::rtc
