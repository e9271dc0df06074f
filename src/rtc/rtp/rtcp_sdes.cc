#include "rtc/rtp/rtcp_sdes.h"

#include "rtc/rtp/wire_error.h"

namespace aegis::rtc {

Result<Sdes> Sdes::Parse(const RtcpPacketView& packet) {
  if (!packet.Is(RtcpType::kSdes)) {
    return WireError("rtcp_sdes", "wrong type");
  }
  if (!Walk(packet.body, packet.count, [](uint32_t, uint8_t, std::string_view) {})) {
    return WireError("rtcp_sdes", "beyond length");
  }
  Sdes sdes;
  sdes.body_ = packet.body;
  sdes.chunk_count_ = packet.count;
  return sdes;
}

}  // namespace aegis::rtc
