#include "rtc/rtp/rtcp_transport_cc.h"

#include "rtc/rtp/wire_error.h"

namespace aegis::rtc {

Result<TransportCcFeedback> TransportCcFeedback::Parse(const RtcpPacketView& packet) {
  Result<FeedbackHeader> header = FeedbackHeader::Parse(
      packet, RtcpType::kRtpfb, static_cast<uint8_t>(RtpfbFormat::kTransportCc));
  if (!header.ok()) {
    return header.status();
  }
  ByteReader reader(header->fci);
  TransportCcFeedback feedback;
  uint32_t reference = 0;
  if (!reader.ReadU16(&feedback.base_sequence_) || !reader.ReadU16(&feedback.status_count_) ||
      !reader.ReadU24(&reference) || !reader.ReadU8(&feedback.feedback_count_)) {
    return WireError("rtcp_twcc", "truncated");
  }
  feedback.sender_ssrc_ = header->sender_ssrc;
  feedback.media_ssrc_ = header->media_ssrc;
  feedback.reference_time_ = static_cast<int32_t>(reference << 8) >> 8;
  feedback.chunks_ = reader.Rest();
  if (!Walk(feedback.chunks_, feedback.status_count_, feedback.base_sequence_, nullptr,
            &feedback.received_count_)) {
    return WireError("rtcp_twcc_count", "bad chunks");
  }
  return feedback;
}

}  // namespace aegis::rtc
