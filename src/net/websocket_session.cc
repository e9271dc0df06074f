#include "net/websocket_session.h"

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <exception>
#include <utility>

#include "core/log.h"
#include "core/mask.h"

namespace aegis::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using beast::error_code;

constexpr const char* kTag = "net";
// RFC 6455 §5.5: a control frame carries at most 125 bytes, 2 of them the code.
constexpr size_t kMaxCloseReasonBytes = 123;

// Codes an endpoint may send (RFC 6455 §7.4.1-2, IANA registry); 1004-1006
// and 1014-1015 are reserved and would make the peer fail the connection.
bool IsSendableCloseCode(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1013) ||
         (code >= 3000 && code <= 4999);
}

// Cuts at most kMaxCloseReasonBytes without splitting a UTF-8 sequence, which
// would make the reason invalid UTF-8 (another reason for the peer to fail).
void TruncateCloseReason(std::string* reason) {
  if (reason->size() <= kMaxCloseReasonBytes) {
    return;
  }
  size_t n = kMaxCloseReasonBytes;
  while (n > 0 && (static_cast<unsigned char>((*reason)[n]) & 0xC0) == 0x80) {
    --n;
  }
  reason->resize(n);
}

}  // namespace

bool IoGate::Post(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (ioc_ == nullptr) {
    return false;
  }
  asio::post(*ioc_, std::move(fn));
  return true;
}

void IoGate::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  ioc_ = nullptr;
}

// What the application holds. Never touches the session directly: every call
// is posted to the io thread and finds the session there, if it still exists.
class WebSocketHandle final : public WebSocketConnection {
 public:
  WebSocketHandle(std::weak_ptr<WebSocketSession> session, std::shared_ptr<IoGate> gate,
                  uint64_t id, std::string client_ip, size_t max_queued_bytes)
      : session_(std::move(session)),
        gate_(std::move(gate)),
        id_(id),
        client_ip_(std::move(client_ip)),
        max_queued_bytes_(max_queued_bytes) {}

  void SendText(std::string text) override {
    const size_t n = text.size();
    // Counted here, not on the io thread, so a producer outrunning the io
    // thread cannot pile up unbounded memory in posted handlers either.
    const size_t before = queued_bytes_.fetch_add(n, std::memory_order_relaxed);
    if (before + n > max_queued_bytes_) {
      queued_bytes_.fetch_sub(n, std::memory_order_relaxed);
      PostToSession([](WebSocketSession& s) { s.CloseSlowConsumer(); });
      return;
    }
    if (!PostToSession([text = std::move(text)](WebSocketSession& s) mutable {
          s.Enqueue(std::move(text));
        })) {
      queued_bytes_.fetch_sub(n, std::memory_order_relaxed);
    }
  }

  void Close(uint16_t code, std::string reason) override {
    PostToSession([code, reason = std::move(reason)](WebSocketSession& s) mutable {
      s.RequestClose(code, std::move(reason));
    });
  }

  const std::string& client_ip() const override { return client_ip_; }
  uint64_t id() const override { return id_; }

  // io thread: `bytes` of SendText data were written or dropped.
  void Release(size_t bytes) { queued_bytes_.fetch_sub(bytes, std::memory_order_relaxed); }

 private:
  bool PostToSession(std::function<void(WebSocketSession&)> fn) {
    return gate_->Post([session = session_, fn = std::move(fn)] {
      if (auto s = session.lock()) {
        fn(*s);
      }
    });
  }

  const std::weak_ptr<WebSocketSession> session_;  // locked on the io thread only
  const std::shared_ptr<IoGate> gate_;
  const uint64_t id_;
  const std::string client_ip_;
  const size_t max_queued_bytes_;
  std::atomic<size_t> queued_bytes_{0};
};

WebSocketSession::WebSocketSession(Listener& listener, WebSocketHandler& handler,
                                   const WebSocketLimits& limits, std::shared_ptr<IoGate> gate,
                                   uint64_t id, std::string client_ip, std::string limit_key,
                                   TlsStream stream)
    : listener_(listener),
      handler_(handler),
      limits_(limits),
      gate_(std::move(gate)),
      id_(id),
      client_ip_(std::move(client_ip)),
      limit_key_(std::move(limit_key)),
      ws_(std::move(stream)) {}

WebSocketSession::~WebSocketSession() { listener_.OnWebSocketSessionEnded(id_, limit_key_); }

void WebSocketSession::Start(http::request<http::string_body> req, HttpRequest upgrade) {
  handle_ = std::make_shared<WebSocketHandle>(weak_from_this(), gate_, id_, client_ip_,
                                              limits_.max_queued_bytes);
  conn_ = handle_;
  upgrade_req_ = std::move(req);
  upgrade_ = std::move(upgrade);

  // The WebSocket timeouts replace the HTTP session's per-request deadline.
  beast::get_lowest_layer(ws_).expires_never();
  websocket::stream_base::timeout timeout{};
  timeout.handshake_timeout = limits_.handshake_timeout;
  timeout.idle_timeout = limits_.idle_timeout;
  // A dead peer (no FIN, no RST) is only noticed by pinging it.
  timeout.keep_alive_pings = true;
  ws_.set_option(timeout);
  // Beast would otherwise advertise its version in the 101 response.
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, "aegis"); }));
  ws_.read_message_max(limits_.max_message_bytes);

  accepting_ = true;
  ws_.async_accept(upgrade_req_,
                   beast::bind_front_handler(&WebSocketSession::OnAccept, shared_from_this()));
}

void WebSocketSession::OnAccept(error_code ec) {
  accepting_ = false;
  upgrade_req_ = {};
  if (finished_) {
    return;
  }
  if (ec) {
    LogDebug(kTag, "websocket handshake failed",
             {{"client", MaskIp(client_ip_)}, {"error", ec.message()}});
    Finish(ec);
    return;
  }
  LogDebug(kTag, "websocket opened", {{"conn", id_}, {"client", MaskIp(client_ip_)}});
  opened_ = true;
  const HttpRequest upgrade = std::move(upgrade_);
  upgrade_ = {};
  if (!Invoke("OnOpen", [&] { handler_.OnOpen(conn_, upgrade); })) {
    RequestClose(kWsCloseInternalError, "internal error");
  }
  DoRead();
}

void WebSocketSession::DoRead() {
  ws_.async_read(read_buf_,
                 beast::bind_front_handler(&WebSocketSession::OnRead, shared_from_this()));
}

void WebSocketSession::OnRead(error_code ec, size_t /*bytes*/) {
  if (finished_) {
    return;
  }
  if (ec) {
    // Includes the peer's close (websocket::error::closed) and Beast failing
    // the connection itself: message_too_big (it sent 1009), bad frames,
    // invalid UTF-8, timeouts.
    Finish(ec);
    return;
  }
  if (close_requested_) {
    // RFC 6455 §7.1.1: keep reading until the peer's close; drop the data.
  } else if (!ws_.got_text()) {
    RequestClose(kWsCloseUnsupportedData, "binary messages are not supported");
  } else {
    const std::string_view text(static_cast<const char*>(read_buf_.data().data()),
                                read_buf_.size());
    if (!Invoke("OnText", [&] { handler_.OnText(conn_, text); })) {
      RequestClose(kWsCloseInternalError, "internal error");
    }
  }
  read_buf_.consume(read_buf_.size());
  DoRead();
}

void WebSocketSession::Enqueue(std::string text) {
  if (!opened_ || finished_ || close_requested_) {
    handle_->Release(text.size());
    return;
  }
  queue_.push_back(std::move(text));
  MaybeWrite();
}

void WebSocketSession::RequestClose(uint16_t code, std::string reason) {
  if (close_requested_ || finished_) {
    return;
  }
  close_requested_ = true;
  TruncateCloseReason(&reason);
  close_reason_.code = IsSendableCloseCode(code) ? code : kWsCloseNormal;
  close_reason_.reason = reason;
  MaybeWrite();
}

void WebSocketSession::CloseSlowConsumer() {
  if (close_requested_ || finished_) {
    return;
  }
  LogDebug(kTag, "websocket send queue full",
           {{"conn", id_}, {"client", MaskIp(client_ip_)}, {"limit", limits_.max_queued_bytes}});
  DropQueue();
  RequestClose(kWsClosePolicyViolation, "slow consumer");
}

void WebSocketSession::CloseGoingAway() {
  if (accepting_) {
    Abort();  // never opened: nothing owed to the handler
    return;
  }
  RequestClose(kWsCloseGoingAway, "server shutting down");
}

void WebSocketSession::Abort() { Finish(asio::error::operation_aborted); }

void WebSocketSession::MaybeWrite() {
  if (writing_ || close_started_ || finished_) {
    return;
  }
  if (!queue_.empty()) {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(queue_.front()),
                    [self = shared_from_this()](error_code ec, size_t) { self->OnWrite(ec); });
    return;
  }
  if (close_requested_) {
    close_started_ = true;
    ws_.async_close(close_reason_,
                    beast::bind_front_handler(&WebSocketSession::OnCloseSent, shared_from_this()));
  }
}

void WebSocketSession::OnWrite(error_code ec) {
  writing_ = false;
  handle_->Release(queue_.front().size());
  queue_.pop_front();
  if (finished_) {
    return;
  }
  if (ec) {
    LogDebug(kTag, "websocket write failed",
             {{"conn", id_}, {"client", MaskIp(client_ip_)}, {"error", ec.message()}});
    // The pending read then fails too and finishes the session.
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    DropQueue();
    return;
  }
  MaybeWrite();
}

void WebSocketSession::OnCloseSent(error_code ec) {
  if (ec && !finished_) {
    LogDebug(kTag, "websocket close failed",
             {{"conn", id_}, {"client", MaskIp(client_ip_)}, {"error", ec.message()}});
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }
}

void WebSocketSession::Finish(error_code ec) {
  if (finished_) {
    return;
  }
  finished_ = true;
  if (ec == websocket::error::closed) {
    LogDebug(kTag, "websocket closed", {{"conn", id_}, {"code", ws_.reason().code}});
  } else {
    LogDebug(kTag, "websocket ended",
             {{"conn", id_}, {"client", MaskIp(client_ip_)}, {"error", ec.message()}});
    // After a close handshake Beast has torn the connection down already;
    // otherwise make sure any pending write or close ends now.
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }
  DropQueue();
  if (opened_) {
    (void)Invoke("OnClose", [&] { handler_.OnClose(conn_); });
  }
  // Completions already queued for this socket (e.g. Beast's own keep-alive
  // ping, which holds no reference to us) still touch the stream: stay alive
  // until they have run.
  asio::post(ws_.get_executor(), [self = shared_from_this()] {});
}

void WebSocketSession::DropQueue() {
  const size_t keep = writing_ ? 1 : 0;  // the front is being written
  while (queue_.size() > keep) {
    handle_->Release(queue_.back().size());
    queue_.pop_back();
  }
}

bool WebSocketSession::Invoke(const char* callback, const std::function<void()>& fn) {
  try {
    fn();
    return true;
  } catch (const std::exception& e) {
    LogError(kTag, "websocket handler threw",
             {{"callback", callback}, {"conn", id_}, {"error", e.what()}});
  } catch (...) {
    LogError(kTag, "websocket handler threw", {{"callback", callback}, {"conn", id_}});
  }
  return false;
}

}  // namespace aegis::net
