// MediaPublisher: the synthetic media of one publishing client, sent through
// its BenchPeer: Opus-shaped audio (one ~100-byte packet per 20 ms) and/or
// VP8-shaped video (configurable bitrate and fps, frames split into packets of
// at most kMaxRtpPacket bytes, a keyframe every N seconds and on PLI/FIR).
// Paced by the runner's timer through Tick(now); never busy-loops. Answers
// RTCP like a browser sender: PLI/FIR force a keyframe, NACKs are counted,
// sender reports go out once per second. One event-loop thread; the peer and
// the RunMetrics are not owned.
#pragma once

#include <cstdint>
#include <span>

#include "bench_peer.h"
#include "run_metrics.h"

namespace aegis::bench {

struct MediaConfig {
  bool audio = true;
  bool video = true;
  uint32_t video_kbps = 1000;
  uint32_t fps = 30;
  double keyframe_interval_s = 3.0;
  size_t audio_payload_bytes = 100;
};

class MediaPublisher {
 public:
  // `audio`/`video` stream states are owned by the runner's registry.
  MediaPublisher(BenchPeer* peer, RunMetrics* metrics, const MediaConfig& config,
                 StreamSendState* audio, uint32_t audio_ssrc, StreamSendState* video,
                 uint32_t video_ssrc);

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

 private:
  void SendAudio(uint64_t send_ns);
  void SendVideoFrame(uint64_t send_ns);

  // Passed by argument.
  BenchPeer* peer_;
  RunMetrics* metrics_;
  MediaConfig config_;
  StreamSendState* audio_;
  StreamSendState* video_;
  uint32_t audio_ssrc_;
  uint32_t video_ssrc_;
  // Allocated by this.
  uint8_t opus_pt_ = 111;
  uint8_t vp8_pt_ = 96;
  bool running_ = false;
  bool ever_started_ = false;
  uint64_t next_audio_ns_ = 0;
  uint64_t next_frame_ns_ = 0;
  uint64_t last_keyframe_ns_ = 0;
  bool keyframe_requested_ = true;  // the first frame is a keyframe
  uint16_t audio_seq_ = 0;
  uint16_t video_seq_ = 0;
  uint32_t audio_ts_ = 0;
  uint32_t video_ts_ = 0;
  uint16_t picture_id_ = 0;
  uint64_t audio_octets_ = 0;
  uint64_t video_octets_ = 0;
};

}  // namespace aegis::bench
