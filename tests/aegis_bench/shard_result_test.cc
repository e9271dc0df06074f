#include "shard_result.h"

#include <gtest/gtest.h>

#include <vector>

namespace aegis::bench {
namespace {

using json = nlohmann::json;

ScenarioConfig Broadcast(uint32_t layers = 1) {
  ScenarioConfig c;
  c.name = "unit";
  c.rooms = 1;
  c.publishers = 1;
  c.subscribers = 2;
  c.media.simulcast_layers = layers;
  return c;
}

// Publisher (global index 0) in shard 0: audio id 0, video id 1 (or layers 1..3).
ShardResult PublisherShard(uint32_t audio_sent, std::vector<uint32_t> video_sent) {
  ShardResult s;
  s.index = 0;
  s.pid = 100;
  s.publishers.push_back({1000, true});
  s.sent.push_back({0, false, -1, 0, audio_sent, audio_sent, 0, 0, 0});
  for (size_t i = 0; i < video_sent.size(); ++i) {
    const int layer = video_sent.size() > 1 ? static_cast<int>(i) : -1;
    s.sent.push_back(
        {static_cast<uint16_t>(1 + i), true, layer, 1, video_sent[i], video_sent[i], 1, 0, 0});
  }
  s.window_s = 2.0;
  s.window_tx_packets = 200;
  s.window_tx_bytes = 100'000;
  return s;
}

ReceivedStream Got(uint16_t id, uint32_t first, uint32_t highest, uint64_t unique,
                   uint64_t last_ns) {
  ReceivedStream r;
  r.id = id;
  r.first = first;
  r.highest = highest;
  r.unique = unique;
  r.jitter_ms = 1.0;
  r.last_ns = last_ns;
  return r;
}

TEST(ShardResult, JsonRoundTripKeepsEveryFigure) {
  ShardResult s = PublisherShard(50, {100});
  s.errors = {"subscribe connection: timeout"};
  s.failed = 1;
  SubscriberResult sub{1000, true, 12.5, std::nullopt, {Got(1, 3, 99, 95, 777)}};
  sub.streams[0].duplicates = 2;
  sub.streams[0].gaps = 1;
  sub.streams[0].late = 4;
  s.subscribers.push_back(sub);
  s.window_latency.Add(250);
  s.window_latency.Add(40'000);
  s.srtp_profiles["subscribe"]["SRTP_AEAD_AES_256_GCM"] = 3;
  s.cpu_seconds = 1.25;
  s.rss_bytes = 1 << 20;
  auto back = ShardResultFromJson(json::parse(ShardResultToJson(s).dump()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(ShardResultToJson(*back), ShardResultToJson(s));
  EXPECT_EQ(back->window_latency.Percentile(99), s.window_latency.Percentile(99));
  EXPECT_EQ(back->subscribers.at(0).first_packet_ms, 12.5);
  EXPECT_FALSE(back->subscribers.at(0).first_keyframe_ms.has_value());
}

TEST(ShardResult, MalformedJsonFromAChildIsAnErrorNotACrash) {
  const json good = ShardResultToJson(PublisherShard(1, {1}));
  for (const char* field : {"window_s", "sent", "window_latency", "subscribers", "pid"}) {
    json bad = good;
    bad.erase(field);
    auto r = ShardResultFromJson(bad);
    EXPECT_FALSE(r.ok()) << field;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), "bench_ipc");
    }
  }
  json bad = good;
  bad["window_latency"]["buckets"] = json::array({json::array({1u << 30, 1})});
  EXPECT_FALSE(ShardResultFromJson(bad).ok());
  bad = good;
  bad["sent"][0]["id"] = 70000;  // not a 16-bit stream id
  EXPECT_FALSE(ShardResultFromJson(bad).ok());
  EXPECT_FALSE(ShardResultFromJson(json::array()).ok());
  EXPECT_FALSE(IntervalFromJson(json{{"rx_packets", 1}}).ok());
}

TEST(BuildResult, LossIsJudgedAgainstThePublisherInAnotherProcess) {
  // Publisher in shard 0 sent counters 0..99 (video) and 0..49 (audio); the
  // subscribers live in shard 1 and shard 0.
  ShardResult s0 = PublisherShard(50, {100});
  s0.subscribers.push_back({1000, true, 10.0, 20.0, {Got(0, 0, 49, 50, 5), Got(1, 0, 99, 100, 5)}});
  s0.window_rx_packets = 150;
  s0.window_rx_bytes = 150'000;
  ShardResult s1;
  s1.index = 1;
  s1.pid = 101;
  // Video stopped arriving at counter 89 and 2 holes: 100 expected, 88 got.
  s1.subscribers.push_back({1000, true, 30.0, 40.0, {Got(0, 0, 49, 50, 5), Got(1, 0, 89, 88, 5)}});
  s1.window_s = 4.0;  // its own window: rates are per shard, then summed
  s1.window_rx_packets = 400;
  s1.window_rx_bytes = 400'000;
  RunFacts facts;
  facts.window_s = 2.0;
  const json r = BuildResult(Broadcast(), facts, {s1, s0});
  EXPECT_EQ(r["packets"]["expected"], 300);
  EXPECT_EQ(r["packets"]["received_unique"], 288);
  EXPECT_EQ(r["packets"]["lost"], 12);
  EXPECT_EQ(r["packets"]["missing_streams"], 0);
  EXPECT_EQ(r["clients"]["publishers"], 1);
  EXPECT_EQ(r["clients"]["subscribers"], 2);
  EXPECT_DOUBLE_EQ(r["rates"]["out_pps"].get<double>(), 150.0 / 2 + 400.0 / 4);
  EXPECT_DOUBLE_EQ(r["rates"]["in_pps"].get<double>(), 100.0);
  EXPECT_EQ(r["join_ms"]["first_packet_p50"], 10.0);
  EXPECT_EQ(r["join_ms"]["first_packet_p95"], 30.0);
  EXPECT_EQ(r["generator"]["procs"], 2);
  EXPECT_FALSE(r.contains("simulcast"));
}

TEST(BuildResult, MissingStreamsAndSubscribersWithoutAConnection) {
  ShardResult s0 = PublisherShard(10, {10});
  s0.subscribers.push_back({1000, true, 1.0, std::nullopt, {Got(0, 0, 9, 10, 5)}});  // no video
  s0.subscribers.push_back({1000, false, std::nullopt, std::nullopt, {}});           // nothing
  const json r = BuildResult(Broadcast(), RunFacts{}, {s0});
  EXPECT_EQ(r["packets"]["missing_streams"], 1 + 2);
  EXPECT_EQ(r["packets"]["lost"], 0);
}

TEST(BuildResult, SimulcastLayerSwitchIsNotLossAndTheFinalLayerIsCounted) {
  // Layers l, m, h are ids 1, 2, 3 (group 1). The subscriber got m for
  // counters 0..49, then the server switched it to h from counter 30 on;
  // h's last counter sent is 119, m kept going to 199 after the switch.
  ShardResult s0 = PublisherShard(50, {200, 200, 120});
  s0.subscribers.push_back(
      {1000, true, 1.0, 2.0, {Got(0, 0, 49, 50, 9), Got(2, 0, 49, 50, 5), Got(3, 30, 119, 88, 9)}});
  const json r = BuildResult(Broadcast(3), RunFacts{}, {s0});
  // m: 50 expected (up to its last packet); h: 30..119 = 90, 88 got.
  EXPECT_EQ(r["packets"]["expected"], 50 + 50 + 90);
  EXPECT_EQ(r["packets"]["lost"], 2);
  EXPECT_EQ(r["packets"]["missing_streams"], 0);  // one video track, whatever the layers
  EXPECT_EQ(r["simulcast"]["received_unique_per_layer"], json({0, 50, 88}));
  EXPECT_EQ(r["simulcast"]["subscribers_per_final_layer"], json({0, 0, 1}));
  EXPECT_EQ(r["config"]["simulcast_layers"], 3);
}

TEST(BuildResult, ServerMemoryGrowthAfterWarmupAndPerSubscriber) {
  ScenarioConfig c = Broadcast();
  c.rss_warmup_s = 60;
  ShardResult s0 = PublisherShard(1, {1});
  for (int i = 0; i < 4; ++i) s0.subscribers.push_back({1000, true, 1.0, 1.0, {}});
  RunFacts f;
  f.window_s = 120;
  f.server_idle = ProcessSample{0.0, 10 << 20};
  f.server_start = ProcessSample{1.0, 14 << 20};
  f.server_end = ProcessSample{7.0, 21 << 20};
  f.rss_samples = {
      {0, 14 << 20}, {30, 18 << 20}, {60.05, 20 << 20}, {90, 23 << 20}, {120, 21 << 20}};
  const json r = BuildResult(c, f, {s0});
  EXPECT_EQ(r["server"]["rss_bytes_idle"], 10 << 20);
  EXPECT_EQ(r["server"]["rss_bytes_max"], 23 << 20);
  EXPECT_EQ(r["server"]["rss_growth_bytes"], 1 << 20);  // 21 - 20 (the 60.05 s sample)
  EXPECT_DOUBLE_EQ(r["server"]["rss_growth_from_s"].get<double>(), 60.05);
  EXPECT_DOUBLE_EQ(r["server"]["rss_bytes_per_subscriber"].get<double>(), (4 << 20) / 4.0);
  EXPECT_DOUBLE_EQ(r["server"]["cpu_pct"].get<double>(), 5.0);
  // Shorter than the warm-up: growth from the window start.
  f.rss_samples = {{0, 14 << 20}, {30, 18 << 20}};
  const json s = BuildResult(c, f, {s0});
  EXPECT_EQ(s["server"]["rss_growth_bytes"], 7 << 20);
  EXPECT_EQ(s["server"]["rss_growth_from_s"], 0.0);
}

}  // namespace
}  // namespace aegis::bench
