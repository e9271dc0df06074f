// DownlinkEstimator and AllocateLayers (docs/MEDIA.md "Downlink bandwidth
// estimation"), on simulated time. The estimator's feedback comes from the
// server's own receive-side TwccRecorder and the real transport-cc
// builder/parser, through a simulated bottleneck: a FIFO of fixed rate whose
// queue holds at most 60 ms (drop-tail), like a tbf-shaped access link.
#include "sfu/downlink_estimator.h"

#include <gtest/gtest.h>

#include <array>
#include <deque>
#include <optional>
#include <vector>

#include "rtc/byte_io.h"
#include "rtc/rtp/rtcp_packet.h"
#include "rtc/rtp/rtcp_transport_cc.h"
#include "sfu/layer_allocator.h"
#include "sfu/twcc_recorder.h"

namespace aegis::sfu {
namespace {

constexpr int64_t kMs = 1000;

// Writes `b` and hands the parsed packet to the estimator, as the worker
// does with a subscriber's RTCP.
void Deliver(const rtc::TransportCcFeedbackBuilder& b, DownlinkEstimator& est, int64_t now_us) {
  std::array<uint8_t, 1500> buf{};
  rtc::ByteWriter w(buf);
  ASSERT_TRUE(b.Write(w).ok());
  rtc::RtcpCompoundIterator it(std::span<const uint8_t>(buf.data(), w.size()));
  ASSERT_TRUE(it.Valid());
  auto fb = rtc::TransportCcFeedback::Parse(it.packet());
  ASSERT_TRUE(fb.ok());
  est.OnFeedback(*fb, now_us);
}

// Sender (the worker's side) → bottleneck → receiver (TwccRecorder) →
// feedback every 100 ms → estimator. One step is 1 ms.
class Path {
 public:
  explicit Path(uint64_t capacity_bps) : capacity_bps_(capacity_bps) {}

  void set_capacity(uint64_t bps) { capacity_bps_ = bps; }
  // A token bucket instead (like `tc tbf rate R burst B latency L`): a
  // packet leaves at once while the bucket holds its bytes, with no
  // serialisation time of its own; waits beyond `latency_ms` are dropped.
  void use_token_bucket(size_t burst_bytes, int64_t latency_ms) {
    bucket_bytes_ = burst_bytes;
    tokens_ = static_cast<double>(burst_bytes);
    queue_limit_us_ = latency_ms * kMs;
  }
  // Every `n`-th packet is lost on the way (0: none).
  void set_loss_every(uint32_t n) { loss_every_ = n; }
  void set_media_bps(uint64_t bps) { media_bps_ = bps; }
  // Media follows the estimate like the allocator: the highest of `layers`
  // (ascending) that fits, else the lowest.
  void set_layers(std::vector<uint64_t> layers) { layers_ = std::move(layers); }
  uint64_t media_bps() const { return media_bps_; }
  void set_desired_bps(uint64_t bps) { desired_bps_ = bps; }
  // Media follows the worker's allocation instead: AllocateLayers over
  // `layers` with a RaiseGuard (when `guard`) every 20 ms tick, a keyframe
  // of `keyframe_bytes` sent as one burst on each switch, and probes
  // towards the top layer while it is not allocated.
  void use_allocator(std::vector<uint64_t> layers, size_t keyframe_bytes, bool guard) {
    alloc_layers_ = std::move(layers);
    keyframe_bytes_ = keyframe_bytes;
    guard_on_ = guard;
  }
  int layer() const { return layer_; }
  int switches() const { return switches_; }

  DownlinkEstimator& estimator() { return est_; }
  int64_t now_us() const { return now_us_; }

  // Runs for `ms`, sending media at the media rate (1200-byte packets) and
  // probe padding as the worker does on its 20 ms tick.
  void Run(int64_t ms) {
    for (int64_t i = 0; i < ms; ++i) Step();
  }

 private:
  void Send(size_t bytes) {
    const uint16_t seq = next_seq_++;
    est_.OnPacketSent(seq, bytes, now_us_);
    ++sent_;
    if (loss_every_ != 0 && sent_ % loss_every_ == 0) return;
    if (bucket_bytes_ > 0) {
      // FIFO behind the last departure; tokens refill at the rate.
      const int64_t depart = std::max(now_us_, link_free_us_);
      const double tokens = std::min(static_cast<double>(bucket_bytes_),
                                     tokens_ + static_cast<double>(capacity_bps_) / 8e6 *
                                                   static_cast<double>(depart - tokens_at_us_));
      const double missing = std::max(0.0, static_cast<double>(bytes) - tokens);
      const int64_t leave =
          depart + static_cast<int64_t>(missing * 8e6 / static_cast<double>(capacity_bps_));
      if (leave - now_us_ > queue_limit_us_) return;
      tokens_ = tokens + missing - static_cast<double>(bytes);
      tokens_at_us_ = leave;
      link_free_us_ = leave;
      in_flight_.push_back({seq, leave + 20 * kMs});
      return;
    }
    // Drop-tail: the queue (time until the link is free) holds 60 ms.
    const int64_t start = std::max(now_us_, link_free_us_);
    if (start - now_us_ > 60 * kMs) return;
    const auto service = static_cast<int64_t>(bytes * 8 * 1'000'000 / capacity_bps_);
    link_free_us_ = start + service;
    in_flight_.push_back({seq, link_free_us_ + 20 * kMs});  // + 20 ms propagation
  }

  void Step() {
    now_us_ += kMs;
    if (!layers_.empty()) {
      media_bps_ = layers_.front();
      for (uint64_t l : layers_) {
        if (l <= est_.estimate_bps()) media_bps_ = l;
      }
    }
    media_credit_ += static_cast<double>(media_bps_) / 8 / 1000;
    while (media_credit_ >= 1200) {
      media_credit_ -= 1200;
      Send(1200);
    }
    if (now_us_ % (20 * kMs) == 0 && !alloc_layers_.empty()) Allocate();
    if (now_us_ % (20 * kMs) == 0) {
      est_.SetDesired(desired_bps_, now_us_);
      size_t padding = est_.ProbePaddingDue(now_us_);
      while (padding > 0) {
        Send(300);
        padding -= std::min<size_t>(padding, 300);
      }
    }
    while (!in_flight_.empty() && in_flight_.front().arrival_us <= now_us_) {
      recorder_.OnPacket(in_flight_.front().seq, in_flight_.front().arrival_us);
      in_flight_.pop_front();
    }
    if (now_us_ % (100 * kMs) == 0) {
      recorder_.Flush(
          1, 2, [this](const rtc::TransportCcFeedbackBuilder& b) { Deliver(b, est_, now_us_); });
    }
  }

  void Allocate() {
    LayerDemand d;
    d.max_layer = static_cast<int>(alloc_layers_.size()) - 1;
    d.current_layer = layer_;
    d.layer_count = alloc_layers_.size();
    for (size_t i = 0; i < alloc_layers_.size(); ++i) d.layer_bps[i] = alloc_layers_[i];
    const int64_t now_ms = now_us_ / kMs;
    if (est_.probes_succeeded() != probes_ok_ && guard_.held_layer(now_ms) >= 0) {
      const DownlinkEstimator::ProbeResult& p = est_.last_probe();
      guard_.OnProbeSucceeded(std::min(p.send_bps, p.recv_bps), alloc_layers_.back());
    }
    probes_ok_ = est_.probes_succeeded();
    if (guard_on_) d.raise_limit = guard_.Limit(now_ms);
    int next = -1;
    const AllocationResult r =
        AllocateLayers(std::span(&d, 1), est_.estimate_bps(), std::span(&next, 1));
    desired_bps_ = r.desired_bps > r.allocated_bps ? r.desired_bps : 0;
    guard_.OnAllocated(layer_, next, true, now_ms);
    if (next != layer_) {
      if (layer_ >= 0) ++switches_;
      layer_ = next;
      for (size_t left = keyframe_bytes_; left > 0; left -= std::min<size_t>(left, 1200)) {
        Send(1200);
      }
    }
    media_bps_ = alloc_layers_[static_cast<size_t>(layer_)];
  }

  struct Flight {
    uint16_t seq;
    int64_t arrival_us;
  };
  DownlinkEstimator est_;
  TwccRecorder recorder_;
  std::deque<Flight> in_flight_;
  uint64_t capacity_bps_;
  size_t bucket_bytes_ = 0;  // 0: the store-and-forward link
  double tokens_ = 0;
  int64_t tokens_at_us_ = 0;
  int64_t queue_limit_us_ = 0;
  uint64_t media_bps_ = 0;
  std::vector<uint64_t> layers_;
  uint64_t desired_bps_ = 0;
  std::vector<uint64_t> alloc_layers_;
  size_t keyframe_bytes_ = 0;
  bool guard_on_ = false;
  RaiseGuard guard_;
  uint32_t probes_ok_ = 0;
  int layer_ = -1;
  int switches_ = 0;
  uint32_t loss_every_ = 0;
  uint64_t sent_ = 0;
  uint16_t next_seq_ = 65000;  // wraps during the test
  double media_credit_ = 0;
  int64_t now_us_ = 1'000'000'000;
  int64_t link_free_us_ = 0;
};

TEST(DownlinkEstimatorTest, SendingAboveACapacityBringsTheEstimateDownToIt) {
  // The initial estimate (1 Mbit/s) picks the 900k layer: 1.8x the path.
  Path path(500'000);
  path.set_layers({150'000, 400'000, 900'000});
  path.Run(3'000);
  EXPECT_TRUE(path.estimator().has_feedback());
  EXPECT_LE(path.estimator().estimate_bps(), 500'000u);
  // Then it settles: never above the path for long, never starved.
  uint64_t top_ms = 0;
  for (int i = 0; i < 100; ++i) {
    path.Run(100);
    const uint64_t e = path.estimator().estimate_bps();
    EXPECT_GE(e, 150'000u);
    EXPECT_LE(e, 700'000u);
    if (path.media_bps() == 900'000) top_ms += 100;
  }
  EXPECT_EQ(top_ms, 0u);
}

TEST(DownlinkEstimatorTest, GrowsOnlyAsFarAsWhatIsSentProvesWithoutProbes) {
  Path path(50'000'000);
  path.set_media_bps(900'000);
  path.Run(20'000);
  // 1.5 x received + headroom, whatever the path could carry.
  const uint64_t e = path.estimator().estimate_bps();
  EXPECT_LE(e, 900'000u * 3 / 2 + 150'000);
  EXPECT_GE(e, 1'300'000u);
  EXPECT_EQ(path.estimator().probes_succeeded() + path.estimator().probes_failed(), 0u);
}

TEST(DownlinkEstimatorTest, ProbesFailUnderACapAndSucceedWithinSecondsOnceItLifts) {
  Path path(500'000);
  path.set_media_bps(200'000);      // the low layer
  path.set_desired_bps(1'700'000);  // what the high layer would take
  path.Run(20'000);
  DownlinkEstimator& est = path.estimator();
  EXPECT_GE(est.probes_failed(), 2u);
  EXPECT_EQ(est.probes_succeeded(), 0u);
  EXPECT_LT(est.estimate_bps(), 600'000u) << "a probe through the cap must not raise the estimate";

  path.set_capacity(20'000'000);
  int64_t lifted_ms = 0;
  while (est.estimate_bps() < 1'700'000 && lifted_ms < 15'000) {
    path.Run(100);
    lifted_ms += 100;
  }
  EXPECT_GE(est.estimate_bps(), 1'700'000u);
  EXPECT_LE(lifted_ms, 6'000) << "next probe after at most the longest backoff (5 s)";
  EXPECT_GE(est.probes_succeeded(), 1u);
}

// The middle layer (420k) fits the 500 kbit/s tbf-like path in steady
// state, but the keyframe burst of each switch (24 kB: 380 ms of queue at
// 500k) overflows it. Without the RaiseGuard the subscriber goes back up
// every time the estimate regrows (probes riding the bucket's burst help it
// regrow) and falls again at once, every few seconds; with it, each failed
// try holds the layer back twice as long as the last (15 s, 30 s, 60 s),
// and a probe proving the top layer ends the hold once the cap lifts.
int CappedSwitches(bool guard, Path& path) {
  path.use_token_bucket(10'000, 100);  // as the browser impairment test
  path.use_allocator({150'000, 420'000, 1'500'000}, 24'000, guard);
  path.Run(10'000);  // the drop from the initial estimate
  EXPECT_LT(path.layer(), 2);
  const int before = path.switches();
  path.Run(60'000);
  EXPECT_LT(path.layer(), 2);
  return path.switches() - before;
}

TEST(DownlinkEstimatorTest, WithoutTheRaiseGuardTheLayersFlapUnderACap) {
  Path path(500'000);
  EXPECT_GE(CappedSwitches(/*guard=*/false, path), 12) << "the case the guard exists for";
}

TEST(DownlinkEstimatorTest, TheRaiseGuardHoldsALayerThatDidNotFitAndProbesLiftIt) {
  Path path(500'000);
  // In 60 s: the drop, a try after 15 s and its drop, one after 30 s more.
  EXPECT_LE(CappedSwitches(/*guard=*/true, path), 5) << "one try per doubled hold at most";
  path.set_capacity(20'000'000);
  int64_t lifted_ms = 0;
  while (path.layer() != 2 && lifted_ms < 15'000) {
    path.Run(100);
    lifted_ms += 100;
  }
  EXPECT_EQ(path.layer(), 2);
  EXPECT_LE(lifted_ms, 7'000) << "a probe ends the hold";
}

TEST(DownlinkEstimatorTest, HeavyLossLowersTheEstimate) {
  Path path(50'000'000);
  path.set_media_bps(800'000);
  path.Run(3'000);
  const uint64_t before = path.estimator().estimate_bps();
  path.set_loss_every(4);  // 25 %
  path.Run(3'000);
  EXPECT_GT(path.estimator().loss(), 0.2);
  EXPECT_LT(path.estimator().estimate_bps(), before * 3 / 4);
}

TEST(DownlinkEstimatorTest, LightLossDoesNotLowerTheEstimate) {
  Path path(50'000'000);
  path.set_media_bps(800'000);
  path.Run(3'000);
  const uint64_t before = path.estimator().estimate_bps();
  path.set_loss_every(20);  // 5 %: NACK/RTX territory, not congestion
  path.Run(5'000);
  EXPECT_GE(path.estimator().estimate_bps(), before);
}

TEST(DownlinkEstimatorTest, FeedbackForPacketsNeverSentIsIgnored) {
  DownlinkEstimator est;
  rtc::TransportCcFeedbackBuilder b(1, 2, 0, 100);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(b.Add(int64_t{5'000'000} + int64_t{i} * 1000));
  Deliver(b, est, 1'000'000);
  EXPECT_FALSE(est.has_feedback());
  EXPECT_EQ(est.estimate_bps(), DownlinkEstimator::kInitialBps);
}

// ---- AllocateLayers ----

LayerDemand Simulcast(uint8_t priority, int current = -1) {
  LayerDemand d;
  d.priority = priority;
  d.max_layer = 2;
  d.current_layer = current;
  d.layer_count = 3;
  d.layer_bps = {150'000, 500'000, 1'500'000};
  return d;
}

TEST(LayerAllocatorTest, EnoughForEveryoneGivesEveryoneTheTopLayer) {
  const std::array<LayerDemand, 2> d = {Simulcast(0), Simulcast(0)};
  std::array<int, 2> layers{};
  const AllocationResult r = AllocateLayers(d, 5'000'000, layers);
  EXPECT_EQ(layers[0], 2);
  EXPECT_EQ(layers[1], 2);
  EXPECT_EQ(r.desired_bps, 3'000'000u);
  EXPECT_EQ(r.allocated_bps, 3'000'000u);
}

TEST(LayerAllocatorTest, ScarceBandwidthGoesToTheHigherPriorityFirst) {
  // Caller's order: a plain camera, the screen share, the active speaker.
  const std::array<LayerDemand, 3> d = {Simulcast(0), Simulcast(2), Simulcast(1)};
  std::array<int, 3> layers{};
  // 3 x 150k + 1.35M: the screen rises to the top, the speaker to the middle
  // layer would need 350k more than is left, so everyone else stays low.
  AllocateLayers(d, 1'850'000, layers);
  EXPECT_EQ(layers[1], 2);
  EXPECT_EQ(layers[2], 0);
  EXPECT_EQ(layers[0], 0);
  AllocateLayers(d, 2'200'000, layers);
  EXPECT_EQ(layers[1], 2);
  EXPECT_EQ(layers[2], 1);
  EXPECT_EQ(layers[0], 0);
}

TEST(LayerAllocatorTest, BelowTheLowestLayersEveryoneKeepsTheLowest) {
  const std::array<LayerDemand, 2> d = {Simulcast(0), Simulcast(1)};
  std::array<int, 2> layers{};
  const AllocationResult r = AllocateLayers(d, 100'000, layers);
  EXPECT_EQ(layers[0], 0);
  EXPECT_EQ(layers[1], 0);
  EXPECT_EQ(r.allocated_bps, 300'000u);
}

TEST(LayerAllocatorTest, SkipsLayersThePublisherDoesNotSendAndHonoursTheCap) {
  LayerDemand d = Simulcast(0);
  d.layer_bps[2] = 0;  // top layer not sent (publisher's own uplink)
  std::array<int, 1> layers{};
  AllocateLayers(std::span(&d, 1), 10'000'000, layers);
  EXPECT_EQ(layers[0], 1);
  d.layer_bps[0] = 0;
  d.layer_bps[1] = 0;
  AllocateLayers(std::span(&d, 1), 10'000'000, layers);
  EXPECT_EQ(layers[0], -1);  // nothing sent yet: no layer
  LayerDemand capped = Simulcast(0);
  capped.max_layer = 0;
  AllocateLayers(std::span(&capped, 1), 10'000'000, layers);
  EXPECT_EQ(layers[0], 0);
}

TEST(LayerAllocatorTest, TheCurrentLayerIsKeptSlightlyAboveTheBudgetButNotEntered) {
  // 150k + 1.35M = 1.5M needed for the top layer; budget 1.4M.
  LayerDemand receiving_top = Simulcast(0, /*current=*/2);
  std::array<int, 1> layers{};
  AllocateLayers(std::span(&receiving_top, 1), 1'400'000, layers);
  EXPECT_EQ(layers[0], 2);
  LayerDemand receiving_mid = Simulcast(0, /*current=*/1);
  AllocateLayers(std::span(&receiving_mid, 1), 1'400'000, layers);
  EXPECT_EQ(layers[0], 1);
  // Far above the budget even the current layer goes.
  AllocateLayers(std::span(&receiving_top, 1), 900'000, layers);
  EXPECT_EQ(layers[0], 1);
}

TEST(LayerAllocatorTest, TheRaiseLimitBlocksEnteringNotKeepingNorWanting) {
  LayerDemand on_low = Simulcast(0, /*current=*/0);
  on_low.raise_limit = 0;
  std::array<int, 1> layers{};
  AllocationResult r = AllocateLayers(std::span(&on_low, 1), 10'000'000, layers);
  EXPECT_EQ(layers[0], 0);
  EXPECT_EQ(r.desired_bps, 1'500'000u) << "still wants (and probes for) the top layer";
  on_low.raise_limit = 1;
  AllocateLayers(std::span(&on_low, 1), 10'000'000, layers);
  EXPECT_EQ(layers[0], 1);
  LayerDemand on_top = Simulcast(0, /*current=*/2);
  on_top.raise_limit = 0;
  AllocateLayers(std::span(&on_top, 1), 10'000'000, layers);
  EXPECT_EQ(layers[0], 2);
}

TEST(RaiseGuardTest, ADropHoldsTheLayersAboveUntilTimeOrAProbeOfAllThatIsWanted) {
  RaiseGuard g;
  EXPECT_EQ(g.Limit(0), 2);
  g.OnAllocated(2, 0, /*from_active=*/true, 1'000);
  EXPECT_EQ(g.held_layer(1'001), 1);
  EXPECT_EQ(g.Limit(1'001), 0);
  EXPECT_EQ(g.Limit(1'000 + RaiseGuard::kFirstHoldMs - 1), 0);
  EXPECT_EQ(g.Limit(1'000 + RaiseGuard::kFirstHoldMs), 2);
  EXPECT_EQ(g.held_layer(1'000 + RaiseGuard::kFirstHoldMs), -1);
  g.OnProbeSucceeded(/*proven_bps=*/1'200'000, /*desired_bps=*/1'500'000);
  EXPECT_EQ(g.Limit(1'001), 0) << "a probe short of what is wanted proves too little";
  g.OnProbeSucceeded(1'500'000, 1'500'000);
  EXPECT_EQ(g.Limit(1'001), 2);
}

TEST(RaiseGuardTest, RepeatedDropsDoubleTheHoldUpToTheMaximum) {
  RaiseGuard g;
  int64_t t = 0;
  int64_t expected = RaiseGuard::kFirstHoldMs;
  for (int i = 0; i < 6; ++i) {
    g.OnAllocated(1, 0, true, t);
    EXPECT_EQ(g.hold_ms(), expected);
    EXPECT_EQ(g.Limit(t + expected - 1), 0);
    EXPECT_EQ(g.Limit(t + expected), 2);
    t += expected + 1'000;
    expected = std::min(expected * 2, RaiseGuard::kMaxHoldMs);
  }
  // Forgotten after a quiet spell.
  t += RaiseGuard::kForgetMs;
  g.OnAllocated(1, 0, true, t);
  EXPECT_EQ(g.hold_ms(), RaiseGuard::kFirstHoldMs);
}

TEST(RaiseGuardTest, RaisesFirstLayersAndLayersNoLongerSentHoldNothing) {
  RaiseGuard g;
  g.OnAllocated(0, 2, true, 1'000);   // a raise
  g.OnAllocated(-1, 0, true, 1'000);  // first layer
  g.OnAllocated(2, 1, false, 1'000);  // the publisher stopped sending 2
  EXPECT_EQ(g.Limit(1'001), 2);
  g.OnAllocated(2, 1, true, 1'000);
  EXPECT_EQ(g.Limit(1'001), 1);
}

}  // namespace
}  // namespace aegis::sfu
