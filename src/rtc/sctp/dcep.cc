#include "rtc/sctp/dcep.h"

#include <limits>

#include "rtc/byte_io.h"
#include "rtc/rtp/wire_error.h"

namespace aegis::rtc {
namespace {

constexpr uint8_t kUnorderedBit = 0x80;

bool IsKnownChannelType(uint8_t type) {
  switch (static_cast<DcepChannelType>(type)) {
    case DcepChannelType::kReliable:
    case DcepChannelType::kReliableUnordered:
    case DcepChannelType::kPartialReliableRexmit:
    case DcepChannelType::kPartialReliableRexmitUnordered:
    case DcepChannelType::kPartialReliableTimed:
    case DcepChannelType::kPartialReliableTimedUnordered:
      return true;
  }
  return false;
}

std::string_view AsStringView(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace

bool DcepIsOrdered(DcepChannelType type) {
  return (static_cast<uint8_t>(type) & kUnorderedBit) == 0;
}

bool DcepIsReliable(DcepChannelType type) {
  return (static_cast<uint8_t>(type) & ~kUnorderedBit) == 0;
}

Result<DcepMessageType> PeekDcepType(std::span<const uint8_t> message) {
  if (message.empty()) return WireError("dcep_type", "empty");
  switch (static_cast<DcepMessageType>(message[0])) {
    case DcepMessageType::kAck:
      return DcepMessageType::kAck;
    case DcepMessageType::kOpen:
      return DcepMessageType::kOpen;
  }
  return WireError("dcep_type", "unknown");
}

Result<DcepOpen> ParseDcepOpen(std::span<const uint8_t> message) {
  ByteReader reader(message);
  uint8_t type = 0;
  if (!reader.ReadU8(&type)) return WireError("dcep_type", "empty");
  if (type != static_cast<uint8_t>(DcepMessageType::kOpen)) {
    return WireError("dcep_type", "not OPEN");
  }
  uint8_t channel_type = 0;
  uint16_t priority = 0;
  uint32_t reliability = 0;
  uint16_t label_length = 0;
  uint16_t protocol_length = 0;
  if (!reader.ReadU8(&channel_type) || !reader.ReadU16(&priority) ||
      !reader.ReadU32(&reliability) || !reader.ReadU16(&label_length) ||
      !reader.ReadU16(&protocol_length)) {
    return WireError("dcep_open", "truncated");
  }
  if (!IsKnownChannelType(channel_type)) return WireError("dcep_chan_type", "unknown");
  // Both lengths are 16-bit, so the sum cannot overflow size_t (FZ-08).
  const size_t strings = size_t{label_length} + size_t{protocol_length};
  if (strings > reader.remaining()) return WireError("dcep_lengths", "beyond message");
  if (strings < reader.remaining()) return WireError("dcep_lengths", "trailing bytes");
  std::span<const uint8_t> label;
  std::span<const uint8_t> protocol;
  if (!reader.ReadBytes(label_length, &label) || !reader.ReadBytes(protocol_length, &protocol)) {
    return WireError("dcep_lengths", "beyond message");
  }
  DcepOpen open;
  open.channel_type = static_cast<DcepChannelType>(channel_type);
  open.priority = priority;
  open.reliability_parameter = reliability;
  open.label = AsStringView(label);
  open.protocol = AsStringView(protocol);
  return open;
}

Status ParseDcepAck(std::span<const uint8_t> message) {
  if (message.empty()) return WireError("dcep_type", "empty");
  if (message[0] != static_cast<uint8_t>(DcepMessageType::kAck)) {
    return WireError("dcep_type", "not ACK");
  }
  if (message.size() != 1) return WireError("dcep_ack", "trailing bytes");
  return Status::Ok();
}

Result<std::vector<uint8_t>> BuildDcepOpen(const DcepOpen& open) {
  constexpr size_t kMaxLength = std::numeric_limits<uint16_t>::max();
  if (open.label.size() > kMaxLength) return WireError("dcep_label_len", "above 65535");
  if (open.protocol.size() > kMaxLength) return WireError("dcep_proto_len", "above 65535");
  std::vector<uint8_t> out(kDcepOpenHeaderSize + open.label.size() + open.protocol.size());
  ByteWriter writer(out);
  const auto as_bytes = [](std::string_view s) {
    return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  // The buffer is sized exactly, so no write can fail.
  const bool ok = writer.WriteU8(static_cast<uint8_t>(DcepMessageType::kOpen)) &&
                  writer.WriteU8(static_cast<uint8_t>(open.channel_type)) &&
                  writer.WriteU16(open.priority) && writer.WriteU32(open.reliability_parameter) &&
                  writer.WriteU16(static_cast<uint16_t>(open.label.size())) &&
                  writer.WriteU16(static_cast<uint16_t>(open.protocol.size())) &&
                  writer.WriteBytes(as_bytes(open.label)) &&
                  writer.WriteBytes(as_bytes(open.protocol));
  if (!ok) return WireError("dcep_open", "build failed");
  return out;
}

std::vector<uint8_t> BuildDcepAck() { return {static_cast<uint8_t>(DcepMessageType::kAck)}; }

}  // namespace aegis::rtc
