// MediaReceiver: the receive side of one subscribing peer connection. For
// every RTP packet it finds the bench prefix, feeds per-stream statistics
// (keyed by the publisher's stream id, so SSRC rewriting by the server does
// not matter) and the run's latency histograms, and records the time from
// join to first packet and first keyframe. Sends RTCP like a browser
// receiver: receiver reports once per second, a generic NACK when RTP
// sequence numbers jump, PLI until a video stream's first keyframe arrives.
// Payloads are untrusted (foreign ones are counted, not asserted on). One
// event-loop thread; the peer and RunMetrics are not owned.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>

#include "bench_peer.h"
#include "media.h"
#include "rtc/rtp/rtp_packet.h"
#include "run_metrics.h"
#include "stats.h"

namespace aegis::bench {

class MediaReceiver {
 public:
  struct Stream {
    StreamReceiveStats stats;
    uint32_t ssrc = 0;
    bool video = false;
    bool keyframe_seen = false;
    uint64_t first_ns = 0;
    uint64_t last_ns = 0;  // arrival of the latest packet (simulcast: the layer being forwarded)
    // For RTCP: RTP sequence tracking of the SSRC that carried it.
    uint16_t highest_seq = 0;
    uint32_t seq_cycles = 0;
    // Interval bookkeeping (capacity steps, progress line).
    uint64_t interval_expected_base = 0;
    uint64_t interval_unique_base = 0;
  };

  MediaReceiver(BenchPeer* peer, RunMetrics* metrics, uint64_t join_ns);

  void set_payload_types(uint8_t opus, uint8_t vp8) {
    opus_pt_ = opus;
    vp8_pt_ = vp8;
  }
  void OnRtp(const rtc::RtpPacket& packet, uint64_t arrival_ns);
  // Every ~100 ms from the runner: PLI while a video stream waits for a
  // keyframe; every 10th call, receiver reports.
  void Tick(uint64_t now_ns);
  // Adds this receiver's counter advance / holes since the last call to the
  // metrics' interval fields.
  void CollectInterval();

  const std::map<uint16_t, Stream>& streams() const { return streams_; }
  std::optional<uint64_t> first_packet_ns() const { return first_packet_ns_; }
  std::optional<uint64_t> first_keyframe_ns() const { return first_keyframe_ns_; }
  uint64_t join_ns() const { return join_ns_; }

 private:
  void SendNack(uint32_t ssrc, uint16_t from, uint16_t to);

  // Passed by argument.
  BenchPeer* peer_;
  RunMetrics* metrics_;
  uint64_t join_ns_;
  // Allocated by this.
  uint8_t opus_pt_ = 111;
  uint8_t vp8_pt_ = 96;
  std::map<uint16_t, Stream> streams_;
  std::map<uint32_t, uint16_t> stream_of_ssrc_;
  std::optional<uint64_t> first_packet_ns_;
  std::optional<uint64_t> first_keyframe_ns_;
  uint64_t last_pli_ns_ = 0;
  uint32_t ticks_ = 0;
};

}  // namespace aegis::bench
