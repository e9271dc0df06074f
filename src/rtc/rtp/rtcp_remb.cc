#include "rtc/rtp/rtcp_remb.h"

#include "rtc/rtp/wire_error.h"

namespace aegis::rtc {

Result<Remb> Remb::Parse(const RtcpPacketView& packet) {
  Result<FeedbackHeader> header =
      FeedbackHeader::Parse(packet, RtcpType::kPsfb, static_cast<uint8_t>(PsfbFormat::kAfb));
  if (!header.ok()) {
    return header.status();
  }
  ByteReader reader(header->fci);
  uint32_t identifier = 0;
  uint8_t num_ssrc = 0;
  uint32_t exp_mantissa = 0;
  if (!reader.ReadU32(&identifier) || !reader.ReadU8(&num_ssrc) || !reader.ReadU24(&exp_mantissa)) {
    return WireError("rtcp_remb", "truncated");
  }
  if (identifier != kIdentifier) {
    return WireError("rtcp_remb", "not REMB");
  }
  Remb remb;
  remb.sender_ssrc_ = header->sender_ssrc;
  if (!reader.ReadBytes(size_t{num_ssrc} * 4, &remb.ssrcs_)) {
    return WireError("rtcp_remb_ssrcs", "beyond length");
  }
  const unsigned exponent = exp_mantissa >> 18;  // 6 bits: 0–63
  const uint64_t mantissa = exp_mantissa & 0x3FFFF;
  const uint64_t bitrate = mantissa << exponent;
  if ((bitrate >> exponent) != mantissa) {
    return WireError("rtcp_remb_rate", "overflow");
  }
  remb.bitrate_bps_ = bitrate;
  return remb;
}

uint32_t Remb::ssrc(size_t index) const {
  if (index >= ssrc_count()) return 0;
  ByteReader reader(ssrcs_.subspan(index * 4, 4));
  uint32_t value = 0;
  return reader.ReadU32(&value) ? value : 0;
}

Status WriteRemb(ByteWriter& writer, uint32_t sender_ssrc, uint64_t bitrate_bps,
                 std::span<const uint32_t> ssrcs) {
  if (ssrcs.size() > 255) {
    return WireError("rtcp_remb_ssrcs", "above 255");
  }
  uint32_t exponent = 0;
  while ((bitrate_bps >> exponent) > 0x3FFFF) ++exponent;  // ends at <= 46
  const uint32_t mantissa = static_cast<uint32_t>(bitrate_bps >> exponent);
  const size_t fci_size = 8 + ssrcs.size() * 4;
  if (writer.remaining() < kRtcpHeaderSize + FeedbackHeader::kSize + fci_size) {
    return WireError("rtcp_build", "no space");
  }
  // draft-alvestrand-rmcat-remb §2.2: the media source SSRC is always 0.
  bool ok = WriteFeedbackHeader(writer, RtcpType::kPsfb, static_cast<uint8_t>(PsfbFormat::kAfb),
                                sender_ssrc, 0, fci_size) &&
            writer.WriteU32(Remb::kIdentifier) &&
            writer.WriteU8(static_cast<uint8_t>(ssrcs.size())) &&
            writer.WriteU8(static_cast<uint8_t>((exponent << 2) | (mantissa >> 16))) &&
            writer.WriteU16(static_cast<uint16_t>(mantissa));
  for (uint32_t ssrc : ssrcs) {
    ok = ok && writer.WriteU32(ssrc);
  }
  return ok ? Status::Ok() : WireError("rtcp_build", "no space");
}

}  // namespace aegis::rtc
