// TcpServer: the ICE-TCP passive listener of one media worker (RFC 6544).
// Accepts connections on the worker's io_context, splits each stream into
// RFC 4571 frames (2-byte big-endian length, at most kMaxTcpFrame bytes) and
// hands every frame up through its Listener as a packet from an rtc::Tuple
// (protocol kTcp, a connection id that is never reused). Sends are framed and
// queued per connection (bounded; dropped when full). Connections are bounded
// in number and closed if not authenticated (MarkAuthenticated) in time, on
// a malformed stream, or on any socket error. Owned by one worker thread;
// not thread-safe. Received bytes are untrusted.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "rtc/tuple.h"

namespace aegis::sfu {

// The largest frame accepted, as the largest UDP datagram (udp_socket.h).
inline constexpr size_t kMaxTcpFrame = 1500;

class TcpServer {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // One frame from `from`; the bytes may be modified in place and are
    // valid during the call only. The listener may Close() any connection.
    virtual void OnTcpFrame(std::span<uint8_t> frame, const rtc::Tuple& from) = 0;
    // After the frames of one read (e.g. to flush batched UDP sends).
    virtual void OnTcpReadDone() = 0;
    // The connection closed by the peer, an error or a limit (not by Close()).
    virtual void OnTcpClosed(const rtc::Tuple& tuple) = 0;
  };

  struct Options {
    size_t max_connections = 1000;
    // A connection without a valid STUN check after this long is closed.
    std::chrono::milliseconds unauthenticated_timeout{10'000};
    size_t max_queued_frames = 256;  // per connection
  };

  struct Stats {
    uint64_t accepted = 0;
    uint64_t rejected = 0;  // over max_connections
    uint64_t closed_unauthenticated = 0;
    uint64_t closed_malformed = 0;
    uint64_t frames_in = 0;
    uint64_t frames_out = 0;
    uint64_t send_dropped = 0;  // queue full or unknown connection
  };

  // Binds `ip`:`port` (0: any free port) on `io` and starts accepting.
  // `listener` is not owned and outlives this. Errors: net_bad_address, net_bind.
  static Result<std::unique_ptr<TcpServer>> Listen(boost::asio::io_context& io,
                                                   const std::string& ip, uint16_t port,
                                                   Options options, Listener* listener);
  ~TcpServer();
  TcpServer(const TcpServer&) = delete;
  TcpServer& operator=(const TcpServer&) = delete;

  uint16_t port() const { return port_; }
  size_t connections() const { return connections_.size(); }
  const Stats& stats() const { return stats_; }

  // Frames `packet` and queues it on `to`'s connection; dropped if the
  // connection is gone or its queue is full.
  void Send(const rtc::Tuple& to, std::span<const uint8_t> packet);
  // The connection passed an ICE check: no unauthenticated deadline any more.
  void MarkAuthenticated(uint32_t connection_id);
  // Closes without calling OnTcpClosed. Unknown ids are ignored.
  void Close(uint32_t connection_id);

 private:
  struct Connection;

  TcpServer(boost::asio::io_context& io, Options options, Listener* listener);
  void Accept();
  void StartRead(Connection& c);
  void OnRead(uint32_t id, size_t n);
  void StartWrite(Connection& c);
  // Closes and calls OnTcpClosed.
  void CloseAndNotify(uint32_t id);

  // Passed by argument.
  Options options_;
  Listener* listener_;
  // Allocated by this.
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_;
  uint16_t port_ = 0;
  uint32_t next_id_ = 1;
  std::unordered_map<uint32_t, std::unique_ptr<Connection>> connections_;
  Stats stats_;
};

}  // namespace aegis::sfu
