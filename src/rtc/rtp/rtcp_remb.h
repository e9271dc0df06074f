// RTCP receiver estimated max bitrate (draft-alvestrand-rmcat-remb, PSFB
// FMT 15 with the "REMB" identifier): num_ssrc is checked against the FCI,
// and an exponent/mantissa pair that overflows 64 bits is rejected. A view
// over the compound buffer plus a builder; untrusted input. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/status.h"
#include "rtc/byte_io.h"
#include "rtc/rtp/rtcp_feedback.h"
#include "rtc/rtp/rtcp_packet.h"

namespace aegis::rtc {

class Remb {
 public:
  static constexpr uint32_t kIdentifier = 0x52454D42;  // "REMB"

  static Result<Remb> Parse(const RtcpPacketView& packet);

  uint32_t sender_ssrc() const { return sender_ssrc_; }
  uint64_t bitrate_bps() const { return bitrate_bps_; }
  size_t ssrc_count() const { return ssrcs_.size() / 4; }
  uint32_t ssrc(size_t index) const;  // 0 when out of range

 private:
  uint32_t sender_ssrc_ = 0;
  uint64_t bitrate_bps_ = 0;
  std::span<const uint8_t> ssrcs_;
};

// Rounds the bitrate down to 18-bit mantissa precision; at most 255 SSRCs.
[[nodiscard]] Status WriteRemb(ByteWriter& writer, uint32_t sender_ssrc, uint64_t bitrate_bps,
                               std::span<const uint32_t> ssrcs);

}  // namespace aegis::rtc
