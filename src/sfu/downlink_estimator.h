// DownlinkEstimator: how many bits per second one subscriber's connection
// carries, estimated by the server from the subscriber's transport-cc
// feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01) on the
// packets the server sent it. Three signals (docs/MEDIA.md "Downlink
// bandwidth estimation" explains them with their parameters):
//   - delay: the one-way queuing delay of each packet above the smallest
//     delay seen in the last 10 s; a rising queue means the path is full;
//   - loss: the share of packets the feedback reports lost;
//   - probes: short clusters sent above the current rate (the worker pads
//     them with RTX padding); a cluster that arrives as fast as it was sent
//     proves the higher rate fits.
// Fixed storage (the last kHistory sent packets); no allocation after
// construction. Owned by one media worker; not thread-safe. Times are
// monotonic microseconds; arrival times are the subscriber's clock, only
// their differences are used.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "rtc/rtp/rtcp_transport_cc.h"

namespace aegis::sfu {

class DownlinkEstimator {
 public:
  static constexpr uint64_t kInitialBps = 1'000'000;
  static constexpr uint64_t kMinBps = 50'000;
  static constexpr uint64_t kMaxBps = 30'000'000;
  static constexpr size_t kHistory = 4096;  // sent packets remembered
  // Queuing delay (smoothed) above which the path counts as overused, and
  // below which the estimate may grow.
  static constexpr int64_t kOveruseDelayUs = 25'000;
  static constexpr int64_t kNormalDelayUs = 10'000;
  // The smallest one-way delay is taken over two buckets of this length.
  static constexpr int64_t kBaseDelayWindowUs = 5'000'000;
  // On overuse: estimate = 0.85 x what the subscriber received; at most one
  // decrease per kDecreaseIntervalUs (time for the queue to drain).
  static constexpr double kBackoff = 0.85;
  static constexpr int64_t kDecreaseIntervalUs = 300'000;
  // Loss above kHighLoss lowers the estimate by half the loss; below
  // kLowLoss (and with little queuing) the estimate grows kIncreasePerS per
  // second, to at most 1.5 x the received rate + kIncreaseHeadroomBps.
  static constexpr double kHighLoss = 0.10;
  static constexpr double kLowLoss = 0.02;
  static constexpr double kIncreasePerS = 0.08;
  static constexpr uint64_t kIncreaseHeadroomBps = 100'000;
  // Received rate and loss are measured over windows of this length.
  static constexpr int64_t kRateWindowUs = 500'000;
  static constexpr int64_t kLossWindowUs = 500'000;
  // Probes: a cluster of kProbeDurationUs at kProbeGain x the wanted rate
  // (at most kProbeMaxStep x the estimate); its packets count for its own
  // verdict, not for the loss rate;
  // after a failed probe (or an overuse soon after a successful one) the next
  // waits kProbeBackoffMinUs, doubling to kProbeBackoffMaxUs.
  static constexpr int64_t kProbeDurationUs = 300'000;
  static constexpr double kProbeGain = 1.25;
  static constexpr double kProbeMaxStep = 2.0;
  static constexpr int64_t kProbeBackoffMinUs = 2'000'000;
  static constexpr int64_t kProbeBackoffMaxUs = 5'000'000;
  static constexpr int64_t kProbeResultTimeoutUs = 1'000'000;
  static constexpr int64_t kProbeTrustUs = 4'000'000;

  // Every RTP packet sent on the transport with a transport-wide sequence
  // number; `bytes` as on the wire (RTP, SRTP tag, UDP/IP).
  void OnPacketSent(uint16_t transport_seq, size_t bytes, int64_t now_us);

  // A transport-cc feedback packet from the subscriber.
  void OnFeedback(const rtc::TransportCcFeedback& feedback, int64_t now_us);

  // What the subscriber's consumers would take without a limit. When the
  // estimate is below it, a probe towards it starts (unless one is running
  // or the backoff after a failed one has not passed).
  void SetDesired(uint64_t desired_bps, int64_t now_us);

  // Padding bytes to send now to hold a running probe's rate (0: none).
  size_t ProbePaddingDue(int64_t now_us);

  uint64_t estimate_bps() const { return estimate_bps_; }
  uint64_t received_bps() const { return acked_bps_; }
  double loss() const { return loss_; }
  int64_t queue_delay_us() const { return queue_delay_us_; }
  bool has_feedback() const { return have_feedback_; }
  bool probing() const { return probe_.active; }
  uint32_t probes_succeeded() const { return probes_succeeded_; }
  uint32_t probes_failed() const { return probes_failed_; }
  // The last judged probe: its target, and the rates it was sent and
  // received at (for logs).
  struct ProbeResult {
    uint64_t target_bps = 0;
    uint64_t send_bps = 0;
    uint64_t recv_bps = 0;
    double loss = 0;
    int64_t max_queue_us = 0;
  };
  const ProbeResult& last_probe() const { return last_probe_; }

 private:
  struct Sent {
    int64_t send_us = -1;
    uint32_t bytes = 0;
    uint16_t seq = 0;
    uint16_t cluster = 0;  // 0: not part of a probe
    bool reported = false;
  };
  struct Probe {
    bool active = false;   // sending
    bool pending = false;  // sent, waiting for feedback
    uint16_t id = 0;
    uint64_t target_bps = 0;
    int64_t start_us = 0;
    int64_t end_us = 0;
    uint64_t sent_bytes = 0;
    uint32_t sent_count = 0;
    uint32_t last_sent_bytes = 0;
    int64_t first_send_us = 0;
    int64_t last_send_us = 0;
    // From feedback.
    uint32_t received = 0;
    uint32_t lost = 0;
    uint64_t received_bytes = 0;
    uint32_t first_arrival_bytes = 0;
    int64_t first_arrival_us = 0;
    int64_t last_arrival_us = 0;
    int64_t max_queue_us = 0;
  };

  // Books one acknowledged packet; returns its queuing delay.
  int64_t OnReceived(const Sent& s, int64_t arrival_us);
  void EvaluateProbe(int64_t now_us);
  void UpdateEstimate(int64_t now_us, bool fresh_loss);
  void ProbeFailed(int64_t now_us);

  std::array<Sent, kHistory> sent_{};
  uint64_t estimate_bps_ = kInitialBps;
  bool have_feedback_ = false;

  // Delay.
  int64_t base_delay_cur_ = INT64_MAX;   // smallest delay, current bucket
  int64_t base_delay_prev_ = INT64_MAX;  // previous bucket
  int64_t base_bucket_start_us_ = 0;
  int64_t queue_delay_us_ = 0;  // smoothed

  // Received rate (by arrival time).
  int64_t rate_window_start_us_ = -1;
  uint64_t rate_window_bytes_ = 0;
  uint64_t acked_bps_ = 0;

  // Loss.
  int64_t loss_window_start_us_ = 0;
  uint32_t loss_window_lost_ = 0;
  uint32_t loss_window_total_ = 0;
  double loss_ = 0;

  // Rate control.
  int64_t last_update_us_ = 0;
  int64_t last_decrease_us_ = 0;

  // Probing.
  Probe probe_;
  uint16_t next_cluster_ = 1;
  int64_t next_probe_us_ = 0;
  int64_t probe_backoff_us_ = kProbeBackoffMinUs;
  int64_t last_probe_success_us_ = -1;
  uint32_t probes_succeeded_ = 0;
  uint32_t probes_failed_ = 0;
  ProbeResult last_probe_;
};

}  // namespace aegis::sfu
