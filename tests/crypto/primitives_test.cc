#include "crypto/primitives.h"

#include <gtest/gtest.h>

#include <set>

#include "crypto/aead.h"

namespace aegis::crypto {
namespace {

TEST(Sha256, Fips180Vector) {
  EXPECT_EQ(HexEncode(Sha256(AsBytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(HmacSha256, Rfc4231Case2) {
  EXPECT_EQ(HexEncode(HmacSha256(AsBytes("Jefe"), AsBytes("what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha1, Rfc2202Case2) {
  EXPECT_EQ(HexEncode(HmacSha1(AsBytes("Jefe"), AsBytes("what do ya want for nothing?"))),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

TEST(Base64, Rfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(AsBytes(plain)), encoded);
    auto decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.has_value()) << encoded;
    EXPECT_EQ(std::string(decoded->begin(), decoded->end()), plain);
  }
}

TEST(Base64, RejectsMalformed) {
  for (const char* bad : {"Zg=", "Zg", "Z===", "Zm9v!", "Zh==", "Zm8=Zm8=", "=Zm8", "Zm9=v"}) {
    EXPECT_FALSE(Base64Decode(bad).has_value()) << bad;
  }
}

TEST(Hex, RoundTripAndRejects) {
  const Bytes data = {0x00, 0x7f, 0x80, 0xff};
  EXPECT_EQ(HexEncode(data), "007f80ff");
  EXPECT_EQ(*HexDecode("007F80ff"), data);
  EXPECT_FALSE(HexDecode("abc").has_value());
  EXPECT_FALSE(HexDecode("zz").has_value());
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEqual(AsBytes("abc"), AsBytes("abc")));
  EXPECT_FALSE(ConstantTimeEqual(AsBytes("abc"), AsBytes("abd")));
  EXPECT_FALSE(ConstantTimeEqual(AsBytes("abc"), AsBytes("abcd")));
}

TEST(Random, AlnumAndUuidShapes) {
  const std::string s = RandomAlnum(200);
  EXPECT_EQ(s.size(), 200u);
  for (char c : s) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)));
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string u = Uuid4();
    ASSERT_EQ(u.size(), 36u);
    EXPECT_EQ(u[14], '4');
    EXPECT_TRUE(seen.insert(u).second);
  }
}

TEST(AesGcm, SealOpenAndTamperDetection) {
  const Bytes key = RandomBytes(32);
  auto sealed = AesGcmSeal(key, AsBytes("aad"), AsBytes("secret payload"));
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->size(), 14 + kAeadOverhead);
  auto opened = AesGcmOpen(key, AsBytes("aad"), *sealed);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(AsString(*opened), "secret payload");

  EXPECT_EQ(AesGcmOpen(key, AsBytes("other"), *sealed).status().code(), "crypto_auth_failed");
  Bytes flipped = *sealed;
  flipped[15] ^= 1;
  EXPECT_EQ(AesGcmOpen(key, AsBytes("aad"), flipped).status().code(), "crypto_auth_failed");
  EXPECT_EQ(AesGcmOpen(RandomBytes(32), AsBytes("aad"), *sealed).status().code(),
            "crypto_auth_failed");
  EXPECT_EQ(AesGcmOpen(key, AsBytes("aad"), Bytes(10)).status().code(), "crypto_bad_ciphertext");
  EXPECT_EQ(AesGcmSeal(Bytes(16), {}, {}).status().code(), "crypto_bad_key");
}

TEST(AesGcm, NoncesDiffer) {
  const Bytes key = RandomBytes(32);
  auto a = AesGcmSeal(key, {}, AsBytes("x"));
  auto b = AesGcmSeal(key, {}, AsBytes("x"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
}

}  // namespace
}  // namespace aegis::crypto
