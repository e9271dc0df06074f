#include "media_receiver.h"

#include <algorithm>
#include <vector>

#include "rtc/byte_io.h"
#include "rtc/rtp/rtcp_feedback.h"
#include "rtc/rtp/rtcp_nack.h"
#include "rtc/rtp/rtcp_report.h"

namespace aegis::bench {
namespace {

constexpr uint64_t kPliIntervalNs = 500'000'000;
constexpr uint16_t kMaxNackRun = 64;  // larger jumps are resets, not losses to repair

}  // namespace

MediaReceiver::MediaReceiver(BenchPeer* peer, RunMetrics* metrics, uint64_t join_ns)
    : peer_(peer), metrics_(metrics), join_ns_(join_ns) {}

void MediaReceiver::OnRtp(const rtc::RtpPacket& packet, uint64_t arrival_ns) {
  const bool video = packet.payload_type() != opus_pt_;
  if (video && packet.payload_type() != vp8_pt_) {
    ++metrics_->foreign_payloads;  // RTX or an unknown codec: not a media counter
    return;
  }
  auto parsed =
      ParseBenchPayload(packet.payload(), video ? PayloadKind::kVp8 : PayloadKind::kAudio);
  if (!parsed) {
    ++metrics_->foreign_payloads;
    return;
  }
  if (!first_packet_ns_) first_packet_ns_ = arrival_ns;
  Stream& s = streams_[parsed->prefix.stream_id];
  if (!s.stats.started()) {
    s.ssrc = packet.ssrc();
    s.video = video;
    s.first_ns = arrival_ns;
    s.highest_seq = packet.sequence_number();
    stream_of_ssrc_[packet.ssrc()] = parsed->prefix.stream_id;
  } else if (s.ssrc == packet.ssrc()) {
    const uint16_t seq = packet.sequence_number();
    const int16_t delta = static_cast<int16_t>(seq - s.highest_seq);
    if (delta > 0) {
      if (delta > 1 && delta <= kMaxNackRun) {
        SendNack(s.ssrc, static_cast<uint16_t>(s.highest_seq + 1), static_cast<uint16_t>(seq - 1));
      }
      if (seq < s.highest_seq) ++s.seq_cycles;
      s.highest_seq = seq;
    }
  }
  s.last_ns = arrival_ns;
  const uint64_t clock = video ? 90000 : 48000;
  const uint64_t arrival_units = arrival_ns / 1000 * clock / 1'000'000;
  s.stats.OnPacket(parsed->prefix.counter, packet.timestamp(), arrival_units);
  if (video && parsed->vp8 && parsed->vp8->start_of_frame && parsed->vp8->keyframe) {
    s.keyframe_seen = true;
    if (!first_keyframe_ns_) first_keyframe_ns_ = arrival_ns;
  }
  const uint64_t latency_us =
      arrival_ns >= parsed->prefix.send_ns ? (arrival_ns - parsed->prefix.send_ns) / 1000 : 0;
  metrics_->latency.Add(latency_us);
  metrics_->interval_latency.Add(latency_us);
  ++metrics_->rx_packets;
  ++metrics_->interval_rx_packets;
  if (metrics_->measuring) {
    metrics_->window_latency.Add(latency_us);
    ++metrics_->window_rx_packets;
    metrics_->window_rx_bytes += packet.size();
  }
}

void MediaReceiver::SendNack(uint32_t ssrc, uint16_t from, uint16_t to) {
  std::vector<uint16_t> lost;
  for (uint16_t s = from; lost.size() < kMaxNackRun; ++s) {
    lost.push_back(s);
    if (s == to) break;
  }
  const bool sent = peer_->SendRtcp([&](std::span<uint8_t> out) -> size_t {
    rtc::ByteWriter w(out);
    return rtc::WriteGenericNack(w, peer_->local_ssrc(), ssrc, lost).ok() ? w.size() : 0;
  });
  if (sent) ++metrics_->nacks_sent;
}

void MediaReceiver::Tick(uint64_t now_ns) {
  if (!peer_->connected()) return;
  if (now_ns - last_pli_ns_ >= kPliIntervalNs) {
    for (const auto& entry : streams_) {
      const Stream& s = entry.second;
      if (!s.video || s.keyframe_seen) continue;
      last_pli_ns_ = now_ns;
      const bool sent = peer_->SendRtcp([&](std::span<uint8_t> out) -> size_t {
        rtc::ByteWriter w(out);
        return rtc::WritePli(w, peer_->local_ssrc(), s.ssrc).ok() ? w.size() : 0;
      });
      if (sent) ++metrics_->plis_sent;
    }
  }
  if (++ticks_ % 10 != 0 || streams_.empty()) return;
  // RFC 3550 §6.4.2 receiver report, at most 31 blocks, one per SSRC: with
  // simulcast several layers (streams) arrive on one SSRC; the block
  // describes the layer received last.
  std::map<uint32_t, const Stream*> latest;
  for (const auto& entry : streams_) {
    const Stream*& l = latest[entry.second.ssrc];
    if (l == nullptr || entry.second.last_ns > l->last_ns) l = &entry.second;
  }
  std::vector<rtc::ReportBlock> blocks;
  for (const auto& entry : latest) {
    const Stream& s = *entry.second;
    if (blocks.size() == 31) break;
    rtc::ReportBlock b;
    b.ssrc = s.ssrc;
    const uint64_t expected = s.stats.ExpectedSoFar();
    const uint64_t got = s.stats.unique_received();
    b.cumulative_lost =
        static_cast<int32_t>(std::min<uint64_t>(expected > got ? expected - got : 0, 0x7fffff));
    b.extended_highest_sequence = (s.seq_cycles << 16) | s.highest_seq;
    b.jitter = static_cast<uint32_t>(s.stats.jitter_units());
    blocks.push_back(b);
  }
  (void)peer_->SendRtcp([&](std::span<uint8_t> out) -> size_t {
    rtc::ByteWriter w(out);
    return rtc::WriteReceiverReport(w, peer_->local_ssrc(), blocks).ok() ? w.size() : 0;
  });
}

void MediaReceiver::CollectInterval() {
  for (auto& entry : streams_) {
    Stream& s = entry.second;
    const uint64_t expected = s.stats.ExpectedSoFar();
    const uint64_t unique = s.stats.unique_received();
    const uint64_t de = expected - s.interval_expected_base;
    const uint64_t du = unique - s.interval_unique_base;
    metrics_->interval_expected += de;
    metrics_->interval_lost += de > du ? de - du : 0;
    s.interval_expected_base = expected;
    s.interval_unique_base = unique;
  }
}

}  // namespace aegis::bench
