// NackGenerator: watches one producer's incoming sequence numbers and decides
// which missing packets to ask the publisher for with a generic NACK
// (RFC 4585 §6.2.1). A gap is requested at once, then again every
// retry_interval_ms until it arrives (original or RTX), kMaxRetries requests
// were sent, or it is older than kMaxAgeMs. The list is bounded (kMaxMissing);
// a jump larger than that is not NACKed: the caller asks for a keyframe
// instead. Fixed storage, no allocation. Owned by one media worker; not
// thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace aegis::sfu {

class NackGenerator {
 public:
  static constexpr size_t kMaxMissing = 256;
  static constexpr int kMaxRetries = 10;
  static constexpr int64_t kMaxAgeMs = 1000;
  static constexpr int64_t kDefaultRetryIntervalMs = 40;

  enum class Arrival : uint8_t {
    kInOrder,    // the next sequence number, or a jump that opened a gap
    kRecovered,  // filled a gap we were waiting for
    kLate,       // older than the newest and not awaited (duplicate or given up)
    kReset,      // a jump larger than kMaxMissing: the list was cleared, request a keyframe
  };

  explicit NackGenerator(int64_t retry_interval_ms = kDefaultRetryIntervalMs)
      : retry_interval_ms_(retry_interval_ms) {}

  Arrival OnPacket(uint16_t seq, int64_t now_ms);

  // Sequence numbers due for a (re)request now, ascending, at most
  // out.size(); each returned one counts as sent. Expired entries are dropped.
  size_t CollectDue(int64_t now_ms, std::span<uint16_t> out);

  size_t missing() const { return count_; }
  uint64_t given_up() const { return given_up_; }
  void Reset();

 private:
  struct Missing {
    uint16_t seq = 0;
    uint8_t retries = 0;
    int64_t first_ms = 0;
    int64_t last_sent_ms = 0;
  };

  void Erase(size_t index);

  int64_t retry_interval_ms_;
  bool started_ = false;
  uint16_t newest_ = 0;
  // Ascending by sequence number (gaps appear in order).
  std::array<Missing, kMaxMissing> missing_{};
  size_t count_ = 0;
  uint64_t given_up_ = 0;
};

}  // namespace aegis::sfu
