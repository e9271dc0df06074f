// Endpoint: an IPv4 or IPv6 address plus a UDP/TCP port, as a small value type
// (the remote half of a transport's 5-tuple; the local half is implied by the
// socket that received the datagram). Plain value: copyable, hashable, no
// ownership, thread-compatible. Parse() accepts untrusted text and returns
// std::nullopt on anything that is not a literal address.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace aegis::rtc {

class Endpoint {
 public:
  enum class Family : uint8_t { kIpv4 = 4, kIpv6 = 6 };

  // 0.0.0.0:0
  Endpoint() = default;

  static Endpoint V4(const std::array<uint8_t, 4>& addr, uint16_t port) {
    Endpoint e;
    e.family_ = Family::kIpv4;
    for (size_t i = 0; i < 4; ++i) e.addr_[i] = addr[i];
    e.port_ = port;
    return e;
  }
  static Endpoint V6(const std::array<uint8_t, 16>& addr, uint16_t port) {
    Endpoint e;
    e.family_ = Family::kIpv6;
    e.addr_ = addr;
    e.port_ = port;
    return e;
  }
  // "192.0.2.1" or "2001:db8::1" (no brackets, no scope id).
  static std::optional<Endpoint> Parse(std::string_view ip, uint16_t port);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::kIpv4; }
  uint16_t port() const { return port_; }
  // 4 meaningful bytes for IPv4, 16 for IPv6; the rest are zero.
  const std::array<uint8_t, 16>& address() const { return addr_; }
  size_t address_size() const { return is_v4() ? 4 : 16; }

  // "192.0.2.1:3478" / "[2001:db8::1]:3478". Personal data: mask before logging.
  std::string ToString() const;

  friend bool operator==(const Endpoint& a, const Endpoint& b) = default;

 private:
  Family family_ = Family::kIpv4;
  std::array<uint8_t, 16> addr_{};
  uint16_t port_ = 0;
};

struct EndpointHash {
  size_t operator()(const Endpoint& e) const {
    // FNV-1a over family, address and port; not exposed to peers as a hash-flood
    // surface (tables keyed by Endpoint are small and bounded).
    uint64_t h = 1469598103934665603ull;
    auto mix = [&h](uint8_t b) {
      h ^= b;
      h *= 1099511628211ull;
    };
    mix(static_cast<uint8_t>(e.family()));
    for (uint8_t b : e.address()) mix(b);
    mix(static_cast<uint8_t>(e.port() >> 8));
    mix(static_cast<uint8_t>(e.port()));
    return static_cast<size_t>(h);
  }
};

}  // namespace aegis::rtc
