#include "sfu/downlink_estimator.h"

#include <algorithm>

namespace aegis::sfu {

void DownlinkEstimator::OnPacketSent(uint16_t transport_seq, size_t bytes, int64_t now_us) {
  Sent& s = sent_[transport_seq % kHistory];
  s.send_us = now_us;
  s.bytes = static_cast<uint32_t>(bytes);
  s.seq = transport_seq;
  s.reported = false;
  s.cluster = 0;
  if (probe_.active) {
    s.cluster = probe_.id;
    if (probe_.sent_count == 0) probe_.first_send_us = now_us;
    probe_.last_send_us = now_us;
    probe_.last_sent_bytes = s.bytes;
    probe_.sent_bytes += bytes;
    ++probe_.sent_count;
  }
}

void DownlinkEstimator::OnFeedback(const rtc::TransportCcFeedback& feedback, int64_t now_us) {
  int64_t arrival_us =
      int64_t{feedback.reference_time()} * rtc::TransportCcFeedback::kReferenceTickMicros;
  uint32_t lost = 0;
  uint32_t total = 0;
  int64_t queue_sum_us = 0;  // over this feedback's received packets
  uint32_t received_count = 0;
  feedback.ForEachPacket([&](uint16_t seq, rtc::TwccStatus status, int32_t delta_ticks) {
    const bool received = status != rtc::TwccStatus::kNotReceived;
    if (received) arrival_us += int64_t{delta_ticks} * rtc::TransportCcFeedback::kDeltaTickMicros;
    Sent& s = sent_[seq % kHistory];
    if (s.send_us < 0 || s.seq != seq || s.reported) return;  // not ours, or already counted
    s.reported = true;
    // A probe's own losses are its verdict (EvaluateProbe), not the path's
    // loss rate: a failed probe through a cap must not cut the estimate too.
    if (s.cluster == 0) ++total;
    if (received) {
      queue_sum_us += OnReceived(s, arrival_us);
      ++received_count;
    } else if (s.cluster == 0) {
      ++lost;
    } else if (s.cluster == probe_.id) {
      ++probe_.lost;
    }
  });
  if (total == 0 && received_count == 0) return;
  have_feedback_ = true;
  if (received_count > 0) {
    const int64_t q = queue_sum_us / received_count;
    queue_delay_us_ = (queue_delay_us_ + q) / 2;
  }
  bool loss_updated = false;
  loss_window_lost_ += lost;
  loss_window_total_ += total;
  if (now_us - loss_window_start_us_ >= kLossWindowUs && loss_window_total_ >= 10) {
    loss_ = static_cast<double>(loss_window_lost_) / loss_window_total_;
    loss_window_lost_ = 0;
    loss_window_total_ = 0;
    loss_window_start_us_ = now_us;
    loss_updated = true;
  }
  EvaluateProbe(now_us);
  UpdateEstimate(now_us, loss_updated);
}

int64_t DownlinkEstimator::OnReceived(const Sent& s, int64_t arrival_us) {
  // One-way delay in mixed clocks: only its changes mean something.
  const int64_t delay = arrival_us - s.send_us;
  if (s.send_us - base_bucket_start_us_ >= kBaseDelayWindowUs) {
    base_delay_prev_ = base_delay_cur_;
    base_delay_cur_ = INT64_MAX;
    base_bucket_start_us_ = s.send_us;
  }
  base_delay_cur_ = std::min(base_delay_cur_, delay);
  const int64_t queue = delay - std::min(base_delay_cur_, base_delay_prev_);

  if (rate_window_start_us_ < 0) {
    rate_window_start_us_ = arrival_us;
  } else {
    rate_window_bytes_ += s.bytes;  // the window's first packet opens it
  }
  if (arrival_us - rate_window_start_us_ >= kRateWindowUs) {
    acked_bps_ =
        rate_window_bytes_ * 8'000'000 / static_cast<uint64_t>(arrival_us - rate_window_start_us_);
    rate_window_start_us_ = arrival_us;
    rate_window_bytes_ = 0;
  }

  if (s.cluster != 0 && s.cluster == probe_.id) {
    Probe& p = probe_;
    if (p.received == 0 || arrival_us < p.first_arrival_us) {
      p.first_arrival_us = arrival_us;
      p.first_arrival_bytes = s.bytes;
    }
    if (p.received == 0 || arrival_us > p.last_arrival_us) p.last_arrival_us = arrival_us;
    p.received_bytes += s.bytes;
    ++p.received;
    p.max_queue_us = std::max(p.max_queue_us, queue);
  }
  return queue;
}

// `fresh_loss`: loss() covers a new window (a loss figure acts once).
void DownlinkEstimator::UpdateEstimate(int64_t now_us, bool fresh_loss) {
  const int64_t dt =
      last_update_us_ == 0 ? 0 : std::min<int64_t>(now_us - last_update_us_, 1'000'000);
  last_update_us_ = now_us;
  const bool overuse = queue_delay_us_ > kOveruseDelayUs;
  const bool high_loss = fresh_loss && loss_ > kHighLoss;
  if (overuse || high_loss) {
    if (now_us - last_decrease_us_ < kDecreaseIntervalUs) return;
    uint64_t next = estimate_bps_;
    if (overuse && acked_bps_ > 0) {
      next = std::min(next, static_cast<uint64_t>(static_cast<double>(acked_bps_) * kBackoff));
    }
    if (high_loss) {
      next = std::min(next,
                      static_cast<uint64_t>(static_cast<double>(estimate_bps_) * (1 - loss_ / 2)));
    }
    if (next < estimate_bps_) {
      estimate_bps_ = std::max(kMinBps, next);
      last_decrease_us_ = now_us;
      // Congestion soon after a probe said a rate fits: that probe was wrong
      // (a burst absorbed by a buffer), so the next one waits longer.
      if (last_probe_success_us_ >= 0 && now_us - last_probe_success_us_ < kProbeTrustUs) {
        last_probe_success_us_ = -1;
        ProbeFailed(now_us);
      }
    }
    return;
  }
  if (loss_ < kLowLoss && queue_delay_us_ < kNormalDelayUs && dt > 0) {
    const auto grown = static_cast<uint64_t>(static_cast<double>(estimate_bps_) *
                                             (1 + kIncreasePerS * static_cast<double>(dt) / 1e6));
    const uint64_t ceiling = std::max(estimate_bps_, acked_bps_ * 3 / 2 + kIncreaseHeadroomBps);
    estimate_bps_ = std::min({grown, ceiling, kMaxBps});
  }
}

void DownlinkEstimator::SetDesired(uint64_t desired_bps, int64_t now_us) {
  if (!have_feedback_ || probe_.active || probe_.pending || now_us < next_probe_us_) return;
  if (desired_bps <= estimate_bps_) return;
  if (queue_delay_us_ > kNormalDelayUs || loss_ > kLowLoss) return;  // not while congested
  probe_ = Probe{};
  probe_.active = true;
  probe_.id = next_cluster_++;
  if (next_cluster_ == 0) next_cluster_ = 1;
  // Towards what is wanted, but at most kProbeMaxStep x the estimate in one
  // go: a probe far beyond the path floods its queue (the media behind it
  // is lost too) and proves nothing a smaller one would not.
  probe_.target_bps = std::min<uint64_t>(
      {kMaxBps, static_cast<uint64_t>(static_cast<double>(desired_bps) * kProbeGain),
       static_cast<uint64_t>(static_cast<double>(estimate_bps_) * kProbeMaxStep)});
  probe_.start_us = now_us;
  probe_.end_us = now_us + kProbeDurationUs;
}

size_t DownlinkEstimator::ProbePaddingDue(int64_t now_us) {
  if (!probe_.active) return 0;
  if (now_us >= probe_.end_us) {
    probe_.active = false;
    probe_.pending = true;
    return 0;
  }
  const auto due = static_cast<uint64_t>(static_cast<double>(probe_.target_bps) *
                                         static_cast<double>(now_us - probe_.start_us) / 8e6);
  return due > probe_.sent_bytes ? static_cast<size_t>(due - probe_.sent_bytes) : 0;
}

void DownlinkEstimator::EvaluateProbe(int64_t now_us) {
  Probe& p = probe_;
  if (!p.pending) return;
  const uint32_t reported = p.received + p.lost;
  if (reported * 5 < p.sent_count * 4 && now_us - p.end_us < kProbeResultTimeoutUs) return;
  p.pending = false;
  const int64_t send_span = p.last_send_us - p.first_send_us;
  const int64_t recv_span = p.last_arrival_us - p.first_arrival_us;
  if (p.received < 5 || send_span <= 0 || recv_span <= 0) {
    last_probe_ = ProbeResult{p.target_bps, 0, 0, 1, 0};
    ProbeFailed(now_us);
    return;
  }
  // The last packet sent closes the send interval, the first to arrive
  // opens the receive interval: neither's bytes fall inside.
  const double send_bps =
      static_cast<double>(p.sent_bytes - p.last_sent_bytes) * 8e6 / static_cast<double>(send_span);
  const double recv_bps = static_cast<double>(p.received_bytes - p.first_arrival_bytes) * 8e6 /
                          static_cast<double>(recv_span);
  const double lost = static_cast<double>(p.lost) / (p.received + p.lost);
  last_probe_ = ProbeResult{p.target_bps, static_cast<uint64_t>(send_bps),
                            static_cast<uint64_t>(recv_bps), lost, p.max_queue_us};
  if (lost > kHighLoss || recv_bps < 0.9 * send_bps || p.max_queue_us > kOveruseDelayUs) {
    ProbeFailed(now_us);
    return;
  }
  ++probes_succeeded_;
  probe_backoff_us_ = kProbeBackoffMinUs;
  last_probe_success_us_ = now_us;
  const auto proven = static_cast<uint64_t>(std::min(send_bps, recv_bps) * 0.95);
  estimate_bps_ = std::min(kMaxBps, std::max(estimate_bps_, proven));
}

void DownlinkEstimator::ProbeFailed(int64_t now_us) {
  ++probes_failed_;
  next_probe_us_ = now_us + probe_backoff_us_;
  probe_backoff_us_ = std::min(probe_backoff_us_ * 2, kProbeBackoffMaxUs);
}

}  // namespace aegis::sfu
