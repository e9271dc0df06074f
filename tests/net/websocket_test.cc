// WebSocket endpoint of HttpsServer (net/websocket.h), against a real TLS
// WebSocket client on a port-0 server. Waits are on conditions with a bound,
// never on fixed sleeps.
#include "net/websocket.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
// GCC 12 with -fsanitize=address reports a false -Wmaybe-uninitialized in
// Beast's client-side response parser (the WebSocket handshake); Beast's code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#pragma GCC diagnostic pop
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "net/https_server.h"
#include "net/self_signed.h"
#include "test_util.h"

namespace aegis::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using testing::Client;

constexpr std::chrono::seconds kWait{10};

// WebSocket client over TLS verifying the generated certificate. Every
// operation runs asynchronously on the client's own io_context for at most
// kWait, so a broken server fails the test instead of hanging it.
class WsClient {
 public:
  WsClient(uint16_t port, const std::string& ca_file, const std::string& source = "")
      : ctx_(ssl::context::tls_client) {
    ctx_.load_verify_file(ca_file);
    ctx_.set_verify_mode(ssl::verify_peer);
    ws_ = std::make_unique<websocket::stream<beast::ssl_stream<tcp::socket>>>(ioc_, ctx_);
    ws_->next_layer().set_verify_callback(ssl::host_name_verification("localhost"));
    SSL_set_tlsext_host_name(ws_->next_layer().native_handle(), "localhost");
    tcp::socket& socket = ws_->next_layer().next_layer();
    if (!source.empty()) {
      socket.open(tcp::v4());
      socket.bind(tcp::endpoint(asio::ip::make_address(source), 0));
    }
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    ws_->read_message_max(0);
  }

  beast::error_code Handshake(const std::string& target = "/signal") {
    beast::error_code ec = Run([&](auto done) {
      ws_->next_layer().async_handshake(ssl::stream_base::client,
                                        [done](beast::error_code e) { done(e); });
    });
    if (ec) {
      return ec;
    }
    return Run([&](auto done) {
      ws_->async_handshake("localhost", target, [done](beast::error_code e) { done(e); });
    });
  }

  beast::error_code Write(const std::string& data, bool binary = false) {
    ws_->binary(binary);
    return Run([&](auto done) {
      ws_->async_write(asio::buffer(data), [done](beast::error_code e, size_t) { done(e); });
    });
  }

  // One message; empty with *ec set when the read failed (e.g. closed).
  std::string Read(beast::error_code* ec) {
    beast::flat_buffer buffer;
    *ec = Run([&](auto done) {
      ws_->async_read(buffer, [done](beast::error_code e, size_t) { done(e); });
    });
    return *ec ? std::string() : beast::buffers_to_string(buffer.data());
  }

  // Reads (discarding messages) until the server closes; its close code, or
  // 0 when the connection ended without a close frame or timed out.
  uint16_t ReadUntilClosed() {
    for (;;) {
      beast::error_code ec;
      Read(&ec);
      if (ec == websocket::error::closed) {
        return ws_->reason().code;
      }
      if (ec) {
        return 0;
      }
    }
  }

  beast::error_code Close() {
    return Run([&](auto done) {
      ws_->async_close(websocket::close_code::normal, [done](beast::error_code e) { done(e); });
    });
  }

 private:
  // Starts an operation with a completion callback and runs it to the end or
  // for at most kWait (then the socket is closed and timed_out returned).
  template <typename Start>
  beast::error_code Run(Start start) {
    bool finished = false;
    beast::error_code result;
    start([&](beast::error_code ec) {
      finished = true;
      result = ec;
    });
    ioc_.restart();
    ioc_.run_for(kWait);
    if (!finished) {
      beast::error_code ignored;
      ws_->next_layer().next_layer().close(ignored);
      ioc_.restart();
      ioc_.run();
      return asio::error::timed_out;
    }
    return result;
  }

  asio::io_context ioc_;
  ssl::context ctx_;
  std::unique_ptr<websocket::stream<beast::ssl_stream<tcp::socket>>> ws_;
};

// Records every callback; by default echoes text. Tests wait on its state.
class RecordingHandler : public WebSocketHandler {
 public:
  using OpenFn = std::function<void(const std::shared_ptr<WebSocketConnection>&)>;
  using TextFn = std::function<void(const std::shared_ptr<WebSocketConnection>&, std::string_view)>;

  void OnOpen(const std::shared_ptr<WebSocketConnection>& conn,
              const HttpRequest& upgrade) override {
    OpenFn on_open;
    {
      std::lock_guard<std::mutex> lock(mu_);
      conns_.push_back(conn);
      opened_[conn->id()]++;
      last_upgrade_ = upgrade;
      io_thread_ = std::this_thread::get_id();
      on_open = on_open_;
    }
    cv_.notify_all();
    if (on_open) {
      on_open(conn);
    }
  }

  void OnText(const std::shared_ptr<WebSocketConnection>& conn, std::string_view text) override {
    TextFn on_text;
    {
      std::lock_guard<std::mutex> lock(mu_);
      texts_.emplace_back(text);
      on_text = on_text_;
    }
    cv_.notify_all();
    if (on_text) {
      on_text(conn, text);
    } else {
      conn->SendText(std::string(text));
    }
  }

  void OnClose(const std::shared_ptr<WebSocketConnection>& conn) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_[conn->id()]++;
      ++close_calls_;
    }
    cv_.notify_all();
  }

  void OnTick() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++ticks_;
    }
    cv_.notify_all();
  }

  void set_on_open(OpenFn fn) {
    std::lock_guard<std::mutex> lock(mu_);
    on_open_ = std::move(fn);
  }
  void set_on_text(TextFn fn) {
    std::lock_guard<std::mutex> lock(mu_);
    on_text_ = std::move(fn);
  }

  // True once `pred` (evaluated under the lock) holds; false after kWait.
  bool WaitFor(const std::function<bool()>& pred) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWait, pred);
  }
  bool WaitOpens(size_t n) {
    return WaitFor([&] { return conns_.size() >= n; });
  }
  bool WaitCloseCalls(int n) {
    return WaitFor([&] { return close_calls_ >= n; });
  }
  bool WaitTicks(int n) {
    return WaitFor([&] { return ticks_ >= n; });
  }

  std::shared_ptr<WebSocketConnection> conn(size_t i) {
    std::lock_guard<std::mutex> lock(mu_);
    return i < conns_.size() ? conns_[i] : nullptr;
  }
  HttpRequest last_upgrade() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_upgrade_;
  }
  std::thread::id io_thread() {
    std::lock_guard<std::mutex> lock(mu_);
    return io_thread_;
  }
  int close_calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return close_calls_;
  }
  // Every connection that was opened was closed exactly once, and no other.
  void ExpectOneClosePerOpen() {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(opened_, closed_);
    for (const auto& [id, n] : closed_) {
      EXPECT_EQ(n, 1) << "connection " << id;
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  OpenFn on_open_;
  TextFn on_text_;
  std::vector<std::shared_ptr<WebSocketConnection>> conns_;
  std::map<uint64_t, int> opened_;
  std::map<uint64_t, int> closed_;
  std::vector<std::string> texts_;
  HttpRequest last_upgrade_;
  std::thread::id io_thread_;
  int close_calls_ = 0;
  int ticks_ = 0;
};

class WebSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto files = EnsureSelfSignedCertificate(dir_.path(), SystemClock::Instance());
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    options_.cert_file = files->cert_file;
    options_.key_file = files->key_file;
    options_.websocket_path = "/signal";
    options_.websocket_handler = &handler_;
  }

  void TearDown() override {
    if (server_) {
      server_->Stop(std::chrono::milliseconds(5000));
    }
    handler_.ExpectOneClosePerOpen();
  }

  void StartServer() {
    auto server = HttpsServer::Start(options_, [this](const HttpRequest& req) {
      http_thread_ = std::this_thread::get_id();
      return HttpResponse{200, {{"content-type", "text/plain"}}, "http:" + req.path};
    });
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
  }

  std::unique_ptr<WsClient> Connect(const std::string& target = "/signal",
                                    const std::string& source = "") {
    auto client = std::make_unique<WsClient>(server_->port(), options_.cert_file, source);
    const beast::error_code ec = client->Handshake(target);
    EXPECT_FALSE(ec) << ec.message();
    return client;
  }

  bool WaitConnectionCount(size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (server_->connection_count() != n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return server_->connection_count() == n;
  }

  testing::TempDir dir_;
  RecordingHandler handler_;  // outlives server_
  HttpsServerOptions options_;
  std::unique_ptr<HttpsServer> server_;
  std::atomic<std::thread::id> http_thread_{};
};

TEST_F(WebSocketTest, EchoRoundTripAndCleanClose) {
  StartServer();
  auto client = Connect("/signal?room=r1");
  ASSERT_TRUE(handler_.WaitOpens(1));
  const HttpRequest upgrade = handler_.last_upgrade();
  EXPECT_EQ(upgrade.path, "/signal");
  EXPECT_EQ(upgrade.query, "room=r1");
  EXPECT_EQ(upgrade.client_ip, "127.0.0.1");
  EXPECT_EQ(upgrade.headers.at("host"), "localhost");
  EXPECT_EQ(handler_.conn(0)->client_ip(), "127.0.0.1");

  ASSERT_FALSE(client->Write("hello"));
  beast::error_code ec;
  EXPECT_EQ(client->Read(&ec), "hello");
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(server_->connection_count(), 1u);

  EXPECT_FALSE(client->Close());
  ASSERT_TRUE(handler_.WaitCloseCalls(1));
  ASSERT_TRUE(WaitConnectionCount(0));
}

TEST_F(WebSocketTest, ManySendTextArriveInOrder) {
  handler_.set_on_text([](const std::shared_ptr<WebSocketConnection>& conn, std::string_view) {
    for (int i = 0; i < 2000; ++i) {
      // Sizes vary so frames and TLS records do not line up.
      conn->SendText("m" + std::to_string(i) + std::string(static_cast<size_t>(i % 97), '.'));
    }
  });
  StartServer();
  auto client = Connect();
  ASSERT_FALSE(client->Write("go"));
  for (int i = 0; i < 2000; ++i) {
    beast::error_code ec;
    const std::string msg = client->Read(&ec);
    ASSERT_FALSE(ec) << ec.message() << " at " << i;
    ASSERT_EQ(msg, "m" + std::to_string(i) + std::string(static_cast<size_t>(i % 97), '.'));
  }
}

TEST_F(WebSocketTest, MessageOverLimitIsClosedWith1009) {
  options_.websocket_max_message_bytes = 1024;
  StartServer();
  auto client = Connect();
  ASSERT_FALSE(client->Write(std::string(1024, 'a')));  // exactly the limit: fine
  beast::error_code ec;
  EXPECT_EQ(client->Read(&ec).size(), 1024u);
  ASSERT_FALSE(client->Write(std::string(1025, 'a')));
  EXPECT_EQ(client->ReadUntilClosed(), kWsCloseMessageTooBig);
  ASSERT_TRUE(handler_.WaitCloseCalls(1));
  ASSERT_TRUE(WaitConnectionCount(0));
  EXPECT_EQ(handler_.close_calls(), 1);
}

TEST_F(WebSocketTest, BinaryMessageIsClosedWith1003) {
  StartServer();
  auto client = Connect();
  ASSERT_FALSE(client->Write(std::string("\x01\x02\x03", 3), /*binary=*/true));
  EXPECT_EQ(client->ReadUntilClosed(), kWsCloseUnsupportedData);
  ASSERT_TRUE(handler_.WaitCloseCalls(1));
  ASSERT_TRUE(WaitConnectionCount(0));
}

TEST_F(WebSocketTest, NonUpgradeRequestOnThePathGets426) {
  StartServer();
  Client client(server_->port(), options_.cert_file);
  ASSERT_FALSE(client.Handshake());
  auto res = client.Get("/signal");
  EXPECT_EQ(res.result_int(), 426);
  EXPECT_EQ(res[http::field::upgrade], "websocket");
  EXPECT_NE(res.body().find("UpgradeRequired"), std::string::npos);
  // The connection stays usable, and other paths still reach the HTTP handler.
  res = client.Get("/other");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "http:/other");
  http::request<http::string_body> post(http::verb::post, "/signal", 11);
  post.body() = "x";
  EXPECT_EQ(client.Send(std::move(post)).result_int(), 426);
}

TEST_F(WebSocketTest, UpgradeOnAnotherPathIsNotAccepted) {
  StartServer();
  WsClient client(server_->port(), options_.cert_file);
  EXPECT_TRUE(client.Handshake("/elsewhere"));  // the HTTP handler answers 200, not 101
}

TEST_F(WebSocketTest, SendTextFromAnotherThread) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(handler_.WaitOpens(1));
  std::shared_ptr<WebSocketConnection> conn = handler_.conn(0);
  std::thread producer([conn] {
    for (int i = 0; i < 500; ++i) {
      conn->SendText("t" + std::to_string(i));
    }
    conn->Close(4000, "done");
    conn->SendText("after close");  // dropped
  });
  for (int i = 0; i < 500; ++i) {
    beast::error_code ec;
    ASSERT_EQ(client->Read(&ec), "t" + std::to_string(i)) << ec.message();
  }
  EXPECT_EQ(client->ReadUntilClosed(), 4000);
  producer.join();
  ASSERT_TRUE(handler_.WaitCloseCalls(1));
}

TEST_F(WebSocketTest, CloseSendsQueuedMessagesFirstAndIsIdempotent) {
  handler_.set_on_text([](const std::shared_ptr<WebSocketConnection>& conn, std::string_view) {
    conn->SendText("last");
    conn->Close(kWsCloseNormal, std::string(300, 'r'));  // reason is truncated
    conn->Close(4001, "ignored");
  });
  StartServer();
  auto client = Connect();
  ASSERT_FALSE(client->Write("bye"));
  beast::error_code ec;
  EXPECT_EQ(client->Read(&ec), "last");
  EXPECT_EQ(client->ReadUntilClosed(), kWsCloseNormal);
  ASSERT_TRUE(handler_.WaitCloseCalls(1));
}

TEST_F(WebSocketTest, SlowConsumerIsClosedWith1008) {
  options_.websocket_max_queued_bytes = 1024;
  handler_.set_on_text([](const std::shared_ptr<WebSocketConnection>& conn, std::string_view) {
    conn->SendText(std::string(2048, 'x'));
  });
  StartServer();
  auto client = Connect();
  ASSERT_FALSE(client->Write("go"));
  EXPECT_EQ(client->ReadUntilClosed(), kWsClosePolicyViolation);
  ASSERT_TRUE(handler_.WaitCloseCalls(1));
}

TEST_F(WebSocketTest, HandlerExceptionClosesThatConnectionOnly) {
  handler_.set_on_text([](const std::shared_ptr<WebSocketConnection>& conn, std::string_view t) {
    if (t == "boom") {
      throw std::runtime_error("handler bug");
    }
    conn->SendText(std::string(t));
  });
  StartServer();
  auto bad = Connect();
  auto good = Connect();
  ASSERT_FALSE(bad->Write("boom"));
  EXPECT_EQ(bad->ReadUntilClosed(), kWsCloseInternalError);
  ASSERT_TRUE(handler_.WaitCloseCalls(1));
  ASSERT_FALSE(good->Write("still here"));
  beast::error_code ec;
  EXPECT_EQ(good->Read(&ec), "still here");
}

TEST_F(WebSocketTest, PostRunsOnTheIoThreadAndIsNoOpAfterStop) {
  StartServer();
  Client http_client(server_->port(), options_.cert_file);
  ASSERT_FALSE(http_client.Handshake());
  ASSERT_EQ(http_client.Get("/").result_int(), 200);  // records the io thread
  std::promise<std::thread::id> ran_on;
  server_->Post([&ran_on] { ran_on.set_value(std::this_thread::get_id()); });
  auto future = ran_on.get_future();
  ASSERT_EQ(future.wait_for(kWait), std::future_status::ready);
  const std::thread::id id = future.get();
  EXPECT_EQ(id, http_thread_.load());
  EXPECT_NE(id, std::this_thread::get_id());

  // An exception in a posted function is contained.
  server_->Post([] { throw std::runtime_error("posted bug"); });
  std::promise<void> after;
  server_->Post([&after] { after.set_value(); });
  EXPECT_EQ(after.get_future().wait_for(kWait), std::future_status::ready);

  server_->Stop(std::chrono::milliseconds(1000));
  bool ran = false;
  server_->Post([&ran] { ran = true; });
  EXPECT_FALSE(ran);
}

TEST_F(WebSocketTest, StopSends1001AndCallsOnCloseBeforeReturning) {
  StartServer();
  auto first = Connect();
  auto second = Connect();
  ASSERT_TRUE(handler_.WaitOpens(2));
  auto first_code = std::async(std::launch::async, [&] { return first->ReadUntilClosed(); });
  auto second_code = std::async(std::launch::async, [&] { return second->ReadUntilClosed(); });
  server_->Stop(std::chrono::milliseconds(5000));
  EXPECT_EQ(handler_.close_calls(), 2);  // no waiting: Stop has delivered them
  EXPECT_EQ(server_->connection_count(), 0u);
  EXPECT_EQ(first_code.get(), kWsCloseGoingAway);
  EXPECT_EQ(second_code.get(), kWsCloseGoingAway);
}

TEST_F(WebSocketTest, StopCallsOnCloseEvenWhenPeersDoNotAnswer) {
  StartServer();
  auto client = Connect();  // never reads: the close handshake cannot complete
  ASSERT_TRUE(handler_.WaitOpens(1));
  server_->Stop(std::chrono::milliseconds(100));
  EXPECT_EQ(handler_.close_calls(), 1);
  EXPECT_EQ(server_->connection_count(), 0u);
}

TEST_F(WebSocketTest, OnTickIsCalledPeriodically) {
  options_.tick_interval = std::chrono::milliseconds(5);
  StartServer();
  EXPECT_TRUE(handler_.WaitTicks(3));
}

TEST_F(WebSocketTest, SilentPeerIsDroppedAfterIdleTimeout) {
  options_.websocket_idle_timeout = std::chrono::milliseconds(200);
  StartServer();
  auto client = Connect();  // never reads, so never answers the server's ping
  ASSERT_TRUE(handler_.WaitCloseCalls(1));
  ASSERT_TRUE(WaitConnectionCount(0));
}

TEST_F(WebSocketTest, PerAddressCapCountsWebSockets) {
  options_.max_connections_per_ip = 2;
  StartServer();
  auto first = Connect();
  auto second = Connect();
  ASSERT_TRUE(handler_.WaitOpens(2));
  EXPECT_EQ(server_->connection_count(), 2u);
  {
    // Refused at accept: EOF at once, before any TLS.
    WsClient third(server_->port(), options_.cert_file);
    EXPECT_TRUE(third.Handshake());
  }
  // Another address has its own slots.
  auto other = Connect("/signal", "127.0.0.2");
  ASSERT_TRUE(handler_.WaitOpens(3));
  // A closed WebSocket gives its slot back.
  EXPECT_FALSE(first->Close());
  ASSERT_TRUE(handler_.WaitCloseCalls(1));
  ASSERT_TRUE(WaitConnectionCount(2));
  auto again = Connect();
  ASSERT_TRUE(handler_.WaitOpens(4));
}

TEST_F(WebSocketTest, HandleOutlivesTheServer) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(handler_.WaitOpens(1));
  std::shared_ptr<WebSocketConnection> conn = handler_.conn(0);
  const uint64_t id = conn->id();
  server_.reset();  // Stop(0) inside
  EXPECT_EQ(handler_.close_calls(), 1);
  conn->SendText("nobody listens");  // no-ops, no crash
  conn->Close(kWsCloseNormal, "late");
  EXPECT_EQ(conn->id(), id);
  EXPECT_EQ(conn->client_ip(), "127.0.0.1");
}

TEST_F(WebSocketTest, BadWebSocketOptionsFailStart) {
  options_.websocket_handler = nullptr;
  auto no_handler = HttpsServer::Start(options_, [](const HttpRequest&) { return HttpResponse{}; });
  EXPECT_EQ(no_handler.status().code(), "net_bad_options");
  options_.websocket_handler = &handler_;
  options_.websocket_path = "signal";
  auto bad_path = HttpsServer::Start(options_, [](const HttpRequest&) { return HttpResponse{}; });
  EXPECT_EQ(bad_path.status().code(), "net_bad_options");
  options_.websocket_path = "/signal";
  options_.tick_interval = std::chrono::milliseconds(0);
  auto bad_tick = HttpsServer::Start(options_, [](const HttpRequest&) { return HttpResponse{}; });
  EXPECT_EQ(bad_tick.status().code(), "net_bad_options");
}

}  // namespace
}  // namespace aegis::net
