#include "rtc/rtp/codecs.h"

#include "rtc/rtp/wire_error.h"

namespace aegis::rtc {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

constexpr uint8_t kNalIdr = 5;
constexpr uint8_t kNalSps = 7;
constexpr uint8_t kNalStapA = 24;
constexpr uint8_t kNalFuA = 28;

bool IsH264KeyNal(uint8_t nal_header) {
  const uint8_t type = nal_header & 0x1F;
  return type == kNalIdr || type == kNalSps;
}

}  // namespace

VideoCodec VideoCodecFromName(std::string_view encoding_name) {
  if (EqualsIgnoreCase(encoding_name, "VP8")) return VideoCodec::kVp8;
  if (EqualsIgnoreCase(encoding_name, "H264")) return VideoCodec::kH264;
  return VideoCodec::kUnknown;
}

Result<Vp8Descriptor> ParseVp8Descriptor(std::span<const uint8_t> payload) {
  // RFC 7741 §4.2:  |X|R|N|S|R| PID | then, when X: |I|L|T|K| RSV |, then
  // I: |M| PictureID (7 or 15 bits)|, L: TL0PICIDX, T|K: |TID|Y| KEYIDX |.
  Vp8Descriptor d;
  size_t pos = 0;
  if (payload.empty()) return WireError("vp8_descriptor", "empty payload");
  const uint8_t first = payload[pos++];
  d.start_of_partition = (first & 0x10) != 0;
  d.partition_id = first & 0x07;
  if ((first & 0x80) != 0) {
    if (pos >= payload.size()) return WireError("vp8_descriptor", "short X");
    const uint8_t x = payload[pos++];
    if ((x & 0x80) != 0) {
      if (pos >= payload.size()) return WireError("vp8_descriptor", "short I");
      d.has_picture_id = true;
      d.picture_id_offset = pos;
      if ((payload[pos] & 0x80) != 0) {
        if (pos + 1 >= payload.size()) return WireError("vp8_descriptor", "short M");
        d.picture_id_15bit = true;
        d.picture_id = static_cast<uint16_t>(((payload[pos] & 0x7F) << 8) | payload[pos + 1]);
        pos += 2;
      } else {
        d.picture_id = payload[pos] & 0x7F;
        pos += 1;
      }
    }
    if ((x & 0x40) != 0) {
      if (pos >= payload.size()) return WireError("vp8_descriptor", "short L");
      d.has_tl0picidx = true;
      d.tl0picidx_offset = pos;
      d.tl0picidx = payload[pos++];
    }
    if ((x & 0x30) != 0) {
      if (pos >= payload.size()) return WireError("vp8_descriptor", "short T/K");
      ++pos;
    }
  }
  d.size = pos;
  return d;
}

bool IsVp8KeyFrame(std::span<const uint8_t> payload) {
  auto d = ParseVp8Descriptor(payload);
  if (!d.ok() || !d->start_of_partition || d->partition_id != 0) return false;
  if (d->size >= payload.size()) return false;  // no VP8 payload header
  return (payload[d->size] & 0x01) == 0;        // P: 0 = key frame (RFC 6386 §9.1)
}

bool IsH264KeyFrame(std::span<const uint8_t> payload) {
  if (payload.empty()) return false;
  const uint8_t type = payload[0] & 0x1F;
  if (type >= 1 && type <= 23) return IsH264KeyNal(payload[0]);
  if (type == kNalStapA) {
    // STAP-A: header, then (16-bit size, NAL unit)*.
    size_t pos = 1;
    while (pos + 2 < payload.size()) {
      const size_t size = (size_t{payload[pos]} << 8) | payload[pos + 1];
      pos += 2;
      if (size == 0 || size > payload.size() - pos) return false;
      if (IsH264KeyNal(payload[pos])) return true;
      pos += size;
    }
    return false;
  }
  if (type == kNalFuA) {
    // FU indicator, FU header |S|E|R|Type|: the start fragment of a key NAL.
    if (payload.size() < 2) return false;
    return (payload[1] & 0x80) != 0 && IsH264KeyNal(payload[1]);
  }
  return false;
}

bool IsKeyFrame(VideoCodec codec, std::span<const uint8_t> payload) {
  switch (codec) {
    case VideoCodec::kVp8:
      return IsVp8KeyFrame(payload);
    case VideoCodec::kH264:
      return IsH264KeyFrame(payload);
    case VideoCodec::kUnknown:
      return false;
  }
  return false;
}

void WriteVp8PictureId(std::span<uint8_t> payload, const Vp8Descriptor& d, uint16_t picture_id) {
  if (!d.has_picture_id) return;
  const size_t pos = d.picture_id_offset;
  if (d.picture_id_15bit) {
    if (pos + 1 >= payload.size()) return;
    payload[pos] = static_cast<uint8_t>(0x80 | ((picture_id >> 8) & 0x7F));
    payload[pos + 1] = static_cast<uint8_t>(picture_id & 0xFF);
  } else {
    if (pos >= payload.size()) return;
    payload[pos] = static_cast<uint8_t>(picture_id & 0x7F);
  }
}

void WriteVp8Tl0PicIdx(std::span<uint8_t> payload, const Vp8Descriptor& d, uint8_t tl0picidx) {
  if (!d.has_tl0picidx || d.tl0picidx_offset >= payload.size()) return;
  payload[d.tl0picidx_offset] = tl0picidx;
}

}  // namespace aegis::rtc
