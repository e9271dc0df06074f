#include "rtc/dtls/dtls_certificate.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <regex>
#include <vector>

namespace aegis::rtc {
namespace {

TEST(FingerprintFormat, UppercasePairsJoinedByColon) {
  const std::vector<uint8_t> digest = {0xab, 0x01, 0xff, 0x00};
  EXPECT_EQ(FormatFingerprint(digest), "AB:01:FF:00");
  EXPECT_EQ(FormatFingerprint({}), "");
}

TEST(FingerprintFormat, ParseRoundTripAndCaseInsensitive) {
  auto parsed = ParseFingerprint("ab:01:Ff:00");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, (std::vector<uint8_t>{0xab, 0x01, 0xff, 0x00}));
  EXPECT_EQ(FormatFingerprint(*parsed), "AB:01:FF:00");
}

TEST(FingerprintFormat, ParseRejectsMalformed) {
  for (const char* bad :
       {"", "A", "AB:", "AB:C", "AB-CD", "ABCD", "GG:00", "AB::CD", ":AB", " AB:CD", "AB:CD "}) {
    auto parsed = ParseFingerprint(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), "dtls_fingerprint");
    }
  }
}

TEST(FingerprintFormat, DigestNames) {
  EXPECT_EQ(FingerprintDigest("sha-256"), EVP_sha256());
  EXPECT_EQ(FingerprintDigest("SHA-256"), EVP_sha256());
  EXPECT_EQ(FingerprintDigest("sha-384"), EVP_sha384());
  EXPECT_EQ(FingerprintDigest("sha-512"), EVP_sha512());
  EXPECT_EQ(FingerprintDigest("sha-1"), nullptr);
  EXPECT_EQ(FingerprintDigest("md5"), nullptr);
  EXPECT_EQ(FingerprintDigest(""), nullptr);
}

TEST(DtlsCertificate, GeneratesP256SelfSignedWithSdpFingerprint) {
  auto cert = DtlsCertificate::Generate();
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  const DtlsCertificate& c = **cert;

  EVP_PKEY* key = c.private_key();
  ASSERT_NE(key, nullptr);
  EXPECT_TRUE(EVP_PKEY_is_a(key, "EC"));
  char group[64] = {};
  size_t group_len = 0;
  ASSERT_EQ(EVP_PKEY_get_group_name(key, group, sizeof(group), &group_len), 1);
  EXPECT_STREQ(group, "prime256v1");
  EXPECT_EQ(X509_check_private_key(c.certificate(), key), 1);
  EXPECT_EQ(X509_verify(c.certificate(), key), 1);  // self-signed

  // "sha-256 " + 32 uppercase hex pairs.
  const std::string sdp = c.SdpFingerprint();
  EXPECT_TRUE(std::regex_match(sdp, std::regex("sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}"))) << sdp;
  auto digest = CertificateDigest(c.certificate(), EVP_sha256());
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ(c.fingerprint(), FormatFingerprint(*digest));
}

TEST(DtlsCertificate, EachGenerationIsFresh) {
  auto a = DtlsCertificate::Generate();
  auto b = DtlsCertificate::Generate();
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_NE((*a)->fingerprint(), (*b)->fingerprint());
}

}  // namespace
}  // namespace aegis::rtc
