// RunMetrics: the figures every client of one generator process adds to, and
// StreamSendState, a publisher stream's send state (so receivers' loss can be
// judged against what was really sent). "Window" fields count only while
// `measuring` is set; interval fields are reset by the runner at each
// progress/capacity step. Plain data owned by the runner; one thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "stats.h"

namespace aegis::bench {

struct StreamSendState {
  uint16_t stream_id = 0;
  bool video = false;
  // Simulcast: the layer this stream is (0 = lowest; -1: not simulcast) and
  // the stream id of its track's layer 0 (its own id when not simulcast), so
  // a subscriber's layers are judged as one track.
  int layer = -1;
  uint16_t group = 0;
  uint32_t next_counter = 0;  // counters used: [0, next_counter)
  uint64_t packets = 0;
  uint64_t keyframes = 0;
  uint64_t plis_received = 0;
  uint64_t nacks_received = 0;
};

struct RunMetrics {
  bool measuring = false;
  // Whole run.
  LatencyHistogram latency;
  // Measurement window.
  LatencyHistogram window_latency;
  uint64_t window_rx_packets = 0;
  uint64_t window_rx_bytes = 0;
  uint64_t window_tx_packets = 0;
  uint64_t window_tx_bytes = 0;
  // Since the last interval reset (progress line, capacity steps).
  LatencyHistogram interval_latency;
  uint64_t interval_rx_packets = 0;
  uint64_t interval_tx_packets = 0;
  uint64_t interval_lost = 0;      // counter holes opened in this interval
  uint64_t interval_expected = 0;  // counters advanced in this interval
  // Totals.
  uint64_t rx_packets = 0;
  uint64_t tx_packets = 0;
  uint64_t foreign_payloads = 0;  // RTP whose payload is not ours
  uint64_t nacks_sent = 0;
  uint64_t plis_sent = 0;
  uint64_t send_skipped = 0;  // packets not sent because the pacer fell behind
  // SRTP profiles negotiated, per leg ("publish"/"subscribe") -> name -> count.
  std::vector<std::pair<std::string, std::string>> srtp_profiles;

  void ResetInterval() {
    interval_latency.Reset();
    interval_rx_packets = 0;
    interval_tx_packets = 0;
    interval_lost = 0;
    interval_expected = 0;
  }
};

}  // namespace aegis::bench
