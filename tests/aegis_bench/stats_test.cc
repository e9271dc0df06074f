#include "stats.h"

#include <gtest/gtest.h>

#include <vector>

namespace aegis::bench {
namespace {

TEST(LatencyHistogram, EmptyIsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(50), 0u);
  EXPECT_EQ(h.Mean(), 0.0);
}

TEST(LatencyHistogram, ExactBelow1024Micros) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 100; ++v) h.Add(v);
  EXPECT_EQ(h.Percentile(50), 50u);
  EXPECT_EQ(h.Percentile(95), 95u);
  EXPECT_EQ(h.Percentile(99), 99u);
  EXPECT_EQ(h.Percentile(100), 100u);
  EXPECT_EQ(h.Percentile(0), 1u);
  EXPECT_DOUBLE_EQ(h.Mean(), 50.5);
  EXPECT_EQ(h.max(), 100u);
}

TEST(LatencyHistogram, RawFormCarriesEveryBucketAndMergesLikeOneHistogram) {
  // Two processes' histograms, handed over raw and merged, give the
  // percentiles of all the samples in one histogram (not a mean of p99s).
  LatencyHistogram a, b, all;
  for (uint64_t v = 1; v <= 900; ++v) {
    a.Add(v * 7);
    all.Add(v * 7);
  }
  for (uint64_t v = 1; v <= 100; ++v) {
    b.Add(50'000 + v * 100);
    all.Add(50'000 + v * 100);
  }
  auto a2 = LatencyHistogram::FromRaw(a.ToRaw());
  auto b2 = LatencyHistogram::FromRaw(b.ToRaw());
  ASSERT_TRUE(a2 && b2);
  a2->Merge(*b2);
  EXPECT_EQ(a2->count(), all.count());
  EXPECT_EQ(a2->max(), all.max());
  EXPECT_DOUBLE_EQ(a2->Mean(), all.Mean());
  for (double p : {50.0, 90.0, 95.0, 99.0, 99.9}) EXPECT_EQ(a2->Percentile(p), all.Percentile(p));
  // p95 lies in the second process's samples: a merged percentile, not an average.
  EXPECT_GT(a2->Percentile(95), 50'000u);
}

TEST(LatencyHistogram, FromRawRejectsABucketOutOfRange) {
  LatencyHistogram::Raw raw;
  raw.buckets = {{5, 1}, {1u << 20, 1}};
  EXPECT_FALSE(LatencyHistogram::FromRaw(raw).has_value());
  EXPECT_TRUE(LatencyHistogram::FromRaw(LatencyHistogram::Raw{}).has_value());
}

TEST(LatencyHistogram, LargeValuesWithinBucketErrorAndNeverBelow) {
  LatencyHistogram h;
  const std::vector<uint64_t> values = {1500, 20'000, 20'000, 50'000, 3'000'000};
  for (uint64_t v : values) h.Add(v);
  // p20 is the first value: the bucket bound is >= it and within 1/64.
  EXPECT_GE(h.Percentile(20), 1500u);
  EXPECT_LE(h.Percentile(20), 1500u + 1500u / 64 + 1);
  EXPECT_GE(h.Percentile(60), 20'000u);
  EXPECT_LE(h.Percentile(60), 20'000u + 20'000u / 64 + 1);
  // The top percentile is clamped to the true maximum.
  EXPECT_EQ(h.Percentile(100), 3'000'000u);
}

TEST(LatencyHistogram, MergeAndReset) {
  LatencyHistogram a;
  LatencyHistogram b;
  for (int i = 0; i < 10; ++i) a.Add(10);
  for (int i = 0; i < 10; ++i) b.Add(30);
  a.Merge(b);
  EXPECT_EQ(a.count(), 20u);
  EXPECT_EQ(a.Percentile(50), 10u);
  EXPECT_EQ(a.Percentile(51), 30u);
  a.Reset();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_EQ(a.Percentile(99), 0u);
}

TEST(NearestRankPercentile, Basics) {
  EXPECT_EQ(NearestRankPercentile({}, 50), 0);
  EXPECT_EQ(NearestRankPercentile({5, 1, 3}, 50), 3);
  EXPECT_EQ(NearestRankPercentile({5, 1, 3}, 95), 5);
  EXPECT_EQ(NearestRankPercentile({5, 1, 3}, 0), 1);
}

TEST(StreamReceiveStats, InOrderNoLoss) {
  StreamReceiveStats s;
  for (uint32_t c = 100; c < 200; ++c) s.OnPacket(c, c * 960, c * 960);
  EXPECT_EQ(s.unique_received(), 100u);
  EXPECT_EQ(s.ExpectedSoFar(), 100u);
  EXPECT_EQ(s.ExpectedUpTo(199), 100u);
  EXPECT_EQ(s.gaps(), 0u);
  EXPECT_EQ(s.duplicates(), 0u);
  EXPECT_EQ(s.jitter_units(), 0.0);  // perfectly paced
}

TEST(StreamReceiveStats, GapsDuplicatesReorderAndTail) {
  StreamReceiveStats s;
  s.OnPacket(0, 0, 0);
  s.OnPacket(1, 0, 0);
  s.OnPacket(4, 0, 0);  // 2 and 3 missing: one gap
  s.OnPacket(4, 0, 0);  // duplicate
  s.OnPacket(2, 0, 0);  // late fill (NACK/RTX or reordering)
  EXPECT_EQ(s.unique_received(), 4u);
  EXPECT_EQ(s.gaps(), 1u);
  EXPECT_EQ(s.duplicates(), 1u);
  EXPECT_EQ(s.reordered(), 1u);
  EXPECT_EQ(s.ExpectedSoFar(), 5u);
  // The publisher sent up to 6: 5 and 6 never arrived.
  EXPECT_EQ(s.ExpectedUpTo(6), 7u);
  s.OnPacket(2, 0, 0);  // a second copy of a filled hole is a duplicate too
  EXPECT_EQ(s.duplicates(), 2u);
}

TEST(StreamReceiveStats, CounterWrapAround) {
  StreamReceiveStats s;
  s.OnPacket(0xfffffffe, 0, 0);
  s.OnPacket(0xffffffff, 0, 0);
  s.OnPacket(0, 0, 0);
  s.OnPacket(1, 0, 0);
  EXPECT_EQ(s.unique_received(), 4u);
  EXPECT_EQ(s.ExpectedSoFar(), 4u);
  EXPECT_EQ(s.gaps(), 0u);
}

TEST(StreamReceiveStats, OlderThanWindowIsLateNotDuplicate) {
  StreamReceiveStats s;
  s.OnPacket(10, 0, 0);
  s.OnPacket(10 + StreamReceiveStats::kWindow + 5, 0, 0);
  s.OnPacket(11, 0, 0);
  EXPECT_EQ(s.late(), 1u);
  EXPECT_EQ(s.duplicates(), 0u);
  s.OnPacket(5, 0, 0);  // before the first counter seen
  EXPECT_EQ(s.late(), 2u);
}

TEST(StreamReceiveStats, JitterFollowsRfc3550) {
  StreamReceiveStats s;
  // Sent every 960 units; the second packet arrives 160 units late.
  s.OnPacket(0, 0, 1000);
  s.OnPacket(1, 960, 1000 + 960 + 160);
  EXPECT_DOUBLE_EQ(s.jitter_units(), 10.0);  // |D| / 16
  s.OnPacket(2, 1920, 1000 + 1920);          // back on time: D = 160 again
  EXPECT_DOUBLE_EQ(s.jitter_units(), 10.0 + (160.0 - 10.0) / 16.0);
}

}  // namespace
}  // namespace aegis::bench
