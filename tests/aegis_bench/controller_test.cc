#include "controller.h"

#include <gtest/gtest.h>

#include <vector>

namespace aegis::bench {
namespace {

constexpr uint64_t kMs = 1'000'000;

// Clients that become ready when told; records what the controller asked.
class FakeFleet final : public Fleet {
 public:
  FleetCounts Counts() override {
    FleetCounts n;
    n.clients = clients;
    n.ready = ready;
    n.subscribers = clients;
    n.settled = settled;
    return n;
  }
  void BeginWindow() override { calls.push_back("begin"); }
  void EndWindow() override { calls.push_back("end"); }
  void StopMedia() override { calls.push_back("stop"); }
  void AddSubscriberRounds(uint32_t rounds) override {
    calls.push_back("add");
    clients += rounds;
  }
  IntervalFigures CollectInterval() override {
    IntervalFigures f;
    f.rx_packets = 100;
    f.expected = 100;
    f.lost = clients >= lossy_from ? 5 : 0;
    f.latency.Add(1000);
    return f;
  }

  size_t clients = 4;
  size_t ready = 0;
  bool settled = true;
  size_t lossy_from = 1000;
  std::vector<std::string> calls;
};

// A server whose RSS grows 1 MiB per sample.
struct FakeServer {
  std::optional<ProcessSample> operator()() {
    ++samples;
    return ProcessSample{0.1 * static_cast<double>(samples), (10 + samples) << 20};
  }
  uint64_t samples = 0;
};

ScenarioConfig Config() {
  ScenarioConfig c;
  c.duration_s = 30;
  c.settle_s = 1;
  c.drain_s = 1;
  c.connect_timeout_s = 5;
  c.rss_interval_s = 10;
  c.progress = false;
  return c;
}

// Steps every 100 ms of simulated time until done (or `limit_s`).
uint64_t RunUntilDone(Controller& c, uint64_t now, double limit_s) {
  const uint64_t end = now + static_cast<uint64_t>(limit_s * 1e9);
  while (now < end && !c.Step(now)) now += 100 * kMs;
  return now;
}

TEST(Controller, WaitsForEveryClientThenMeasuresDrainsAndSamplesTheServer) {
  FakeFleet fleet;
  FakeServer server;
  Controller c(Config(), &fleet, std::ref(server));
  uint64_t now = 1'000 * kMs;
  c.Start(now);
  EXPECT_TRUE(c.facts().server_idle.has_value());
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(c.Step(now += 100 * kMs));
  EXPECT_EQ(c.phase(), Controller::Phase::kConnecting);
  fleet.ready = 4;
  fleet.settled = false;  // a process has not answered the last command yet
  EXPECT_FALSE(c.Step(now += 100 * kMs));
  EXPECT_EQ(c.phase(), Controller::Phase::kConnecting);
  fleet.settled = true;
  EXPECT_FALSE(c.Step(now += 100 * kMs));
  EXPECT_EQ(c.phase(), Controller::Phase::kSettling);
  EXPECT_NEAR(c.facts().connect_s, 2.2, 1e-9);
  now = RunUntilDone(c, now, 60);
  EXPECT_EQ(c.phase(), Controller::Phase::kDone);
  EXPECT_EQ(fleet.calls, (std::vector<std::string>{"begin", "end", "stop"}));
  EXPECT_NEAR(c.facts().window_s, 30.0, 0.11);
  EXPECT_FALSE(c.facts().connect_timeout);
  // Window start, every 10 s (10, 20, 30 s: the last coincides with the
  // end), and the end sample.
  const auto& rss = c.facts().rss_samples;
  ASSERT_GE(rss.size(), 4u);
  EXPECT_EQ(rss.front().first, 0.0);
  EXPECT_NEAR(rss[1].first, 10.0, 0.11);
  EXPECT_NEAR(rss.back().first, c.facts().window_s, 1e-9);
  EXPECT_EQ(rss.back().second, c.facts().server_end->rss_bytes);
  EXPECT_TRUE(c.facts().capacity.is_null());
}

TEST(Controller, ConnectTimeoutStillMeasures) {
  FakeFleet fleet;
  FakeServer server;
  ScenarioConfig cfg = Config();
  cfg.duration_s = 2;
  Controller c(cfg, &fleet, std::ref(server));
  c.Start(0);
  RunUntilDone(c, 100 * kMs, 30);
  EXPECT_EQ(c.phase(), Controller::Phase::kDone);
  EXPECT_TRUE(c.facts().connect_timeout);
  EXPECT_EQ(fleet.calls, (std::vector<std::string>{"begin", "end", "stop"}));
}

TEST(Controller, CapacityAddsSubscribersUntilLossThenReportsTheKnee) {
  FakeFleet fleet;
  fleet.clients = 10;
  fleet.lossy_from = 30;  // 30 subscribers lose 5 %
  FakeServer server;
  ScenarioConfig cfg = Config();
  cfg.capacity = true;
  cfg.capacity_step = 10;
  cfg.capacity_step_s = 2;
  cfg.capacity_loss_pct = 1;
  Controller c(cfg, &fleet, std::ref(server));
  c.Start(0);
  uint64_t now = 0;
  while (!c.Step(now += 100 * kMs)) {
    fleet.ready = fleet.clients;  // whatever was added connects at once
    ASSERT_LT(now, 120'000 * kMs);
  }
  const auto& cap = c.facts().capacity;
  ASSERT_TRUE(cap.is_object());
  EXPECT_EQ(cap["knee_subscribers"], 20);
  EXPECT_EQ(cap["stopped_by"], "loss");
  ASSERT_EQ(cap["steps"].size(), 3u);
  EXPECT_EQ(cap["steps"][2]["subscribers"], 30);
  EXPECT_NEAR(cap["steps"][2]["loss_pct"].get<double>(), 5.0, 1e-9);
}

}  // namespace
}  // namespace aegis::bench
