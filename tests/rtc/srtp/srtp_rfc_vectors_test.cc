// Published vectors against the EVP implementation itself (libsrtp2 cannot
// be keyed with session keys, so these are EVP-only; the KAT and cross
// tests tie the oracle in):
// - RFC 3711 Appendix B.2 (AES-CM keystream) and B.3 (key derivation),
// - RFC 7714 §16 (SRTP AES-128/256-GCM) and §17 (SRTCP, including the
//   tagging-only E = 0 form), which publish session keys, not master keys.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "rtc/srtp/evp_srtp_session.h"
#include "rtc/srtp/srtp_crypto.h"
#include "srtp_test_util.h"

namespace aegis::rtc {
namespace {

using Bytes = std::vector<uint8_t>;
using Dir = SrtpSession::Direction;
using srtp_test::FromHex;

// --- RFC 3711 Appendix B.3 -------------------------------------------------

TEST(SrtpRfc3711Test, B3KeyDerivation) {
  const Bytes master_key = FromHex("E1F97A0D3E018BE0D64FA32C06DE4139");
  const Bytes master_salt = FromHex("0EC675AD498AFEEBB6960B3AABE6");
  Bytes cipher_key(16);
  Bytes cipher_salt(14);
  Bytes auth_key(94);  // B.3 walks the PRF for a 94-byte key
  ASSERT_TRUE(srtp_internal::DeriveSrtpKey(master_key, master_salt, 0x00, cipher_key).ok());
  ASSERT_TRUE(srtp_internal::DeriveSrtpKey(master_key, master_salt, 0x02, cipher_salt).ok());
  ASSERT_TRUE(srtp_internal::DeriveSrtpKey(master_key, master_salt, 0x01, auth_key).ok());
  EXPECT_EQ(cipher_key, FromHex("C61E7A93744F39EE10734AFE3FF7A087"));
  EXPECT_EQ(cipher_salt, FromHex("30CBBC08863D8C85D49DB34A9AE1"));
  EXPECT_EQ(auth_key, FromHex("CEBE321F6FF7716B6FD4AB49AF256A15"
                              "6D38BAA48F0A0ACF3C34E2359E6CDBCE"
                              "E049646C43D9327AD175578EF7227098"
                              "6371C10C9A369AC2F94A8C5FBCDDDC25"
                              "6D6E919A48B610EF17C2041E47403576"
                              "6B68642C59BBFC2F34DB60DBDFB2"));
}

TEST(SrtpRfc3711Test, KeyDerivationRejectsBadLengths) {
  Bytes out(16);
  EXPECT_FALSE(srtp_internal::DeriveSrtpKey(Bytes(15), Bytes(14), 0, out).ok());
  EXPECT_FALSE(srtp_internal::DeriveSrtpKey(Bytes(16), Bytes(13), 0, out).ok());
  EXPECT_TRUE(srtp_internal::DeriveSrtpKey(Bytes(32), Bytes(12), 0, out).ok());
}

// --- RFC 3711 Appendix B.2 -------------------------------------------------

const char* const kB2Key = "2B7E151628AED2A6ABF7158809CF4F3C";
const char* const kB2Salt = "F0F1F2F3F4F5F6F7F8F9FAFBFCFD";
const char* const kB2First =
    "E03EAD0935C95E80E166B16DD92B4EB4"
    "D23513162B02D0F72A43A2FE4A5F97AB"
    "41E95B3BB0A2E8DD477901E4FCA894C0";

TEST(SrtpRfc3711Test, B2KeystreamWholeSegment) {
  srtp_internal::AesCtr ctr;
  ASSERT_TRUE(ctr.Init(FromHex(kB2Key)).ok());
  Bytes iv = FromHex(kB2Salt);
  iv.resize(16, 0);             // SSRC 0, index 0: the IV is the salt * 2^16
  Bytes keystream(1044512, 0);  // 65282 blocks
  ASSERT_TRUE(ctr.Apply(std::span<const uint8_t, 16>(iv.data(), 16), keystream));
  EXPECT_EQ(Bytes(keystream.begin(), keystream.begin() + 48), FromHex(kB2First));
  EXPECT_EQ(Bytes(keystream.end() - 48, keystream.end()),
            FromHex("EC8CDF7398607CB0F2D21675EA9EA1E4"
                    "362B7C3C6773516318A077D7FC5073AE"
                    "6A2CC3787889374FBEB4C81B17BA6C44"));
  // The context is reusable: the next IV restarts the counter.
  Bytes again(48, 0);
  ASSERT_TRUE(ctr.Apply(std::span<const uint8_t, 16>(iv.data(), 16), again));
  EXPECT_EQ(again, FromHex(kB2First));
}

// The same keystream through a whole session: an RTP packet with SSRC 0,
// SEQ 0, ROC 0 and a zero payload encrypts to the keystream (§4.1.1 IV).
TEST(SrtpRfc3711Test, B2KeystreamThroughProtectRtp) {
  const Bytes key = FromHex(kB2Key);
  const Bytes salt = FromHex(kB2Salt);
  const Bytes auth(20, 0x11);
  const SrtpSessionKeys keys{key, salt, auth};
  Result<std::unique_ptr<SrtpSession>> out =
      CreateEvpSrtpSession(SrtpProfile::kAes128CmHmacSha1_80, keys, keys, Dir::kOutbound);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  Bytes packet(12 + 48 + 10, 0);
  packet[0] = 0x80;
  size_t len = 12 + 48;
  ASSERT_TRUE((*out)->ProtectRtp(packet, &len).ok());
  EXPECT_EQ(Bytes(packet.begin() + 12, packet.begin() + 60), FromHex(kB2First));
}

TEST(SrtpRfc3711Test, SessionKeyLengthsAreChecked) {
  const Bytes k16(16);
  const Bytes k32(32);
  const Bytes s14(14);
  const Bytes s12(12);
  const Bytes a20(20);
  const Bytes none;
  const auto create = [](SrtpProfile p, const SrtpSessionKeys& k) {
    return CreateEvpSrtpSession(p, k, k, Dir::kInbound).status().code();
  };
  EXPECT_EQ(create(SrtpProfile::kAes128CmHmacSha1_80, {k16, s14, a20}), "");
  EXPECT_EQ(create(SrtpProfile::kAes128CmHmacSha1_80, {k16, s12, a20}), "srtp_init");
  EXPECT_EQ(create(SrtpProfile::kAes128CmHmacSha1_80, {k16, s14, none}), "srtp_init");
  EXPECT_EQ(create(SrtpProfile::kAes128CmHmacSha1_80, {k32, s14, a20}), "srtp_init");
  EXPECT_EQ(create(SrtpProfile::kAeadAes128Gcm, {k16, s12, none}), "");
  EXPECT_EQ(create(SrtpProfile::kAeadAes128Gcm, {k16, s12, a20}), "srtp_init");
  EXPECT_EQ(create(SrtpProfile::kAeadAes128Gcm, {k32, s12, none}), "srtp_init");
  EXPECT_EQ(create(SrtpProfile::kAeadAes256Gcm, {k32, s12, none}), "");
  EXPECT_EQ(create(SrtpProfile::kAeadAes256Gcm, {k32, s14, none}), "srtp_init");
  EXPECT_EQ(create(static_cast<SrtpProfile>(7), {k16, s12, none}), "srtp_init");
  EXPECT_EQ(
      SrtpSession::Create(static_cast<SrtpProfile>(7), Bytes(28), Dir::kInbound).status().code(),
      "srtp_init");
}

// --- RFC 7714 §16 / §17 ----------------------------------------------------
// Session key 00 01 .. 0f (or .. 1f), salt "Quid pro quo" for SRTP and SRTCP.

const char* const kQuidProQuo = "517569642070726f2071756f";
const char* const kRtpPlain =
    "8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976"
    "69736120 696e2070 61727465 73207472 6573";
const char* const kRtcpPlain =
    "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61"
    "deadbeef deadbeef deadbeef deadbeef deadbeef";

Bytes Key(SrtpProfile profile) {
  Bytes key(SrtpMasterKeyLength(profile));
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i);
  return key;
}

std::unique_ptr<SrtpSession> Rfc7714Session(SrtpProfile profile, Dir dir) {
  const Bytes key = Key(profile);
  const Bytes salt = FromHex(kQuidProQuo);
  const SrtpSessionKeys keys{key, salt, {}};
  Result<std::unique_ptr<SrtpSession>> s = CreateEvpSrtpSession(profile, keys, keys, dir);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

struct RtpVector {
  SrtpProfile profile;
  const char* protected_hex;
};

const RtpVector kRtpVectors[] = {
    // §16.1.1 / §16.1.2
    {SrtpProfile::kAeadAes128Gcm,
     "8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5"
     "0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce"},
    // §16.2.1 / §16.2.2
    {SrtpProfile::kAeadAes256Gcm,
     "8040f17b 8041f8d3 5501a0b2 32b1de78 a822fe12 ef9f78fa 332e33aa b1801238"
     "9a58e2f3 b50b2a02 76ffae0f 1ba63799 b87b7aa3 db36dfff d6b0f9bb 7878d7a7 6c13"},
};

TEST(SrtpRfc7714Test, Section16RtpEncryption) {
  for (const RtpVector& v : kRtpVectors) {
    std::unique_ptr<SrtpSession> out = Rfc7714Session(v.profile, Dir::kOutbound);
    ASSERT_NE(out, nullptr);
    Bytes packet = FromHex(kRtpPlain);
    size_t len = packet.size();
    packet.resize(len + 16);
    ASSERT_TRUE(out->ProtectRtp(packet, &len).ok());
    packet.resize(len);
    EXPECT_EQ(packet, FromHex(v.protected_hex)) << srtp_test::ProfileName(v.profile);
  }
}

TEST(SrtpRfc7714Test, Section16RtpDecryption) {
  for (const RtpVector& v : kRtpVectors) {
    std::unique_ptr<SrtpSession> in = Rfc7714Session(v.profile, Dir::kInbound);
    ASSERT_NE(in, nullptr);
    Bytes packet = FromHex(v.protected_hex);
    size_t len = packet.size();
    ASSERT_TRUE(in->UnprotectRtp(packet, &len).ok());
    packet.resize(len);
    EXPECT_EQ(packet, FromHex(kRtpPlain)) << srtp_test::ProfileName(v.profile);

    // Any flipped bit (header = AAD, ciphertext, tag) fails authentication.
    for (size_t i : {size_t{3}, size_t{12}, size_t{30}, FromHex(v.protected_hex).size() - 1}) {
      std::unique_ptr<SrtpSession> fresh = Rfc7714Session(v.profile, Dir::kInbound);
      Bytes bad = FromHex(v.protected_hex);
      bad[i] ^= 0x01;
      size_t bad_len = bad.size();
      EXPECT_EQ(fresh->UnprotectRtp(bad, &bad_len).code(), "srtp_auth_failed") << i;
    }
  }
}

// §17.1: the sender's SRTCP index is its own state; protecting 0x5d3 packets
// first makes the vector's packet the one with index 000005d4.
TEST(SrtpRfc7714Test, Section17_1RtcpEncryption128) {
  std::unique_ptr<SrtpSession> out = Rfc7714Session(SrtpProfile::kAeadAes128Gcm, Dir::kOutbound);
  ASSERT_NE(out, nullptr);
  for (int i = 1; i < 0x5d4; ++i) {
    Bytes filler = FromHex(kRtcpPlain);
    size_t len = filler.size();
    filler.resize(len + 20);
    ASSERT_TRUE(out->ProtectRtcp(filler, &len).ok());
  }
  Bytes packet = FromHex(kRtcpPlain);
  size_t len = packet.size();
  packet.resize(len + 20);
  ASSERT_TRUE(out->ProtectRtcp(packet, &len).ok());
  packet.resize(len);
  EXPECT_EQ(packet, FromHex("81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99"
                            "7ff5c0f7 6c06f32d c676a5f1 730d6fda 4ce09b46 86303ded"
                            "0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade 800005d4"));
}

TEST(SrtpRfc7714Test, Section17_2RtcpDecryption256) {
  std::unique_ptr<SrtpSession> in = Rfc7714Session(SrtpProfile::kAeadAes256Gcm, Dir::kInbound);
  ASSERT_NE(in, nullptr);
  Bytes packet = FromHex(
      "81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d bffe0a50"
      "a2eaa5c1 110555be 8415f658 c61de047 6f1b6fad 1d1eb30c 4446839f 57ff6f6c"
      "b26ac3be 800005d4");
  size_t len = packet.size();
  ASSERT_TRUE(in->UnprotectRtcp(packet, &len).ok());
  packet.resize(len);
  EXPECT_EQ(packet, FromHex(kRtcpPlain));
}

// §17.3/§17.4: E = 0, the packet is only tagged (AAD = packet || ESRTCP word).
// Aegis never sends this form but accepts it from a peer.
TEST(SrtpRfc7714Test, Section17_3And17_4TaggedOnlyRtcpVerifies) {
  const struct {
    SrtpProfile profile;
    const char* tag_and_word;
  } vectors[] = {
      {SrtpProfile::kAeadAes128Gcm, "841dd968 3dd78ec9 2ae58790 125f62b3 000005d4"},
      {SrtpProfile::kAeadAes256Gcm, "91db4afb feee5a97 8fab4393 ed2615fe 000005d4"},
  };
  for (const auto& v : vectors) {
    const Bytes tagged = FromHex(std::string(kRtcpPlain) + v.tag_and_word);
    std::unique_ptr<SrtpSession> in = Rfc7714Session(v.profile, Dir::kInbound);
    ASSERT_NE(in, nullptr);
    Bytes packet = tagged;
    size_t len = packet.size();
    ASSERT_TRUE(in->UnprotectRtcp(packet, &len).ok()) << srtp_test::ProfileName(v.profile);
    packet.resize(len);
    EXPECT_EQ(packet, FromHex(kRtcpPlain));

    // The clear payload is authenticated too.
    Bytes bad = tagged;
    bad[20] ^= 0x01;
    std::unique_ptr<SrtpSession> fresh = Rfc7714Session(v.profile, Dir::kInbound);
    len = bad.size();
    EXPECT_EQ(fresh->UnprotectRtcp(bad, &len).code(), "srtp_auth_failed");
  }
}

}  // namespace
}  // namespace aegis::rtc
