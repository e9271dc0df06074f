#include "sfu/twcc_recorder.h"

namespace aegis::sfu {

void TwccRecorder::OnPacket(uint16_t transport_seq, int64_t arrival_us) {
  int64_t ext = transport_seq;
  if (started_) {
    // Unwrap against the highest seen (RFC 3550 A.1 style, 16-bit distance).
    const auto delta = static_cast<int16_t>(transport_seq - static_cast<uint16_t>(highest_));
    ext = highest_ + delta;
    if (ext < next_) return;  // already reported (as lost): too late
  } else {
    started_ = true;
    next_ = ext;
    highest_ = ext;
  }
  if (ext > highest_) highest_ = ext;
  // Keep the unreported span inside the window; what falls out was lost.
  if (highest_ - next_ >= static_cast<int64_t>(kWindow)) next_ = highest_ - kWindow + 1;
  slots_[static_cast<size_t>(ext) % kWindow] = Slot{ext, arrival_us};
}

}  // namespace aegis::sfu
