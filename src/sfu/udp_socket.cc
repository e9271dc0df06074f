#include "sfu/udp_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace aegis::sfu {
namespace {

socklen_t ToSockaddr(const rtc::Endpoint& e, sockaddr_storage* out) {
  std::memset(out, 0, sizeof(*out));
  if (e.is_v4()) {
    auto* sin =
        reinterpret_cast<sockaddr_in*>(out);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
    sin->sin_family = AF_INET;
    sin->sin_port = htons(e.port());
    std::memcpy(&sin->sin_addr, e.address().data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* sin6 =
      reinterpret_cast<sockaddr_in6*>(out);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(e.port());
  std::memcpy(&sin6->sin6_addr, e.address().data(), 16);
  return sizeof(sockaddr_in6);
}

rtc::Endpoint FromSockaddr(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);  // NOLINT
    std::array<uint8_t, 4> a{};
    std::memcpy(a.data(), &sin->sin_addr, 4);
    return rtc::Endpoint::V4(a, ntohs(sin->sin_port));
  }
  const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);  // NOLINT
  std::array<uint8_t, 16> a{};
  std::memcpy(a.data(), &sin6->sin6_addr, 16);
  // An IPv4-mapped peer on a dual-stack socket is reported as IPv4.
  if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
    return rtc::Endpoint::V4({a[12], a[13], a[14], a[15]}, ntohs(sin6->sin6_port));
  }
  return rtc::Endpoint::V6(a, ntohs(sin6->sin6_port));
}

}  // namespace

Result<std::unique_ptr<UdpSocket>> UdpSocket::Bind(const std::string& ip, uint16_t port) {
  const std::optional<rtc::Endpoint> local = rtc::Endpoint::Parse(ip, port);
  if (!local) return Status::Error("net_bad_address", "not an IP address: " + ip);
  const int fd =
      ::socket(local->is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Error("net_bind", std::string("socket: ") + std::strerror(errno));
  // Media bursts (keyframes fanned out to many subscribers) need deep buffers.
  const int buf = 4 * 1024 * 1024;
  (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
  (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
  sockaddr_storage ss{};
  const socklen_t len = ToSockaddr(*local, &ss);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&ss), len) != 0) {  // NOLINT
    const std::string err = std::strerror(errno);
    ::close(fd);
    return Status::Error("net_bind", "bind " + ip + ":" + std::to_string(port) + ": " + err);
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof(bound);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len) != 0) {  // NOLINT
    ::close(fd);
    return Status::Error("net_bind", "getsockname failed");
  }
  return std::unique_ptr<UdpSocket>(new UdpSocket(fd, FromSockaddr(bound).port()));
}

UdpSocket::UdpSocket(int fd, uint16_t port)
    : fd_(fd),
      port_(port),
      recv_buf_(kBatch),
      recv_len_(kBatch),
      recv_from_(kBatch),
      recv_addr_(kBatch),
      send_buf_(kBatch),
      send_len_(kBatch),
      send_addr_(kBatch),
      send_addr_len_(kBatch) {}

UdpSocket::~UdpSocket() { ::close(fd_); }

size_t UdpSocket::Receive() {
  std::array<mmsghdr, kBatch> msgs{};
  std::array<iovec, kBatch> iov{};
  for (size_t i = 0; i < kBatch; ++i) {
    iov[i].iov_base = recv_buf_[i].data();
    iov[i].iov_len = recv_buf_[i].size();
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &recv_addr_[i];
    msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
  }
  ++stats_.recv_syscalls;
  const int n = ::recvmmsg(fd_, msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
  if (n <= 0) return 0;
  size_t kept = 0;
  for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
    if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) {
      ++stats_.truncated;
      continue;
    }
    if (kept != i) std::memcpy(recv_buf_[kept].data(), recv_buf_[i].data(), msgs[i].msg_len);
    recv_len_[kept] = msgs[i].msg_len;
    recv_from_[kept] = FromSockaddr(recv_addr_[i]);
    ++kept;
  }
  stats_.received += kept;
  return kept;
}

std::span<uint8_t> UdpSocket::AcquireSendSlot() {
  if (send_count_ == kBatch) Flush();
  return {send_buf_[send_count_].data(), kDatagramBufferSize};
}

void UdpSocket::CommitSendSlot(size_t len, const rtc::Endpoint& to) {
  if (len == 0 || len > kDatagramBufferSize) return;
  send_len_[send_count_] = len;
  send_addr_len_[send_count_] = ToSockaddr(to, &send_addr_[send_count_]);
  ++send_count_;
  if (send_count_ == kBatch) Flush();
}

void UdpSocket::Send(std::span<const uint8_t> datagram, const rtc::Endpoint& to) {
  if (datagram.empty() || datagram.size() > kDatagramBufferSize) return;
  std::span<uint8_t> slot = AcquireSendSlot();
  std::memcpy(slot.data(), datagram.data(), datagram.size());
  CommitSendSlot(datagram.size(), to);
}

void UdpSocket::Flush() {
  size_t done = 0;
  while (done < send_count_) {
    std::array<mmsghdr, kBatch> msgs{};
    std::array<iovec, kBatch> iov{};
    const size_t n = send_count_ - done;
    for (size_t i = 0; i < n; ++i) {
      iov[i].iov_base = send_buf_[done + i].data();
      iov[i].iov_len = send_len_[done + i];
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &send_addr_[done + i];
      msgs[i].msg_hdr.msg_namelen = send_addr_len_[done + i];
    }
    ++stats_.send_syscalls;
    const int sent = ::sendmmsg(fd_, msgs.data(), static_cast<unsigned>(n), MSG_DONTWAIT);
    if (sent <= 0) {
      // EAGAIN (socket buffer full) or an error for the first datagram
      // (e.g. unreachable): drop it and go on with the rest.
      ++stats_.send_dropped;
      ++done;
      continue;
    }
    stats_.sent += static_cast<uint64_t>(sent);
    done += static_cast<size_t>(sent);
  }
  send_count_ = 0;
}

}  // namespace aegis::sfu
