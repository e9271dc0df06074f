// RTCP common header (RFC 3550 §6.4) and iteration over a compound packet.
// RtcpCompoundIterator walks untrusted bytes the caller owns, checking each
// packet's version, `length` against the bytes left, padding and a per-type
// minimum body; it yields views and never copies or allocates. Typed parsers
// (rtcp_report.h, rtcp_nack.h, ...) take a view; APP, XR and unknown types are
// yielded for callers to skip. Values on one event loop; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/status.h"
#include "rtc/byte_io.h"

namespace aegis::rtc {

enum class RtcpType : uint8_t {
  kSr = 200,
  kRr = 201,
  kSdes = 202,
  kBye = 203,
  kApp = 204,
  kRtpfb = 205,  // RFC 4585 transport-layer feedback
  kPsfb = 206,   // RFC 4585 payload-specific feedback
  kXr = 207,     // RFC 3611
};

inline constexpr size_t kRtcpHeaderSize = 4;
inline constexpr uint8_t kRtcpMaxCount = 31;  // 5-bit RC/SC/FMT field

// One packet of a compound, as validated by the iterator.
struct RtcpPacketView {
  uint8_t count = 0;  // RC, SC or FMT depending on the type
  uint8_t type = 0;   // packet type (192–223)
  bool padding = false;
  std::span<const uint8_t> packet;  // header included, padding included
  std::span<const uint8_t> body;    // after the 4-byte header, padding excluded

  bool Is(RtcpType t) const { return type == static_cast<uint8_t>(t); }
};

// LevelDB-style iterator:
//   for (RtcpCompoundIterator it(bytes); it.Valid(); it.Next()) { it.packet() }
//   if (!it.status().ok()) { drop the compound }
class RtcpCompoundIterator {
 public:
  explicit RtcpCompoundIterator(std::span<const uint8_t> compound);

  bool Valid() const { return valid_; }
  const RtcpPacketView& packet() const { return current_; }
  void Next();
  // Not OK when iteration stopped on malformed input (including empty input).
  const Status& status() const { return status_; }

 private:
  void ParseCurrent();

  ByteReader reader_;
  RtcpPacketView current_;
  bool valid_ = false;
  Status status_;
};

// Walks the whole compound; OK only if every packet is well-formed.
[[nodiscard]] Status ValidateRtcpCompound(std::span<const uint8_t> compound);

// For builders: writes the 4-byte common header of a packet whose total size
// (header included) is `total_size`, a multiple of 4. No padding.
[[nodiscard]] bool WriteRtcpHeader(ByteWriter& writer, uint8_t count, RtcpType type,
                                   size_t total_size);

}  // namespace aegis::rtc
