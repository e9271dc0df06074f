// WsClient: one WebSocket client connection (RFC 6455) for aegis-bench's
// signalling, over TLS (wss, Aegis) or plain TCP (ws, Janus's API on
// loopback), with an optional subprotocol. Text frames only; outgoing
// messages are queued and written one at a time. The server's messages are
// untrusted and handed to the Listener as strings. TLS verification follows
// the ssl::context the caller passes (verify against a CA file, or accept
// anything only when the user asked for --insecure). Runs on the caller's
// io_context thread; not thread-safe. The implementation is shared-owned by
// its pending asynchronous operations (Beast's completion handlers must keep
// it alive), which is why it uses shared_ptr; the Listener is not owned and
// must outlive the io_context's run().
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <memory>
#include <string>

namespace aegis::bench {

class WsClient {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void OnWsOpen() = 0;
    virtual void OnWsMessage(std::string text) = 0;
    // Connect, handshake, read or write failure, or the server closed.
    virtual void OnWsClosed(const std::string& reason) = 0;
  };

  struct Options {
    std::string host = "127.0.0.1";  // numeric IP (no resolver on the hot loop)
    uint16_t port = 8443;
    std::string target = "/signal";
    std::string subprotocol;                   // e.g. "janus-protocol"
    boost::asio::ssl::context* tls = nullptr;  // nullptr: plain ws://
    std::string sni = "localhost";
    // Local source address (e.g. 127.0.1.7 to spread clients over the
    // loopback /8 like distinct hosts); empty: chosen by the kernel.
    std::string bind_ip;
  };

  WsClient(boost::asio::io_context& io, Options options, Listener* listener);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  void Connect();
  void Send(std::string text);
  // Sends a close frame (or cancels the connect) and stops notifying.
  void Close();
  bool open() const;

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace aegis::bench
