#include "media.h"

#include <gtest/gtest.h>

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "media_publisher.h"
#include "rtc/byte_io.h"
#include "rtc/rtp/rtp_packet.h"
#include "sdp_builder.h"

namespace aegis::bench {
namespace {

TEST(BenchPayload, AudioRoundTrip) {
  std::array<uint8_t, 200> buf{};
  const PayloadPrefix p{7, 123456, 0x0102030405060708ULL};
  const size_t n = WriteAudioPayload(buf, p, 100);
  ASSERT_EQ(n, 100u);
  auto parsed = ParseBenchPayload(std::span(buf).first(n), PayloadKind::kAudio);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->prefix, p);
  EXPECT_FALSE(parsed->vp8);
}

TEST(BenchPayload, Vp8KeyframeLooksLikeVp8) {
  std::array<uint8_t, 1200> buf{};
  const PayloadPrefix p{3, 9, 42};
  const Vp8PacketInfo info{true, true, 0x1234};
  const size_t n = WriteVp8Payload(buf, p, info, 1000);
  ASSERT_EQ(n, 1000u);
  // RFC 7741 §4.2: X and S set, partition 0; I with a 15-bit picture id.
  EXPECT_EQ(buf[0], 0x90);
  EXPECT_EQ(buf[1], 0x80);
  EXPECT_EQ(buf[2], 0x80 | 0x12);
  EXPECT_EQ(buf[3], 0x34);
  // §4.3: the payload header's P bit (bit 0 of its first byte) is 0 for a
  // keyframe, and a keyframe carries the start code 9d 01 2a.
  EXPECT_EQ(buf[4] & 0x01, 0);
  EXPECT_EQ(buf[7], 0x9d);
  EXPECT_EQ(buf[8], 0x01);
  EXPECT_EQ(buf[9], 0x2a);
  auto parsed = ParseBenchPayload(std::span(buf).first(n), PayloadKind::kVp8);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->prefix, p);
  ASSERT_TRUE(parsed->vp8);
  EXPECT_TRUE(parsed->vp8->start_of_frame);
  EXPECT_TRUE(parsed->vp8->keyframe);
  EXPECT_EQ(parsed->vp8->picture_id, 0x1234);
}

TEST(BenchPayload, Vp8DeltaAndContinuationPackets) {
  std::array<uint8_t, 1200> buf{};
  const PayloadPrefix p{1, 2, 3};
  size_t n = WriteVp8Payload(buf, p, Vp8PacketInfo{true, false, 5}, 0);
  EXPECT_EQ(n, MinVp8PayloadSize(Vp8PacketInfo{true, false, 5}));
  EXPECT_EQ(buf[4] & 0x01, 1);  // P = 1: interframe
  auto parsed = ParseBenchPayload(std::span(buf).first(n), PayloadKind::kVp8);
  ASSERT_TRUE(parsed && parsed->vp8);
  EXPECT_TRUE(parsed->vp8->start_of_frame);
  EXPECT_FALSE(parsed->vp8->keyframe);

  n = WriteVp8Payload(buf, p, Vp8PacketInfo{false, false, 5}, 500);
  EXPECT_EQ(buf[0] & 0x10, 0);  // S = 0
  parsed = ParseBenchPayload(std::span(buf).first(n), PayloadKind::kVp8);
  ASSERT_TRUE(parsed && parsed->vp8);
  EXPECT_FALSE(parsed->vp8->start_of_frame);
  EXPECT_EQ(parsed->prefix, p);
}

TEST(BenchPayload, RejectsForeignAndTruncated) {
  std::array<uint8_t, 64> buf{};
  EXPECT_FALSE(ParseBenchPayload(buf, PayloadKind::kAudio));  // wrong magic
  const size_t n = WriteVp8Payload(buf, PayloadPrefix{1, 1, 1}, Vp8PacketInfo{true, true, 1}, 0);
  for (size_t cut = 0; cut < n; ++cut) {
    EXPECT_FALSE(ParseBenchPayload(std::span(buf).first(cut), PayloadKind::kVp8)) << cut;
  }
  EXPECT_TRUE(ParseBenchPayload(std::span(buf).first(n), PayloadKind::kVp8));
}

TEST(BenchPayload, OutputTooSmall) {
  std::array<uint8_t, 10> small{};
  EXPECT_EQ(WriteAudioPayload(small, PayloadPrefix{}, 100), 0u);
  EXPECT_EQ(WriteVp8Payload(small, PayloadPrefix{}, Vp8PacketInfo{true, true, 0}, 0), 0u);
}

TEST(MediaPublisher, FrameSizesKeepTheBitrate) {
  MediaConfig c;
  c.video_kbps = 1000;
  c.fps = 30;
  c.keyframe_interval_s = 3;
  const double frames = 90;  // one keyframe interval
  const double bytes = static_cast<double>(MediaPublisher::KeyFrameBytes(c)) +
                       (frames - 1) * static_cast<double>(MediaPublisher::DeltaFrameBytes(c));
  const double kbps = bytes * 8 / 3 / 1000;
  EXPECT_NEAR(kbps, 1000, 5);
  EXPECT_GT(MediaPublisher::KeyFrameBytes(c), MediaPublisher::DeltaFrameBytes(c));
}

TEST(Simulcast, RidsAndLayerBitrates) {
  EXPECT_TRUE(SimulcastRids(1).empty());
  EXPECT_EQ(SimulcastRids(2), (std::vector<std::string>{"l", "h"}));
  EXPECT_EQ(SimulcastRids(3), (std::vector<std::string>{"l", "m", "h"}));
  MediaConfig c;
  c.video_kbps = 1200;
  EXPECT_EQ(LayerKbps(c, 0), 1200u);  // no simulcast: the one stream
  c.simulcast_layers = 3;
  EXPECT_EQ(LayerKbps(c, 0), 150u);
  EXPECT_EQ(LayerKbps(c, 1), 400u);
  EXPECT_EQ(LayerKbps(c, 2), 1200u);
  c.simulcast_layers = 2;
  EXPECT_EQ(LayerKbps(c, 0), 150u);
  EXPECT_EQ(LayerKbps(c, 1), 1200u);
  c.video_kbps = 100;
  EXPECT_EQ(LayerKbps(c, 0), 30u);  // floor
}

TEST(MediaPublisher, HeaderCarriesMidAndOnALayerItsRid) {
  for (const std::string rid : {"", "m"}) {
    std::array<uint8_t, 64> buf{};
    rtc::ByteWriter w(buf);
    ASSERT_TRUE(MediaPublisher::WriteRtpHeader(w, 96, true, 7, 9000, 0x1234, '1', rid));
    EXPECT_EQ(w.size(), kRtpHeaderBytes);  // kMaxRtpPayload holds with a rid
    const size_t header = w.size();
    ASSERT_TRUE(w.WriteZeros(10));
    auto p = rtc::RtpPacket::Parse(std::span<uint8_t>(buf.data(), w.size()));
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(p->header_size(), header);
    EXPECT_EQ(p->ssrc(), 0x1234u);
    EXPECT_EQ(p->sequence_number(), 7);
    EXPECT_TRUE(p->marker());
    EXPECT_EQ(p->GetMid(kMidExtensionId), std::optional<std::string_view>("1"));
    if (rid.empty()) {
      EXPECT_FALSE(p->GetRid(kRidExtensionId).has_value());
    } else {
      EXPECT_EQ(p->GetRid(kRidExtensionId), std::optional<std::string_view>(rid));
    }
  }
}

}  // namespace
}  // namespace aegis::bench
