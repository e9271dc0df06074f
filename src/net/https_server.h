// HTTPS/1.1 listener (Boost.Beast over OpenSSL, policy from tls_policy.h) with
// an optional WebSocket endpoint (net/websocket.h). One io_context on one thread
// owned by the server serves every connection asynchronously; the Handler and
// WebSocketHandler run there, must not block, and their exceptions are contained.
// Peers are untrusted: size limits, timeouts and connection caps (in total and
// per address) apply. Start/Stop/Post/port are thread-safe; Stop is idempotent.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "net/http_types.h"
#include "net/websocket.h"

namespace aegis::net {

struct HttpsServerOptions {
  std::string host = "127.0.0.1";                      // IP literal or "localhost"
  uint16_t port = 0;                                   // 0: any free port (see HttpsServer::port())
  std::string cert_file;                               // PEM chain
  std::string key_file;                                // PEM private key
  size_t max_body_bytes = 1 << 20;                     // larger bodies: 413
  size_t max_header_bytes = size_t{16} * 1024;         // larger header blocks: 431
  size_t max_connections = 1024;                       // further connections are closed at accept
  size_t max_connections_per_ip = 64;                  // per ConnectionLimitKey; same, before TLS
  std::chrono::milliseconds request_timeout{15000};    // per request read/write
  std::chrono::milliseconds handshake_timeout{10000};  // TLS, and WebSocket open/close

  // WebSocket endpoint. A GET on websocket_path asking for an upgrade is
  // upgraded and handed to websocket_handler; any other request on that path
  // gets 426. Upgraded connections keep counting toward the connection caps.
  std::string websocket_path;                              // e.g. "/signal"; empty: no WebSocket
  WebSocketHandler* websocket_handler = nullptr;           // not owned; must outlive the server
  size_t websocket_max_message_bytes = size_t{64} * 1024;  // larger messages: close 1009
  size_t websocket_max_queued_bytes = size_t{4} << 20;     // per connection; more: close 1008
  // Silent peer (no frame, e.g. a dead TCP path): pinged after half of this,
  // dropped after all of it (Beast's keep-alive pings).
  std::chrono::milliseconds websocket_idle_timeout{30000};
  // Period of WebSocketHandler::OnTick (when websocket_handler is set).
  std::chrono::milliseconds tick_interval{1000};
};

// Splits "HOST:PORT" / "[v6]:PORT". False on anything malformed.
bool ParseHostPort(std::string_view text, std::string* host, uint16_t* port);

// What max_connections_per_ip counts under, for a peer address in text form:
// an IPv4 address (also when IPv4-mapped) as is, an IPv6 address by its /64,
// since one client usually holds a whole /64. Empty when `ip` is not an address.
std::string ConnectionLimitKey(std::string_view ip);

class HttpsServer {
 public:
  // For HEAD the server drops the returned body and sends as Content-Length
  // the handler's "content-length" header if set, else the body's size.
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  // Loads the certificate, binds and starts serving on a new io thread.
  // Errors: tls_* (certificate/key), net_bad_address, net_bind,
  // net_bad_options (websocket_path without handler or not starting with '/',
  // non-positive tick_interval or websocket_idle_timeout).
  static Result<std::unique_ptr<HttpsServer>> Start(const HttpsServerOptions& options,
                                                    Handler handler);
  ~HttpsServer();  // Stop(0) if still running

  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  // The bound port (the real one when options.port was 0).
  uint16_t port() const;
  // "HOST:PORT" as bound ("[::1]:8443" for IPv6).
  std::string address() const;
  // Open connections right now (handshaking, idle or busy).
  size_t connection_count() const;

  // Runs `fn` on the io thread, after everything posted before it; for other
  // threads (e.g. media workers) handing results to the WebSocket handler.
  // An exception from `fn` is logged. Once Stop has begun tearing down the
  // loop, `fn` is dropped without running (destroyed on some thread).
  void Post(std::function<void()> fn);

  // Stops accepting, closes idle connections, sends open WebSockets a 1001
  // close (after what is already queued), lets requests in flight finish
  // (their responses carry "Connection: close") for up to `grace`, then
  // closes whatever remains and joins the io thread. OnClose has been called
  // for every opened WebSocket when it returns. Blocks until done; never call
  // it from the io thread (a handler).
  void Stop(std::chrono::milliseconds grace);

  class Impl;

 private:
  explicit HttpsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace aegis::net
