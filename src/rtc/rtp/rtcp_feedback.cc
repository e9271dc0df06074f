#include "rtc/rtp/rtcp_feedback.h"

#include "rtc/rtp/wire_error.h"

namespace aegis::rtc {

Result<FeedbackHeader> FeedbackHeader::Parse(const RtcpPacketView& packet, RtcpType type,
                                             uint8_t fmt) {
  if (!packet.Is(type) || packet.count != fmt) {
    return WireError("rtcp_fb", "wrong type");
  }
  ByteReader reader(packet.body);
  FeedbackHeader header;
  if (!reader.ReadU32(&header.sender_ssrc) || !reader.ReadU32(&header.media_ssrc)) {
    return WireError("rtcp_fb", "truncated");
  }
  header.fci = reader.Rest();
  return header;
}

bool WriteFeedbackHeader(ByteWriter& writer, RtcpType type, uint8_t fmt, uint32_t sender_ssrc,
                         uint32_t media_ssrc, size_t fci_size) {
  return WriteRtcpHeader(writer, fmt, type, kRtcpHeaderSize + FeedbackHeader::kSize + fci_size) &&
         writer.WriteU32(sender_ssrc) && writer.WriteU32(media_ssrc);
}

Result<Pli> Pli::Parse(const RtcpPacketView& packet) {
  Result<FeedbackHeader> header =
      FeedbackHeader::Parse(packet, RtcpType::kPsfb, static_cast<uint8_t>(PsfbFormat::kPli));
  if (!header.ok()) {
    return header.status();
  }
  Pli pli;
  pli.header_ = *header;
  return pli;
}

Result<Fir> Fir::Parse(const RtcpPacketView& packet) {
  Result<FeedbackHeader> header =
      FeedbackHeader::Parse(packet, RtcpType::kPsfb, static_cast<uint8_t>(PsfbFormat::kFir));
  if (!header.ok()) {
    return header.status();
  }
  if (header->fci.empty() || header->fci.size() % FirEntry::kSize != 0) {
    return WireError("rtcp_fir_fci", "bad count");
  }
  Fir fir;
  fir.header_ = *header;
  return fir;
}

FirEntry Fir::entry(size_t index) const {
  FirEntry entry;
  if (index >= entry_count()) return entry;
  ByteReader reader(header_.fci.subspan(index * FirEntry::kSize, FirEntry::kSize));
  if (!reader.ReadU32(&entry.ssrc) || !reader.ReadU8(&entry.sequence_number)) return FirEntry{};
  return entry;
}

Status WritePli(ByteWriter& writer, uint32_t sender_ssrc, uint32_t media_ssrc) {
  if (writer.remaining() < kRtcpHeaderSize + FeedbackHeader::kSize ||
      !WriteFeedbackHeader(writer, RtcpType::kPsfb, static_cast<uint8_t>(PsfbFormat::kPli),
                           sender_ssrc, media_ssrc, 0)) {
    return WireError("rtcp_build", "no space");
  }
  return Status::Ok();
}

Status WriteFir(ByteWriter& writer, uint32_t sender_ssrc, std::span<const FirEntry> entries) {
  if (entries.empty()) {
    return WireError("rtcp_fir_fci", "no entries");
  }
  const size_t fci_size = entries.size() * FirEntry::kSize;
  if (writer.remaining() < kRtcpHeaderSize + FeedbackHeader::kSize + fci_size) {
    return WireError("rtcp_build", "no space");
  }
  bool ok = WriteFeedbackHeader(writer, RtcpType::kPsfb, static_cast<uint8_t>(PsfbFormat::kFir),
                                sender_ssrc, 0, fci_size);
  for (const FirEntry& entry : entries) {
    ok = ok && writer.WriteU32(entry.ssrc) && writer.WriteU8(entry.sequence_number) &&
         writer.WriteZeros(3);
  }
  return ok ? Status::Ok() : WireError("rtcp_build", "no space");
}

}  // namespace aegis::rtc
