// PacketHistory: the most recent RTP packets of one producer, kept so the
// worker answers a subscriber's generic NACK (RFC 4585 §6.2.1) itself instead
// of asking the publisher, and so a packet seen twice (a late original and its
// RTX repair, RFC 4588) is forwarded once. Bounded by slot count (kSlots, a
// power of two indexed by sequence number) and by age (max_age_ms). Storage
// is one block allocated on the first Store() and never grown, so the media
// path allocates nothing per packet. Owned by one media worker; not
// thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace aegis::sfu {

class PacketHistory {
 public:
  static constexpr size_t kSlots = 1024;      // ~4 s of 2.5 Mbit/s video
  static constexpr size_t kSlotBytes = 1500;  // largest datagram accepted (FZ-06)
  static constexpr int64_t kDefaultMaxAgeMs = 1000;

  enum class StoreResult : uint8_t {
    kStored,
    kDuplicate,  // this sequence number is already held: do not forward again
    kTooOld,     // older than the window (kSlots behind the newest): not stored
    kTooLarge,   // over kSlotBytes: not stored
  };

  explicit PacketHistory(int64_t max_age_ms = kDefaultMaxAgeMs) : max_age_ms_(max_age_ms) {}

  StoreResult Store(std::span<const uint8_t> packet, uint16_t seq, int64_t now_ms);
  // The stored bytes of `seq` while younger than the age bound; empty when
  // absent, evicted or expired. Valid until the next Store()/Clear().
  std::span<uint8_t> Get(uint16_t seq, int64_t now_ms);
  // Forgets everything (a new source reuses sequence numbers).
  void Clear();

  size_t size() const { return stored_; }

 private:
  struct Slot {
    int64_t stored_ms = 0;
    uint16_t seq = 0;
    uint16_t size = 0;
    bool used = false;
  };

  int64_t max_age_ms_;
  // Allocated by this on first use.
  std::unique_ptr<uint8_t[]> storage_;
  std::unique_ptr<std::array<Slot, kSlots>> slots_;
  bool have_newest_ = false;
  uint16_t newest_ = 0;
  size_t stored_ = 0;
};

}  // namespace aegis::sfu
