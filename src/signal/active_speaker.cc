#include "signal/active_speaker.h"

namespace aegis::signal {

std::optional<std::string> ActiveSpeakerDetector::Update(std::span<const UserVolume> volumes) {
  const UserVolume* loudest = nullptr;
  for (const UserVolume& v : volumes) {
    // Ties keep the current speaker (no flapping between equal voices).
    if (loudest == nullptr || v.volume > loudest->volume ||
        (v.volume == loudest->volume && v.user_id == active_)) {
      loudest = &v;
    }
  }
  if (loudest == nullptr || loudest->user_id == active_) {
    candidate_.clear();
    streak_ = 0;
    return std::nullopt;
  }
  if (loudest->user_id == candidate_) {
    ++streak_;
  } else {
    candidate_ = loudest->user_id;
    streak_ = 1;
  }
  if (streak_ < kIntervalsToSwitch) return std::nullopt;
  active_ = candidate_;
  candidate_.clear();
  streak_ = 0;
  return active_;
}

void ActiveSpeakerDetector::Forget(const std::string& user_id) {
  if (active_ == user_id) active_.clear();
  if (candidate_ == user_id) {
    candidate_.clear();
    streak_ = 0;
  }
}

}  // namespace aegis::signal
