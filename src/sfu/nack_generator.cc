#include "sfu/nack_generator.h"

namespace aegis::sfu {
namespace {

constexpr int16_t Diff(uint16_t a, uint16_t b) { return static_cast<int16_t>(a - b); }

}  // namespace

NackGenerator::Arrival NackGenerator::OnPacket(uint16_t seq, int64_t now_ms) {
  if (!started_) {
    started_ = true;
    newest_ = seq;
    return Arrival::kInOrder;
  }
  const int16_t d = Diff(seq, newest_);
  if (d > 0) {
    if (static_cast<size_t>(d - 1) > kMaxMissing) {
      Reset();
      started_ = true;
      newest_ = seq;
      return Arrival::kReset;
    }
    for (uint16_t s = newest_ + 1; s != seq; ++s) {
      if (count_ == kMaxMissing) {  // oldest gives way to newest
        Erase(0);
        ++given_up_;
      }
      missing_[count_++] = Missing{s, 0, now_ms, 0};
    }
    newest_ = seq;
    return Arrival::kInOrder;
  }
  for (size_t i = 0; i < count_; ++i) {
    if (missing_[i].seq == seq) {
      Erase(i);
      return Arrival::kRecovered;
    }
  }
  return Arrival::kLate;
}

size_t NackGenerator::CollectDue(int64_t now_ms, std::span<uint16_t> out) {
  size_t n = 0;
  size_t i = 0;
  while (i < count_) {
    Missing& m = missing_[i];
    if (m.retries >= kMaxRetries || now_ms - m.first_ms > kMaxAgeMs) {
      Erase(i);
      ++given_up_;
      continue;
    }
    if (n < out.size() && (m.retries == 0 || now_ms - m.last_sent_ms >= retry_interval_ms_)) {
      out[n++] = m.seq;
      ++m.retries;
      m.last_sent_ms = now_ms;
    }
    ++i;
  }
  return n;
}

void NackGenerator::Reset() {
  started_ = false;
  count_ = 0;
}

void NackGenerator::Erase(size_t index) {
  for (size_t i = index + 1; i < count_; ++i) missing_[i - 1] = missing_[i];
  --count_;
}

}  // namespace aegis::sfu
