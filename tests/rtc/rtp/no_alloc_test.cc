// STYLE.md "no allocation per packet": parsing, reading, mutating, building
// and rejecting packets must never reach operator new. This binary links the
// counting allocator (tests/common/counting_allocator.h).
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "common/counting_allocator.h"
#include "rtc/demux.h"
#include "rtc/rtp/rtcp_bye.h"
#include "rtc/rtp/rtcp_feedback.h"
#include "rtc/rtp/rtcp_nack.h"
#include "rtc/rtp/rtcp_packet.h"
#include "rtc/rtp/rtcp_remb.h"
#include "rtc/rtp/rtcp_report.h"
#include "rtc/rtp/rtcp_sdes.h"
#include "rtc/rtp/rtcp_transport_cc.h"
#include "rtc/rtp/rtp_packet.h"
#include "test_packets.h"

namespace aegis::rtc {
namespace {

using testing::Hex;

TEST(NoAlloc, CounterSeesAllocations) {
  const size_t before = aegis::alloc_count::NewCalls();
  auto* leak_check = new std::vector<int>(100);
  asm volatile("" : : "g"(leak_check) : "memory");  // keep the compiler from eliding the pair
  delete leak_check;
  EXPECT_GE(aegis::alloc_count::NewCalls() - before, 2u);
}

TEST(NoAlloc, ParseReadMutateBuildAndRejectTenThousandTimes) {
  // Everything allocated up front.
  const std::vector<uint8_t> opus = Hex(testing::kChromeOpus);
  const std::vector<uint8_t> video = Hex(testing::kCapturedVideoTwoByte);
  const std::vector<uint8_t> twcc = Hex(testing::kCapturedTwcc);
  const std::vector<uint8_t> bad_rtp = Hex("a0600001 00000002 00000003 aabb04");
  const std::vector<uint8_t> bad_rtcp = Hex("80c90001 00000001 81c90000");
  const std::vector<uint8_t> bad_remb =
      Hex("8fce0005 00000001 00000000 52454d42 05012345 00000001");
  const std::array<uint16_t, 5> lost{10, 11, 20, 40, 41};
  const std::array<uint32_t, 1> remb_ssrcs{0x1234};
  std::array<ReportBlock, 1> blocks{};
  std::array<uint8_t, 1500> work{};
  std::array<uint8_t, 512> out{};
  std::array<uint8_t, 256> map{};
  map[1] = 5;
  map[2] = 2;
  map[3] = 1;
  map[4] = 0;
  uint64_t sink = 0;
  size_t failures = 0;

  const size_t before = aegis::alloc_count::NewCalls();
  for (int i = 0; i < 10000; ++i) {
    std::memcpy(work.data(), opus.data(), opus.size());
    std::span<uint8_t> buffer(work.data(), opus.size());
    sink += static_cast<uint64_t>(Classify(buffer));
    Result<RtpPacket> p = RtpPacket::Parse(buffer);
    if (!p.ok()) ++failures;
    if (p.ok()) {
      sink += p->payload_type() + p->sequence_number() + p->timestamp() + p->ssrc();
      sink += p->GetMid(4).value_or("").size() + p->GetAbsSendTime(2).value_or(0);
      sink += p->GetTransportSequenceNumber(3).value_or(0) + p->GetRid(1).has_value();
      p->SetSsrc(static_cast<uint32_t>(i));
      p->SetSequenceNumber(static_cast<uint16_t>(i));
      p->SetTimestamp(static_cast<uint32_t>(i) * 960);
      p->SetMarker((i & 1) != 0);
      failures += !p->SetPayloadType(100).ok();
      failures += !p->SetTransportSequenceNumber(3, static_cast<uint16_t>(i)).ok();
      failures += !p->RewriteExtensionId(4, 9).ok();
      failures += !p->RemapExtensionIds(map).ok();
      failures += !p->RtxOriginalSequenceNumber().ok();
    }
    std::memcpy(work.data(), video.data(), video.size());
    Result<RtpPacket> v = RtpPacket::Parse(std::span<uint8_t>(work.data(), video.size()));
    failures += !v.ok();
    if (v.ok()) sink += v->GetExtension(13)->size();

    // RTCP: builders into a compound, then parse it back.
    ByteWriter writer(out);
    failures += !WriteReceiverReport(writer, 1, blocks).ok();
    failures += !WriteSenderReport(writer, SenderInfo{}, blocks).ok();
    failures += !WritePli(writer, 1, 2).ok();
    failures += !WriteFir(writer, 1, std::array<FirEntry, 1>{FirEntry{2, 3}}).ok();
    failures += !WriteGenericNack(writer, 1, 2, lost).ok();
    failures += !WriteRemb(writer, 1, 2'000'000, remb_ssrcs).ok();
    for (RtcpCompoundIterator it(writer.Written()); it.Valid(); it.Next()) {
      const RtcpPacketView& pkt = it.packet();
      if (pkt.Is(RtcpType::kRr)) sink += ReceiverReport::Parse(pkt)->report_block(0).ssrc;
      if (pkt.Is(RtcpType::kSr)) sink += SenderReport::Parse(pkt)->report_count();
      if (pkt.Is(RtcpType::kRtpfb)) {
        GenericNack::Parse(pkt)->ForEachLost([&](uint16_t seq) { sink += seq; });
      }
      if (pkt.Is(RtcpType::kPsfb) && pkt.count == 1) sink += Pli::Parse(pkt)->media_ssrc();
      if (pkt.Is(RtcpType::kPsfb) && pkt.count == 4) sink += Fir::Parse(pkt)->entry_count();
      if (pkt.Is(RtcpType::kPsfb) && pkt.count == 15) sink += Remb::Parse(pkt)->bitrate_bps();
    }
    RtcpCompoundIterator t(twcc);
    Result<TransportCcFeedback> fb = TransportCcFeedback::Parse(t.packet());
    failures += !fb.ok();
    if (fb.ok()) fb->ForEachPacket([&](uint16_t seq, TwccStatus, int32_t d) { sink += seq + d; });

    // Rejections carry a Status too; it must fit the small-string buffer.
    std::memcpy(work.data(), bad_rtp.data(), bad_rtp.size());
    failures += RtpPacket::Parse(std::span<uint8_t>(work.data(), bad_rtp.size())).ok();
    failures += ValidateRtcpCompound(bad_rtcp).ok();
    RtcpCompoundIterator r(bad_remb);
    failures += Remb::Parse(r.packet()).ok();
  }
  const size_t allocations = aegis::alloc_count::NewCalls() - before;
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(failures, 0u);
  EXPECT_NE(sink, 0u);
}

}  // namespace
}  // namespace aegis::rtc
