// DCEP (RFC 8832) parse/build: round trips for every channel type, a
// hand-assembled OPEN as a browser sends it, and a malformed-input table
// (FZ-08 rows: label/protocol lengths beyond the message) where every row
// must be rejected with the error code naming the field.
#include "rtc/sctp/dcep.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "rtc/rtp/test_packets.h"

namespace aegis::rtc {
namespace {

using testing::Hex;

TEST(DcepTest, ParsesBrowserStyleOpen) {
  // OPEN, reliable ordered, priority 256, reliability 0, label "chat",
  // protocol "aegis" (what RTCPeerConnection.createDataChannel("chat",
  // {protocol: "aegis"}) sends).
  const std::vector<uint8_t> bytes = Hex("03 00 0100 00000000 0004 0005 63686174 6165676973");
  Result<DcepOpen> open = ParseDcepOpen(bytes);
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  EXPECT_EQ(open->channel_type, DcepChannelType::kReliable);
  EXPECT_EQ(open->priority, kDcepPriorityNormal);
  EXPECT_EQ(open->reliability_parameter, 0u);
  EXPECT_EQ(open->label, "chat");
  EXPECT_EQ(open->protocol, "aegis");
  // The views point into the caller's buffer (no copy).
  EXPECT_EQ(reinterpret_cast<const uint8_t*>(open->label.data()), bytes.data() + 12);
  ASSERT_TRUE(PeekDcepType(bytes).ok());
  EXPECT_EQ(*PeekDcepType(bytes), DcepMessageType::kOpen);
}

TEST(DcepTest, RoundTripsEveryChannelType) {
  const DcepChannelType types[] = {
      DcepChannelType::kReliable,
      DcepChannelType::kReliableUnordered,
      DcepChannelType::kPartialReliableRexmit,
      DcepChannelType::kPartialReliableRexmitUnordered,
      DcepChannelType::kPartialReliableTimed,
      DcepChannelType::kPartialReliableTimedUnordered,
  };
  for (DcepChannelType type : types) {
    DcepOpen in;
    in.channel_type = type;
    in.priority = kDcepPriorityHigh;
    in.reliability_parameter = 1500;
    in.label = "room/événement";  // UTF-8 is bytes to DCEP
    in.protocol = "";
    Result<std::vector<uint8_t>> built = BuildDcepOpen(in);
    ASSERT_TRUE(built.ok());
    EXPECT_EQ(built->size(), kDcepOpenHeaderSize + in.label.size());
    Result<DcepOpen> out = ParseDcepOpen(*built);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(out->channel_type, type);
    EXPECT_EQ(out->priority, kDcepPriorityHigh);
    EXPECT_EQ(out->reliability_parameter, 1500u);
    EXPECT_EQ(out->label, in.label);
    EXPECT_EQ(out->protocol, "");
  }
}

TEST(DcepTest, ChannelTypeFlags) {
  EXPECT_TRUE(DcepIsOrdered(DcepChannelType::kReliable));
  EXPECT_TRUE(DcepIsReliable(DcepChannelType::kReliable));
  EXPECT_FALSE(DcepIsOrdered(DcepChannelType::kReliableUnordered));
  EXPECT_TRUE(DcepIsReliable(DcepChannelType::kReliableUnordered));
  EXPECT_TRUE(DcepIsOrdered(DcepChannelType::kPartialReliableRexmit));
  EXPECT_FALSE(DcepIsReliable(DcepChannelType::kPartialReliableRexmit));
  EXPECT_FALSE(DcepIsOrdered(DcepChannelType::kPartialReliableTimedUnordered));
  EXPECT_FALSE(DcepIsReliable(DcepChannelType::kPartialReliableTimedUnordered));
}

TEST(DcepTest, AckRoundTrip) {
  const std::vector<uint8_t> ack = BuildDcepAck();
  EXPECT_EQ(ack, Hex("02"));
  EXPECT_TRUE(ParseDcepAck(ack).ok());
  ASSERT_TRUE(PeekDcepType(ack).ok());
  EXPECT_EQ(*PeekDcepType(ack), DcepMessageType::kAck);
}

TEST(DcepTest, BuildRejectsOversizedStrings) {
  const std::string huge(70000, 'x');
  DcepOpen open;
  open.label = huge;
  EXPECT_EQ(BuildDcepOpen(open).status().code(), "dcep_label_len");
  open.label = "ok";
  open.protocol = huge;
  EXPECT_EQ(BuildDcepOpen(open).status().code(), "dcep_proto_len");
}

struct MalformedRow {
  const char* name;
  bool ack;  // parse as ACK instead of OPEN
  std::string_view hex;
  std::string_view code;
};

// SECURITY-CHECKS FZ-08 rows for DCEP.
const MalformedRow kMalformed[] = {
    {"empty open", false, "", "dcep_type"},
    {"ack parsed as open", false, "02", "dcep_type"},
    {"unknown type", false, "07 00 0100 00000000 0000 0000", "dcep_type"},
    {"header truncated", false, "03 00 0100 00000000 0000 00", "dcep_open"},
    {"only type", false, "03", "dcep_open"},
    {"unknown channel type", false, "03 03 0100 00000000 0000 0000", "dcep_chan_type"},
    {"unordered bit on unknown", false, "03 83 0100 00000000 0000 0000", "dcep_chan_type"},
    {"label beyond message", false, "03 00 0100 00000000 0005 0000 61626364", "dcep_lengths"},
    {"protocol beyond message", false, "03 00 0100 00000000 0001 0004 61 626364", "dcep_lengths"},
    {"both lengths max", false, "03 00 0100 00000000 ffff ffff 6162", "dcep_lengths"},
    {"sum wraps 16 bits", false, "03 00 0100 00000000 8000 8000 61", "dcep_lengths"},
    {"trailing bytes", false, "03 00 0100 00000000 0001 0000 61 62", "dcep_lengths"},
    {"empty ack", true, "", "dcep_type"},
    {"open parsed as ack", true, "03", "dcep_type"},
    {"ack with trailing byte", true, "02 00", "dcep_ack"},
};

TEST(DcepTest, MalformedInputIsRejectedWithFieldCode) {
  for (const MalformedRow& row : kMalformed) {
    SCOPED_TRACE(row.name);
    const std::vector<uint8_t> bytes = Hex(row.hex);
    const Status status = row.ack ? ParseDcepAck(bytes) : ParseDcepOpen(bytes).status();
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(status.code(), row.code) << status.ToString();
  }
}

TEST(DcepTest, EveryTruncationOfAValidOpenIsRejected) {
  DcepOpen in;
  in.label = "label";
  in.protocol = "proto";
  Result<std::vector<uint8_t>> built = BuildDcepOpen(in);
  ASSERT_TRUE(built.ok());
  for (size_t n = 0; n < built->size(); ++n) {
    EXPECT_FALSE(ParseDcepOpen(std::span<const uint8_t>(built->data(), n)).ok()) << n;
  }
}

}  // namespace
}  // namespace aegis::rtc
