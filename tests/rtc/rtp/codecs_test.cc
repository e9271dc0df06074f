// Keyframe detectors and the VP8 payload descriptor (rtc/rtp/codecs.h), on
// hand-built payloads following RFC 7741 §4.2/§4.3 and RFC 6184 §5.
#include "rtc/rtp/codecs.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace aegis::rtc {
namespace {

// X=1, S=1, PID=0; I=1 L=1 T=1; 15-bit PictureID; TL0PICIDX; TID/KEYIDX;
// then the VP8 payload header whose first byte has P=`inter` (RFC 6386 §9.1).
std::vector<uint8_t> Vp8(uint16_t picture_id, uint8_t tl0, bool start, bool inter,
                         bool long_id = true) {
  std::vector<uint8_t> p = {static_cast<uint8_t>(0x80 | (start ? 0x10 : 0)), 0xE0};
  if (long_id) {
    p.push_back(static_cast<uint8_t>(0x80 | (picture_id >> 8)));
    p.push_back(static_cast<uint8_t>(picture_id));
  } else {
    p.push_back(static_cast<uint8_t>(picture_id & 0x7F));
  }
  p.push_back(tl0);
  p.push_back(0x20);
  p.push_back(inter ? 0x01 : 0x00);
  p.push_back(0x9D);
  return p;
}

TEST(Vp8DescriptorTest, ParsesAllFields) {
  const auto p = Vp8(0x1234, 7, true, false);
  auto d = ParseVp8Descriptor(p);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_TRUE(d->start_of_partition);
  EXPECT_EQ(d->partition_id, 0);
  EXPECT_TRUE(d->has_picture_id);
  EXPECT_TRUE(d->picture_id_15bit);
  EXPECT_EQ(d->picture_id, 0x1234);
  EXPECT_EQ(d->picture_id_offset, 2U);
  EXPECT_TRUE(d->has_tl0picidx);
  EXPECT_EQ(d->tl0picidx, 7);
  EXPECT_EQ(d->size, 6U);
}

TEST(Vp8DescriptorTest, MinimalDescriptorIsOneByte) {
  const std::vector<uint8_t> p = {0x10, 0x00};
  auto d = ParseVp8Descriptor(p);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->has_picture_id);
  EXPECT_EQ(d->size, 1U);
  EXPECT_TRUE(IsVp8KeyFrame(p));
}

TEST(Vp8DescriptorTest, EveryTruncationIsAnError) {
  const auto p = Vp8(0x1234, 7, true, false);
  for (size_t n = 0; n < 6; ++n) {
    EXPECT_FALSE(ParseVp8Descriptor(std::span(p.data(), n)).ok()) << n;
    EXPECT_FALSE(IsVp8KeyFrame(std::span(p.data(), n))) << n;
  }
  // Descriptor complete but no payload header: not a keyframe either.
  EXPECT_TRUE(ParseVp8Descriptor(std::span(p.data(), 6)).ok());
  EXPECT_FALSE(IsVp8KeyFrame(std::span(p.data(), 6)));
}

TEST(Vp8KeyFrameTest, NeedsStartPartitionZeroAndKeyBit) {
  EXPECT_TRUE(IsVp8KeyFrame(Vp8(1, 0, true, false)));
  EXPECT_FALSE(IsVp8KeyFrame(Vp8(1, 0, true, true)));    // inter frame
  EXPECT_FALSE(IsVp8KeyFrame(Vp8(1, 0, false, false)));  // continuation packet
  auto p = Vp8(1, 0, true, false);
  p[0] |= 0x01;  // PID 1: not the first partition
  EXPECT_FALSE(IsVp8KeyFrame(p));
}

TEST(Vp8RewriteTest, WritesInPlaceKeepingWidth) {
  auto p = Vp8(0x1234, 7, true, false);
  auto d = ParseVp8Descriptor(p);
  ASSERT_TRUE(d.ok());
  WriteVp8PictureId(p, *d, 0x7ABC);
  WriteVp8Tl0PicIdx(p, *d, 200);
  auto again = ParseVp8Descriptor(p);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->picture_id, 0x7ABC);
  EXPECT_EQ(again->tl0picidx, 200);
  EXPECT_TRUE(IsVp8KeyFrame(p));

  auto s = Vp8(5, 1, true, false, /*long_id=*/false);
  auto ds = ParseVp8Descriptor(s);
  ASSERT_TRUE(ds.ok());
  EXPECT_FALSE(ds->picture_id_15bit);
  WriteVp8PictureId(s, *ds, 0x1FF);  // masked to 7 bits
  EXPECT_EQ(ParseVp8Descriptor(s)->picture_id, 0x7F);
  EXPECT_EQ(s.size(), 7U);
}

TEST(H264KeyFrameTest, SingleNalUnits) {
  EXPECT_TRUE(IsH264KeyFrame(std::vector<uint8_t>{0x65, 0x88}));   // IDR
  EXPECT_TRUE(IsH264KeyFrame(std::vector<uint8_t>{0x67, 0x42}));   // SPS
  EXPECT_FALSE(IsH264KeyFrame(std::vector<uint8_t>{0x41, 0x9A}));  // non-IDR slice
  EXPECT_FALSE(IsH264KeyFrame(std::vector<uint8_t>{0x68, 0xCE}));  // PPS alone
  EXPECT_FALSE(IsH264KeyFrame(std::vector<uint8_t>{}));
}

TEST(H264KeyFrameTest, StapA) {
  // STAP-A: [SPS(2)] [PPS(2)] — an SPS inside.
  EXPECT_TRUE(IsH264KeyFrame(std::vector<uint8_t>{0x78, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xCE}));
  // STAP-A with only non-key NALs.
  EXPECT_FALSE(IsH264KeyFrame(std::vector<uint8_t>{0x78, 0, 2, 0x68, 0xCE, 0, 2, 0x06, 0x05}));
  // A size running past the payload stops the walk.
  EXPECT_FALSE(IsH264KeyFrame(std::vector<uint8_t>{0x78, 0, 9, 0x68, 0xCE, 0, 2, 0x67, 0x42}));
  EXPECT_FALSE(IsH264KeyFrame(std::vector<uint8_t>{0x78, 0}));
}

TEST(H264KeyFrameTest, FuAStartOfIdrOnly) {
  EXPECT_TRUE(IsH264KeyFrame(std::vector<uint8_t>{0x7C, 0x85, 0x88}));   // S=1, type 5
  EXPECT_FALSE(IsH264KeyFrame(std::vector<uint8_t>{0x7C, 0x05, 0x88}));  // middle fragment
  EXPECT_FALSE(IsH264KeyFrame(std::vector<uint8_t>{0x7C, 0x81, 0x88}));  // start of non-IDR
  EXPECT_FALSE(IsH264KeyFrame(std::vector<uint8_t>{0x7C}));
}

TEST(CodecNameTest, CaseInsensitive) {
  EXPECT_EQ(VideoCodecFromName("VP8"), VideoCodec::kVp8);
  EXPECT_EQ(VideoCodecFromName("vp8"), VideoCodec::kVp8);
  EXPECT_EQ(VideoCodecFromName("H264"), VideoCodec::kH264);
  EXPECT_EQ(VideoCodecFromName("VP9"), VideoCodec::kUnknown);
  EXPECT_FALSE(IsKeyFrame(VideoCodec::kUnknown, std::vector<uint8_t>{0x10, 0x00}));
}

}  // namespace
}  // namespace aegis::rtc
