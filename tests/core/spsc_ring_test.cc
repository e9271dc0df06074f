// SpscRing (src/core/spsc_ring.h): full/empty edges and index wrap on one
// thread, then a producer and a consumer thread moving millions of slots
// whose order and content the consumer checks.
#include "core/spsc_ring.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <thread>

namespace aegis::core {
namespace {

struct Item {
  uint64_t seq = 0;
  std::array<uint64_t, 7> body{};  // a function of seq: a torn slot shows
};

void Fill(Item& item, uint64_t seq) {
  item.seq = seq;
  for (size_t i = 0; i < item.body.size(); ++i) item.body[i] = seq * 0x9E3779B97F4A7C15ULL + i;
}

bool Intact(const Item& item, uint64_t seq) {
  if (item.seq != seq) return false;
  for (size_t i = 0; i < item.body.size(); ++i) {
    if (item.body[i] != seq * 0x9E3779B97F4A7C15ULL + i) return false;
  }
  return true;
}

TEST(SpscRingTest, EmptyFullAndWrapOnOneThread) {
  SpscRing<Item> ring(4);
  EXPECT_EQ(ring.capacity(), 4u);
  EXPECT_EQ(ring.Front(), nullptr);
  uint64_t pushed = 0;
  uint64_t popped = 0;
  // Many rounds so head and tail wrap the slot array many times.
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < 4; ++i) {
      Item* slot = ring.TryBeginPush();
      ASSERT_NE(slot, nullptr) << round << "/" << i;
      Fill(*slot, pushed++);
      ring.CommitPush();
    }
    EXPECT_EQ(ring.TryBeginPush(), nullptr) << "a full ring accepted a fifth slot";
    for (int i = 0; i < 3; ++i) {
      Item* front = ring.Front();
      ASSERT_NE(front, nullptr);
      EXPECT_TRUE(Intact(*front, popped++));
      ring.Pop();
    }
    // One slot taken: three more fit, then it is full again.
    for (int i = 0; i < 3; ++i) {
      Item* slot = ring.TryBeginPush();
      ASSERT_NE(slot, nullptr);
      Fill(*slot, pushed++);
      ring.CommitPush();
    }
    EXPECT_EQ(ring.TryBeginPush(), nullptr);
    while (Item* front = ring.Front()) {
      EXPECT_TRUE(Intact(*front, popped++));
      ring.Pop();
    }
    EXPECT_EQ(popped, pushed);
  }
}

TEST(SpscRingTest, UncommittedSlotIsNotVisible) {
  SpscRing<Item> ring(2);
  Item* slot = ring.TryBeginPush();
  ASSERT_NE(slot, nullptr);
  Fill(*slot, 7);
  EXPECT_EQ(ring.Front(), nullptr);
  ring.CommitPush();
  ASSERT_NE(ring.Front(), nullptr);
  EXPECT_TRUE(Intact(*ring.Front(), 7));
}

TEST(SpscRingTest, TwoThreadsMoveMillionsInOrderAndIntact) {
  constexpr uint64_t kItems = 4'000'000;
  SpscRing<Item> ring(256);
  uint64_t full_seen = 0;  // producer thread only
  std::thread producer([&] {
    for (uint64_t seq = 0; seq < kItems; ++seq) {
      Item* slot = nullptr;
      while ((slot = ring.TryBeginPush()) == nullptr) {
        ++full_seen;
        std::this_thread::yield();
      }
      Fill(*slot, seq);
      ring.CommitPush();
    }
  });
  uint64_t bad = 0;
  uint64_t next = 0;
  while (next < kItems) {
    Item* front = ring.Front();
    if (front == nullptr) {
      std::this_thread::yield();
      continue;
    }
    if (!Intact(*front, next)) ++bad;
    ++next;
    ring.Pop();
  }
  producer.join();
  EXPECT_EQ(bad, 0u) << "slots out of order or torn";
  EXPECT_EQ(ring.Front(), nullptr);
  // Informational: how often the producer met a full ring.
  RecordProperty("full_seen", static_cast<int>(std::min<uint64_t>(full_seen, INT32_MAX)));
}

}  // namespace
}  // namespace aegis::core
