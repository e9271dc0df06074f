// AuthFailureCoalescer on a FakeClock: first failure per key and window at
// once, the rest counted into one summary, bounded key table.
#include "api/auth_failure_coalescer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace aegis::api {
namespace {

using Summary = AuthFailureCoalescer::Summary;

AuthFailureCoalescer::Failure F(const std::string& key, const std::string& actor = "anonymous",
                                const std::string& request_id = "r") {
  return {
      key,        actor,        "api:DismissRoom", "AuthFailure.SignatureFailure", "bad_signature",
      request_id, "203.0.113.7"};
}

TEST(AuthFailureCoalescer, FirstAtOnceThenOneSummaryPerWindow) {
  FakeClock clock;
  AuthFailureCoalescer c(clock, {60'000, 100});
  std::vector<Summary> due;
  EXPECT_TRUE(c.Add(F("a"), &due));
  for (int i = 0; i < 999; ++i) {
    EXPECT_FALSE(c.Add(F("a", "anonymous", "r" + std::to_string(i)), &due));
    clock.AdvanceMillis(50);  // 999 * 50 ms < 60 s
  }
  c.Collect(&due);
  EXPECT_TRUE(due.empty()) << "window still running";

  clock.AdvanceMillis(60'000);
  c.Collect(&due);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].count, 999u);
  EXPECT_EQ(due[0].last.request_id, "r998") << "the most recent suppressed failure";
  EXPECT_EQ(due[0].last.actor, "anonymous");
  EXPECT_EQ(c.key_count(), 0u);

  // The next failure opens a new window and is recorded at once again.
  due.clear();
  EXPECT_TRUE(c.Add(F("a"), &due));
  EXPECT_TRUE(due.empty());
}

TEST(AuthFailureCoalescer, EndedWindowIsSummarisedByTheSameKeysNextFailure) {
  FakeClock clock;
  AuthFailureCoalescer c(clock, {1'000, 100});
  std::vector<Summary> due;
  EXPECT_TRUE(c.Add(F("a"), &due));
  EXPECT_FALSE(c.Add(F("a"), &due));
  clock.AdvanceMillis(1'000);
  EXPECT_TRUE(c.Add(F("a"), &due));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].count, 1u);
}

TEST(AuthFailureCoalescer, QuietWindowNeedsNoSummary) {
  FakeClock clock;
  AuthFailureCoalescer c(clock, {1'000, 100});
  std::vector<Summary> due;
  EXPECT_TRUE(c.Add(F("a"), &due));
  clock.AdvanceMillis(5'000);
  c.Collect(&due);
  EXPECT_TRUE(due.empty());
  EXPECT_EQ(c.key_count(), 0u);
}

TEST(AuthFailureCoalescer, KeysAreIndependentAndActorsThatVaryAreMarked) {
  FakeClock clock;
  AuthFailureCoalescer c(clock, {60'000, 100});
  std::vector<Summary> due;
  EXPECT_TRUE(c.Add(F("a", "secret:AKID***01"), &due));
  EXPECT_TRUE(c.Add(F("b"), &due));
  EXPECT_FALSE(c.Add(F("a", "secret:AKID***02"), &due));
  EXPECT_FALSE(c.Add(F("a", "secret:AKID***03"), &due));
  c.Drain(&due);
  ASSERT_EQ(due.size(), 1u) << "b had nothing suppressed";
  EXPECT_EQ(due[0].last.key, "a");
  EXPECT_EQ(due[0].count, 2u);
  EXPECT_EQ(due[0].last.actor, AuthFailureCoalescer::kVarious);
  EXPECT_EQ(due[0].last.result, "AuthFailure.SignatureFailure") << "same for all: kept";
}

TEST(AuthFailureCoalescer, BoundedAndEvictionLosesNoCount) {
  FakeClock clock;
  AuthFailureCoalescer c(clock, {60'000, 4});
  std::vector<Summary> due;
  EXPECT_TRUE(c.Add(F("k0"), &due));
  EXPECT_FALSE(c.Add(F("k0"), &due));
  for (int i = 1; i < 100; ++i) {
    EXPECT_TRUE(c.Add(F("k" + std::to_string(i)), &due)) << "a new key is always recorded";
    ASSERT_LE(c.key_count(), 4u);
  }
  // k0 was evicted first, handing back its count.
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].last.key, "k0");
  EXPECT_EQ(due[0].count, 1u);
  // An evicted key is simply recorded at once next time.
  EXPECT_TRUE(c.Add(F("k0"), &due));
}

TEST(AuthFailureCoalescer, ZeroWindowRecordsEverything) {
  FakeClock clock;
  AuthFailureCoalescer c(clock, {0, 100});
  std::vector<Summary> due;
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(c.Add(F("a"), &due));
  }
  EXPECT_TRUE(due.empty());
}

TEST(AuthFailureCoalescer, ClockSteppingBackFarEndsTheWindow) {
  FakeClock clock;
  AuthFailureCoalescer c(clock, {1'000, 100});
  std::vector<Summary> due;
  EXPECT_TRUE(c.Add(F("a"), &due));
  EXPECT_FALSE(c.Add(F("a"), &due));
  clock.AdvanceMillis(-10'000);
  EXPECT_TRUE(c.Add(F("a"), &due)) << "never stuck in a window from the future";
  ASSERT_EQ(due.size(), 1u);
}

}  // namespace
}  // namespace aegis::api
