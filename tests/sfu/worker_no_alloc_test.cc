// Issue "no heap allocation per packet in steady state" for the whole media
// worker: a publisher and two subscribers on a real worker over loopback UDP;
// after a warm-up, thousands of packets are received, unprotected, forwarded,
// protected and sent, with RTCP (receiver reports, transport-cc feedback,
// NACK answers) flowing, and the worker thread must not reach operator new.
// The same holds across workers (fan-out): a publisher on one worker, a
// subscriber fed through the relay ring on another; each worker thread is
// measured in its own round.
// This binary links the counting allocator (tests/common/counting_allocator.h)
// and counts only on the worker thread.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
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

// The publisher's video (producer 10 on transport 1), answering NACKs and
// numbering packets for transport-cc.
ProducerParams VideoProducer() {
  ProducerParams p = VideoProducerParams(10, 1, kSsrc);
  p.transport_cc_extension_id = kTwccId;
  return p;
}

// The publisher's packet `seq`: 1000 bytes, a marker every 4th; TestPeer's
// default extension block carries a transport-wide sequence number with id 3
// (kTwccId).
RtpSpec KiloPacket(uint16_t seq) {
  RtpSpec s;
  s.ssrc = kSsrc;
  s.payload_type = kPt;
  s.sequence_number = seq;
  s.timestamp = 90U * seq;
  s.marker = seq % 4 == 0;
  s.payload.assign(1000, static_cast<uint8_t>(seq));
  return s;
}

// A NACK from `sub` for two packets just before its `newest` (recent enough
// to be answered over RTX from the history's last 1024 packets).
void SendNackBefore(TestPeer& sub, uint16_t newest) {
  sub.SendRtcp([&](std::span<uint8_t> buf) -> size_t {
    rtc::ByteWriter w(buf);
    const uint16_t lost[] = {static_cast<uint16_t>(newest - 20),
                             static_cast<uint16_t>(newest - 10)};
    return rtc::WriteGenericNack(w, 0x5EED, sub.rtp.front().ssrc, lost).ok() ? w.size() : 0;
  });
}

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
    worker_->AddProducer(VideoProducer());
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

  // `count` packets of 1000 bytes.
  void Publish(size_t count) {
    for (size_t i = 0; i < count; ++i) {
      pub_->SendRtp(KiloPacket(seq_));
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
    SendNackBefore(*subs_[0], subs_[0]->rtp.back().sequence_number);
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

// Fan-out: worker 0 hands each packet to worker 1's ring; worker 1 stores,
// forwards and answers NACKs; a subscriber PLI goes back through the
// reverse ring.
TEST(RelayNoAllocTest, RelayedForwardingDoesNotAllocateOnEitherWorker) {
  RecordingListener listener;
  std::array<std::unique_ptr<Worker>, 2> workers = StartConnectedPair(listener);
  struct StopBoth {
    std::array<std::unique_ptr<Worker>, 2>& w;
    ~StopBoth() {
      for (auto& x : w) {
        if (x) x->Stop();
      }
    }
  } stop_both{workers};
  ASSERT_TRUE(workers[0] && workers[1]);
  auto sync = [&](size_t i) { return DrainPosted(*workers[i]); };
  auto connect = [&](size_t i, uint64_t transport_id) {
    return ConnectedPeerOn(*workers[i], listener, transport_id);
  };
  auto pub = connect(0, 1);
  ASSERT_TRUE(pub);
  auto sub = connect(1, 2);
  ASSERT_TRUE(sub);
  ProducerParams p = VideoProducer();
  workers[0]->AddProducer(p);
  p.producer_id = 11;
  workers[1]->AddRelayedProducer(p, 0, 10);
  ASSERT_TRUE(sync(1));
  workers[0]->AddRelay(10, 1, 11);
  ConsumerParams c;
  c.consumer_id = 20;
  c.transport_id = 2;
  c.producer_id = 11;
  c.ssrc = 0x0A000000;
  c.payload_map[kPt] = 100;
  c.rtx_ssrc = 0x0B000000;
  c.rtx_payload_map[100] = 101;
  workers[1]->AddConsumer(c);
  ASSERT_TRUE(sync(0));
  ASSERT_TRUE(sync(1));

  uint16_t seq = 1000;
  size_t expected = 0;
  // Media packets the subscriber received (its RTX repairs not counted).
  auto media = [&] {
    return std::count_if(sub->rtp.begin(), sub->rtp.end(),
                         [](const ReceivedRtp& r) { return r.ssrc == 0x0A000000; });
  };
  auto newest_media = [&] {
    for (auto it = sub->rtp.rbegin(); it != sub->rtp.rend(); ++it) {
      if (it->ssrc == 0x0A000000) return it->sequence_number;
    }
    return uint16_t{0};
  };
  // Round 0 warms both up; worker 0 is counted from round 1 (a warm-up
  // after the posted closure), measured in round 2; worker 1 likewise in
  // rounds 3 and 4. Nothing is posted during a measured round.
  auto measured = [](int round) { return round == 2 ? 0 : round == 4 ? 1 : -1; };
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE(round);
    if (round == 1 || round == 3) {
      workers[round / 2]->Post(
          [] { aegis::alloc_count::CountOnlyThread(std::this_thread::get_id()); });
      ASSERT_TRUE(sync(round / 2));
    }
    if (measured(round) >= 0) aegis::alloc_count::ResetAllocationCounts();
    for (size_t i = 0; i < 1500; ++i) {
      pub->SendRtp(KiloPacket(seq));
      ++seq;
      if (i % 16 == 15) sub->Poll(Millis{0});
      if (i % 256 == 255) {
        // Paced so worker 1 (the busier one: it encrypts and sends) keeps up
        // with the burst; this test is about allocations, not ring depth.
        const uint64_t target = expected + i + 1;
        const auto deadline = std::chrono::steady_clock::now() + kTimeout;
        while (workers[1]->counters().relay_in.load() < target &&
               std::chrono::steady_clock::now() < deadline) {
          sub->Poll(Millis{1});
        }
      }
    }
    expected += 1500;
    SendNackBefore(*sub, newest_media());
    sub->SendPli(0x5EED, sub->rtp.front().ssrc);  // back through the reverse ring
    const auto deadline = std::chrono::steady_clock::now() + kTimeout;
    auto done = [&] {
      return static_cast<size_t>(media()) >= expected &&
             workers[1]->counters().retransmitted.load() >= 2U * (round + 1);
    };
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      sub->Poll(Millis{2});
      pub->Poll(Millis{0});
    }
    ASSERT_TRUE(done()) << "received " << media() << " of " << expected << ", relay dropped "
                        << workers[0]->counters().relay_dropped.load();
    if (measured(round) >= 0) {
      EXPECT_EQ(aegis::alloc_count::NewCalls(), 0u)
          << "operator new on worker " << measured(round) << " (nack_out "
          << workers[0]->counters().nack_out.load() << ")";
      EXPECT_EQ(aegis::alloc_count::OpensslAllocs(), 0u)
          << "OpenSSL allocated on worker " << measured(round);
    }
  }
  EXPECT_TRUE(aegis::alloc_count::OpensslHooked());
  EXPECT_EQ(workers[0]->counters().relay_dropped.load(), 0u);
  EXPECT_GE(workers[1]->counters().rtp_out.load(), expected);
}

}  // namespace
}  // namespace aegis::sfu::testing
