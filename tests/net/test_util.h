// Helpers shared by the net tests: a temporary directory and a blocking TLS
// client that trusts the server's generated certificate. Test-only; each
// object is used by one thread.
#pragma once

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "common/temp_dir.h"

namespace aegis::net::testing {

using ::aegis::testing::TempDir;

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

// Blocking TLS client that verifies the server certificate against the
// generated one (so SAN "localhost" is exercised too). Socket reads time out
// after 10 s so a broken server fails the test instead of hanging it.
class Client {
 public:
  // `source`: the local address to connect from (any 127.0.0.0/8 address
  // works on Linux loopback, so tests can play several clients).
  Client(uint16_t port, const std::string& ca_file, const std::string& source = "")
      : ctx_(ssl::context::tls_client) {
    ctx_.load_verify_file(ca_file);
    ctx_.set_verify_mode(ssl::verify_peer);
    stream_ = std::make_unique<beast::ssl_stream<tcp::socket>>(ioc_, ctx_);
    stream_->set_verify_callback(ssl::host_name_verification("localhost"));
    SSL_set_tlsext_host_name(stream_->native_handle(), "localhost");
    ConnectRaw(stream_->next_layer(), port, source);
  }

  static void ConnectRaw(tcp::socket& socket, uint16_t port, const std::string& source = "") {
    if (!source.empty()) {
      socket.open(tcp::v4());
      socket.bind(tcp::endpoint(asio::ip::make_address(source), 0));
    }
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    timeval tv{10, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }

  beast::error_code Handshake() {
    beast::error_code ec;
    stream_->handshake(ssl::stream_base::client, ec);
    return ec;
  }

  http::response<http::string_body> Send(http::request<http::string_body> req,
                                         beast::error_code* ec_out = nullptr) {
    req.set(http::field::host, "localhost");
    req.prepare_payload();
    beast::error_code ec;
    http::write(*stream_, req, ec);
    http::response<http::string_body> res;
    if (!ec) {
      http::read(*stream_, buffer_, res, ec);
    }
    if (ec_out != nullptr) {
      *ec_out = ec;
    } else {
      EXPECT_FALSE(ec) << ec.message();
    }
    return res;
  }

  http::response<http::string_body> Get(const std::string& target) {
    return Send(http::request<http::string_body>(http::verb::get, target, 11));
  }

  // True once the server has closed the connection (read sees EOF/error).
  bool ServerClosed() {
    char byte = 0;
    beast::error_code ec;
    stream_->read_some(asio::buffer(&byte, 1), ec);
    return static_cast<bool>(ec);
  }

  beast::ssl_stream<tcp::socket>& stream() { return *stream_; }

 private:
  asio::io_context ioc_;
  ssl::context ctx_;
  std::unique_ptr<beast::ssl_stream<tcp::socket>> stream_;
  beast::flat_buffer buffer_;
};

}  // namespace aegis::net::testing
