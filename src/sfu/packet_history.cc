#include "sfu/packet_history.h"

#include <cstring>

namespace aegis::sfu {
namespace {

static_assert((PacketHistory::kSlots & (PacketHistory::kSlots - 1)) == 0, "power of two");

constexpr size_t IndexOf(uint16_t seq) { return seq & (PacketHistory::kSlots - 1); }

// RFC 1982-style comparison on 16-bit sequence numbers.
constexpr int16_t Diff(uint16_t a, uint16_t b) { return static_cast<int16_t>(a - b); }

}  // namespace

PacketHistory::StoreResult PacketHistory::Store(std::span<const uint8_t> packet, uint16_t seq,
                                                int64_t now_ms) {
  if (packet.size() > kSlotBytes) return StoreResult::kTooLarge;
  if (!storage_) {
    storage_ = std::make_unique<uint8_t[]>(kSlots * kSlotBytes);
    slots_ = std::make_unique<std::array<Slot, kSlots>>();
  }
  if (have_newest_ && Diff(seq, newest_) <= -static_cast<int32_t>(kSlots)) {
    return StoreResult::kTooOld;
  }
  Slot& slot = (*slots_)[IndexOf(seq)];
  if (slot.used && slot.seq == seq && now_ms - slot.stored_ms <= max_age_ms_) {
    return StoreResult::kDuplicate;
  }
  if (!slot.used) ++stored_;
  slot.used = true;
  slot.seq = seq;
  slot.stored_ms = now_ms;
  slot.size = static_cast<uint16_t>(packet.size());
  if (!packet.empty())
    std::memcpy(storage_.get() + IndexOf(seq) * kSlotBytes, packet.data(), packet.size());
  if (!have_newest_ || Diff(seq, newest_) > 0) {
    have_newest_ = true;
    newest_ = seq;
  }
  return StoreResult::kStored;
}

std::span<uint8_t> PacketHistory::Get(uint16_t seq, int64_t now_ms) {
  if (!storage_) return {};
  const Slot& slot = (*slots_)[IndexOf(seq)];
  if (!slot.used || slot.seq != seq || now_ms - slot.stored_ms > max_age_ms_) return {};
  return {storage_.get() + IndexOf(seq) * kSlotBytes, slot.size};
}

void PacketHistory::Clear() {
  if (slots_) slots_->fill(Slot{});
  have_newest_ = false;
  stored_ = 0;
}

}  // namespace aegis::sfu
