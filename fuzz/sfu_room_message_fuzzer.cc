// Room message envelopes (sfu/room_message.h) from an untrusted data channel:
// ParseClientEnvelope must never read out of bounds, and what it accepts must
// rebuild to the same bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "sfu/room_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input(data, size);
  auto m = aegis::sfu::ParseClientEnvelope(input);
  if (!m.ok()) return 0;
  const std::vector<uint8_t> rebuilt =
      aegis::sfu::BuildSendEnvelope(m->flags, m->seq, m->to, m->payload);
  if (rebuilt.size() != size || !std::equal(rebuilt.begin(), rebuilt.end(), input.begin())) {
    std::abort();
  }
  return 0;
}
