#include "net/https_server.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <cctype>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/log.h"
#include "core/mask.h"
#include "core/strings.h"
#include "crypto/primitives.h"
#include "net/tls_policy.h"
#include "net/websocket_session.h"

namespace aegis::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using beast::error_code;

constexpr const char* kTag = "net";
// How long a closing connection may take to exchange close_notify or to
// drain what the client is still sending after an early error response.
constexpr std::chrono::milliseconds kCloseTimeout{1000};
// Bytes discarded at most while draining before close (see LingerClose).
constexpr size_t kMaxDrainBytes = 1 << 20;
// Back-off after a failing accept (e.g. EMFILE) so the loop does not spin.
constexpr std::chrono::milliseconds kAcceptRetryDelay{50};

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// Error bodies use the API's response envelope (TC3 style) so API clients
// parse them like any other error.
std::string ErrorBody(std::string_view code, std::string_view message) {
  nlohmann::json body;
  body["Response"]["Error"]["Code"] = code;
  body["Response"]["Error"]["Message"] = message;
  body["Response"]["RequestId"] = crypto::Uuid4();
  return body.dump();
}

// Runs one application callback; exceptions are logged, never propagated.
void InvokeGuarded(const char* what, const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    LogError(kTag, "callback threw", {{"callback", what}, {"error", e.what()}});
  } catch (...) {
    LogError(kTag, "callback threw", {{"callback", what}});
  }
}

std::string PeerAddress(const tcp::socket& socket) {
  error_code ec;
  const tcp::endpoint ep = socket.remote_endpoint(ec);
  if (ec) {
    return {};
  }
  asio::ip::address addr = ep.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
  }
  return addr.to_string();
}

}  // namespace

std::string ConnectionLimitKey(std::string_view ip) {
  error_code ec;
  asio::ip::address addr = asio::ip::make_address(std::string(ip), ec);
  if (ec) {
    return {};
  }
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
  }
  if (addr.is_v4()) {
    return addr.to_string();
  }
  asio::ip::address_v6::bytes_type bytes = addr.to_v6().to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return asio::ip::address_v6(bytes).to_string() + "/64";
}

bool ParseHostPort(std::string_view text, std::string* host, uint16_t* port) {
  std::string_view h;
  std::string_view p;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return false;
    }
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      return false;
    }
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
  }
  if (h.empty() || p.empty() || p.size() > 5) {
    return false;
  }
  uint32_t value = 0;
  for (char c : p) {
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value > 65535) {
    return false;
  }
  *host = std::string(h);
  *port = static_cast<uint16_t>(value);
  return true;
}

class Session;

class HttpsServer::Impl : public WebSocketSession::Listener {
 public:
  Impl(const HttpsServerOptions& options, Handler handler)
      : options_(options),
        handler_(std::move(handler)),
        ssl_ctx_(ssl::context::tls_server),
        ioc_(1),
        acceptor_(ioc_),
        retry_timer_(ioc_),
        tick_timer_(ioc_),
        gate_(std::make_shared<IoGate>(ioc_)) {}

  ~Impl() override { Stop(std::chrono::milliseconds(0)); }

  Status Init();
  void Run();
  void Stop(std::chrono::milliseconds grace);
  void Post(std::function<void()> fn);

  // io thread only.
  bool stopping() const { return stopping_; }
  const HttpsServerOptions& options() const { return options_; }
  ssl::context& ssl_ctx() { return ssl_ctx_; }
  HttpResponse CallHandler(const HttpRequest& request);
  void OnSessionClosed(uint64_t id, const std::string& limit_key);
  bool IsWebSocketPath(const std::string& path) const {
    return !options_.websocket_path.empty() && path == options_.websocket_path;
  }
  // The HTTP session `id` hands its connection (and its slot) over.
  void UpgradeToWebSocket(uint64_t id, std::string client_ip, std::string limit_key,
                          TlsStream stream, http::request<http::string_body> req,
                          HttpRequest upgrade);
  void OnWebSocketSessionEnded(uint64_t id, const std::string& limit_key) override;

  uint16_t port() const { return port_; }
  std::string address() const { return address_; }
  size_t connection_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return active_;
  }

 private:
  Status CheckOptions() const;
  void DoAccept();
  void OnAccept(error_code ec, tcp::socket socket);
  void ScheduleTick();
  void ReleaseSlot(const std::string& limit_key);
  std::vector<std::shared_ptr<WebSocketSession>> LiveWebSockets();
  void BeginStop();
  void CloseAll();
  bool WaitIdle(std::chrono::milliseconds timeout);

  // Passed by argument.
  const HttpsServerOptions options_;
  const Handler handler_;

  // Shared with the calling thread (Stop, connection_count).
  mutable std::mutex mu_;
  std::condition_variable idle_cv_;
  size_t active_ = 0;
  std::unordered_map<std::string, size_t> active_per_key_;  // ConnectionLimitKey -> open
  std::mutex stop_mu_;                                      // serializes Stop()
  bool stopped_ = false;
  uint16_t port_ = 0;
  std::string address_;

  // io thread only.
  bool stopping_ = false;
  uint64_t next_session_id_ = 1;
  std::chrono::steady_clock::time_point last_accept_warning_{};
  std::unordered_map<uint64_t, std::weak_ptr<Session>> sessions_;
  std::unordered_map<uint64_t, std::weak_ptr<WebSocketSession>> websockets_;

  // Declared after everything a Session touches from its destructor:
  // destroying ioc_ destroys pending handlers, hence the sessions they own.
  ssl::context ssl_ctx_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_timer_;
  asio::steady_timer tick_timer_;
  // Shared with every WebSocket handle (applications may keep those); closed
  // by Stop before ioc_ goes away.
  const std::shared_ptr<IoGate> gate_;
  std::thread thread_;
};

// One TLS connection. Owned through shared_ptr by whichever asynchronous
// operation is pending (the usual Asio pattern: no other owner knows when the
// last callback runs); the server keeps only weak references.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(HttpsServer::Impl& server, uint64_t id, tcp::socket socket, std::string client_ip,
          std::string limit_key)
      : server_(server),
        id_(id),
        client_ip_(std::move(client_ip)),
        limit_key_(std::move(limit_key)),
        stream_(std::move(socket), server.ssl_ctx()) {}

  ~Session() {
    if (!handed_off_) {
      server_.OnSessionClosed(id_, limit_key_);
    }
  }

  void Start() {
    state_ = State::kHandshake;
    Lowest().expires_after(server_.options().handshake_timeout);
    stream_.async_handshake(ssl::stream_base::server,
                            beast::bind_front_handler(&Session::OnHandshake, shared_from_this()));
  }

  // The server stopped accepting: connections with no request in progress
  // are closed now; the others finish their current request.
  void OnServerStopping() {
    const bool idle =
        state_ == State::kHandshake ||
        (state_ == State::kReading && buffer_.size() == 0 && (!parser_ || !parser_->got_some()));
    if (idle) {
      CloseSocket();
    }
  }

  void CloseSocket() {
    state_ = State::kClosed;
    Lowest().close();
  }

 private:
  enum class State { kHandshake, kReading, kWriting, kClosing, kClosed };

  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void OnHandshake(error_code ec) {
    if (ec) {
      LogDebug(kTag, "tls handshake failed",
               {{"client", MaskIp(client_ip_)}, {"error", ec.message()}});
      CloseSocket();
      return;
    }
    DoRead();
  }

  void DoRead() {
    if (server_.stopping()) {
      GracefulClose();
      return;
    }
    state_ = State::kReading;
    parser_.emplace();
    parser_->body_limit(static_cast<std::uint64_t>(server_.options().max_body_bytes));
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<size_t>(server_.options().max_header_bytes, UINT32_MAX)));
    Lowest().expires_after(server_.options().request_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(error_code ec, size_t /*bytes*/) {
    if (state_ == State::kClosed) {
      return;
    }
    if (ec == http::error::body_limit) {
      SendError(
          413, "RequestSizeLimitExceeded",
          "request body exceeds " + std::to_string(server_.options().max_body_bytes) + " bytes");
      return;
    }
    if (ec == http::error::header_limit) {
      SendError(431, "RequestHeaderFieldsTooLarge", "request header block too large");
      return;
    }
    if (ec == http::error::end_of_stream) {
      GracefulClose();
      return;
    }
    if (ec) {
      const bool parse_error =
          ec.category() == http::make_error_code(http::error::bad_target).category();
      LogDebug(kTag, "request read failed",
               {{"client", MaskIp(client_ip_)}, {"error", ec.message()}});
      if (parse_error) {
        SendError(400, "MalformedRequest", "malformed HTTP request");
      } else {
        CloseSocket();
      }
      return;
    }
    Handle(parser_->release());
  }

  void Handle(http::request<http::string_body> req) {
    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    const size_t q = request.target.find('?');
    request.path = request.target.substr(0, q);
    request.query = q == std::string::npos ? std::string() : request.target.substr(q + 1);
    for (const auto& field : req) {
      std::string name = AsciiLower(field.name_string());
      auto [it, inserted] = request.headers.emplace(name, std::string(field.value()));
      if (!inserted) {
        // RFC 9110 §5.3: repeated fields combine into a comma-separated list.
        it->second.append(", ").append(field.value());
      }
    }
    request.body = std::move(req.body());
    request.client_ip = client_ip_;
    const bool head = req.method() == http::verb::head;

    if (server_.IsWebSocketPath(request.path)) {
      if (!websocket::is_upgrade(req)) {
        SendStatus(426, "UpgradeRequired", "this endpoint only accepts WebSocket upgrades",
                   req.version(), head, {{"upgrade", "websocket"}});
      } else if (server_.stopping()) {
        SendStatus(503, "ServiceUnavailable", "server is shutting down", req.version(), head, {});
      } else {
        // The connection, with its slot under the caps, now belongs to the
        // WebSocket session; this object ends when this handler returns.
        handed_off_ = true;
        state_ = State::kClosed;
        server_.UpgradeToWebSocket(id_, client_ip_, limit_key_, std::move(stream_), std::move(req),
                                   std::move(request));
      }
      return;
    }

    HttpResponse response = server_.CallHandler(request);
    const bool keep_alive = req.keep_alive() && !server_.stopping();
    Write(std::move(response), req.version(), keep_alive, /*linger=*/false, head);
  }

  // A complete request answered by the server itself; the connection stays.
  void SendStatus(int status, std::string_view code, const std::string& message, unsigned version,
                  bool head, std::map<std::string, std::string> headers) {
    HttpResponse response;
    response.status = status;
    response.headers = std::move(headers);
    response.headers["content-type"] = "application/json";
    response.body = ErrorBody(code, message);
    Write(std::move(response), version, !server_.stopping(), /*linger=*/false, head);
  }

  void SendError(int status, std::string_view code, const std::string& message) {
    HttpResponse response;
    response.status = status;
    response.headers["content-type"] = "application/json";
    response.body = ErrorBody(code, message);
    // The rest of the request may still be arriving: close after draining it.
    Write(std::move(response), 11, /*keep_alive=*/false, /*linger=*/true, /*head=*/false);
  }

  // `head`: answering a HEAD request (RFC 9110 §9.3.2): the header fields a
  // GET would get, no content. Content-Length is the handler's, when it set
  // one (it may skip producing the body), else that of the body it returned.
  void Write(HttpResponse response, unsigned version, bool keep_alive, bool linger, bool head) {
    if (response.status < 100 || response.status > 599) {
      response.status = 500;
    }
    res_ = {};
    res_.version(version);
    res_.result(static_cast<unsigned>(response.status));
    bool json = false;
    std::string head_length;
    for (const auto& [name, value] : response.headers) {
      if (name.empty() || HasLineBreak(name) || HasLineBreak(value)) {
        continue;  // never let a value split the header block
      }
      if (AsciiLower(name) == "content-length") {
        if (head && !value.empty() && value.size() <= 20 &&
            value.find_first_not_of("0123456789") == std::string::npos) {
          head_length = value;
        }
        continue;  // otherwise always computed from the body
      }
      if (AsciiLower(name) == "content-type" &&
          AsciiLower(value).find("json") != std::string::npos) {
        json = true;
      }
      res_.set(name, value);
    }
    res_.set("Strict-Transport-Security", "max-age=31536000");
    res_.set("X-Content-Type-Options", "nosniff");
    if (json && res_.find(http::field::cache_control) == res_.end()) {
      res_.set(http::field::cache_control, "no-store");
    }
    const bool no_content =
        response.status < 200 || response.status == 204 || response.status == 304;
    if (no_content) {
      response.body.clear();  // never carried; prepare_payload would throw
    }
    res_.body() = std::move(response.body);
    res_.keep_alive(keep_alive);
    res_.prepare_payload();
    if (head && !no_content) {
      if (head_length.empty()) {
        head_length = std::to_string(res_.body().size());
      }
      res_.body().clear();
      res_.set(http::field::content_length, head_length);
    }

    state_ = State::kWriting;
    Lowest().expires_after(server_.options().request_timeout);
    http::async_write(stream_, res_,
                      [self = shared_from_this(), keep_alive, linger](error_code ec, size_t) {
                        self->OnWrite(ec, keep_alive, linger);
                      });
  }

  void OnWrite(error_code ec, bool keep_alive, bool linger) {
    if (state_ == State::kClosed) {
      return;
    }
    if (ec) {
      LogDebug(kTag, "response write failed",
               {{"client", MaskIp(client_ip_)}, {"error", ec.message()}});
      CloseSocket();
      return;
    }
    if (linger) {
      LingerClose();
    } else if (keep_alive && !server_.stopping()) {
      DoRead();
    } else {
      GracefulClose();
    }
  }

  // TLS close_notify, bounded in time; the peer may never answer.
  void GracefulClose() {
    state_ = State::kClosing;
    Lowest().expires_after(std::min(kCloseTimeout, server_.options().request_timeout));
    stream_.async_shutdown([self = shared_from_this()](error_code) { self->CloseSocket(); });
  }

  // After an early error response the client may still be sending the
  // request body; closing with unread data would make the kernel send RST
  // and the client could lose the response. So: send FIN, discard incoming
  // bytes until the client closes (bounded in time and bytes), then close.
  void LingerClose() {
    state_ = State::kClosing;
    error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    Lowest().expires_after(std::min(kCloseTimeout, server_.options().request_timeout));
    Drain();
  }

  void Drain() {
    Lowest().async_read_some(
        asio::buffer(drain_buf_), [self = shared_from_this()](error_code ec, size_t n) {
          self->drained_ += n;
          if (ec || self->drained_ > kMaxDrainBytes || self->state_ == State::kClosed) {
            self->CloseSocket();
            return;
          }
          self->Drain();
        });
  }

  // Passed by argument.
  HttpsServer::Impl& server_;
  const uint64_t id_;
  const std::string client_ip_;  // full address; MaskIp before logging
  const std::string limit_key_;  // ConnectionLimitKey(client_ip_)

  // Allocated by this.
  beast::ssl_stream<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  State state_ = State::kHandshake;
  bool handed_off_ = false;  // upgraded: stream_ moved out, slot released by the WebSocket
  std::array<char, 4096> drain_buf_{};
  size_t drained_ = 0;
};

Status HttpsServer::Impl::CheckOptions() const {
  if (!options_.websocket_path.empty()) {
    if (options_.websocket_handler == nullptr) {
      return Status::Error("net_bad_options", "websocket_path is set but websocket_handler is not");
    }
    if (options_.websocket_path.front() != '/') {
      return Status::Error("net_bad_options", "websocket_path must start with '/'");
    }
    if (options_.websocket_max_message_bytes == 0 || options_.websocket_max_queued_bytes == 0 ||
        options_.websocket_idle_timeout.count() <= 0) {
      return Status::Error("net_bad_options",
                           "websocket message/queue limits and idle timeout must be positive");
    }
  }
  if (options_.websocket_handler != nullptr && options_.tick_interval.count() <= 0) {
    return Status::Error("net_bad_options", "tick_interval must be positive");
  }
  return Status::Ok();
}

Status HttpsServer::Impl::Init() {
  AEGIS_RETURN_IF_ERROR(CheckOptions());
  AEGIS_RETURN_IF_ERROR(
      ConfigureTlsServer(ssl_ctx_.native_handle(), options_.cert_file, options_.key_file));
  const std::string host = options_.host == "localhost" ? "127.0.0.1" : options_.host;
  error_code ec;
  const asio::ip::address addr = asio::ip::make_address(host, ec);
  if (ec) {
    return Status::Error("net_bad_address", "listen host must be an IP address: " + options_.host);
  }
  const tcp::endpoint endpoint(addr, options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor_.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  }
  tcp::endpoint bound;
  if (!ec) {
    bound = acceptor_.local_endpoint(ec);
  }
  if (ec) {
    return Status::Error("net_bind", "cannot listen on " + options_.host + ":" +
                                         std::to_string(options_.port) + ": " + ec.message());
  }
  port_ = bound.port();
  address_ = bound.address().is_v6()
                 ? "[" + bound.address().to_string() + "]:" + std::to_string(port_)
                 : bound.address().to_string() + ":" + std::to_string(port_);
  DoAccept();
  if (options_.websocket_handler != nullptr) {
    ScheduleTick();
  }
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void HttpsServer::Impl::Run() {
  // Handlers never throw by design; this is the last line of defence so a
  // bug triggered by one peer cannot take the listener down.
  for (;;) {
    try {
      ioc_.run();
      return;
    } catch (const std::exception& e) {
      LogError(kTag, "unexpected exception in io loop", {{"error", e.what()}});
    } catch (...) {
      LogError(kTag, "unexpected exception in io loop");
    }
  }
}

void HttpsServer::Impl::DoAccept() {
  // Sockets share the acceptor's executor: everything runs on the io thread.
  acceptor_.async_accept(beast::bind_front_handler(&Impl::OnAccept, this));
}

void HttpsServer::Impl::OnAccept(error_code ec, tcp::socket socket) {
  if (stopping_ || !acceptor_.is_open()) {
    return;
  }
  if (ec) {
    // Rate-limited: a persistent condition (EMFILE) would repeat every retry.
    const auto now = std::chrono::steady_clock::now();
    if (now - last_accept_warning_ >= std::chrono::seconds(1)) {
      last_accept_warning_ = now;
      LogWarn(kTag, "accept failed", {{"error", ec.message()}});
    }
    retry_timer_.expires_after(kAcceptRetryDelay);
    retry_timer_.async_wait([this](error_code wait_ec) {
      if (!wait_ec && !stopping_) {
        DoAccept();
      }
    });
    return;
  }
  std::string client_ip = PeerAddress(socket);
  std::string limit_key = ConnectionLimitKey(client_ip);
  const char* refused = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto it = active_per_key_.find(limit_key);
    const size_t same_key = it == active_per_key_.end() ? 0 : it->second;
    if (limit_key.empty()) {
      refused = "peer address unavailable";  // already reset by the peer
    } else if (active_ >= options_.max_connections) {
      refused = "limit reached";
    } else if (same_key >= options_.max_connections_per_ip) {
      refused = "per-address limit reached";
    } else {
      ++active_per_key_[limit_key];
      ++active_;
    }
  }
  if (refused != nullptr) {
    // Closed before any TLS work: an over-limit peer costs one accept.
    error_code ignored;
    socket.close(ignored);
    LogDebug(kTag, "connection refused", {{"reason", refused}, {"client", MaskIp(client_ip)}});
    DoAccept();
    return;
  }
  const uint64_t id = next_session_id_++;
  auto session = std::make_shared<Session>(*this, id, std::move(socket), std::move(client_ip),
                                           std::move(limit_key));
  sessions_.emplace(id, session);
  session->Start();
  DoAccept();
}

HttpResponse HttpsServer::Impl::CallHandler(const HttpRequest& request) {
  try {
    return handler_(request);
  } catch (const std::exception& e) {
    LogError(kTag, "handler threw", {{"path", request.path}, {"error", e.what()}});
  } catch (...) {
    LogError(kTag, "handler threw", {{"path", request.path}});
  }
  HttpResponse response;
  response.status = 500;
  response.headers["content-type"] = "application/json";
  response.body = ErrorBody("InternalError", "internal error");
  return response;
}

void HttpsServer::Impl::ScheduleTick() {
  tick_timer_.expires_after(options_.tick_interval);
  tick_timer_.async_wait([this](error_code ec) {
    if (ec || stopping_) {
      return;
    }
    InvokeGuarded("OnTick", [this] { options_.websocket_handler->OnTick(); });
    ScheduleTick();
  });
}

void HttpsServer::Impl::Post(std::function<void()> fn) {
  if (!fn) {
    return;
  }
  (void)gate_->Post([fn = std::move(fn)] { InvokeGuarded("Post", fn); });
}

void HttpsServer::Impl::UpgradeToWebSocket(uint64_t id, std::string client_ip,
                                           std::string limit_key, TlsStream stream,
                                           http::request<http::string_body> req,
                                           HttpRequest upgrade) {
  sessions_.erase(id);
  WebSocketLimits limits;
  limits.max_message_bytes = options_.websocket_max_message_bytes;
  limits.max_queued_bytes = options_.websocket_max_queued_bytes;
  limits.handshake_timeout = options_.handshake_timeout;
  limits.idle_timeout = options_.websocket_idle_timeout;
  auto ws = std::make_shared<WebSocketSession>(*this, *options_.websocket_handler, limits, gate_,
                                               id, std::move(client_ip), std::move(limit_key),
                                               std::move(stream));
  websockets_.emplace(id, ws);
  ws->Start(std::move(req), std::move(upgrade));
}

void HttpsServer::Impl::OnWebSocketSessionEnded(uint64_t id, const std::string& limit_key) {
  websockets_.erase(id);
  ReleaseSlot(limit_key);
}

std::vector<std::shared_ptr<WebSocketSession>> HttpsServer::Impl::LiveWebSockets() {
  std::vector<std::shared_ptr<WebSocketSession>> live;
  for (auto& [id, weak] : websockets_) {
    if (auto ws = weak.lock()) {
      live.push_back(std::move(ws));
    }
  }
  return live;
}

void HttpsServer::Impl::OnSessionClosed(uint64_t id, const std::string& limit_key) {
  sessions_.erase(id);
  ReleaseSlot(limit_key);
}

void HttpsServer::Impl::ReleaseSlot(const std::string& limit_key) {
  std::lock_guard<std::mutex> lock(mu_);
  --active_;
  auto it = active_per_key_.find(limit_key);
  if (it != active_per_key_.end() && --it->second == 0) {
    active_per_key_.erase(it);  // bounded by open connections, not by peers ever seen
  }
  idle_cv_.notify_all();
}

void HttpsServer::Impl::BeginStop() {
  stopping_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  retry_timer_.cancel();
  tick_timer_.cancel();
  // Copy: CloseGoingAway may finish a session, which edits websockets_.
  for (auto& ws : LiveWebSockets()) {
    ws->CloseGoingAway();
  }
  // Copy: closing a socket may not reenter, but keep iteration safe anyway.
  std::vector<std::shared_ptr<Session>> live;
  for (auto& [id, weak] : sessions_) {
    if (auto s = weak.lock()) {
      live.push_back(std::move(s));
    }
  }
  for (auto& s : live) {
    s->OnServerStopping();
  }
}

void HttpsServer::Impl::CloseAll() {
  std::vector<std::shared_ptr<Session>> live;
  for (auto& [id, weak] : sessions_) {
    if (auto s = weak.lock()) {
      live.push_back(std::move(s));
    }
  }
  for (auto& s : live) {
    s->CloseSocket();
  }
  for (auto& ws : LiveWebSockets()) {
    ws->Abort();
  }
}

bool HttpsServer::Impl::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return idle_cv_.wait_for(lock, timeout, [this] { return active_ == 0; });
}

void HttpsServer::Impl::Stop(std::chrono::milliseconds grace) {
  std::lock_guard<std::mutex> stop_lock(stop_mu_);
  if (stopped_) {
    return;
  }
  stopped_ = true;
  if (!thread_.joinable()) {
    gate_->Close();
    return;  // Init failed before the loop started
  }
  asio::post(ioc_, [this] { BeginStop(); });
  if (!WaitIdle(grace)) {
    LogWarn(kTag, "grace period over; closing remaining connections",
            {{"connections", connection_count()}});
    asio::post(ioc_, [this] { CloseAll(); });
    (void)WaitIdle(kCloseTimeout);
  }
  gate_->Close();
  ioc_.stop();
  thread_.join();
  // Sessions still alive here sit in handlers queued on the stopped loop (the
  // io thread was stuck past every deadline). The io thread is gone, so this
  // thread acts for it: the OnClose owed to the handler is delivered now.
  for (auto& ws : LiveWebSockets()) {
    ws->Abort();
  }
}

HttpsServer::HttpsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpsServer::~HttpsServer() {
  if (impl_) {
    impl_->Stop(std::chrono::milliseconds(0));
  }
}

Result<std::unique_ptr<HttpsServer>> HttpsServer::Start(const HttpsServerOptions& options,
                                                        Handler handler) {
  auto impl = std::make_unique<Impl>(options, std::move(handler));
  AEGIS_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<HttpsServer>(new HttpsServer(std::move(impl)));
}

uint16_t HttpsServer::port() const { return impl_->port(); }
std::string HttpsServer::address() const { return impl_->address(); }
size_t HttpsServer::connection_count() const { return impl_->connection_count(); }
void HttpsServer::Stop(std::chrono::milliseconds grace) { impl_->Stop(grace); }
void HttpsServer::Post(std::function<void()> fn) { impl_->Post(std::move(fn)); }

}  // namespace aegis::net
