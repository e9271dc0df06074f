// UdpSocket: one non-blocking UDP socket of a media worker with batched I/O
// (recvmmsg / sendmmsg). Receive and send buffers are allocated once at
// construction and reused, so the steady state allocates nothing per packet.
// Outgoing datagrams are written straight into a send slot (AcquireSendSlot /
// CommitSendSlot, so SRTP can protect in place) and leave in one sendmmsg
// per Flush() or when the queue is full. Flush() groups the queue by
// destination (order to one destination is kept) and sends each run of
// equal-size datagrams to one destination as one UDP GSO message
// (UDP_SEGMENT). Owned by one worker thread; not thread-safe. Received bytes
// are untrusted.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "rtc/endpoint.h"

namespace aegis::sfu {

// Buffer size per datagram: the largest datagram we accept (1500) plus room
// for the SRTP/SRTCP tag written in place.
inline constexpr size_t kDatagramBufferSize = 1536;

struct UdpSocketOptions {
  // Coalesce same-destination runs of equal-size datagrams into one UDP GSO
  // message. Turned off for good by the socket itself if the kernel or the
  // route refuses GSO on the first try.
  bool gso = true;
  // Datagrams queued before the queue sends itself without a Flush() (1 to
  // 1024). GSO can only coalesce within one queue: in a fan-out to N
  // destinations a run to one destination is at most send_queue / N long.
  size_t send_queue = 32;
  // Ask the kernel for each datagram's arrival time (SO_TIMESTAMPNS):
  // receive_time_ns(). For measuring clients (aegis-bench): the time a
  // datagram reached the socket, not when the program got round to it.
  bool receive_timestamps = false;
};

class UdpSocket {
 public:
  static constexpr size_t kBatch = 32;  // datagrams per Receive()
  // Kernel limits for one GSO message (UDP_MAX_SEGMENTS is 64 on older
  // kernels; the total stays below the 64 KiB IP datagram).
  static constexpr size_t kMaxGsoSegments = 64;
  static constexpr size_t kMaxGsoBytes = 65000;
  using Options = UdpSocketOptions;

  struct Stats {
    uint64_t received = 0;
    uint64_t sent = 0;          // datagrams (a GSO message counts its segments)
    uint64_t send_dropped = 0;  // datagrams lost to EAGAIN or an error (UDP: not retried)
    uint64_t truncated = 0;     // larger than the buffer: dropped
    uint64_t recv_syscalls = 0;
    uint64_t send_syscalls = 0;
    uint64_t gso_segments = 0;   // datagrams that left inside GSO messages
    uint64_t gso_messages = 0;   // GSO messages sent (gso_segments / gso_messages per message)
    uint64_t gso_fallbacks = 0;  // GSO messages refused by the kernel and resent one by one
  };

  // Binds `ip` ("0.0.0.0", "127.0.0.1", "::") and `port` (0: any free one).
  // Errors: net_bad_address, net_bind.
  static Result<std::unique_ptr<UdpSocket>> Bind(const std::string& ip, uint16_t port,
                                                 const Options& options = {});
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  int fd() const { return fd_; }
  uint16_t port() const { return port_; }

  // One recvmmsg; returns how many datagrams arrived (0: nothing pending).
  // Datagram i is received(i) from sender(i), valid until the next call.
  size_t Receive();
  std::span<uint8_t> received(size_t i) { return {recv_buf_[i].data(), recv_len_[i]}; }
  const rtc::Endpoint& sender(size_t i) const { return recv_from_[i]; }
  // When datagram i reached the socket, CLOCK_REALTIME ns (0: not asked for
  // with Options::receive_timestamps, or the kernel gave none).
  uint64_t receive_time_ns(size_t i) const { return recv_time_ns_[i]; }

  // A writable buffer of kDatagramBufferSize bytes for the next datagram.
  std::span<uint8_t> AcquireSendSlot();
  // Queues the first `len` bytes of the slot for `to`; flushes when full.
  void CommitSendSlot(size_t len, const rtc::Endpoint& to);
  // Copies and queues one datagram (handshake and control traffic).
  void Send(std::span<const uint8_t> datagram, const rtc::Endpoint& to);
  // Sends everything queued: one sendmmsg for the whole queue, with GSO
  // runs as single messages. A datagram the kernel refuses is dropped and
  // counted; a GSO message it refuses is resent datagram by datagram.
  void Flush();

  const Stats& stats() const { return stats_; }
  uint64_t gso_segments() const { return stats_.gso_segments; }
  // False if turned off in Options or refused by the kernel.
  bool gso_enabled() const { return gso_enabled_; }
  size_t send_queue_capacity() const { return send_capacity_; }

 private:
  UdpSocket(int fd, uint16_t port, const Options& options);

  // Fills msgs_/iov_/cmsg_ from the queue; returns the number of messages.
  size_t BuildMessages();
  // Appends one message to msgs_ for queue entries order_[first, first+count).
  void AddMessage(size_t message, size_t first, size_t count);
  // sendmmsg over msgs[0, count) until every message is sent or dropped.
  void SendMessages(mmsghdr* msgs, size_t count);
  // Resends the datagrams of a refused GSO message one by one.
  void SendSegmentsOneByOne(const mmsghdr& gso_message);

  // Allocated by this (fixed for the socket's life).
  int fd_;
  uint16_t port_;
  std::vector<std::array<uint8_t, kDatagramBufferSize>> recv_buf_;
  std::vector<size_t> recv_len_;
  std::vector<rtc::Endpoint> recv_from_;
  std::vector<sockaddr_storage> recv_addr_;
  struct TimestampControl {
    alignas(cmsghdr) std::array<uint8_t, CMSG_SPACE(sizeof(timespec))> bytes;
  };
  std::vector<TimestampControl> recv_cmsg_;  // empty: no timestamps asked for
  std::vector<uint64_t> recv_time_ns_;
  std::vector<std::array<uint8_t, kDatagramBufferSize>> send_buf_;
  std::vector<size_t> send_len_;
  std::vector<sockaddr_storage> send_addr_;
  std::vector<socklen_t> send_addr_len_;
  size_t send_capacity_;
  size_t send_count_ = 0;
  // Flush() scratch, sized for a full queue so it never allocates.
  struct GsoControl {
    alignas(cmsghdr) std::array<uint8_t, CMSG_SPACE(sizeof(uint16_t))> bytes;
  };
  std::vector<mmsghdr> msgs_;        // one per message
  std::vector<iovec> iov_;           // one per datagram, in send order
  std::vector<GsoControl> cmsg_;     // one per message
  std::vector<uint64_t> dest_hash_;  // per queue entry
  std::vector<uint16_t> next_same_;  // per queue entry: next entry to its destination
  std::vector<uint16_t> group_head_;
  std::vector<uint16_t> group_tail_;
  std::vector<uint16_t> order_;        // queue entries grouped by destination
  std::vector<uint16_t> group_table_;  // open addressing: destination -> group + 1
  std::array<mmsghdr, kMaxGsoSegments> split_msgs_{};
  bool gso_enabled_;
  bool gso_confirmed_ = false;  // a GSO message went out: later refusals are per route
  Stats stats_;
};

}  // namespace aegis::sfu
