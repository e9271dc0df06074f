#include "auth/rate_limiter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace aegis::auth {
namespace {

RateLimiter::Options Opts(double rate, double burst, size_t max_buckets = 100000) {
  RateLimiter::Options o;
  o.rate_per_s = rate;
  o.burst = burst;
  o.max_buckets = max_buckets;
  return o;
}

TEST(RateLimiter, BurstThenRefill) {
  FakeClock clock;
  RateLimiter rl(clock, Opts(10, 20));
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(rl.TryAcquire("k")) << i;
  }
  EXPECT_FALSE(rl.TryAcquire("k"));
  clock.AdvanceMillis(100);  // one token at 10/s
  EXPECT_TRUE(rl.TryAcquire("k"));
  EXPECT_FALSE(rl.TryAcquire("k"));
  // Refill is capped at the burst.
  clock.AdvanceMillis(60'000);
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(rl.TryAcquire("k")) << i;
  }
  EXPECT_FALSE(rl.TryAcquire("k"));
}

TEST(RateLimiter, KeysAreIndependent) {
  FakeClock clock;
  RateLimiter rl(clock, Opts(1, 1));
  EXPECT_TRUE(rl.TryAcquire("a"));
  EXPECT_FALSE(rl.TryAcquire("a"));
  EXPECT_TRUE(rl.TryAcquire("b"));
  EXPECT_EQ(rl.bucket_count(), 2u);
}

TEST(RateLimiter, PartialConsumptionAndFailedAcquireTakesNothing) {
  FakeClock clock;
  RateLimiter rl(clock, Opts(2, 5));
  EXPECT_TRUE(rl.TryAcquire("k", 2.5));
  EXPECT_FALSE(rl.TryAcquire("k", 3));  // 2.5 left: nothing taken
  EXPECT_TRUE(rl.TryAcquire("k", 2.5));
  EXPECT_FALSE(rl.TryAcquire("k", 0.5));
  clock.AdvanceMillis(250);  // +0.5
  EXPECT_TRUE(rl.TryAcquire("k", 0.5));
  EXPECT_TRUE(rl.TryAcquire("k", 0));
  EXPECT_FALSE(rl.TryAcquire("k", -1));
  EXPECT_FALSE(rl.TryAcquire("k", std::nan("")));
}

TEST(RateLimiter, PenaltyDrivesNegative) {
  FakeClock clock;
  RateLimiter rl(clock, Opts(1, 2));
  rl.Penalize("k", 5);  // 2 - 5 = -3
  EXPECT_FALSE(rl.TryAcquire("k"));
  EXPECT_DOUBLE_EQ(rl.SecondsUntilAvailable("k"), 4.0);
  clock.AdvanceMillis(3'999);
  EXPECT_FALSE(rl.TryAcquire("k"));
  clock.AdvanceMillis(1);
  EXPECT_TRUE(rl.TryAcquire("k"));
}

TEST(RateLimiter, SecondsUntilAvailable) {
  FakeClock clock;
  RateLimiter rl(clock, Opts(4, 8));
  EXPECT_EQ(rl.SecondsUntilAvailable("unknown"), 0);
  EXPECT_EQ(rl.bucket_count(), 0u);  // queries do not create buckets
  EXPECT_TRUE(rl.TryAcquire("k", 8));
  EXPECT_DOUBLE_EQ(rl.SecondsUntilAvailable("k"), 0.25);
  EXPECT_DOUBLE_EQ(rl.SecondsUntilAvailable("k", 6), 1.5);
  clock.AdvanceMillis(500);  // 2 tokens
  EXPECT_EQ(rl.SecondsUntilAvailable("k", 2), 0);
  EXPECT_DOUBLE_EQ(rl.SecondsUntilAvailable("k", 3), 0.25);
  EXPECT_TRUE(std::isinf(rl.SecondsUntilAvailable("k", 9)));  // above burst: never
}

TEST(RateLimiter, ZeroRateNeverRefills) {
  FakeClock clock;
  RateLimiter rl(clock, Opts(0, 1));
  EXPECT_TRUE(rl.TryAcquire("k"));
  clock.AdvanceMillis(3'600'000);
  EXPECT_FALSE(rl.TryAcquire("k"));
  EXPECT_TRUE(std::isinf(rl.SecondsUntilAvailable("k")));
}

TEST(RateLimiter, ClockSteppingBackwardsRefillsNothing) {
  FakeClock clock;
  RateLimiter rl(clock, Opts(1, 1));
  EXPECT_TRUE(rl.TryAcquire("k"));
  clock.AdvanceMillis(-10'000);
  EXPECT_FALSE(rl.TryAcquire("k"));
  clock.AdvanceMillis(10'000);  // back where it was: still nothing earned
  EXPECT_FALSE(rl.TryAcquire("k"));
  clock.AdvanceMillis(1'000);
  EXPECT_TRUE(rl.TryAcquire("k"));
}

TEST(RateLimiter, LruEvictionBoundsMemory) {
  FakeClock clock;
  constexpr size_t kMax = 1000;
  RateLimiter rl(clock, Opts(1, 1, kMax));
  EXPECT_TRUE(rl.TryAcquire("hot"));
  for (int i = 0; i < 100000; ++i) {
    (void)rl.TryAcquire("key-" + std::to_string(i));
    if (i % 100 == 0) {
      // Keep "hot" recently used so it survives eviction.
      EXPECT_FALSE(rl.TryAcquire("hot")) << i;
    }
    ASSERT_LE(rl.bucket_count(), kMax);
  }
  EXPECT_EQ(rl.bucket_count(), kMax);
  // Old cold keys were evicted and start again with a full bucket.
  EXPECT_TRUE(rl.TryAcquire("key-0"));
  // Recent keys were kept and are still empty.
  EXPECT_FALSE(rl.TryAcquire("key-99999"));
  EXPECT_FALSE(rl.TryAcquire("hot"));
}

}  // namespace
}  // namespace aegis::auth
