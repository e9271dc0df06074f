// RTCP sender and receiver reports (RFC 3550 §6.4.1, §6.4.2): parsed views
// over an RtcpPacketView (no copy; the compound buffer must outlive them) and
// builders that write into a caller-owned ByteWriter. Report count is checked
// against the length by the iterator and again here; profile-specific
// extensions after the blocks are ignored. Value types; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/status.h"
#include "rtc/byte_io.h"
#include "rtc/rtp/rtcp_packet.h"

namespace aegis::rtc {

struct ReportBlock {
  static constexpr size_t kSize = 24;

  uint32_t ssrc = 0;
  uint8_t fraction_lost = 0;
  int32_t cumulative_lost = 0;  // 24-bit signed on the wire
  uint32_t extended_highest_sequence = 0;
  uint32_t jitter = 0;
  uint32_t last_sr = 0;
  uint32_t delay_since_last_sr = 0;

  [[nodiscard]] bool Read(ByteReader& reader);
  [[nodiscard]] bool Write(ByteWriter& writer) const;
  bool operator==(const ReportBlock&) const = default;
};

struct SenderInfo {
  uint32_t ssrc = 0;
  uint64_t ntp_timestamp = 0;  // 32.32 fixed point
  uint32_t rtp_timestamp = 0;
  uint32_t packet_count = 0;
  uint32_t octet_count = 0;
  bool operator==(const SenderInfo&) const = default;
};

class SenderReport {
 public:
  static Result<SenderReport> Parse(const RtcpPacketView& packet);

  const SenderInfo& sender_info() const { return info_; }
  size_t report_count() const { return blocks_.size() / ReportBlock::kSize; }
  ReportBlock report_block(size_t index) const;  // zeroed when out of range

 private:
  SenderInfo info_;
  std::span<const uint8_t> blocks_;
};

class ReceiverReport {
 public:
  static Result<ReceiverReport> Parse(const RtcpPacketView& packet);

  uint32_t sender_ssrc() const { return sender_ssrc_; }
  size_t report_count() const { return blocks_.size() / ReportBlock::kSize; }
  ReportBlock report_block(size_t index) const;

 private:
  uint32_t sender_ssrc_ = 0;
  std::span<const uint8_t> blocks_;
};

// Builders. At most 31 blocks; on error nothing useful was written and the
// caller discards the writer's buffer.
[[nodiscard]] Status WriteSenderReport(ByteWriter& writer, const SenderInfo& info,
                                       std::span<const ReportBlock> blocks);
[[nodiscard]] Status WriteReceiverReport(ByteWriter& writer, uint32_t sender_ssrc,
                                         std::span<const ReportBlock> blocks);

}  // namespace aegis::rtc
