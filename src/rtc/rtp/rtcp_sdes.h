// RTCP source description (RFC 3550 §6.5), parse-only: Parse() walks every
// chunk and item of the untrusted body and rejects any item or chunk padding
// that runs past it; ForEachItem() then re-walks the same validated bytes.
// A view over the compound buffer (which must outlive it); no allocation.
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/status.h"
#include "rtc/byte_io.h"
#include "rtc/rtp/rtcp_packet.h"

namespace aegis::rtc {

enum class SdesItemType : uint8_t {
  kEnd = 0,
  kCname = 1,
  kName = 2,
  kEmail = 3,
  kPhone = 4,
  kLoc = 5,
  kTool = 6,
  kNote = 7,
  kPriv = 8,
};

class Sdes {
 public:
  static Result<Sdes> Parse(const RtcpPacketView& packet);

  size_t chunk_count() const { return chunk_count_; }
  // fn(uint32_t ssrc, uint8_t item_type, std::string_view value) per item.
  template <typename Fn>
  void ForEachItem(Fn&& fn) const;

 private:
  // Walks chunks; returns false at the first malformed byte.
  template <typename Fn>
  static bool Walk(std::span<const uint8_t> body, size_t chunks, Fn&& fn);

  std::span<const uint8_t> body_;
  size_t chunk_count_ = 0;
};

template <typename Fn>
bool Sdes::Walk(std::span<const uint8_t> body, size_t chunks, Fn&& fn) {
  ByteReader reader(body);
  for (size_t chunk = 0; chunk < chunks; ++chunk) {
    uint32_t ssrc = 0;
    if (!reader.ReadU32(&ssrc)) return false;
    while (true) {
      uint8_t type = 0;
      if (!reader.ReadU8(&type)) return false;
      if (type == static_cast<uint8_t>(SdesItemType::kEnd)) {
        // The null item is followed by zeros up to the next 32-bit boundary
        // (the body starts 32-bit aligned).
        const size_t misalignment = reader.position() % 4;
        if (misalignment != 0 && !reader.Skip(4 - misalignment)) return false;
        break;
      }
      uint8_t length = 0;
      std::span<const uint8_t> value;
      if (!reader.ReadU8(&length) || !reader.ReadBytes(length, &value)) return false;
      fn(ssrc, type, std::string_view(reinterpret_cast<const char*>(value.data()), value.size()));
    }
  }
  return true;
}

template <typename Fn>
void Sdes::ForEachItem(Fn&& fn) const {
  (void)Walk(body_, chunk_count_, fn);
}

}  // namespace aegis::rtc
