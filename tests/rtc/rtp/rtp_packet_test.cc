#include "rtc/rtp/rtp_packet.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_packets.h"

namespace aegis::rtc {
namespace {

using testing::Hex;

std::string ToHex(std::span<const uint8_t> bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xF];
  }
  return out;
}

TEST(RtpPacket, ParsesChromeOpusWithExtensions) {
  std::vector<uint8_t> bytes = Hex(testing::kChromeOpus);
  Result<RtpPacket> parsed = RtpPacket::Parse(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const RtpPacket& p = *parsed;
  EXPECT_EQ(p.payload_type(), 111);
  EXPECT_FALSE(p.marker());
  EXPECT_EQ(p.sequence_number(), 0x3a2b);
  EXPECT_EQ(p.timestamp(), 0x5f3e2d10u);
  EXPECT_EQ(p.ssrc(), 0x1b2c3d4eu);
  EXPECT_EQ(p.csrc_count(), 0);
  EXPECT_EQ(p.extension_format(), RtpPacket::ExtensionFormat::kOneByte);
  EXPECT_EQ(p.header_size(), 28u);
  EXPECT_EQ(ToHex(p.payload()), "780b45c19e2a5d07");
  EXPECT_EQ(p.padding_size(), 0u);
  ASSERT_TRUE(p.GetExtension(1).has_value());
  EXPECT_EQ(ToHex(*p.GetExtension(1)), "9f");
  EXPECT_EQ(p.GetAbsSendTime(2), 0x4b1c3eu);
  EXPECT_EQ(p.GetTransportSequenceNumber(3), 300);
  EXPECT_EQ(p.GetMid(4), "0");
  EXPECT_FALSE(p.GetExtension(5).has_value());
  EXPECT_FALSE(p.GetExtension(0).has_value());
  EXPECT_FALSE(p.GetExtension(15).has_value());
  EXPECT_FALSE(p.GetAbsSendTime(3).has_value());  // wrong size for the type
  int elements = 0;
  p.ForEachExtension([&](uint8_t, std::span<const uint8_t>) { ++elements; });
  EXPECT_EQ(elements, 4);
}

TEST(RtpPacket, ParsesCapturedChromeVideoOneByte) {
  std::vector<uint8_t> bytes = Hex(testing::kCapturedVideoOneByte);
  Result<RtpPacket> p = RtpPacket::Parse(bytes);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->payload_type(), 45);
  EXPECT_EQ(p->sequence_number(), 6751);
  EXPECT_EQ(p->timestamp(), 3557360969u);
  EXPECT_EQ(p->ssrc(), 0xf7b16e83u);
  EXPECT_EQ(p->GetAbsSendTime(2), 0xf34350u);
  EXPECT_EQ(p->GetTransportSequenceNumber(4), 0x009b);
  EXPECT_EQ(ToHex(*p->GetExtension(13)), "810045");
  EXPECT_TRUE(p->payload().empty());
}

TEST(RtpPacket, ParsesCapturedChromeVideoWithMarker) {
  std::vector<uint8_t> bytes = Hex(testing::kCapturedVideoMarker);
  Result<RtpPacket> p = RtpPacket::Parse(bytes);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->marker());
  EXPECT_EQ(p->sequence_number(), 6612);
  EXPECT_EQ(p->timestamp(), 3557156759u);
  EXPECT_EQ(p->GetAbsSendTime(2), 0xea432bu);
  EXPECT_EQ(p->GetTransportSequenceNumber(4), 4);
  EXPECT_EQ(ToHex(*p->GetExtension(9)), "30");
  EXPECT_EQ(ToHex(*p->GetExtension(3)), "00");
  EXPECT_EQ(ToHex(*p->GetExtension(6)), "02");
  EXPECT_EQ(ToHex(*p->GetExtension(7)), "0100030009000a002300000000");
  EXPECT_EQ(ToHex(*p->GetExtension(13)), "400001");
}

TEST(RtpPacket, ParsesCapturedChromeVideoTwoByte) {
  std::vector<uint8_t> bytes = Hex(testing::kCapturedVideoTwoByte);
  Result<RtpPacket> p = RtpPacket::Parse(bytes);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->extension_format(), RtpPacket::ExtensionFormat::kTwoByte);
  EXPECT_EQ(p->sequence_number(), 25029);
  EXPECT_EQ(p->timestamp(), 2500464622u);
  EXPECT_EQ(p->GetAbsSendTime(2), 0x03f7aeu);
  EXPECT_EQ(p->GetTransportSequenceNumber(4), 2);
  EXPECT_EQ(ToHex(*p->GetExtension(7)), "01000100070007000a00000000");
  EXPECT_EQ(p->GetExtension(13)->size(), 33u);
  EXPECT_TRUE(p->payload().empty());
}

TEST(RtpPacket, CsrcsAndPadding) {
  // CC=2, P=1: 4 payload bytes then 3 padding bytes (last one = 3).
  std::vector<uint8_t> bytes = Hex("a2e00001 00000002 00000003 11111111 22222222 deadbeef 000003");
  Result<RtpPacket> p = RtpPacket::Parse(bytes);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->marker());
  EXPECT_EQ(p->payload_type(), 96);
  EXPECT_EQ(p->csrc_count(), 2);
  EXPECT_EQ(p->csrc(0), 0x11111111u);
  EXPECT_EQ(p->csrc(1), 0x22222222u);
  EXPECT_EQ(p->csrc(2), 0u);
  EXPECT_EQ(ToHex(p->payload()), "deadbeef");
  EXPECT_EQ(p->padding_size(), 3u);
  EXPECT_TRUE(p->has_padding_bit());
}

TEST(RtpPacket, PaddingOnlyProbeIsValid) {
  std::vector<uint8_t> bytes = Hex("a0600001 00000002 00000003 00000004");
  Result<RtpPacket> p = RtpPacket::Parse(bytes);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->payload().empty());
  EXPECT_EQ(p->padding_size(), 4u);
  EXPECT_FALSE(p->RtxOriginalSequenceNumber().ok());
}

TEST(RtpPacket, OpaqueExtensionProfileIsSkipped) {
  std::vector<uint8_t> bytes = Hex("90600001 00000002 00000003 abcd0001 ffffffff 01");
  Result<RtpPacket> p = RtpPacket::Parse(bytes);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->extension_format(), RtpPacket::ExtensionFormat::kOther);
  EXPECT_EQ(p->extension_profile(), 0xabcd);
  EXPECT_FALSE(p->GetExtension(15).has_value());
  EXPECT_EQ(ToHex(p->payload()), "01");
  std::array<uint8_t, 256> map{};
  EXPECT_FALSE(p->RemapExtensionIds(map).ok());
}

TEST(RtpPacket, ExtensionEdgeCases) {
  // One-byte: padding bytes, then id 15 stops processing (its junk ignored).
  std::vector<uint8_t> one = Hex("90600001 00000002 00000003 bede0002 00001055 f0ffffff");
  Result<RtpPacket> p = RtpPacket::Parse(one);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(ToHex(*p->GetExtension(1)), "55");
  // Two-byte: zero-length element, padding, appbits in the profile.
  std::vector<uint8_t> two = Hex("90600001 00000002 00000003 100f0002 05000007 02aabb00");
  p = RtpPacket::Parse(two);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(p->GetExtension(5).has_value());
  EXPECT_TRUE(p->GetExtension(5)->empty());
  EXPECT_EQ(ToHex(*p->GetExtension(7)), "aabb");
  EXPECT_FALSE(p->GetMid(5).has_value());  // empty MID is not a MID
  // Zero-length extension block.
  std::vector<uint8_t> empty = Hex("90600001 00000002 00000003 bede0000");
  EXPECT_TRUE(RtpPacket::Parse(empty).ok());
}

TEST(RtpPacket, MidAndRidValidation) {
  // id 1: "a1" padded with NUL; id 2: "hi" rid; id 3: "b d" (space: invalid).
  std::vector<uint8_t> bytes =
      Hex("90600001 00000002 00000003 bede0003 22613100 11686932 62206400");
  Result<RtpPacket> p = RtpPacket::Parse(bytes);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->GetMid(2), "a1");
  EXPECT_EQ(p->GetRid(1), "hi");
  EXPECT_FALSE(p->GetMid(3).has_value());
  EXPECT_FALSE(p->GetRid(3).has_value());
  EXPECT_FALSE(p->GetMid(9).has_value());
}

TEST(RtpPacket, MutatorsRoundTrip) {
  std::vector<uint8_t> bytes = Hex(testing::kChromeOpus);
  Result<RtpPacket> p = RtpPacket::Parse(bytes);
  ASSERT_TRUE(p.ok());
  p->SetSsrc(0xcafebabe);
  p->SetSequenceNumber(0xffff);
  p->SetTimestamp(0x01020304);
  ASSERT_TRUE(p->SetPayloadType(100).ok());
  EXPECT_FALSE(p->SetPayloadType(128).ok());
  p->SetMarker(true);
  ASSERT_TRUE(p->SetTransportSequenceNumber(3, 4242).ok());
  EXPECT_FALSE(p->SetTransportSequenceNumber(4, 1).ok());  // MID is 1 byte

  Result<RtpPacket> again = RtpPacket::Parse(bytes);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->ssrc(), 0xcafebabeu);
  EXPECT_EQ(again->sequence_number(), 0xffff);
  EXPECT_EQ(again->timestamp(), 0x01020304u);
  EXPECT_EQ(again->payload_type(), 100);
  EXPECT_TRUE(again->marker());
  EXPECT_EQ(again->GetTransportSequenceNumber(3), 4242);
  EXPECT_EQ(again->GetMid(4), "0");
  EXPECT_EQ(ToHex(again->payload()), "780b45c19e2a5d07");
  again->SetMarker(false);
  EXPECT_FALSE(again->marker());
  EXPECT_EQ(again->payload_type(), 100);
}

TEST(RtpPacket, RewriteExtensionId) {
  std::vector<uint8_t> bytes = Hex(testing::kChromeOpus);
  Result<RtpPacket> p = RtpPacket::Parse(bytes);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->RewriteExtensionId(4, 9).ok());
  EXPECT_EQ(p->GetMid(9), "0");
  EXPECT_FALSE(p->GetMid(4).has_value());
  EXPECT_FALSE(p->RewriteExtensionId(9, 2).ok());   // 2 already used
  EXPECT_FALSE(p->RewriteExtensionId(9, 15).ok());  // not a one-byte id
  EXPECT_FALSE(p->RewriteExtensionId(4, 5).ok());   // absent
  EXPECT_TRUE(p->RewriteExtensionId(9, 9).ok());
  Result<RtpPacket> again = RtpPacket::Parse(bytes);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->GetMid(9), "0");
  EXPECT_EQ(again->GetTransportSequenceNumber(3), 300);

  std::vector<uint8_t> two = Hex(testing::kCapturedVideoTwoByte);
  p = RtpPacket::Parse(two);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->RewriteExtensionId(13, 200).ok());  // two-byte ids go to 255
  EXPECT_EQ(p->GetExtension(200)->size(), 33u);
}

TEST(RtpPacket, RemapExtensionIdsSwapsAndErases) {
  std::vector<uint8_t> bytes = Hex(testing::kChromeOpus);
  Result<RtpPacket> p = RtpPacket::Parse(bytes);
  ASSERT_TRUE(p.ok());
  std::array<uint8_t, 256> map{};
  map[2] = 3;  // swap abs-send-time and transport-cc ids in one pass
  map[3] = 2;
  map[4] = 1;  // mid moves to 1, audio level (1) is erased
  ASSERT_TRUE(p->RemapExtensionIds(map).ok());
  Result<RtpPacket> again = RtpPacket::Parse(bytes);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->GetAbsSendTime(3), 0x4b1c3eu);
  EXPECT_EQ(again->GetTransportSequenceNumber(2), 300);
  EXPECT_EQ(again->GetMid(1), "0");
  EXPECT_EQ(again->header_size(), 28u);
  EXPECT_EQ(ToHex(again->payload()), "780b45c19e2a5d07");

  // A bad mapping leaves the packet untouched.
  const std::vector<uint8_t> before = bytes;
  std::array<uint8_t, 256> bad{};
  bad[1] = 15;
  EXPECT_FALSE(again->RemapExtensionIds(bad).ok());
  std::array<uint8_t, 256> clash{};
  clash[1] = 5;
  clash[2] = 5;
  EXPECT_FALSE(again->RemapExtensionIds(clash).ok());
  EXPECT_EQ(bytes, before);
}

// Fuzzer regression (fuzz/corpus/rtc_rtp/regression-remap-peer-duplicate-id):
// a peer that repeats an extension id must not make an identity or
// non-colliding remap fail; only a collision the map creates is an error.
TEST(RtpPacket, RemapWithPeerDuplicateIds) {
  std::vector<uint8_t> bytes = Hex(testing::kCapturedVideoTwoByte);
  bytes[31] = 0x02;  // ext 6 becomes a second ext 2
  Result<RtpPacket> p = RtpPacket::Parse(bytes);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  std::array<uint8_t, 256> identity{};
  for (size_t i = 0; i < identity.size(); ++i) identity[i] = static_cast<uint8_t>(i);
  const std::vector<uint8_t> before = bytes;
  EXPECT_TRUE(p->RemapExtensionIds(identity).ok());
  EXPECT_EQ(bytes, before);
  std::array<uint8_t, 256> collide = identity;
  collide[4] = 2;  // transport-cc onto abs-send-time's id
  EXPECT_FALSE(p->RemapExtensionIds(collide).ok());
  EXPECT_EQ(bytes, before);
}

TEST(RtpPacket, RtxOriginalSequenceAndDecode) {
  // RTX PT 97, seq 7, SSRC 0x99, OSN 0x1234, original payload "abcdef",
  // 2 padding bytes.
  std::vector<uint8_t> bytes = Hex("a0610007 00000010 00000099 1234abcd ef0002");
  Result<RtpPacket> p = RtpPacket::Parse(bytes);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(p->RtxOriginalSequenceNumber().ok());
  EXPECT_EQ(*p->RtxOriginalSequenceNumber(), 0x1234);
  ASSERT_TRUE(p->RtxDecode(96, 0x11223344).ok());
  EXPECT_EQ(p->size(), 15u);
  EXPECT_EQ(ToHex(p->payload()), "abcdef");
  Result<RtpPacket> original = RtpPacket::Parse(p->data());
  ASSERT_TRUE(original.ok()) << original.status().ToString();
  EXPECT_EQ(original->sequence_number(), 0x1234);
  EXPECT_EQ(original->payload_type(), 96);
  EXPECT_EQ(original->ssrc(), 0x11223344u);
  EXPECT_EQ(original->padding_size(), 0u);
  EXPECT_EQ(ToHex(original->payload()), "abcdef");
}

TEST(RtpPacket, RejectsVersionAndTruncatedHeader) {
  std::vector<uint8_t> v1 = Hex("50600001 00000002 00000003");
  EXPECT_EQ(RtpPacket::Parse(v1).status().code(), "rtp_version");
  std::vector<uint8_t> short_header = Hex("80600001 00000002 000000");
  EXPECT_EQ(RtpPacket::Parse(short_header).status().code(), "rtp_header");
  EXPECT_FALSE(RtpPacket::Parse({}).ok());
}

}  // namespace
}  // namespace aegis::rtc
