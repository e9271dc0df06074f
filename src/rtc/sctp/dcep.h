// DCEP, the WebRTC Data Channel Establishment Protocol (RFC 8832): parser and
// builder for DATA_CHANNEL_OPEN and DATA_CHANNEL_ACK, carried in SCTP user
// messages with PPID 50. Parse functions take untrusted peer bytes, check
// every length before use (FZ-08: label_length + protocol_length beyond the
// message is rejected) and return a WireError naming the field; the parsed
// label/protocol are string_views into the caller's buffer, which must outlive
// them. Pure functions, no state; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace aegis::rtc {

// RFC 8831 §8 Payload Protocol Identifiers used on a WebRTC association.
enum class SctpPpid : uint32_t {
  kDcep = 50,
  kString = 51,
  kBinary = 53,
  kStringEmpty = 56,  // a zero-length string, sent as one ignored byte (RFC 8831 §6.6)
  kBinaryEmpty = 57,  // a zero-length binary message, likewise
};

enum class DcepMessageType : uint8_t { kAck = 0x02, kOpen = 0x03 };

// RFC 8832 §5.1 Channel Type; bit 0x80 means unordered.
enum class DcepChannelType : uint8_t {
  kReliable = 0x00,
  kReliableUnordered = 0x80,
  kPartialReliableRexmit = 0x01,
  kPartialReliableRexmitUnordered = 0x81,
  kPartialReliableTimed = 0x02,
  kPartialReliableTimedUnordered = 0x82,
};

// RFC 8831 §6.4 priority values (any uint16 is accepted on the wire).
inline constexpr uint16_t kDcepPriorityBelowNormal = 128;
inline constexpr uint16_t kDcepPriorityNormal = 256;
inline constexpr uint16_t kDcepPriorityHigh = 512;
inline constexpr uint16_t kDcepPriorityExtraHigh = 1024;

inline constexpr size_t kDcepOpenHeaderSize = 12;  // type .. protocol length

bool DcepIsOrdered(DcepChannelType type);
bool DcepIsReliable(DcepChannelType type);  // false for both partial-reliability kinds

// One DATA_CHANNEL_OPEN. `reliability_parameter` is the retransmission count
// (rexmit) or lifetime in ms (timed); ignored for reliable channels.
struct DcepOpen {
  DcepChannelType channel_type = DcepChannelType::kReliable;
  uint16_t priority = kDcepPriorityNormal;
  uint32_t reliability_parameter = 0;
  std::string_view label;     // views the parsed buffer (or the caller's string when building)
  std::string_view protocol;  // likewise
};

// The message type by the first byte; error for empty input or an unknown
// type. Error codes: dcep_type.
Result<DcepMessageType> PeekDcepType(std::span<const uint8_t> message);

// Error codes: dcep_type (not OPEN), dcep_open (shorter than the fixed
// header), dcep_chan_type (unknown channel type), dcep_lengths (label +
// protocol run past the message, or trailing bytes after them).
Result<DcepOpen> ParseDcepOpen(std::span<const uint8_t> message);

// An ACK is exactly one byte 0x02. Error codes: dcep_type, dcep_ack.
Status ParseDcepAck(std::span<const uint8_t> message);

// Serialises an OPEN. Error code: dcep_label_len / dcep_proto_len when the
// label or protocol exceeds 65535 bytes.
Result<std::vector<uint8_t>> BuildDcepOpen(const DcepOpen& open);
std::vector<uint8_t> BuildDcepAck();

}  // namespace aegis::rtc
