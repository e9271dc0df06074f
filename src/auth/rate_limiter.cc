#include "auth/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

namespace aegis::auth {
namespace {

// Tokens after refilling `tokens` for the time since `last_ms`. A clock that
// steps backwards refills nothing (and never removes tokens).
double Refilled(double tokens, int64_t last_ms, int64_t now_ms, double rate, double burst) {
  if (now_ms <= last_ms || tokens >= burst) {
    return tokens;
  }
  const double elapsed_s = static_cast<double>(now_ms - last_ms) / 1000.0;
  return std::min(burst, tokens + elapsed_s * rate);
}

bool ValidCost(double cost) { return std::isfinite(cost) && cost >= 0; }

}  // namespace

RateLimiter::RateLimiter(const Clock& clock, Options options) : clock_(clock), options_(options) {
  if (!(options_.rate_per_s >= 0) || !std::isfinite(options_.rate_per_s)) {
    options_.rate_per_s = 0;
  }
  if (!(options_.burst >= 0) || !std::isfinite(options_.burst)) {
    options_.burst = 0;
  }
  options_.max_buckets = std::max<size_t>(options_.max_buckets, 1);
}

RateLimiter::Bucket& RateLimiter::TouchLocked(std::string_view key) {
  const int64_t now_ms = clock_.NowUnixMillis();
  std::string k(key);
  auto it = buckets_.find(k);
  if (it != buckets_.end()) {
    Bucket& b = it->second;
    lru_.splice(lru_.begin(), lru_, b.lru);
    b.tokens = Refilled(b.tokens, b.last_ms, now_ms, options_.rate_per_s, options_.burst);
    b.last_ms = std::max(b.last_ms, now_ms);
    return b;
  }
  while (buckets_.size() >= options_.max_buckets && !lru_.empty()) {
    EvictOneLocked(now_ms);
  }
  lru_.push_front(k);
  Bucket& b = buckets_[std::move(k)];
  b.tokens = options_.burst;
  b.last_ms = now_ms;
  b.lru = lru_.begin();
  return b;
}

void RateLimiter::EvictOneLocked(int64_t now_ms) {
  // Walk from the least recently used end; strict '>' keeps the oldest on ties.
  auto victim = std::prev(lru_.end());
  double victim_tokens = -std::numeric_limits<double>::infinity();
  size_t seen = 0;
  for (auto it = lru_.end(); it != lru_.begin() && seen < kEvictionSample; ++seen) {
    --it;
    const Bucket& b = buckets_.at(*it);
    const double tokens =
        Refilled(b.tokens, b.last_ms, now_ms, options_.rate_per_s, options_.burst);
    if (tokens > victim_tokens) {
      victim_tokens = tokens;
      victim = it;
    }
  }
  buckets_.erase(*victim);
  lru_.erase(victim);
}

bool RateLimiter::TryAcquire(std::string_view key, double cost) {
  if (!ValidCost(cost)) {
    return false;
  }
  std::lock_guard<std::mutex> lock(mu_);
  Bucket& b = TouchLocked(key);
  if (b.tokens < cost) {
    return false;
  }
  b.tokens -= cost;
  return true;
}

void RateLimiter::Penalize(std::string_view key, double cost) {
  if (!ValidCost(cost)) {
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  Bucket& b = TouchLocked(key);
  b.tokens -= cost;
}

double RateLimiter::SecondsUntilAvailable(std::string_view key, double cost) {
  if (!ValidCost(cost)) {
    return std::numeric_limits<double>::infinity();
  }
  std::lock_guard<std::mutex> lock(mu_);
  // A query must not create buckets (it would let lookups evict real state).
  auto it = buckets_.find(std::string(key));
  double tokens = options_.burst;
  if (it != buckets_.end()) {
    tokens = Refilled(it->second.tokens, it->second.last_ms, clock_.NowUnixMillis(),
                      options_.rate_per_s, options_.burst);
  }
  if (tokens >= cost) {
    return 0;
  }
  // More than the bucket can ever hold, or no refill: never.
  if (cost > options_.burst || options_.rate_per_s <= 0) {
    return std::numeric_limits<double>::infinity();
  }
  return (cost - tokens) / options_.rate_per_s;
}

size_t RateLimiter::bucket_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buckets_.size();
}

}  // namespace aegis::auth
