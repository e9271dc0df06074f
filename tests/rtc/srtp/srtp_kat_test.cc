// Known-answer tests: the protected bytes for a fixed key, salt and packet
// are recomputed here independently of libsrtp, with plain OpenSSL
// primitives following the RFC text, and must match byte for byte:
// - AES-CM key derivation (RFC 3711 §4.3.1, PRF of §4.3.3, kdr = 0),
// - AES-CM encryption (§4.1.1) and HMAC-SHA1-80 (§4.2.1) for SRTP and SRTCP,
// - AES-GCM SRTP (RFC 7714 §8.1 IV, §8.2 AAD) and SRTCP (§9.1 IV, §9.2 AAD)
//   for both key sizes.
// The derivation itself is checked first against RFC 3711 Appendix B.3. Each
// check runs against the EVP implementation and the libsrtp2 oracle.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "rtc/srtp/srtp_session.h"
#include "srtp_test_util.h"

namespace aegis::rtc {
namespace {

using Bytes = std::vector<uint8_t>;
using Dir = SrtpSession::Direction;

Bytes FromHex(const std::string& hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// AES-CTR over `in` with a 128-bit big-endian counter block (equals the RFC
// 3711 16-bit block counter for fewer than 2^16 blocks).
Bytes AesCtr(const Bytes& key, const Bytes& iv16, const Bytes& in) {
  const EVP_CIPHER* cipher = key.size() == 32 ? EVP_aes_256_ctr() : EVP_aes_128_ctr();
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      EVP_CIPHER_CTX_free);
  Bytes out(in.size() + 16);
  int n = 0;
  int m = 0;
  EXPECT_EQ(1, EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, key.data(), iv16.data()));
  EXPECT_EQ(1,
            EVP_EncryptUpdate(ctx.get(), out.data(), &n, in.data(), static_cast<int>(in.size())));
  EXPECT_EQ(1, EVP_EncryptFinal_ex(ctx.get(), out.data() + n, &m));
  out.resize(static_cast<size_t>(n + m));
  return out;
}

// RFC 3711 §4.3.1/§4.3.3 with kdr = 0: x = (label << 48) XOR master_salt,
// keystream of AES-CM(master_key, x * 2^16). A 96-bit AEAD salt is used as
// its leading 12 bytes, right-padded with zeros (RFC 7714 §11 "the 112-bit
// master salt is formed by appending 16 zero bits").
Bytes DeriveKey(const Bytes& master_key, const Bytes& master_salt, uint8_t label, size_t size) {
  Bytes iv(16, 0);
  std::memcpy(iv.data(), master_salt.data(), master_salt.size());
  iv[7] ^= label;
  return AesCtr(master_key, iv, Bytes(size, 0));
}

TEST(SrtpKdfTest, Rfc3711AppendixB3) {
  const Bytes key = FromHex("E1F97A0D3E018BE0D64FA32C06DE4139");
  const Bytes salt = FromHex("0EC675AD498AFEEBB6960B3AABE6");
  EXPECT_EQ(DeriveKey(key, salt, 0x00, 16), FromHex("C61E7A93744F39EE10734AFE3FF7A087"));
  EXPECT_EQ(DeriveKey(key, salt, 0x02, 14), FromHex("30CBBC08863D8C85D49DB34A9AE1"));
  EXPECT_EQ(DeriveKey(key, salt, 0x01, 20), FromHex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"));
}

Bytes HmacSha1_80(const Bytes& key, const Bytes& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), mac,
       &mac_len);
  return Bytes(mac, mac + 10);
}

Bytes AesGcmSeal(const Bytes& key, const Bytes& iv12, const Bytes& aad, const Bytes& plain) {
  const EVP_CIPHER* cipher = key.size() == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm();
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      EVP_CIPHER_CTX_free);
  Bytes out(plain.size() + 16);
  int n = 0;
  int m = 0;
  EXPECT_EQ(1, EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr));
  EXPECT_EQ(1, EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, 12, nullptr));
  EXPECT_EQ(1, EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), iv12.data()));
  EXPECT_EQ(1, EVP_EncryptUpdate(ctx.get(), nullptr, &n, aad.data(), static_cast<int>(aad.size())));
  EXPECT_EQ(1, EVP_EncryptUpdate(ctx.get(), out.data(), &n, plain.data(),
                                 static_cast<int>(plain.size())));
  EXPECT_EQ(1, EVP_EncryptFinal_ex(ctx.get(), out.data() + n, &m));
  EXPECT_EQ(1, EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, out.data() + n + m));
  out.resize(static_cast<size_t>(n + m) + 16);
  return out;
}

constexpr uint16_t kSeq = 0x1234;
constexpr uint32_t kSsrc = 0xDEADBEEF;

class SrtpKatTest : public testing::TestWithParam<srtp_test::SrtpImpl> {
 protected:
  // What the implementation produced for the fixed packet, trimmed to its length.
  Bytes ProtectWithSession(SrtpProfile profile, const Bytes& key_and_salt, bool rtcp,
                           Bytes* plain) const;
  void CheckGcmRtp(SrtpProfile profile) const;
  void CheckGcmRtcp(SrtpProfile profile) const;
};

Bytes SrtpKatTest::ProtectWithSession(SrtpProfile profile, const Bytes& key_and_salt, bool rtcp,
                                      Bytes* plain) const {
  Result<std::unique_ptr<SrtpSession>> s = GetParam().create(profile, key_and_salt, Dir::kOutbound);
  EXPECT_TRUE(s.ok());
  size_t len = 0;
  Bytes p = rtcp ? srtp_test::MakeRtcp(kSsrc, &len) : srtp_test::MakeRtp(kSeq, kSsrc, 77, &len);
  plain->assign(p.begin(), p.begin() + static_cast<long>(len));
  const Status st = rtcp ? (*s)->ProtectRtcp(p, &len) : (*s)->ProtectRtp(p, &len);
  EXPECT_TRUE(st.ok()) << st.ToString();
  p.resize(len);
  return p;
}

TEST_P(SrtpKatTest, AesCm128HmacSha1_80Rtp) {
  const SrtpProfile profile = SrtpProfile::kAes128CmHmacSha1_80;
  const Bytes master = srtp_test::TestKey(profile, 0x21);
  const Bytes mkey(master.begin(), master.begin() + 16);
  const Bytes msalt(master.begin() + 16, master.end());
  Bytes plain;
  const Bytes got = ProtectWithSession(profile, master, /*rtcp=*/false, &plain);

  const Bytes ke = DeriveKey(mkey, msalt, 0x00, 16);
  const Bytes ka = DeriveKey(mkey, msalt, 0x01, 20);
  const Bytes ks = DeriveKey(mkey, msalt, 0x02, 14);
  // §4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), i = ROC||SEQ, ROC = 0.
  Bytes iv(16, 0);
  std::memcpy(iv.data(), ks.data(), 14);
  for (int b = 0; b < 4; ++b) iv[4 + b] ^= static_cast<uint8_t>(kSsrc >> (24 - 8 * b));
  iv[12] ^= static_cast<uint8_t>(kSeq >> 8);
  iv[13] ^= static_cast<uint8_t>(kSeq);
  Bytes expected(plain.begin(), plain.begin() + 12);
  const Bytes cipher = AesCtr(ke, iv, Bytes(plain.begin() + 12, plain.end()));
  expected.insert(expected.end(), cipher.begin(), cipher.end());
  Bytes authed = expected;
  authed.insert(authed.end(), {0, 0, 0, 0});  // §4.2: M = packet || ROC
  const Bytes tag = HmacSha1_80(ka, authed);
  expected.insert(expected.end(), tag.begin(), tag.end());
  EXPECT_EQ(got, expected);
}

TEST_P(SrtpKatTest, AesCm128HmacSha1_80Rtcp) {
  const SrtpProfile profile = SrtpProfile::kAes128CmHmacSha1_80;
  const Bytes master = srtp_test::TestKey(profile, 0x42);
  const Bytes mkey(master.begin(), master.begin() + 16);
  const Bytes msalt(master.begin() + 16, master.end());
  Bytes plain;
  const Bytes got = ProtectWithSession(profile, master, /*rtcp=*/true, &plain);
  ASSERT_EQ(got.size(), plain.size() + 14);

  // SRTCP labels 3/4/5 (§4.3.2); the index is the sender's choice, read back.
  const Bytes ke = DeriveKey(mkey, msalt, 0x03, 16);
  const Bytes ka = DeriveKey(mkey, msalt, 0x04, 20);
  const Bytes ks = DeriveKey(mkey, msalt, 0x05, 14);
  const Bytes trailer(got.begin() + static_cast<long>(plain.size()),
                      got.begin() + static_cast<long>(plain.size()) + 4);
  ASSERT_EQ(trailer[0] & 0x80, 0x80);
  Bytes iv(16, 0);
  std::memcpy(iv.data(), ks.data(), 14);
  for (int b = 0; b < 4; ++b) iv[4 + b] ^= static_cast<uint8_t>(kSsrc >> (24 - 8 * b));
  iv[10] ^= trailer[0] & 0x7F;  // 31-bit SRTCP index as i (§4.1.1)
  iv[11] ^= trailer[1];
  iv[12] ^= trailer[2];
  iv[13] ^= trailer[3];
  Bytes expected(plain.begin(), plain.begin() + 8);
  const Bytes cipher = AesCtr(ke, iv, Bytes(plain.begin() + 8, plain.end()));
  expected.insert(expected.end(), cipher.begin(), cipher.end());
  expected.insert(expected.end(), trailer.begin(), trailer.end());
  const Bytes tag = HmacSha1_80(ka, expected);  // §3.4: tag covers E||index too
  expected.insert(expected.end(), tag.begin(), tag.end());
  EXPECT_EQ(got, expected);
}

void SrtpKatTest::CheckGcmRtp(SrtpProfile profile) const {
  const size_t key_len = SrtpMasterKeyLength(profile);
  const Bytes master = srtp_test::TestKey(profile, 0x63);
  const Bytes mkey(master.begin(), master.begin() + static_cast<long>(key_len));
  const Bytes msalt(master.begin() + static_cast<long>(key_len), master.end());
  Bytes plain;
  const Bytes got = ProtectWithSession(profile, master, /*rtcp=*/false, &plain);

  const Bytes ke = DeriveKey(mkey, msalt, 0x00, key_len);
  const Bytes ks = DeriveKey(mkey, msalt, 0x02, 12);
  // RFC 7714 §8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt.
  Bytes iv = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  for (int b = 0; b < 4; ++b) iv[2 + b] = static_cast<uint8_t>(kSsrc >> (24 - 8 * b));
  iv[10] = static_cast<uint8_t>(kSeq >> 8);
  iv[11] = static_cast<uint8_t>(kSeq);
  for (size_t i = 0; i < 12; ++i) iv[i] ^= ks[i];
  const Bytes aad(plain.begin(), plain.begin() + 12);  // §8.2: the RTP header
  Bytes expected = aad;
  const Bytes sealed = AesGcmSeal(ke, iv, aad, Bytes(plain.begin() + 12, plain.end()));
  expected.insert(expected.end(), sealed.begin(), sealed.end());
  EXPECT_EQ(got, expected);
}

void SrtpKatTest::CheckGcmRtcp(SrtpProfile profile) const {
  const size_t key_len = SrtpMasterKeyLength(profile);
  const Bytes master = srtp_test::TestKey(profile, 0x17);
  const Bytes mkey(master.begin(), master.begin() + static_cast<long>(key_len));
  const Bytes msalt(master.begin() + static_cast<long>(key_len), master.end());
  Bytes plain;
  const Bytes got = ProtectWithSession(profile, master, /*rtcp=*/true, &plain);
  ASSERT_EQ(got.size(), plain.size() + 20);

  const Bytes ke = DeriveKey(mkey, msalt, 0x03, key_len);
  const Bytes ks = DeriveKey(mkey, msalt, 0x05, 12);
  const Bytes esrtcp(got.end() - 4, got.end());  // RFC 7714 §17: the ESRTCP word comes last
  ASSERT_EQ(esrtcp[0] & 0x80, 0x80);
  // §9.1: IV = (00 00 || SSRC || 00 00 || 0 || index) XOR salt.
  Bytes iv(12, 0);
  for (int b = 0; b < 4; ++b) iv[2 + b] = static_cast<uint8_t>(kSsrc >> (24 - 8 * b));
  iv[8] = esrtcp[0] & 0x7F;
  iv[9] = esrtcp[1];
  iv[10] = esrtcp[2];
  iv[11] = esrtcp[3];
  for (size_t i = 0; i < 12; ++i) iv[i] ^= ks[i];
  Bytes aad(plain.begin(), plain.begin() + 8);  // §9.2: first 8 bytes || ESRTCP word
  aad.insert(aad.end(), esrtcp.begin(), esrtcp.end());
  Bytes expected(plain.begin(), plain.begin() + 8);
  const Bytes sealed = AesGcmSeal(ke, iv, aad, Bytes(plain.begin() + 8, plain.end()));
  expected.insert(expected.end(), sealed.begin(), sealed.end());
  expected.insert(expected.end(), esrtcp.begin(), esrtcp.end());
  EXPECT_EQ(got, expected);
}

TEST_P(SrtpKatTest, AeadAes128GcmRtp) { CheckGcmRtp(SrtpProfile::kAeadAes128Gcm); }
TEST_P(SrtpKatTest, AeadAes256GcmRtp) { CheckGcmRtp(SrtpProfile::kAeadAes256Gcm); }
TEST_P(SrtpKatTest, AeadAes128GcmRtcp) { CheckGcmRtcp(SrtpProfile::kAeadAes128Gcm); }
TEST_P(SrtpKatTest, AeadAes256GcmRtcp) { CheckGcmRtcp(SrtpProfile::kAeadAes256Gcm); }

// RFC 3711 §3.4: E = 0 marks an SRTCP packet that is authenticated but not
// encrypted. The EVP receiver accepts it (libsrtp refuses it as a policy
// mismatch, so this one is EVP-only).
TEST(SrtpKatEvpTest, AesCmUnencryptedSrtcpIsAccepted) {
  const SrtpProfile profile = SrtpProfile::kAes128CmHmacSha1_80;
  const Bytes master = srtp_test::TestKey(profile, 0x42);
  const Bytes mkey(master.begin(), master.begin() + 16);
  const Bytes msalt(master.begin() + 16, master.end());
  const Bytes ka = DeriveKey(mkey, msalt, 0x04, 20);
  size_t len = 0;
  Bytes plain = srtp_test::MakeRtcp(kSsrc, &len);
  plain.resize(len);
  Bytes wire = plain;
  wire.insert(wire.end(), {0x00, 0x00, 0x00, 0x05});  // E = 0, index 5
  const Bytes tag = HmacSha1_80(ka, wire);
  wire.insert(wire.end(), tag.begin(), tag.end());

  Result<std::unique_ptr<SrtpSession>> in = SrtpSession::Create(profile, master, Dir::kInbound);
  ASSERT_TRUE(in.ok());
  Bytes bad = wire;
  bad[12] ^= 0x01;  // the clear payload is authenticated
  size_t bad_len = bad.size();
  EXPECT_EQ((*in)->UnprotectRtcp(bad, &bad_len).code(), "srtp_auth_failed");
  size_t wire_len = wire.size();
  ASSERT_TRUE((*in)->UnprotectRtcp(wire, &wire_len).ok());
  wire.resize(wire_len);
  EXPECT_EQ(wire, plain);
}

INSTANTIATE_TEST_SUITE_P(BothImpls, SrtpKatTest, testing::ValuesIn(srtp_test::kImpls),
                         [](const testing::TestParamInfo<srtp_test::SrtpImpl>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace aegis::rtc
