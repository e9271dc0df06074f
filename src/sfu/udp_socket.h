// UdpSocket: one non-blocking UDP socket of a media worker with batched I/O
// (recvmmsg / sendmmsg). Receive and send buffers are allocated once at
// construction and reused, so the steady state allocates nothing per packet.
// Outgoing datagrams are written straight into a send slot (AcquireSendSlot /
// CommitSendSlot, so SRTP can protect in place) and leave in one sendmmsg
// per Flush() or when the batch is full. Owned by one worker thread; not
// thread-safe. Received bytes are untrusted.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
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

class UdpSocket {
 public:
  static constexpr size_t kBatch = 32;

  struct Stats {
    uint64_t received = 0;
    uint64_t sent = 0;
    uint64_t send_dropped = 0;  // EAGAIN or error: UDP, the datagram is lost
    uint64_t truncated = 0;     // larger than the buffer: dropped
    uint64_t recv_syscalls = 0;
    uint64_t send_syscalls = 0;
  };

  // Binds `ip` ("0.0.0.0", "127.0.0.1", "::") and `port` (0: any free one).
  // Errors: net_bad_address, net_bind.
  static Result<std::unique_ptr<UdpSocket>> Bind(const std::string& ip, uint16_t port);
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

  // A writable buffer of kDatagramBufferSize bytes for the next datagram.
  std::span<uint8_t> AcquireSendSlot();
  // Queues the first `len` bytes of the slot for `to`; flushes when full.
  void CommitSendSlot(size_t len, const rtc::Endpoint& to);
  // Copies and queues one datagram (handshake and control traffic).
  void Send(std::span<const uint8_t> datagram, const rtc::Endpoint& to);
  // Sends everything queued (one sendmmsg per kBatch datagrams).
  void Flush();

  const Stats& stats() const { return stats_; }

 private:
  UdpSocket(int fd, uint16_t port);

  // Allocated by this (fixed for the socket's life).
  int fd_;
  uint16_t port_;
  std::vector<std::array<uint8_t, kDatagramBufferSize>> recv_buf_;
  std::vector<size_t> recv_len_;
  std::vector<rtc::Endpoint> recv_from_;
  std::vector<sockaddr_storage> recv_addr_;
  std::vector<std::array<uint8_t, kDatagramBufferSize>> send_buf_;
  std::vector<size_t> send_len_;
  std::vector<sockaddr_storage> send_addr_;
  std::vector<socklen_t> send_addr_len_;
  size_t send_count_ = 0;
  Stats stats_;
};

}  // namespace aegis::sfu
