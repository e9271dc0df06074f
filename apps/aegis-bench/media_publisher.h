// MediaPublisher: the synthetic media of one publishing client, sent through
// its BenchPeer: Opus-shaped audio (one ~100-byte packet per 20 ms) and/or
// VP8-shaped video (configurable bitrate and fps, frames split into packets of
// at most kMaxRtpPacket bytes, a keyframe every N seconds and on PLI/FIR).
// With simulcast the video is 2 or 3 independent layers (rids l[,m],h, each
// its own SSRC, sequence, timestamp and bitrate, RID extension on every
// packet, RFC 8852/8853); periodic keyframes go out on every layer, a PLI
// asks only the layer whose SSRC it names.
// Paced by the runner's timer through Tick(now); never busy-loops. Answers
// RTCP like a browser sender: PLI/FIR force a keyframe, NACKs are counted,
// sender reports go out once per second. One event-loop thread; the peer and
// the RunMetrics are not owned.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bench_peer.h"
#include "rtc/byte_io.h"
#include "run_metrics.h"

namespace aegis::bench {

struct MediaConfig {
  bool audio = true;
  bool video = true;
  uint32_t video_kbps = 1000;
  uint32_t fps = 30;
  double keyframe_interval_s = 3.0;
  size_t audio_payload_bytes = 100;
  // Simulcast video layers: 1 (off), 2 (rids l,h) or 3 (rids l,m,h).
  uint32_t simulcast_layers = 1;
};

inline constexpr uint32_t kMaxSimulcastLayers = 3;

// The rids of `layers` simulcast layers, lowest first (a=simulcast order, the
// server's layer order); empty for 1.
std::vector<std::string> SimulcastRids(uint32_t layers);
// A layer's bitrate: the top layer is --video-kbps; below it 1/3 (m) and 1/8
// (l) of it, about what libwebrtc sends for scaleResolutionDownBy 4/2/1; at
// least 30 kbit/s. Without simulcast, video_kbps.
uint32_t LayerKbps(const MediaConfig& config, size_t layer);

class MediaPublisher {
 public:
  // One video stream: the only one, or a simulcast layer (rid set).
  struct VideoStream {
    StreamSendState* state = nullptr;  // owned by the runner's registry
    uint32_t ssrc = 0;
    std::string rid;  // empty: no simulcast
  };

  // `audio` and the video streams' states are owned by the runner's
  // registry; `video` is empty for audio only, else lowest layer first.
  MediaPublisher(BenchPeer* peer, RunMetrics* metrics, const MediaConfig& config,
                 StreamSendState* audio, uint32_t audio_ssrc, std::vector<VideoStream> video);

  void set_payload_types(uint8_t opus, uint8_t vp8) {
    opus_pt_ = opus;
    vp8_pt_ = vp8;
  }
  // Starts the clocks; packets are due from `now_ns` on.
  void Start(uint64_t now_ns);
  void Stop() { running_ = false; }
  bool running() const { return running_; }
  bool ever_started() const { return ever_started_; }
  // Sends every packet due at `now_ns` (catching up at most kMaxLagNs).
  void Tick(uint64_t now_ns);
  // Once per second: sender reports.
  void SendReports(uint64_t now_ns);
  void OnRtcp(std::span<const uint8_t> compound);

  // Frame sizes (bytes of payload) for a bitrate, exposed for tests.
  static size_t DeltaFrameBytes(const MediaConfig& config);
  static size_t KeyFrameBytes(const MediaConfig& config);
  // The RTP header every packet starts with (MID, and RID when `rid` is not
  // empty), exposed for tests.
  static bool WriteRtpHeader(rtc::ByteWriter& w, uint8_t pt, bool marker, uint16_t seq, uint32_t ts,
                             uint32_t ssrc, char mid, std::string_view rid);

 private:
  // Send state of one video stream (layer).
  struct VideoLayer {
    VideoStream stream;
    MediaConfig config;  // video_kbps = this layer's bitrate
    uint16_t seq = 0;
    uint32_t ts = 0;
    uint16_t picture_id = 0;
    uint64_t octets = 0;
    uint64_t last_keyframe_ns = 0;
    bool keyframe_requested = true;  // the first frame is a keyframe
  };

  void SendAudio(uint64_t send_ns);
  void SendVideoFrame(VideoLayer& layer, uint64_t send_ns);

  // Passed by argument.
  BenchPeer* peer_;
  RunMetrics* metrics_;
  MediaConfig config_;
  StreamSendState* audio_;
  uint32_t audio_ssrc_;
  // Allocated by this.
  std::vector<VideoLayer> video_;  // lowest layer first
  uint8_t opus_pt_ = 111;
  uint8_t vp8_pt_ = 96;
  bool running_ = false;
  bool ever_started_ = false;
  uint64_t next_audio_ns_ = 0;
  uint64_t next_frame_ns_ = 0;
  uint16_t audio_seq_ = 0;
  uint32_t audio_ts_ = 0;
  uint64_t audio_octets_ = 0;
};

}  // namespace aegis::bench
