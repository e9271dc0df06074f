// AllocateLayers: shares one subscriber's downlink estimate out between its
// video consumers (docs/MEDIA.md "Allocation"). Higher priority first
// (screen share, then the active speaker's camera, then the others): every
// consumer first gets its lowest layer, then, in priority order, each is
// raised to the highest layer that still fits. Pure function, no
// allocation; the caller passes the consumers and receives one layer each.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace aegis::sfu {

inline constexpr size_t kAllocatorMaxLayers = 3;

struct LayerDemand {
  uint8_t priority = 0;  // larger first
  // The highest layer the consumer may get (its preference); its layers'
  // measured bitrates, 0 for a layer the publisher does not send now.
  int max_layer = 0;
  int current_layer = -1;  // what it receives now (-1: nothing yet)
  size_t layer_count = 1;  // 1: not simulcast
  std::array<uint64_t, kAllocatorMaxLayers> layer_bps{};
};

// A layer the consumer already receives is kept while it needs at most
// this much more than what is left (so estimate noise does not flap it).
inline constexpr double kKeepLayerSlack = 0.15;

struct AllocationResult {
  uint64_t allocated_bps = 0;  // what the chosen layers take
  uint64_t desired_bps = 0;    // what the consumers' best layers would take
};

// Writes each demand's layer to `layers` (same index; -1: the consumer has
// no active layer yet). `budget_bps` is what is left for video.
AllocationResult AllocateLayers(std::span<const LayerDemand> demands, uint64_t budget_bps,
                                std::span<int> layers);

}  // namespace aegis::sfu
