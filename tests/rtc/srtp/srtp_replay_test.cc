// The EVP SrtpSession's bookkeeping on its own: RFC 3711 Appendix A index
// estimation, the sliding replay window against a brute-force model, and
// the SSRC table (growth, LRU eviction with backward-shift deletion)
// against a std::map model. Deterministic (fixed seeds).
#include "rtc/srtp/srtp_replay.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <set>

namespace aegis::rtc::srtp_internal {
namespace {

constexpr uint64_t Index(uint64_t roc, uint64_t seq) { return (roc << 16) | seq; }

TEST(SrtpIndexEstimateTest, KnownCases) {
  EXPECT_EQ(EstimateRtpIndex(0, 5), 5u) << "fresh stream: ROC 0";
  EXPECT_EQ(EstimateRtpIndex(0, 65000), 65000u) << "fresh stream never guesses ROC -1";
  EXPECT_EQ(EstimateRtpIndex(0x8000, 5), 5u) << "first half-cycle: still ROC 0";
  EXPECT_EQ(EstimateRtpIndex(65000, 10), Index(1, 10)) << "wrapped";
  EXPECT_EQ(EstimateRtpIndex(Index(1, 10), 65000), Index(0, 65000)) << "late from before the wrap";
  EXPECT_EQ(EstimateRtpIndex(Index(3, 100), 65500), Index(2, 65500));
  EXPECT_EQ(EstimateRtpIndex(Index(3, 100), 200), Index(3, 200));
  EXPECT_EQ(EstimateRtpIndex(Index(3, 40000), 100), Index(4, 100));
  EXPECT_EQ(EstimateRtpIndex(Index(3, 40000), 8000), Index(3, 8000));
  EXPECT_EQ(EstimateRtpIndex(Index(3, 40000), 39000), Index(3, 39000));
}

// Beyond the first half-cycle the guess is the index nearest the highest
// one, which is what Appendix A's three-way choice amounts to.
TEST(SrtpIndexEstimateTest, PicksTheNearestCandidate) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 200000; ++i) {
    const uint64_t highest = 0x8001 + rng() % (Index(1000, 0) - 0x8001);
    const uint16_t seq = static_cast<uint16_t>(rng());
    const uint64_t guess = EstimateRtpIndex(highest, seq);
    ASSERT_EQ(guess & 0xFFFF, seq);
    const uint64_t distance = guess > highest ? guess - highest : highest - guess;
    ASSERT_LE(distance, 0x8000u) << highest << " " << seq;
  }
}

TEST(SrtpReplayWindowTest, Edges) {
  ReplayWindow<1024> w;
  EXPECT_EQ(w.Check(0), ReplayVerdict::kNew);
  w.Add(0);
  EXPECT_EQ(w.Check(0), ReplayVerdict::kReplayed);
  w.Add(5000);
  EXPECT_EQ(w.highest(), 5000u);
  EXPECT_EQ(w.Check(5000), ReplayVerdict::kReplayed);
  EXPECT_EQ(w.Check(5000 - 1023), ReplayVerdict::kNew);
  EXPECT_EQ(w.Check(5000 - 1024), ReplayVerdict::kTooOld);
  EXPECT_EQ(w.Check(5001), ReplayVerdict::kNew);
  w.Add(4990);
  EXPECT_EQ(w.Check(4990), ReplayVerdict::kReplayed);
  w.Add(5010);  // advancing forgets the reused positions, keeps the others
  EXPECT_EQ(w.Check(4990), ReplayVerdict::kReplayed);
  EXPECT_EQ(w.Check(5005), ReplayVerdict::kNew);
  EXPECT_EQ(w.Check(5000), ReplayVerdict::kReplayed);
}

template <size_t kBits>
void CheckAgainstModel(uint64_t seed) {
  std::mt19937_64 rng(seed);
  ReplayWindow<kBits> w;
  std::set<uint64_t> added;
  uint64_t highest = 0;
  for (int i = 0; i < 100000; ++i) {
    // Mostly near the top, sometimes far behind or far ahead.
    uint64_t index = highest + 64 - rng() % (kBits + 200);
    if (rng() % 50 == 0) index = highest + rng() % (3 * kBits);
    if (index > (uint64_t{1} << 47)) index = 0;  // wrapped below zero
    ReplayVerdict expected = ReplayVerdict::kNew;
    if (index <= highest) {
      if (highest - index >= kBits) {
        expected = ReplayVerdict::kTooOld;
      } else if (added.count(index) != 0) {
        expected = ReplayVerdict::kReplayed;
      }
    }
    ASSERT_EQ(w.Check(index), expected) << "step " << i << " index " << index;
    if (expected == ReplayVerdict::kNew && rng() % 4 != 0) {  // some never authenticate
      w.Add(index);
      added.insert(index);
      highest = std::max(highest, index);
    }
  }
}

TEST(SrtpReplayWindowTest, MatchesModel1024) { CheckAgainstModel<1024>(7); }
TEST(SrtpReplayWindowTest, MatchesModel128) { CheckAgainstModel<128>(8); }
TEST(SrtpReplayWindowTest, MatchesModel64) { CheckAgainstModel<64>(9); }

struct Counter {
  int value = 0;
};

TEST(SrtpSsrcTableTest, FindInsertAndGrow) {
  SsrcTable<Counter> table(2, 100);
  EXPECT_EQ(table.Find(1), nullptr);
  table.Insert(1).value = 10;
  table.Insert(2).value = 20;
  const size_t reserved = table.slot_count();
  for (uint32_t s = 3; s <= 50; ++s) table.Insert(s).value = static_cast<int>(s) * 10;
  EXPECT_GT(table.slot_count(), reserved);
  EXPECT_EQ(table.size(), 50u);
  for (uint32_t s = 1; s <= 50; ++s) {
    ASSERT_NE(table.Find(s), nullptr) << s;
    EXPECT_EQ(table.Find(s)->value, static_cast<int>(s) * 10);
  }
  EXPECT_EQ(table.Find(51), nullptr);
  EXPECT_EQ(table.Find(0), nullptr);
}

TEST(SrtpSsrcTableTest, EmptyTableAllocatesOnFirstInsert) {
  SsrcTable<Counter> table(0, 8);
  EXPECT_EQ(table.slot_count(), 0u);
  EXPECT_EQ(table.Find(9), nullptr);
  table.Insert(9).value = 1;
  EXPECT_EQ(table.Find(9)->value, 1);
}

TEST(SrtpSsrcTableTest, EvictsLeastRecentlyUsedAtCapacity) {
  SsrcTable<Counter> table(4, 4);
  for (uint32_t s = 1; s <= 4; ++s) table.Insert(s).value = static_cast<int>(s);
  ASSERT_NE(table.Find(1), nullptr);  // 2 is now the least recently used
  table.Insert(5).value = 5;
  EXPECT_EQ(table.size(), 4u);
  EXPECT_EQ(table.Find(2), nullptr);
  for (uint32_t s : {1u, 3u, 4u, 5u}) {
    ASSERT_NE(table.Find(s), nullptr) << s;
    EXPECT_EQ(table.Find(s)->value, static_cast<int>(s));
  }
  table.Insert(2);  // re-created fresh
  EXPECT_EQ(table.Find(2)->value, 0);
}

// Random finds and inserts (with evictions, so probe chains get holes)
// against a model that tracks the LRU order itself.
TEST(SrtpSsrcTableTest, MatchesModelUnderChurn) {
  constexpr size_t kMax = 24;
  std::mt19937 rng(3);
  SsrcTable<Counter> table(4, kMax);
  std::map<uint32_t, std::pair<int, uint64_t>> model;  // ssrc -> (value, last use)
  uint64_t clock = 0;
  for (int i = 0; i < 50000; ++i) {
    // A small key space with clustered values, so probe chains collide.
    const uint32_t ssrc = rng() % 3 == 0 ? rng() % 64 : (rng() % 64) * 0x10000;
    Counter* found = table.Find(ssrc);
    auto it = model.find(ssrc);
    ASSERT_EQ(found != nullptr, it != model.end()) << "step " << i << " ssrc " << ssrc;
    if (found != nullptr) {
      ASSERT_EQ(found->value, it->second.first);
      it->second.second = ++clock;
      found->value = i;
      it->second.first = i;
      continue;
    }
    if (model.size() == kMax) {
      auto victim = model.begin();
      for (auto m = model.begin(); m != model.end(); ++m) {
        if (m->second.second < victim->second.second) victim = m;
      }
      model.erase(victim);
    }
    table.Insert(ssrc).value = i;
    model[ssrc] = {i, ++clock};
    ASSERT_EQ(table.size(), model.size());
  }
  for (const auto& [ssrc, entry] : model) {
    ASSERT_NE(table.Find(ssrc), nullptr) << ssrc;
  }
}

}  // namespace
}  // namespace aegis::rtc::srtp_internal
