#include "rtc/stun/stun_message.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "crypto/primitives.h"
#include "rfc5769_vectors.h"

namespace aegis::rtc {
namespace {

using testing::kRfc5769LongTermRequest;
using testing::kRfc5769Password;
using testing::kRfc5769Request;
using testing::kRfc5769ResponseV4;
using testing::kRfc5769ResponseV6;

using Bytes = std::vector<uint8_t>;

constexpr StunTransactionId kTid = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
constexpr StunTransactionId kRfcTid = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
                                       0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

Bytes ToBytes(std::span<const uint8_t> s) { return Bytes(s.begin(), s.end()); }

// Header + raw attribute bytes, with a correct length field.
Bytes MakeMessage(const Bytes& attrs, uint16_t type = 0x0001) {
  // Built with push_back: GCC 12 at -O2 reports a false -Warray-bounds for
  // vector::insert after an initializer-list construction.
  Bytes m;
  m.reserve(20 + attrs.size());
  for (const uint8_t b :
       {static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type),
        static_cast<uint8_t>(attrs.size() >> 8), static_cast<uint8_t>(attrs.size()), uint8_t{0x21},
        uint8_t{0x12}, uint8_t{0xa4}, uint8_t{0x42}}) {
    m.push_back(b);
  }
  for (const uint8_t b : kTid) m.push_back(b);
  for (const uint8_t b : attrs) m.push_back(b);
  return m;
}

Bytes Attr(uint16_t type, const Bytes& value, size_t declared_len = SIZE_MAX) {
  const size_t len = declared_len == SIZE_MAX ? value.size() : declared_len;
  Bytes a = {static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type),
             static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len)};
  a.insert(a.end(), value.begin(), value.end());
  while (a.size() % 4 != 0) a.push_back(0);
  return a;
}

Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// --- RFC 5769 (STUN-01)

TEST(StunRfc5769, SampleRequest) {
  ASSERT_TRUE(IsStun(kRfc5769Request));
  auto parsed = StunMessage::Parse(kRfc5769Request);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const StunMessage& m = *parsed;
  EXPECT_EQ(m.method(), kStunMethodBinding);
  EXPECT_EQ(m.message_class(), StunClass::kRequest);
  EXPECT_TRUE(std::equal(kRfcTid.begin(), kRfcTid.end(), m.transaction_id().begin()));
  EXPECT_EQ(m.software(), "STUN test client");
  EXPECT_EQ(m.priority(), 0x6e0001ffu);
  EXPECT_EQ(m.ice_controlled(), 0x932ff9b151263b36ull);
  EXPECT_FALSE(m.ice_controlling().has_value());
  EXPECT_FALSE(m.use_candidate());
  EXPECT_EQ(m.username(), "evtj:h6vY");
  EXPECT_TRUE(m.has_message_integrity());
  EXPECT_TRUE(m.has_fingerprint());
  EXPECT_TRUE(m.unknown_comprehension_required().empty());
  EXPECT_EQ(m.attribute_count(), 6u);
  EXPECT_TRUE(m.CheckIntegrity(kRfc5769Password));
  EXPECT_TRUE(m.CheckFingerprint());
  EXPECT_FALSE(m.CheckIntegrity(std::string_view("VOkJxbRl1RmTxUk/WvJxBu")));
  EXPECT_FALSE(m.CheckIntegrity(std::string_view("")));
}

TEST(StunRfc5769, SampleIpv4Response) {
  ASSERT_TRUE(IsStun(kRfc5769ResponseV4));
  auto parsed = StunMessage::Parse(kRfc5769ResponseV4);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->message_class(), StunClass::kSuccessResponse);
  EXPECT_EQ(parsed->method(), kStunMethodBinding);
  EXPECT_EQ(parsed->software(), "test vector");
  EXPECT_EQ(parsed->xor_mapped_address(), Endpoint::Parse("192.0.2.1", 32853));
  EXPECT_TRUE(parsed->CheckIntegrity(kRfc5769Password));
  EXPECT_TRUE(parsed->CheckFingerprint());
}

TEST(StunRfc5769, SampleIpv6Response) {
  auto parsed = StunMessage::Parse(kRfc5769ResponseV6);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->message_class(), StunClass::kSuccessResponse);
  EXPECT_EQ(parsed->xor_mapped_address(),
            Endpoint::Parse("2001:db8:1234:5678:11:2233:4455:6677", 32853));
  EXPECT_TRUE(parsed->CheckIntegrity(kRfc5769Password));
  EXPECT_TRUE(parsed->CheckFingerprint());
}

TEST(StunRfc5769, LongTermRequest) {
  auto parsed = StunMessage::Parse(kRfc5769LongTermRequest);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const StunMessage& m = *parsed;
  EXPECT_EQ(m.username(),
            "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9");
  EXPECT_TRUE(m.has_message_integrity());
  EXPECT_FALSE(m.has_fingerprint());
  EXPECT_FALSE(m.CheckFingerprint());
  // REALM and NONCE are recognised, not "unknown comprehension-required".
  EXPECT_TRUE(m.unknown_comprehension_required().empty());
  // Long-term key = MD5(username ":" realm ":" SASLprep(password)); the RFC
  // gives the prepared password "TheMatrIX".
  const std::string input = std::string(*m.username()) + ":example.org:TheMatrIX";
  std::array<uint8_t, 16> key{};
  unsigned int key_len = 0;
  ASSERT_EQ(EVP_Digest(input.data(), input.size(), key.data(), &key_len, EVP_md5(), nullptr), 1);
  EXPECT_TRUE(m.CheckIntegrity(std::span<const uint8_t>(key)));
  key[0] ^= 1;
  EXPECT_FALSE(m.CheckIntegrity(std::span<const uint8_t>(key)));
}

// Any single-bit flip of the sample request is rejected by Parse, MI or FP.
TEST(StunRfc5769, EveryBitFlipIsDetected) {
  for (size_t i = 0; i < sizeof(kRfc5769Request); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes m(std::begin(kRfc5769Request), std::end(kRfc5769Request));
      m[i] ^= static_cast<uint8_t>(1 << bit);
      auto parsed = StunMessage::Parse(m);
      if (!parsed.ok()) continue;
      EXPECT_FALSE(parsed->CheckIntegrity(kRfc5769Password) && parsed->CheckFingerprint())
          << "byte " << i << " bit " << bit;
    }
  }
}

// The builder reproduces the vector's XOR-MAPPED-ADDRESS and a verifiable MI/FP.
TEST(StunRfc5769, BuilderMatchesIpv4Response) {
  std::array<uint8_t, 128> buf{};
  StunMessageBuilder b(buf, kStunMethodBinding, StunClass::kSuccessResponse, kRfcTid);
  ASSERT_TRUE(b.AddSoftware("test vector").ok());
  ASSERT_TRUE(b.AddXorMappedAddress(*Endpoint::Parse("192.0.2.1", 32853)).ok());
  ASSERT_TRUE(b.AddMessageIntegrity(kRfc5769Password).ok());
  ASSERT_TRUE(b.AddFingerprint().ok());
  auto built = b.Finish();
  ASSERT_TRUE(built.ok());
  ASSERT_EQ(built->size(), sizeof(kRfc5769ResponseV4));
  // Identical up to SOFTWARE's padding (the RFC pads with a space, we with 0).
  const Bytes got = ToBytes(*built);
  const Bytes want(std::begin(kRfc5769ResponseV4), std::end(kRfc5769ResponseV4));
  EXPECT_TRUE(std::equal(got.begin(), got.begin() + 35, want.begin()));
  EXPECT_TRUE(std::equal(got.begin() + 36, got.begin() + 48, want.begin() + 36));
  auto parsed = StunMessage::Parse(*built);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->CheckIntegrity(kRfc5769Password));
  EXPECT_TRUE(parsed->CheckFingerprint());
}

// Same with the pad byte set to the RFC's 0x20: byte-for-byte equal.
TEST(StunRfc5769, BuilderByteExactWithRfcPadding) {
  auto check = [](std::span<const uint8_t> want, const char* ip) {
    std::array<uint8_t, 128> buf{};
    StunMessageBuilder b(buf, kStunMethodBinding, StunClass::kSuccessResponse, kRfcTid);
    ASSERT_TRUE(b.AddSoftware("test vector").ok());
    buf[35] = 0x20;  // pad byte of SOFTWARE, before MI/FP are computed
    ASSERT_TRUE(b.AddXorMappedAddress(*Endpoint::Parse(ip, 32853)).ok());
    ASSERT_TRUE(b.AddMessageIntegrity(kRfc5769Password).ok());
    ASSERT_TRUE(b.AddFingerprint().ok());
    auto built = b.Finish();
    ASSERT_TRUE(built.ok());
    EXPECT_EQ(ToBytes(*built), ToBytes(want)) << ip;
  };
  check(kRfc5769ResponseV4, "192.0.2.1");
  check(kRfc5769ResponseV6, "2001:db8:1234:5678:11:2233:4455:6677");
}

// --- Classifier (MX-01/MX-02 for STUN)

TEST(StunClassifier, FirstByteTable) {
  for (int b = 0; b < 256; ++b) {
    Bytes m(std::begin(kRfc5769Request), std::end(kRfc5769Request));
    m[0] = static_cast<uint8_t>(b);
    EXPECT_EQ(IsStun(m), b <= 3) << b;
  }
}

TEST(StunClassifier, LengthAndCookie) {
  Bytes m(std::begin(kRfc5769Request), std::end(kRfc5769Request));
  EXPECT_TRUE(IsStun(std::span<const uint8_t>(m).first(20)));
  EXPECT_FALSE(IsStun(std::span<const uint8_t>(m).first(19)));
  EXPECT_FALSE(IsStun(std::span<const uint8_t>(m).first(0)));
  m[7] ^= 1;
  EXPECT_FALSE(IsStun(m));
}

// --- Malformed inputs (FZ-08 STUN rows, STUN-04)

struct MalformedCase {
  const char* name;
  Bytes bytes;
  const char* code;
};

TEST(StunMalformed, Table) {
  const Bytes prio = Attr(stun_attr::kPriority, {0, 0, 0, 1});
  Bytes bad_top = MakeMessage(prio);
  bad_top[0] |= 0x80;
  Bytes bad_top2 = MakeMessage(prio);
  bad_top2[0] |= 0x40;
  Bytes bad_cookie = MakeMessage(prio);
  bad_cookie[4] = 0x22;
  Bytes len_not_4 = MakeMessage(prio);
  len_not_4[3] = 6;
  len_not_4.resize(20 + 6);
  Bytes len_too_big = MakeMessage(prio);
  len_too_big[3] = 12;
  Bytes len_too_small = MakeMessage(prio);
  len_too_small[3] = 4;
  Bytes many;
  for (size_t i = 0; i <= StunMessage::kMaxAttributes; ++i) {
    many = Cat({many, Attr(0x8050, {})});
  }
  Bytes huge;
  for (size_t i = 0; i < 370; ++i) huge = Cat({huge, Attr(0x8050, {})});
  Bytes username_513(513, 'a');
  const Bytes fp = Attr(stun_attr::kFingerprint, {0, 0, 0, 0});
  const Bytes header_only = MakeMessage({});

  const std::vector<MalformedCase> cases = {
      {"empty", {}, "stun_truncated_header"},
      {"one byte", {0x00}, "stun_truncated_header"},
      {"19-byte header", Bytes(header_only.begin(), header_only.begin() + 19),
       "stun_truncated_header"},
      {"top bit set", bad_top, "stun_bad_type"},
      {"second bit set", bad_top2, "stun_bad_type"},
      {"bad cookie", bad_cookie, "stun_bad_cookie"},
      {"length not multiple of 4", len_not_4, "stun_bad_length"},
      {"length beyond datagram", len_too_big, "stun_bad_length"},
      {"length short of datagram", len_too_small, "stun_bad_length"},
      {"attribute length beyond message",
       MakeMessage(Cat({Attr(stun_attr::kUsername, {'a', 'b', 'c', 'd'}, 200)})),
       "stun_attr_length"},
      {"attribute length 0xffff", MakeMessage(Attr(0x8050, {1, 2, 3, 4}, 0xffff)),
       "stun_attr_length"},
      {"attribute value ends at message end but padding does not",
       MakeMessage(Attr(stun_attr::kUsername, {'a', 'b', 'c', 'd', 'e'}, 5)), ""},
      {"attribute length 5 with 4 bytes left",
       MakeMessage(Attr(stun_attr::kUsername, {'a', 'b', 'c', 'd'}, 5)), "stun_attr_length"},
      {"fingerprint not last", MakeMessage(Cat({fp, prio})), "stun_fingerprint_not_last"},
      {"two fingerprints", MakeMessage(Cat({fp, fp})), "stun_fingerprint_not_last"},
      {"fingerprint length 8", MakeMessage(Attr(stun_attr::kFingerprint, {0, 0, 0, 0, 0, 0, 0, 0})),
       "stun_bad_fingerprint"},
      {"fingerprint length 0", MakeMessage(Attr(stun_attr::kFingerprint, {})),
       "stun_bad_fingerprint"},
      {"MI length 19", MakeMessage(Attr(stun_attr::kMessageIntegrity, Bytes(19, 0))),
       "stun_bad_message_integrity"},
      {"MI length 32", MakeMessage(Attr(stun_attr::kMessageIntegrity, Bytes(32, 0))),
       "stun_bad_message_integrity"},
      {"MI length 0", MakeMessage(Attr(stun_attr::kMessageIntegrity, {})),
       "stun_bad_message_integrity"},
      {"MI-SHA256 length 12", MakeMessage(Attr(stun_attr::kMessageIntegritySha256, Bytes(12, 0))),
       "stun_bad_message_integrity"},
      {"MI-SHA256 length 36", MakeMessage(Attr(stun_attr::kMessageIntegritySha256, Bytes(36, 0))),
       "stun_bad_message_integrity"},
      {"too many attributes", MakeMessage(many), "stun_too_many_attributes"},
      {"370 zero-length attributes", MakeMessage(huge), "stun_too_many_attributes"},
      {"PRIORITY length 0", MakeMessage(Attr(stun_attr::kPriority, {})), "stun_bad_attr_value"},
      {"PRIORITY length 8", MakeMessage(Attr(stun_attr::kPriority, Bytes(8, 0))),
       "stun_bad_attr_value"},
      {"USE-CANDIDATE with a value", MakeMessage(Attr(stun_attr::kUseCandidate, {1, 2, 3, 4})),
       "stun_bad_attr_value"},
      {"ICE-CONTROLLING length 4", MakeMessage(Attr(stun_attr::kIceControlling, {1, 2, 3, 4})),
       "stun_bad_attr_value"},
      {"ICE-CONTROLLED length 0", MakeMessage(Attr(stun_attr::kIceControlled, {})),
       "stun_bad_attr_value"},
      {"XOR-MAPPED family 3",
       MakeMessage(Attr(stun_attr::kXorMappedAddress, {0, 3, 0, 0, 1, 2, 3, 4})),
       "stun_bad_attr_value"},
      {"XOR-MAPPED v4 with 16 bytes",
       MakeMessage(Attr(stun_attr::kXorMappedAddress, Cat({{0, 1, 0, 0}, Bytes(16, 0)}))),
       "stun_bad_attr_value"},
      {"XOR-MAPPED v6 with 4 bytes",
       MakeMessage(Attr(stun_attr::kXorMappedAddress, {0, 2, 0, 0, 1, 2, 3, 4})),
       "stun_bad_attr_value"},
      {"XOR-MAPPED length 0", MakeMessage(Attr(stun_attr::kXorMappedAddress, {})),
       "stun_bad_attr_value"},
      {"ERROR-CODE length 2", MakeMessage(Attr(stun_attr::kErrorCode, {0, 0})),
       "stun_bad_attr_value"},
      {"ERROR-CODE class 7", MakeMessage(Attr(stun_attr::kErrorCode, {0, 0, 7, 0})),
       "stun_bad_attr_value"},
      {"ERROR-CODE class 2", MakeMessage(Attr(stun_attr::kErrorCode, {0, 0, 2, 0})),
       "stun_bad_attr_value"},
      {"ERROR-CODE number 100", MakeMessage(Attr(stun_attr::kErrorCode, {0, 0, 4, 100})),
       "stun_bad_attr_value"},
      {"UNKNOWN-ATTRIBUTES odd", MakeMessage(Attr(stun_attr::kUnknownAttributes, {0, 1, 0})),
       "stun_bad_attr_value"},
      {"USERNAME 513 bytes", MakeMessage(Attr(stun_attr::kUsername, username_513)),
       "stun_bad_attr_value"},
      {"MI then out-of-bounds attribute",
       MakeMessage(
           Cat({Attr(stun_attr::kMessageIntegrity, Bytes(20, 0)), Attr(0x8050, {1, 2, 3, 4}, 64)})),
       "stun_attr_length"},
  };
  for (const MalformedCase& c : cases) {
    auto parsed = StunMessage::Parse(c.bytes);
    if (std::string(c.code).empty()) {
      // Control row: a well-formed neighbour of a malformed case parses.
      EXPECT_TRUE(parsed.ok()) << c.name << ": " << parsed.status().ToString();
      continue;
    }
    ASSERT_FALSE(parsed.ok()) << c.name;
    EXPECT_EQ(parsed.status().code(), c.code) << c.name << ": " << parsed.status().ToString();
    EXPECT_FALSE(parsed.status().message().empty()) << c.name;
  }
}

// Truncating a valid message anywhere never crashes and never parses.
TEST(StunMalformed, EveryTruncationRejected) {
  for (size_t n = 0; n < sizeof(kRfc5769Request); ++n) {
    auto parsed = StunMessage::Parse(std::span<const uint8_t>(kRfc5769Request, n));
    EXPECT_FALSE(parsed.ok()) << n;
  }
}

TEST(StunParse, HeaderOnlyMessageIsValid) {
  const Bytes m = MakeMessage({});
  auto parsed = StunMessage::Parse(m);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->attribute_count(), 0u);
  EXPECT_FALSE(parsed->username().has_value());
  EXPECT_FALSE(parsed->priority().has_value());
  EXPECT_FALSE(parsed->xor_mapped_address().has_value());
  EXPECT_FALSE(parsed->error_code().has_value());
  EXPECT_TRUE(parsed->unknown_attributes().empty());
  EXPECT_FALSE(parsed->CheckIntegrity(kRfc5769Password));
  EXPECT_FALSE(parsed->CheckFingerprint());
}

TEST(StunParse, MaxAttributesAccepted) {
  Bytes attrs;
  for (size_t i = 0; i < StunMessage::kMaxAttributes; ++i) {
    attrs = Cat({attrs, Attr(0x8050, {})});
  }
  EXPECT_TRUE(StunMessage::Parse(MakeMessage(attrs)).ok());
}

TEST(StunParse, MessageClassesAndMethods) {
  struct Row {
    uint16_t type;
    uint16_t method;
    StunClass cls;
  };
  for (const Row& r :
       {Row{0x0001, 0x001, StunClass::kRequest}, Row{0x0011, 0x001, StunClass::kIndication},
        Row{0x0101, 0x001, StunClass::kSuccessResponse},
        Row{0x0111, 0x001, StunClass::kErrorResponse}, Row{0x0003, 0x003, StunClass::kRequest},
        Row{0x3EEF, 0xFFF, StunClass::kRequest}, Row{0x3FFF, 0xFFF, StunClass::kErrorResponse}}) {
    auto parsed = StunMessage::Parse(MakeMessage({}, r.type));
    ASSERT_TRUE(parsed.ok()) << r.type;
    EXPECT_EQ(parsed->method(), r.method) << r.type;
    EXPECT_EQ(parsed->message_class(), r.cls) << r.type;
  }
}

// RFC 8489 §14.5: attributes after MI other than MI-SHA256/FINGERPRINT are ignored.
TEST(StunParse, AttributesAfterIntegrityAreIgnored) {
  std::array<uint8_t, 256> buf{};
  StunMessageBuilder b(buf, kStunMethodBinding, StunClass::kRequest, kTid);
  ASSERT_TRUE(b.AddUsername("a:b").ok());
  ASSERT_TRUE(b.AddMessageIntegrity(std::string_view("password")).ok());
  auto built = b.Finish();
  ASSERT_TRUE(built.ok());
  // Append PRIORITY, USERNAME and an unknown required attribute after MI by hand,
  // then a FINGERPRINT computed with a second builder pass over the bytes.
  Bytes m = ToBytes(*built);
  m = Cat({m, Attr(stun_attr::kPriority, {0, 0, 0, 9}), Attr(stun_attr::kUsername, {'x'}),
           Attr(0x7777, {1, 2, 3, 4}), Attr(stun_attr::kMessageIntegritySha256, Bytes(32, 0))});
  m[2] = static_cast<uint8_t>((m.size() - 20) >> 8);
  m[3] = static_cast<uint8_t>(m.size() - 20);
  auto parsed = StunMessage::Parse(m);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->username(), "a:b");
  EXPECT_FALSE(parsed->priority().has_value());
  EXPECT_TRUE(parsed->unknown_comprehension_required().empty());
  EXPECT_TRUE(parsed->has_message_integrity_sha256());
  EXPECT_TRUE(parsed->CheckIntegrity(std::string_view("password")));
}

TEST(StunParse, DuplicateAttributesFirstWins) {
  const Bytes m = MakeMessage(
      Cat({Attr(stun_attr::kPriority, {0, 0, 0, 1}), Attr(stun_attr::kPriority, {0, 0, 0, 2})}));
  auto parsed = StunMessage::Parse(m);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->priority(), 1u);
}

TEST(StunParse, UnknownAttributesClassified) {
  const Bytes m =
      MakeMessage(Cat({Attr(0x7001, {}), Attr(0xC057, {0, 1, 0, 0}), Attr(0x0002, {1, 2, 3, 4}),
                       Attr(0x7002, {}), Attr(0x7003, {}), Attr(0x7004, {}), Attr(0x7005, {})}));
  auto parsed = StunMessage::Parse(m);
  ASSERT_TRUE(parsed.ok());
  const auto unknown = parsed->unknown_comprehension_required();
  ASSERT_EQ(unknown.size(), StunMessage::kMaxUnknownRequired);
  EXPECT_EQ(unknown[0], 0x7001);
  EXPECT_EQ(unknown[1], 0x0002);
  EXPECT_EQ(unknown[2], 0x7002);
  EXPECT_EQ(unknown[3], 0x7003);
}

TEST(StunParse, IntegrityOverLargeMessageUsesHeapPath) {
  std::vector<uint8_t> buf(4096);
  StunMessageBuilder b(buf, kStunMethodBinding, StunClass::kRequest, kTid);
  ASSERT_TRUE(b.AddRaw(0x8050, Bytes(2000, 0x5a)).ok());
  ASSERT_TRUE(b.AddUsername("u:v").ok());
  ASSERT_TRUE(b.AddMessageIntegrity(std::string_view("pw")).ok());
  ASSERT_TRUE(b.AddFingerprint().ok());
  auto built = b.Finish();
  ASSERT_TRUE(built.ok());
  auto parsed = StunMessage::Parse(*built);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->CheckIntegrity(std::string_view("pw")));
  EXPECT_FALSE(parsed->CheckIntegrity(std::string_view("px")));
  EXPECT_TRUE(parsed->CheckFingerprint());
}

// --- Builder

TEST(StunBuilder, RequestRoundTrip) {
  std::array<uint8_t, 256> buf{};
  StunMessageBuilder b(buf, kStunMethodBinding, StunClass::kRequest, kTid);
  ASSERT_TRUE(b.AddUsername("abcd:efgh").ok());
  ASSERT_TRUE(b.AddPriority(0x7e7f00ff).ok());
  ASSERT_TRUE(b.AddIceControlling(0x0102030405060708ull).ok());
  ASSERT_TRUE(b.AddUseCandidate().ok());
  ASSERT_TRUE(b.AddSoftware("aegis").ok());
  ASSERT_TRUE(b.AddMessageIntegrity(std::string_view("0123456789012345678901")).ok());
  ASSERT_TRUE(b.AddFingerprint().ok());
  auto built = b.Finish();
  ASSERT_TRUE(built.ok());
  EXPECT_TRUE(IsStun(*built));
  auto parsed = StunMessage::Parse(*built);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->message_class(), StunClass::kRequest);
  EXPECT_EQ(parsed->username(), "abcd:efgh");
  EXPECT_EQ(parsed->priority(), 0x7e7f00ffu);
  EXPECT_EQ(parsed->ice_controlling(), 0x0102030405060708ull);
  EXPECT_TRUE(parsed->use_candidate());
  EXPECT_EQ(parsed->software(), "aegis");
  EXPECT_TRUE(parsed->CheckIntegrity(std::string_view("0123456789012345678901")));
  EXPECT_TRUE(parsed->CheckFingerprint());
  EXPECT_TRUE(std::equal(kTid.begin(), kTid.end(), parsed->transaction_id().begin()));
}

TEST(StunBuilder, ErrorResponseRoundTrip) {
  std::array<uint8_t, 256> buf{};
  StunMessageBuilder b(buf, kStunMethodBinding, StunClass::kErrorResponse, kTid);
  ASSERT_TRUE(b.AddErrorCode(420, "Unknown Attribute").ok());
  const std::array<uint16_t, 2> unknown = {0x7001, 0x0002};
  ASSERT_TRUE(b.AddUnknownAttributes(unknown).ok());
  ASSERT_TRUE(b.AddFingerprint().ok());
  auto built = b.Finish();
  ASSERT_TRUE(built.ok());
  auto parsed = StunMessage::Parse(*built);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->message_class(), StunClass::kErrorResponse);
  ASSERT_TRUE(parsed->error_code().has_value());
  EXPECT_EQ(parsed->error_code()->code, 420);
  EXPECT_EQ(parsed->error_code()->reason, "Unknown Attribute");
  EXPECT_EQ(ToBytes(parsed->unknown_attributes()), (Bytes{0x70, 0x01, 0x00, 0x02}));
  EXPECT_FALSE(parsed->has_message_integrity());
  EXPECT_TRUE(parsed->CheckFingerprint());
}

TEST(StunBuilder, ErrorCodesRoundTrip) {
  for (uint16_t code : {300, 400, 401, 420, 487, 500, 699}) {
    std::array<uint8_t, 64> buf{};
    StunMessageBuilder b(buf, kStunMethodBinding, StunClass::kErrorResponse, kTid);
    ASSERT_TRUE(b.AddErrorCode(code, "").ok());
    auto built = b.Finish();
    ASSERT_TRUE(built.ok());
    auto parsed = StunMessage::Parse(*built);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed->error_code()->code, code);
  }
}

TEST(StunBuilder, XorMappedAddressRoundTrip) {
  for (const char* ip :
       {"0.0.0.0", "255.255.255.255", "10.1.2.3", "::", "::1", "fe80::1:2:3:4", "2001:db8::ffff"}) {
    for (uint16_t port : {0, 1, 3478, 65535}) {
      std::array<uint8_t, 64> buf{};
      StunMessageBuilder b(buf, kStunMethodBinding, StunClass::kSuccessResponse, kTid);
      const Endpoint ep = *Endpoint::Parse(ip, port);
      ASSERT_TRUE(b.AddXorMappedAddress(ep).ok());
      auto built = b.Finish();
      ASSERT_TRUE(built.ok());
      auto parsed = StunMessage::Parse(*built);
      ASSERT_TRUE(parsed.ok());
      EXPECT_EQ(parsed->xor_mapped_address(), ep) << ip << " " << port;
    }
  }
}

TEST(StunBuilder, BufferTooSmallAtEveryStage) {
  // Full message is 20 + 8 (USERNAME "u:v") + 24 + 8 = 60 bytes.
  for (size_t size = 0; size < 60; ++size) {
    std::vector<uint8_t> buf(size);
    StunMessageBuilder b(buf, kStunMethodBinding, StunClass::kRequest, kTid);
    (void)b.AddUsername("u:v");
    (void)b.AddMessageIntegrity(std::string_view("pw"));
    (void)b.AddFingerprint();
    auto built = b.Finish();
    ASSERT_FALSE(built.ok()) << size;
    EXPECT_EQ(built.status().code(), "stun_buffer_too_small") << size;
  }
  std::vector<uint8_t> buf(60);
  StunMessageBuilder b(buf, kStunMethodBinding, StunClass::kRequest, kTid);
  (void)b.AddUsername("u:v");
  (void)b.AddMessageIntegrity(std::string_view("pw"));
  (void)b.AddFingerprint();
  EXPECT_TRUE(b.Finish().ok());
}

TEST(StunBuilder, OrderAndValueErrors) {
  std::array<uint8_t, 256> buf{};
  {
    StunMessageBuilder b(buf, kStunMethodBinding, StunClass::kRequest, kTid);
    ASSERT_TRUE(b.AddMessageIntegrity(std::string_view("pw")).ok());
    EXPECT_EQ(b.AddPriority(1).code(), "stun_builder_order");
    EXPECT_FALSE(b.Finish().ok());
  }
  {
    StunMessageBuilder b(buf, kStunMethodBinding, StunClass::kRequest, kTid);
    ASSERT_TRUE(b.AddFingerprint().ok());
    EXPECT_EQ(b.AddMessageIntegrity(std::string_view("pw")).code(), "stun_builder_order");
  }
  {
    StunMessageBuilder b(buf, kStunMethodBinding, StunClass::kRequest, kTid);
    ASSERT_TRUE(b.AddFingerprint().ok());
    EXPECT_EQ(b.AddFingerprint().code(), "stun_builder_order");
  }
  {
    StunMessageBuilder b(buf, kStunMethodBinding, StunClass::kErrorResponse, kTid);
    EXPECT_EQ(b.AddErrorCode(299, "").code(), "stun_builder_value");
  }
  {
    StunMessageBuilder b(buf, kStunMethodBinding, StunClass::kErrorResponse, kTid);
    EXPECT_EQ(b.AddErrorCode(700, "").code(), "stun_builder_value");
  }
  {
    StunMessageBuilder b(buf, kStunMethodBinding, StunClass::kRequest, kTid);
    EXPECT_EQ(b.AddMessageIntegrity(std::string_view("")).code(), "stun_builder_value");
  }
  {
    StunMessageBuilder b(buf, 0x1000, StunClass::kRequest, kTid);
    EXPECT_EQ(b.Finish().status().code(), "stun_builder_value");
  }
  {
    std::vector<uint8_t> big(2048);
    StunMessageBuilder b(big, kStunMethodBinding, StunClass::kRequest, kTid);
    EXPECT_EQ(b.AddUsername(std::string(513, 'a')).code(), "stun_builder_value");
  }
}

// MI with a FINGERPRINT after it still verifies (the length field grew by 8
// after the HMAC was computed; CheckIntegrity must undo that).
TEST(StunIntegrity, FingerprintAfterIntegrity) {
  std::array<uint8_t, 128> buf{};
  StunMessageBuilder b(buf, kStunMethodBinding, StunClass::kRequest, kTid);
  ASSERT_TRUE(b.AddUsername("a:b").ok());
  ASSERT_TRUE(b.AddMessageIntegrity(std::string_view("secret")).ok());
  auto without_fp = b.Finish();
  ASSERT_TRUE(without_fp.ok());
  const Bytes first = ToBytes(*without_fp);
  ASSERT_TRUE(b.AddFingerprint().ok());
  auto with_fp = b.Finish();
  ASSERT_TRUE(with_fp.ok());
  for (const Bytes& m : {first, ToBytes(*with_fp)}) {
    auto parsed = StunMessage::Parse(m);
    ASSERT_TRUE(parsed.ok());
    EXPECT_TRUE(parsed->CheckIntegrity(std::string_view("secret")));
  }
}

TEST(Endpoint, ParseAndFormat) {
  EXPECT_EQ(Endpoint::Parse("192.0.2.1", 80)->ToString(), "192.0.2.1:80");
  EXPECT_EQ(Endpoint::Parse("2001:db8::1", 443)->ToString(), "[2001:db8::1]:443");
  EXPECT_FALSE(Endpoint::Parse("", 1).has_value());
  EXPECT_FALSE(Endpoint::Parse("999.1.1.1", 1).has_value());
  EXPECT_FALSE(Endpoint::Parse(std::string(100, '1'), 1).has_value());
  EXPECT_NE(*Endpoint::Parse("10.0.0.1", 1), *Endpoint::Parse("10.0.0.1", 2));
  EXPECT_NE(*Endpoint::Parse("::a00:1", 1), *Endpoint::Parse("10.0.0.1", 1));
  EXPECT_EQ(EndpointHash{}(*Endpoint::Parse("10.0.0.1", 1)),
            EndpointHash{}(*Endpoint::Parse("10.0.0.1", 1)));
}

}  // namespace
}  // namespace aegis::rtc
