#include "rtc/rtp/rtcp_nack.h"

#include "rtc/rtp/wire_error.h"

namespace aegis::rtc {
namespace {

// Calls emit(entry) for each packed entry; returns the entry count.
template <typename Emit>
size_t Pack(std::span<const uint16_t> lost, Emit&& emit) {
  size_t count = 0;
  size_t i = 0;
  while (i < lost.size()) {
    NackEntry entry;
    entry.pid = lost[i++];
    while (i < lost.size()) {
      const uint16_t distance = static_cast<uint16_t>(lost[i] - entry.pid);
      if (distance == 0) {
        ++i;  // duplicate of the PID
        continue;
      }
      if (distance > 16) break;
      entry.blp = static_cast<uint16_t>(entry.blp | (1u << (distance - 1)));
      ++i;
    }
    emit(entry);
    ++count;
  }
  return count;
}

}  // namespace

size_t NackEntry::Expand(std::array<uint16_t, kMaxLost>* out) const {
  size_t n = 0;
  (*out)[n++] = pid;
  for (unsigned bit = 0; bit < 16; ++bit) {
    if ((blp >> bit) & 1u) {
      (*out)[n++] = static_cast<uint16_t>(pid + bit + 1);
    }
  }
  return n;
}

Result<GenericNack> GenericNack::Parse(const RtcpPacketView& packet) {
  Result<FeedbackHeader> header =
      FeedbackHeader::Parse(packet, RtcpType::kRtpfb, static_cast<uint8_t>(RtpfbFormat::kNack));
  if (!header.ok()) {
    return header.status();
  }
  if (header->fci.empty() || header->fci.size() % NackEntry::kSize != 0) {
    return WireError("rtcp_nack_fci", "bad count");
  }
  GenericNack nack;
  nack.header_ = *header;
  return nack;
}

NackEntry GenericNack::entry(size_t index) const {
  NackEntry entry;
  if (index >= entry_count()) return entry;
  ByteReader reader(header_.fci.subspan(index * NackEntry::kSize, NackEntry::kSize));
  if (!reader.ReadU16(&entry.pid) || !reader.ReadU16(&entry.blp)) return NackEntry{};
  return entry;
}

Status WriteGenericNack(ByteWriter& writer, uint32_t sender_ssrc, uint32_t media_ssrc,
                        std::span<const uint16_t> lost) {
  if (lost.empty()) {
    return WireError("rtcp_nack_fci", "no entries");
  }
  const size_t entries = Pack(lost, [](const NackEntry&) {});
  const size_t fci_size = entries * NackEntry::kSize;
  if (writer.remaining() < kRtcpHeaderSize + FeedbackHeader::kSize + fci_size) {
    return WireError("rtcp_build", "no space");
  }
  bool ok = WriteFeedbackHeader(writer, RtcpType::kRtpfb, static_cast<uint8_t>(RtpfbFormat::kNack),
                                sender_ssrc, media_ssrc, fci_size);
  Pack(lost, [&](const NackEntry& entry) {
    ok = ok && writer.WriteU16(entry.pid) && writer.WriteU16(entry.blp);
  });
  return ok ? Status::Ok() : WireError("rtcp_build", "no space");
}

}  // namespace aegis::rtc
