// Per-SSRC sequence bookkeeping of the EVP SrtpSession (internal to
// src/rtc/srtp): the RFC 3711 §3.3.1 / Appendix A packet-index estimate, a
// sliding replay window (§3.3.2), and a flat open-addressing SSRC table.
// Plain values and templates; nothing here allocates except SsrcTable
// growing when a new SSRC is inserted. Not thread-safe (one session each).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace aegis::rtc::srtp_internal {

// 48-bit SRTP packet index i = 2^16 * ROC + SEQ (RFC 3711 §3.3.1).
inline constexpr uint64_t kRtpIndexMask = (uint64_t{1} << 48) - 1;

// RFC 3711 Appendix A: the index of `seq` given the highest index accepted
// so far (`highest`), guessing ROC - 1, ROC or ROC + 1. As in libsrtp (the
// oracle this is checked against), while the stream is still in its first
// half-cycle (highest <= 2^15) the guess is always ROC 0, never ROC "-1".
constexpr uint64_t EstimateRtpIndex(uint64_t highest, uint16_t seq) {
  constexpr uint32_t kHalf = 0x8000;
  if (highest <= kHalf) return seq;
  const uint32_t roc = static_cast<uint32_t>(highest >> 16);
  const uint32_t s_l = static_cast<uint32_t>(highest & 0xFFFF);
  uint32_t guess_roc = roc;
  if (s_l < kHalf) {
    if (seq > s_l + kHalf) guess_roc = roc - 1;  // seq is from before the last wrap
  } else if (s_l - kHalf > seq) {
    guess_roc = roc + 1;  // seq has wrapped past s_l
  }
  return ((uint64_t{guess_roc} << 16) | seq) & kRtpIndexMask;
}

enum class ReplayVerdict : uint8_t { kNew, kReplayed, kTooOld };

// Sliding window over the newest kBits indices (the newest included):
// Check() before any crypto, Add() only after authentication succeeded.
// A fresh window has highest 0 with no bit set, so the first packet of a
// stream is accepted whatever its index (libsrtp's behaviour too).
template <size_t kBits>
class ReplayWindow {
  static_assert(kBits >= 64 && kBits % 64 == 0, "whole 64-bit words");

 public:
  ReplayVerdict Check(uint64_t index) const {
    if (index > highest_) return ReplayVerdict::kNew;
    if (highest_ - index >= kBits) return ReplayVerdict::kTooOld;
    return Test(index) ? ReplayVerdict::kReplayed : ReplayVerdict::kNew;
  }

  void Add(uint64_t index) {
    if (index > highest_) {
      const uint64_t advance = index - highest_;
      if (advance >= kBits) {
        words_.fill(0);
      } else {
        // Bits are kept at position index % kBits, so advancing only has to
        // forget the positions the new indices reuse.
        for (uint64_t i = highest_ + 1; i <= index; ++i) Clear(i);
      }
      highest_ = index;
    }
    Set(index);
  }

  uint64_t highest() const { return highest_; }

 private:
  bool Test(uint64_t index) const {
    const size_t bit = static_cast<size_t>(index % kBits);
    return ((words_[bit / 64] >> (bit % 64)) & 1U) != 0;
  }
  void Set(uint64_t index) {
    const size_t bit = static_cast<size_t>(index % kBits);
    words_[bit / 64] |= uint64_t{1} << (bit % 64);
  }
  void Clear(uint64_t index) {
    const size_t bit = static_cast<size_t>(index % kBits);
    words_[bit / 64] &= ~(uint64_t{1} << (bit % 64));
  }

  uint64_t highest_ = 0;
  std::array<uint64_t, kBits / 64> words_{};
};

// SSRC -> Stream map in one flat vector (linear probing, load <= 1/2).
// Lookups never allocate. Insert() allocates only when the table doubles
// (a new SSRC beyond the current capacity); at `max_streams` it evicts the
// least recently used stream instead. The capacity reserved at
// construction covers the usual 1-6 SSRCs of a transport.
template <typename Stream>
class SsrcTable {
 public:
  // `initial_streams` 0 allocates nothing until the first Insert().
  SsrcTable(size_t initial_streams, size_t max_streams)
      : max_streams_(std::max<size_t>(max_streams, 1)) {
    if (initial_streams > 0) {
      size_t slots = kMinSlots;
      while (slots < 2 * initial_streams) slots *= 2;
      slots_.resize(slots);
    }
  }

  // The stream of `ssrc`, or nullptr. Marks it as recently used.
  Stream* Find(uint32_t ssrc) {
    if (slots_.empty()) return nullptr;
    const size_t mask = slots_.size() - 1;
    for (size_t i = Home(ssrc, mask);; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (!s.used) return nullptr;
      if (s.ssrc == ssrc) {
        s.last_use = ++clock_;
        return &s.stream;
      }
    }
  }

  // Adds a value-initialised stream for an `ssrc` that Find() did not
  // return. Pointers from earlier Find()/Insert() calls become invalid.
  Stream& Insert(uint32_t ssrc) {
    if (size_ >= max_streams_) {
      EvictLeastRecentlyUsed();
    } else if (2 * (size_ + 1) > slots_.size()) {
      Grow();
    }
    Slot& s = Place(ssrc);
    s.stream = Stream{};
    s.last_use = ++clock_;
    ++size_;
    return s.stream;
  }

  size_t size() const { return size_; }
  size_t slot_count() const { return slots_.size(); }

 private:
  static constexpr size_t kMinSlots = 4;

  struct Slot {
    uint32_t ssrc = 0;
    bool used = false;
    uint64_t last_use = 0;
    Stream stream{};
  };

  // Fibonacci hashing: SSRCs are random, but a peer could pick sequential
  // ones, which this spreads.
  static size_t Home(uint32_t ssrc, size_t mask) {
    return static_cast<size_t>((uint64_t{ssrc} * 0x9E3779B97F4A7C15ULL) >> 32) & mask;
  }

  Slot& Place(uint32_t ssrc) {
    const size_t mask = slots_.size() - 1;
    size_t i = Home(ssrc, mask);
    while (slots_[i].used) i = (i + 1) & mask;
    slots_[i].used = true;
    slots_[i].ssrc = ssrc;
    return slots_[i];
  }

  void Grow() {
    std::vector<Slot> old(std::max(kMinSlots, slots_.size() * 2));
    old.swap(slots_);
    for (Slot& s : old) {
      if (!s.used) continue;
      Slot& d = Place(s.ssrc);
      d.last_use = s.last_use;
      d.stream = s.stream;
    }
  }

  void EvictLeastRecentlyUsed() {
    size_t victim = slots_.size();
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].used &&
          (victim == slots_.size() || slots_[i].last_use < slots_[victim].last_use)) {
        victim = i;
      }
    }
    if (victim == slots_.size()) return;
    // Backward-shift deletion keeps every probe chain unbroken.
    const size_t mask = slots_.size() - 1;
    size_t hole = victim;
    slots_[hole].used = false;
    for (size_t j = (hole + 1) & mask; slots_[j].used; j = (j + 1) & mask) {
      const size_t home = Home(slots_[j].ssrc, mask);
      // Move j into the hole unless its home lies cyclically in (hole, j].
      const bool home_after_hole =
          hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (home_after_hole) continue;
      slots_[hole] = slots_[j];
      slots_[j].used = false;
      hole = j;
    }
    --size_;
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
  const size_t max_streams_;
  uint64_t clock_ = 0;
};

}  // namespace aegis::rtc::srtp_internal
