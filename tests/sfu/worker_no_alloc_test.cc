// Issue "no heap allocation per packet in steady state" for the whole media
// worker: a publisher and two subscribers on a real worker over loopback UDP;
// after a warm-up, thousands of packets are received, unprotected, forwarded,
// protected and sent, with RTCP (receiver reports, transport-cc feedback,
// NACK answers) flowing, and the worker thread must not reach operator new.
// This binary links the counting allocator (tests/common/counting_allocator.h)
// and counts only on the worker thread.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <thread>

#include "common/counting_allocator.h"
#include "rtc/byte_io.h"
#include "rtc/rtp/rtcp_nack.h"
#include "rtc/rtp/rtcp_transport_cc.h"
#include "sfu/worker.h"
#include "test_peer.h"
#include "worker_test_util.h"

namespace aegis::sfu::testing {
namespace {

constexpr uint32_t kSsrc = 0x01020304;
constexpr uint8_t kPt = 96;
constexpr uint8_t kTwccId = 3;

class NoAllocTest : public WorkerTest {
 protected:
  void SetUp() override {
    WorkerTest::SetUp();
    if (HasFatalFailure()) return;
    pub_ = ConnectedPeer(1);
    ASSERT_TRUE(pub_);
    for (uint64_t i = 0; i < 2; ++i) {
      subs_[i] = ConnectedPeer(2 + i);
      ASSERT_TRUE(subs_[i]);
    }
    ProducerParams p;
    p.producer_id = 10;
    p.transport_id = 1;
    p.kind = MediaKind::kVideo;
    p.mid = "0";
    p.ssrc = kSsrc;
    p.nack = true;
    p.transport_cc_extension_id = kTwccId;
    worker_->AddProducer(p);
    for (uint64_t i = 0; i < 2; ++i) {
      ConsumerParams c;
      c.consumer_id = 20 + i;
      c.transport_id = 2 + i;
      c.producer_id = 10;
      c.ssrc = 0x0A000000 + static_cast<uint32_t>(i);
      c.payload_map[kPt] = 100;
      c.rtx_ssrc = 0x0B000000 + static_cast<uint32_t>(i);
      c.rtx_payload_map[100] = 101;
      worker_->AddConsumer(c);
      // Downlink estimation on: every packet to the subscriber is numbered.
      worker_->SetTransportFeedback(c.transport_id, kTwccId);
      subs_[i]->transport_cc_extension_id = kTwccId;
    }
    Sync();
    worker_->Post([] { aegis::alloc_count::CountOnlyThread(std::this_thread::get_id()); });
    Sync();
  }

  // `count` packets of 1000 bytes; TestPeer's default extension block carries
  // a transport-wide sequence number with id 3 (kTwccId).
  void Publish(size_t count) {
    for (size_t i = 0; i < count; ++i) {
      RtpSpec s;
      s.ssrc = kSsrc;
      s.payload_type = kPt;
      s.sequence_number = seq_;
      s.timestamp = 90U * seq_;
      s.marker = seq_ % 4 == 0;
      s.payload.assign(1000, static_cast<uint8_t>(seq_));
      pub_->SendRtp(s);
      ++seq_;
      if (i % 16 == 15) {
        for (auto& sub : subs_) sub->Poll(Millis{0});
      }
    }
  }

  // Subscriber 0 reports its last (up to) 100 packets to the downlink
  // estimator as transport-cc feedback, 1 ms apart.
  void SendDownlinkFeedback() {
    const auto& rtp = subs_[0]->rtp;
    const size_t n = std::min<size_t>(rtp.size(), 100);
    ASSERT_TRUE(rtp[rtp.size() - n].transport_seq.has_value());
    rtc::TransportCcFeedbackBuilder b(0x5EED, rtp.front().ssrc, feedback_count_++,
                                      *rtp[rtp.size() - n].transport_seq);
    for (size_t i = 0; i < n; ++i) ASSERT_TRUE(b.Add(arrival_us_ += 1000));
    subs_[0]->SendRtcp([&](std::span<uint8_t> buf) -> size_t {
      rtc::ByteWriter w(buf);
      return b.Write(w).ok() ? w.size() : 0;
    });
  }

  size_t Received() const { return std::min(subs_[0]->rtp.size(), subs_[1]->rtp.size()); }

  std::unique_ptr<TestPeer> pub_;
  std::array<std::unique_ptr<TestPeer>, 2> subs_;
  uint16_t seq_ = 1000;
  uint8_t feedback_count_ = 0;
  int64_t arrival_us_ = 1'000'000'000;
};

TEST_F(NoAllocTest, SteadyStateForwardingDoesNotAllocateOnTheWorkerThread) {
  // Warm-up rounds size the send queues, packet history and hash maps; the
  // last round is measured.
  constexpr size_t kPackets = 1500;
  size_t expected = 0;
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round);
    if (round == 2) aegis::alloc_count::ResetAllocationCounts();
    Publish(kPackets);
    expected += kPackets;
    // A NACK from a subscriber is answered over RTX from the history
    // (recent enough to still be among the last 1024 packets).
    const uint16_t newest = subs_[0]->rtp.back().sequence_number;
    subs_[0]->SendRtcp([&](std::span<uint8_t> buf) -> size_t {
      rtc::ByteWriter w(buf);
      const uint16_t lost[] = {static_cast<uint16_t>(newest - 20),
                               static_cast<uint16_t>(newest - 10)};
      return rtc::WriteGenericNack(w, 0x5EED, subs_[0]->rtp.front().ssrc, lost).ok() ? w.size() : 0;
    });
    SendDownlinkFeedback();
    ASSERT_TRUE(PumpAll({subs_[0].get(), subs_[1].get(), pub_.get()},
                        [&] {
                          return Received() >= expected &&
                                 worker_->counters().retransmitted.load() >= 2U * (round + 1);
                        }))
        << "received " << Received();
    // No Sync(): a closure posted from the control plane is not media-path
    // work (asio may size its handler cache for it), so nothing is posted
    // while measuring; the counters above say the worker has done its part.
  }
  EXPECT_EQ(aegis::alloc_count::NewCalls(), 0u) << "operator new on the worker thread";
  EXPECT_TRUE(aegis::alloc_count::OpensslHooked());
  EXPECT_EQ(aegis::alloc_count::OpensslAllocs(), 0u) << "OpenSSL allocated on the worker thread";
  EXPECT_GE(worker_->counters().rtp_out.load(), 2 * expected);
  EXPECT_EQ(worker_->counters().retransmitted.load(), 6u);
}

}  // namespace
}  // namespace aegis::sfu::testing
