#include "sfu/room_message.h"

#include <algorithm>

#include "rtc/byte_io.h"

namespace aegis::sfu {
namespace {

void PutU32(std::vector<uint8_t>& out, uint32_t v) {
  out.push_back(static_cast<uint8_t>(v >> 24));
  out.push_back(static_cast<uint8_t>(v >> 16));
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

void PutShortString(std::vector<uint8_t>& out, std::string_view s) {
  const size_t n = std::min<size_t>(s.size(), 255);
  out.push_back(static_cast<uint8_t>(n));
  out.insert(out.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n));
}

}  // namespace

Result<RoomMessageSend> ParseClientEnvelope(std::span<const uint8_t> message) {
  rtc::ByteReader r(message);
  uint8_t type = 0;
  if (!r.ReadU8(&type) || type != static_cast<uint8_t>(RoomMessageType::kSend)) {
    return Status::Error("msg_type", "Room message: not a send envelope.");
  }
  RoomMessageSend m;
  uint8_t count = 0;
  if (!r.ReadU8(&m.flags) || !r.ReadU32(&m.seq) || !r.ReadU8(&count)) {
    return Status::Error("msg_header", "Room message: shorter than its header.");
  }
  if (count > kRoomMessageMaxRecipients) {
    return Status::Error("msg_recipients", "Room message: too many recipients.");
  }
  m.to.reserve(count);
  for (uint8_t i = 0; i < count; ++i) {
    uint8_t len = 0;
    std::span<const uint8_t> id;
    if (!r.ReadU8(&len) || len == 0 || len > kRoomMessageMaxUserIdBytes || !r.ReadBytes(len, &id)) {
      return Status::Error("msg_user_id", "Room message: bad recipient user id.");
    }
    m.to.emplace_back(reinterpret_cast<const char*>(id.data()), id.size());
  }
  m.payload = r.Rest();
  return m;
}

std::vector<uint8_t> BuildDeliverEnvelope(uint8_t flags, std::string_view from,
                                          std::span<const uint8_t> payload) {
  std::vector<uint8_t> out;
  out.reserve(3 + from.size() + payload.size());
  out.push_back(static_cast<uint8_t>(RoomMessageType::kDeliver));
  out.push_back(flags);
  PutShortString(out, from);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

std::vector<uint8_t> BuildAckEnvelope(uint32_t seq) {
  std::vector<uint8_t> out;
  out.push_back(static_cast<uint8_t>(RoomMessageType::kAck));
  PutU32(out, seq);
  return out;
}

std::vector<uint8_t> BuildErrorEnvelope(uint32_t seq, std::string_view code) {
  std::vector<uint8_t> out;
  out.push_back(static_cast<uint8_t>(RoomMessageType::kError));
  PutU32(out, seq);
  PutShortString(out, code);
  return out;
}

std::vector<uint8_t> BuildSendEnvelope(uint8_t flags, uint32_t seq,
                                       std::span<const std::string_view> to,
                                       std::span<const uint8_t> payload) {
  std::vector<uint8_t> out;
  out.push_back(static_cast<uint8_t>(RoomMessageType::kSend));
  out.push_back(flags);
  PutU32(out, seq);
  out.push_back(static_cast<uint8_t>(std::min<size_t>(to.size(), 255)));
  for (std::string_view id : to) PutShortString(out, id);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

}  // namespace aegis::sfu
