// SimulcastRewriter: the subscriber's sequence, timestamp and VP8 picture
// lines across source changes (layer switches), wraps and reordering.
#include "sfu/simulcast_rewriter.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "rtc/rtp/codecs.h"

namespace aegis::sfu {
namespace {

constexpr uint32_t kVideoClock = 90;  // ticks per ms

// A simulated simulcast layer: its own random-looking sequence, timestamp and
// PictureID bases, as a browser's encodings have.
struct Layer {
  uint16_t seq;
  uint32_t ts;
  uint16_t picture_id;
  uint8_t tl0;
};

std::vector<uint8_t> Vp8Payload(uint16_t picture_id, uint8_t tl0, bool key) {
  return {0x90,
          0xE0,
          static_cast<uint8_t>(0x80 | ((picture_id >> 8) & 0x7F)),
          static_cast<uint8_t>(picture_id),
          tl0,
          0x20,
          static_cast<uint8_t>(key ? 0x00 : 0x01)};
}

class RewriterTest : public ::testing::Test {
 protected:
  // Sends `frames` frames of `packets_per_frame` from `layer`, 33 ms apart,
  // checking every output continues the previous one.
  void SendFrames(Layer& layer, int frames, int packets_per_frame, bool first_key) {
    for (int f = 0; f < frames; ++f) {
      for (int k = 0; k < packets_per_frame; ++k) {
        auto payload = Vp8Payload(layer.picture_id, layer.tl0, first_key && f == 0 && k == 0);
        auto out = rw_.Rewrite(layer.seq++, layer.ts, kVideoClock, now_ms_);
        ASSERT_TRUE(out.has_value());
        rw_.RewriteVp8(payload);
        auto d = rtc::ParseVp8Descriptor(payload);
        ASSERT_TRUE(d.ok());
        if (have_last_) {
          EXPECT_EQ(out->seq, static_cast<uint16_t>(last_seq_ + 1)) << "sequence gap";
          if (k == 0) {
            EXPECT_GT(static_cast<int32_t>(out->ts - last_ts_), 0) << "timestamp not forward";
            EXPECT_EQ(d->picture_id, (last_picture_id_ + 1) & 0x7FFF) << "picture id gap";
          } else {
            EXPECT_EQ(out->ts, last_ts_);
            EXPECT_EQ(d->picture_id, last_picture_id_);
          }
        }
        have_last_ = true;
        last_seq_ = out->seq;
        last_ts_ = out->ts;
        last_picture_id_ = d->picture_id;
        last_tl0_ = d->tl0picidx;
      }
      layer.ts += 33 * kVideoClock;
      layer.picture_id = static_cast<uint16_t>((layer.picture_id + 1) & 0x7FFF);
      ++layer.tl0;
      now_ms_ += 33;
    }
  }

  SimulcastRewriter rw_{0xFFF0, 0xFFFFFF00};  // both lines wrap soon
  int64_t now_ms_ = 1000;
  bool have_last_ = false;
  uint16_t last_seq_ = 0;
  uint32_t last_ts_ = 0;
  uint16_t last_picture_id_ = 0;
  uint8_t last_tl0_ = 0;
};

TEST_F(RewriterTest, FirstPacketStartsAtTheConsumersValues) {
  auto out = rw_.Rewrite(1234, 5678, kVideoClock, now_ms_);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->seq, 0xFFF0);
  EXPECT_EQ(out->ts, 0xFFFFFF00U);
  EXPECT_TRUE(rw_.synced());
}

TEST_F(RewriterTest, SwitchesBetweenLayersWithoutDiscontinuity) {
  Layer low{100, 1'000'000, 300, 10};
  Layer high{65'530, 4'000'000'000U, 0x7FFE, 250};  // sequence, PictureID, TL0 about to wrap
  SendFrames(low, 5, 2, true);
  rw_.Resync();  // switch up at a keyframe of the high layer
  SendFrames(high, 10, 3, true);
  rw_.Resync();  // and back down
  SendFrames(low, 10, 1, true);
  rw_.Resync();
  SendFrames(high, 3, 4, true);
  // The output sequence line wrapped past 0xFFFF on the way (start 0xFFF0).
  EXPECT_LT(last_seq_, 0x100);
}

TEST_F(RewriterTest, Tl0PicIdxContinuesAcrossSwitches) {
  Layer low{1, 90'000, 5, 40};
  Layer high{9000, 7'000'000, 20'000, 3};
  SendFrames(low, 3, 1, true);
  const uint8_t before = last_tl0_;
  rw_.Resync();
  SendFrames(high, 1, 1, true);
  EXPECT_EQ(last_tl0_, static_cast<uint8_t>(before + 1));
}

TEST_F(RewriterTest, TimestampGapFollowsWallClock) {
  Layer low{10, 500, 1, 0};
  SendFrames(low, 1, 1, true);
  const uint32_t ts_before = last_ts_;
  now_ms_ += 200;  // the new source's first packet comes 200 ms later
  rw_.Resync();
  auto out = rw_.Rewrite(40'000, 123, kVideoClock, now_ms_);
  ASSERT_TRUE(out.has_value());
  // 33 ms advanced by SendFrames after the frame, plus 200 ms.
  EXPECT_EQ(out->ts - ts_before, (33U + 200U) * kVideoClock);
}

TEST_F(RewriterTest, PacketsFromBeforeTheSwitchPointAreDropped) {
  Layer low{500, 1000, 1, 0};
  SendFrames(low, 2, 2, true);
  rw_.Resync();
  ASSERT_TRUE(rw_.Rewrite(2000, 9000, kVideoClock, now_ms_).has_value());
  // A reordered packet of the new layer from before its keyframe: its output
  // number would repeat one already sent for the old layer.
  EXPECT_FALSE(rw_.Rewrite(1999, 8000, kVideoClock, now_ms_).has_value());
  // Reordering after the switch point is passed through in place.
  ASSERT_TRUE(rw_.Rewrite(2002, 9000, kVideoClock, now_ms_).has_value());
  auto late = rw_.Rewrite(2001, 9000, kVideoClock, now_ms_);
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(rw_.next_seq(), static_cast<uint16_t>(late->seq + 2));
}

TEST_F(RewriterTest, SourceSeqMapsOnlyTheCurrentEpoch) {
  auto a = rw_.Rewrite(100, 0, kVideoClock, now_ms_);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(rw_.SourceSeq(a->seq), 100);
  rw_.Resync();
  auto b = rw_.Rewrite(7000, 0, kVideoClock, now_ms_ + 10);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->seq, static_cast<uint16_t>(a->seq + 1));
  EXPECT_EQ(rw_.SourceSeq(b->seq), 7000);
  EXPECT_FALSE(rw_.SourceSeq(a->seq).has_value());  // old layer: other numbering
  EXPECT_FALSE(rw_.SourceSeq(static_cast<uint16_t>(b->seq + 1)).has_value());  // not sent yet
}

// An epoch is not limited to half the sequence space: 100 000 packets of one
// source (several wraps) are all forwarded and NACKs keep mapping back, while
// a packet from before a later re-sync is still dropped. (Every packet after
// the 32 768th of an epoch used to be dropped: a broadcast's video stopped
// after about 270 s.)
TEST_F(RewriterTest, LongEpochsKeepForwardingAndMappingNacks) {
  uint16_t seq = 60000;
  uint32_t ts = 0;
  std::optional<SimulcastRewriter::Output> last;
  for (int i = 0; i < 100'000; ++i) {
    last = rw_.Rewrite(seq, ts, kVideoClock, now_ms_);
    ASSERT_TRUE(last.has_value()) << "packet " << i << " dropped";
    if (i % 7 == 3) {  // a little reordering: an older one arrives late
      ASSERT_TRUE(rw_.Rewrite(static_cast<uint16_t>(seq - 2), ts, kVideoClock, now_ms_));
    }
    ++seq;
    ts += 300;
  }
  const auto mapped = rw_.SourceSeq(last->seq);
  ASSERT_TRUE(mapped.has_value());
  EXPECT_EQ(*mapped, static_cast<uint16_t>(seq - 1));
  const auto older = rw_.SourceSeq(static_cast<uint16_t>(last->seq - 30'000));
  ASSERT_TRUE(older.has_value());
  EXPECT_EQ(*older, static_cast<uint16_t>(seq - 1 - 30'000));

  rw_.Resync();
  ASSERT_TRUE(rw_.Rewrite(5000, 0, kVideoClock, now_ms_ + 33).has_value());
  EXPECT_FALSE(rw_.Rewrite(4999, 0, kVideoClock, now_ms_ + 33).has_value());
  EXPECT_FALSE(rw_.SourceSeq(last->seq).has_value());  // previous epoch
}

TEST_F(RewriterTest, SevenBitPictureIdWrapsWithinSevenBits) {
  std::vector<uint8_t> p = {0x90, 0x80, 0x7F, 0x00};  // I=1, M=0, PictureID 127
  ASSERT_TRUE(rw_.Rewrite(1, 0, kVideoClock, now_ms_).has_value());
  rw_.RewriteVp8(p);
  EXPECT_EQ(rtc::ParseVp8Descriptor(p)->picture_id, 127);
  rw_.Resync();
  std::vector<uint8_t> q = {0x90, 0x80, 0x05, 0x00};  // new source, PictureID 5
  ASSERT_TRUE(rw_.Rewrite(900, 0, kVideoClock, now_ms_ + 33).has_value());
  rw_.RewriteVp8(q);
  EXPECT_EQ(rtc::ParseVp8Descriptor(q)->picture_id, 0);  // 127 + 1 in 7 bits
  EXPECT_EQ(q.size(), 4U);
}

TEST_F(RewriterTest, PayloadWithoutPictureIdIsLeftAlone) {
  std::vector<uint8_t> p = {0x10, 0x00, 0x9D};
  const auto copy = p;
  ASSERT_TRUE(rw_.Rewrite(1, 0, kVideoClock, now_ms_).has_value());
  rw_.RewriteVp8(p);
  EXPECT_EQ(p, copy);
  std::vector<uint8_t> garbage = {0x80};  // X set, nothing after
  rw_.RewriteVp8(garbage);
  EXPECT_EQ(garbage.size(), 1U);
}

}  // namespace
}  // namespace aegis::sfu
