#include "rtc/rtp/rtcp_packet.h"

#include "rtc/rtp/wire_error.h"

namespace aegis::rtc {
namespace {

// Smallest legal body (after the header, without padding) for each type, so
// a `length` of 0 on an SR/RR/feedback packet is rejected here, not read past
// later (SECURITY-CHECKS FZ-08).
size_t MinBodySize(uint8_t type, uint8_t count) {
  switch (static_cast<RtcpType>(type)) {
    case RtcpType::kSr:
      return 24 + size_t{count} * 24;  // sender SSRC + sender info + blocks
    case RtcpType::kRr:
      return 4 + size_t{count} * 24;
    case RtcpType::kBye:
      return size_t{count} * 4;
    case RtcpType::kApp:    // SSRC + name
    case RtcpType::kRtpfb:  // sender SSRC + media SSRC
    case RtcpType::kPsfb:
      return 8;
    case RtcpType::kXr:
      return 4;
    case RtcpType::kSdes:
      break;  // chunks are checked by Sdes::Parse
  }
  return 0;
}

}  // namespace

RtcpCompoundIterator::RtcpCompoundIterator(std::span<const uint8_t> compound) : reader_(compound) {
  if (reader_.empty()) {
    status_ = WireError("rtcp_compound", "empty");
    return;
  }
  ParseCurrent();
}

void RtcpCompoundIterator::Next() {
  if (!valid_) return;
  ParseCurrent();
}

void RtcpCompoundIterator::ParseCurrent() {
  valid_ = false;
  if (reader_.empty()) {
    return;  // clean end
  }
  uint8_t first = 0;
  uint8_t type = 0;
  uint16_t length = 0;
  const size_t start = reader_.position();
  const std::span<const uint8_t> rest = reader_.Rest();
  if (!reader_.ReadU8(&first) || !reader_.ReadU8(&type) || !reader_.ReadU16(&length)) {
    status_ = WireError("rtcp_header", "truncated");
    return;
  }
  if ((first >> 6) != 2) {
    status_ = WireError("rtcp_version", "not 2");
    return;
  }
  if (type < 192 || type > 223) {
    status_ = WireError("rtcp_type", "not RTCP");
    return;
  }
  // `length` is in 32-bit words minus one, so every packet is at least the
  // 4-byte header and iteration always makes progress.
  std::span<const uint8_t> body;
  if (!reader_.ReadBytes(size_t{length} * 4, &body)) {
    status_ = WireError("rtcp_length", "beyond buffer");
    return;
  }
  RtcpPacketView view;
  view.count = first & 0x1F;
  view.type = type;
  view.padding = (first & 0x20) != 0;
  view.packet = rest.first(reader_.position() - start);
  if (view.padding) {
    // RFC 3550 §6.4.1: the last octet counts the padding, itself included.
    if (body.empty()) {
      status_ = WireError("rtcp_padding", "no body");
      return;
    }
    uint8_t padding = 0;
    ByteReader last(body.last(1));
    if (!last.ReadU8(&padding) || padding == 0) {
      status_ = WireError("rtcp_padding", "zero");
      return;
    }
    if (padding > body.size()) {
      status_ = WireError("rtcp_padding", "exceeds body");
      return;
    }
    body = body.first(body.size() - padding);
  }
  view.body = body;
  if (body.size() < MinBodySize(type, view.count)) {
    status_ = WireError("rtcp_length", "below minimum");
    return;
  }
  current_ = view;
  valid_ = true;
}

Status ValidateRtcpCompound(std::span<const uint8_t> compound) {
  RtcpCompoundIterator it(compound);
  while (it.Valid()) {
    it.Next();
  }
  return it.status();
}

bool WriteRtcpHeader(ByteWriter& writer, uint8_t count, RtcpType type, size_t total_size) {
  if (count > kRtcpMaxCount || total_size < kRtcpHeaderSize || total_size % 4 != 0 ||
      total_size / 4 - 1 > 0xFFFF) {
    return false;
  }
  return writer.WriteU8(static_cast<uint8_t>(0x80 | count)) &&
         writer.WriteU8(static_cast<uint8_t>(type)) &&
         writer.WriteU16(static_cast<uint16_t>(total_size / 4 - 1));
}

}  // namespace aegis::rtc
