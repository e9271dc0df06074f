// ICE-TCP passive candidates (RFC 6544) on a real Worker over loopback TCP:
// RFC 4571 framing, STUN checks and their answers on the connection they came
// from, the limits (frame size, unauthenticated deadline, connection count)
// and a DTLS handshake over the stream. The client is a plain blocking TCP
// socket polled with deadlines.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/primitives.h"
#include "rtc/dtls/dtls_certificate.h"
#include "rtc/dtls/dtls_transport.h"
#include "rtc/stun/stun_message.h"
#include "worker_test_util.h"

namespace aegis::sfu::testing {
namespace {

using Clock = std::chrono::steady_clock;

// A blocking TCP client speaking RFC 4571 frames.
class TcpClient {
 public:
  explicit TcpClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ =
        ::connect(fd_, reinterpret_cast<const sockaddr*>(&sin), sizeof(sin)) == 0;  // NOLINT
    const int one = 1;
    (void)::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  ~TcpClient() { ::close(fd_); }
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;

  bool connected() const { return connected_; }

  rtc::Endpoint local_endpoint() const {
    sockaddr_in sin{};
    socklen_t len = sizeof(sin);
    (void)::getsockname(fd_, reinterpret_cast<sockaddr*>(&sin), &len);  // NOLINT
    std::array<uint8_t, 4> a{};
    std::memcpy(a.data(), &sin.sin_addr, 4);
    return rtc::Endpoint::V4(a, ntohs(sin.sin_port));
  }

  bool SendRaw(std::span<const uint8_t> bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }

  bool SendFrame(std::span<const uint8_t> packet) {
    Bytes framed{static_cast<uint8_t>(packet.size() >> 8), static_cast<uint8_t>(packet.size())};
    framed.insert(framed.end(), packet.begin(), packet.end());
    return SendRaw(framed);
  }

  // The next frame, or nullopt on timeout or when the server closed.
  std::optional<Bytes> ReadFrame(Millis timeout = kTimeout) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
      if (buf_.size() >= 2) {
        const size_t len = (size_t{buf_[0]} << 8) | buf_[1];
        if (buf_.size() >= 2 + len) {
          Bytes frame(buf_.begin() + 2, buf_.begin() + static_cast<ptrdiff_t>(2 + len));
          buf_.erase(buf_.begin(), buf_.begin() + static_cast<ptrdiff_t>(2 + len));
          return frame;
        }
      }
      if (!Fill(deadline)) return std::nullopt;
    }
  }

  // True once the server closed the connection (EOF or reset) before `timeout`.
  bool WaitClosed(Millis timeout = kTimeout) {
    const auto deadline = Clock::now() + timeout;
    while (!closed_) {
      if (!Fill(deadline) && !closed_) return false;
    }
    return true;
  }

  bool closed() const { return closed_; }

 private:
  // Reads what is available; false on timeout or close.
  bool Fill(Clock::time_point deadline) {
    if (closed_) return false;
    const auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    std::array<uint8_t, 4096> tmp{};
    const ssize_t n = ::recv(fd_, tmp.data(), tmp.size(), 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    buf_.insert(buf_.end(), tmp.begin(), tmp.begin() + n);
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  Bytes buf_;
};

Bytes BindingRequest(const std::string& username, const std::string& password,
                     rtc::StunTransactionId* tid_out = nullptr) {
  rtc::StunTransactionId tid{};
  crypto::RandomBytes(tid);
  if (tid_out != nullptr) *tid_out = tid;
  std::array<uint8_t, 512> buf{};
  rtc::StunMessageBuilder b(buf, rtc::kStunMethodBinding, rtc::StunClass::kRequest, tid);
  EXPECT_TRUE(b.AddUsername(username).ok());
  EXPECT_TRUE(b.AddPriority(1518280447).ok());
  EXPECT_TRUE(b.AddIceControlling(0x1122334455667788ULL).ok());
  EXPECT_TRUE(b.AddUseCandidate().ok());
  EXPECT_TRUE(b.AddMessageIntegrity(password).ok());
  EXPECT_TRUE(b.AddFingerprint().ok());
  auto built = b.Finish();
  EXPECT_TRUE(built.ok());
  return built.ok() ? Bytes(built->begin(), built->end()) : Bytes{};
}

class IceTcpTest : public ::testing::Test {
 protected:
  void StartWorker(Millis unauthenticated_timeout, size_t max_connections = 1000) {
    WorkerOptions options;
    options.listen_ip = "127.0.0.1";
    options.tcp_unauthenticated_timeout = unauthenticated_timeout;
    options.tcp_max_connections = max_connections;
    auto started = Worker::Start(options, &listener_);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    worker_ = std::move(started).value();
    ASSERT_NE(worker_->tcp_port(), 0);
    ice_ = rtc::IceCredentials::Generate();
    client_ice_ = rtc::IceCredentials::Generate();
    worker_->CreateTransport(kTransport, ice_);
  }

  void TearDown() override {
    if (worker_) worker_->Stop();
  }

  std::string Username() const { return ice_.ufrag + ":" + client_ice_.ufrag; }

  static constexpr uint64_t kTransport = 7;
  RecordingListener listener_;
  std::unique_ptr<Worker> worker_;
  rtc::IceCredentials ice_;
  rtc::IceCredentials client_ice_;
};

TEST_F(IceTcpTest, WorkerListensOnItsOwnTcpPort) {
  StartWorker(Millis{10'000});
  EXPECT_NE(worker_->tcp_port(), 0);
  TcpClient client(worker_->tcp_port());
  EXPECT_TRUE(client.connected());
}

TEST_F(IceTcpTest, FramedBindingRequestGetsFramedSuccessWithXorMappedAddress) {
  StartWorker(Millis{300});
  TcpClient client(worker_->tcp_port());
  ASSERT_TRUE(client.connected());
  rtc::StunTransactionId tid{};
  const Bytes request = BindingRequest(Username(), ice_.pwd, &tid);
  // Split across two writes: the server must reassemble the frame.
  Bytes framed{static_cast<uint8_t>(request.size() >> 8), static_cast<uint8_t>(request.size())};
  framed.insert(framed.end(), request.begin(), request.end());
  ASSERT_TRUE(client.SendRaw(std::span(framed).first(5)));
  ASSERT_TRUE(client.SendRaw(std::span(framed).subspan(5)));

  const std::optional<Bytes> frame = client.ReadFrame();
  ASSERT_TRUE(frame.has_value());
  auto msg = rtc::StunMessage::Parse(*frame);
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  EXPECT_EQ(msg->message_class(), rtc::StunClass::kSuccessResponse);
  EXPECT_TRUE(std::ranges::equal(msg->transaction_id(), tid));
  EXPECT_TRUE(msg->CheckIntegrity(ice_.pwd));
  ASSERT_TRUE(msg->xor_mapped_address().has_value());
  EXPECT_EQ(*msg->xor_mapped_address(), client.local_endpoint());

  // Authenticated: the unauthenticated deadline no longer applies.
  EXPECT_FALSE(client.WaitClosed(Millis{800}));
  ASSERT_TRUE(client.SendFrame(BindingRequest(Username(), ice_.pwd)));
  const std::optional<Bytes> again = client.ReadFrame();
  ASSERT_TRUE(again.has_value());
  auto msg2 = rtc::StunMessage::Parse(*again);
  ASSERT_TRUE(msg2.ok());
  EXPECT_EQ(msg2->message_class(), rtc::StunClass::kSuccessResponse);
}

TEST_F(IceTcpTest, WrongPasswordIsNotValidatedAndConnectionTimesOut) {
  StartWorker(Millis{300});
  TcpClient client(worker_->tcp_port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.SendFrame(BindingRequest(Username(), "wrongpasswordwrongpassword")));
  const std::optional<Bytes> frame = client.ReadFrame();
  ASSERT_TRUE(frame.has_value());
  auto msg = rtc::StunMessage::Parse(*frame);
  ASSERT_TRUE(msg.ok());
  EXPECT_EQ(msg->message_class(), rtc::StunClass::kErrorResponse);
  ASSERT_TRUE(msg->error_code().has_value());
  EXPECT_EQ(msg->error_code()->code, 401);
  EXPECT_FALSE(msg->xor_mapped_address().has_value());
  // Never validated, so the deadline closes it.
  EXPECT_TRUE(client.WaitClosed());
}

TEST_F(IceTcpTest, OversizedFrameClosesTheConnection) {
  StartWorker(Millis{10'000});
  TcpClient client(worker_->tcp_port());
  ASSERT_TRUE(client.connected());
  Bytes big(2 + 1501, 0x00);
  big[0] = static_cast<uint8_t>(1501 >> 8);
  big[1] = static_cast<uint8_t>(1501 & 0xFF);
  big[2] = 0x00;  // would look like STUN
  ASSERT_TRUE(client.SendRaw(big));
  // Well before the 10 s deadline.
  EXPECT_TRUE(client.WaitClosed(Millis{3000}));
}

TEST_F(IceTcpTest, MaximalFrameIsAccepted) {
  StartWorker(Millis{10'000});
  TcpClient client(worker_->tcp_port());
  ASSERT_TRUE(client.connected());
  Bytes max_frame(1500, 0xAB);  // not a known packet kind: dropped, not fatal
  ASSERT_TRUE(client.SendFrame(max_frame));
  ASSERT_TRUE(client.SendFrame(BindingRequest(Username(), ice_.pwd)));
  const std::optional<Bytes> frame = client.ReadFrame();
  ASSERT_TRUE(frame.has_value());
  auto msg = rtc::StunMessage::Parse(*frame);
  ASSERT_TRUE(msg.ok());
  EXPECT_EQ(msg->message_class(), rtc::StunClass::kSuccessResponse);
}

TEST_F(IceTcpTest, SilentConnectionIsClosedAfterTheUnauthenticatedTimeout) {
  StartWorker(Millis{200});
  TcpClient client(worker_->tcp_port());
  ASSERT_TRUE(client.connected());
  EXPECT_TRUE(client.WaitClosed());
}

TEST_F(IceTcpTest, ConnectionsOverTheLimitAreClosed) {
  StartWorker(Millis{10'000}, /*max_connections=*/2);
  TcpClient a(worker_->tcp_port());
  TcpClient b(worker_->tcp_port());
  ASSERT_TRUE(a.connected() && b.connected());
  // Barrier: the worker has accepted both once they answer a check.
  for (TcpClient* c : {&a, &b}) {
    ASSERT_TRUE(c->SendFrame(BindingRequest(Username(), ice_.pwd)));
    ASSERT_TRUE(c->ReadFrame().has_value());
  }
  TcpClient third(worker_->tcp_port());  // the kernel accepts; the worker closes
  EXPECT_TRUE(third.WaitClosed());
  EXPECT_FALSE(a.closed());
}

// A DTLS client whose records travel as RFC 4571 frames.
class TcpDtlsClient final : public rtc::DtlsTransport::Listener {
 public:
  explicit TcpDtlsClient(TcpClient& tcp) : tcp_(tcp) {
    auto cert = rtc::DtlsCertificate::Generate();
    EXPECT_TRUE(cert.ok());
    certificate_ = std::move(cert).value();
    rtc::DtlsConfig config;
    config.role = rtc::DtlsRole::kClient;
    config.certificate = certificate_.get();
    auto dtls = rtc::DtlsTransport::Create(config, this);
    EXPECT_TRUE(dtls.ok());
    dtls_ = std::move(dtls).value();
  }
  ~TcpDtlsClient() override { dtls_->Close(); }

  const std::string& fingerprint() const { return certificate_->fingerprint(); }
  rtc::DtlsTransport& dtls() { return *dtls_; }
  bool connected() const { return connected_; }

  void OnDtlsSend(std::span<const uint8_t> datagram) override { (void)tcp_.SendFrame(datagram); }
  void OnDtlsConnected(const rtc::SrtpKeys& /*keys*/) override { connected_ = true; }
  void OnDtlsFailed(const std::string& reason) override { ADD_FAILURE() << "DTLS: " << reason; }
  void OnDtlsApplicationData(std::span<const uint8_t> /*data*/) override {}

 private:
  TcpClient& tcp_;
  std::unique_ptr<rtc::DtlsCertificate> certificate_;
  std::unique_ptr<rtc::DtlsTransport> dtls_;
  bool connected_ = false;
};

TEST_F(IceTcpTest, DtlsHandshakeOverTcpConnectsTheTransport) {
  StartWorker(Millis{10'000});
  TcpClient tcp(worker_->tcp_port());
  ASSERT_TRUE(tcp.connected());
  TcpDtlsClient client(tcp);
  worker_->SetRemoteParameters(kTransport, client_ice_.ufrag, "sha-256", client.fingerprint());

  ASSERT_TRUE(tcp.SendFrame(BindingRequest(Username(), ice_.pwd)));
  const std::optional<Bytes> answer = tcp.ReadFrame();
  ASSERT_TRUE(answer.has_value());
  ASSERT_EQ(rtc::StunMessage::Parse(*answer)->message_class(), rtc::StunClass::kSuccessResponse);

  ASSERT_TRUE(
      client.dtls().SetRemoteFingerprint("sha-256", worker_->certificate().fingerprint()).ok());
  ASSERT_TRUE(client.dtls().Start().ok());
  const auto deadline = Clock::now() + kTimeout;
  while (!client.connected() && Clock::now() < deadline) {
    const std::optional<Bytes> frame = tcp.ReadFrame(Millis{50});
    if (frame) client.dtls().ProcessDatagram(*frame);
    if (tcp.closed()) break;
  }
  EXPECT_TRUE(client.connected());
  EXPECT_TRUE(listener_.WaitFor(kTransport, TransportState::kConnected));
}

TEST_F(IceTcpTest, DtlsFromAnUnvalidatedTcpTupleIsDropped) {
  StartWorker(Millis{10'000});
  TcpClient tcp(worker_->tcp_port());
  ASSERT_TRUE(tcp.connected());
  TcpDtlsClient client(tcp);
  worker_->SetRemoteParameters(kTransport, client_ice_.ufrag, "sha-256", client.fingerprint());
  ASSERT_TRUE(
      client.dtls().SetRemoteFingerprint("sha-256", worker_->certificate().fingerprint()).ok());
  ASSERT_TRUE(client.dtls().Start().ok());  // ClientHello without any ICE check (MX-03)
  EXPECT_FALSE(tcp.ReadFrame(Millis{300}).has_value());
  EXPECT_FALSE(listener_.Saw(kTransport, TransportState::kConnected));
}

}  // namespace
}  // namespace aegis::sfu::testing
