// Internal to net/: the server side of one upgraded WebSocket connection, and
// IoGate, through which other threads post to the io thread. A session owns
// the TLS stream the HTTP session handed over and is kept alive by its pending
// operations; applications only ever hold its WebSocketConnection handle.
// io thread only, except IoGate and the handle. Peer frames are untrusted.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "net/http_types.h"
#include "net/websocket.h"

namespace aegis::net {

using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// Posts to an io_context until closed. Shared (hence shared_ptr) by the server
// and every connection handle, since applications may keep handles, and call
// them from any thread, after the server and its io_context are gone.
class IoGate {
 public:
  explicit IoGate(boost::asio::io_context& ioc) : ioc_(&ioc) {}

  // False (and `fn` destroyed unrun) once closed. Thread-safe.
  bool Post(std::function<void()> fn);
  // Further posts are refused. Thread-safe; call before the io_context dies.
  void Close();

 private:
  std::mutex mu_;
  boost::asio::io_context* ioc_;  // null once closed; not owned
};

struct WebSocketLimits {
  size_t max_message_bytes = 0;
  size_t max_queued_bytes = 0;
  std::chrono::milliseconds handshake_timeout{0};  // accept and close handshakes
  std::chrono::milliseconds idle_timeout{0};
};

class WebSocketHandle;

class WebSocketSession : public std::enable_shared_from_this<WebSocketSession> {
 public:
  // Implemented by the server, which counts the connection until then.
  class Listener {
   public:
    virtual ~Listener() = default;
    // From the destructor: the socket is closed and nothing is pending.
    virtual void OnWebSocketSessionEnded(uint64_t id, const std::string& limit_key) = 0;
  };

  WebSocketSession(Listener& listener, WebSocketHandler& handler, const WebSocketLimits& limits,
                   std::shared_ptr<IoGate> gate, uint64_t id, std::string client_ip,
                   std::string limit_key, TlsStream stream);
  ~WebSocketSession();

  WebSocketSession(const WebSocketSession&) = delete;
  WebSocketSession& operator=(const WebSocketSession&) = delete;

  // Answers the upgrade request (already checked with websocket::is_upgrade),
  // then calls OnOpen and starts reading.
  void Start(boost::beast::http::request<boost::beast::http::string_body> req, HttpRequest upgrade);

  // Called through the handle (posted to the io thread).
  void Enqueue(std::string text);
  void RequestClose(uint16_t code, std::string reason);
  void CloseSlowConsumer();

  // Server stopping: 1001 after what is queued, or abandon the handshake.
  void CloseGoingAway();
  // Closes the socket now; OnClose (if opened) has run when this returns.
  void Abort();

 private:
  using WsStream = boost::beast::websocket::stream<TlsStream, /*deflateSupported=*/false>;

  void OnAccept(boost::beast::error_code ec);
  void DoRead();
  void OnRead(boost::beast::error_code ec, size_t bytes);
  void MaybeWrite();
  void OnWrite(boost::beast::error_code ec);
  void OnCloseSent(boost::beast::error_code ec);
  void Finish(boost::beast::error_code ec);
  void DropQueue();
  // Runs a handler callback; false when it threw (then logged).
  bool Invoke(const char* callback, const std::function<void()>& fn);

  // Passed by argument.
  Listener& listener_;
  WebSocketHandler& handler_;
  const WebSocketLimits limits_;
  const std::shared_ptr<IoGate> gate_;
  const uint64_t id_;
  const std::string client_ip_;  // full address; MaskIp before logging
  const std::string limit_key_;

  // Allocated by this. The handle is shared with the application.
  WsStream ws_;
  std::shared_ptr<WebSocketHandle> handle_;
  std::shared_ptr<WebSocketConnection> conn_;  // handle_, as the handler sees it
  boost::beast::http::request<boost::beast::http::string_body> upgrade_req_;  // until accepted
  HttpRequest upgrade_;
  boost::beast::flat_buffer read_buf_;
  std::deque<std::string> queue_;  // front is being written while writing_
  bool accepting_ = false;
  bool opened_ = false;    // OnOpen called: OnClose is owed
  bool finished_ = false;  // read loop over (or aborted); OnClose called
  bool writing_ = false;
  bool close_requested_ = false;
  bool close_started_ = false;
  boost::beast::websocket::close_reason close_reason_;
};

}  // namespace aegis::net
