// MX-01 / MX-02 / FZ-06: RFC 7983 first-byte classification.
#include "rtc/demux.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace aegis::rtc {
namespace {

PacketKind ExpectedFor(unsigned first, uint8_t second) {
  if (first <= 3) return PacketKind::kStun;
  if (first >= 20 && first <= 63) return PacketKind::kDtls;
  if (first >= 128 && first <= 191) {
    return (second >= 192 && second <= 223) ? PacketKind::kRtcp : PacketKind::kRtp;
  }
  return PacketKind::kDrop;
}

// MX-01: every first byte maps to exactly one kind, for an RTP-looking and an
// RTCP-looking second byte, and the drops are counted.
TEST(Demux, AllFirstBytesMapToExactlyOneKind) {
  for (const uint8_t second : {uint8_t{0x6f}, uint8_t{200}, uint8_t{223}, uint8_t{224}}) {
    DemuxStats stats;
    std::array<int, 5> per_kind{};
    for (unsigned first = 0; first < 256; ++first) {
      std::vector<uint8_t> datagram(100, 0);
      datagram[0] = static_cast<uint8_t>(first);
      datagram[1] = second;
      DropReason reason = DropReason::kTooShort;
      const PacketKind kind = Classify(datagram, &reason);
      EXPECT_EQ(kind, ExpectedFor(first, second)) << "first byte " << first;
      EXPECT_EQ(reason == DropReason::kNone, kind != PacketKind::kDrop) << first;
      stats.Count(kind);
      ++per_kind[static_cast<size_t>(kind)];
    }
    EXPECT_EQ(per_kind[static_cast<size_t>(PacketKind::kStun)], 4);
    EXPECT_EQ(per_kind[static_cast<size_t>(PacketKind::kDtls)], 44);
    EXPECT_EQ(stats.rtp + stats.rtcp, 64u);
    EXPECT_EQ(stats.dropped, 256u - 4 - 44 - 64);
    EXPECT_EQ(stats.stun + stats.dtls + stats.rtp + stats.rtcp + stats.dropped, 256u);
  }
}

TEST(Demux, RangeEdges) {
  auto classify = [](uint8_t first, uint8_t second) {
    std::vector<uint8_t> d(64, 0);
    d[0] = first;
    d[1] = second;
    return Classify(d);
  };
  EXPECT_EQ(classify(3, 1), PacketKind::kStun);
  EXPECT_EQ(classify(4, 1), PacketKind::kDrop);
  EXPECT_EQ(classify(16, 0), PacketKind::kDrop);  // ZRTP
  EXPECT_EQ(classify(19, 0), PacketKind::kDrop);
  EXPECT_EQ(classify(20, 0), PacketKind::kDtls);
  EXPECT_EQ(classify(63, 0), PacketKind::kDtls);
  EXPECT_EQ(classify(64, 0), PacketKind::kDrop);  // TURN channel
  EXPECT_EQ(classify(127, 0), PacketKind::kDrop);
  EXPECT_EQ(classify(128, 191), PacketKind::kRtp);
  EXPECT_EQ(classify(128, 192), PacketKind::kRtcp);
  EXPECT_EQ(classify(191, 223), PacketKind::kRtcp);
  EXPECT_EQ(classify(0x90, 224), PacketKind::kRtp);
  EXPECT_EQ(classify(192, 200), PacketKind::kDrop);
  EXPECT_EQ(classify(255, 200), PacketKind::kDrop);
}

// MX-02: minimum sizes before a datagram reaches a parser.
TEST(Demux, MinimumLengths) {
  struct Row {
    uint8_t first, second;
    size_t min;
    PacketKind kind;
  };
  for (const Row& row :
       {Row{0x00, 0x01, 20, PacketKind::kStun}, Row{22, 0xfe, 13, PacketKind::kDtls},
        Row{0x80, 0x6f, 12, PacketKind::kRtp}, Row{0x80, 0xc9, 8, PacketKind::kRtcp}}) {
    std::vector<uint8_t> d(row.min, 0);
    d[0] = row.first;
    d[1] = row.second;
    EXPECT_EQ(Classify(d), row.kind);
    d.pop_back();
    DropReason reason = DropReason::kNone;
    EXPECT_EQ(Classify(d, &reason), PacketKind::kDrop) << PacketKindName(row.kind);
    EXPECT_EQ(reason, DropReason::kTooShort);
  }
  DropReason reason = DropReason::kNone;
  EXPECT_EQ(Classify({}, &reason), PacketKind::kDrop);
  EXPECT_EQ(reason, DropReason::kTooShort);
  const std::vector<uint8_t> one{0x80};
  EXPECT_EQ(Classify(one), PacketKind::kDrop);
}

// FZ-06: nothing over 1500 bytes is classified as anything but a drop.
TEST(Demux, OversizeDatagramsAreDropped) {
  for (const uint8_t first : {uint8_t{0x00}, uint8_t{22}, uint8_t{0x80}}) {
    std::vector<uint8_t> d(kMaxDatagramSize, 0);
    d[0] = first;
    d[1] = 0x6f;
    EXPECT_NE(Classify(d), PacketKind::kDrop);
    d.push_back(0);
    DropReason reason = DropReason::kNone;
    EXPECT_EQ(Classify(d, &reason), PacketKind::kDrop);
    EXPECT_EQ(reason, DropReason::kTooLarge);
  }
}

}  // namespace
}  // namespace aegis::rtc
