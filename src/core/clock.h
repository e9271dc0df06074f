// Injectable wall clock (STYLE.md habit 6). SystemClock reads the real time;
// FakeClock is set by tests. Implementations are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace aegis {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch, UTC.
  virtual int64_t NowUnixMillis() const = 0;
  int64_t NowUnixSeconds() const { return NowUnixMillis() / 1000; }
};

class SystemClock final : public Clock {
 public:
  int64_t NowUnixMillis() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  static SystemClock& Instance() {
    static SystemClock clock;
    return clock;
  }
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t unix_millis = 1'700'000'000'000) : now_ms_(unix_millis) {}
  int64_t NowUnixMillis() const override { return now_ms_.load(); }
  void SetUnixMillis(int64_t ms) { now_ms_.store(ms); }
  void AdvanceMillis(int64_t ms) { now_ms_.fetch_add(ms); }

 private:
  std::atomic<int64_t> now_ms_;
};

// "2026-11-22T10:00:00.123Z"
std::string FormatUtcMillis(int64_t unix_millis);

}  // namespace aegis
