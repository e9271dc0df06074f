// Coalesces repeated failed authentications before they reach the audit log
// and the warning log, so a guessing client cannot make the io thread fsync
// once per request. Per key (client address key + reason) and per window: the
// first failure is recorded at once; later ones in the same window are only
// counted, and once the window has ended one Summary carrying the count is
// due. At most `max_keys` keys are tracked; when full, the key whose window
// started first is dropped early, its Summary handed back, so no count is
// lost and a new key is always recorded. Holds no store: the caller writes.
// Time comes from the injected Clock. Thread-safe (internal mutex).
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"

namespace aegis::api {

class AuthFailureCoalescer {
 public:
  // One failed authentication, with the fields its audit record needs.
  struct Failure {
    std::string key;  // coalescing key; bounded by the caller
    std::string actor;
    std::string target;
    std::string result;  // the error code
    std::string reason;
    std::string request_id;
    std::string client_ip;
  };
  // The failures of one key counted (not recorded) during one window. `last`
  // is the most recent of them, except that actor, target and result read
  // kVarious when they were not all the same.
  struct Summary {
    Failure last;
    uint64_t count = 0;
    int64_t window_start_ms = 0;
  };
  struct Options {
    int64_t window_ms = 60'000;  // <= 0: every failure is recorded at once
    size_t max_keys = 10'000;
  };

  static constexpr const char* kVarious = "various";

  AuthFailureCoalescer(const Clock& clock, Options options);
  AuthFailureCoalescer(const AuthFailureCoalescer&) = delete;
  AuthFailureCoalescer& operator=(const AuthFailureCoalescer&) = delete;

  // Counts `failure`. True: it is the first of its window and must be recorded
  // now; false: it was counted into a later Summary. Summaries that became due
  // (ended windows, evicted keys) are appended to `due`.
  bool Add(const Failure& failure, std::vector<Summary>* due);
  // Appends the Summaries of windows that have ended (call on every request).
  void Collect(std::vector<Summary>* due);
  // Appends every pending Summary, ended or not, and forgets all keys.
  void Drain(std::vector<Summary>* due);

  size_t key_count() const;

 private:
  struct Entry {
    std::string key;
    int64_t window_start_ms = 0;
    uint64_t count = 0;  // counted, not yet recorded
    Failure last;
  };
  using Order = std::list<Entry>;  // front = latest window start

  bool EndedLocked(const Entry& entry, int64_t now_ms) const;
  void RemoveLocked(Order::iterator it, std::vector<Summary>* due);

  const Clock& clock_;
  Options options_;
  mutable std::mutex mu_;
  Order order_;
  std::unordered_map<std::string, Order::iterator> index_;
};

}  // namespace aegis::api
