#include "media_publisher.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "crypto/primitives.h"
#include "media.h"
#include "rtc/byte_io.h"
#include "rtc/rtp/rtcp_feedback.h"
#include "rtc/rtp/rtcp_packet.h"
#include "rtc/rtp/rtcp_report.h"
#include "sdp_builder.h"

namespace aegis::bench {
namespace {

constexpr uint64_t kAudioIntervalNs = 20'000'000;
// A generator that falls further behind than this skips the missed packets
// (and counts them) instead of bursting them all at once.
constexpr uint64_t kMaxLagNs = 200'000'000;

uint64_t NtpNow() {
  // Wall clock in NTP 32.32 format, for sender reports only.
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  const uint64_t secs = static_cast<uint64_t>(us / 1'000'000) + 2'208'988'800ULL;
  const uint64_t frac = (static_cast<uint64_t>(us % 1'000'000) << 32) / 1'000'000;
  return (secs << 32) | frac;
}

}  // namespace

// RFC 3550 §5.1 header with one RFC 8285 one-byte extension block carrying
// the MID (RFC 8843 §15) and, on a simulcast layer, the RID (RFC 8852),
// padded to a 4-byte boundary (8 bytes for our one-character mid and rids:
// kRtpHeaderBytes).
bool MediaPublisher::WriteRtpHeader(rtc::ByteWriter& w, uint8_t pt, bool marker, uint16_t seq,
                                    uint32_t ts, uint32_t ssrc, char mid, std::string_view rid) {
  const size_t ext = 2 + (rid.empty() ? 0 : 1 + rid.size());
  const size_t words = (ext + 3) / 4;
  bool ok = w.WriteU8(0x90) && w.WriteU8(static_cast<uint8_t>((marker ? 0x80 : 0) | pt)) &&
            w.WriteU16(seq) && w.WriteU32(ts) && w.WriteU32(ssrc) && w.WriteU16(0xBEDE) &&
            w.WriteU16(static_cast<uint16_t>(words)) &&
            w.WriteU8(static_cast<uint8_t>(kMidExtensionId << 4)) &&
            w.WriteU8(static_cast<uint8_t>(mid));
  if (ok && !rid.empty()) {
    ok = w.WriteU8(static_cast<uint8_t>(kRidExtensionId << 4 | (rid.size() - 1)));
    for (char c : rid) ok = ok && w.WriteU8(static_cast<uint8_t>(c));
  }
  return ok && w.WriteZeros(words * 4 - ext);
}

std::vector<std::string> SimulcastRids(uint32_t layers) {
  if (layers <= 1) return {};
  if (layers == 2) return {"l", "h"};
  return {"l", "m", "h"};
}

uint32_t LayerKbps(const MediaConfig& config, size_t layer) {
  const uint32_t n = std::clamp<uint32_t>(config.simulcast_layers, 1, kMaxSimulcastLayers);
  if (n == 1 || layer + 1 >= n) return config.video_kbps;
  // Below the top: l = 1/8 and (with 3 layers) m = 1/3 of it.
  const uint32_t kbps = layer == 0 ? config.video_kbps / 8 : config.video_kbps / 3;
  return std::max<uint32_t>(kbps, 30);
}

MediaPublisher::MediaPublisher(BenchPeer* peer, RunMetrics* metrics, const MediaConfig& config,
                               StreamSendState* audio, uint32_t audio_ssrc,
                               std::vector<VideoStream> video)
    : peer_(peer), metrics_(metrics), config_(config), audio_(audio), audio_ssrc_(audio_ssrc) {
  std::array<uint8_t, 4> r{};
  crypto::RandomBytes(r);
  audio_seq_ = static_cast<uint16_t>(r[0] << 8 | r[1]);
  audio_ts_ = static_cast<uint32_t>(r[2] << 24 | r[3] << 16);
  for (size_t i = 0; i < video.size(); ++i) {
    VideoLayer layer;
    layer.stream = std::move(video[i]);
    layer.config = config;
    layer.config.video_kbps = LayerKbps(config, i);
    crypto::RandomBytes(r);
    layer.seq = static_cast<uint16_t>(r[0] << 8 | r[1]);
    layer.ts = static_cast<uint32_t>(r[2] << 24 | r[3] << 16);
    layer.picture_id = static_cast<uint16_t>(r[0] & 0x7f);
    video_.push_back(std::move(layer));
  }
}

size_t MediaPublisher::DeltaFrameBytes(const MediaConfig& c) {
  const double fps = std::max<uint32_t>(c.fps, 1);
  const double per_frame = c.video_kbps * 125.0 / fps;
  // A keyframe is 3 average frames; the deltas shrink so the average holds.
  const double frames_per_key = std::max(1.0, c.keyframe_interval_s * fps);
  if (frames_per_key <= 3) return static_cast<size_t>(per_frame);
  return std::max<size_t>(
      1, static_cast<size_t>(per_frame * (frames_per_key - 3.0) / (frames_per_key - 1.0)));
}

size_t MediaPublisher::KeyFrameBytes(const MediaConfig& c) {
  const double fps = std::max<uint32_t>(c.fps, 1);
  return std::max<size_t>(1, static_cast<size_t>(3.0 * c.video_kbps * 125.0 / fps));
}

void MediaPublisher::Start(uint64_t now_ns) {
  running_ = true;
  ever_started_ = true;
  next_audio_ns_ = now_ns;
  next_frame_ns_ = now_ns;
  for (VideoLayer& layer : video_) {
    layer.last_keyframe_ns = now_ns;
    layer.keyframe_requested = true;
  }
}

void MediaPublisher::Tick(uint64_t now_ns) {
  if (!running_ || !peer_->connected()) return;
  if (audio_ != nullptr && config_.audio) {
    if (now_ns > next_audio_ns_ + kMaxLagNs) {
      const uint64_t missed = (now_ns - next_audio_ns_) / kAudioIntervalNs;
      metrics_->send_skipped += missed;
      next_audio_ns_ += missed * kAudioIntervalNs;
      audio_ts_ += static_cast<uint32_t>(missed * 960);
    }
    while (next_audio_ns_ <= now_ns) {
      SendAudio(now_ns);
      next_audio_ns_ += kAudioIntervalNs;
    }
  }
  if (!video_.empty() && config_.video) {
    const uint64_t frame_ns = 1'000'000'000ULL / std::max<uint32_t>(config_.fps, 1);
    if (now_ns > next_frame_ns_ + kMaxLagNs) {
      const uint64_t missed = (now_ns - next_frame_ns_) / frame_ns;
      // Counted as frames skipped (one per layer), like the audio packets.
      metrics_->send_skipped += missed * video_.size();
      next_frame_ns_ += missed * frame_ns;
      for (VideoLayer& layer : video_) {
        layer.ts += static_cast<uint32_t>(missed * (90000 / std::max<uint32_t>(config_.fps, 1)));
      }
    }
    while (next_frame_ns_ <= now_ns) {
      for (VideoLayer& layer : video_) SendVideoFrame(layer, now_ns);
      next_frame_ns_ += frame_ns;
    }
  }
}

void MediaPublisher::SendAudio(uint64_t send_ns) {
  const PayloadPrefix prefix{audio_->stream_id, audio_->next_counter, send_ns};
  size_t size = 0;
  const bool sent = peer_->SendRtp([&](std::span<uint8_t> out) -> size_t {
    rtc::ByteWriter w(out);
    if (!WriteRtpHeader(w, opus_pt_, false, audio_seq_, audio_ts_, audio_ssrc_, '0', {})) {
      return 0;
    }
    const size_t n = WriteAudioPayload(out.subspan(w.size()), prefix, config_.audio_payload_bytes);
    size = n == 0 ? 0 : w.size() + n;
    return size;
  });
  ++audio_seq_;
  audio_ts_ += 960;  // 20 ms at 48 kHz
  if (!sent) return;
  ++audio_->next_counter;
  ++audio_->packets;
  audio_octets_ += size;
  ++metrics_->tx_packets;
  ++metrics_->interval_tx_packets;
  if (metrics_->measuring) {
    ++metrics_->window_tx_packets;
    metrics_->window_tx_bytes += size;
  }
}

void MediaPublisher::SendVideoFrame(VideoLayer& layer, uint64_t send_ns) {
  StreamSendState* st = layer.stream.state;
  const double interval_ns = config_.keyframe_interval_s * 1e9;
  const bool keyframe =
      layer.keyframe_requested ||
      (interval_ns > 0 && static_cast<double>(send_ns - layer.last_keyframe_ns) >= interval_ns);
  if (keyframe) {
    layer.keyframe_requested = false;
    layer.last_keyframe_ns = send_ns;
    ++st->keyframes;
  }
  size_t remaining = keyframe ? KeyFrameBytes(layer.config) : DeltaFrameBytes(layer.config);
  const size_t packets = (remaining + kMaxRtpPayload - 1) / kMaxRtpPayload;
  // Equal-sized packets, like libwebrtc's packetizer.
  const size_t per_packet = std::max<size_t>((remaining + packets - 1) / packets, 1);
  for (size_t i = 0; i < packets; ++i) {
    const bool last = i + 1 == packets;
    Vp8PacketInfo vp8{i == 0, keyframe, layer.picture_id};
    size_t payload = std::min(per_packet, remaining);
    payload = std::clamp(payload, MinVp8PayloadSize(vp8), kMaxRtpPayload);
    remaining -= std::min(remaining, payload);
    const PayloadPrefix prefix{st->stream_id, st->next_counter, send_ns};
    size_t size = 0;
    const bool sent = peer_->SendRtp([&](std::span<uint8_t> out) -> size_t {
      rtc::ByteWriter w(out);
      if (!WriteRtpHeader(w, vp8_pt_, last, layer.seq, layer.ts, layer.stream.ssrc, '1',
                          layer.stream.rid)) {
        return 0;
      }
      const size_t n = WriteVp8Payload(out.subspan(w.size()), prefix, vp8, payload);
      size = n == 0 ? 0 : w.size() + n;
      return size;
    });
    ++layer.seq;
    if (!sent) continue;
    ++st->next_counter;
    ++st->packets;
    layer.octets += size;
    ++metrics_->tx_packets;
    ++metrics_->interval_tx_packets;
    if (metrics_->measuring) {
      ++metrics_->window_tx_packets;
      metrics_->window_tx_bytes += size;
    }
  }
  layer.ts += 90000 / std::max<uint32_t>(config_.fps, 1);
  layer.picture_id = static_cast<uint16_t>((layer.picture_id + 1) & 0x7fff);
}

void MediaPublisher::SendReports(uint64_t /*now_ns*/) {
  if (!peer_->connected()) return;
  const uint64_t ntp = NtpNow();
  auto report = [&](StreamSendState* st, uint32_t ssrc, uint32_t ts, uint64_t octets) {
    if (st == nullptr) return;
    (void)peer_->SendRtcp([&](std::span<uint8_t> out) -> size_t {
      rtc::ByteWriter w(out);
      rtc::SenderInfo info{ssrc, ntp, ts, static_cast<uint32_t>(st->packets),
                           static_cast<uint32_t>(octets)};
      return rtc::WriteSenderReport(w, info, {}).ok() ? w.size() : 0;
    });
  };
  if (config_.audio) report(audio_, audio_ssrc_, audio_ts_, audio_octets_);
  if (config_.video) {
    for (const VideoLayer& l : video_) report(l.stream.state, l.stream.ssrc, l.ts, l.octets);
  }
}

void MediaPublisher::OnRtcp(std::span<const uint8_t> compound) {
  rtc::RtcpCompoundIterator it(compound);
  for (; it.Valid(); it.Next()) {
    const rtc::RtcpPacketView& v = it.packet();
    if (v.Is(rtc::RtcpType::kPsfb) && v.count == static_cast<uint8_t>(rtc::PsfbFormat::kPli)) {
      // A PLI names the stream (layer) that needs a keyframe; one that names
      // none of ours (or does not parse) asks every layer, as before
      // simulcast existed here.
      auto pli = rtc::Pli::Parse(v);
      const bool named = pli.ok() && std::ranges::any_of(video_, [&](const VideoLayer& l) {
                           return l.stream.ssrc == pli->media_ssrc();
                         });
      for (VideoLayer& layer : video_) {
        if (named && layer.stream.ssrc != pli->media_ssrc()) continue;
        layer.keyframe_requested = true;
        ++layer.stream.state->plis_received;
      }
    } else if (v.Is(rtc::RtcpType::kPsfb) &&
               v.count == static_cast<uint8_t>(rtc::PsfbFormat::kFir)) {
      for (VideoLayer& layer : video_) {  // FIR: every layer (its FCI lists them)
        layer.keyframe_requested = true;
        ++layer.stream.state->plis_received;
      }
    } else if (v.Is(rtc::RtcpType::kRtpfb) && v.count == 1) {  // generic NACK
      if (!video_.empty()) ++video_.front().stream.state->nacks_received;
    }
  }
}

}  // namespace aegis::bench
