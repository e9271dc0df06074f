#include "ws_client.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <utility>
#include <variant>

namespace aegis::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

using PlainWs = websocket::stream<beast::tcp_stream>;
using TlsWs = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

constexpr auto kConnectTimeout = std::chrono::seconds(10);

}  // namespace

class WsClient::Impl : public std::enable_shared_from_this<WsClient::Impl> {
 public:
  Impl(asio::io_context& io, Options options, Listener* listener)
      : options_(std::move(options)),
        listener_(listener),
        ws_(options_.tls != nullptr ? Ws(std::in_place_type<TlsWs>, io, *options_.tls)
                                    : Ws(std::in_place_type<PlainWs>, io)) {}

  void Connect() {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(options_.host, ec);
    if (ec) {
      Closed("bad host address " + options_.host);
      return;
    }
    const tcp::endpoint ep(address, options_.port);
    std::string bind_failed;
    std::visit(
        [&](auto& ws) {
          auto& stream = beast::get_lowest_layer(ws);
          if (!options_.bind_ip.empty()) {
            boost::system::error_code bind_ec;
            const auto local = asio::ip::make_address(options_.bind_ip, bind_ec);
            if (!bind_ec) stream.socket().open(ep.protocol(), bind_ec);
            if (!bind_ec) stream.socket().bind(tcp::endpoint(local, 0), bind_ec);
            if (bind_ec) {
              bind_failed = "bind " + options_.bind_ip + ": " + bind_ec.message();
              return;
            }
          }
          stream.expires_after(kConnectTimeout);
          stream.async_connect(ep, [self = shared_from_this()](const boost::system::error_code& e) {
            self->OnConnected(e);
          });
        },
        ws_);
    if (!bind_failed.empty()) Closed(bind_failed);
  }

  void OnConnected(const boost::system::error_code& ec) {
    if (ec) return Closed("connect: " + ec.message());
    if (auto* tls = std::get_if<TlsWs>(&ws_)) {
      if (!SSL_set_tlsext_host_name(tls->next_layer().native_handle(), options_.sni.c_str())) {
        return Closed("TLS SNI setup failed");
      }
      tls->next_layer().async_handshake(
          asio::ssl::stream_base::client,
          [self = shared_from_this()](const boost::system::error_code& e) {
            if (e) return self->Closed("TLS handshake: " + e.message());
            self->WsHandshake();
          });
      return;
    }
    WsHandshake();
  }

  void WsHandshake() {
    std::visit(
        [&](auto& ws) {
          beast::get_lowest_layer(ws).expires_never();
          websocket::stream_base::timeout t =
              websocket::stream_base::timeout::suggested(beast::role_type::client);
          ws.set_option(t);
          const std::string proto = options_.subprotocol;
          ws.set_option(websocket::stream_base::decorator([proto](websocket::request_type& req) {
            req.set(beast::http::field::user_agent, "aegis-bench");
            if (!proto.empty()) req.set(beast::http::field::sec_websocket_protocol, proto);
          }));
          ws.text(true);
          const std::string host = options_.sni + ":" + std::to_string(options_.port);
          ws.async_handshake(host, options_.target,
                             [self = shared_from_this()](const boost::system::error_code& e) {
                               if (e) return self->Closed("WebSocket handshake: " + e.message());
                               self->open_ = true;
                               if (self->listener_ != nullptr) self->listener_->OnWsOpen();
                               self->Read();
                               self->Write();
                             });
        },
        ws_);
  }

  void Read() {
    std::visit(
        [&](auto& ws) {
          ws.async_read(
              buffer_, [self = shared_from_this()](const boost::system::error_code& e, size_t) {
                if (e)
                  return self->Closed(e == websocket::error::closed ? "closed by server"
                                                                    : "read: " + e.message());
                std::string text = beast::buffers_to_string(self->buffer_.data());
                self->buffer_.consume(self->buffer_.size());
                if (self->listener_ != nullptr) self->listener_->OnWsMessage(std::move(text));
                if (self->open_) self->Read();
              });
        },
        ws_);
  }

  void Send(std::string text) {
    if (closed_) return;
    queue_.push_back(std::move(text));
    if (open_) Write();
  }

  void Write() {
    if (writing_ || queue_.empty() || !open_) return;
    writing_ = true;
    std::visit(
        [&](auto& ws) {
          ws.async_write(asio::buffer(queue_.front()),
                         [self = shared_from_this()](const boost::system::error_code& e, size_t) {
                           self->writing_ = false;
                           if (e) return self->Closed("write: " + e.message());
                           self->queue_.pop_front();
                           self->Write();
                         });
        },
        ws_);
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    listener_ = nullptr;
    if (!open_) {
      std::visit([](auto& ws) { beast::get_lowest_layer(ws).cancel(); }, ws_);
      return;
    }
    open_ = false;
    std::visit(
        [&](auto& ws) {
          beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(2));
          ws.async_close(websocket::close_code::normal,
                         [self = shared_from_this()](const boost::system::error_code&) {});
        },
        ws_);
  }

  void Closed(const std::string& reason) {
    open_ = false;
    if (closed_) return;
    closed_ = true;
    Listener* l = std::exchange(listener_, nullptr);
    if (l != nullptr) l->OnWsClosed(reason);
  }

  bool open() const { return open_; }

 private:
  using Ws = std::variant<PlainWs, TlsWs>;
  Options options_;
  Listener* listener_;
  Ws ws_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  bool open_ = false;
  bool writing_ = false;
  bool closed_ = false;
};

WsClient::WsClient(asio::io_context& io, Options options, Listener* listener)
    : impl_(std::make_shared<Impl>(io, std::move(options), listener)) {}

WsClient::~WsClient() { impl_->Close(); }

void WsClient::Connect() { impl_->Connect(); }
void WsClient::Send(std::string text) { impl_->Send(std::move(text)); }
void WsClient::Close() { impl_->Close(); }
bool WsClient::open() const { return impl_->open(); }

}  // namespace aegis::bench
