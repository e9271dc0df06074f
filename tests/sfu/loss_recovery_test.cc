// PacketHistory and NackGenerator: the two bounded structures behind NACK/RTX
// (docs/MEDIA.md), on simulated time.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "sfu/nack_generator.h"
#include "sfu/packet_history.h"

namespace aegis::sfu {
namespace {

std::vector<uint8_t> Bytes(size_t n, uint8_t fill) { return std::vector<uint8_t>(n, fill); }

TEST(PacketHistoryTest, StoresAndReturnsPacketsBySequenceNumber) {
  PacketHistory h;
  const auto a = Bytes(100, 0xA1);
  const auto b = Bytes(1200, 0xB2);
  EXPECT_EQ(h.Store(a, 10, 0), PacketHistory::StoreResult::kStored);
  EXPECT_EQ(h.Store(b, 11, 0), PacketHistory::StoreResult::kStored);
  auto got = h.Get(10, 5);
  ASSERT_EQ(got.size(), a.size());
  EXPECT_EQ(std::vector<uint8_t>(got.begin(), got.end()), a);
  got = h.Get(11, 5);
  ASSERT_EQ(got.size(), b.size());
  EXPECT_EQ(got[1199], 0xB2);
  EXPECT_TRUE(h.Get(12, 5).empty());
  EXPECT_EQ(h.size(), 2u);
}

TEST(PacketHistoryTest, SecondCopyIsADuplicate) {
  PacketHistory h;
  const auto a = Bytes(50, 1);
  EXPECT_EQ(h.Store(a, 7, 0), PacketHistory::StoreResult::kStored);
  EXPECT_EQ(h.Store(a, 7, 10), PacketHistory::StoreResult::kDuplicate);
}

TEST(PacketHistoryTest, ExpiresByAge) {
  PacketHistory h(/*max_age_ms=*/1000);
  ASSERT_EQ(h.Store(Bytes(20, 1), 1, 0), PacketHistory::StoreResult::kStored);
  EXPECT_FALSE(h.Get(1, 1000).empty());
  EXPECT_TRUE(h.Get(1, 1001).empty());
  // An expired slot is not a duplicate any more.
  EXPECT_EQ(h.Store(Bytes(20, 1), 1, 1001), PacketHistory::StoreResult::kStored);
}

TEST(PacketHistoryTest, BoundedBySlotsAcrossSequenceWrap) {
  PacketHistory h;
  uint16_t seq = 65000;
  for (size_t i = 0; i < PacketHistory::kSlots + 10; ++i, ++seq) {
    ASSERT_EQ(h.Store(Bytes(10, static_cast<uint8_t>(i)), seq, 0),
              PacketHistory::StoreResult::kStored);
  }
  EXPECT_EQ(h.size(), PacketHistory::kSlots);
  // The first 10 were overwritten by the newest; the rest are still there.
  EXPECT_TRUE(h.Get(65000, 0).empty());
  EXPECT_FALSE(h.Get(static_cast<uint16_t>(65010), 0).empty());
  EXPECT_FALSE(h.Get(static_cast<uint16_t>(seq - 1), 0).empty());
  // A packet a full window behind the newest is refused, not stored over a newer one.
  EXPECT_EQ(h.Store(Bytes(10, 0), static_cast<uint16_t>(seq - 1 - PacketHistory::kSlots), 0),
            PacketHistory::StoreResult::kTooOld);
}

TEST(PacketHistoryTest, RefusesOversizeAndClears) {
  PacketHistory h;
  EXPECT_EQ(h.Store(Bytes(PacketHistory::kSlotBytes + 1, 0), 1, 0),
            PacketHistory::StoreResult::kTooLarge);
  ASSERT_EQ(h.Store(Bytes(10, 0), 2, 0), PacketHistory::StoreResult::kStored);
  h.Clear();
  EXPECT_TRUE(h.Get(2, 0).empty());
  EXPECT_EQ(h.size(), 0u);
  EXPECT_EQ(h.Store(Bytes(10, 0), 2, 0), PacketHistory::StoreResult::kStored);
}

std::vector<uint16_t> Due(NackGenerator& g, int64_t now) {
  std::array<uint16_t, 64> out{};
  const size_t n = g.CollectDue(now, out);
  return {out.begin(), out.begin() + static_cast<ptrdiff_t>(n)};
}

TEST(NackGeneratorTest, GapIsRequestedAtOnceThenRetried) {
  NackGenerator g(/*retry_interval_ms=*/40);
  EXPECT_EQ(g.OnPacket(100, 0), NackGenerator::Arrival::kInOrder);
  EXPECT_EQ(g.OnPacket(101, 0), NackGenerator::Arrival::kInOrder);
  EXPECT_EQ(g.OnPacket(104, 5), NackGenerator::Arrival::kInOrder);
  EXPECT_EQ(g.missing(), 2u);
  EXPECT_EQ(Due(g, 5), (std::vector<uint16_t>{102, 103}));
  EXPECT_TRUE(Due(g, 20).empty());  // not before the retry interval
  EXPECT_EQ(Due(g, 45), (std::vector<uint16_t>{102, 103}));
  EXPECT_EQ(g.OnPacket(103, 50), NackGenerator::Arrival::kRecovered);
  EXPECT_EQ(g.missing(), 1u);
  EXPECT_EQ(Due(g, 90), (std::vector<uint16_t>{102}));
  EXPECT_EQ(g.OnPacket(103, 95), NackGenerator::Arrival::kLate);  // a duplicate
}

TEST(NackGeneratorTest, GivesUpAfterRetriesOrAge) {
  NackGenerator g(/*retry_interval_ms=*/1);
  g.OnPacket(1, 0);
  g.OnPacket(3, 0);
  int requests = 0;
  for (int64_t t = 0; t < 100; ++t) requests += static_cast<int>(Due(g, t).size());
  EXPECT_EQ(requests, NackGenerator::kMaxRetries);
  EXPECT_EQ(g.missing(), 0u);
  EXPECT_EQ(g.given_up(), 1u);

  NackGenerator slow(/*retry_interval_ms=*/500);
  slow.OnPacket(1, 0);
  slow.OnPacket(3, 0);
  EXPECT_EQ(Due(slow, 0).size(), 1u);
  EXPECT_EQ(Due(slow, 500).size(), 1u);
  EXPECT_TRUE(Due(slow, NackGenerator::kMaxAgeMs + 1).empty());
  EXPECT_EQ(slow.missing(), 0u);
}

TEST(NackGeneratorTest, WrapsAroundSequenceSpace) {
  NackGenerator g;
  g.OnPacket(65534, 0);
  g.OnPacket(1, 0);
  EXPECT_EQ(Due(g, 0), (std::vector<uint16_t>{65535, 0}));
  EXPECT_EQ(g.OnPacket(0, 1), NackGenerator::Arrival::kRecovered);
}

TEST(NackGeneratorTest, HugeJumpResetsInsteadOfListingThousands) {
  NackGenerator g;
  g.OnPacket(10, 0);
  EXPECT_EQ(g.OnPacket(10 + NackGenerator::kMaxMissing + 2, 0), NackGenerator::Arrival::kReset);
  EXPECT_EQ(g.missing(), 0u);
  // A jump of exactly kMaxMissing missing packets is still tracked.
  NackGenerator h;
  h.OnPacket(0, 0);
  EXPECT_EQ(h.OnPacket(NackGenerator::kMaxMissing + 1, 0), NackGenerator::Arrival::kInOrder);
  EXPECT_EQ(h.missing(), NackGenerator::kMaxMissing);
}

TEST(NackGeneratorTest, OldPacketsAreLateNotRecovered) {
  NackGenerator g;
  g.OnPacket(500, 0);
  g.OnPacket(501, 0);
  EXPECT_EQ(g.OnPacket(400, 0), NackGenerator::Arrival::kLate);
  EXPECT_EQ(g.missing(), 0u);
}

}  // namespace
}  // namespace aegis::sfu
