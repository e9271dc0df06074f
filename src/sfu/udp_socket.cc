#include "sfu/udp_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
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

// sendmmsg takes at most UIO_MAXIOV messages per call.
constexpr size_t kMaxMessagesPerCall = 1024;
constexpr size_t kMaxSendQueue = 1024;
constexpr uint16_t kNoEntry = 0xFFFF;

// A hash of the destination: the sockaddr bytes as 8-byte words (ToSockaddr
// zeroes the storage, so equal endpoints have equal bytes).
uint64_t DestinationHash(const sockaddr_storage& ss, socklen_t len) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(&ss);  // NOLINT
  uint64_t h = len;
  for (size_t off = 0; off < len; off += 8) {
    uint64_t word = 0;
    std::memcpy(&word, bytes + off, 8);  // sockaddr_storage is 128 bytes: never past its end
    h = (h ^ word) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
  }
  return h;
}

// Errors with which the kernel refuses a GSO message but may well take its
// datagrams one by one: EIO (the device has no checksum offload), EINVAL /
// ENOPROTOOPT / EOPNOTSUPP (no UDP_SEGMENT, or a segment the route cannot
// carry), EMSGSIZE (segment larger than the path MTU).
bool IsGsoRefusal(int err) {
  return err == EIO || err == EINVAL || err == ENOPROTOOPT || err == EOPNOTSUPP || err == EMSGSIZE;
}

size_t NextPowerOfTwo(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

// The SCM_TIMESTAMPNS control message of a received datagram (0: none).
uint64_t ArrivalNs(msghdr& h) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
    timespec ts{};
    std::memcpy(&ts, CMSG_DATA(c), sizeof(ts));
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(ts.tv_nsec);
  }
  return 0;
}

}  // namespace

Result<std::unique_ptr<UdpSocket>> UdpSocket::Bind(const std::string& ip, uint16_t port,
                                                   const Options& options) {
  const std::optional<rtc::Endpoint> local = rtc::Endpoint::Parse(ip, port);
  if (!local) return Status::Error("net_bad_address", "not an IP address: " + ip);
  const int fd =
      ::socket(local->is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Error("net_bind", std::string("socket: ") + std::strerror(errno));
  // Media bursts (keyframes fanned out to many subscribers) need deep buffers.
  const int buf = 4 * 1024 * 1024;
  (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
  (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
  if (options.receive_timestamps) {
    const int on = 1;
    if (::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) != 0) {
      const std::string err = std::strerror(errno);
      ::close(fd);
      return Status::Error("net_bind", "SO_TIMESTAMPNS: " + err);
    }
  }
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
  return std::unique_ptr<UdpSocket>(new UdpSocket(fd, FromSockaddr(bound).port(), options));
}

UdpSocket::UdpSocket(int fd, uint16_t port, const Options& options)
    : fd_(fd),
      port_(port),
      recv_buf_(kBatch),
      recv_len_(kBatch),
      recv_from_(kBatch),
      recv_addr_(kBatch),
      recv_cmsg_(options.receive_timestamps ? kBatch : 0),
      recv_time_ns_(kBatch, 0),
      send_capacity_(std::clamp<size_t>(options.send_queue, 1, kMaxSendQueue)),
      gso_enabled_(options.gso) {
  send_buf_.resize(send_capacity_);
  send_len_.resize(send_capacity_);
  send_addr_.resize(send_capacity_);
  send_addr_len_.resize(send_capacity_);
  msgs_.resize(send_capacity_);
  iov_.resize(send_capacity_);
  cmsg_.resize(send_capacity_);
  dest_hash_.resize(send_capacity_);
  next_same_.resize(send_capacity_);
  group_head_.resize(send_capacity_);
  group_tail_.resize(send_capacity_);
  order_.resize(send_capacity_);
  group_table_.resize(NextPowerOfTwo(2 * send_capacity_));
}

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
    if (!recv_cmsg_.empty()) {
      msgs[i].msg_hdr.msg_control = recv_cmsg_[i].bytes.data();
      msgs[i].msg_hdr.msg_controllen = recv_cmsg_[i].bytes.size();
    }
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
    recv_time_ns_[kept] = recv_cmsg_.empty() ? 0 : ArrivalNs(msgs[i].msg_hdr);
    ++kept;
  }
  stats_.received += kept;
  return kept;
}

std::span<uint8_t> UdpSocket::AcquireSendSlot() {
  if (send_count_ == send_capacity_) Flush();
  return {send_buf_[send_count_].data(), kDatagramBufferSize};
}

void UdpSocket::CommitSendSlot(size_t len, const rtc::Endpoint& to) {
  if (len == 0 || len > kDatagramBufferSize) return;
  send_len_[send_count_] = len;
  send_addr_len_[send_count_] = ToSockaddr(to, &send_addr_[send_count_]);
  ++send_count_;
  if (send_count_ == send_capacity_) Flush();
}

void UdpSocket::Send(std::span<const uint8_t> datagram, const rtc::Endpoint& to) {
  if (datagram.empty() || datagram.size() > kDatagramBufferSize) return;
  std::span<uint8_t> slot = AcquireSendSlot();
  std::memcpy(slot.data(), datagram.data(), datagram.size());
  CommitSendSlot(datagram.size(), to);
}

void UdpSocket::Flush() {
  if (send_count_ == 0) return;
  const size_t messages = BuildMessages();
  SendMessages(msgs_.data(), messages);
  send_count_ = 0;
}

size_t UdpSocket::BuildMessages() {
  const size_t n = send_count_;
  if (!gso_enabled_) {
    for (size_t i = 0; i < n; ++i) {
      order_[i] = static_cast<uint16_t>(i);
      AddMessage(i, i, 1);
    }
    return n;
  }

  // Stable grouping by destination: groups in order of first appearance,
  // each a linked list of its entries in queue order.
  std::fill(group_table_.begin(), group_table_.end(), uint16_t{0});
  const size_t mask = group_table_.size() - 1;
  size_t groups = 0;
  for (size_t i = 0; i < n; ++i) {
    next_same_[i] = kNoEntry;
    dest_hash_[i] = DestinationHash(send_addr_[i], send_addr_len_[i]);
    for (size_t slot = dest_hash_[i] & mask;; slot = (slot + 1) & mask) {
      if (group_table_[slot] == 0) {
        group_table_[slot] = static_cast<uint16_t>(groups + 1);
        group_head_[groups] = group_tail_[groups] = static_cast<uint16_t>(i);
        ++groups;
        break;
      }
      const size_t g = group_table_[slot] - 1;
      const size_t head = group_head_[g];
      if (dest_hash_[head] == dest_hash_[i] && send_addr_len_[head] == send_addr_len_[i] &&
          std::memcmp(&send_addr_[head], &send_addr_[i], send_addr_len_[i]) == 0) {
        next_same_[group_tail_[g]] = static_cast<uint16_t>(i);
        group_tail_[g] = static_cast<uint16_t>(i);
        break;
      }
    }
  }

  // Runs within each group: equal sizes, the last one may be smaller (the
  // kernel cuts a GSO message into gso_size pieces; only the last can be
  // short).
  size_t pos = 0;
  size_t messages = 0;
  for (size_t g = 0; g < groups; ++g) {
    size_t run_start = pos;
    size_t run_count = 0;
    size_t run_bytes = 0;
    size_t segment = 0;
    bool closed = false;
    for (uint16_t e = group_head_[g]; e != kNoEntry; e = next_same_[e]) {
      const size_t len = send_len_[e];
      const bool extend = run_count > 0 && !closed && len <= segment &&
                          run_count < kMaxGsoSegments && run_bytes + len <= kMaxGsoBytes;
      if (!extend) {
        if (run_count > 0) AddMessage(messages++, run_start, run_count);
        run_start = pos;
        run_count = 0;
        run_bytes = 0;
        segment = len;
        closed = false;
      }
      order_[pos++] = e;
      ++run_count;
      run_bytes += len;
      closed = len < segment;
    }
    AddMessage(messages++, run_start, run_count);
  }
  return messages;
}

void UdpSocket::AddMessage(size_t message, size_t first, size_t count) {
  for (size_t k = first; k < first + count; ++k) {
    iov_[k].iov_base = send_buf_[order_[k]].data();
    iov_[k].iov_len = send_len_[order_[k]];
  }
  const size_t entry = order_[first];
  mmsghdr& m = msgs_[message];
  m = mmsghdr{};
  m.msg_hdr.msg_iov = &iov_[first];
  m.msg_hdr.msg_iovlen = count;
  m.msg_hdr.msg_name = &send_addr_[entry];
  m.msg_hdr.msg_namelen = send_addr_len_[entry];
  if (count > 1) {
    // One UDP_SEGMENT control message: gso_size is the first datagram's size.
    GsoControl& control = cmsg_[message];
    control.bytes.fill(0);
    m.msg_hdr.msg_control = control.bytes.data();
    m.msg_hdr.msg_controllen = control.bytes.size();
    cmsghdr* c = CMSG_FIRSTHDR(&m.msg_hdr);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    const auto gso_size = static_cast<uint16_t>(send_len_[entry]);
    std::memcpy(CMSG_DATA(c), &gso_size, sizeof(gso_size));
  }
}

void UdpSocket::SendMessages(mmsghdr* msgs, size_t count) {
  size_t done = 0;
  while (done < count) {
    const size_t n = std::min(count - done, kMaxMessagesPerCall);
    ++stats_.send_syscalls;
    const int sent = ::sendmmsg(fd_, msgs + done, static_cast<unsigned>(n), MSG_DONTWAIT);
    if (sent > 0) {
      for (size_t k = done; k < done + static_cast<size_t>(sent); ++k) {
        const size_t segments = msgs[k].msg_hdr.msg_iovlen;
        stats_.sent += segments;
        if (segments > 1) {
          stats_.gso_segments += segments;
          ++stats_.gso_messages;
          gso_confirmed_ = true;
        }
      }
      done += static_cast<size_t>(sent);
      continue;
    }
    // The message at `done` failed: EAGAIN (socket buffer full) or an error
    // for it (e.g. unreachable). UDP: drop it and go on with the rest.
    const int err = errno;
    const mmsghdr& failed = msgs[done];
    const size_t segments = failed.msg_hdr.msg_iovlen;
    if (segments > 1 && IsGsoRefusal(err)) {
      // Refused before any GSO message went out: this kernel or device has
      // no usable GSO, so stop trying. After that, the refusal is about this
      // message's route or size only.
      if (!gso_confirmed_ && err != EMSGSIZE) gso_enabled_ = false;
      ++stats_.gso_fallbacks;
      SendSegmentsOneByOne(failed);
    } else {
      stats_.send_dropped += segments;
    }
    ++done;
  }
}

void UdpSocket::SendSegmentsOneByOne(const mmsghdr& gso_message) {
  const size_t n = gso_message.msg_hdr.msg_iovlen;
  for (size_t k = 0; k < n; ++k) {
    mmsghdr& m = split_msgs_[k];
    m = mmsghdr{};
    m.msg_hdr.msg_iov = &gso_message.msg_hdr.msg_iov[k];
    m.msg_hdr.msg_iovlen = 1;
    m.msg_hdr.msg_name = gso_message.msg_hdr.msg_name;
    m.msg_hdr.msg_namelen = gso_message.msg_hdr.msg_namelen;
  }
  SendMessages(split_msgs_.data(), n);
}

}  // namespace aegis::sfu
