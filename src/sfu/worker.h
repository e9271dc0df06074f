// Media worker (DESIGN.md): one thread with its own io_context, one UDP port,
// one ICE-TCP passive port (RFC 6544, RFC 4571 framing), and every transport, producer and consumer
// of the rooms placed on it. The control plane never touches that state directly: every public
// method except the accessors marked "any thread" posts a closure to the worker's thread and
// returns at once; results come back through the Listener, which is called on the worker thread and
// must hand work to its own thread. Per packet (UDP datagram or TCP frame): RFC 7983 demux →
// transport by tuple (by ICE ufrag for a new STUN check) → SRTP → producer by SSRC (or MID, and RID
// for a simulcast layer) → each consumer rewrites SSRC / sequence number / timestamp / payload type
// (and VP8 picture ids across layer switches) → SRTP → sendmmsg batch.
// Fan-out across workers (docs/MEDIA.md): after ConnectPeers, a producer's
// accepted packets can also be handed to other workers through lock-free
// single-producer rings (one per ordered pair of workers), where a relayed
// copy of the producer feeds that worker's consumers.
// Received bytes are untrusted.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "rtc/dtls/dtls_certificate.h"
#include "rtc/rtp/codecs.h"
#include "rtc/stun/ice_lite.h"
#include "sfu/data_channel_router.h"
#include "sfu/webrtc_transport.h"

namespace aegis::sfu {

enum class MediaKind : uint8_t { kAudio, kVideo };

struct WorkerOptions {
  size_t index = 0;
  std::string listen_ip = "0.0.0.0";
  uint16_t port = 0;  // 0: any free port
  // ICE-TCP passive listener on listen_ip.
  bool tcp_enabled = true;
  uint16_t tcp_port = 0;  // 0: any free port
  size_t tcp_max_connections = 1000;
  // A TCP connection without a valid STUN check after this long is closed.
  std::chrono::milliseconds tcp_unauthenticated_timeout{10'000};
  // Room messages over data channels (room.max_message_bytes / max_messages_per_s).
  DataChannelLimits data_channels;
  // Slots (power of two) of each ring from another worker (ConnectPeers);
  // a slot holds one packet, so a ring takes about 1.5 KiB per slot.
  size_t relay_ring_slots = 512;
  // Datagrams the UDP socket queues before it sends them (media.send_queue,
  // 1 to 1024; UdpSocketOptions::send_queue). A fan-out queues a packet for
  // every subscriber; the deeper the queue, the more packets to one
  // subscriber coalesce into one GSO message and the fewer syscalls a
  // receive batch costs.
  size_t send_queue = 1024;
};

// What the publisher sends on one m-section (from its offer and our answer).
struct ProducerParams {
  uint64_t producer_id = 0;
  uint64_t transport_id = 0;
  MediaKind kind = MediaKind::kAudio;
  std::string mid;
  uint32_t ssrc = 0;             // 0: learn from the first packet carrying `mid`
  uint32_t rtx_ssrc = 0;         // 0: none or learn
  uint8_t mid_extension_id = 0;  // 0: not negotiated
  // Transport-wide sequence number extension: the worker sends transport-cc
  // feedback on the producer's transport; 0: not negotiated.
  uint8_t transport_cc_extension_id = 0;
  // RFC 6464 client-to-mixer audio level (audio only); 0: not negotiated.
  uint8_t audio_level_extension_id = 0;
  // RFC 4588 RTX payload types and the payload type each repairs (apt).
  struct RtxCodec {
    uint8_t payload_type = 0;
    uint8_t apt = 0;
  };
  std::vector<RtxCodec> rtx_codecs;
  // Simulcast (RFC 8853): the layers' rids in a=simulcast order, lowest first
  // (layer 0); at most Worker::kMaxLayers. Empty: one stream. Each layer's
  // SSRC (and its RTX SSRC) is learnt from the RID (repaired RID) extension.
  std::vector<std::string> rids;
  uint8_t rid_extension_id = 0;           // RFC 8852 rtp-stream-id
  uint8_t repaired_rid_extension_id = 0;  // RFC 8852 repaired-rtp-stream-id
  // Video codec of each publisher payload type: layer switches wait for a
  // keyframe, which needs the codec to recognise (rtc/rtp/codecs.h).
  struct VideoCodecInfo {
    uint8_t payload_type = 0;
    rtc::VideoCodec codec = rtc::VideoCodec::kUnknown;
  };
  std::vector<VideoCodecInfo> video_codecs;
  // The publisher answers generic NACKs (a=rtcp-fb nack): the worker asks it
  // for packets lost on the way in.
  bool nack = false;
  bool paused = false;
  // Who gets the downlink first when a subscriber's estimate does not cover
  // every video it receives (docs/MEDIA.md "Allocation"): kPriorityScreen,
  // kPrioritySpeaker (set live with Worker::SetProducerPriority) or 0.
  uint8_t priority = 0;
  static constexpr uint8_t kPriorityNormal = 0;
  static constexpr uint8_t kPrioritySpeaker = 1;
  static constexpr uint8_t kPriorityScreen = 2;
};

// One subscriber's copy of a producer.
struct ConsumerParams {
  uint64_t consumer_id = 0;
  uint64_t transport_id = 0;  // the subscriber's subscribe transport
  uint64_t producer_id = 0;
  uint32_t ssrc = 0;  // what the subscriber sees
  // Publisher payload type → subscriber payload type; kNoPayloadType drops.
  static constexpr uint8_t kNoPayloadType = 0xFF;
  std::array<uint8_t, 128> payload_map = [] {
    std::array<uint8_t, 128> m{};
    m.fill(kNoPayloadType);  // unmapped payload types are dropped, never sent as PT 0
    return m;
  }();
  // RTX towards the subscriber (RFC 4588): its SSRC (0: none negotiated,
  // repairs resend the original packet) and, per subscriber media payload
  // type, the RTX payload type whose apt is that type.
  uint32_t rtx_ssrc = 0;
  std::array<uint8_t, 128> rtx_payload_map = [] {
    std::array<uint8_t, 128> m{};
    m.fill(kNoPayloadType);
    return m;
  }();
};

// One audio producer's loudness over the last level interval, from the RFC
// 6464 extension: 0 (silence) … 100 (0 dBov), linear in dB.
struct AudioLevel {
  uint64_t producer_id = 0;
  uint8_t volume = 0;
};

struct WorkerCounters {
  std::atomic<uint64_t> rtp_in{0};
  std::atomic<uint64_t> rtp_out{0};
  std::atomic<uint64_t> rtcp_in{0};
  std::atomic<uint64_t> dropped{0};
  std::atomic<uint64_t> transports{0};
  std::atomic<uint64_t> producers{0};  // including relayed ones (fan-out)
  // Loss recovery (docs/MEDIA.md).
  std::atomic<uint64_t> nack_in{0};        // sequence numbers NACKed by subscribers
  std::atomic<uint64_t> retransmitted{0};  // answered from the packet history
  std::atomic<uint64_t> nack_out{0};       // sequence numbers NACKed to publishers
  std::atomic<uint64_t> rtx_in{0};         // repairs received from publishers
  std::atomic<uint64_t> duplicates{0};     // packets seen twice, forwarded once
  // Downlink estimation (docs/MEDIA.md).
  std::atomic<uint64_t> probes_ok{0};       // probe clusters that proved a higher rate
  std::atomic<uint64_t> probes_failed{0};   // probe clusters that did not
  std::atomic<uint64_t> layer_switches{0};  // simulcast layer changes towards subscribers
  // Fan-out across workers (docs/MEDIA.md "Fan-out across workers").
  std::atomic<uint64_t> relay_out{0};      // messages handed to other workers' rings
  std::atomic<uint64_t> relay_in{0};       // relayed packets received from other workers
  std::atomic<uint64_t> relay_dropped{0};  // messages dropped: the target's ring was full
  // Packets sent through a ring again because the other worker's copy asked
  // for them (kNack: a full ring had dropped them).
  std::atomic<uint64_t> relay_repaired{0};
  // The UDP socket (copied from UdpSocket::Stats after each flush).
  std::atomic<uint64_t> udp_sent{0};           // datagrams
  std::atomic<uint64_t> udp_send_syscalls{0};  // sendmmsg calls
  std::atomic<uint64_t> udp_gso_segments{0};   // datagrams that left inside GSO messages
  std::atomic<uint64_t> udp_send_dropped{0};   // datagrams the kernel refused
};

class Worker {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // Worker thread. `reason` is for logs.
    virtual void OnTransportStateChanged(size_t worker, uint64_t transport_id, TransportState state,
                                         const std::string& reason) = 0;
    // Worker thread, every kAudioLevelIntervalMs while any audio producer is
    // above kSilenceVolume; `levels` lists only those producers.
    virtual void OnAudioLevels(size_t worker, std::span<const AudioLevel> levels) {
      (void)worker;
      (void)levels;
    }
  };

  static constexpr int64_t kAudioLevelIntervalMs = 300;
  // Simulcast layers per producer, and a consumer's layer preference: 0 is
  // the lowest layer, a larger value means the highest there is, kLayerAuto
  // lets the worker choose from the subscriber's estimate (docs/MEDIA.md).
  static constexpr size_t kMaxLayers = 3;
  static constexpr int kLayerAuto = -1;
  static constexpr int kLayerHigh = 2;
  static constexpr uint8_t kSilenceVolume = 25;  // below: not reported

  // Generates the DTLS certificate, binds the port and starts the thread.
  // Errors: dtls_certificate, net_bind, net_bad_address.
  static Result<std::unique_ptr<Worker>> Start(const WorkerOptions& options, Listener* listener);
  ~Worker();  // Stop()
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Any thread.
  size_t index() const { return options_.index; }
  uint16_t port() const { return port_; }
  uint16_t tcp_port() const { return tcp_port_; }  // 0: ICE-TCP disabled
  const rtc::DtlsCertificate& certificate() const { return *certificate_; }
  const WorkerCounters& counters() const { return counters_; }

  // Posted to the worker thread. Unknown ids are ignored.
  void CreateTransport(uint64_t transport_id, rtc::IceCredentials local_ice);
  void SetRemoteParameters(uint64_t transport_id, std::string ice_ufrag, std::string fp_algorithm,
                           std::string fp_value);
  void CloseTransport(uint64_t transport_id);  // and its producers/consumers
  void AddProducer(ProducerParams params);
  void SetProducerPaused(uint64_t producer_id, bool paused);
  // ProducerParams::priority, changed live (the active speaker's camera).
  void SetProducerPriority(uint64_t producer_id, uint8_t priority);
  // The subscriber accepted the transport-wide sequence number extension
  // (`extension_id`, 1-14) on this subscribe transport: every packet sent on
  // it is numbered, and its transport-cc feedback drives the downlink
  // estimate that chooses its layers under `auto`. 0 turns it off.
  void SetTransportFeedback(uint64_t transport_id, uint8_t extension_id);
  void RemoveProducer(uint64_t producer_id);  // and its consumers
  void AddConsumer(ConsumerParams params);
  void RemoveConsumer(uint64_t consumer_id);
  // Simulcast layer preference (kLayerAuto, 0 = lowest, kLayerHigh); a
  // switch happens at the next keyframe of the new layer, which is requested.
  void SetConsumerPreferredLayer(uint64_t consumer_id, int layer);
  // A paused consumer forwards nothing (an invisible tile); resuming requests
  // a keyframe and continues the subscriber's lines without a gap.
  void SetConsumerPaused(uint64_t consumer_id, bool paused);
  // Puts a publish transport in a room's data route as `user_id` (docs/MEDIA.md
  // "Room messages"): its data channels then exchange messages with the other
  // transports of the same `room_key`. Ends with CloseTransport.
  void SetDataRoute(uint64_t transport_id, std::string room_key, std::string user_id);

  // ---- Fan-out across workers (docs/MEDIA.md) ----
  // Connects every worker of the process to every other: workers[i] must
  // have index() == i. Call once, on the control thread, before any relay;
  // all connected workers must be stopped before any of them is destroyed.
  static void ConnectPeers(std::span<Worker* const> workers);
  // Producer side: every packet of `producer_id` this worker accepts (after
  // RTX decoding and the duplicate check) is also handed, once, to worker
  // `target_worker`, where `relay_id` is its relayed producer. Removing the
  // producer removes the relayed one there too.
  void AddRelay(uint64_t producer_id, size_t target_worker, uint64_t relay_id);
  void RemoveRelay(uint64_t producer_id, size_t target_worker);
  // Consumer side: a producer without a transport (params.producer_id is
  // the relay id; transport_id, NACK, transport-cc and audio level are
  // ignored) fed from worker `source_worker`, where it is `source_producer_id`.
  // Its consumers' NACKs are answered from this worker's history; keyframe
  // requests go back to the source worker.
  void AddRelayedProducer(ProducerParams params, size_t source_worker, uint64_t source_producer_id);
  // Runs `fn` on the worker thread (tests, stats).
  void Post(std::function<void()> fn);

  // Stops the thread; pending closures are dropped. Idempotent.
  void Stop();

  class Impl;

 private:
  Worker(WorkerOptions options, std::unique_ptr<rtc::DtlsCertificate> certificate,
         std::unique_ptr<UdpSocket> socket, Listener* listener);

  // Allocated by this; impl_ borrows the certificate, socket and counters.
  WorkerOptions options_;
  std::unique_ptr<rtc::DtlsCertificate> certificate_;
  uint16_t port_;
  uint16_t tcp_port_ = 0;
  WorkerCounters counters_;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
};

// The worker a room lives on (hash of app + room, stable for a process).
size_t PlaceRoom(uint32_t sdkappid, std::string_view room_key, size_t workers);

}  // namespace aegis::sfu
