// RTCP generic NACK (RFC 4585 §6.2.1, RTPFB FMT 1): FCI entries of PID+BLP,
// the entry count derived from the packet length. Expansion into lost
// sequence numbers needs no allocation (a callback, or 17 per entry into a
// fixed array). The builder packs a caller's sequence list into entries.
// A view over the compound buffer; untrusted input. Not thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/status.h"
#include "rtc/byte_io.h"
#include "rtc/rtp/rtcp_feedback.h"
#include "rtc/rtp/rtcp_packet.h"

namespace aegis::rtc {

struct NackEntry {
  static constexpr size_t kSize = 4;
  static constexpr size_t kMaxLost = 17;  // PID + 16 BLP bits

  uint16_t pid = 0;  // packet ID: first lost sequence number
  uint16_t blp = 0;  // bitmask of following lost packets (bit i: pid + i + 1)

  // Writes the lost sequence numbers in order; returns how many (1–17).
  size_t Expand(std::array<uint16_t, kMaxLost>* out) const;
};

class GenericNack {
 public:
  static Result<GenericNack> Parse(const RtcpPacketView& packet);

  uint32_t sender_ssrc() const { return header_.sender_ssrc; }
  uint32_t media_ssrc() const { return header_.media_ssrc; }
  size_t entry_count() const { return header_.fci.size() / NackEntry::kSize; }
  NackEntry entry(size_t index) const;  // zeroed when out of range

  // fn(uint16_t seq) for every lost sequence number, entry by entry.
  template <typename Fn>
  void ForEachLost(Fn&& fn) const {
    std::array<uint16_t, NackEntry::kMaxLost> seqs{};
    for (size_t i = 0; i < entry_count(); ++i) {
      const size_t n = entry(i).Expand(&seqs);
      for (size_t j = 0; j < n; ++j) fn(seqs[j]);
    }
  }

 private:
  FeedbackHeader header_;
};

// Packs `lost` (best in ascending RTP order; duplicates are merged when
// adjacent in an entry) into as few entries as a single in-order pass allows.
[[nodiscard]] Status WriteGenericNack(ByteWriter& writer, uint32_t sender_ssrc, uint32_t media_ssrc,
                                      std::span<const uint16_t> lost);

}  // namespace aegis::rtc
