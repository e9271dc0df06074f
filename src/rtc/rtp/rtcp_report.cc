#include "rtc/rtp/rtcp_report.h"

#include "rtc/rtp/wire_error.h"

namespace aegis::rtc {
namespace {

ReportBlock BlockAt(std::span<const uint8_t> blocks, size_t index) {
  ReportBlock block;
  if (index >= blocks.size() / ReportBlock::kSize) return block;
  ByteReader reader(blocks.subspan(index * ReportBlock::kSize, ReportBlock::kSize));
  if (!block.Read(reader)) return ReportBlock{};
  return block;
}

}  // namespace

bool ReportBlock::Read(ByteReader& reader) {
  uint32_t lost = 0;
  if (!reader.ReadU32(&ssrc) || !reader.ReadU8(&fraction_lost) || !reader.ReadU24(&lost) ||
      !reader.ReadU32(&extended_highest_sequence) || !reader.ReadU32(&jitter) ||
      !reader.ReadU32(&last_sr) || !reader.ReadU32(&delay_since_last_sr)) {
    return false;
  }
  // Sign-extend the 24-bit two's complement value.
  cumulative_lost = static_cast<int32_t>(lost << 8) >> 8;
  return true;
}

bool ReportBlock::Write(ByteWriter& writer) const {
  // Clamp to the 24-bit signed range (RFC 3550 §6.4.1).
  int32_t lost = cumulative_lost;
  if (lost > 0x7FFFFF) lost = 0x7FFFFF;
  if (lost < -0x800000) lost = -0x800000;
  const uint32_t lost24 = static_cast<uint32_t>(lost) & 0xFFFFFF;
  return writer.WriteU32(ssrc) && writer.WriteU8(fraction_lost) &&
         writer.WriteU8(static_cast<uint8_t>(lost24 >> 16)) &&
         writer.WriteU16(static_cast<uint16_t>(lost24)) &&
         writer.WriteU32(extended_highest_sequence) && writer.WriteU32(jitter) &&
         writer.WriteU32(last_sr) && writer.WriteU32(delay_since_last_sr);
}

Result<SenderReport> SenderReport::Parse(const RtcpPacketView& packet) {
  if (!packet.Is(RtcpType::kSr)) {
    return WireError("rtcp_sr", "wrong type");
  }
  ByteReader reader(packet.body);
  SenderReport sr;
  uint32_t ntp_high = 0;
  uint32_t ntp_low = 0;
  if (!reader.ReadU32(&sr.info_.ssrc) || !reader.ReadU32(&ntp_high) || !reader.ReadU32(&ntp_low) ||
      !reader.ReadU32(&sr.info_.rtp_timestamp) || !reader.ReadU32(&sr.info_.packet_count) ||
      !reader.ReadU32(&sr.info_.octet_count)) {
    return WireError("rtcp_sr", "truncated");
  }
  sr.info_.ntp_timestamp = (uint64_t{ntp_high} << 32) | ntp_low;
  if (!reader.ReadBytes(size_t{packet.count} * ReportBlock::kSize, &sr.blocks_)) {
    return WireError("rtcp_sr_count", "beyond length");
  }
  return sr;
}

ReportBlock SenderReport::report_block(size_t index) const { return BlockAt(blocks_, index); }

Result<ReceiverReport> ReceiverReport::Parse(const RtcpPacketView& packet) {
  if (!packet.Is(RtcpType::kRr)) {
    return WireError("rtcp_rr", "wrong type");
  }
  ByteReader reader(packet.body);
  ReceiverReport rr;
  if (!reader.ReadU32(&rr.sender_ssrc_)) {
    return WireError("rtcp_rr", "truncated");
  }
  if (!reader.ReadBytes(size_t{packet.count} * ReportBlock::kSize, &rr.blocks_)) {
    return WireError("rtcp_rr_count", "beyond length");
  }
  return rr;
}

ReportBlock ReceiverReport::report_block(size_t index) const { return BlockAt(blocks_, index); }

Status WriteSenderReport(ByteWriter& writer, const SenderInfo& info,
                         std::span<const ReportBlock> blocks) {
  if (blocks.size() > kRtcpMaxCount) {
    return WireError("rtcp_sr_count", "above 31");
  }
  const size_t total = kRtcpHeaderSize + 24 + blocks.size() * ReportBlock::kSize;
  if (writer.remaining() < total) {
    return WireError("rtcp_build", "no space");
  }
  bool ok = WriteRtcpHeader(writer, static_cast<uint8_t>(blocks.size()), RtcpType::kSr, total) &&
            writer.WriteU32(info.ssrc) &&
            writer.WriteU32(static_cast<uint32_t>(info.ntp_timestamp >> 32)) &&
            writer.WriteU32(static_cast<uint32_t>(info.ntp_timestamp)) &&
            writer.WriteU32(info.rtp_timestamp) && writer.WriteU32(info.packet_count) &&
            writer.WriteU32(info.octet_count);
  for (const ReportBlock& block : blocks) {
    ok = ok && block.Write(writer);
  }
  return ok ? Status::Ok() : WireError("rtcp_build", "no space");
}

Status WriteReceiverReport(ByteWriter& writer, uint32_t sender_ssrc,
                           std::span<const ReportBlock> blocks) {
  if (blocks.size() > kRtcpMaxCount) {
    return WireError("rtcp_rr_count", "above 31");
  }
  const size_t total = kRtcpHeaderSize + 4 + blocks.size() * ReportBlock::kSize;
  if (writer.remaining() < total) {
    return WireError("rtcp_build", "no space");
  }
  bool ok = WriteRtcpHeader(writer, static_cast<uint8_t>(blocks.size()), RtcpType::kRr, total) &&
            writer.WriteU32(sender_ssrc);
  for (const ReportBlock& block : blocks) {
    ok = ok && block.Write(writer);
  }
  return ok ? Status::Ok() : WireError("rtcp_build", "no space");
}

}  // namespace aegis::rtc
