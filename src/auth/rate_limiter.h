// Token-bucket rate limiter keyed by string (SecretId+action, client address).
// Memory is bounded: at most `max_buckets` keys are kept. When the table is
// full, the fullest bucket (after refill) among the kEvictionSample least
// recently used ones is evicted, ties going to the least recently used. An
// evicted key starts again with a full bucket, so evicting the fullest one
// forgets the least: a penalised (indebted) key is not reset by a flood of
// fresh keys, which all hold more tokens than it does (see docs/SECURITY.md).
// Time comes from the injected Clock. Thread-safe (internal mutex).
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"

namespace aegis::auth {

class RateLimiter {
 public:
  struct Options {
    double rate_per_s = 10;  // refill rate
    double burst = 20;       // bucket capacity
    size_t max_buckets = 100000;
  };

  // How many least recently used buckets an eviction compares.
  static constexpr size_t kEvictionSample = 8;

  RateLimiter(const Clock& clock, Options options);

  // Takes `cost` tokens for `key`; false (nothing taken) when not enough.
  bool TryAcquire(std::string_view key, double cost = 1.0);
  // Takes tokens even if it drives the bucket negative (penalties, e.g. a failed
  // signature after the request was admitted). Never blocks.
  void Penalize(std::string_view key, double cost);
  // Seconds until `cost` tokens are available (for Retry-After); +infinity when
  // `cost` exceeds the burst or the rate is 0. Does not create a bucket.
  double SecondsUntilAvailable(std::string_view key, double cost = 1.0);

  size_t bucket_count() const;

 private:
  struct Bucket {
    double tokens;
    int64_t last_ms;
    std::list<std::string>::iterator lru;
  };
  Bucket& TouchLocked(std::string_view key);
  void EvictOneLocked(int64_t now_ms);

  const Clock& clock_;
  Options options_;
  mutable std::mutex mu_;
  std::list<std::string> lru_;  // front = most recently used
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace aegis::auth
