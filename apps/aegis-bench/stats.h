// Measurement primitives of aegis-bench: a log-linear latency histogram with
// percentiles, and per-stream receive statistics (loss, gaps, duplicates,
// RFC 3550 interarrival jitter) keyed by the publisher-assigned counter that
// every synthetic payload carries. Pure value types fed by the one event-loop
// thread; no clock inside (times are passed in). Not thread-safe.
#pragma once

#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace aegis::bench {

// Values in microseconds. Exact below 1024 us; above, 64 linear sub-buckets
// per power of two (relative error < 1.6 %), up to 2^40 us. Percentile()
// returns the upper bound of the bucket holding the rank, so it never
// under-reports. ToRaw()/FromRaw() hand the exact buckets to another
// process (--procs), so merged percentiles are those of all samples.
class LatencyHistogram {
 public:
  // The non-zero buckets (index, count) and the exact maximum and sum.
  struct Raw {
    std::vector<std::pair<uint32_t, uint64_t>> buckets;
    uint64_t max = 0;
    double sum = 0;
  };

  LatencyHistogram();
  Raw ToRaw() const;
  // nullopt when a bucket index is out of range (the input came from
  // another process: checked, never trusted).
  static std::optional<LatencyHistogram> FromRaw(const Raw& raw);
  void Add(uint64_t micros);
  void Merge(const LatencyHistogram& other);
  void Reset();
  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  double Mean() const;
  // p in [0, 100]; 0 when empty.
  uint64_t Percentile(double p) const;

 private:
  static constexpr size_t kLinear = 1024;
  static constexpr size_t kSubBuckets = 64;
  static constexpr size_t kOctaves = 31;  // 2^10 .. 2^40
  static size_t BucketOf(uint64_t micros);
  static uint64_t UpperBound(size_t bucket);

  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  uint64_t max_ = 0;
  long double sum_ = 0;
};

// Exact percentile (nearest rank) of a small sample set, e.g. per-client
// join times in milliseconds. Sorts a copy; 0 when empty.
double NearestRankPercentile(std::vector<double> values, double p);

// One received stream (one SSRC on one subscriber connection).
class StreamReceiveStats {
 public:
  static constexpr uint32_t kWindow = 2048;  // duplicate detection horizon

  // `counter`: publisher counter from the payload prefix; `arrival_units` and
  // `rtp_timestamp` in the stream's RTP clock (for jitter).
  void OnPacket(uint32_t counter, uint32_t rtp_timestamp, uint64_t arrival_units);

  bool started() const { return started_; }
  uint32_t first_counter() const { return first_; }
  uint32_t highest_counter() const { return highest_; }
  uint64_t unique_received() const { return unique_; }
  uint64_t duplicates() const { return duplicates_; }
  uint64_t gaps() const { return gaps_; }            // forward jumps of more than one
  uint64_t late() const { return late_; }            // older than the window: not counted
  uint64_t reordered() const { return reordered_; }  // filled a hole (NACK/RTX or reordering)
  // Counters expected so far from the first one seen to the highest one.
  uint64_t ExpectedSoFar() const { return started_ ? uint64_t{highest_ - first_} + 1 : 0; }
  // Expected if the publisher's last counter is `last_sent` (>= highest).
  uint64_t ExpectedUpTo(uint32_t last_sent) const;
  // RFC 3550 §6.4.1 interarrival jitter, in RTP units.
  double jitter_units() const { return jitter_; }

 private:
  bool started_ = false;
  uint32_t first_ = 0;
  uint32_t highest_ = 0;
  uint64_t unique_ = 0;
  uint64_t duplicates_ = 0;
  uint64_t gaps_ = 0;
  uint64_t late_ = 0;
  uint64_t reordered_ = 0;
  std::bitset<kWindow> seen_;  // bit (counter % kWindow) for counters in (highest-kWindow, highest]
  bool have_transit_ = false;
  uint32_t last_transit_ = 0;
  double jitter_ = 0;
};

}  // namespace aegis::bench
