// HTTPS/1.1 listener (Boost.Beast over OpenSSL, policy from tls_policy.h).
// One io_context on one thread owned by the server; connections are served
// asynchronously (no thread per connection). Each request is converted to an
// HttpRequest and passed to the Handler on that io thread; the handler must
// not block for long and its exceptions are turned into 500s. Peers are
// untrusted: body/header limits, timeouts and connection caps (in total and
// per client address) apply, and no error raised by a peer escapes the server.
// Start/Stop/port may be called from any thread; Stop is idempotent.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "net/http_types.h"

namespace aegis::net {

struct HttpsServerOptions {
  std::string host = "127.0.0.1";                    // IP literal or "localhost"
  uint16_t port = 0;                                 // 0: any free port (see HttpsServer::port())
  std::string cert_file;                             // PEM chain
  std::string key_file;                              // PEM private key
  size_t max_body_bytes = 1 << 20;                   // larger bodies: 413
  size_t max_header_bytes = size_t{16} * 1024;       // larger header blocks: 431
  size_t max_connections = 1024;                     // further connections are closed at accept
  size_t max_connections_per_ip = 64;                // per ConnectionLimitKey; same, before TLS
  std::chrono::milliseconds request_timeout{15000};  // per request read/write
  std::chrono::milliseconds handshake_timeout{10000};
};

// Splits "HOST:PORT" / "[v6]:PORT". False on anything malformed.
bool ParseHostPort(std::string_view text, std::string* host, uint16_t* port);

// What max_connections_per_ip counts under, for a peer address in text form:
// an IPv4 address (also when IPv4-mapped) as is, an IPv6 address by its /64,
// since one client usually holds a whole /64. Empty when `ip` is not an address.
std::string ConnectionLimitKey(std::string_view ip);

class HttpsServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  // Loads the certificate, binds and starts serving on a new io thread.
  // Errors: tls_* (certificate/key), net_bad_address, net_bind.
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

  // Stops accepting, closes idle connections, lets requests in flight finish
  // (their responses carry "Connection: close") for up to `grace`, then
  // closes whatever remains and joins the io thread. Blocks until done.
  void Stop(std::chrono::milliseconds grace);

  class Impl;

 private:
  explicit HttpsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace aegis::net
