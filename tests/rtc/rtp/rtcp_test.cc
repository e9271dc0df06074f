#include <gtest/gtest.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "rtc/rtp/rtcp_bye.h"
#include "rtc/rtp/rtcp_feedback.h"
#include "rtc/rtp/rtcp_nack.h"
#include "rtc/rtp/rtcp_packet.h"
#include "rtc/rtp/rtcp_remb.h"
#include "rtc/rtp/rtcp_report.h"
#include "rtc/rtp/rtcp_sdes.h"
#include "rtc/rtp/rtcp_transport_cc.h"
#include "test_packets.h"

namespace aegis::rtc {
namespace {

using testing::Hex;

// Parses a buffer that must hold exactly one RTCP packet.
RtcpPacketView Single(std::span<const uint8_t> bytes) {
  RtcpCompoundIterator it(bytes);
  EXPECT_TRUE(it.Valid()) << it.status().ToString();
  RtcpPacketView view = it.packet();
  it.Next();
  EXPECT_FALSE(it.Valid());
  EXPECT_TRUE(it.status().ok()) << it.status().ToString();
  return view;
}

// A Chrome-style compound: SR with one report block, SDES CNAME, then an
// APP and an XR packet that are recognised and skipped.
constexpr std::string_view kCompound =
    // SR, RC=1, length 12
    "81c8000c 1b2c3d4e e7a1b2c3 80000000 5f3e2d10 00000064 00003e80"
    "f7b16e83 05fffffe 00011a5f 00000020 b2c38000 00010000"
    // SDES, SC=1: CNAME "abcdefghijklmnop" (16) + END + 2 pad
    "81ca0006 1b2c3d4e 01106162 63646566 6768696a 6b6c6d6e 6f700000"
    // APP subtype 0, name "test", 4 bytes of data
    "80cc0003 1b2c3d4e 74657374 01020304"
    // XR with one 8-byte block
    "80cf0004 1b2c3d4e 04000002 e7a1b2c3 80000000";

TEST(Rtcp, IteratesRealisticCompound) {
  std::vector<uint8_t> bytes = Hex(kCompound);
  ASSERT_TRUE(ValidateRtcpCompound(bytes).ok());
  std::vector<uint8_t> types;
  for (RtcpCompoundIterator it(bytes); it.Valid(); it.Next()) {
    const RtcpPacketView& packet = it.packet();
    types.push_back(packet.type);
    if (packet.Is(RtcpType::kSr)) {
      Result<SenderReport> sr = SenderReport::Parse(packet);
      ASSERT_TRUE(sr.ok()) << sr.status().ToString();
      EXPECT_EQ(sr->sender_info().ssrc, 0x1b2c3d4eu);
      EXPECT_EQ(sr->sender_info().ntp_timestamp, 0xe7a1b2c380000000ull);
      EXPECT_EQ(sr->sender_info().rtp_timestamp, 0x5f3e2d10u);
      EXPECT_EQ(sr->sender_info().packet_count, 100u);
      EXPECT_EQ(sr->sender_info().octet_count, 16000u);
      ASSERT_EQ(sr->report_count(), 1u);
      const ReportBlock block = sr->report_block(0);
      EXPECT_EQ(block.ssrc, 0xf7b16e83u);
      EXPECT_EQ(block.fraction_lost, 5);
      EXPECT_EQ(block.cumulative_lost, -2);  // 24-bit two's complement
      EXPECT_EQ(block.extended_highest_sequence, 0x00011a5fu);
      EXPECT_EQ(block.jitter, 32u);
      EXPECT_EQ(block.last_sr, 0xb2c38000u);
      EXPECT_EQ(block.delay_since_last_sr, 65536u);
      EXPECT_EQ(sr->report_block(1), ReportBlock{});
    } else if (packet.Is(RtcpType::kSdes)) {
      Result<Sdes> sdes = Sdes::Parse(packet);
      ASSERT_TRUE(sdes.ok()) << sdes.status().ToString();
      std::string cname;
      sdes->ForEachItem([&](uint32_t ssrc, uint8_t type, std::string_view value) {
        EXPECT_EQ(ssrc, 0x1b2c3d4eu);
        if (type == static_cast<uint8_t>(SdesItemType::kCname)) cname = value;
      });
      EXPECT_EQ(cname, "abcdefghijklmnop");
    }
  }
  EXPECT_EQ(types, (std::vector<uint8_t>{200, 202, 204, 207}));
}

TEST(Rtcp, CapturedTransportCcFeedback) {
  std::vector<uint8_t> bytes = Hex(testing::kCapturedTwcc);
  const RtcpPacketView view = Single(bytes);
  EXPECT_TRUE(view.padding);
  Result<TransportCcFeedback> fb = TransportCcFeedback::Parse(view);
  ASSERT_TRUE(fb.ok()) << fb.status().ToString();
  EXPECT_EQ(fb->sender_ssrc(), 1u);
  EXPECT_EQ(fb->media_ssrc(), 0xdd586eb6u);
  EXPECT_EQ(fb->base_sequence_number(), 1);
  EXPECT_EQ(fb->packet_status_count(), 9);
  EXPECT_EQ(fb->reference_time(), 6197520);
  EXPECT_EQ(fb->feedback_packet_count(), 0);
  EXPECT_EQ(fb->received_count(), 9u);
  std::vector<int32_t> deltas;
  uint16_t expected_seq = 1;
  fb->ForEachPacket([&](uint16_t seq, TwccStatus status, int32_t delta) {
    EXPECT_EQ(seq, expected_seq++);
    EXPECT_EQ(status, TwccStatus::kSmallDelta);
    deltas.push_back(delta);
  });
  EXPECT_EQ(deltas, (std::vector<int32_t>{0x1c, 0x0c, 0x2c, 0x38, 0, 4, 0, 8, 0x18}));
}

TEST(Rtcp, TransportCcStatusVectorsAndLargeDeltas) {
  // base 0xfffe, 9 packets, reference time -2: a two-bit vector chunk 0xd250
  // (small, none, large, small, small, none, none) and a one-bit vector
  // 0xa000 of which only 2 symbols are used (1, 0). Deltas: 10, -300
  // (large), 20, 30, 40; two zero bytes of trailing alignment.
  std::vector<uint8_t> bytes =
      Hex("8fcd0007 00000001 00000002 fffe0009 fffffe07 d250a000 0afed414 1e280000");
  const RtcpPacketView view = Single(bytes);
  Result<TransportCcFeedback> fb = TransportCcFeedback::Parse(view);
  ASSERT_TRUE(fb.ok()) << fb.status().ToString();
  EXPECT_EQ(fb->reference_time(), -2);
  std::vector<std::pair<uint16_t, int32_t>> got;
  fb->ForEachPacket([&](uint16_t seq, TwccStatus status, int32_t delta) {
    if (status != TwccStatus::kNotReceived) got.emplace_back(seq, delta);
  });
  EXPECT_EQ(got, (std::vector<std::pair<uint16_t, int32_t>>{
                     {0xfffe, 10}, {0, -300}, {1, 20}, {2, 30}, {5, 40}}));
}

// Builds feedback from arrival times and parses it back: every status and
// delta survives, across runs, one- and two-bit vectors, losses, large and
// negative deltas and a sequence wrap.
TEST(Rtcp, TransportCcBuilderRoundTrip) {
  TransportCcFeedbackBuilder b(/*sender=*/7, /*media=*/9, /*feedback_count=*/3, /*base=*/65530);
  std::vector<std::optional<int64_t>> arrivals;
  int64_t t = 10'000'123;  // µs
  for (int i = 0; i < 40; ++i) {
    if (i == 5 || i == 6 || (i >= 20 && i < 30 && i % 3 == 0)) {
      arrivals.emplace_back(std::nullopt);
      continue;
    }
    t += i == 12 ? 90'000 : (i == 15 ? -20'000 : 1'000 + 250 * (i % 4));  // 90 ms: large
    arrivals.emplace_back(t);
  }
  for (const auto& a : arrivals) ASSERT_TRUE(b.Add(a));
  std::array<uint8_t, 512> buf{};
  ByteWriter w(buf);
  ASSERT_TRUE(b.Write(w).ok());
  EXPECT_EQ(w.size() % 4, 0u);
  const RtcpPacketView view = Single(w.Written());
  Result<TransportCcFeedback> fb = TransportCcFeedback::Parse(view);
  ASSERT_TRUE(fb.ok()) << fb.status().ToString();
  EXPECT_EQ(fb->sender_ssrc(), 7u);
  EXPECT_EQ(fb->media_ssrc(), 9u);
  EXPECT_EQ(fb->base_sequence_number(), 65530);
  EXPECT_EQ(fb->packet_status_count(), 40);
  EXPECT_EQ(fb->feedback_packet_count(), 3);
  // Arrival times come back to the 250 µs tick they fell in.
  int64_t ticks = int64_t{fb->reference_time()} * 256;
  size_t i = 0;
  uint16_t expected_seq = 65530;
  fb->ForEachPacket([&](uint16_t seq, TwccStatus status, int32_t delta) {
    SCOPED_TRACE(i);
    EXPECT_EQ(seq, expected_seq++);
    ASSERT_LT(i, arrivals.size());
    if (!arrivals[i]) {
      EXPECT_EQ(status, TwccStatus::kNotReceived);
    } else {
      EXPECT_NE(status, TwccStatus::kNotReceived);
      ticks += delta;
      EXPECT_EQ(ticks, *arrivals[i] / 250);
    }
    ++i;
  });
  EXPECT_EQ(i, arrivals.size());
}

TEST(Rtcp, TransportCcBuilderRefusesWhatDoesNotFit) {
  TransportCcFeedbackBuilder b(1, 2, 0, 0);
  std::array<uint8_t, 64> buf{};
  ByteWriter w(buf);
  EXPECT_FALSE(b.Write(w).ok());  // nothing received yet
  ASSERT_TRUE(b.Add(1'000'000));
  EXPECT_FALSE(b.Add(1'000'000 + 9'000'000));  // 9 s: beyond 16-bit ticks
  EXPECT_EQ(b.packet_count(), 1u);
  for (size_t i = 1; i < TransportCcFeedbackBuilder::kMaxPackets; ++i)
    ASSERT_TRUE(b.Add(std::nullopt));
  EXPECT_FALSE(b.Add(1'000'100));  // full
  std::array<uint8_t, 8> tiny{};
  ByteWriter small(tiny);
  EXPECT_FALSE(b.Write(small).ok());
}

TEST(Rtcp, ReceiverReportBuilderRoundTrip) {
  std::array<ReportBlock, 2> blocks{};
  blocks[0] = {0x11, 12, 100, 0x10001, 7, 0xaabbccdd, 99};
  blocks[1] = {0x22, 0, -5, 2, 3, 4, 5};
  std::array<uint8_t, 128> buf{};
  ByteWriter writer(buf);
  ASSERT_TRUE(WriteReceiverReport(writer, 0xabcdef01, blocks).ok());
  EXPECT_EQ(writer.size(), 8u + 48u);
  const RtcpPacketView view = Single(writer.Written());
  Result<ReceiverReport> rr = ReceiverReport::Parse(view);
  ASSERT_TRUE(rr.ok()) << rr.status().ToString();
  EXPECT_EQ(rr->sender_ssrc(), 0xabcdef01u);
  ASSERT_EQ(rr->report_count(), 2u);
  EXPECT_EQ(rr->report_block(0), blocks[0]);
  EXPECT_EQ(rr->report_block(1), blocks[1]);
  // Empty RR (RC=0) is valid; 32 blocks are not.
  ByteWriter w2(buf);
  ASSERT_TRUE(WriteReceiverReport(w2, 1, {}).ok());
  EXPECT_TRUE(ReceiverReport::Parse(Single(w2.Written())).ok());
  std::array<ReportBlock, 32> too_many{};
  ByteWriter w3(buf);
  EXPECT_FALSE(WriteReceiverReport(w3, 1, too_many).ok());
  std::array<uint8_t, 20> small{};
  ByteWriter w4(small);
  EXPECT_FALSE(WriteReceiverReport(w4, 1, blocks).ok());
}

TEST(Rtcp, SenderReportBuilderRoundTrip) {
  SenderInfo info{0x1234, 0x0102030405060708ull, 90000, 5, 500};
  std::array<ReportBlock, 1> blocks{};
  blocks[0] = {0x99, 255, 0x7fffff, 1, 2, 3, 4};
  std::array<uint8_t, 64> buf{};
  ByteWriter writer(buf);
  ASSERT_TRUE(WriteSenderReport(writer, info, blocks).ok());
  Result<SenderReport> sr = SenderReport::Parse(Single(writer.Written()));
  ASSERT_TRUE(sr.ok()) << sr.status().ToString();
  EXPECT_EQ(sr->sender_info(), info);
  EXPECT_EQ(sr->report_block(0), blocks[0]);
  // Cumulative loss beyond 24 bits is clamped, not wrapped.
  blocks[0].cumulative_lost = -0x1000000;
  ByteWriter w2(buf);
  ASSERT_TRUE(WriteSenderReport(w2, info, blocks).ok());
  EXPECT_EQ(SenderReport::Parse(Single(w2.Written()))->report_block(0).cumulative_lost, -0x800000);
}

TEST(Rtcp, PliAndFirRoundTrip) {
  std::array<uint8_t, 64> buf{};
  ByteWriter writer(buf);
  ASSERT_TRUE(WritePli(writer, 1, 0xdeadbeef).ok());
  Result<Pli> pli = Pli::Parse(Single(writer.Written()));
  ASSERT_TRUE(pli.ok());
  EXPECT_EQ(pli->sender_ssrc(), 1u);
  EXPECT_EQ(pli->media_ssrc(), 0xdeadbeefu);
  EXPECT_FALSE(Fir::Parse(Single(writer.Written())).ok());  // PLI is not FIR

  std::array<FirEntry, 2> entries{FirEntry{0xaaaa, 7}, FirEntry{0xbbbb, 255}};
  ByteWriter w2(buf);
  ASSERT_TRUE(WriteFir(w2, 2, entries).ok());
  Result<Fir> fir = Fir::Parse(Single(w2.Written()));
  ASSERT_TRUE(fir.ok()) << fir.status().ToString();
  EXPECT_EQ(fir->sender_ssrc(), 2u);
  ASSERT_EQ(fir->entry_count(), 2u);
  EXPECT_EQ(fir->entry(0), entries[0]);
  EXPECT_EQ(fir->entry(1), entries[1]);
  EXPECT_EQ(fir->entry(2), FirEntry{});
  ByteWriter w3(buf);
  EXPECT_FALSE(WriteFir(w3, 2, {}).ok());
}

TEST(Rtcp, GenericNackRoundTripAndExpansion) {
  const std::vector<uint16_t> lost{100, 101, 105, 116, 117, 200, 65535, 0, 15};
  std::array<uint8_t, 64> buf{};
  ByteWriter writer(buf);
  ASSERT_TRUE(WriteGenericNack(writer, 1, 2, lost).ok());
  Result<GenericNack> nack = GenericNack::Parse(Single(writer.Written()));
  ASSERT_TRUE(nack.ok()) << nack.status().ToString();
  EXPECT_EQ(nack->media_ssrc(), 2u);
  // 100..116 fits one entry; 117 starts a new one; 200; 65535 wraps to 0 and 15.
  EXPECT_EQ(nack->entry_count(), 4u);
  std::vector<uint16_t> expanded;
  nack->ForEachLost([&](uint16_t seq) { expanded.push_back(seq); });
  EXPECT_EQ(expanded, lost);

  NackEntry full{10, 0xffff};
  std::array<uint16_t, NackEntry::kMaxLost> seqs{};
  ASSERT_EQ(full.Expand(&seqs), 17u);
  EXPECT_EQ(seqs[16], 26);
  ByteWriter w2(buf);
  EXPECT_FALSE(WriteGenericNack(w2, 1, 2, {}).ok());
}

TEST(Rtcp, RembRoundTrip) {
  const std::array<uint32_t, 2> ssrcs{0x1111, 0x2222};
  std::array<uint8_t, 64> buf{};
  ByteWriter writer(buf);
  ASSERT_TRUE(WriteRemb(writer, 7, 1'500'000, ssrcs).ok());
  Result<Remb> remb = Remb::Parse(Single(writer.Written()));
  ASSERT_TRUE(remb.ok()) << remb.status().ToString();
  EXPECT_EQ(remb->sender_ssrc(), 7u);
  // 1.5 Mb/s needs 21 bits: kept to 18 bits of mantissa (exp 3).
  EXPECT_EQ(remb->bitrate_bps(), 1'500'000u);
  ASSERT_EQ(remb->ssrc_count(), 2u);
  EXPECT_EQ(remb->ssrc(1), 0x2222u);
  ByteWriter w2(buf);
  ASSERT_TRUE(WriteRemb(w2, 7, 1'234'567, {}).ok());
  EXPECT_EQ(Remb::Parse(Single(w2.Written()))->bitrate_bps(), 1'234'567u & ~uint64_t{7});
  ByteWriter w3(buf);
  ASSERT_TRUE(WriteRemb(w3, 7, UINT64_MAX, {}).ok());
  EXPECT_EQ(Remb::Parse(Single(w3.Written()))->bitrate_bps(), 0x3ffffull << 46);
}

TEST(Rtcp, RembOverflowingExponentIsRejected) {
  // exponent 63, mantissa 0x3ffff: does not fit 64 bits.
  std::vector<uint8_t> bytes = Hex("8fce0004 00000001 00000000 52454d42 00ffffff");
  const RtcpPacketView view = Single(bytes);
  EXPECT_EQ(Remb::Parse(view).status().code(), "rtcp_remb_rate");
  // A PSFB FMT 15 that is not REMB.
  std::vector<uint8_t> other = Hex("8fce0004 00000001 00000000 41424344 00000000");
  EXPECT_EQ(Remb::Parse(Single(other)).status().message(), "not REMB");
}

TEST(Rtcp, ByeWithReason) {
  std::vector<uint8_t> bytes = Hex("82cb0004 00000001 00000002 04627965 21000000");
  Result<Bye> bye = Bye::Parse(Single(bytes));
  ASSERT_TRUE(bye.ok()) << bye.status().ToString();
  ASSERT_EQ(bye->ssrc_count(), 2u);
  EXPECT_EQ(bye->ssrc(1), 2u);
  EXPECT_EQ(bye->reason(), "bye!");
  std::vector<uint8_t> bare = Hex("80cb0000");
  Result<Bye> empty = Bye::Parse(Single(bare));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->ssrc_count(), 0u);
}

TEST(Rtcp, TypedParsersRejectOtherTypes) {
  std::vector<uint8_t> bytes = Hex("80c90001 00000001");
  const RtcpPacketView rr = Single(bytes);
  EXPECT_FALSE(SenderReport::Parse(rr).ok());
  EXPECT_FALSE(Sdes::Parse(rr).ok());
  EXPECT_FALSE(Bye::Parse(rr).ok());
  EXPECT_FALSE(Pli::Parse(rr).ok());
  EXPECT_FALSE(GenericNack::Parse(rr).ok());
  EXPECT_FALSE(TransportCcFeedback::Parse(rr).ok());
  EXPECT_FALSE(Remb::Parse(rr).ok());
  EXPECT_TRUE(ReceiverReport::Parse(rr).ok());
}

TEST(Rtcp, IteratorRejectsBadHeaders) {
  std::vector<uint8_t> v1 = Hex("40c90001 00000001");
  EXPECT_EQ(ValidateRtcpCompound(v1).code(), "rtcp_version");
  std::vector<uint8_t> not_rtcp = Hex("80600001 00000001");
  EXPECT_EQ(ValidateRtcpCompound(not_rtcp).code(), "rtcp_type");
  std::vector<uint8_t> tail = Hex("80c90001 00000001 80c9");  // 2 trailing bytes
  EXPECT_EQ(ValidateRtcpCompound(tail).code(), "rtcp_header");
  EXPECT_FALSE(ValidateRtcpCompound({}).ok());
}

}  // namespace
}  // namespace aegis::rtc
