#include "sfu/tcp_server.h"

#include <boost/asio/write.hpp>
#include <cstring>
#include <utility>

#include "core/log.h"

namespace aegis::sfu {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr const char* kTag = "ice-tcp";
// Room for a whole maximal frame plus its header, so a frame never has to
// wrap; reads take whatever else fits (several small frames per syscall).
constexpr size_t kReadBufferSize = 4096;
static_assert(kReadBufferSize >= kMaxTcpFrame + 2);

rtc::Endpoint ToEndpoint(const tcp::endpoint& e) {
  const asio::ip::address a = e.address();
  if (a.is_v4()) return rtc::Endpoint::V4(a.to_v4().to_bytes(), e.port());
  const asio::ip::address_v6 v6 = a.to_v6();
  if (v6.is_v4_mapped()) {
    return rtc::Endpoint::V4(asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_bytes(),
                             e.port());
  }
  return rtc::Endpoint::V6(v6.to_bytes(), e.port());
}

}  // namespace

struct TcpServer::Connection {
  Connection(tcp::socket s, uint32_t connection_id, const rtc::Endpoint& remote)
      : socket(std::move(s)),
        tuple(rtc::Tuple::Tcp(remote, connection_id)),
        deadline(socket.get_executor()) {}

  tcp::socket socket;
  rtc::Tuple tuple;
  asio::steady_timer deadline;
  bool authenticated = false;
  std::array<uint8_t, kReadBufferSize> read_buf{};
  size_t read_len = 0;
  std::deque<std::vector<uint8_t>> write_queue;  // framed; front is being written
};

Result<std::unique_ptr<TcpServer>> TcpServer::Listen(asio::io_context& io, const std::string& ip,
                                                     uint16_t port, Options options,
                                                     Listener* listener) {
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(ip, ec);
  if (ec) return Status::Error("net_bad_address", "not an IP address: " + ip);
  std::unique_ptr<TcpServer> s(new TcpServer(io, options, listener));
  const tcp::endpoint local(address, port);
  auto fail = [&](const char* what) {
    return Status::Error("net_bind", std::string("tcp ") + what + " " + ip + ":" +
                                         std::to_string(port) + ": " + ec.message());
  };
  s->acceptor_.open(local.protocol(), ec);
  if (ec) return fail("open");
  // A restarted daemon must not wait for TIME_WAIT connections of the old one.
  s->acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (ec) return fail("reuse");
  s->acceptor_.bind(local, ec);
  if (ec) return fail("bind");
  s->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  s->port_ = s->acceptor_.local_endpoint(ec).port();
  if (ec) return fail("getsockname");
  s->Accept();
  return s;
}

TcpServer::TcpServer(asio::io_context& io, Options options, Listener* listener)
    : options_(options), listener_(listener), acceptor_(io), accept_retry_(io) {}

TcpServer::~TcpServer() = default;

void TcpServer::Accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      // E.g. EMFILE: retry a little later instead of spinning.
      accept_retry_.expires_after(std::chrono::milliseconds(100));
      accept_retry_.async_wait([this](const boost::system::error_code& e) {
        if (!e) Accept();
      });
      return;
    }
    boost::system::error_code ignored;
    const tcp::endpoint remote = socket.remote_endpoint(ignored);
    if (ignored || connections_.size() >= options_.max_connections) {
      ++stats_.rejected;
      socket.close(ignored);
      Accept();
      return;
    }
    (void)socket.set_option(tcp::no_delay(true), ignored);
    const uint32_t id = next_id_++;
    auto c = std::make_unique<Connection>(std::move(socket), id, ToEndpoint(remote));
    Connection& conn = *c;
    connections_.emplace(id, std::move(c));
    ++stats_.accepted;
    conn.deadline.expires_after(options_.unauthenticated_timeout);
    conn.deadline.async_wait([this, id](const boost::system::error_code& e) {
      if (e) return;
      auto it = connections_.find(id);
      if (it == connections_.end() || it->second->authenticated) return;
      ++stats_.closed_unauthenticated;
      LogDebug(kTag, "unauthenticated connection closed", {{"connection", std::to_string(id)}});
      CloseAndNotify(id);
    });
    StartRead(conn);
    Accept();
  });
}

void TcpServer::StartRead(Connection& c) {
  const uint32_t id = c.tuple.connection_id;
  c.socket.async_read_some(
      asio::buffer(c.read_buf.data() + c.read_len, c.read_buf.size() - c.read_len),
      [this, id](const boost::system::error_code& ec, size_t n) {
        if (ec == asio::error::operation_aborted) return;
        if (ec) {
          CloseAndNotify(id);  // EOF or reset
          return;
        }
        OnRead(id, n);
      });
}

void TcpServer::OnRead(uint32_t id, size_t n) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Connection* c = it->second.get();
  c->read_len += n;
  size_t pos = 0;
  while (c->read_len - pos >= 2) {
    // RFC 4571 §2: LENGTH is a 16-bit unsigned integer in network byte order.
    const size_t len = (size_t{c->read_buf[pos]} << 8) | c->read_buf[pos + 1];
    if (len > kMaxTcpFrame) {
      ++stats_.closed_malformed;
      LogDebug(kTag, "oversized frame: connection closed", {{"connection", std::to_string(id)}});
      CloseAndNotify(id);
      return;
    }
    if (c->read_len - pos - 2 < len) break;
    const std::span<uint8_t> frame(c->read_buf.data() + pos + 2, len);
    pos += 2 + len;
    if (len == 0) continue;  // nothing to deliver
    ++stats_.frames_in;
    const rtc::Tuple from = c->tuple;
    listener_->OnTcpFrame(frame, from);
    // The listener may have closed this connection.
    it = connections_.find(id);
    if (it == connections_.end()) {
      listener_->OnTcpReadDone();
      return;
    }
    c = it->second.get();
  }
  listener_->OnTcpReadDone();
  if (pos > 0) {
    std::memmove(c->read_buf.data(), c->read_buf.data() + pos, c->read_len - pos);
    c->read_len -= pos;
  }
  StartRead(*c);
}

void TcpServer::Send(const rtc::Tuple& to, std::span<const uint8_t> packet) {
  auto it = connections_.find(to.connection_id);
  if (packet.empty() || packet.size() > 0xFFFF || it == connections_.end() ||
      it->second->tuple != to || it->second->write_queue.size() >= options_.max_queued_frames) {
    ++stats_.send_dropped;
    return;
  }
  Connection& c = *it->second;
  std::vector<uint8_t> framed(packet.size() + 2);
  framed[0] = static_cast<uint8_t>(packet.size() >> 8);
  framed[1] = static_cast<uint8_t>(packet.size());
  std::memcpy(framed.data() + 2, packet.data(), packet.size());
  c.write_queue.push_back(std::move(framed));
  ++stats_.frames_out;
  if (c.write_queue.size() == 1) StartWrite(c);
}

void TcpServer::StartWrite(Connection& c) {
  const uint32_t id = c.tuple.connection_id;
  asio::async_write(c.socket, asio::buffer(c.write_queue.front()),
                    [this, id](const boost::system::error_code& ec, size_t /*n*/) {
                      if (ec == asio::error::operation_aborted) return;
                      if (ec) {
                        CloseAndNotify(id);
                        return;
                      }
                      auto it = connections_.find(id);
                      if (it == connections_.end()) return;
                      Connection& conn = *it->second;
                      conn.write_queue.pop_front();
                      if (!conn.write_queue.empty()) StartWrite(conn);
                    });
}

void TcpServer::MarkAuthenticated(uint32_t connection_id) {
  auto it = connections_.find(connection_id);
  if (it == connections_.end() || it->second->authenticated) return;
  it->second->authenticated = true;
  it->second->deadline.cancel();
}

void TcpServer::Close(uint32_t connection_id) {
  auto it = connections_.find(connection_id);
  if (it == connections_.end()) return;
  boost::system::error_code ignored;
  it->second->socket.close(ignored);  // pending handlers run with operation_aborted
  connections_.erase(it);
}

void TcpServer::CloseAndNotify(uint32_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  const rtc::Tuple tuple = it->second->tuple;
  Close(id);
  listener_->OnTcpClosed(tuple);
}

}  // namespace aegis::sfu
