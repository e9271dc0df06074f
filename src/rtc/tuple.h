// Tuple: the remote side of one ICE path as the worker sees it — an Endpoint
// plus the protocol it arrived on and, for ICE-TCP (RFC 6544), the id of the
// accepted connection (the local half is implied by the worker's sockets).
// A UDP tuple converts implicitly from an Endpoint. Plain value: copyable,
// hashable, no ownership, thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>

#include "rtc/endpoint.h"

namespace aegis::rtc {

enum class TransportProtocol : uint8_t { kUdp, kTcp };

struct Tuple {
  Endpoint endpoint;
  TransportProtocol protocol = TransportProtocol::kUdp;
  uint32_t connection_id = 0;  // TCP: worker-local, never reused; 0 for UDP

  Tuple() = default;
  Tuple(const Endpoint& e) : endpoint(e) {}  // NOLINT(google-explicit-constructor): a UDP tuple
  static Tuple Tcp(const Endpoint& e, uint32_t connection_id) {
    Tuple t(e);
    t.protocol = TransportProtocol::kTcp;
    t.connection_id = connection_id;
    return t;
  }

  bool is_tcp() const { return protocol == TransportProtocol::kTcp; }
  friend bool operator==(const Tuple& a, const Tuple& b) = default;
};

struct TupleHash {
  size_t operator()(const Tuple& t) const {
    size_t h = EndpointHash{}(t.endpoint);
    h ^= (static_cast<size_t>(t.connection_id) << 1) ^ static_cast<size_t>(t.protocol);
    return h * 1099511628211ull;
  }
};

}  // namespace aegis::rtc
