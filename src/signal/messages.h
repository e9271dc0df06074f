// Signalling protocol messages (docs/SIGNALING.md): typed client requests, a
// strict decoder for them and compact-JSON encoders for server replies/events.
// Client text is untrusted: size and nesting are capped before parsing,
// duplicate and unknown keys are rejected, every string is validated (FZ-10:
// no NUL anywhere, no CR/LF in single-line values). Errors carry one of the
// stable codes below; messages name the field but never echo its value.
// Pure functions on value types; thread-safe. Nothing here throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace aegis::signal {

// Stable error codes of the codec.
inline constexpr std::string_view kErrBadMessage = "bad_message";      // not JSON / wrong shape
inline constexpr std::string_view kErrUnknownType = "unknown_type";    // `type` not a request
inline constexpr std::string_view kErrMissingField = "missing_field";  // required field absent
inline constexpr std::string_view kErrInvalidField = "invalid_field";  // wrong type/value/charset
inline constexpr std::string_view kErrTooLarge = "too_large";          // a size limit exceeded

// Limits (RL-03, FZ-10).
inline constexpr size_t kMaxMessageBytes = size_t{64} * 1024;
inline constexpr size_t kMaxJsonDepth = 8;
inline constexpr size_t kMaxSdpBytes = size_t{32} * 1024;
inline constexpr size_t kMaxCandidateBytes = 1024;
inline constexpr size_t kMaxTicketBytes = 8192;  // userSig, privateMapKey
inline constexpr size_t kMaxTracksPerMessage = 16;
inline constexpr size_t kMaxStringIdBytes = 64;  // string request ids
inline constexpr size_t kMaxTrackIdBytes = 64;
inline constexpr size_t kMaxStrRoomIdBytes = 64;
inline constexpr size_t kMaxClientInfoBytes = 64;  // sdkVersion, os
inline constexpr size_t kMinSessionTokenBytes = 16;
inline constexpr size_t kMaxSessionTokenBytes = 128;
inline constexpr size_t kMaxSdpMidBytes = 32;  // also track mids
inline constexpr int64_t kMaxNumericRequestId = int64_t{1} << 31;
inline constexpr uint32_t kMaxRoomId = 4294967294U;

// Connection timing (seconds); enforced by the server, documented here.
inline constexpr int kUnauthenticatedTimeoutS = 10;
inline constexpr int kHeartbeatIntervalS = 5;
inline constexpr int kHeartbeatTimeoutS = 20;

// A request id: a positive integer <= 2^31 or a 1..64 byte printable string.
using RequestId = std::variant<int64_t, std::string>;

enum class Role { kAnchor, kAudience };
enum class TrackKind { kAudio, kVideo };
enum class TrackSource { kCamera, kMicrophone, kScreen };
enum class PcKind { kPublish, kSubscribe };

struct TrackInfo {
  std::string track_id;  // [A-Za-z0-9_-]{1,64}
  TrackKind kind = TrackKind::kAudio;
  TrackSource source = TrackSource::kMicrophone;
  bool muted = false;
  // Publish only: the transceiver mid of this track in the offer (1-32 of
  // [A-Za-z0-9_-]); empty when not given. Never sent to other users.
  std::string mid;
  bool operator==(const TrackInfo&) const = default;
};

struct JoinRequest {
  RequestId id;
  uint32_t sdk_app_id = 0;
  std::string user_id;
  std::string user_sig;
  uint32_t room_id = 0;     // exactly one of room_id (1..4294967294)
  std::string str_room_id;  // and str_room_id (1..64 chars, R2) is set
  Role role = Role::kAnchor;
  std::optional<std::string> private_map_key;
  std::optional<std::string> sdk_version;
  std::optional<std::string> os;
  // The client encrypts its media and messages end to end (SDK e2ee); the
  // server never holds the key, this flag is all it learns (docs/SECURITY.md).
  bool e2ee = false;
  bool operator==(const JoinRequest&) const = default;
};

struct LeaveRequest {
  RequestId id;
  bool operator==(const LeaveRequest&) const = default;
};

// Publish peer connection: the client offers, the ok reply carries the answer.
struct PublishRequest {
  RequestId id;
  std::string sdp;  // offer
  std::vector<TrackInfo> tracks;
  bool operator==(const PublishRequest&) const = default;
};

struct UnpublishRequest {
  RequestId id;
  std::vector<std::string> track_ids;
  bool operator==(const UnpublishRequest&) const = default;
};

// Subscribe peer connection: answers the server's `subscribe-offer` event.
struct SubscribeRequest {
  RequestId id;
  int64_t offer_id = 0;  // from the subscribe-offer event, 1..2^31
  std::string sdp;       // answer
  bool operator==(const SubscribeRequest&) const = default;
};

struct MuteRequest {
  RequestId id;
  std::string track_id;
  bool muted = false;
  bool operator==(const MuteRequest&) const = default;
};

// Trickled client candidate; an empty candidate means end-of-candidates.
struct IceCandidateRequest {
  RequestId id;
  PcKind pc = PcKind::kPublish;
  std::string candidate;
  std::optional<std::string> sdp_mid;
  std::optional<int64_t> sdp_mline_index;  // 0..255
  bool operator==(const IceCandidateRequest&) const = default;
};

struct HeartbeatRequest {
  RequestId id;
  bool operator==(const HeartbeatRequest&) const = default;
};

struct ResumeRequest {
  RequestId id;
  std::string session_token;  // [A-Za-z0-9_-]{16,128}
  bool operator==(const ResumeRequest&) const = default;
};

// Live role change (R6): `switch-role` to anchor (may publish) or audience.
struct SwitchRoleRequest {
  RequestId id;
  Role role = Role::kAnchor;
  bool operator==(const SwitchRoleRequest&) const = default;
};

// Subscriber-side video control (simulcast, docs/MEDIA.md): which layer of a
// user's video to receive, and pausing it (a tile not visible). `source`
// picks the track: camera (default) or screen.
enum class VideoQuality : uint8_t { kAuto, kHigh, kLow };
std::string_view ToString(VideoQuality quality);

struct SetVideoQualityRequest {  // `set-video-quality`
  RequestId id;
  std::string user_id;
  VideoQuality quality = VideoQuality::kAuto;
  TrackSource source = TrackSource::kCamera;
  bool operator==(const SetVideoQualityRequest&) const = default;
};

struct PauseVideoRequest {  // `pause-video`
  RequestId id;
  std::string user_id;
  bool paused = false;
  TrackSource source = TrackSource::kCamera;
  bool operator==(const PauseVideoRequest&) const = default;
};

using ClientMessage =
    std::variant<JoinRequest, LeaveRequest, PublishRequest, UnpublishRequest, SubscribeRequest,
                 MuteRequest, IceCandidateRequest, HeartbeatRequest, ResumeRequest,
                 SwitchRoleRequest, SetVideoQualityRequest, PauseVideoRequest>;

// Decodes one client text frame. On failure, when `error_id` is non-null and
// the message carried a valid `id`, it is stored there so the error reply can
// echo it (otherwise it is reset).
Result<ClientMessage> DecodeClientMessage(std::string_view text,
                                          std::optional<RequestId>* error_id = nullptr);

// Encodes a client message (SDK tests, fuzz round trip). The input is assumed
// valid; DecodeClientMessage(EncodeClientMessage(m)) == m for decoded messages.
std::string EncodeClientMessage(const ClientMessage& message);

const RequestId& IdOf(const ClientMessage& message);
std::string_view TypeOf(const ClientMessage& message);  // "join", "leave", "switch-role", ...

// ---- Server -> client ----

enum class KickReason { kRemovedByApi, kRoomDismissed, kKickedDuplicateLogin, kUserSigExpired };
// kRoleChanged: an anchor became audience in a room that hides its audience.
enum class LeaveReason { kLeft, kTimeout, kKicked, kRoleChanged };

struct UserJoinedEvent {
  std::string user_id;
  Role role = Role::kAnchor;
};
struct UserLeftEvent {
  std::string user_id;
  LeaveReason reason = LeaveReason::kLeft;
};
struct TrackPublishedEvent {
  std::string user_id;
  TrackInfo track;
};
struct TrackUnpublishedEvent {
  std::string user_id;
  std::string track_id;
};
// Encodes as `track-muted` or `track-unmuted`.
struct TrackMuteEvent {
  std::string user_id;
  std::string track_id;
  bool muted = true;
};
struct KickedEvent {
  KickReason reason = KickReason::kRemovedByApi;
};
struct RoomDismissedEvent {};
// A visible user changed role (only when the room shows its audience;
// otherwise the change appears as user-joined / user-left).
struct UserRoleChangedEvent {
  std::string user_id;
  Role role = Role::kAnchor;
};
// How many audience members the room has now (sent whenever it changes).
struct AudienceCountEvent {
  int64_t count = 0;
};
// Every 300 ms while anyone in the room is above the silence threshold:
// each such user's loudness, 0..100 (docs/MEDIA.md "Audio levels").
struct UserVolume {
  std::string user_id;
  int volume = 0;
  bool operator==(const UserVolume&) const = default;
};
struct VolumeEvent {
  std::vector<UserVolume> volumes;
};
// The loudest user changed (loudest in 2 consecutive level intervals).
struct ActiveSpeakerEvent {
  std::string user_id;
};
// The server (re)offers the subscribe peer connection; the client answers
// with a `subscribe` request carrying the same offer id.
struct SubscribeOfferTrack {
  std::string mid;  // m-section of the subscribe offer
  std::string user_id;
  std::string track_id;
  TrackKind kind = TrackKind::kAudio;
  TrackSource source = TrackSource::kMicrophone;
};
struct SubscribeOfferEvent {
  int64_t offer_id = 0;
  std::string sdp;
  std::vector<SubscribeOfferTrack> tracks;  // the active m-sections
};

using ServerEvent =
    std::variant<UserJoinedEvent, UserLeftEvent, TrackPublishedEvent, TrackUnpublishedEvent,
                 TrackMuteEvent, KickedEvent, RoomDismissedEvent, SubscribeOfferEvent,
                 UserRoleChangedEvent, AudienceCountEvent, VolumeEvent, ActiveSpeakerEvent>;

// {"type":"ok","id":<id>,"data":<data>} (data omitted when null).
std::string EncodeOk(const RequestId& id, const nlohmann::json& data = nullptr);
// {"type":"error","id":<id or null>,"code":..,"message":..}.
std::string EncodeError(const std::optional<RequestId>& id, const Status& error);
// {"type":"<event name>",...fields}.
std::string EncodeEvent(const ServerEvent& event);

std::string_view ToString(Role role);
std::string_view ToString(TrackKind kind);
std::string_view ToString(TrackSource source);
std::string_view ToString(PcKind pc);
std::string_view ToString(KickReason reason);
std::string_view ToString(LeaveReason reason);

// Validators shared with the server (R2 room ids, track ids).
bool IsValidStrRoomId(std::string_view str_room_id);
bool IsValidTrackId(std::string_view track_id);

}  // namespace aegis::signal
