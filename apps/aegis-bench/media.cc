#include "media.h"

#include <time.h>

#include <algorithm>
#include <cstring>

#include "rtc/byte_io.h"

namespace aegis::bench {
namespace {

uint64_t ClockNs(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

// Descriptor as Chrome writes it: X=1, I=1 with a 15-bit picture id (M=1).
constexpr size_t kVp8DescriptorSize = 4;
constexpr size_t kVp8PayloadHeaderSize = 3;   // RFC 7741 §4.3 / RFC 6386 §9.1
constexpr size_t kVp8KeyframeHeaderSize = 7;  // start code + width + height

bool WritePrefix(rtc::ByteWriter& w, const PayloadPrefix& p) {
  return w.WriteU16(kPrefixMagic) && w.WriteU16(p.stream_id) && w.WriteU32(p.counter) &&
         w.WriteU32(static_cast<uint32_t>(p.send_ns >> 32)) &&
         w.WriteU32(static_cast<uint32_t>(p.send_ns));
}

std::optional<PayloadPrefix> ReadPrefix(rtc::ByteReader& r) {
  uint16_t magic = 0;
  PayloadPrefix p;
  uint32_t hi = 0;
  uint32_t lo = 0;
  if (!r.ReadU16(&magic) || magic != kPrefixMagic || !r.ReadU16(&p.stream_id) ||
      !r.ReadU32(&p.counter) || !r.ReadU32(&hi) || !r.ReadU32(&lo)) {
    return std::nullopt;
  }
  p.send_ns = (uint64_t{hi} << 32) | lo;
  return p;
}

size_t Finish(std::span<uint8_t> out, rtc::ByteWriter& w, size_t size) {
  if (size > out.size()) return 0;
  if (w.size() < size && !w.WriteZeros(size - w.size())) return 0;
  return w.size();
}

}  // namespace

size_t WriteAudioPayload(std::span<uint8_t> out, const PayloadPrefix& prefix, size_t size) {
  rtc::ByteWriter w(out);
  if (!WritePrefix(w, prefix)) return 0;
  return Finish(out, w, std::max(size, kPrefixSize));
}

size_t MinVp8PayloadSize(const Vp8PacketInfo& vp8) {
  size_t n = kVp8DescriptorSize + kPrefixSize;
  if (vp8.start_of_frame) {
    n += kVp8PayloadHeaderSize + (vp8.keyframe ? kVp8KeyframeHeaderSize : 0);
  }
  return n;
}

size_t WriteVp8Payload(std::span<uint8_t> out, const PayloadPrefix& prefix,
                       const Vp8PacketInfo& vp8, size_t size) {
  rtc::ByteWriter w(out);
  // RFC 7741 §4.2: |X|R|N|S|R|PID|, then |I|L|T|K|RSV|, then |M| PictureID (15 bits).
  bool ok = w.WriteU8(static_cast<uint8_t>(0x80 | (vp8.start_of_frame ? 0x10 : 0))) &&
            w.WriteU8(0x80) &&
            w.WriteU16(static_cast<uint16_t>(0x8000 | (vp8.picture_id & 0x7fff)));
  if (ok && vp8.start_of_frame) {
    // RFC 6386 §9.1 frame tag: size0(3) | show_frame(1) | version(3) | P(1);
    // P = 0 marks a keyframe. The partition size bytes are left at zero.
    ok = w.WriteU8(static_cast<uint8_t>(0x10 | (vp8.keyframe ? 0 : 1))) && w.WriteU8(0) &&
         w.WriteU8(0);
    if (ok && vp8.keyframe) {
      // Start code 9d 01 2a, then 640x360 little-endian (RFC 6386 §9.1).
      ok = w.WriteU8(0x9d) && w.WriteU8(0x01) && w.WriteU8(0x2a) && w.WriteU8(0x80) &&
           w.WriteU8(0x02) && w.WriteU8(0x68) && w.WriteU8(0x01);
    }
  }
  if (!ok || !WritePrefix(w, prefix)) return 0;
  return Finish(out, w, std::max(size, MinVp8PayloadSize(vp8)));
}

std::optional<ParsedPayload> ParseBenchPayload(std::span<const uint8_t> payload, PayloadKind kind) {
  rtc::ByteReader r(payload);
  ParsedPayload out;
  if (kind == PayloadKind::kVp8) {
    uint8_t b0 = 0;
    if (!r.ReadU8(&b0)) return std::nullopt;
    Vp8PacketInfo info;
    info.start_of_frame = (b0 & 0x10) != 0 && (b0 & 0x07) == 0;
    if ((b0 & 0x80) != 0) {  // X: extension byte follows
      uint8_t x = 0;
      if (!r.ReadU8(&x)) return std::nullopt;
      if ((x & 0x80) != 0) {  // I: picture id, 7 or 15 bits
        uint8_t p0 = 0;
        if (!r.ReadU8(&p0)) return std::nullopt;
        info.picture_id = p0 & 0x7f;
        if ((p0 & 0x80) != 0) {
          uint8_t p1 = 0;
          if (!r.ReadU8(&p1)) return std::nullopt;
          info.picture_id = static_cast<uint16_t>(((p0 & 0x7f) << 8) | p1);
        }
      }
      uint8_t skip = 0;
      if ((x & 0x40) != 0 && !r.ReadU8(&skip)) return std::nullopt;  // L: TL0PICIDX
      if ((x & 0x30) != 0 && !r.ReadU8(&skip)) return std::nullopt;  // T/K: TID|Y|KEYIDX
    }
    if (info.start_of_frame) {
      uint8_t tag = 0;
      uint8_t ignored = 0;
      if (!r.ReadU8(&tag) || !r.ReadU8(&ignored) || !r.ReadU8(&ignored)) return std::nullopt;
      info.keyframe = (tag & 0x01) == 0;
      if (info.keyframe) {
        for (size_t i = 0; i < kVp8KeyframeHeaderSize; ++i) {
          if (!r.ReadU8(&ignored)) return std::nullopt;
        }
      }
    }
    out.vp8 = info;
  }
  auto prefix = ReadPrefix(r);
  if (!prefix) return std::nullopt;
  out.prefix = *prefix;
  return out;
}

uint64_t MonotonicNs() { return ClockNs(CLOCK_MONOTONIC); }

uint64_t RealtimeNs() { return ClockNs(CLOCK_REALTIME); }

}  // namespace aegis::bench
