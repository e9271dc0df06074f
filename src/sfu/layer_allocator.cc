#include "sfu/layer_allocator.h"

#include <algorithm>

namespace aegis::sfu {
namespace {

constexpr size_t kMaxDemands = 64;  // beyond: the rest keep their lowest layer

bool Active(const LayerDemand& d, int layer) {
  return layer >= 0 && static_cast<size_t>(layer) < d.layer_count &&
         d.layer_bps[static_cast<size_t>(layer)] > 0;
}

uint64_t Bps(const LayerDemand& d, int layer) {
  return layer < 0 ? 0 : d.layer_bps[static_cast<size_t>(layer)];
}

// The lowest active layer (a layer above max_layer only when none below is).
int LowestLayer(const LayerDemand& d) {
  const int n = static_cast<int>(d.layer_count);
  for (int i = 0; i < n; ++i) {
    if (Active(d, i)) return i;
  }
  return -1;
}

int BestLayer(const LayerDemand& d) {
  for (int i = std::min(d.max_layer, static_cast<int>(d.layer_count) - 1); i >= 0; --i) {
    if (Active(d, i)) return i;
  }
  return LowestLayer(d);
}

}  // namespace

AllocationResult AllocateLayers(std::span<const LayerDemand> demands, uint64_t budget_bps,
                                std::span<int> layers) {
  AllocationResult result;
  const size_t n = std::min(demands.size(), layers.size());
  // Priority order, stable (equal priorities keep the caller's order).
  std::array<uint16_t, kMaxDemands> order{};
  const size_t ranked = std::min(n, kMaxDemands);
  for (size_t i = 0; i < ranked; ++i) order[i] = static_cast<uint16_t>(i);
  std::stable_sort(
      order.begin(), order.begin() + static_cast<std::ptrdiff_t>(ranked),
      [&](uint16_t a, uint16_t b) { return demands[a].priority > demands[b].priority; });

  // Everyone's lowest layer first.
  uint64_t used = 0;
  for (size_t i = 0; i < n; ++i) {
    layers[i] = LowestLayer(demands[i]);
    used += Bps(demands[i], layers[i]);
    result.desired_bps += Bps(demands[i], BestLayer(demands[i]));
  }
  // Then raise, highest priority first, as far as what is left allows.
  for (size_t r = 0; r < ranked; ++r) {
    const size_t i = order[r];
    const LayerDemand& d = demands[i];
    if (layers[i] < 0) continue;
    const uint64_t left = budget_bps > used ? budget_bps - used : 0;
    const uint64_t base = Bps(d, layers[i]);
    for (int l = BestLayer(d); l > layers[i]; --l) {
      if (!Active(d, l) || (l > d.raise_limit && l != d.current_layer)) continue;
      const uint64_t extra = Bps(d, l) - std::min(Bps(d, l), base);
      const auto slack = static_cast<uint64_t>(static_cast<double>(Bps(d, l)) * kKeepLayerSlack);
      const bool fits = extra <= left || (l == d.current_layer && extra <= left + slack);
      if (!fits) continue;
      used += extra;
      layers[i] = l;
      break;
    }
  }
  result.allocated_bps = used;
  return result;
}

void RaiseGuard::OnAllocated(int from, int to, bool from_active, int64_t now_ms) {
  if (from < 0 || to < 0 || to >= from || !from_active) return;
  const bool again = hold_ms_ > 0 && now_ms - last_drop_ms_ < kForgetMs;
  hold_ms_ = again ? std::min(hold_ms_ * 2, kMaxHoldMs) : kFirstHoldMs;
  last_drop_ms_ = now_ms;
  held_from_ = to + 1;
  until_ms_ = now_ms + hold_ms_;
}

void RaiseGuard::OnProbeSucceeded(uint64_t proven_bps, uint64_t desired_bps) {
  if (proven_bps >= desired_bps) held_from_ = -1;
}

int RaiseGuard::Limit(int64_t now_ms) const {
  const int held = held_layer(now_ms);
  return held < 0 ? static_cast<int>(kAllocatorMaxLayers) - 1 : held - 1;
}

}  // namespace aegis::sfu
