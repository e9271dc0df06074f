#include "rtc/rtp/rtp_packet.h"

#include <cstring>

#include "rtc/rtp/wire_error.h"

namespace aegis::rtc {
namespace {

// Field access at offsets Parse() has already proven to be in range; the
// reader/writer still bound every access.
uint8_t U8At(std::span<const uint8_t> data, size_t offset) {
  uint8_t v = 0;
  if (offset > data.size()) return 0;
  ByteReader reader(data.subspan(offset));
  return reader.ReadU8(&v) ? v : 0;
}
uint16_t U16At(std::span<const uint8_t> data, size_t offset) {
  uint16_t v = 0;
  if (offset > data.size()) return 0;
  ByteReader reader(data.subspan(offset));
  return reader.ReadU16(&v) ? v : 0;
}
uint32_t U32At(std::span<const uint8_t> data, size_t offset) {
  uint32_t v = 0;
  if (offset > data.size()) return 0;
  ByteReader reader(data.subspan(offset));
  return reader.ReadU32(&v) ? v : 0;
}
void PutU8(std::span<uint8_t> data, size_t offset, uint8_t v) {
  if (offset > data.size()) return;
  ByteWriter writer(data.subspan(offset));
  (void)writer.WriteU8(v);
}
void PutU16(std::span<uint8_t> data, size_t offset, uint16_t v) {
  if (offset > data.size()) return;
  ByteWriter writer(data.subspan(offset));
  (void)writer.WriteU16(v);
}
void PutU32(std::span<uint8_t> data, size_t offset, uint32_t v) {
  if (offset > data.size()) return;
  ByteWriter writer(data.subspan(offset));
  (void)writer.WriteU32(v);
}

// RFC 4566 token characters (RFC 8843 §15: a MID is a token).
bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::strchr("!#$%&'*+-.^_`{|}~", c) != nullptr && c != '\0';
}
// RFC 8851 §10: rid-id = 1*(alpha-numeric / "-" / "_").
bool IsRidChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// String extensions: libwebrtc treats a NUL as the end of the string, and
// some senders pad with NULs to a word boundary.
std::optional<std::string_view> ExtensionString(std::optional<std::span<const uint8_t>> data,
                                                bool (*valid_char)(char)) {
  if (!data || data->empty()) return std::nullopt;
  std::string_view text(reinterpret_cast<const char*>(data->data()), data->size());
  const size_t nul = text.find('\0');
  if (nul != std::string_view::npos) text = text.substr(0, nul);
  if (text.empty()) return std::nullopt;
  for (char c : text) {
    if (!valid_char(c)) return std::nullopt;
  }
  return text;
}

}  // namespace

Result<RtpPacket> RtpPacket::Parse(std::span<uint8_t> buffer) {
  ByteReader reader(buffer);
  uint8_t first = 0;
  if (!reader.ReadU8(&first) || !reader.Skip(kFixedHeaderSize - 1)) {
    return WireError("rtp_header", "truncated");
  }
  if ((first >> 6) != 2) {
    return WireError("rtp_version", "not 2");
  }
  RtpPacket packet;
  packet.buffer_ = buffer;
  packet.csrc_count_ = first & 0x0F;
  if (!reader.Skip(size_t{packet.csrc_count_} * 4)) {
    return WireError("rtp_csrc_count", "beyond buffer");
  }
  if ((first & 0x10) != 0) {
    uint16_t profile = 0;
    uint16_t words = 0;
    if (!reader.ReadU16(&profile) || !reader.ReadU16(&words)) {
      return WireError("rtp_ext_header", "beyond buffer");
    }
    packet.extension_profile_ = profile;
    packet.extension_offset_ = reader.position();
    packet.extension_size_ = size_t{words} * 4;
    if (!reader.Skip(packet.extension_size_)) {
      return WireError("rtp_ext_length", "beyond buffer");
    }
    if (profile == kOneByteProfile) {
      packet.extension_format_ = ExtensionFormat::kOneByte;
    } else if ((profile & 0xFFF0) == kTwoByteProfile) {
      packet.extension_format_ = ExtensionFormat::kTwoByte;
    } else {
      packet.extension_format_ = ExtensionFormat::kOther;  // opaque, skipped
    }
    if (!packet.WalkExtensions([](uint8_t, size_t, size_t, size_t) { return true; })) {
      return WireError("rtp_ext_element", "beyond block");
    }
  }
  packet.payload_offset_ = reader.position();
  size_t payload_size = reader.remaining();
  if ((first & 0x20) != 0) {
    // RFC 3550 §5.1: the last octet counts the padding octets, itself included.
    if (payload_size == 0) {
      return WireError("rtp_padding", "no payload");
    }
    uint8_t padding = 0;
    ByteReader last(buffer.last(1));
    if (!last.ReadU8(&padding) || padding == 0) {
      return WireError("rtp_padding", "zero");
    }
    if (padding > payload_size) {
      return WireError("rtp_padding", "exceeds payload");
    }
    payload_size -= padding;
    packet.padding_size_ = padding;
  }
  packet.payload_size_ = payload_size;
  return packet;
}

bool RtpPacket::has_padding_bit() const { return (U8At(buffer_, 0) & 0x20) != 0; }
bool RtpPacket::marker() const { return (U8At(buffer_, 1) & 0x80) != 0; }
uint8_t RtpPacket::payload_type() const { return U8At(buffer_, 1) & 0x7F; }
uint16_t RtpPacket::sequence_number() const { return U16At(buffer_, 2); }
uint32_t RtpPacket::timestamp() const { return U32At(buffer_, 4); }
uint32_t RtpPacket::ssrc() const { return U32At(buffer_, 8); }

uint32_t RtpPacket::csrc(size_t index) const {
  if (index >= csrc_count_) return 0;
  return U32At(buffer_, kFixedHeaderSize + index * 4);
}

std::optional<std::span<const uint8_t>> RtpPacket::GetExtension(uint8_t id) const {
  if (id == 0 || (extension_format_ == ExtensionFormat::kOneByte && id > kMaxOneByteId)) {
    return std::nullopt;
  }
  std::optional<std::span<const uint8_t>> found;
  (void)WalkExtensions([&](uint8_t element_id, size_t offset, size_t len, size_t) {
    if (element_id != id) return true;
    found = std::span<const uint8_t>(buffer_.subspan(offset, len));
    return false;
  });
  return found;
}

std::optional<std::string_view> RtpPacket::GetMid(uint8_t id) const {
  return ExtensionString(GetExtension(id), IsTokenChar);
}

std::optional<std::string_view> RtpPacket::GetRid(uint8_t id) const {
  return ExtensionString(GetExtension(id), IsRidChar);
}

std::optional<uint32_t> RtpPacket::GetAbsSendTime(uint8_t id) const {
  const auto data = GetExtension(id);
  if (!data || data->size() != 3) return std::nullopt;
  ByteReader reader(*data);
  uint32_t value = 0;
  if (!reader.ReadU24(&value)) return std::nullopt;
  return value;
}

std::optional<uint16_t> RtpPacket::GetTransportSequenceNumber(uint8_t id) const {
  // transport-wide-cc-01 carries 2 bytes; -02 may append 2 more.
  const auto data = GetExtension(id);
  if (!data || (data->size() != 2 && data->size() != 4)) return std::nullopt;
  ByteReader reader(*data);
  uint16_t seq = 0;
  if (!reader.ReadU16(&seq)) return std::nullopt;
  return seq;
}

void RtpPacket::SetMarker(bool marker) {
  const uint8_t second = U8At(buffer_, 1);
  PutU8(buffer_, 1, static_cast<uint8_t>(marker ? (second | 0x80) : (second & 0x7F)));
}

Status RtpPacket::SetPayloadType(uint8_t payload_type) {
  if (payload_type > 127) {
    return WireError("rtp_pt", "above 127");
  }
  PutU8(buffer_, 1, static_cast<uint8_t>((U8At(buffer_, 1) & 0x80) | payload_type));
  return Status::Ok();
}

void RtpPacket::SetSequenceNumber(uint16_t seq) { PutU16(buffer_, 2, seq); }
void RtpPacket::SetTimestamp(uint32_t timestamp) { PutU32(buffer_, 4, timestamp); }
void RtpPacket::SetSsrc(uint32_t ssrc) { PutU32(buffer_, 8, ssrc); }

Status RtpPacket::SetTransportSequenceNumber(uint8_t id, uint16_t seq) {
  if (!GetTransportSequenceNumber(id)) {
    return WireError("rtp_ext_twcc", "absent");
  }
  const auto data = GetExtension(id);
  PutU16(buffer_, static_cast<size_t>(data->data() - buffer_.data()), seq);
  return Status::Ok();
}

Status RtpPacket::RewriteExtensionId(uint8_t from, uint8_t to) {
  if (extension_format_ != ExtensionFormat::kOneByte &&
      extension_format_ != ExtensionFormat::kTwoByte) {
    return WireError("rtp_ext_format", "not RFC 8285");
  }
  if (to == 0 || (extension_format_ == ExtensionFormat::kOneByte && to > kMaxOneByteId)) {
    return WireError("rtp_ext_id", "invalid target");
  }
  std::optional<size_t> from_header;
  bool to_present = false;
  (void)WalkExtensions([&](uint8_t id, size_t, size_t, size_t header_offset) {
    if (id == from && !from_header) from_header = header_offset;
    if (id == to && from != to) to_present = true;
    return true;
  });
  if (!from_header) {
    return WireError("rtp_ext_id", "absent");
  }
  if (to_present) {
    return WireError("rtp_ext_id", "target in use");
  }
  if (extension_format_ == ExtensionFormat::kOneByte) {
    const uint8_t length_nibble = U8At(buffer_, *from_header) & 0x0F;
    PutU8(buffer_, *from_header, static_cast<uint8_t>((to << 4) | length_nibble));
  } else {
    PutU8(buffer_, *from_header, to);
  }
  return Status::Ok();
}

Status RtpPacket::RemapExtensionIds(const std::array<uint8_t, 256>& map) {
  if (extension_format_ != ExtensionFormat::kOneByte &&
      extension_format_ != ExtensionFormat::kTwoByte) {
    return has_extension() ? WireError("rtp_ext_format", "not RFC 8285") : Status::Ok();
  }
  const bool one_byte = extension_format_ == ExtensionFormat::kOneByte;
  // Pass 1: validate, so a failure leaves the packet untouched.
  // Two different source ids must not collide on one target id; a source id
  // the peer already repeated keeps its (peer-made) duplication.
  std::array<uint8_t, 256> source_of{};
  bool ok = true;
  (void)WalkExtensions([&](uint8_t id, size_t, size_t, size_t) {
    const uint8_t mapped = map[id];
    if (mapped == 0) return true;
    if ((one_byte && mapped > kMaxOneByteId) ||
        (source_of[mapped] != 0 && source_of[mapped] != id)) {
      ok = false;
      return false;
    }
    source_of[mapped] = id;
    return true;
  });
  if (!ok) {
    return WireError("rtp_ext_id", "bad mapping");
  }
  // Pass 2: rewrite. Erased elements become runs of 0x00, which both
  // formats read as padding bytes (RFC 8285 §4.2, §4.3).
  (void)WalkExtensions([&](uint8_t id, size_t data_offset, size_t len, size_t header_offset) {
    const uint8_t mapped = map[id];
    if (mapped == 0) {
      std::span<uint8_t> element =
          buffer_.subspan(header_offset, data_offset + len - header_offset);
      ByteWriter writer(element);
      (void)writer.WriteZeros(element.size());
    } else if (one_byte) {
      const uint8_t length_nibble = U8At(buffer_, header_offset) & 0x0F;
      PutU8(buffer_, header_offset, static_cast<uint8_t>((mapped << 4) | length_nibble));
    } else {
      PutU8(buffer_, header_offset, mapped);
    }
    return true;
  });
  return Status::Ok();
}

Result<uint16_t> RtpPacket::RtxOriginalSequenceNumber(std::span<const uint8_t> rtx_payload) {
  // Janus #3636: a 0- or 1-byte RTX payload has no OSN; never read past it.
  ByteReader reader(rtx_payload);
  uint16_t osn = 0;
  if (!reader.ReadU16(&osn)) {
    return WireError("rtx_payload", "shorter than 2");
  }
  return osn;
}

Result<uint16_t> RtpPacket::RtxOriginalSequenceNumber() const {
  return RtxOriginalSequenceNumber(payload());
}

Status RtpPacket::RtxDecode(uint8_t original_payload_type, uint32_t original_ssrc) {
  Result<uint16_t> osn = RtxOriginalSequenceNumber();
  if (!osn.ok()) {
    return osn.status();
  }
  if (original_payload_type > 127) {
    return WireError("rtp_pt", "above 127");
  }
  const size_t new_payload_size = payload_size_ - 2;
  // Overlapping move: the original payload slides over the 2-byte OSN.
  std::memmove(buffer_.data() + payload_offset_, buffer_.data() + payload_offset_ + 2,
               new_payload_size);
  PutU8(buffer_, 0, static_cast<uint8_t>(U8At(buffer_, 0) & ~0x20));  // padding dropped
  buffer_ = buffer_.first(payload_offset_ + new_payload_size);
  payload_size_ = new_payload_size;
  padding_size_ = 0;
  (void)SetPayloadType(original_payload_type);
  SetSequenceNumber(*osn);
  SetSsrc(original_ssrc);
  return Status::Ok();
}

}  // namespace aegis::rtc
