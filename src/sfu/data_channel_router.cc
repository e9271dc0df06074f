#include "sfu/data_channel_router.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "core/log.h"
#include "sfu/room_message.h"

namespace aegis::sfu {
namespace {

constexpr const char* kTag = "datachannel";

}  // namespace

struct DataChannelRouter::Route final : public rtc::SctpAssociation::Listener {
  Route(DataChannelRouter* router, uint64_t id) : router(router), transport_id(id) {}

  void OnSctpOutgoing(std::span<const uint8_t> packet) override {
    router->sender_->SendApplicationData(transport_id, packet);
  }
  void OnSctpChannelOpen(uint16_t stream_id, std::string_view label, std::string_view /*protocol*/,
                         bool /*reliable*/, bool /*ordered*/) override {
    if (label == kRoomMessageLabel) reliable_stream = stream_id;
    if (label == kRoomMessageUnreliableLabel) unreliable_stream = stream_id;
  }
  void OnSctpChannelClosed(uint16_t stream_id) override {
    if (reliable_stream == stream_id) reliable_stream.reset();
    if (unreliable_stream == stream_id) unreliable_stream.reset();
  }
  void OnSctpMessage(uint16_t stream_id, rtc::SctpPpid /*ppid*/,
                     std::span<const uint8_t> message) override {
    router->HandleMessage(*this, stream_id, message);
  }
  void OnSctpClosed(const std::string& reason) override {
    reliable_stream.reset();
    unreliable_stream.reset();
    LogDebug(kTag, "association closed",
             {{"transport", std::to_string(transport_id)}, {"reason", reason}});
  }

  bool Connected() const {
    return association && association->state() == rtc::SctpState::kConnected;
  }

  DataChannelRouter* router;
  uint64_t transport_id;
  std::string room_key;
  std::string user_id;
  std::unique_ptr<rtc::SctpAssociation> association;
  std::optional<uint16_t> reliable_stream;    // `aegis-msg`
  std::optional<uint16_t> unreliable_stream;  // `aegis-msg-u`
  double tokens = 0;
  int64_t refill_ms = -1;
};

DataChannelRouter::DataChannelRouter(DataChannelLimits limits, Sender* sender)
    : limits_(limits), sender_(sender) {
  if (limits_.burst <= 0) limits_.burst = limits_.max_messages_per_s;
}

DataChannelRouter::~DataChannelRouter() {
  // Associations abort without callbacks (SctpAssociation's destructor).
  routes_.clear();
}

Status DataChannelRouter::SetRoute(uint64_t transport_id, const std::string& room_key,
                                   const std::string& user_id) {
  auto it = routes_.find(transport_id);
  if (it == routes_.end()) {
    auto route = std::make_unique<Route>(this, transport_id);
    rtc::SctpConfig config;
    config.role = rtc::SctpRole::kServer;
    // SCTP accepts a little more than the room cap, so the cap is enforced
    // here with an error to the sender rather than by a silent SCTP drop.
    config.max_message_size = RoomMessageSctpLimit(limits_.max_message_bytes);
    auto association = rtc::SctpAssociation::Create(config, route.get());
    if (!association.ok()) return association.status();
    route->association = std::move(association).value();
    AEGIS_RETURN_IF_ERROR(route->association->Start());
    route->tokens = limits_.burst;
    it = routes_.emplace(transport_id, std::move(route)).first;
  } else {
    Unlink(*it->second);
  }
  Route& r = *it->second;
  r.room_key = room_key;
  r.user_id = user_id;
  rooms_[room_key].push_back(&r);
  return Status::Ok();
}

void DataChannelRouter::RemoveRoute(uint64_t transport_id) {
  auto it = routes_.find(transport_id);
  if (it == routes_.end()) return;
  Unlink(*it->second);
  routes_.erase(it);
}

void DataChannelRouter::Unlink(Route& r) {
  auto room = rooms_.find(r.room_key);
  if (room == rooms_.end()) return;
  std::erase(room->second, &r);
  if (room->second.empty()) rooms_.erase(room);
}

void DataChannelRouter::OnApplicationData(uint64_t transport_id, std::span<const uint8_t> data,
                                          int64_t now_ms) {
  now_ms_ = now_ms;
  auto it = routes_.find(transport_id);
  if (it == routes_.end()) return;
  it->second->association->HandleIncoming(data);
}

void DataChannelRouter::OnTick(int64_t now_ms) {
  now_ms_ = now_ms;
  for (auto& entry : routes_) entry.second->association->OnTick(now_ms);
}

bool DataChannelRouter::TakeToken(Route& r) {
  if (r.refill_ms >= 0 && now_ms_ > r.refill_ms) {
    r.tokens = std::min(limits_.burst, r.tokens + static_cast<double>(now_ms_ - r.refill_ms) *
                                                      limits_.max_messages_per_s / 1000.0);
  }
  r.refill_ms = now_ms_;
  if (r.tokens < 1) return false;
  r.tokens -= 1;
  return true;
}

void DataChannelRouter::Reply(Route& r, const std::vector<uint8_t>& envelope) {
  if (!r.reliable_stream || !r.Connected()) return;
  if (!r.association->Send(*r.reliable_stream, rtc::SctpPpid::kBinary, envelope).ok()) {
    ++stats_.send_failures;
  }
}

void DataChannelRouter::HandleMessage(Route& from, uint16_t stream_id,
                                      std::span<const uint8_t> message) {
  const bool reliable = from.reliable_stream == stream_id;
  if (!reliable && from.unreliable_stream != stream_id) return;  // not a room-message channel
  auto send = ParseClientEnvelope(message);
  if (!send.ok()) {
    ++stats_.malformed;
    Reply(from, BuildErrorEnvelope(0, kErrMessageMalformed));
    return;
  }
  if (send->payload.size() > limits_.max_message_bytes) {
    ++stats_.too_large;
    Reply(from, BuildErrorEnvelope(send->seq, kErrMessageTooLarge));
    return;
  }
  if (!TakeToken(from)) {
    ++stats_.rate_limited;
    Reply(from, BuildErrorEnvelope(send->seq, kErrMessageRateLimited));
    return;
  }
  ++stats_.received;
  const std::vector<uint8_t> deliver = BuildDeliverEnvelope(
      static_cast<uint8_t>(send->flags & kRoomMessageText), from.user_id, send->payload);
  auto room = rooms_.find(from.room_key);
  if (room != rooms_.end()) {
    for (Route* to : room->second) {
      if (to == &from || !to->Connected()) continue;
      if (!send->to.empty() &&
          std::ranges::find(send->to, std::string_view(to->user_id)) == send->to.end()) {
        continue;
      }
      // Same kind of channel as the sender used; the other one if missing.
      std::optional<uint16_t> stream = reliable ? to->reliable_stream : to->unreliable_stream;
      if (!stream) stream = reliable ? to->unreliable_stream : to->reliable_stream;
      if (!stream) continue;
      if (to->association->Send(*stream, rtc::SctpPpid::kBinary, deliver).ok()) {
        ++stats_.delivered;
      } else {
        ++stats_.send_failures;
      }
    }
  }
  Reply(from, BuildAckEnvelope(send->seq));
}

}  // namespace aegis::sfu
