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
  // Every `n`-th packet is lost on the way (0: none).
  void set_loss_every(uint32_t n) { loss_every_ = n; }
  void set_media_bps(uint64_t bps) { media_bps_ = bps; }
  // Media follows the estimate like the allocator: the highest of `layers`
  // (ascending) that fits, else the lowest.
  void set_layers(std::vector<uint64_t> layers) { layers_ = std::move(layers); }
  uint64_t media_bps() const { return media_bps_; }
  void set_desired_bps(uint64_t bps) { desired_bps_ = bps; }

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

  struct Flight {
    uint16_t seq;
    int64_t arrival_us;
  };
  DownlinkEstimator est_;
  TwccRecorder recorder_;
  std::deque<Flight> in_flight_;
  uint64_t capacity_bps_;
  uint64_t media_bps_ = 0;
  std::vector<uint64_t> layers_;
  uint64_t desired_bps_ = 0;
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

}  // namespace
}  // namespace aegis::sfu
