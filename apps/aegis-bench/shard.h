// Shard: the clients of one generator process — all of them with --procs 1,
// else those whose global index (publishers of every room first, then
// subscribers round-robin over rooms) modulo the process count is this
// shard's index. Owns the io_context (single thread), the DTLS certificate,
// the clients, the pacing timer and the process's RunMetrics; ramps its
// clients up, and does what the Controller (directly, or through the parent
// process) asks: open/close the window, stop media, add subscribers, hand
// over interval figures. Finish() returns its raw figures (ShardResult).
// Not thread-safe; the io_context runs on the calling thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench_client.h"
#include "controller.h"
#include "core/status.h"
#include "runner.h"
#include "shard_result.h"

namespace aegis::bench {

class Shard {
 public:
  // `config.run_tag` and `config.room_base` must already be set (the same in
  // every process of the run).
  Shard(const ScenarioConfig& config, uint32_t index, uint32_t count);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // TLS context, certificate and this shard's initial clients. Errors:
  // bench_tls (CA file), the certificate's.
  Status Setup();
  boost::asio::io_context& io() { return io_; }

  // Arms the pacer (every 5 ms: ramp, publishers); every 100 ms, after the
  // clients' slow tick, `every_100ms(now)` runs (the controller, or the
  // child's status report). Run io() afterwards.
  void StartPacer(std::function<void(uint64_t)> every_100ms);
  // The pacer stops and io().run() returns.
  void Stop();

  FleetCounts Counts() const;
  void BeginWindow();
  void EndWindow();
  void StopMedia();
  void AddSubscriberRounds(uint32_t rounds);
  IntervalFigures CollectInterval();

  // After io().run() returned: closes every client (300 ms for close frames
  // and leave requests) and returns the raw figures.
  ShardResult Finish();

 private:
  void AddClient(ClientRole role, uint32_t room);
  void ArmPacer();
  void OnPacer();
  void LaunchDue(uint64_t now);

  // Passed by argument.
  ScenarioConfig config_;
  uint32_t index_;
  uint32_t count_;
  // Allocated by this. The io_context is declared first so it is destroyed
  // last: pending handlers that capture clients are dropped, never run.
  boost::asio::io_context io_;
  boost::asio::ssl::context tls_;
  boost::asio::steady_timer pacer_{io_};
  std::unique_ptr<rtc::DtlsCertificate> certificate_;
  ClientEnvironment env_;
  RunMetrics metrics_;
  std::vector<std::unique_ptr<StreamSendState>> stream_states_;
  std::deque<std::unique_ptr<BenchClient>> pending_;
  std::vector<std::unique_ptr<BenchClient>> clients_;
  std::function<void(uint64_t)> every_100ms_;
  uint64_t next_global_index_ = 0;  // over every shard of the run
  uint64_t window_start_ns_ = 0;
  uint64_t window_end_ns_ = 0;
  uint64_t launch_origin_ns_ = 0;
  uint64_t launched_since_origin_ = 0;
  uint64_t pacer_ticks_ = 0;
  bool stopped_ = false;
};

}  // namespace aegis::bench
