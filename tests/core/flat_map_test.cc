// FlatMap against std::unordered_map (randomized differential test), under a
// hash that collides everything, erase during iteration, reserve, move-only
// values and (through the counting allocator this binary links) the promise
// that lookups and erases never allocate.
#include "core/flat_map.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/counting_allocator.h"

namespace aegis::core {
namespace {

template <typename Map>
std::map<typename Map::key_type, typename Map::mapped_type> Sorted(const Map& m) {
  std::map<typename Map::key_type, typename Map::mapped_type> out;
  for (const auto& [k, v] : m) EXPECT_TRUE(out.emplace(k, v).second) << "key twice: " << k;
  return out;
}

// Same contents and size; find() and contains() agree for every key of
// `ref` and for the keys below `probe_limit` (present or not).
template <typename Flat, typename Std>
void ExpectSame(const Flat& flat, const Std& ref, uint32_t probe_limit) {
  ASSERT_EQ(flat.size(), ref.size());
  ASSERT_EQ(flat.empty(), ref.empty());
  ASSERT_EQ(Sorted(flat), Sorted(ref));
  auto probe = [&](uint32_t k) {
    const auto it = flat.find(k);
    const auto rit = ref.find(k);
    ASSERT_EQ(it == flat.end(), rit == ref.end()) << "key " << k;
    if (it != flat.end()) {
      ASSERT_EQ(it->first, k);
      ASSERT_EQ(it->second, rit->second) << "key " << k;
    }
    ASSERT_EQ(flat.contains(k), ref.contains(k)) << "key " << k;
  };
  for (uint32_t k = 0; k < std::min<uint32_t>(probe_limit, 4096); ++k) probe(k);
  for (const auto& [k, v] : ref) probe(k);
}

// Random inserts, overwrites, erases by key and by iterator, lookups and an
// occasional clear/reserve, checked op by op against std::unordered_map.
template <typename Flat>
void RunDifferential(uint32_t seed, uint32_t key_range, size_t ops) {
  Flat flat;
  std::unordered_map<uint32_t, uint64_t> ref;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<uint32_t> key_dist(0, key_range - 1);
  std::uniform_int_distribution<int> op_dist(0, 99);
  for (size_t op = 0; op < ops; ++op) {
    const uint32_t k = key_dist(rng);
    const uint64_t v = rng();
    const int what = op_dist(rng);
    if (what < 20) {
      flat[k] = v;
      ref[k] = v;
    } else if (what < 35) {
      const auto [it, inserted] = flat.try_emplace(k, v);
      const auto [rit, rinserted] = ref.try_emplace(k, v);
      ASSERT_EQ(inserted, rinserted);
      ASSERT_EQ(it->first, k);
      ASSERT_EQ(it->second, rit->second);
    } else if (what < 45) {
      const auto [it, inserted] = flat.emplace(k, v);
      const auto [rit, rinserted] = ref.emplace(k, v);
      ASSERT_EQ(inserted, rinserted);
      ASSERT_EQ(it->second, rit->second);
    } else if (what < 65) {
      ASSERT_EQ(flat.erase(k), ref.erase(k)) << "op " << op;
    } else if (what < 75) {
      auto it = flat.find(k);
      auto rit = ref.find(k);
      ASSERT_EQ(it == flat.end(), rit == ref.end());
      if (it != flat.end()) {
        flat.erase(it);
        ref.erase(rit);
      }
    } else if (what < 99) {
      const auto it = flat.find(k);
      const auto rit = ref.find(k);
      ASSERT_EQ(it == flat.end(), rit == ref.end()) << "op " << op << " key " << k;
      if (it != flat.end()) {
        ASSERT_EQ(it->second, rit->second);
      }
      ASSERT_EQ(flat.count(k), ref.count(k));
    } else if (op % 7 == 0) {
      flat.clear();
      ref.clear();
    } else {
      flat.reserve(flat.size() + 64);
    }
    ASSERT_EQ(flat.size(), ref.size()) << "op " << op;
    if (op % 5000 == 0) ExpectSame(flat, ref, key_range);
  }
  ExpectSame(flat, ref, key_range);
}

TEST(FlatMap, MatchesUnorderedMapOverHundredThousandRandomOps) {
  // Dense keys (many hits and erases), very dense ones (a small table that
  // is emptied and refilled) and sparse ones (mostly misses, a large table).
  RunDifferential<FlatMap<uint32_t, uint64_t>>(1, 2000, 100'000);
  RunDifferential<FlatMap<uint32_t, uint64_t>>(2, 50, 100'000);
  RunDifferential<FlatMap<uint32_t, uint64_t>>(3, 1u << 20, 100'000);  // grows to ~40k
}

// Every key hashes to the same bucket; not marked avalanching, so the map
// mixes it, which still gives one value.
struct ConstantHash {
  size_t operator()(uint32_t /*key*/) const { return 42; }
};
// Only two distinct values, used as is: long Robin Hood runs from two homes.
struct TwoValueHash {
  using is_avalanching = void;
  size_t operator()(uint32_t k) const { return (k & 1) != 0 ? ~size_t{0} : 0; }
};
// std::hash (the identity) on keys differing only in high bits: the map's
// remix must spread them.
struct IdentityHash {
  size_t operator()(uint32_t k) const { return k; }
};

TEST(FlatMap, StaysCorrectWhenEveryKeyCollides) {
  RunDifferential<FlatMap<uint32_t, uint64_t, ConstantHash>>(4, 300, 20'000);
  RunDifferential<FlatMap<uint32_t, uint64_t, TwoValueHash>>(5, 300, 20'000);

  FlatMap<uint32_t, uint64_t, ConstantHash> m;
  for (uint32_t k = 0; k < 500; ++k) m[k] = uint64_t{k} * 3;
  for (uint32_t k = 0; k < 500; k += 2) ASSERT_EQ(m.erase(k), 1u);
  for (uint32_t k = 0; k < 500; ++k) {
    ASSERT_EQ(m.contains(k), k % 2 == 1) << k;
    if (k % 2 == 1) {
      ASSERT_EQ(m.find(k)->second, k * 3);
    }
  }
  EXPECT_FALSE(m.contains(1000));
  EXPECT_EQ(m.size(), 250u);
}

TEST(FlatMap, IdentityHashOnHighBitKeysIsRemixed) {
  FlatMap<uint32_t, uint32_t, IdentityHash> m;
  for (uint32_t i = 0; i < 4096; ++i) m[i << 20 | i >> 12] = i;
  ASSERT_EQ(m.size(), 4096u);
  for (uint32_t i = 0; i < 4096; ++i) ASSERT_EQ(m.find(i << 20 | i >> 12)->second, i);
  EXPECT_EQ(m.bucket_count(), 8192u);  // grown only by load, 4096 <= 8192 * 7/8
}

TEST(FlatMap, EraseIfTestsEachElementOnceAndRemovesExactlyTheMatches) {
  FlatMap<uint32_t, std::string> m;
  for (uint32_t k = 0; k < 1000; ++k) m[k] = std::to_string(k);
  std::vector<int> tested(1000, 0);
  const size_t removed = erase_if(m, [&](const auto& kv) {
    ++tested[kv.first];
    return kv.first % 3 == 0 || kv.second.size() == 1;
  });
  for (uint32_t k = 0; k < 1000; ++k) ASSERT_EQ(tested[k], 1) << k;
  // 334 multiples of 3 in [0, 1000) plus the one-digit keys 1 2 4 5 7 8.
  EXPECT_EQ(removed, 340u);
  EXPECT_EQ(m.size(), 660u);
  for (uint32_t k = 0; k < 1000; ++k) {
    const bool kept = !(k % 3 == 0 || k < 10);
    ASSERT_EQ(m.contains(k), kept) << k;
    if (kept) {
      ASSERT_EQ(m.find(k)->second, std::to_string(k));
    }
  }
  EXPECT_EQ(erase_if(m, [](const auto&) { return false; }), 0u);
  EXPECT_EQ(erase_if(m, [](const auto&) { return true; }), 660u);
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.begin(), m.end());
}

TEST(FlatMap, EraseByIteratorInAScanVisitsEveryElementOnce) {
  FlatMap<uint32_t, uint32_t> m;
  for (uint32_t k = 0; k < 777; ++k) m[k * 7919] = k;
  std::vector<int> seen(777, 0);
  for (auto it = m.begin(); it != m.end();) {
    ++seen[it->second];
    it = it->second % 2 == 0 ? m.erase(it) : std::next(it);
  }
  for (uint32_t k = 0; k < 777; ++k) ASSERT_EQ(seen[k], 1) << k;
  EXPECT_EQ(m.size(), 388u);
  for (auto& [k, v] : m) {
    EXPECT_EQ(v % 2, 1u);
    EXPECT_EQ(k, v * 7919);
  }
}

TEST(FlatMap, GrowsTimesTwoAtSevenEighthsAndReserveAvoidsAnyRehash) {
  FlatMap<uint32_t, int> grow;
  EXPECT_EQ(grow.bucket_count(), 0u);  // an empty map owns nothing
  for (uint32_t k = 0; k < 7; ++k) grow[k] = 1;
  EXPECT_EQ(grow.bucket_count(), 8u);
  grow[7] = 1;
  EXPECT_EQ(grow.bucket_count(), 16u);
  for (uint32_t k = 8; k < 15; ++k) grow[k] = 1;
  EXPECT_EQ(grow.bucket_count(), 32u);  // 15 > 16 * 7/8

  FlatMap<uint32_t, int> m;
  m.reserve(1000);
  const size_t buckets = m.bucket_count();
  EXPECT_GE(m.capacity(), 1000u);
  EXPECT_EQ(buckets, 2048u);  // 1024 * 7/8 = 896 < 1000
  m[0] = 0;
  const int* first = &m.find(0)->second;
  for (uint32_t k = 1; k < 1000; ++k) m[k] = static_cast<int>(k);
  EXPECT_EQ(m.bucket_count(), buckets);
  EXPECT_EQ(&m.find(0)->second, first);  // values were never reallocated either

  m.clear();
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.bucket_count(), buckets);  // clear keeps the storage
  EXPECT_FALSE(m.contains(5));
  m[5] = 5;
  EXPECT_EQ(m.size(), 1u);

  FlatMap<uint32_t, int> sized(100);
  EXPECT_GE(sized.capacity(), 100u);
}

TEST(FlatMap, HoldsMoveOnlyValues) {
  FlatMap<uint32_t, std::unique_ptr<int>> m;
  for (uint32_t k = 0; k < 100; ++k) {
    auto [it, inserted] = m.try_emplace(k, std::make_unique<int>(static_cast<int>(k)));
    ASSERT_TRUE(inserted);
  }
  auto value = std::make_unique<int>(-1);
  auto [it, inserted] = m.try_emplace(5, std::move(value));
  EXPECT_FALSE(inserted);
  EXPECT_NE(value, nullptr);  // not consumed when the key exists
  EXPECT_EQ(*it->second, 5);
  m[200] = std::make_unique<int>(200);
  EXPECT_TRUE(m.emplace(201, std::make_unique<int>(201)).second);
  for (uint32_t k = 0; k < 100; k += 3) m.erase(k);  // moves the last one into each hole
  for (uint32_t k = 0; k < 100; ++k) {
    if (k % 3 == 0) {
      EXPECT_FALSE(m.contains(k));
    } else {
      ASSERT_TRUE(m.contains(k));
      EXPECT_EQ(*m.find(k)->second, static_cast<int>(k));
    }
  }
  FlatMap<uint32_t, std::unique_ptr<int>> moved = std::move(m);
  EXPECT_EQ(*moved.find(200)->second, 200);
  EXPECT_EQ(*moved[201], 201);
  EXPECT_EQ(moved.size(), 68u);
}

// A 5-tuple-like key with its own hash, as the worker's rtc::Tuple.
struct Addr {
  std::array<uint8_t, 16> ip{};
  uint16_t port = 0;
  uint8_t proto = 0;
  friend bool operator==(const Addr&, const Addr&) = default;
};
struct AddrHash {
  size_t operator()(const Addr& a) const {
    uint64_t h = 1469598103934665603ull;
    for (uint8_t b : a.ip) h = (h ^ b) * 1099511628211ull;
    return static_cast<size_t>((h ^ a.port ^ (uint64_t{a.proto} << 16)) * 1099511628211ull);
  }
};

TEST(FlatMap, StructKeysWithACustomHashAndStringKeys) {
  FlatMap<Addr, uint64_t, AddrHash> by_addr;
  for (uint16_t port = 1; port <= 300; ++port) {
    Addr a;
    a.ip[15] = static_cast<uint8_t>(port % 7);
    a.port = port;
    a.proto = port % 2;
    by_addr[a] = port;
  }
  Addr probe;
  probe.ip[15] = 42 % 7;
  probe.port = 42;
  probe.proto = 0;
  ASSERT_TRUE(by_addr.contains(probe));
  EXPECT_EQ(by_addr.find(probe)->second, 42u);
  probe.proto = 1;
  EXPECT_FALSE(by_addr.contains(probe));

  FlatMap<std::string, int> by_name;
  by_name["alpha"] = 1;
  EXPECT_TRUE(by_name.insert({"beta", 2}).second);
  EXPECT_FALSE(by_name.insert({"beta", 3}).second);
  EXPECT_EQ(by_name["beta"], 2);
  EXPECT_EQ(by_name.erase("alpha"), 1u);
  EXPECT_FALSE(by_name.contains("alpha"));
  EXPECT_EQ(by_name.size(), 1u);
}

TEST(FlatMap, LookupsErasesAndReservedInsertsDoNotAllocate) {
  FlatMap<uint32_t, uint64_t> m;
  m.reserve(4096);
  alloc_count::ResetAllocationCounts();
  for (uint32_t k = 0; k < 4096; ++k) m[k * 2654435761u] = k;  // within the reservation
  size_t hits = 0;
  for (uint32_t k = 0; k < 8192; ++k) {
    hits += m.contains(k * 2654435761u) ? 1 : 0;
    if (auto it = m.find(k * 2654435761u); it != m.end()) hits += it->second == k ? 1 : 0;
  }
  for (uint32_t k = 0; k < 4096; k += 2) m.erase(k * 2654435761u);
  erase_if(m, [](const auto& kv) { return kv.second % 3 == 0; });
  for (auto it = m.begin(); it != m.end();) it = it->second % 5 == 0 ? m.erase(it) : std::next(it);
  m.clear();
  for (uint32_t k = 0; k < 4096; ++k) m.try_emplace(k, k);  // refill after clear
  EXPECT_EQ(alloc_count::NewCalls(), 0u);
  EXPECT_EQ(hits, 2 * 4096u);
  EXPECT_EQ(m.size(), 4096u);

  // Sanity check of the counter itself: growing past the reservation does
  // allocate.
  for (uint32_t k = 4096; k < 8192; ++k) m[k] = k;
  EXPECT_GT(alloc_count::NewCalls(), 0u);
}

}  // namespace
}  // namespace aegis::core
