// Fan-out across workers (docs/MEDIA.md): two real workers connected with
// Worker::ConnectPeers, a publisher on worker 0 and a subscriber on worker 1
// fed through a relay. Media arrives rewritten and continuous, the
// subscriber's PLI reaches the publisher through the reverse ring, its NACKs
// are answered from worker 1's history, sender reports are translated
// there, removing the producer removes the
// relayed one, and a ring that is not drained drops (counted) without
// blocking the source.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "rtc/byte_io.h"
#include "rtc/rtp/rtcp_nack.h"
#include "rtc/rtp/rtp_packet.h"
#include "sfu/worker.h"
#include "test_peer.h"
#include "worker_test_util.h"

namespace aegis::sfu::testing {
namespace {

constexpr uint64_t kPubTransport = 1;
constexpr uint64_t kSubTransport = 2;
constexpr uint64_t kProducer = 10;
constexpr uint64_t kRelayedProducer = 11;  // its copy on worker 1
constexpr uint64_t kConsumer = 20;
constexpr uint32_t kPublisherSsrc = 0x11223344;
constexpr uint32_t kConsumerSsrc = 0x55667788;
constexpr uint32_t kConsumerRtxSsrc = 0x55667789;
constexpr uint32_t kSubscriberRtcpSsrc = 0x0BADCAFE;
constexpr uint8_t kPublisherPt = 96;
constexpr uint8_t kSubscriberPt = 100;
constexpr uint8_t kSubscriberRtxPt = 101;
constexpr int64_t kPliIntervalMs = 300;

class RelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    workers_ = StartConnectedPair(listener_, RingSlots());
    ASSERT_TRUE(workers_[0] && workers_[1]);
    pub_ = ConnectedPeer(0, kPubTransport);
    ASSERT_TRUE(pub_);
    sub_ = ConnectedPeer(1, kSubTransport);
    ASSERT_TRUE(sub_);

    ProducerParams p = VideoProducerParams(kProducer, kPubTransport, kPublisherSsrc);
    w(0).AddProducer(p);
    p.producer_id = kRelayedProducer;
    w(1).AddRelayedProducer(p, 0, kProducer);
    Sync(1);
    w(0).AddRelay(kProducer, 1, kRelayedProducer);
    ConsumerParams c;
    c.consumer_id = kConsumer;
    c.transport_id = kSubTransport;
    c.producer_id = kRelayedProducer;
    c.ssrc = kConsumerSsrc;
    c.payload_map[kPublisherPt] = kSubscriberPt;
    c.rtx_ssrc = kConsumerRtxSsrc;
    c.rtx_payload_map[kSubscriberPt] = kSubscriberRtxPt;
    w(1).AddConsumer(c);
    Sync(0);
    Sync(1);
    // The new consumer on worker 1 asks for a keyframe: through the ring
    // back to worker 0, which sends the publisher a PLI.
    ASSERT_TRUE(pub_->PumpUntil([&] { return Plis() >= 1; })) << "no PLI after AddConsumer";
  }

  virtual size_t RingSlots() const { return WorkerOptions{}.relay_ring_slots; }

  void TearDown() override {
    // Both stopped before either is destroyed (ConnectPeers' contract).
    for (auto& worker : workers_) {
      if (worker) worker->Stop();
    }
  }

  Worker& w(size_t i) { return *workers_[i]; }

  void Sync(size_t i) { ASSERT_TRUE(DrainPosted(w(i))) << "worker " << i << " stuck"; }

  std::unique_ptr<TestPeer> ConnectedPeer(size_t worker, uint64_t transport_id) {
    return ConnectedPeerOn(w(worker), listener_, transport_id);
  }

  RtpSpec NextPacket() {
    return NextTestPacket(kPublisherSsrc, kPublisherPt, next_seq_, next_ts_, 3000, sent_);
  }

  void Publish(size_t count) {
    for (size_t i = 0; i < count; ++i) {
      pub_->SendRtp(NextPacket());
      if (i % 16 == 15) sub_->Poll(Millis{0});
    }
  }

  size_t Plis() const {
    size_t n = 0;
    for (uint32_t s : pub_->pli_media_ssrcs) n += s == kPublisherSsrc ? 1 : 0;
    return n;
  }

  std::vector<const ReceivedRtp*> Media(uint32_t ssrc) const {
    std::vector<const ReceivedRtp*> out;
    for (const ReceivedRtp& r : sub_->rtp) {
      if (r.ssrc == ssrc) out.push_back(&r);
    }
    return out;
  }

  static bool WaitUntil(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + kTimeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return done();
      std::this_thread::sleep_for(Millis{1});  // polling interval, not a correctness wait
    }
    return true;
  }

  RecordingListener listener_;  // outlives the workers
  std::array<std::unique_ptr<Worker>, 2> workers_;
  std::unique_ptr<TestPeer> pub_;
  std::unique_ptr<TestPeer> sub_;
  std::vector<RtpSpec> sent_;
  uint16_t next_seq_ = 65500;  // crosses the wrap
  uint32_t next_ts_ = 0xFFFF0000;
};

TEST_F(RelayTest, PacketsReachASubscriberOnTheOtherWorkerRewrittenAndContinuous) {
  constexpr size_t kCount = 300;
  Publish(kCount);
  ASSERT_TRUE(sub_->PumpUntil([&] { return sub_->rtp.size() >= kCount; }))
      << "got " << sub_->rtp.size() << " of " << kCount;
  ASSERT_EQ(sub_->rtp.size(), kCount);
  EXPECT_EQ(sub_->srtp_errors, 0u);
  const uint16_t base_seq = sub_->rtp[0].sequence_number;
  const uint32_t ts_shift = sub_->rtp[0].timestamp - sent_[0].timestamp;
  for (size_t i = 0; i < kCount; ++i) {
    SCOPED_TRACE(i);
    const ReceivedRtp& got = sub_->rtp[i];
    EXPECT_EQ(got.ssrc, kConsumerSsrc);
    EXPECT_EQ(got.payload_type, kSubscriberPt);
    EXPECT_EQ(got.marker, sent_[i].marker);
    EXPECT_EQ(got.payload, sent_[i].payload);
    EXPECT_EQ(got.sequence_number, static_cast<uint16_t>(base_seq + i));
    EXPECT_EQ(got.timestamp - sent_[i].timestamp, ts_shift);
  }
  // Worker 0 handed each packet over once and sent nothing itself; worker 1
  // forwarded them.
  EXPECT_EQ(w(0).counters().rtp_out.load(), 0u);
  EXPECT_EQ(w(0).counters().relay_dropped.load(), 0u);
  EXPECT_EQ(w(1).counters().relay_in.load(), kCount);
  EXPECT_EQ(w(1).counters().rtp_out.load(), kCount);
}

TEST_F(RelayTest, SubscriberPliOnTheOtherWorkerReachesThePublisher) {
  pub_->PumpFor(Millis{kPliIntervalMs + 50});  // the AddConsumer PLI's throttle window
  const size_t base = Plis();
  ASSERT_EQ(base, 1u);
  sub_->SendPli(kSubscriberRtcpSsrc, kConsumerSsrc);
  ASSERT_TRUE(pub_->PumpUntil([&] { return Plis() >= base + 1; })) << "PLI not relayed back";
  EXPECT_EQ(pub_->pli_media_ssrcs.size(), base + 1);
}

TEST_F(RelayTest, SubscriberNackIsAnsweredFromTheOtherWorkersHistory) {
  Publish(20);
  ASSERT_TRUE(sub_->PumpUntil([&] { return sub_->rtp.size() >= 20; }));
  const uint16_t base = sub_->rtp[0].sequence_number;
  sub_->SendRtcp([&](std::span<uint8_t> buf) -> size_t {
    rtc::ByteWriter wr(buf);
    const uint16_t lost[] = {static_cast<uint16_t>(base + 3), static_cast<uint16_t>(base + 17)};
    return rtc::WriteGenericNack(wr, kSubscriberRtcpSsrc, kConsumerSsrc, lost).ok() ? wr.size() : 0;
  });
  ASSERT_TRUE(sub_->PumpUntil([&] { return Media(kConsumerRtxSsrc).size() >= 2; }))
      << "no RTX repair";
  const auto rtx = Media(kConsumerRtxSsrc);
  ASSERT_EQ(rtx.size(), 2u);
  for (size_t k = 0; k < 2; ++k) {
    const size_t i = k == 0 ? 3 : 17;
    auto osn = rtc::RtpPacket::RtxOriginalSequenceNumber(rtx[k]->payload);
    ASSERT_TRUE(osn.ok());
    EXPECT_EQ(*osn, static_cast<uint16_t>(base + i));
    EXPECT_EQ(std::vector<uint8_t>(rtx[k]->payload.begin() + 2, rtx[k]->payload.end()),
              sent_[i].payload);
  }
  EXPECT_EQ(w(1).counters().retransmitted.load(), 2u);
  EXPECT_EQ(w(0).counters().retransmitted.load(), 0u);
  EXPECT_EQ(w(0).counters().nack_in.load(), 0u);
}

TEST_F(RelayTest, SenderReportIsTranslatedOnTheOtherWorker) {
  constexpr size_t kCount = 12;
  Publish(kCount);
  ASSERT_TRUE(sub_->PumpUntil([&] { return sub_->rtp.size() >= kCount; }));
  const uint32_t ts_shift = sub_->rtp[0].timestamp - sent_[0].timestamp;
  uint32_t octets = 0;
  for (const RtpSpec& s : sent_) octets += static_cast<uint32_t>(s.payload.size());
  rtc::SenderInfo info;
  info.ssrc = kPublisherSsrc;
  info.ntp_timestamp = 0xE8A1B2C3D4E5F607ULL;
  info.rtp_timestamp = sent_.back().timestamp + 1234;
  info.packet_count = 999;
  info.octet_count = 99999;
  pub_->SendSenderReport(info);
  ASSERT_TRUE(sub_->PumpUntil([&] { return !sub_->sender_reports.empty(); }))
      << "no sender report relayed";
  const rtc::SenderInfo& out = sub_->sender_reports[0];
  EXPECT_EQ(out.ssrc, kConsumerSsrc);
  EXPECT_EQ(out.ntp_timestamp, info.ntp_timestamp);
  EXPECT_EQ(out.rtp_timestamp, info.rtp_timestamp + ts_shift);
  EXPECT_EQ(out.packet_count, kCount);  // the subscriber's own counts
  EXPECT_EQ(out.octet_count, octets);
}

TEST_F(RelayTest, RemovingTheProducerRemovesTheRelayedOne) {
  Publish(5);
  ASSERT_TRUE(sub_->PumpUntil([&] { return sub_->rtp.size() >= 5; }));
  ASSERT_EQ(w(1).counters().producers.load(), 1u);
  w(0).RemoveProducer(kProducer);
  ASSERT_TRUE(WaitUntil([&] { return w(1).counters().producers.load() == 0; }))
      << "the relayed producer is still on worker 1";
  EXPECT_EQ(w(0).counters().producers.load(), 0u);
  Publish(5);
  sub_->PumpFor(Millis{100});
  EXPECT_EQ(sub_->rtp.size(), 5u);
}

TEST_F(RelayTest, AFullRingDropsAndCountsWithoutBlockingTheSource) {
  // Worker 1 stops draining; worker 0 keeps accepting its publisher.
  w(1).Stop();
  const uint64_t out_before = w(0).counters().relay_out.load();
  const size_t kSlots = WorkerOptions{}.relay_ring_slots;
  const size_t kCount = kSlots + 100;
  const uint64_t in_before = w(0).counters().rtp_in.load();
  for (size_t i = 0; i < kCount; ++i) {
    pub_->SendRtp(NextPacket());
    if (i % 64 == 63) {
      // Paced so the loopback socket buffer does not overflow.
      ASSERT_TRUE(WaitUntil([&] { return w(0).counters().rtp_in.load() >= in_before + i + 1; }));
    }
  }
  ASSERT_TRUE(WaitUntil([&] {
    return w(0).counters().relay_out.load() + w(0).counters().relay_dropped.load() >=
           out_before + kCount;
  }));
  EXPECT_EQ(w(0).counters().relay_out.load() - out_before, kSlots);
  EXPECT_EQ(w(0).counters().relay_dropped.load(), kCount - kSlots);
}

class SmallRingRelayTest : public RelayTest {
 protected:
  static constexpr size_t kSlots = 8;
  size_t RingSlots() const override { return kSlots; }

  // Worker 1's loop runs a task that reads nothing until ReleaseWorker1().
  void HoldWorker1() {
    std::promise<void> holding;
    std::shared_future<void> released = release_.get_future().share();
    w(1).Post([&holding, released] {
      holding.set_value();
      released.wait();
    });
    holding.get_future().wait();
  }

  // Lets worker 1 go and waits until it took the kSlots messages its ring held.
  void ReleaseWorker1() {
    const uint64_t in_before = w(1).counters().relay_in.load();
    release_.set_value();
    ASSERT_TRUE(WaitUntil([&] { return w(1).counters().relay_in.load() >= in_before + kSlots; }));
  }

  // Publishes `count` packets and waits until worker 0 has read them.
  void PublishAndWait(size_t count) {
    const uint64_t in_before = w(0).counters().rtp_in.load();
    Publish(count);
    ASSERT_TRUE(WaitUntil([&] { return w(0).counters().rtp_in.load() >= in_before + count; }));
    Sync(0);
  }

  std::promise<void> release_;
};

TEST_F(SmallRingRelayTest, PacketsAFullRingDroppedAreAskedForAgainAndArrive) {
  constexpr size_t kBurst = 20;  // while worker 1 is held: 12 of them find its ring full
  constexpr size_t kAfter = 5;   // once it runs again: they show it the gap
  HoldWorker1();
  const uint64_t out_before = w(0).counters().relay_out.load();
  PublishAndWait(kBurst);
  EXPECT_EQ(w(0).counters().relay_out.load() - out_before, kSlots);
  EXPECT_EQ(w(0).counters().relay_dropped.load(), kBurst - kSlots);
  ReleaseWorker1();

  Publish(kAfter);
  constexpr size_t kCount = kBurst + kAfter;
  ASSERT_TRUE(sub_->PumpUntil([&] { return sub_->rtp.size() >= kCount; }))
      << "got " << sub_->rtp.size() << " of " << kCount;
  sub_->PumpFor(Millis{100});  // a second copy of anything would be here by now
  ASSERT_EQ(sub_->rtp.size(), kCount);
  // Each packet once, with its own sequence number: the repaired ones late,
  // as after any loss.
  const uint16_t base_seq = sub_->rtp[0].sequence_number;
  std::map<uint16_t, const ReceivedRtp*> by_seq;
  for (const ReceivedRtp& got : sub_->rtp) by_seq[got.sequence_number] = &got;
  ASSERT_EQ(by_seq.size(), kCount);
  for (size_t i = 0; i < kCount; ++i) {
    SCOPED_TRACE(i);
    auto it = by_seq.find(static_cast<uint16_t>(base_seq + i));
    ASSERT_NE(it, by_seq.end());
    EXPECT_EQ(it->second->payload, sent_[i].payload);
    EXPECT_EQ(it->second->ssrc, kConsumerSsrc);
  }
  // At least once each (a request repeated before the answer arrived is
  // answered again; the copy's history drops the second).
  EXPECT_GE(w(0).counters().relay_repaired.load(), kBurst - kSlots);
  EXPECT_EQ(w(1).counters().retransmitted.load(), 0u);  // nobody's NACK: the ring's loss
}

// A resume must reach the other worker before the packets after it, or its
// consumers would carry on with a gap (and ask for what was muted).
TEST_F(SmallRingRelayTest, AResumeTheFullRingRefusedStillGoesBeforeThePacketsAfterIt) {
  PublishAndWait(3);
  ASSERT_TRUE(sub_->PumpUntil([&] { return sub_->rtp.size() >= 3; }));
  HoldWorker1();
  PublishAndWait(kSlots);  // fills the ring: packets 3..10
  w(0).SetProducerPaused(kProducer, true);
  PublishAndWait(10);  // muted: 11..20, not relayed
  w(0).SetProducerPaused(kProducer, false);
  Sync(0);            // the resume finds the ring full and waits
  PublishAndWait(4);  // 21..24: dropped so as not to overtake it
  EXPECT_EQ(w(0).counters().relay_dropped.load(), 4u);
  ReleaseWorker1();
  PublishAndWait(5);  // 25..29, after the resume
  constexpr size_t kCount = 3 + kSlots + 5;
  ASSERT_TRUE(sub_->PumpUntil([&] { return sub_->rtp.size() >= kCount; }))
      << "got " << sub_->rtp.size() << " of " << kCount;
  sub_->PumpFor(Millis{100});  // nothing muted or dropped follows
  ASSERT_EQ(sub_->rtp.size(), kCount);
  const uint16_t base_seq = sub_->rtp[0].sequence_number;
  for (size_t i = 0; i < kCount; ++i) {
    SCOPED_TRACE(i);
    const size_t sent = i < 3 + kSlots ? i : i - (3 + kSlots) + 25;
    EXPECT_EQ(sub_->rtp[i].payload, sent_[sent].payload);
    EXPECT_EQ(sub_->rtp[i].sequence_number, static_cast<uint16_t>(base_seq + i));  // no gap
  }
  EXPECT_EQ(w(0).counters().relay_repaired.load(), 0u);
}

}  // namespace
}  // namespace aegis::sfu::testing
