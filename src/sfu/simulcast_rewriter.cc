#include "sfu/simulcast_rewriter.h"

#include <algorithm>

#include "rtc/rtp/codecs.h"

namespace aegis::sfu {
namespace {

constexpr int16_t SeqDiff(uint16_t a, uint16_t b) { return static_cast<int16_t>(a - b); }

// RFC 7741 PictureID is 7 or 15 bits (`mask`): signed distance in that space.
int PictureIdDiff(uint16_t a, uint16_t b, uint16_t mask) {
  const int d = (a - b) & mask;
  return d > mask / 2 ? d - (mask + 1) : d;
}

}  // namespace

std::optional<SimulcastRewriter::Output> SimulcastRewriter::Rewrite(uint16_t seq, uint32_t ts,
                                                                    uint32_t clock_per_ms,
                                                                    int64_t now_ms) {
  if (!synced_) {
    // Continue the subscriber's lines from where they stopped, whatever the
    // new source's values are: sequence +1, timestamp + the time elapsed.
    const uint32_t gap_ts =
        started_
            ? static_cast<uint32_t>(std::max<int64_t>(1, now_ms - last_sent_ms_)) * clock_per_ms
            : 0;
    seq_offset_ = static_cast<uint16_t>(next_seq_ - seq);
    ts_offset_ = last_ts_ + gap_ts - ts;
    highest_source_seq_ = seq;
    epoch_span_ = 1;
    synced_ = true;
    started_ = true;
  } else if (const int d = SeqDiff(seq, highest_source_seq_); d > 0) {
    highest_source_seq_ = seq;
    epoch_span_ = std::min<uint32_t>(epoch_span_ + static_cast<uint32_t>(d), kMaxEpochSpan);
  } else if (static_cast<int64_t>(epoch_span_) - 1 + d < 0) {
    // Older than the epoch's first packet (measured back from the newest,
    // so an epoch may run for any number of packets).
    return std::nullopt;
  }
  Output out;
  out.seq = static_cast<uint16_t>(seq + seq_offset_);
  out.ts = ts + ts_offset_;
  if (SeqDiff(out.seq, next_seq_) >= 0) next_seq_ = static_cast<uint16_t>(out.seq + 1);
  if (static_cast<int32_t>(out.ts - last_ts_) > 0) last_ts_ = out.ts;
  last_sent_ms_ = now_ms;
  return out;
}

void SimulcastRewriter::RewriteVp8(std::span<uint8_t> payload) {
  auto d = rtc::ParseVp8Descriptor(payload);
  if (!d.ok() || !d->has_picture_id) return;
  const uint16_t mask = d->picture_id_15bit ? 0x7FFF : 0x7F;
  if (vp8_rebase_) {
    // The first picture of the new source follows the last one sent.
    picture_id_offset_ =
        vp8_started_ ? static_cast<uint16_t>((last_picture_id_ + 1 - d->picture_id) & mask) : 0;
    if (d->has_tl0picidx) {
      tl0_offset_ = tl0_started_ ? static_cast<uint8_t>(last_tl0_ + 1 - d->tl0picidx) : 0;
    }
    vp8_rebase_ = false;
  }
  const auto picture_id = static_cast<uint16_t>((d->picture_id + picture_id_offset_) & mask);
  rtc::WriteVp8PictureId(payload, *d, picture_id);
  if (!vp8_started_ || PictureIdDiff(picture_id, last_picture_id_, mask) > 0) {
    last_picture_id_ = picture_id;
  }
  vp8_started_ = true;
  if (d->has_tl0picidx) {
    const auto tl0 = static_cast<uint8_t>(d->tl0picidx + tl0_offset_);
    rtc::WriteVp8Tl0PicIdx(payload, *d, tl0);
    if (!tl0_started_ || static_cast<int8_t>(tl0 - last_tl0_) > 0) last_tl0_ = tl0;
    tl0_started_ = true;
  }
}

std::optional<uint16_t> SimulcastRewriter::SourceSeq(uint16_t out_seq) const {
  // 1: the last one sent; at most epoch_span_ back stays in this epoch.
  const int back = SeqDiff(next_seq_, out_seq);
  if (!synced_ || back <= 0 || static_cast<uint32_t>(back) > epoch_span_) return std::nullopt;
  return static_cast<uint16_t>(out_seq - seq_offset_);
}

}  // namespace aegis::sfu
