#include "stats.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace aegis::bench {

LatencyHistogram::LatencyHistogram() : buckets_(kLinear + kOctaves * kSubBuckets, 0) {}

size_t LatencyHistogram::BucketOf(uint64_t micros) {
  if (micros < kLinear) return static_cast<size_t>(micros);
  const int msb = 63 - std::countl_zero(micros);  // >= 10
  const size_t octave = static_cast<size_t>(msb - 10);
  if (octave >= kOctaves) return kLinear + kOctaves * kSubBuckets - 1;
  const uint64_t sub = (micros >> (msb - 6)) & (kSubBuckets - 1);
  return kLinear + octave * kSubBuckets + static_cast<size_t>(sub);
}

uint64_t LatencyHistogram::UpperBound(size_t bucket) {
  if (bucket < kLinear) return bucket;
  const size_t octave = (bucket - kLinear) / kSubBuckets;
  const uint64_t sub = (bucket - kLinear) % kSubBuckets;
  const int msb = static_cast<int>(octave) + 10;
  const uint64_t base = uint64_t{1} << msb;
  const uint64_t step = uint64_t{1} << (msb - 6);
  return base + (sub + 1) * step - 1;
}

void LatencyHistogram::Add(uint64_t micros) {
  ++buckets_[BucketOf(micros)];
  ++count_;
  max_ = std::max(max_, micros);
  sum_ += static_cast<long double>(micros);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

LatencyHistogram::Raw LatencyHistogram::ToRaw() const {
  Raw raw;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    if (buckets_[i] != 0) raw.buckets.emplace_back(static_cast<uint32_t>(i), buckets_[i]);
  }
  raw.max = max_;
  raw.sum = static_cast<double>(sum_);
  return raw;
}

std::optional<LatencyHistogram> LatencyHistogram::FromRaw(const Raw& raw) {
  LatencyHistogram h;
  for (const auto& [index, n] : raw.buckets) {
    if (index >= h.buckets_.size()) return std::nullopt;
    h.buckets_[index] += n;
    h.count_ += n;
  }
  h.max_ = raw.max;
  h.sum_ = raw.sum;
  return h;
}

void LatencyHistogram::Reset() {
  std::fill(buckets_.begin(), buckets_.end(), 0);
  count_ = 0;
  max_ = 0;
  sum_ = 0;
}

double LatencyHistogram::Mean() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_ / static_cast<long double>(count_));
}

uint64_t LatencyHistogram::Percentile(double p) const {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  // Nearest rank: the smallest value with at least p % of samples at or below.
  uint64_t rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::min(UpperBound(i), max_);
  }
  return max_;
}

double NearestRankPercentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  p = std::clamp(p, 0.0, 100.0);
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  rank = std::clamp<size_t>(rank, 1, values.size());
  return values[rank - 1];
}

void StreamReceiveStats::OnPacket(uint32_t counter, uint32_t rtp_timestamp,
                                  uint64_t arrival_units) {
  if (!started_) {
    started_ = true;
    first_ = counter;
    highest_ = counter;
    unique_ = 1;
    seen_.reset();
    seen_.set(counter % kWindow);
  } else {
    const int32_t delta = static_cast<int32_t>(counter - highest_);
    if (delta > 0) {
      if (delta > 1) ++gaps_;
      // Clear the bits of the counters skipped over (they leave the window
      // or become holes) before advancing.
      const uint32_t steps = std::min<uint32_t>(static_cast<uint32_t>(delta), kWindow);
      for (uint32_t i = 1; i <= steps; ++i) seen_.reset((highest_ + i) % kWindow);
      highest_ = counter;
      seen_.set(counter % kWindow);
      ++unique_;
    } else if (static_cast<uint32_t>(-delta) >= kWindow ||
               static_cast<int32_t>(counter - first_) < 0) {
      ++late_;
    } else if (seen_.test(counter % kWindow)) {
      ++duplicates_;
      return;
    } else {
      seen_.set(counter % kWindow);
      ++unique_;
      ++reordered_;
    }
  }
  // RFC 3550 §6.4.1 / A.8: J += (|D| - J) / 16 with D the transit difference.
  // Modulo 2^32 like the RTP timestamp itself, so wrap-around is harmless.
  const uint32_t transit = static_cast<uint32_t>(arrival_units) - rtp_timestamp;
  if (have_transit_) {
    int64_t d = static_cast<int32_t>(transit - last_transit_);
    if (d < 0) d = -d;
    jitter_ += (static_cast<double>(d) - jitter_) / 16.0;
  }
  have_transit_ = true;
  last_transit_ = transit;
}

uint64_t StreamReceiveStats::ExpectedUpTo(uint32_t last_sent) const {
  if (!started_) return 0;
  const int32_t ahead = static_cast<int32_t>(last_sent - highest_);
  return ExpectedSoFar() + (ahead > 0 ? static_cast<uint64_t>(ahead) : 0);
}

}  // namespace aegis::bench
