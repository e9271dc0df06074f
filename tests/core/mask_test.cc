#include "core/mask.h"

#include <gtest/gtest.h>

#include <random>

namespace aegis {
namespace {

TEST(MaskUserId, KeepsTwoLeadingAndTrailing) {
  EXPECT_EQ(MaskUserId("alice_ce"), "al***ce");
  EXPECT_EQ(MaskUserId("abcdef"), "ab***ef");
}

TEST(MaskUserId, ShortIdsAreNeverRevealed) {
  EXPECT_EQ(MaskUserId("alice"), "al***ce");
  EXPECT_EQ(MaskUserId("anna"), "a***");
  EXPECT_EQ(MaskUserId("bob"), "b***");
  EXPECT_EQ(MaskUserId("ab"), "***");
  EXPECT_EQ(MaskUserId(""), "***");
}

TEST(MaskIp, Ipv4KeepsFirstTwoOctets) {
  EXPECT_EQ(MaskIp("10.1.2.3"), "10.1.*.*");
  EXPECT_EQ(MaskIp("192.168.77.254:4433"), "192.168.*.*");
}

TEST(MaskIp, Ipv6KeepsFirstTwoGroups) {
  EXPECT_EQ(MaskIp("2001:db8:1:2::5"), "2001:db8:*");
  EXPECT_EQ(MaskIp("[2001:db8::1]:443"), "2001:db8:*");
  EXPECT_EQ(MaskIp("::ffff:10.9.8.7"), "10.9.*.*");
}

TEST(MaskIp, GarbageIsFullyMasked) {
  EXPECT_EQ(MaskIp("not-an-ip"), "*");
  EXPECT_EQ(MaskIp(""), "*");
  EXPECT_EQ(MaskIp("1.2.3.4.5"), "*");
}

TEST(MaskEmail, KeepsDomainOnly) {
  EXPECT_EQ(MaskEmail("jane.doe@example.com"), "***@example.com");
  EXPECT_EQ(MaskEmail("broken"), "***");
  EXPECT_EQ(MaskEmail("x@"), "***");
}

TEST(MaskCredentialId, KeepsPrefixAndTwoChars) {
  EXPECT_EQ(MaskCredentialId("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"), "AKID***LE");
  EXPECT_EQ(MaskCredentialId("short"), "***");
}

TEST(ScrubSecrets, RemovesKeyLikeRuns) {
  const std::string hex_key = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  const std::string text = "loaded key " + hex_key + " for app";
  const std::string out = ScrubSecrets(text);
  EXPECT_EQ(out.find(hex_key), std::string::npos);
  EXPECT_NE(out.find("[redacted]"), std::string::npos);
  EXPECT_NE(out.find("for app"), std::string::npos);
}

// PD-04 property: random credentials in the shapes Aegis issues never survive.
TEST(ScrubSecrets, RandomCredentialsNeverSurvive) {
  std::mt19937_64 rng(42);
  const std::string alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const std::string letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const std::string hex = "0123456789abcdef";
  auto random_from = [&](const std::string& alphabet, size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out.push_back(alphabet[rng() % alphabet.size()]);
    return out;
  };
  for (int i = 0; i < 2000; ++i) {
    for (const std::string& secret : {random_from(alnum, 32), random_from(letters, 32),
                                      random_from(hex, 64), "AKID" + random_from(alnum, 32)}) {
      const std::string text = "value " + secret + ", done";
      EXPECT_EQ(ScrubSecrets(text).find(secret), std::string::npos) << secret;
    }
  }
}

TEST(ScrubSecrets, KeepsUuidsWordsAndPaths) {
  const std::string text =
      "request 3f2b8c1e-6a7d-4e2f-9b1c-0d4e5f6a7b8c done at /var/lib/aegis/apps/1400000001.db "
      "internationalization";
  EXPECT_EQ(ScrubSecrets(text), text);
}

}  // namespace
}  // namespace aegis
