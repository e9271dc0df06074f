// Synthetic media of aegis-bench. Every payload starts (after the VP8 payload
// descriptor and header for video, RFC 7741 §4.2–4.3, so a server that looks
// for keyframes sees real S/P bits) with a 16-byte prefix: magic, a 16-bit
// stream id, the publisher-assigned 32-bit counter and the CLOCK_MONOTONIC
// send time in ns. Receivers find the prefix again with ParseBenchPayload(),
// which treats the payload as untrusted (bounds-checked, never asserts).
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace aegis::bench {

inline constexpr size_t kPrefixSize = 16;
inline constexpr uint16_t kPrefixMagic = 0xAE61;
// Largest RTP packet we build before SRTP (the "<= 1200 bytes").
inline constexpr size_t kMaxRtpPacket = 1200;
// RTP fixed header + our one-byte extension block (MID, 8 bytes).
inline constexpr size_t kRtpHeaderBytes = 12 + 8;
inline constexpr size_t kMaxRtpPayload = kMaxRtpPacket - kRtpHeaderBytes;

struct PayloadPrefix {
  uint16_t stream_id = 0;
  uint32_t counter = 0;
  uint64_t send_ns = 0;
  bool operator==(const PayloadPrefix&) const = default;
};

enum class PayloadKind : uint8_t { kAudio, kVp8 };

struct Vp8PacketInfo {
  bool start_of_frame = false;  // S=1 and partition 0
  bool keyframe = false;        // only meaningful when start_of_frame (P bit = 0)
  uint16_t picture_id = 0;
};

// Writes one synthetic payload of exactly `size` bytes into `out` (size is
// raised to the minimum the layout needs). Returns the bytes written, or 0
// when `out` is too small.
size_t WriteAudioPayload(std::span<uint8_t> out, const PayloadPrefix& prefix, size_t size);
size_t WriteVp8Payload(std::span<uint8_t> out, const PayloadPrefix& prefix,
                       const Vp8PacketInfo& vp8, size_t size);
// Smallest payload WriteVp8Payload() produces for that packet position.
size_t MinVp8PayloadSize(const Vp8PacketInfo& vp8);

struct ParsedPayload {
  PayloadPrefix prefix;
  std::optional<Vp8PacketInfo> vp8;  // set for kVp8
};

// nullopt when the payload is not one of ours (too short, bad VP8
// descriptor, wrong magic).
std::optional<ParsedPayload> ParseBenchPayload(std::span<const uint8_t> payload, PayloadKind kind);

// CLOCK_MONOTONIC in ns (the same clock for publishers and subscribers of
// one process, so one-way latency is a plain difference).
uint64_t MonotonicNs();
// CLOCK_REALTIME in ns (the clock of kernel receive timestamps).
uint64_t RealtimeNs();

}  // namespace aegis::bench
