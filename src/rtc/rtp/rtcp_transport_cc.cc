#include "rtc/rtp/rtcp_transport_cc.h"

#include <algorithm>
#include <climits>
#include <cstdint>

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

bool TransportCcFeedbackBuilder::Add(std::optional<int64_t> arrival_us) {
  if (count_ == kMaxPackets) return false;
  if (!arrival_us) {
    symbols_[count_++] = static_cast<uint8_t>(TwccStatus::kNotReceived);
    return true;
  }
  constexpr int64_t kTicksPerReference =
      TransportCcFeedback::kReferenceTickMicros / TransportCcFeedback::kDeltaTickMicros;
  const int64_t ticks = *arrival_us / TransportCcFeedback::kDeltaTickMicros;
  int32_t reference = reference_time_;
  int64_t previous = last_ticks_;
  if (!have_reference_) {
    // 24-bit signed field: wraps every ~12 days of uptime, as in libwebrtc.
    const int64_t units = *arrival_us / TransportCcFeedback::kReferenceTickMicros;
    reference = static_cast<int32_t>(units % (1 << 23));
    previous = units * kTicksPerReference;
  }
  const int64_t delta = ticks - previous;
  if (delta < INT16_MIN || delta > INT16_MAX) return false;
  const bool small = delta >= 0 && delta <= 0xFF;
  symbols_[count_] =
      static_cast<uint8_t>(small ? TwccStatus::kSmallDelta : TwccStatus::kLargeDelta);
  deltas_[count_] = static_cast<int16_t>(delta);
  ++count_;
  delta_bytes_ += small ? 1 : 2;
  have_reference_ = true;
  reference_time_ = reference;
  last_ticks_ = ticks;
  return true;
}

Status TransportCcFeedbackBuilder::Write(ByteWriter& writer) const {
  if (!have_reference_) return WireError("rtcp_twcc", "none received");
  // Chunks: a run-length chunk for 7+ equal symbols, else a status vector
  // (14 one-bit symbols when none is a large delta, otherwise 7 two-bit).
  std::array<uint16_t, kMaxPackets> chunks{};
  size_t n_chunks = 0;
  size_t i = 0;
  while (i < count_) {
    size_t run = 1;
    while (i + run < count_ && run < 0x1FFF && symbols_[i + run] == symbols_[i]) ++run;
    if (run >= 7) {
      chunks[n_chunks++] = static_cast<uint16_t>((symbols_[i] << 13) | run);
      i += run;
      continue;
    }
    const size_t one_bit_span = std::min<size_t>(14, count_ - i);
    bool one_bit = true;
    for (size_t k = 0; k < one_bit_span; ++k) one_bit = one_bit && symbols_[i + k] <= 1;
    uint16_t chunk = 0x8000;
    if (one_bit) {
      for (size_t k = 0; k < one_bit_span; ++k) chunk |= symbols_[i + k] << (13 - k);
      i += one_bit_span;
    } else {
      chunk |= 0x4000;
      const size_t span = std::min<size_t>(7, count_ - i);
      for (size_t k = 0; k < span; ++k) chunk |= symbols_[i + k] << (12 - 2 * k);
      i += span;
    }
    chunks[n_chunks++] = chunk;
  }
  const size_t body = 8 + 2 * n_chunks + delta_bytes_;  // FCI before padding
  const size_t padding = (4 - body % 4) % 4;
  const size_t total = kRtcpHeaderSize + FeedbackHeader::kSize + body + padding;
  if (writer.remaining() < total) return WireError("rtcp_build", "no space");
  const uint8_t first = static_cast<uint8_t>(0x80 | (padding != 0 ? 0x20 : 0) |
                                             static_cast<uint8_t>(RtpfbFormat::kTransportCc));
  bool ok = writer.WriteU8(first) && writer.WriteU8(static_cast<uint8_t>(RtcpType::kRtpfb)) &&
            writer.WriteU16(static_cast<uint16_t>(total / 4 - 1)) &&
            writer.WriteU32(sender_ssrc_) && writer.WriteU32(media_ssrc_) &&
            writer.WriteU16(base_sequence_) && writer.WriteU16(static_cast<uint16_t>(count_)) &&
            writer.WriteU8(static_cast<uint8_t>(reference_time_ >> 16)) &&
            writer.WriteU8(static_cast<uint8_t>(reference_time_ >> 8)) &&
            writer.WriteU8(static_cast<uint8_t>(reference_time_)) &&
            writer.WriteU8(feedback_count_);
  for (size_t c = 0; ok && c < n_chunks; ++c) ok = writer.WriteU16(chunks[c]);
  for (size_t k = 0; ok && k < count_; ++k) {
    if (symbols_[k] == static_cast<uint8_t>(TwccStatus::kSmallDelta)) {
      ok = writer.WriteU8(static_cast<uint8_t>(deltas_[k]));
    } else if (symbols_[k] == static_cast<uint8_t>(TwccStatus::kLargeDelta)) {
      ok = writer.WriteU16(static_cast<uint16_t>(deltas_[k]));
    }
  }
  for (size_t k = 0; ok && k < padding; ++k) {
    ok = writer.WriteU8(k + 1 == padding ? static_cast<uint8_t>(padding) : 0);
  }
  return ok ? Status::Ok() : WireError("rtcp_build", "no space");
}

}  // namespace aegis::rtc
