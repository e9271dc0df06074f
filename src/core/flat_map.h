// FlatMap: a hash map for per-packet lookups (the media worker's SSRC and
// 5-tuple tables). Values live densely in one vector, so iteration is a linear
// scan; an index of 8-byte buckets uses open addressing with linear probing
// (Robin Hood order), backward-shift deletion (no tombstones) and a power-of-
// two size grown ×2 at load 7/8. Lookups and erases never allocate; inserts
// allocate only when the map grows, which reserve() avoids. Any insert or
// erase invalidates iterators, pointers and references (erase moves the last
// element into the hole). Keys are reachable as non-const `first`: never change
// one in place. Not thread-safe; a plain value type.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace aegis::core {

// SplitMix64 finaliser: every input bit affects every output bit.
constexpr uint64_t MixBits(uint64_t x) {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 31;
  return x;
}

// Default hash: std::hash, which the map mixes again (std::hash of an integer
// is the identity), ...
template <typename K>
struct FlatHash {
  size_t operator()(const K& key) const { return std::hash<K>{}(key); }
};

// ... except for integer and enum keys (SSRCs, ids), mixed once here. A hash
// that declares `is_avalanching` is used by the map as it is.
template <typename K>
requires(std::is_integral_v<K> || std::is_enum_v<K>) struct FlatHash<K> {
  using is_avalanching = void;
  size_t operator()(K key) const noexcept {
    return static_cast<size_t>(MixBits(static_cast<uint64_t>(key)));
  }
};

template <typename K, typename V, typename Hash = FlatHash<K>, typename Eq = std::equal_to<K>>
class FlatMap {
 public:
  using key_type = K;
  using mapped_type = V;
  using value_type = std::pair<K, V>;
  using size_type = size_t;
  using hasher = Hash;
  using key_equal = Eq;
  using iterator = typename std::vector<value_type>::iterator;
  using const_iterator = typename std::vector<value_type>::const_iterator;

  FlatMap() = default;
  explicit FlatMap(size_t expected) { reserve(expected); }

  iterator begin() noexcept { return values_.begin(); }
  iterator end() noexcept { return values_.end(); }
  const_iterator begin() const noexcept { return values_.begin(); }
  const_iterator end() const noexcept { return values_.end(); }
  const_iterator cbegin() const noexcept { return values_.cbegin(); }
  const_iterator cend() const noexcept { return values_.cend(); }

  bool empty() const noexcept { return values_.empty(); }
  size_t size() const noexcept { return values_.size(); }
  size_t bucket_count() const noexcept { return buckets_.size(); }
  // The largest size reachable without growing the index.
  size_t capacity() const noexcept { return MaxLoad(buckets_.size()); }

  // Removes every element; keeps the storage (no allocation to refill).
  void clear() noexcept {
    values_.clear();
    std::fill(buckets_.begin(), buckets_.end(), Bucket{});
  }

  // Makes room for `n` elements: no allocation or rehash until size() > n.
  void reserve(size_t n) {
    values_.reserve(n);
    size_t buckets = kMinBuckets;
    while (MaxLoad(buckets) < n) buckets *= 2;
    if (buckets > buckets_.size()) Rehash(buckets);
  }

  iterator find(const K& key) {
    const size_t b = FindBucket(key);
    return b == kNone ? end() : begin() + buckets_[b].index;
  }
  const_iterator find(const K& key) const {
    const size_t b = FindBucket(key);
    return b == kNone ? end() : begin() + buckets_[b].index;
  }
  bool contains(const K& key) const { return FindBucket(key) != kNone; }
  size_t count(const K& key) const { return contains(key) ? 1 : 0; }

  // The value for `key`, value-initialised first if absent.
  V& operator[](const K& key) { return try_emplace(key).first->second; }
  V& operator[](K&& key) { return try_emplace(std::move(key)).first->second; }

  // Inserts {key, V(args...)} unless `key` is present (then `args` are
  // untouched). Returns the element and whether it was inserted.
  template <typename... Args>
  std::pair<iterator, bool> try_emplace(const K& key, Args&&... args) {
    return TryEmplace(key, std::forward<Args>(args)...);
  }
  template <typename... Args>
  std::pair<iterator, bool> try_emplace(K&& key, Args&&... args) {
    return TryEmplace(std::move(key), std::forward<Args>(args)...);
  }
  // Builds a value_type from `args` and inserts it unless its key is present.
  template <typename... Args>
  std::pair<iterator, bool> emplace(Args&&... args) {
    value_type v(std::forward<Args>(args)...);
    return TryEmplace(std::move(v.first), std::move(v.second));
  }
  std::pair<iterator, bool> insert(value_type v) {
    return TryEmplace(std::move(v.first), std::move(v.second));
  }

  // Returns how many elements were removed (0 or 1).
  size_t erase(const K& key) {
    const size_t b = FindBucket(key);
    if (b == kNone) return 0;
    EraseAt(b);
    return 1;
  }
  // Removes the element at `pos` and returns the iterator to continue a scan
  // with: the same position, now holding the former last element (not yet
  // visited by a front-to-back scan), or end().
  iterator erase(const_iterator pos) {
    const auto index = static_cast<size_t>(pos - cbegin());
    EraseAt(BucketOfIndex(values_[index].first, index));
    return begin() + static_cast<std::ptrdiff_t>(index);
  }
  iterator erase(iterator pos) { return erase(const_iterator(pos)); }

 private:
  // dist_fp: (probe distance + 1) in the high 24 bits, 8 hash bits below; 0 is
  // an empty bucket. Comparing whole words orders by distance first.
  struct Bucket {
    uint32_t dist_fp = 0;
    uint32_t index = 0;  // into values_
  };
  static constexpr uint32_t kDistOne = 1u << 8;
  static constexpr size_t kMinBuckets = 8;
  // Distances stay below the bucket count, which must fit the 24-bit field.
  static constexpr size_t kMaxBuckets = size_t{1} << 24;
  static constexpr size_t kNone = ~size_t{0};

  static constexpr size_t MaxLoad(size_t buckets) { return buckets / 8 * 7; }

  uint64_t HashOf(const K& key) const {
    const auto h = static_cast<uint64_t>(hash_(key));
    if constexpr (requires { typename Hash::is_avalanching; }) {
      return h;
    } else {
      return MixBits(h);
    }
  }
  size_t HomeOf(uint64_t h) const { return static_cast<size_t>(h >> shift_); }
  static uint32_t FirstDistFp(uint64_t h) { return kDistOne | static_cast<uint32_t>(h & 0xFF); }
  size_t Next(size_t i) const { return (i + 1) & (buckets_.size() - 1); }

  // The bucket holding `key`, or kNone.
  size_t FindBucket(const K& key) const {
    if (values_.empty()) return kNone;
    const uint64_t h = HashOf(key);
    uint32_t dist_fp = FirstDistFp(h);
    for (size_t i = HomeOf(h);; i = Next(i), dist_fp += kDistOne) {
      const Bucket& b = buckets_[i];
      if (b.dist_fp == dist_fp) {
        if (eq_(values_[b.index].first, key)) return i;
      } else if (b.dist_fp < dist_fp) {
        // Robin Hood order: the key would have displaced this one.
        return kNone;
      }
    }
  }

  // The bucket pointing at values_[index] (which is present).
  size_t BucketOfIndex(const K& key, size_t index) const {
    size_t i = HomeOf(HashOf(key));
    while (buckets_[i].dist_fp == 0 || buckets_[i].index != index) i = Next(i);
    return i;
  }

  void PlaceIndex(uint64_t h, size_t index) {
    Bucket b{FirstDistFp(h), static_cast<uint32_t>(index)};
    size_t i = HomeOf(h);
    while (buckets_[i].dist_fp != 0) {
      if (b.dist_fp > buckets_[i].dist_fp) std::swap(b, buckets_[i]);
      b.dist_fp += kDistOne;
      i = Next(i);
    }
    buckets_[i] = b;
  }

  void Rehash(size_t buckets) {
    if (buckets > kMaxBuckets) throw std::length_error("FlatMap: too many elements");
    std::vector<Bucket> fresh(buckets);
    buckets_.swap(fresh);
    shift_ = 64 - std::countr_zero(buckets);
    for (size_t i = 0; i < values_.size(); ++i) PlaceIndex(HashOf(values_[i].first), i);
  }

  template <typename KK, typename... Args>
  std::pair<iterator, bool> TryEmplace(KK&& key, Args&&... args) {
    if (const size_t b = FindBucket(key); b != kNone) return {begin() + buckets_[b].index, false};
    if (values_.size() + 1 > MaxLoad(buckets_.size())) {
      Rehash(std::max(kMinBuckets, buckets_.size() * 2));
    }
    const uint64_t h = HashOf(key);
    values_.emplace_back(std::piecewise_construct, std::forward_as_tuple(std::forward<KK>(key)),
                         std::forward_as_tuple(std::forward<Args>(args)...));
    PlaceIndex(h, values_.size() - 1);
    return {end() - 1, true};
  }

  void EraseAt(size_t bucket) {
    const size_t index = buckets_[bucket].index;
    // Backward shift: pull the following displaced buckets one step home.
    size_t i = bucket;
    for (size_t next = Next(i); buckets_[next].dist_fp >= 2 * kDistOne; i = next, next = Next(i)) {
      buckets_[i] = Bucket{buckets_[next].dist_fp - kDistOne, buckets_[next].index};
    }
    buckets_[i] = Bucket{};
    // Keep values_ dense: the last element moves into the hole.
    const size_t last = values_.size() - 1;
    if (index != last) {
      buckets_[BucketOfIndex(values_[last].first, last)].index = static_cast<uint32_t>(index);
      values_[index] = std::move(values_[last]);
    }
    values_.pop_back();
  }

  std::vector<value_type> values_;
  std::vector<Bucket> buckets_;
  int shift_ = 64;
  [[no_unique_address]] Hash hash_;
  [[no_unique_address]] Eq eq_;
};

// Removes every element for which `pred(const value_type&)` is true; each
// element is tested exactly once. Returns how many were removed.
template <typename K, typename V, typename Hash, typename Eq, typename Pred>
size_t erase_if(FlatMap<K, V, Hash, Eq>& map, Pred pred) {
  const size_t before = map.size();
  // Back to front: erase() fills the hole with the last element, which has
  // already been tested.
  for (size_t i = map.size(); i-- > 0;) {
    auto it = map.begin() + static_cast<std::ptrdiff_t>(i);
    if (pred(std::as_const(*it))) map.erase(it);
  }
  return before - map.size();
}

}  // namespace aegis::core
