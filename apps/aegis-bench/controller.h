// Controller: the phases of one aegis-bench run (connecting → settling →
// measuring → draining → done), the same whether the clients live in this
// process or in several generator processes: it sees them through a Fleet.
// It opens and closes the measurement window, samples the server process
// (CPU, RSS every rss_interval_s of the window) through an injected sampler,
// prints the progress line and, in capacity mode, judges each step and adds
// subscribers. Driven by Step(now) every ~100 ms on one thread; time is
// passed in (tests run it on simulated time). The Fleet is not owned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>

#include "runner.h"
#include "server_probe.h"
#include "shard_result.h"

namespace aegis::bench {

struct FleetCounts {
  size_t clients = 0;  // started or waiting for their turn in the ramp
  size_t ready = 0;    // started and ready, or failed
  size_t failed = 0;
  size_t pending = 0;  // not started yet
  size_t subscribers = 0;
  // Every generator process has reported since the last command (a count
  // from before an "add subscribers" must not end the connecting phase).
  bool settled = true;
};

// The clients, wherever they run.
class Fleet {
 public:
  virtual ~Fleet() = default;
  virtual FleetCounts Counts() = 0;
  virtual void BeginWindow() = 0;
  virtual void EndWindow() = 0;
  virtual void StopMedia() = 0;
  // Capacity mode: `rounds` more subscribers in every room.
  virtual void AddSubscriberRounds(uint32_t rounds) = 0;
  // Receive figures since the previous call.
  virtual IntervalFigures CollectInterval() = 0;
};

using ServerSampler = std::function<std::optional<ProcessSample>()>;

class Controller {
 public:
  enum class Phase { kConnecting, kSettling, kMeasuring, kDraining, kDone };

  Controller(const ScenarioConfig& config, Fleet* fleet, ServerSampler sampler);

  // Before the first client starts: samples the idle server.
  void Start(uint64_t now_ns);
  // Advances the run; true once it is done (drained).
  bool Step(uint64_t now_ns);
  Phase phase() const { return phase_; }
  const RunFacts& facts() const { return facts_; }

 private:
  void Enter(Phase p, uint64_t now_ns);
  void BeginWindow(uint64_t now_ns);
  void EndWindow(uint64_t now_ns);
  bool CapacityStep(uint64_t now_ns);
  void Collect();
  void Progress(uint64_t now_ns);

  // Passed by argument.
  ScenarioConfig config_;
  Fleet* fleet_;
  ServerSampler sampler_;
  // Allocated by this.
  Phase phase_ = Phase::kConnecting;
  RunFacts facts_;
  uint64_t start_ns_ = 0;
  uint64_t phase_start_ns_ = 0;
  uint64_t window_start_ns_ = 0;
  uint64_t last_progress_ns_ = 0;
  uint64_t last_rss_ns_ = 0;
  IntervalFigures progress_;  // since the last progress line
  IntervalFigures step_;      // since the window opened (capacity steps)
  double step_cpu_ = 0;
  size_t knee_ = 0;
  std::string knee_reason_;
  nlohmann::json capacity_steps_ = nlohmann::json::array();
};

}  // namespace aegis::bench
