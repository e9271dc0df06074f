// SpscRing<T>: a bounded lock-free queue between exactly one producer thread
// and one consumer thread, of fixed-size slots written and read in place
// (no copy through a temporary). The capacity is a power of two fixed at
// construction, the only allocation; Push never blocks: a full ring says so
// and the caller drops. Head and tail are acquire/release atomics on their
// own cache lines, each side caching the other's index so that an uncontended
// push or pop touches no shared line. Thread contract: TryBeginPush /
// CommitPush on the producer thread only, Front / Pop on the consumer thread
// only; capacity() from any thread.
#pragma once

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

namespace aegis::core {

template <typename T>
class SpscRing {
 public:
  // `capacity`: a power of two ≥ 2.
  explicit SpscRing(size_t capacity)
      : slots_(std::make_unique<T[]>(capacity)), mask_(capacity - 1) {
    assert(capacity >= 2 && (capacity & (capacity - 1)) == 0);
  }
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  size_t capacity() const { return mask_ + 1; }

  // Producer: the next free slot to fill, or null when the ring is full.
  // The slot becomes visible to the consumer at CommitPush().
  T* TryBeginPush() {
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_cache_ > mask_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail - head_cache_ > mask_) return nullptr;
    }
    return &slots_[tail & mask_];
  }
  void CommitPush() {
    tail_.store(tail_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }

  // Consumer: the oldest filled slot, or null when empty; it stays valid and
  // unchanged until Pop().
  T* Front() {
    const uint64_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_cache_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head == tail_cache_) return nullptr;
    }
    return &slots_[head & mask_];
  }
  void Pop() { head_.store(head_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }

 private:
  static constexpr size_t kLine = 64;

  // Allocated by this.
  const std::unique_ptr<T[]> slots_;
  const uint64_t mask_;
  // Written by the consumer; its copy of tail_.
  alignas(kLine) std::atomic<uint64_t> head_{0};
  uint64_t tail_cache_ = 0;
  // Written by the producer; its copy of head_.
  alignas(kLine) std::atomic<uint64_t> tail_{0};
  uint64_t head_cache_ = 0;
};

}  // namespace aegis::core
