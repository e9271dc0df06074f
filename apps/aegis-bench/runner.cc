#include "runner.h"

#include <array>
#include <cstdio>
#include <ctime>
#include <memory>

#include "controller.h"
#include "crypto/primitives.h"
#include "media.h"
#include "process_fleet.h"
#include "server_probe.h"
#include "shard.h"
#include "shard_result.h"

namespace aegis::bench {
namespace {

using json = nlohmann::json;

// --procs 1: the controller drives the one shard from its own pacer.
class LocalFleet final : public Fleet {
 public:
  explicit LocalFleet(Shard* shard) : shard_(shard) {}
  FleetCounts Counts() override { return shard_->Counts(); }
  void BeginWindow() override { shard_->BeginWindow(); }
  void EndWindow() override { shard_->EndWindow(); }
  void StopMedia() override { shard_->StopMedia(); }
  void AddSubscriberRounds(uint32_t rounds) override { shard_->AddSubscriberRounds(rounds); }
  IntervalFigures CollectInterval() override { return shard_->CollectInterval(); }

 private:
  Shard* shard_;  // not owned
};

Result<json> RunLocal(const ScenarioConfig& config) {
  auto shard = std::make_unique<Shard>(config, 0, 1);
  AEGIS_RETURN_IF_ERROR(shard->Setup());
  LocalFleet fleet(shard.get());
  Controller controller(config, &fleet, [pid = config.server_pid] { return SampleProcess(pid); });
  controller.Start(MonotonicNs());
  shard->StartPacer([&](uint64_t now) {
    if (controller.Step(now)) shard->Stop();
  });
  shard->io().run();
  const ShardResult result = shard->Finish();
  return BuildResult(config, controller.facts(), {result});
}

}  // namespace

Result<json> RunScenario(const ScenarioConfig& in) {
  ScenarioConfig config = in;
  // Chosen once, before any process starts, so every process uses the same.
  if (config.run_tag.empty()) {
    std::array<uint8_t, 3> tag{};
    crypto::RandomBytes(tag);
    char buf[8];
    std::snprintf(buf, sizeof(buf), "%02x%02x%02x", tag[0], tag[1], tag[2]);
    config.run_tag = buf;
  }
  if (config.room_base == 0) {
    config.room_base = static_cast<uint32_t>(100000 + (std::time(nullptr) % 100000) * 10);
  }
  if (config.procs <= 1) return RunLocal(config);
  return RunProcesses(config);
}

}  // namespace aegis::bench
