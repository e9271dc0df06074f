#include "rtc/demux.h"

namespace aegis::rtc {
namespace {

PacketKind Drop(DropReason why, DropReason* reason) {
  if (reason != nullptr) {
    *reason = why;
  }
  return PacketKind::kDrop;
}

PacketKind Accept(PacketKind kind, size_t size, size_t min_size, DropReason* reason) {
  if (size < min_size) {
    return Drop(DropReason::kTooShort, reason);
  }
  if (reason != nullptr) {
    *reason = DropReason::kNone;
  }
  return kind;
}

}  // namespace

PacketKind Classify(std::span<const uint8_t> datagram, DropReason* reason) {
  if (datagram.empty()) {
    return Drop(DropReason::kTooShort, reason);
  }
  if (datagram.size() > kMaxDatagramSize) {
    return Drop(DropReason::kTooLarge, reason);
  }
  const uint8_t first = datagram[0];
  if (first <= 3) {
    return Accept(PacketKind::kStun, datagram.size(), kMinStunSize, reason);
  }
  if (first >= 20 && first <= 63) {
    return Accept(PacketKind::kDtls, datagram.size(), kMinDtlsSize, reason);
  }
  if (first >= 128 && first <= 191) {
    if (datagram.size() < 2) {
      return Drop(DropReason::kTooShort, reason);
    }
    // RFC 5761 §4: the second byte is the RTCP packet type (or RTP M bit +
    // PT); 192–223 is RTCP, which is why RTP PTs 64–95 are not used.
    const uint8_t second = datagram[1];
    if (second >= 192 && second <= 223) {
      return Accept(PacketKind::kRtcp, datagram.size(), kMinRtcpSize, reason);
    }
    return Accept(PacketKind::kRtp, datagram.size(), kMinRtpSize, reason);
  }
  // 4–19 (incl. ZRTP 16–19), 64–79 (TURN channels: not terminated here),
  // 80–127 and 192–255 (QUIC and unassigned).
  return Drop(DropReason::kUnknownFirstByte, reason);
}

const char* PacketKindName(PacketKind kind) {
  switch (kind) {
    case PacketKind::kStun:
      return "stun";
    case PacketKind::kDtls:
      return "dtls";
    case PacketKind::kRtp:
      return "rtp";
    case PacketKind::kRtcp:
      return "rtcp";
    case PacketKind::kDrop:
      return "drop";
  }
  return "drop";
}

void DemuxStats::Count(PacketKind kind) {
  switch (kind) {
    case PacketKind::kStun:
      ++stun;
      break;
    case PacketKind::kDtls:
      ++dtls;
      break;
    case PacketKind::kRtp:
      ++rtp;
      break;
    case PacketKind::kRtcp:
      ++rtcp;
      break;
    case PacketKind::kDrop:
      ++dropped;
      break;
  }
}

}  // namespace aegis::rtc
