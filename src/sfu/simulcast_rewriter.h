// SimulcastRewriter: one consumer's outgoing RTP lines (sequence number,
// timestamp and, for VP8, PictureID / TL0PICIDX) while its source changes
// underneath: a simulcast layer switch, a publisher's new SSRC, a resume after
// pause. After Resync() the next packet re-bases every line so the subscriber
// sees sequence numbers continue by one, timestamps move forward by the wall
// time elapsed, and picture ids continue by one: its decoder never sees a
// discontinuity. Plain value type, owned by its consumer on the worker thread;
// not thread-safe. Inputs come from publishers and are untrusted (no asserts).
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace aegis::sfu {

class SimulcastRewriter {
 public:
  struct Output {
    uint16_t seq = 0;
    uint32_t ts = 0;
  };

  // The subscriber's lines start at these (random) values.
  SimulcastRewriter(uint16_t first_seq, uint32_t first_ts)
      : next_seq_(first_seq), last_ts_(first_ts) {}

  // The source changes: the next packet given to Rewrite() starts a new epoch.
  void Resync() {
    synced_ = false;
    vp8_rebase_ = true;
  }
  bool synced() const { return synced_; }
  bool started() const { return started_; }

  // Maps one source packet onto the subscriber's lines. `clock_per_ms` is the
  // RTP clock in ticks per millisecond (90 video, 48 Opus); `now_ms` sizes the
  // timestamp gap across a re-sync. nullopt: the packet predates the current
  // epoch's first packet (a late packet of the old source, or reordered before
  // a switch point) and must not be sent: its number would collide.
  std::optional<Output> Rewrite(uint16_t seq, uint32_t ts, uint32_t clock_per_ms, int64_t now_ms);

  // VP8 payload (a copy the caller is about to send, e.g. the send slot):
  // rewrites PictureID and TL0PICIDX in place so they continue across epochs.
  // A payload without the fields is left alone. Call after Rewrite().
  void RewriteVp8(std::span<uint8_t> payload);

  // A sequence number sent in the current epoch, mapped back to the source's
  // numbering (NACK repair); nullopt for one sent before the last re-sync or
  // never sent.
  std::optional<uint16_t> SourceSeq(uint16_t out_seq) const;

  uint32_t ts_offset() const { return ts_offset_; }
  uint16_t next_seq() const { return next_seq_; }
  uint32_t last_ts() const { return last_ts_; }

 private:
  bool synced_ = false;
  bool started_ = false;
  uint16_t seq_offset_ = 0;
  uint32_t ts_offset_ = 0;
  uint16_t next_seq_;
  // The newest source sequence number of this epoch, and how many numbers
  // the epoch spans from its first packet to it (capped: only the last
  // 32767 can be told apart anyway).
  static constexpr uint32_t kMaxEpochSpan = 1U << 30;
  uint16_t highest_source_seq_ = 0;
  uint32_t epoch_span_ = 0;
  uint32_t last_ts_;
  int64_t last_sent_ms_ = 0;
  // VP8 (RFC 7741): offsets added to the source's 15-bit PictureID and 8-bit
  // TL0PICIDX; the highest values sent so far.
  bool vp8_rebase_ = true;
  bool vp8_started_ = false;
  uint16_t picture_id_offset_ = 0;
  uint8_t tl0_offset_ = 0;
  uint16_t last_picture_id_ = 0;
  uint8_t last_tl0_ = 0;
  bool tl0_started_ = false;
};

}  // namespace aegis::sfu
