// TwccRecorder: arrival times of one transport's incoming RTP by
// transport-wide sequence number (draft-holmer-rmcat-transport-wide-cc-
// extensions-01), turned into transport-cc feedback for the publisher's
// send-side bandwidth estimator. Fixed storage (a window of kWindow sequence
// numbers); a packet older than the last feedback is ignored, a jump beyond
// the window reports the skipped ones as lost. Owned by one media worker; not
// thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "rtc/byte_io.h"
#include "rtc/rtp/rtcp_transport_cc.h"

namespace aegis::sfu {

class TwccRecorder {
 public:
  static constexpr size_t kWindow = 1024;

  void OnPacket(uint16_t transport_seq, int64_t arrival_us);

  // Everything recorded since the last call, as one or more feedback
  // packets: emit(const rtc::TransportCcFeedbackBuilder&) for each.
  template <typename Emit>
  void Flush(uint32_t sender_ssrc, uint32_t media_ssrc, Emit&& emit);

  bool pending() const { return started_ && next_ <= highest_; }

 private:
  struct Slot {
    int64_t ext_seq = -1;
    int64_t arrival_us = 0;
  };

  bool started_ = false;
  int64_t next_ = 0;     // first extended sequence number not yet reported
  int64_t highest_ = 0;  // highest extended sequence number received
  uint8_t feedback_count_ = 0;
  std::array<Slot, kWindow> slots_{};
};

template <typename Emit>
void TwccRecorder::Flush(uint32_t sender_ssrc, uint32_t media_ssrc, Emit&& emit) {
  if (!pending()) return;
  std::optional<rtc::TransportCcFeedbackBuilder> builder;
  for (int64_t ext = next_; ext <= highest_; ++ext) {
    const Slot& slot = slots_[static_cast<size_t>(ext) % kWindow];
    std::optional<int64_t> arrival;
    if (slot.ext_seq == ext) arrival = slot.arrival_us;
    // Losses right after the previous feedback are reported too (the
    // sender's loss figure depends on them).
    if (!builder) {
      builder.emplace(sender_ssrc, media_ssrc, feedback_count_, static_cast<uint16_t>(ext));
    }
    if (!builder->Add(arrival)) {
      if (builder->has_received()) {
        emit(*builder);
        ++feedback_count_;
      }
      builder.reset();
      --ext;  // start the next packet at this one
    }
  }
  if (builder && builder->has_received()) {
    emit(*builder);
    ++feedback_count_;
  }
  next_ = highest_ + 1;
}

}  // namespace aegis::sfu
