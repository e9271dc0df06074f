// The per-worker media counters aegisd exports on /metrics: one table, so
// the description (router.cc) and the refresh (daemon.cc) cannot drift
// apart. Constant data; thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "sfu/worker.h"

namespace aegis::aegisd {

struct MediaMetric {
  const char* name;
  const char* type;  // Prometheus type: counter or gauge
  const char* help;
  std::atomic<uint64_t> sfu::WorkerCounters::*counter;
};

inline constexpr std::array<MediaMetric, 22> kMediaMetrics = {{
    {"aegis_media_rtp_received_total", "counter",
     "RTP datagrams received by each media worker (before SRTP checks).",
     &sfu::WorkerCounters::rtp_in},
    {"aegis_media_rtp_sent_total", "counter",
     "RTP packets forwarded to subscribers by each media worker.", &sfu::WorkerCounters::rtp_out},
    {"aegis_media_rtcp_received_total", "counter",
     "Authenticated RTCP compounds received by each media worker.", &sfu::WorkerCounters::rtcp_in},
    {"aegis_media_dropped_total", "counter",
     "Datagrams a media worker dropped (unclassifiable, unknown tuple or SSRC).",
     &sfu::WorkerCounters::dropped},
    {"aegis_media_transports", "gauge", "Peer connections on each media worker.",
     &sfu::WorkerCounters::transports},
    {"aegis_media_nack_received_total", "counter",
     "Sequence numbers subscribers NACKed (docs/MEDIA.md, loss recovery).",
     &sfu::WorkerCounters::nack_in},
    {"aegis_media_retransmitted_total", "counter",
     "Repairs sent to subscribers from the packet history.", &sfu::WorkerCounters::retransmitted},
    {"aegis_media_nack_sent_total", "counter", "Sequence numbers the worker NACKed to publishers.",
     &sfu::WorkerCounters::nack_out},
    {"aegis_media_rtx_received_total", "counter", "RTX repairs received from publishers.",
     &sfu::WorkerCounters::rtx_in},
    {"aegis_media_duplicates_total", "counter", "Packets received twice and forwarded once.",
     &sfu::WorkerCounters::duplicates},
    {"aegis_media_bwe_probes_ok_total", "counter",
     "Downlink probe clusters that proved a higher rate (docs/MEDIA.md).",
     &sfu::WorkerCounters::probes_ok},
    {"aegis_media_bwe_probes_failed_total", "counter",
     "Downlink probe clusters that did not arrive at the rate they were sent.",
     &sfu::WorkerCounters::probes_failed},
    {"aegis_media_layer_switches_total", "counter", "Simulcast layer changes towards subscribers.",
     &sfu::WorkerCounters::layer_switches},
    {"aegis_media_producers", "gauge",
     "Producers on each media worker, relayed copies included (docs/MEDIA.md).",
     &sfu::WorkerCounters::producers},
    {"aegis_media_relay_sent_total", "counter",
     "Messages a media worker handed to another worker's relay ring (fan-out).",
     &sfu::WorkerCounters::relay_out},
    {"aegis_media_relay_received_total", "counter",
     "Relayed packets a media worker received from other workers.", &sfu::WorkerCounters::relay_in},
    {"aegis_media_relay_dropped_total", "counter",
     "Relay messages dropped because the target worker's ring was full.",
     &sfu::WorkerCounters::relay_dropped},
    {"aegis_media_relay_repaired_total", "counter",
     "Packets a media worker sent through a relay ring again because the other worker's copy "
     "missed them (dropped by a full ring).",
     &sfu::WorkerCounters::relay_repaired},
    {"aegis_media_udp_sent_total", "counter", "Datagrams each media worker's UDP socket sent.",
     &sfu::WorkerCounters::udp_sent},
    {"aegis_media_udp_send_syscalls_total", "counter",
     "sendmmsg calls of each media worker (media.send_queue, docs/MEDIA.md \"Send batching\").",
     &sfu::WorkerCounters::udp_send_syscalls},
    {"aegis_media_udp_gso_segments_total", "counter",
     "Datagrams that left inside UDP GSO messages (several to one subscriber in one message).",
     &sfu::WorkerCounters::udp_gso_segments},
    {"aegis_media_udp_send_dropped_total", "counter",
     "Datagrams the kernel refused to send (full socket buffer or an error).",
     &sfu::WorkerCounters::udp_send_dropped},
}};

}  // namespace aegis::aegisd
