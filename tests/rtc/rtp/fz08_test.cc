// SECURITY-CHECKS FZ-08: length arithmetic on peer input. Every row must be
// rejected with an error naming the field — not crash, not be accepted.
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

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

enum class Target { kRtp, kRtx, kRtcp };

// Iterates the compound and runs the typed parser for every packet.
Status ParseRtcpDeep(std::span<const uint8_t> bytes) {
  RtcpCompoundIterator it(bytes);
  for (; it.Valid(); it.Next()) {
    const RtcpPacketView& p = it.packet();
    Status s;
    if (p.Is(RtcpType::kSr)) s = SenderReport::Parse(p).status();
    if (p.Is(RtcpType::kRr)) s = ReceiverReport::Parse(p).status();
    if (p.Is(RtcpType::kSdes)) s = Sdes::Parse(p).status();
    if (p.Is(RtcpType::kBye)) s = Bye::Parse(p).status();
    if (p.Is(RtcpType::kRtpfb) && p.count == 1) s = GenericNack::Parse(p).status();
    if (p.Is(RtcpType::kRtpfb) && p.count == 15) s = TransportCcFeedback::Parse(p).status();
    if (p.Is(RtcpType::kPsfb) && p.count == 1) s = Pli::Parse(p).status();
    if (p.Is(RtcpType::kPsfb) && p.count == 4) s = Fir::Parse(p).status();
    if (p.Is(RtcpType::kPsfb) && p.count == 15) s = Remb::Parse(p).status();
    if (!s.ok()) return s;
  }
  return it.status();
}

struct Row {
  const char* name;
  Target target;
  std::string_view hex;
  std::string_view code;
};

constexpr Row kRows[] = {
    // RTP
    {"rtp padding bit, no payload", Target::kRtp, "a0600001 00000002 00000003", "rtp_padding"},
    {"rtp padding byte 0", Target::kRtp, "a0600001 00000002 00000003 aabb00", "rtp_padding"},
    {"rtp padding > payload", Target::kRtp, "a0600001 00000002 00000003 aabb04", "rtp_padding"},
    {"rtp padding > payload after extension", Target::kRtp,
     "b0600001 00000002 00000003 bede0001 10aa0000 0003", "rtp_padding"},
    {"rtp csrc count beyond buffer", Target::kRtp, "8f600001 00000002 00000003 11111111 22222222",
     "rtp_csrc_count"},
    {"rtp csrc count, one byte short", Target::kRtp, "81600001 00000002 00000003 111111",
     "rtp_csrc_count"},
    {"rtp extension header beyond buffer", Target::kRtp, "90600001 00000002 00000003 bede",
     "rtp_ext_header"},
    {"rtp extension length beyond buffer", Target::kRtp,
     "90600001 00000002 00000003 bede0005 10aa0000", "rtp_ext_length"},
    {"rtp one-byte element beyond block", Target::kRtp,
     "90600001 00000002 00000003 bede0001 2f010203 04050607", "rtp_ext_element"},
    {"rtp two-byte element beyond block", Target::kRtp,
     "90600001 00000002 00000003 10000001 01050102 03040506", "rtp_ext_element"},
    {"rtp two-byte element without length", Target::kRtp,
     "90600001 00000002 00000003 10000001 00000001", "rtp_ext_element"},
    {"rtp truncated fixed header", Target::kRtp, "80600001 00000002", "rtp_header"},
    // RTX (Janus #3636 class)
    {"rtx payload 1 byte", Target::kRtx, "80610007 00000010 00000099 12", "rtx_payload"},
    {"rtx payload 0 bytes", Target::kRtx, "80610007 00000010 00000099", "rtx_payload"},
    {"rtx payload eaten by padding", Target::kRtx, "a0610007 00000010 00000099 1202",
     "rtx_payload"},
    // RTCP framing
    {"rtcp length beyond buffer", Target::kRtcp, "81c90007 00000001 00000002", "rtcp_length"},
    {"rtcp length beyond buffer, 2nd packet", Target::kRtcp, "80c90001 00000001 80c90002 00000001",
     "rtcp_length"},
    {"rtcp RR length 0 in compound", Target::kRtcp, "80c90001 00000001 81c90000", "rtcp_length"},
    {"rtcp feedback length 0 in compound", Target::kRtcp, "80c90001 00000001 81cd0000",
     "rtcp_length"},
    {"rtcp SR count vs length", Target::kRtcp,
     "81c80006 00000001 00000000 00000000 00000000 00000000 00000000", "rtcp_length"},
    {"rtcp padding byte 0", Target::kRtcp, "a0c90001 00000000", "rtcp_padding"},
    {"rtcp padding > body", Target::kRtcp, "a0c90001 00000009", "rtcp_padding"},
    {"rtcp padding bit, empty body", Target::kRtcp, "a0cb0000", "rtcp_padding"},
    {"rtcp trailing partial header", Target::kRtcp, "80c90001 00000001 80", "rtcp_header"},
    // RTCP payloads
    {"remb num_ssrc beyond buffer", Target::kRtcp,
     "8fce0005 00000001 00000000 52454d42 05012345 00000001", "rtcp_remb_ssrcs"},
    {"remb truncated", Target::kRtcp, "8fce0003 00000001 00000000 52454d42", "rtcp_remb"},
    {"nack no FCI", Target::kRtcp, "81cd0002 00000001 00000002", "rtcp_nack_fci"},
    {"nack FCI not a multiple of 4", Target::kRtcp, "a1cd0004 00000001 00000002 00640001 00000002",
     "rtcp_nack_fci"},
    {"twcc status count larger than packet", Target::kRtcp,
     "afcd0007 00000001 dd586eb6 00010100 5e911000 20091c0c 2c380004 00081801", "rtcp_twcc_count"},
    {"twcc status count 65535, no chunks", Target::kRtcp,
     "8fcd0004 00000001 00000002 0001ffff 00000000", "rtcp_twcc_count"},
    {"twcc deltas missing", Target::kRtcp, "8fcd0005 00000001 00000002 00010002 00000000 40020a00",
     "rtcp_twcc_count"},
    {"twcc reserved symbol", Target::kRtcp, "8fcd0005 00000001 00000002 00010009 00000000 60090000",
     "rtcp_twcc_count"},
    {"twcc truncated fixed fields", Target::kRtcp, "8fcd0003 00000001 00000002 00010009",
     "rtcp_twcc"},
    {"fir no FCI", Target::kRtcp, "84ce0002 00000001 00000000", "rtcp_fir_fci"},
    {"fir FCI not a multiple of 8", Target::kRtcp, "84ce0003 00000001 00000000 00000005",
     "rtcp_fir_fci"},
    {"sdes item beyond packet", Target::kRtcp, "81ca0003 00000001 01206162 63640000", "rtcp_sdes"},
    {"sdes chunk count beyond packet", Target::kRtcp, "82ca0002 00000001 00000000", "rtcp_sdes"},
    {"sdes missing END", Target::kRtcp, "81ca0002 00000001 01026162", "rtcp_sdes"},
    {"bye reason beyond packet", Target::kRtcp, "81cb0002 00000001 0a627965", "rtcp_bye_reason"},
    {"bye count beyond packet", Target::kRtcp, "83cb0002 00000001 00000002", "rtcp_length"},
};

TEST(Fz08, EveryRowIsRejectedWithTheFieldNamed) {
  for (const Row& row : kRows) {
    SCOPED_TRACE(row.name);
    std::vector<uint8_t> bytes = Hex(row.hex);
    Status status;
    switch (row.target) {
      case Target::kRtp:
        status = RtpPacket::Parse(bytes).status();
        break;
      case Target::kRtx: {
        Result<RtpPacket> packet = RtpPacket::Parse(bytes);
        ASSERT_TRUE(packet.ok()) << packet.status().ToString();
        status = packet->RtxOriginalSequenceNumber().status();
        EXPECT_FALSE(packet->RtxDecode(96, 1).ok());
        break;
      }
      case Target::kRtcp:
        status = ParseRtcpDeep(bytes);
        break;
    }
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(status.code(), row.code) << status.ToString();
  }
}

// Each row with one byte fewer or more must also never crash (ASan build).
TEST(Fz08, TruncationsAndExtensionsOfEveryRowAreSafe) {
  for (const Row& row : kRows) {
    std::vector<uint8_t> bytes = Hex(row.hex);
    for (size_t n = 0; n <= bytes.size(); ++n) {
      std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<long>(n));
      (void)RtpPacket::Parse(prefix);
      (void)ParseRtcpDeep(prefix);
    }
    bytes.push_back(0xff);
    (void)RtpPacket::Parse(bytes);
    (void)ParseRtcpDeep(bytes);
  }
}

}  // namespace
}  // namespace aegis::rtc
