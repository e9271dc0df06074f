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
  // The highest layer it may be raised into now (RaiseGuard); a layer it
  // already receives above this is still kept while it fits. Unlike
  // max_layer this does not lower what it wants (desired_bps, probes).
  int raise_limit = static_cast<int>(kAllocatorMaxLayers) - 1;
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

// RaiseGuard: one consumer's memory of the layers that did not fit. When the
// allocator takes a consumer down from a layer that is still sent (the
// estimate fell: congestion or loss), the layers above the new one are not
// entered again for a while, so a path whose capacity sits just around a
// layer does not flap into it and out again each time the estimate regrows
// (each switch costs a keyframe burst, which is what overflows it):
//   - the first such drop holds them back kFirstHoldMs; another drop within
//     kForgetMs of the previous one doubles the hold, up to kMaxHoldMs;
//   - a successful probe ends the hold early when the rate it proved covers
//     everything the connection's consumers want (their best layers). Not
//     a smaller probe: a short probe through a token-bucket shaper (tc tbf,
//     most access links) rides the bucket's burst and proves ~30 % more than
//     the link carries, which is how a held layer that does not fit would
//     be let back in every few seconds.
// Plain state, no allocation; owned by the media worker.
class RaiseGuard {
 public:
  static constexpr int64_t kFirstHoldMs = 15'000;
  static constexpr int64_t kMaxHoldMs = 60'000;
  static constexpr int64_t kForgetMs = 120'000;

  // The allocator moved the consumer from `from` to `to` (-1: none);
  // `from_active`: the publisher still sends `from`.
  void OnAllocated(int from, int to, bool from_active, int64_t now_ms);
  // A probe proved `proven_bps`; `desired_bps` is what the connection's
  // consumers want in full (AllocationResult::desired_bps, audio and fixed
  // video included).
  void OnProbeSucceeded(uint64_t proven_bps, uint64_t desired_bps);
  // The highest layer the consumer may be raised into now
  // (LayerDemand::raise_limit).
  int Limit(int64_t now_ms) const;
  // The lowest layer held back (-1: none), and the last hold's length.
  int held_layer(int64_t now_ms) const { return now_ms < until_ms_ ? held_from_ : -1; }
  int64_t hold_ms() const { return hold_ms_; }

 private:
  int held_from_ = -1;
  int64_t until_ms_ = 0;
  int64_t hold_ms_ = 0;       // length of the last hold (0: no drop yet)
  int64_t last_drop_ms_ = 0;  // set with hold_ms_
};

// Writes each demand's layer to `layers` (same index; -1: the consumer has
// no active layer yet). `budget_bps` is what is left for video.
AllocationResult AllocateLayers(std::span<const LayerDemand> demands, uint64_t budget_bps,
                                std::span<int> layers);

}  // namespace aegis::sfu
