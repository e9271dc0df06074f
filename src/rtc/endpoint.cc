#include "rtc/endpoint.h"

#include <arpa/inet.h>

#include <string>

namespace aegis::rtc {

std::optional<Endpoint> Endpoint::Parse(std::string_view ip, uint16_t port) {
  // inet_pton needs a NUL-terminated string; bound the copy first.
  if (ip.empty() || ip.size() > INET6_ADDRSTRLEN) return std::nullopt;
  const std::string text(ip);
  std::array<uint8_t, 4> v4{};
  if (inet_pton(AF_INET, text.c_str(), v4.data()) == 1) return V4(v4, port);
  std::array<uint8_t, 16> v6{};
  if (inet_pton(AF_INET6, text.c_str(), v6.data()) == 1) return V6(v6, port);
  return std::nullopt;
}

std::string Endpoint::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (is_v4()) {
    if (inet_ntop(AF_INET, addr_.data(), buf, sizeof(buf)) == nullptr) return "?";
    return std::string(buf) + ":" + std::to_string(port_);
  }
  if (inet_ntop(AF_INET6, addr_.data(), buf, sizeof(buf)) == nullptr) return "?";
  return "[" + std::string(buf) + "]:" + std::to_string(port_);
}

}  // namespace aegis::rtc
