// WebSocket (RFC 6455) endpoint of the HTTPS server (net/https_server.h): the
// application implements WebSocketHandler; the server owns each connection and
// lends it out as a shared WebSocketConnection handle, which stays safe to call
// (as a no-op) after the connection or the server is gone. Handler callbacks
// run on the server's io thread, one at a time. Everything a peer sends is
// untrusted; the upgrade request's Origin is not checked here (do it in OnOpen).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/http_types.h"

namespace aegis::net {

// Close codes used by the server (RFC 6455 §7.4.1).
inline constexpr uint16_t kWsCloseNormal = 1000;
inline constexpr uint16_t kWsCloseGoingAway = 1001;        // server stopping
inline constexpr uint16_t kWsCloseUnsupportedData = 1003;  // binary message
inline constexpr uint16_t kWsClosePolicyViolation = 1008;  // slow consumer
inline constexpr uint16_t kWsCloseMessageTooBig = 1009;    // over max message bytes
inline constexpr uint16_t kWsCloseInternalError = 1011;    // a handler threw

// One accepted WebSocket connection. SendText and Close may be called from any
// thread: they post to the io thread, so their effects follow call order.
class WebSocketConnection {
 public:
  virtual ~WebSocketConnection() = default;

  // Queues one text message; messages are written in order. If the bytes
  // queued but not yet written would exceed
  // HttpsServerOptions::websocket_max_queued_bytes, the message is dropped and
  // the connection is closed with 1008 (slow consumer). Dropped after Close.
  virtual void SendText(std::string text) = 0;
  // Writes what is already queued, then a close frame with `code` (one not
  // allowed on the wire, RFC 6455 §7.4, is sent as 1000) and `reason`
  // (truncated to 123 bytes). Idempotent: only the first call counts.
  virtual void Close(uint16_t code, std::string reason) = 0;
  // Peer address (full: personal data, MaskIp before logging).
  virtual const std::string& client_ip() const = 0;
  // Unique among the connections of one server.
  virtual uint64_t id() const = 0;
};

// Implemented by the application (the signalling server). All callbacks run on
// the HTTPS io thread, one at a time; they must not block for long, and must
// not call HttpsServer::Stop. An exception thrown by a callback is logged and
// closes that connection (1011); the server carries on.
class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;

  // The handshake completed. `upgrade` is the HTTP request that asked for it
  // (path, query, headers, client_ip; untrusted).
  virtual void OnOpen(const std::shared_ptr<WebSocketConnection>& conn,
                      const HttpRequest& upgrade) = 0;
  // One complete text message (valid UTF-8, checked by the server).
  virtual void OnText(const std::shared_ptr<WebSocketConnection>& conn, std::string_view text) = 0;
  // Exactly once per connection that got OnOpen, whatever ended it (either
  // side closing, errors, timeouts, HttpsServer::Stop). No OnText follows.
  virtual void OnClose(const std::shared_ptr<WebSocketConnection>& conn) = 0;
  // Every HttpsServerOptions::tick_interval while the server runs (timeouts).
  virtual void OnTick() {}
};

}  // namespace aegis::net
