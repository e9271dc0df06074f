// ActiveSpeakerDetector: one room's active speaker from its per-interval
// volumes (docs/SIGNALING.md `active-speaker`). A user becomes the active
// speaker after being the loudest in 2 consecutive level intervals, so one
// loud interval (a cough, a door) does not switch it; an interval where nobody
// is above the silence threshold breaks the streak. Owned by the signalling
// io thread; not thread-safe.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "signal/messages.h"

namespace aegis::signal {

class ActiveSpeakerDetector {
 public:
  static constexpr int kIntervalsToSwitch = 2;

  // One level interval's volumes (empty: nobody above the threshold). Returns
  // the new active speaker when it changed in this interval.
  std::optional<std::string> Update(std::span<const UserVolume> volumes);
  // The user left: forget them (a later speaker needs a fresh streak).
  void Forget(const std::string& user_id);

  const std::string& active() const { return active_; }  // empty: none yet

 private:
  std::string active_;
  std::string candidate_;
  int streak_ = 0;
};

}  // namespace aegis::signal
