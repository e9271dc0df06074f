// RTCP goodbye (RFC 3550 §6.6): SSRC list plus an optional length-prefixed
// reason, both bounded by the packet body. A view over the compound buffer
// (which must outlive it); no allocation; untrusted input. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/status.h"
#include "rtc/rtp/rtcp_packet.h"

namespace aegis::rtc {

class Bye {
 public:
  static Result<Bye> Parse(const RtcpPacketView& packet);

  size_t ssrc_count() const { return ssrcs_.size() / 4; }
  uint32_t ssrc(size_t index) const;  // 0 when out of range
  std::string_view reason() const { return reason_; }

 private:
  std::span<const uint8_t> ssrcs_;
  std::string_view reason_;
};

}  // namespace aegis::rtc
