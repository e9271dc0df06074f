// libFuzzer target for the video payload inspectors (rtc/rtp/codecs.h): VP8
// descriptor parse, both keyframe detectors, and in-place PictureID /
// TL0PICIDX rewriting on a copy, which must re-parse to the written values.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "rtc/rtp/codecs.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();  // a broken promise, not bad input
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1500) return 0;
  std::vector<uint8_t> copy(data, data + size);
  (void)aegis::rtc::IsH264KeyFrame(copy);
  (void)aegis::rtc::IsVp8KeyFrame(copy);
  auto d = aegis::rtc::ParseVp8Descriptor(copy);
  if (!d.ok()) return 0;
  Check(d->size <= size);
  const bool key = aegis::rtc::IsVp8KeyFrame(copy);
  aegis::rtc::WriteVp8PictureId(copy, *d, 0x1357);
  aegis::rtc::WriteVp8Tl0PicIdx(copy, *d, 0x42);
  auto again = aegis::rtc::ParseVp8Descriptor(copy);
  Check(again.ok() && again->size == d->size);
  Check(aegis::rtc::IsVp8KeyFrame(copy) == key);
  if (d->has_picture_id) {
    Check(again->picture_id == (d->picture_id_15bit ? 0x1357 : (0x1357 & 0x7F)));
  }
  if (d->has_tl0picidx) Check(again->tl0picidx == 0x42);
  return 0;
}
