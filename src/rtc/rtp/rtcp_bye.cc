#include "rtc/rtp/rtcp_bye.h"

#include "rtc/byte_io.h"
#include "rtc/rtp/wire_error.h"

namespace aegis::rtc {

Result<Bye> Bye::Parse(const RtcpPacketView& packet) {
  if (!packet.Is(RtcpType::kBye)) {
    return WireError("rtcp_bye", "wrong type");
  }
  ByteReader reader(packet.body);
  Bye bye;
  if (!reader.ReadBytes(size_t{packet.count} * 4, &bye.ssrcs_)) {
    return WireError("rtcp_bye_count", "beyond length");
  }
  uint8_t reason_length = 0;
  if (reader.ReadU8(&reason_length)) {
    std::span<const uint8_t> reason;
    if (!reader.ReadBytes(reason_length, &reason)) {
      return WireError("rtcp_bye_reason", "beyond length");
    }
    bye.reason_ = std::string_view(reinterpret_cast<const char*>(reason.data()), reason.size());
  }
  return bye;
}

uint32_t Bye::ssrc(size_t index) const {
  if (index >= ssrc_count()) return 0;
  ByteReader reader(ssrcs_.subspan(index * 4, 4));
  uint32_t value = 0;
  return reader.ReadU32(&value) ? value : 0;
}

}  // namespace aegis::rtc
