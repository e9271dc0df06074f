// libFuzzer target for the RTP path (FZ-01/FZ-02): RFC 7983 classifier, then
// RtpPacket::Parse with the version forced to 2 so the mutator gets past the
// first check, every getter, every mutator on a copy (re-parsed and checked),
// and RTX decode. Inputs are capped at 1500 bytes like the server (FZ-06).
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "rtc/demux.h"
#include "rtc/rtp/rtp_packet.h"

namespace {

using aegis::Result;
using aegis::rtc::RtpPacket;

void Check(bool condition) {
  if (!condition) std::abort();  // a broken parser promise, not bad input
}

uint64_t TouchGetters(const RtpPacket& p) {
  uint64_t sink = p.marker() + p.payload_type() + p.sequence_number() + p.timestamp() + p.ssrc();
  sink += p.has_padding_bit() + p.padding_size() + p.header_size() + p.extension_profile();
  for (size_t i = 0; i <= p.csrc_count(); ++i) sink += p.csrc(i);
  for (uint8_t b : p.payload()) sink += b;
  for (uint8_t b : p.extension_block()) sink += b;
  p.ForEachExtension([&](uint8_t id, std::span<const uint8_t> data) {
    sink += id + data.size();
    const auto again = p.GetExtension(id);
    Check(again.has_value());
  });
  // Every id present, plus the boundary ids (0, 14, 15, 255) that are never valid
  // or only valid in one format.
  std::array<bool, 256> probe{};
  probe[0] = probe[1] = probe[14] = probe[15] = probe[255] = true;
  p.ForEachExtension([&](uint8_t id, std::span<const uint8_t>) { probe[id] = true; });
  for (unsigned id = 0; id < 256; ++id) {
    if (!probe[id]) continue;
    const uint8_t i = static_cast<uint8_t>(id);
    if (auto e = p.GetExtension(i)) sink += e->size();
    if (auto mid = p.GetMid(i)) sink += mid->size();
    if (auto rid = p.GetRid(i)) sink += rid->size();
    sink += p.GetAbsSendTime(i).value_or(0) + p.GetTransportSequenceNumber(i).value_or(0);
  }
  Result<uint16_t> osn = p.RtxOriginalSequenceNumber();
  Check(osn.ok() == (p.payload().size() >= 2));
  return sink;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > aegis::rtc::kMaxDatagramSize) return 0;
  (void)aegis::rtc::Classify(std::span<const uint8_t>(data, size));
  if (size == 0) return 0;

  // Exact-size heap copies so ASan flags any read past the datagram.
  std::vector<uint8_t> buf(data, data + size);
  buf[0] = static_cast<uint8_t>((buf[0] & 0x3F) | 0x80);  // force version 2
  const std::span<uint8_t> packet(buf.data(), size);
  (void)aegis::rtc::Classify(packet);

  Result<RtpPacket> parsed = RtpPacket::Parse(packet);
  if (!parsed.ok()) return 0;
  const RtpPacket& p = *parsed;
  Check(p.header_size() + p.payload().size() + p.padding_size() == size);
  volatile uint64_t sink = TouchGetters(p);
  (void)sink;

  // Header mutators on a copy: values land, payload and extensions are intact.
  std::vector<uint8_t> copy = buf;
  const std::span<uint8_t> copy_span(copy.data(), size);
  Result<RtpPacket> m = RtpPacket::Parse(copy_span);
  Check(m.ok());
  const uint8_t seed = data[size - 1];
  m->SetSsrc(0xA1B2C3D4u ^ seed);
  m->SetSequenceNumber(static_cast<uint16_t>(seed * 257));
  m->SetTimestamp(0x01020304u + seed);
  m->SetMarker((seed & 1) != 0);
  Check(m->SetPayloadType(seed & 0x7F).ok());
  Check(!m->SetPayloadType(128).ok());
  Result<RtpPacket> again = RtpPacket::Parse(copy_span);
  Check(again.ok());
  Check(again->ssrc() == (0xA1B2C3D4u ^ seed));
  Check(again->sequence_number() == static_cast<uint16_t>(seed * 257));
  Check(again->timestamp() == 0x01020304u + seed);
  Check(again->marker() == ((seed & 1) != 0));
  Check(again->payload_type() == (seed & 0x7F));
  Check(again->payload().size() == p.payload().size());
  Check(std::memcmp(again->payload().data(), p.payload().data(), p.payload().size()) == 0);
  Check(again->extension_block().size() == p.extension_block().size());

  // Extension id rewriting never produces an unparseable packet.
  m->ForEachExtension([&](uint8_t id, std::span<const uint8_t>) {
    if (m->SetTransportSequenceNumber(id, seed).ok()) {
      Check(m->GetTransportSequenceNumber(id) == seed);
    }
  });
  (void)m->RewriteExtensionId(static_cast<uint8_t>(seed & 0x0F), static_cast<uint8_t>(seed >> 4));
  Check(RtpPacket::Parse(copy_span).ok());
  std::array<uint8_t, 256> map{};
  for (size_t i = 0; i < map.size(); ++i) map[i] = data[i % size] & (seed & 0x80 ? 0xFF : 0x0F);
  if (m->RemapExtensionIds(map).ok()) {
    Check(RtpPacket::Parse(copy_span).ok());
  }
  std::array<uint8_t, 256> identity{};
  for (size_t i = 0; i < identity.size(); ++i) identity[i] = static_cast<uint8_t>(i);
  Result<RtpPacket> remapped = RtpPacket::Parse(copy_span);
  Check(remapped.ok());
  if (remapped->extension_format() == RtpPacket::ExtensionFormat::kOneByte ||
      remapped->extension_format() == RtpPacket::ExtensionFormat::kTwoByte) {
    const std::vector<uint8_t> before = copy;
    Check(remapped->RemapExtensionIds(identity).ok());
    Check(before == copy);
  }

  // RTX decode on another copy.
  std::vector<uint8_t> rtx = buf;
  Result<RtpPacket> r = RtpPacket::Parse(std::span<uint8_t>(rtx.data(), size));
  Check(r.ok());
  Result<uint16_t> osn = r->RtxOriginalSequenceNumber();
  if (r->RtxDecode(96, 0x5555).ok()) {
    Check(osn.ok());
    Result<RtpPacket> original = RtpPacket::Parse(r->data());
    Check(original.ok());
    Check(original->sequence_number() == *osn);
    Check(original->ssrc() == 0x5555 && original->payload_type() == 96);
    Check(original->payload().size() + 2 == p.payload().size());
  } else {
    Check(!osn.ok());
  }
  return 0;
}
