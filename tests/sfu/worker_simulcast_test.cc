// Media worker, simulcast, over real UDP: a publisher sends two VP8 layers
// (RID/MID header extensions, SSRCs learnt by the worker) and a subscriber
// switches between them. The subscriber must see one continuous sequence /
// PictureID line, switches only at keyframes, keyframe requests for the layer
// it is switching to, and nothing while it has paused the consumer.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rtc/byte_io.h"
#include "rtc/rtp/codecs.h"
#include "rtc/rtp/rtcp_nack.h"
#include "sfu/worker.h"
#include "test_peer.h"
#include "worker_test_util.h"

namespace aegis::sfu::testing {
namespace {

constexpr uint64_t kPubTransport = 1;
constexpr uint64_t kSubTransport = 2;
constexpr uint64_t kProducer = 10;
constexpr uint64_t kConsumer = 20;
constexpr uint32_t kConsumerSsrc = 0x55667788;
constexpr uint8_t kPt = 96;
constexpr uint8_t kSubscriberPt = 100;
constexpr uint32_t kConsumerRtxSsrc = 0x55667789;
constexpr uint8_t kSubscriberRtxPt = 101;
constexpr uint8_t kMidExt = 1;
constexpr uint8_t kRidExt = 10;
constexpr uint32_t kLowSsrc = 0xA0A0A0A0;
constexpr uint32_t kHighSsrc = 0xB0B0B0B0;

struct LayerLine {
  uint32_t ssrc;
  std::string rid;
  uint16_t seq;
  uint32_t ts;
  uint16_t picture_id;
};

class SimulcastTest : public WorkerTest {
 protected:
  void SetUp() override {
    WorkerTest::SetUp();
    if (HasFatalFailure()) return;
    pub_ = ConnectedPeer(kPubTransport);
    ASSERT_TRUE(pub_);
    sub_ = ConnectedPeer(kSubTransport);
    ASSERT_TRUE(sub_);
    ProducerParams p = VideoProducerParams(kProducer, kPubTransport, /*ssrc=*/0);  // rid-based
    p.mid_extension_id = kMidExt;
    p.rid_extension_id = kRidExt;
    p.rids = {"l", "h"};  // a=simulcast:send l;h — layer 0 is the lowest
    p.video_codecs = {{kPt, rtc::VideoCodec::kVp8}};
    worker_->AddProducer(p);
    ConsumerParams c;
    c.consumer_id = kConsumer;
    c.transport_id = kSubTransport;
    c.producer_id = kProducer;
    c.ssrc = kConsumerSsrc;
    c.payload_map[kPt] = kSubscriberPt;
    c.rtx_ssrc = kConsumerRtxSsrc;
    c.rtx_payload_map[kSubscriberPt] = kSubscriberRtxPt;
    worker_->AddConsumer(c);
    Sync();
  }

  // One single-packet frame on `layer`; the last payload byte tags the layer.
  void SendFrame(LayerLine& layer, bool key, uint8_t tag) {
    RtpSpec s;
    s.ssrc = layer.ssrc;
    s.payload_type = kPt;
    s.sequence_number = layer.seq++;
    s.timestamp = layer.ts;
    s.marker = true;
    s.extensions = {{kMidExt, "0"}, {kRidExt, layer.rid}};
    // RFC 7741: X S PID=0 | I L T | 15-bit PictureID | TL0PICIDX | TID | P
    s.payload = {0x90,
                 0xE0,
                 static_cast<uint8_t>(0x80 | (layer.picture_id >> 8)),
                 static_cast<uint8_t>(layer.picture_id),
                 static_cast<uint8_t>(layer.picture_id),
                 0x20,
                 static_cast<uint8_t>(key ? 0x00 : 0x01),
                 tag};
    layer.ts += 3000;
    layer.picture_id = static_cast<uint16_t>((layer.picture_id + 1) & 0x7FFF);
    pub_->SendRtp(s);
  }

  // One frame on each layer.
  void SendBoth(bool low_key, bool high_key) {
    SendFrame(low_, low_key, 'l');
    SendFrame(high_, high_key, 'h');
  }

  void Barrier() {
    const std::optional<StunResponse> r = pub_->RoundTrip();
    ASSERT_TRUE(r.has_value());
    sub_->PumpFor(Millis{20});
  }

  size_t PlisFor(uint32_t ssrc) const {
    size_t n = 0;
    for (uint32_t s : pub_->pli_media_ssrcs) n += s == ssrc ? 1 : 0;
    return n;
  }

  static uint8_t TagOf(const ReceivedRtp& r) { return r.payload.back(); }
  static bool IsKey(const ReceivedRtp& r) { return rtc::IsVp8KeyFrame(r.payload); }

  // Every packet continues the previous one: sequence +1, PictureID +1,
  // timestamps forward.
  void ExpectContinuous() { ExpectContinuousUpTo(sub_->rtp.size()); }
  void ExpectContinuousUpTo(size_t end) {
    for (size_t i = 1; i < end; ++i) {
      SCOPED_TRACE(i);
      const ReceivedRtp& a = sub_->rtp[i - 1];
      const ReceivedRtp& b = sub_->rtp[i];
      EXPECT_EQ(b.ssrc, kConsumerSsrc);
      EXPECT_EQ(b.payload_type, kSubscriberPt);
      EXPECT_EQ(b.sequence_number, static_cast<uint16_t>(a.sequence_number + 1));
      EXPECT_GT(static_cast<int32_t>(b.timestamp - a.timestamp), 0);
      auto da = rtc::ParseVp8Descriptor(a.payload);
      auto db = rtc::ParseVp8Descriptor(b.payload);
      ASSERT_TRUE(da.ok() && db.ok());
      EXPECT_EQ(db->picture_id, (da->picture_id + 1) & 0x7FFF);
      EXPECT_EQ(db->tl0picidx, static_cast<uint8_t>(da->tl0picidx + 1));
    }
  }

  std::unique_ptr<TestPeer> pub_;
  std::unique_ptr<TestPeer> sub_;
  LayerLine low_{kLowSsrc, "l", 100, 1000, 10};
  LayerLine high_{kHighSsrc, "h", 65530, 0xFFFFF000, 0x7FFD};  // wraps soon
};

TEST_F(SimulcastTest, SwitchesOnlyAtKeyframesWithContinuousNumbering) {
  // Auto with no estimate: the highest layer, from its first keyframe on.
  for (int i = 0; i < 3; ++i) SendBoth(false, false);
  Barrier();
  EXPECT_TRUE(sub_->rtp.empty()) << "forwarded before a keyframe";
  // The worker learnt the SSRCs by RID and asks for the high layer's keyframe.
  ASSERT_TRUE(pub_->PumpUntil([&] { return PlisFor(kHighSsrc) >= 1; }));
  SendBoth(false, true);
  for (int i = 0; i < 3; ++i) SendBoth(false, false);
  ASSERT_TRUE(sub_->PumpUntil([&] { return sub_->rtp.size() >= 4; }));
  Barrier();
  ASSERT_EQ(sub_->rtp.size(), 4U);
  EXPECT_TRUE(IsKey(sub_->rtp[0]));
  for (const ReceivedRtp& r : sub_->rtp) EXPECT_EQ(TagOf(r), 'h');

  // Down to the low layer: the high one keeps flowing until low's keyframe.
  const size_t low_plis = PlisFor(kLowSsrc);
  worker_->SetConsumerPreferredLayer(kConsumer, 0);
  Sync();
  ASSERT_TRUE(pub_->PumpUntil([&] { return PlisFor(kLowSsrc) > low_plis; }));
  SendBoth(false, false);
  SendBoth(false, false);
  Barrier();
  ASSERT_EQ(sub_->rtp.size(), 6U);
  EXPECT_EQ(TagOf(sub_->rtp[5]), 'h');
  SendBoth(true, false);
  SendBoth(false, true);  // a high keyframe no longer matters
  SendBoth(false, false);
  ASSERT_TRUE(sub_->PumpUntil([&] { return sub_->rtp.size() >= 9; }));
  Barrier();
  ASSERT_EQ(sub_->rtp.size(), 9U);
  EXPECT_TRUE(IsKey(sub_->rtp[6]));
  for (size_t i = 6; i < 9; ++i) EXPECT_EQ(TagOf(sub_->rtp[i]), 'l');

  // And back up.
  worker_->SetConsumerPreferredLayer(kConsumer, Worker::kLayerHigh);
  Sync();
  SendBoth(false, false);
  SendBoth(false, true);
  SendBoth(false, false);
  ASSERT_TRUE(sub_->PumpUntil([&] { return sub_->rtp.size() >= 13; }));
  Barrier();
  ASSERT_EQ(sub_->rtp.size(), 13U);
  EXPECT_EQ(TagOf(sub_->rtp[9]), 'l');
  EXPECT_EQ(TagOf(sub_->rtp[10]), 'l');
  EXPECT_TRUE(IsKey(sub_->rtp[11]));
  EXPECT_EQ(TagOf(sub_->rtp[11]), 'h');
  EXPECT_EQ(TagOf(sub_->rtp[12]), 'h');
  ExpectContinuous();
}

TEST_F(SimulcastTest, PausedConsumerGetsNothingAndResumesAtAKeyframe) {
  SendBoth(false, true);
  ASSERT_TRUE(sub_->PumpUntil([&] { return sub_->rtp.size() >= 1; }));
  SendBoth(false, false);
  ASSERT_TRUE(sub_->PumpUntil([&] { return sub_->rtp.size() >= 2; }));

  worker_->SetConsumerPaused(kConsumer, true);
  Sync();
  SendBoth(true, true);
  SendBoth(false, false);
  Barrier();
  EXPECT_EQ(sub_->rtp.size(), 2U) << "forwarded while paused";

  const size_t plis = PlisFor(kHighSsrc);
  worker_->SetConsumerPaused(kConsumer, false);
  Sync();
  ASSERT_TRUE(pub_->PumpUntil([&] { return PlisFor(kHighSsrc) > plis; }))
      << "resume did not ask for a keyframe";
  SendBoth(false, false);  // not decodable on its own: held back
  SendBoth(false, true);
  ASSERT_TRUE(sub_->PumpUntil([&] { return sub_->rtp.size() >= 3; }));
  Barrier();
  ASSERT_EQ(sub_->rtp.size(), 3U);
  EXPECT_TRUE(IsKey(sub_->rtp[2]));
  ExpectContinuous();
}

// NACKs map back into the layer being forwarded: a loss after a switch is
// repaired from that layer's history, one from before the switch (other
// layer, other numbering) is not answered.
TEST_F(SimulcastTest, NackIsRepairedFromTheCurrentLayerOnly) {
  SendBoth(false, true);
  SendBoth(false, false);
  ASSERT_TRUE(sub_->PumpUntil([&] { return sub_->rtp.size() >= 2; }));
  const ReceivedRtp before_switch = sub_->rtp[1];
  worker_->SetConsumerPreferredLayer(kConsumer, 0);
  Sync();
  SendBoth(true, false);
  SendBoth(false, false);
  ASSERT_TRUE(sub_->PumpUntil([&] { return sub_->rtp.size() >= 4; }));
  Barrier();
  ASSERT_EQ(sub_->rtp.size(), 4U);
  const ReceivedRtp lost = sub_->rtp[3];
  ASSERT_EQ(TagOf(lost), 'l');
  auto nack = [&](uint16_t seq) {
    const uint16_t list[] = {seq};
    sub_->SendRtcp([&](std::span<uint8_t> buf) -> size_t {
      rtc::ByteWriter w(buf);
      return rtc::WriteGenericNack(w, 0x0BADCAFE, kConsumerSsrc, list).ok() ? w.size() : 0;
    });
  };
  nack(before_switch.sequence_number);
  nack(lost.sequence_number);
  const auto repairs = [&] {
    std::vector<const ReceivedRtp*> out;
    for (const ReceivedRtp& p : sub_->rtp) {
      if (p.ssrc == kConsumerRtxSsrc) out.push_back(&p);
    }
    return out;
  };
  ASSERT_TRUE(sub_->PumpUntil([&] { return !repairs().empty(); })) << "no repair";
  const std::optional<StunResponse> r = sub_->RoundTrip();  // the worker handled both NACKs
  ASSERT_TRUE(r.has_value());
  sub_->PumpFor(Millis{20});
  const auto rtx = repairs();
  ASSERT_EQ(rtx.size(), 1U) << "a repair from the old layer was sent";
  EXPECT_EQ(rtx[0]->payload_type, kSubscriberRtxPt);
  EXPECT_EQ(rtx[0]->timestamp, lost.timestamp);
  // RFC 4588: original sequence number, then the payload, whose PictureID
  // is rewritten exactly as in the original send.
  ASSERT_GE(rtx[0]->payload.size(), 2U);
  EXPECT_EQ((rtx[0]->payload[0] << 8) | rtx[0]->payload[1], lost.sequence_number);
  EXPECT_EQ(std::vector<uint8_t>(rtx[0]->payload.begin() + 2, rtx[0]->payload.end()), lost.payload);
}

// A gap on one layer is NACKed to the publisher with that layer's SSRC.
TEST_F(SimulcastTest, PublisherGapOnALayerIsNackedWithThatLayersSsrc) {
  SendBoth(true, true);
  SendBoth(false, false);
  const uint16_t lost = low_.seq++;  // never sent
  SendBoth(false, false);
  ASSERT_TRUE(pub_->PumpUntil([&] {
    for (const auto& n : pub_->nacked) {
      if (n.media_ssrc == kLowSsrc && n.seq == lost) return true;
    }
    return false;
  })) << "the low layer's gap was not NACKed";
  for (const auto& n : pub_->nacked) EXPECT_EQ(n.media_ssrc, kLowSsrc);
}

// Downlink estimation (docs/MEDIA.md): once the subscriber accepted
// transport-cc, every packet it gets — media and RTX repairs — carries one
// transport-wide sequence line; before that none does.
TEST_F(SimulcastTest, TransportWideSequenceNumbersOnceTheSubscriberAcceptedThem) {
  constexpr uint8_t kTwccExt = 3;
  sub_->transport_cc_extension_id = kTwccExt;
  SendBoth(false, true);
  ASSERT_TRUE(sub_->PumpUntil([&] { return sub_->rtp.size() >= 1; }));
  EXPECT_FALSE(sub_->rtp[0].transport_seq.has_value());
  EXPECT_FALSE(sub_->rtp[0].has_extension);

  worker_->SetTransportFeedback(kSubTransport, kTwccExt);
  Sync();
  for (int i = 0; i < 5; ++i) SendBoth(false, false);
  ASSERT_TRUE(sub_->PumpUntil([&] { return sub_->rtp.size() >= 6; }));
  const ReceivedRtp lost = sub_->rtp[3];
  const uint16_t list[] = {lost.sequence_number};
  sub_->SendRtcp([&](std::span<uint8_t> buf) -> size_t {
    rtc::ByteWriter w(buf);
    return rtc::WriteGenericNack(w, 0x0BADCAFE, kConsumerSsrc, list).ok() ? w.size() : 0;
  });
  ASSERT_TRUE(sub_->PumpUntil([&] { return sub_->rtp.size() >= 7; }));
  Barrier();
  ASSERT_EQ(sub_->rtp.size(), 7U);
  EXPECT_EQ(sub_->rtp[6].ssrc, kConsumerRtxSsrc);
  for (size_t i = 1; i < 7; ++i) {
    SCOPED_TRACE(i);
    ASSERT_TRUE(sub_->rtp[i].transport_seq.has_value());
    if (i > 1) {
      EXPECT_EQ(*sub_->rtp[i].transport_seq,
                static_cast<uint16_t>(*sub_->rtp[i - 1].transport_seq + 1));
    }
  }
  // The media itself is untouched by the extension.
  EXPECT_EQ(TagOf(sub_->rtp[5]), 'h');
  ExpectContinuousUpTo(6);
}

}  // namespace
}  // namespace aegis::sfu::testing
