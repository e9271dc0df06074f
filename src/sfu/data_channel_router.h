// DataChannelRouter: room messages on one media worker (docs/MEDIA.md "Room
// messages"). Each publish transport the signalling layer put in a data route
// (room key + user id) gets a server-role SctpAssociation; DTLS application
// data goes in through OnApplicationData(), SCTP packets come out through the
// Sender. Every complete message on an `aegis-msg*` channel is an untrusted
// kSend envelope (sfu/room_message.h): it is size- and rate-checked per user,
// acknowledged (kAck / kError on the sender's reliable channel) and re-sent as
// kDeliver to the other routes of the same room (or the listed recipients).
// Messages are forwarded, never stored, never logged. Owned by the worker's
// event loop; not thread-safe. The Sender is not owned and outlives this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "rtc/sctp/sctp_association.h"

namespace aegis::sfu {

struct DataChannelLimits {
  size_t max_message_bytes = rtc::kRoomMessageMaxSize;  // payload, room.max_message_bytes
  double max_messages_per_s = 30;                       // per user, room.max_messages_per_s
  // Token bucket burst; 0: as many as max_messages_per_s.
  double burst = 0;
};

struct DataChannelStats {
  uint64_t received = 0;       // envelopes accepted from senders
  uint64_t delivered = 0;      // kDeliver copies handed to recipients' associations
  uint64_t too_large = 0;      // rejected: payload above max_message_bytes
  uint64_t rate_limited = 0;   // rejected: sender over its rate
  uint64_t malformed = 0;      // not a valid kSend envelope
  uint64_t send_failures = 0;  // a copy the recipient's association refused (buffer full)
};

class DataChannelRouter {
 public:
  class Sender {
   public:
    virtual ~Sender() = default;
    // One SCTP packet to send as DTLS application data on `transport_id`.
    virtual void SendApplicationData(uint64_t transport_id, std::span<const uint8_t> packet) = 0;
  };

  DataChannelRouter(DataChannelLimits limits, Sender* sender);
  ~DataChannelRouter();
  DataChannelRouter(const DataChannelRouter&) = delete;
  DataChannelRouter& operator=(const DataChannelRouter&) = delete;

  // Puts `transport_id` in the room `room_key` as `user_id`, creating and
  // starting its (listening) association on first use; a second call moves it.
  // Error codes: those of SctpAssociation::Create/Start.
  Status SetRoute(uint64_t transport_id, const std::string& room_key, const std::string& user_id);
  // Aborts and forgets the transport's association. Unknown ids are ignored.
  void RemoveRoute(uint64_t transport_id);
  // DTLS application data received on `transport_id` (ignored without a route).
  void OnApplicationData(uint64_t transport_id, std::span<const uint8_t> data, int64_t now_ms);
  // Real monotonic milliseconds (SCTP timers), every few tens of ms.
  void OnTick(int64_t now_ms);

  bool HasRoute(uint64_t transport_id) const { return routes_.contains(transport_id); }
  size_t route_count() const { return routes_.size(); }
  const DataChannelStats& stats() const { return stats_; }

 private:
  struct Route;
  void HandleMessage(Route& from, uint16_t stream_id, std::span<const uint8_t> message);
  bool TakeToken(Route& r);
  void Reply(Route& r, const std::vector<uint8_t>& envelope);
  void Unlink(Route& r);

  // Passed by argument.
  DataChannelLimits limits_;
  Sender* sender_;
  // Allocated by this.
  std::unordered_map<uint64_t, std::unique_ptr<Route>> routes_;
  std::map<std::string, std::vector<Route*>> rooms_;  // room key → its routes
  int64_t now_ms_ = 0;
  DataChannelStats stats_;
};

}  // namespace aegis::sfu
