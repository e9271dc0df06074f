// UdpSocket over real loopback sockets: batching (sendmmsg/recvmmsg),
// ordering, sender endpoints, send slots and the stats counters.
#include "sfu/udp_socket.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace aegis::sfu {
namespace {

using Bytes = std::vector<uint8_t>;

constexpr auto kTimeout = std::chrono::seconds(5);

std::unique_ptr<UdpSocket> BindLoopback() {
  auto s = UdpSocket::Bind("127.0.0.1", 0);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

rtc::Endpoint Loopback(uint16_t port) { return rtc::Endpoint::V4({127, 0, 0, 1}, port); }

// Datagram i: its index in the first two bytes, then a pattern; sizes vary.
Bytes Datagram(size_t i) {
  Bytes d(20 + (i * 13) % 1000);
  d[0] = static_cast<uint8_t>(i >> 8);
  d[1] = static_cast<uint8_t>(i);
  for (size_t j = 2; j < d.size(); ++j) d[j] = static_cast<uint8_t>(i * 31 + j);
  return d;
}

struct Received {
  Bytes data;
  rtc::Endpoint from;
};

// Receives until `count` datagrams arrived (polling the fd) or the deadline.
std::vector<Received> ReceiveAtLeast(UdpSocket& s, size_t count,
                                     std::vector<size_t>* batch_sizes = nullptr) {
  std::vector<Received> out;
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{s.fd(), POLLIN, 0};
    (void)::poll(&pfd, 1, 10);
    const size_t n = s.Receive();
    if (n > 0 && batch_sizes != nullptr) batch_sizes->push_back(n);
    for (size_t i = 0; i < n; ++i) {
      const auto d = s.received(i);
      out.push_back(Received{Bytes(d.begin(), d.end()), s.sender(i)});
    }
  }
  return out;
}

// A datagram sent with a plain sendto (UdpSocket refuses empty and
// oversized ones).
void RawSend(int fd, std::span<const uint8_t> data, uint16_t port) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const ssize_t n = ::sendto(fd, data.data(), data.size(), 0,
                             reinterpret_cast<const sockaddr*>(&to), sizeof(to));  // NOLINT
  ASSERT_EQ(n, static_cast<ssize_t>(data.size())) << std::strerror(errno);
}

TEST(UdpSocket, BindRejectsBadAddressAndBusyPort) {
  auto bad = UdpSocket::Bind("not-an-ip", 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), "net_bad_address");

  std::unique_ptr<UdpSocket> a = BindLoopback();
  ASSERT_TRUE(a);
  EXPECT_NE(a->port(), 0);
  auto busy = UdpSocket::Bind("127.0.0.1", a->port());
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.status().code(), "net_bind");
}

TEST(UdpSocket, HundredDatagramsArriveInOrderInBatchesFromTheSender) {
  std::unique_ptr<UdpSocket> a = BindLoopback();
  std::unique_ptr<UdpSocket> b = BindLoopback();
  ASSERT_TRUE(a && b);
  constexpr size_t kCount = 100;
  for (size_t i = 0; i < kCount; ++i) a->Send(Datagram(i), Loopback(b->port()));
  // A full batch leaves by itself; the rest waits for Flush().
  EXPECT_EQ(a->stats().sent, 96u);
  EXPECT_EQ(a->stats().send_syscalls, 3u);
  a->Flush();
  EXPECT_EQ(a->stats().sent, kCount);
  EXPECT_EQ(a->stats().send_syscalls, 4u);  // ceil(100 / 32) sendmmsg calls
  EXPECT_EQ(a->stats().send_dropped, 0u);

  std::vector<size_t> batches;
  const std::vector<Received> got = ReceiveAtLeast(*b, kCount, &batches);
  ASSERT_EQ(got.size(), kCount);
  for (size_t i = 0; i < kCount; ++i) {
    EXPECT_EQ(got[i].data, Datagram(i)) << "datagram " << i;
    EXPECT_EQ(got[i].from, Loopback(a->port())) << "datagram " << i;
  }
  // Everything was queued before the first Receive(): one recvmmsg takes a
  // whole batch.
  ASSERT_FALSE(batches.empty());
  EXPECT_EQ(batches.front(), UdpSocket::kBatch);
  for (size_t n : batches) EXPECT_LE(n, UdpSocket::kBatch);
  EXPECT_EQ(b->stats().received, kCount);
  EXPECT_GE(b->stats().recv_syscalls, 4u);
  EXPECT_EQ(b->stats().truncated, 0u);
  EXPECT_EQ(b->stats().sent, 0u);
}

TEST(UdpSocket, FlushWithNothingQueuedAndReceiveWithNothingPendingAreNoOps) {
  std::unique_ptr<UdpSocket> a = BindLoopback();
  ASSERT_TRUE(a);
  a->Flush();
  a->Flush();
  EXPECT_EQ(a->stats().send_syscalls, 0u);
  EXPECT_EQ(a->stats().sent, 0u);
  EXPECT_EQ(a->stats().send_dropped, 0u);
  EXPECT_EQ(a->Receive(), 0u);
  EXPECT_EQ(a->stats().received, 0u);
  EXPECT_EQ(a->stats().recv_syscalls, 1u);
}

TEST(UdpSocket, SendSlotIsSentInPlaceAndEmptyOrOversizedAreRefused) {
  std::unique_ptr<UdpSocket> a = BindLoopback();
  std::unique_ptr<UdpSocket> b = BindLoopback();
  ASSERT_TRUE(a && b);
  const rtc::Endpoint to = Loopback(b->port());

  // Refused: nothing queued, so Flush() makes no syscall.
  a->Send({}, to);
  const Bytes too_big(kDatagramBufferSize + 1, 0xAB);
  a->Send(too_big, to);
  std::span<uint8_t> unused = a->AcquireSendSlot();
  unused[0] = 0xEE;
  a->CommitSendSlot(0, to);
  a->Flush();
  EXPECT_EQ(a->stats().send_syscalls, 0u);

  std::span<uint8_t> slot = a->AcquireSendSlot();
  ASSERT_EQ(slot.size(), kDatagramBufferSize);
  for (size_t i = 0; i < 300; ++i) slot[i] = static_cast<uint8_t>(i);
  a->CommitSendSlot(300, to);
  // The largest datagram a slot can carry.
  std::span<uint8_t> full = a->AcquireSendSlot();
  std::memset(full.data(), 0x5A, full.size());
  a->CommitSendSlot(full.size(), to);
  a->Flush();
  EXPECT_EQ(a->stats().sent, 2u);
  EXPECT_EQ(a->stats().send_syscalls, 1u);

  const std::vector<Received> got = ReceiveAtLeast(*b, 2);
  ASSERT_EQ(got.size(), 2u);
  ASSERT_EQ(got[0].data.size(), 300u);
  for (size_t i = 0; i < 300; ++i) EXPECT_EQ(got[0].data[i], static_cast<uint8_t>(i));
  EXPECT_EQ(got[1].data, Bytes(kDatagramBufferSize, 0x5A));
}

TEST(UdpSocket, TruncatedDatagramIsCountedAndSkippedWithoutShiftingOthers) {
  std::unique_ptr<UdpSocket> a = BindLoopback();
  std::unique_ptr<UdpSocket> b = BindLoopback();
  ASSERT_TRUE(a && b);
  const Bytes first = Datagram(1);
  const Bytes huge(kDatagramBufferSize + 500, 0x77);
  const Bytes last = Datagram(2);
  RawSend(a->fd(), first, b->port());
  RawSend(a->fd(), huge, b->port());
  RawSend(a->fd(), last, b->port());

  const std::vector<Received> got = ReceiveAtLeast(*b, 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].data, first);
  EXPECT_EQ(got[1].data, last);  // moved down over the truncated slot
  EXPECT_EQ(b->stats().truncated, 1u);
  EXPECT_EQ(b->stats().received, 2u);
}

TEST(UdpSocket, EmptyDatagramIsReceivedAsZeroBytes) {
  std::unique_ptr<UdpSocket> a = BindLoopback();
  std::unique_ptr<UdpSocket> b = BindLoopback();
  ASSERT_TRUE(a && b);
  RawSend(a->fd(), {}, b->port());
  const std::vector<Received> got = ReceiveAtLeast(*b, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].data.empty());
  EXPECT_EQ(got[0].from, Loopback(a->port()));
}

}  // namespace
}  // namespace aegis::sfu
