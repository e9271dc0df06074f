// Room message envelope (docs/MEDIA.md "Room messages"): the compact binary
// framing of every SCTP user message on the SDK's `aegis-msg` / `aegis-msg-u`
// data channels. Client → server: kSend (sequence number, optional recipient
// user ids, payload). Server → client: kDeliver (sender user id, payload),
// kAck and kError (the sequence number of a kSend, and an error code).
// ParseClientEnvelope() takes untrusted peer bytes, checks every length before
// use and returns an error naming the field; the parsed views point into the
// caller's buffer, which must outlive them. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace aegis::sfu {

// Data channel labels the SDK opens on its publish connection.
inline constexpr std::string_view kRoomMessageLabel = "aegis-msg";  // reliable, ordered
inline constexpr std::string_view kRoomMessageUnreliableLabel =
    "aegis-msg-u";  // unordered, maxRetransmits 0

enum class RoomMessageType : uint8_t { kSend = 0x01, kDeliver = 0x02, kAck = 0x03, kError = 0x04 };

// Flag bit: the payload is UTF-8 text (delivered to the browser as a string).
inline constexpr uint8_t kRoomMessageText = 0x01;
// Recipients per message (0: the whole room except the sender).
inline constexpr size_t kRoomMessageMaxRecipients = 16;
inline constexpr size_t kRoomMessageMaxUserIdBytes = 64;
// type, flags, seq(4), recipient count.
inline constexpr size_t kRoomMessageSendHeaderSize = 7;

// The SCTP message size accepted and advertised (a=max-message-size) for a
// payload cap: twice the cap plus room for the envelope, so a message somewhat
// over the cap still reaches the router and is answered with
// message_too_large instead of being dropped silently by SCTP.
constexpr size_t RoomMessageSctpLimit(size_t max_payload) { return 2 * max_payload + 1024; }

// Error codes carried in kError (and documented in docs/SIGNALING.md).
inline constexpr std::string_view kErrMessageTooLarge = "message_too_large";
inline constexpr std::string_view kErrMessageRateLimited = "message_rate_limited";
inline constexpr std::string_view kErrMessageMalformed = "message_malformed";

// A parsed kSend. Views into the parsed buffer.
struct RoomMessageSend {
  uint8_t flags = 0;
  uint32_t seq = 0;
  std::vector<std::string_view> to;  // empty: everyone else in the room
  std::span<const uint8_t> payload;
};

// Error codes: msg_type (empty, or not kSend), msg_header (shorter than the
// fixed header), msg_recipients (more than kRoomMessageMaxRecipients),
// msg_user_id (a recipient id empty, longer than 64 bytes, or running past
// the message). The payload size is not checked here (the router does, with
// a reply to the sender).
Result<RoomMessageSend> ParseClientEnvelope(std::span<const uint8_t> message);

// Server → client envelopes. `from` must be 1..64 bytes (user ids are).
std::vector<uint8_t> BuildDeliverEnvelope(uint8_t flags, std::string_view from,
                                          std::span<const uint8_t> payload);
std::vector<uint8_t> BuildAckEnvelope(uint32_t seq);
// `code` is truncated to 255 bytes.
std::vector<uint8_t> BuildErrorEnvelope(uint32_t seq, std::string_view code);
// Client → server (tests, load generator).
std::vector<uint8_t> BuildSendEnvelope(uint8_t flags, uint32_t seq,
                                       std::span<const std::string_view> to,
                                       std::span<const uint8_t> payload);

}  // namespace aegis::sfu
