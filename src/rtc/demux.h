// RFC 7983 demultiplexing of one datagram received on the shared media port.
// Classify() looks only at the first byte(s) and the length (RFC 7983 §7,
// RFC 5761 §4), never parses further, and never allocates; its input is
// untrusted. Anything it cannot place, or any datagram over kMaxDatagramSize
// (SECURITY-CHECKS FZ-06), is kDrop. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace aegis::rtc {

enum class PacketKind : uint8_t { kStun, kDtls, kRtp, kRtcp, kDrop };

// Why a datagram was dropped, for the caller's counters and rate-limited log.
enum class DropReason : uint8_t { kNone, kTooLarge, kTooShort, kUnknownFirstByte };

// Janus #3636 / mediasoup MtuSize: nothing larger is parsed at all.
inline constexpr size_t kMaxDatagramSize = 1500;

// Minimum sizes enforced before a datagram is handed to a parser (MX-02).
inline constexpr size_t kMinStunSize = 20;  // STUN header
inline constexpr size_t kMinDtlsSize = 13;  // DTLS record header
inline constexpr size_t kMinRtpSize = 12;   // RTP fixed header
inline constexpr size_t kMinRtcpSize = 8;   // RTCP header + sender SSRC

PacketKind Classify(std::span<const uint8_t> datagram, DropReason* reason = nullptr);

const char* PacketKindName(PacketKind kind);

// Per-transport counters; the owner bumps them with the result of Classify().
struct DemuxStats {
  uint64_t stun = 0;
  uint64_t dtls = 0;
  uint64_t rtp = 0;
  uint64_t rtcp = 0;
  uint64_t dropped = 0;

  void Count(PacketKind kind);
};

}  // namespace aegis::rtc
