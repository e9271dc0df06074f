// RTCP feedback (RFC 4585 §6.1) common header, plus the two picture-loss
// messages an SFU relays: PLI (PSFB FMT 1) and FIR (RFC 5104 §4.3.1, PSFB
// FMT 4, 8-byte FCI entries). Views over the compound buffer (which must
// outlive them) and builders into a caller-owned ByteWriter; no allocation;
// untrusted input. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/status.h"
#include "rtc/byte_io.h"
#include "rtc/rtp/rtcp_packet.h"

namespace aegis::rtc {

enum class RtpfbFormat : uint8_t { kNack = 1, kTransportCc = 15 };
enum class PsfbFormat : uint8_t { kPli = 1, kFir = 4, kAfb = 15 };  // AFB: REMB

struct FeedbackHeader {
  static constexpr size_t kSize = 8;

  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;
  std::span<const uint8_t> fci;  // feedback control information

  // Checks type and FMT, splits off the FCI.
  static Result<FeedbackHeader> Parse(const RtcpPacketView& packet, RtcpType type, uint8_t fmt);
};

// Writes the RTCP header plus sender/media SSRC for a feedback packet whose
// FCI is `fci_size` bytes (a multiple of 4).
[[nodiscard]] bool WriteFeedbackHeader(ByteWriter& writer, RtcpType type, uint8_t fmt,
                                       uint32_t sender_ssrc, uint32_t media_ssrc, size_t fci_size);

class Pli {
 public:
  static Result<Pli> Parse(const RtcpPacketView& packet);
  uint32_t sender_ssrc() const { return header_.sender_ssrc; }
  uint32_t media_ssrc() const { return header_.media_ssrc; }

 private:
  FeedbackHeader header_;
};

struct FirEntry {
  static constexpr size_t kSize = 8;
  uint32_t ssrc = 0;
  uint8_t sequence_number = 0;
  bool operator==(const FirEntry&) const = default;
};

class Fir {
 public:
  static Result<Fir> Parse(const RtcpPacketView& packet);
  uint32_t sender_ssrc() const { return header_.sender_ssrc; }
  size_t entry_count() const { return header_.fci.size() / FirEntry::kSize; }
  FirEntry entry(size_t index) const;  // zeroed when out of range

 private:
  FeedbackHeader header_;
};

[[nodiscard]] Status WritePli(ByteWriter& writer, uint32_t sender_ssrc, uint32_t media_ssrc);
// RFC 5104 §4.3.1.2: the media SSRC field is 0; targets are in the entries.
[[nodiscard]] Status WriteFir(ByteWriter& writer, uint32_t sender_ssrc,
                              std::span<const FirEntry> entries);

}  // namespace aegis::rtc
