// RtpPacket: a parsed view over one RTP packet (RFC 3550 §5.1) in a buffer the
// caller owns and keeps alive; it never copies or allocates. Parse() checks
// every length (CSRCs, RFC 8285 header extensions, padding) against the
// untrusted buffer before any accessor can read it; mutators rewrite fields in
// place for forwarding. A value type owned by one event loop; not thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/status.h"
#include "rtc/byte_io.h"

namespace aegis::rtc {

class RtpPacket {
 public:
  static constexpr size_t kFixedHeaderSize = 12;
  static constexpr uint16_t kOneByteProfile = 0xBEDE;     // RFC 8285 §4.2
  static constexpr uint16_t kTwoByteProfile = 0x1000;     // RFC 8285 §4.3 (low 4 bits: appbits)
  static constexpr uint8_t kMaxOneByteId = 14;            // 15 is reserved, 0 is padding
  static constexpr size_t kMaxOneByteExtensionSize = 16;  // L + 1, L is 4 bits

  enum class ExtensionFormat : uint8_t { kNone, kOneByte, kTwoByte, kOther };

  // An empty, invalid packet; use Parse().
  RtpPacket() = default;

  // Validates `buffer` as one RTP packet; the result views (and mutates) it.
  static Result<RtpPacket> Parse(std::span<uint8_t> buffer);

  // The whole packet (shrinks after RtxDecode()).
  std::span<uint8_t> data() const { return buffer_; }
  size_t size() const { return buffer_.size(); }

  bool has_padding_bit() const;
  bool marker() const;
  uint8_t payload_type() const;
  uint16_t sequence_number() const;
  uint32_t timestamp() const;
  uint32_t ssrc() const;
  uint8_t csrc_count() const { return csrc_count_; }
  uint32_t csrc(size_t index) const;  // 0 when index >= csrc_count()

  size_t header_size() const { return payload_offset_; }  // fixed + CSRCs + extension
  std::span<const uint8_t> payload() const {
    return buffer_.subspan(payload_offset_, payload_size_);
  }
  size_t padding_size() const { return padding_size_; }

  // Header extension block (RFC 3550 §5.3.1): profile and raw data.
  bool has_extension() const { return extension_format_ != ExtensionFormat::kNone; }
  ExtensionFormat extension_format() const { return extension_format_; }
  uint16_t extension_profile() const { return extension_profile_; }
  std::span<const uint8_t> extension_block() const {
    return buffer_.subspan(extension_offset_, extension_size_);
  }

  // RFC 8285 element by local id (one-byte: 1–14; two-byte: 1–255). Absent,
  // id out of range, or an opaque (non-8285) extension profile: nullopt.
  std::optional<std::span<const uint8_t>> GetExtension(uint8_t id) const;
  // Calls fn(id, data) for every element in wire order (padding skipped).
  template <typename Fn>
  void ForEachExtension(Fn&& fn) const;

  // Typed readers for the extensions an SFU routes on; `id` is the locally
  // negotiated extmap id. nullopt when absent or malformed.
  std::optional<std::string_view> GetMid(uint8_t id) const;  // RFC 8843 sdes:mid
  std::optional<std::string_view> GetRid(uint8_t id) const;  // RFC 8852 (repaired-)rtp-stream-id
  std::optional<uint32_t> GetAbsSendTime(uint8_t id) const;  // 24-bit 6.18 fixed point
  std::optional<uint16_t> GetTransportSequenceNumber(uint8_t id) const;  // transport-wide-cc

  // In-place mutators. Header fields cannot fail on a parsed packet.
  void SetMarker(bool marker);
  [[nodiscard]] Status SetPayloadType(uint8_t payload_type);  // > 127: error
  void SetSequenceNumber(uint16_t seq);
  void SetTimestamp(uint32_t timestamp);
  void SetSsrc(uint32_t ssrc);
  [[nodiscard]] Status SetTransportSequenceNumber(uint8_t id, uint16_t seq);

  // Renames extension `from` to `to` (same data, same length). Fails when
  // `from` is absent, `to` is invalid for the format or already present.
  [[nodiscard]] Status RewriteExtensionId(uint8_t from, uint8_t to);
  // Publisher → subscriber id mapping in one pass: each element id i becomes
  // map[i]; map[i] == 0 erases the element (overwritten with padding bytes).
  // All-or-nothing: on error the packet is unchanged.
  [[nodiscard]] Status RemapExtensionIds(const std::array<uint8_t, 256>& map);

  // RFC 4588 §4: original sequence number in the first 2 payload bytes.
  Result<uint16_t> RtxOriginalSequenceNumber() const;
  static Result<uint16_t> RtxOriginalSequenceNumber(std::span<const uint8_t> rtx_payload);
  // Turns this RTX packet back into the original in place: SSRC, PT and
  // sequence number restored, OSN removed, padding dropped; size() shrinks.
  [[nodiscard]] Status RtxDecode(uint8_t original_payload_type, uint32_t original_ssrc);

 private:
  // Walks the RFC 8285 elements; fn(id, data_offset, data_size, header_offset)
  // returns false to stop early. Offsets are into buffer_. Returns false when
  // an element runs past the block (Parse() rejects such packets).
  template <typename Fn>
  bool WalkExtensions(Fn&& fn) const;

  std::span<uint8_t> buffer_;
  size_t extension_offset_ = 0;  // first byte of extension data (after the 4-byte header)
  size_t extension_size_ = 0;
  size_t payload_offset_ = 0;
  size_t payload_size_ = 0;
  size_t padding_size_ = 0;
  uint16_t extension_profile_ = 0;
  uint8_t csrc_count_ = 0;
  ExtensionFormat extension_format_ = ExtensionFormat::kNone;
};

template <typename Fn>
bool RtpPacket::WalkExtensions(Fn&& fn) const {
  if (extension_format_ != ExtensionFormat::kOneByte &&
      extension_format_ != ExtensionFormat::kTwoByte) {
    return true;
  }
  const bool one_byte = extension_format_ == ExtensionFormat::kOneByte;
  ByteReader reader(extension_block());
  while (!reader.empty()) {
    const size_t header_offset = extension_offset_ + reader.position();
    uint8_t first = 0;
    if (!reader.ReadU8(&first)) {
      return false;
    }
    uint8_t id = first;
    size_t len = 0;
    if (one_byte) {
      id = first >> 4;
      if (id == 15) {
        return true;  // RFC 8285 §4.2: reserved, stop processing the block
      }
      len = size_t{static_cast<uint8_t>(first & 0x0F)} + 1;
    }
    if (id == 0) {
      continue;  // a padding byte (both formats)
    }
    if (!one_byte) {
      uint8_t len_byte = 0;
      if (!reader.ReadU8(&len_byte)) {
        return false;
      }
      len = len_byte;
    }
    const size_t data_offset = extension_offset_ + reader.position();
    if (!reader.Skip(len)) {
      return false;
    }
    if (!fn(id, data_offset, len, header_offset)) {
      return true;
    }
  }
  return true;
}

template <typename Fn>
void RtpPacket::ForEachExtension(Fn&& fn) const {
  (void)WalkExtensions([&](uint8_t id, size_t offset, size_t len, size_t) {
    fn(id, std::span<const uint8_t>(buffer_.subspan(offset, len)));
    return true;
  });
}

}  // namespace aegis::rtc
