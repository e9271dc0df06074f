#include "signal/signal_server.h"

#include <algorithm>
#include <limits>
#include <set>
#include <utility>

#include "auth/usersig.h"
#include "core/log.h"
#include "core/mask.h"
#include "core/strings.h"
#include "crypto/primitives.h"
#include "rtc/sdp/negotiation.h"
#include "rtc/sdp/sdp.h"
#include "sfu/room_message.h"
#include "signal/active_speaker.h"

namespace aegis::signal {
namespace {

using json = nlohmann::json;
constexpr const char* kTag = "signal";
// At most one `audience-count` per room in this time: a crowd of viewers
// arriving costs each member one event a second, not one per viewer.
constexpr int64_t kAudienceCountIntervalMs = 1000;

// Server error codes (docs/SIGNALING.md).
constexpr const char* kNotJoined = "not_joined";
constexpr const char* kAlreadyJoined = "already_joined";
constexpr const char* kRateLimited = "rate_limited";
constexpr const char* kRoomFull = "room_full";
constexpr const char* kUnknownTrack = "unknown_track";
constexpr const char* kUnknownUser = "unknown_user";
// Video controls kept per subscriber (user × source); more is a client bug.
constexpr size_t kMaxVideoPrefs = 256;
constexpr const char* kStaleOffer = "stale_offer";
constexpr const char* kSdpUnsupported = "sdp_unsupported";
constexpr const char* kResumeFailed = "resume_failed";
constexpr const char* kPermissionDenied = "permission_denied";
constexpr const char* kRoleAudienceCannotPublish = "role_audience_cannot_publish";
constexpr const char* kAppUnavailable = "app_unavailable";
constexpr const char* kInternal = "internal";

// Subscriber payload types: dynamic range, 111 kept for Opus (what browsers
// use), so the common case needs no mapping at all for audio.
constexpr uint8_t kOpusPayloadType = 111;
// Our id for the transport-wide sequence number extension in subscribe offers
// (the same in every m-section, as BUNDLE requires).
constexpr uint8_t kSubscribeTransportCcId = 3;
constexpr size_t kMaxSubscribeSections = 32;  // rtc::kMaxSdpMediaSections

Status Err(const char* code, std::string message) {
  return Status::Error(code, std::move(message));
}

std::string CodecKey(const rtc::RtpCodec& c) {
  return AsciiLower(c.encoding_name) + "/" + std::to_string(c.clock_rate) + "/" +
         std::to_string(c.channels) + "/" + c.fmtp;
}

sfu::MediaKind ToMediaKind(TrackKind k) {
  return k == TrackKind::kAudio ? sfu::MediaKind::kAudio : sfu::MediaKind::kVideo;
}

// "apt=<pt>" of an RTX codec's fmtp (RFC 4588 §8.6); nullopt when absent.
std::optional<uint8_t> RtxApt(const rtc::RtpCodec& c) {
  constexpr std::string_view kApt = "apt=";
  const size_t at = c.fmtp.find(kApt);
  if (at == std::string::npos) return std::nullopt;
  unsigned value = 0;
  size_t i = at + kApt.size();
  size_t digits = 0;
  for (; i < c.fmtp.size() && digits < 4 && c.fmtp[i] >= '0' && c.fmtp[i] <= '9'; ++i, ++digits) {
    value = value * 10 + static_cast<unsigned>(c.fmtp[i] - '0');
  }
  if (digits == 0 || value > 127) return std::nullopt;
  return static_cast<uint8_t>(value);
}

std::string_view KindName(TrackKind k) { return k == TrackKind::kAudio ? "audio" : "video"; }

// PrivateMapKey bits (auth/usersig.h) a track needs: a screen track (video or
// its audio) the screen bits, other tracks the audio / video bits of its kind.
uint32_t SendBit(TrackKind kind, TrackSource source) {
  if (source == TrackSource::kScreen) return auth::kPrivSendScreen;
  return kind == TrackKind::kAudio ? auth::kPrivSendAudio : auth::kPrivSendVideo;
}
uint32_t RecvBit(TrackKind kind, TrackSource source) {
  if (source == TrackSource::kScreen) return auth::kPrivRecvScreen;
  return kind == TrackKind::kAudio ? auth::kPrivRecvAudio : auth::kPrivRecvVideo;
}
// Becoming an anchor needs at least one of these.
constexpr uint32_t kAnySendBit =
    auth::kPrivSendAudio | auth::kPrivSendVideo | auth::kPrivSendScreen;

}  // namespace

struct PublishedTrack {
  TrackInfo info;  // mid cleared: never shown to others
  std::string mid;
  uint64_t producer_id = 0;
  std::vector<rtc::RtpCodec> codecs;  // primary codecs accepted in our answer
  // What the producer was created with (paused and priority kept current):
  // the parameters of its relayed copies on other workers (fan-out).
  sfu::ProducerParams params;
  struct Relay {
    uint64_t relay_id = 0;  // the relayed producer on that worker
    size_t consumers = 0;   // there; the relay goes with the last one
  };
  std::map<size_t, Relay> relays;  // by target worker
};

struct SubSection {
  std::string mid;
  uint64_t publisher = 0;  // session id
  std::string user_id;
  std::string track_id;
  TrackKind kind = TrackKind::kAudio;
  TrackSource source = TrackSource::kMicrophone;
  uint64_t producer_id = 0;  // the publisher's (home worker) producer
  uint64_t consumer_id = 0;
  bool relayed = false;  // consumes a relayed copy on the subscribe worker
  uint32_t ssrc = 0;
  uint32_t rtx_ssrc = 0;  // 0: no RTX codec for this track
  bool active = true;
  std::vector<rtc::RtpCodec> codecs;  // subscriber payload types
};

struct SignalServer::Session {
  enum class State { kConnected, kJoined, kDetached };
  uint64_t id = 0;
  std::shared_ptr<net::WebSocketConnection> conn;
  std::string ip;
  State state = State::kConnected;
  int64_t opened_ms = 0;
  int64_t last_seen_ms = 0;
  double tokens = 0;
  int64_t refill_ms = 0;
  // Joined.
  uint32_t sdkappid = 0;
  std::string user_id;
  api::RoomKey room_key;
  Role role = Role::kAnchor;
  std::string token;
  int64_t usersig_expire_s = 0;  // 0: never
  uint32_t privileges = auth::kPrivAll;
  int64_t joined_ms = 0;
  // Shared with the registry (its API holds listeners by shared_ptr); kept
  // here to re-register the user under a new role.
  std::shared_ptr<api::RoomRegistry::UserListener> kicker;
  Room* room = nullptr;
  std::string cname;
  // Publish peer connection.
  uint64_t pub_transport = 0;
  rtc::IceCredentials pub_ice;
  std::map<std::string, PublishedTrack> tracks;
  // Subscribe peer connection.
  uint64_t sub_transport = 0;
  size_t sub_worker = 0;  // of sub_transport: the room's worker unless fanned out
  rtc::IceCredentials sub_ice;
  bool sub_remote_set = false;
  std::vector<SubSection> sections;
  int64_t next_offer_id = 1;
  int64_t outstanding_offer = 0;
  size_t offered_sections = 0;  // m-sections in the outstanding offer
  bool reoffer = false;
  uint64_t sub_version = 0;
  uint64_t pub_version = 0;
  std::map<std::string, uint8_t> payload_types;  // codec key → subscriber PT
  uint8_t next_payload_type = 96;
  // set-video-quality / pause-video by "<user id>/<source>", applied to each
  // consumer of that video (also one created later, e.g. after a re-publish).
  struct VideoPref {
    VideoQuality quality = VideoQuality::kAuto;
    bool paused = false;
  };
  std::map<std::string, VideoPref> video_prefs;
};

struct SignalServer::Room {
  api::RoomKey key;
  std::string comm_id;
  size_t worker = 0;
  std::map<std::string, uint64_t> members;     // user id → session id
  std::map<std::string, uint64_t> publishers;  // the members with a published track
  size_t sub_transports = 0;                   // members' subscribe transports (fan-out)
  ActiveSpeakerDetector speaker;               // `active-speaker` events
  int64_t audience = 0;                        // members in the audience role
  // `audience-count`: the count last sent, when, and whether a later one waits
  // for the interval to pass (SignalServer::AudienceChanged).
  int64_t audience_sent = 0;
  int64_t audience_sent_ms = std::numeric_limits<int64_t>::min() / 2;
  bool audience_pending = false;
};

// Registry listener for one session: REST kicks arrive through it.
class SignalServer::Kicker final : public api::RoomRegistry::UserListener {
 public:
  Kicker(SignalServer* server, uint64_t session_id, std::shared_ptr<bool> alive)
      : server_(server), session_id_(session_id), alive_(std::move(alive)) {}
  void OnRemovedByServer(const api::RoomKey& /*room*/, const std::string& /*user_id*/,
                         api::RemoveReason reason) override {
    if (!*alive_) return;
    server_->Kick(session_id_,
                  reason == api::RemoveReason::kRoomDismissed ? KickReason::kRoomDismissed
                                                              : KickReason::kRemovedByApi,
                  /*in_registry=*/false);
  }

 private:
  SignalServer* server_;
  uint64_t session_id_;
  std::shared_ptr<bool> alive_;
};

SignalServer::SignalServer(SignalServerOptions options, store::ControlStore& store,
                           api::RoomRegistry& registry, const Clock& clock, PostFn post)
    : options_(std::move(options)),
      store_(store),
      registry_(registry),
      clock_(clock),
      post_(std::move(post)),
      alive_(std::make_shared<bool>(true)) {}

SignalServer::~SignalServer() { *alive_ = false; }

SignalServer::Session* SignalServer::SessionOf(uint64_t conn_id) {
  auto it = by_conn_.find(conn_id);
  if (it == by_conn_.end()) return nullptr;
  auto s = sessions_.find(it->second);
  return s == sessions_.end() ? nullptr : s->second.get();
}

sfu::Worker& SignalServer::WorkerOf(const Session& s) {
  return *workers_[s.room != nullptr ? s.room->worker : 0];
}

sfu::Worker& SignalServer::SubWorkerOf(const Session& s) { return *workers_[s.sub_worker]; }

size_t SignalServer::PlaceSubscribeTransport(const Session& s) const {
  const size_t home = s.room != nullptr ? s.room->worker : 0;
  if (options_.fanout_min_subscribers == 0 || s.room == nullptr ||
      s.room->sub_transports < options_.fanout_min_subscribers) {
    return home;
  }
  // The worker with the fewest transports by our own count (what the workers
  // count themselves lags behind the commands posted to them); home on a tie,
  // then the lowest index.
  size_t best = home;
  for (size_t i = 0; i < transports_per_worker_.size(); ++i) {
    if (transports_per_worker_[i] < transports_per_worker_[best]) best = i;
  }
  return best;
}

uint64_t SignalServer::AcquireRelay(const Session& publisher, PublishedTrack& track,
                                    size_t target) {
  const size_t home = publisher.room != nullptr ? publisher.room->worker : 0;
  if (target == home) return track.producer_id;
  auto [it, created] = track.relays.try_emplace(target);
  if (created) {
    it->second.relay_id = next_media_id_++;
    sfu::ProducerParams p = track.params;
    p.producer_id = it->second.relay_id;
    // The relayed producer first, then the relay: both are posted, and
    // packets arriving before the copy exists are dropped there.
    workers_[target]->AddRelayedProducer(std::move(p), home, track.producer_id);
    workers_[home]->AddRelay(track.producer_id, target, it->second.relay_id);
  }
  ++it->second.consumers;
  return it->second.relay_id;
}

void SignalServer::ReleaseRelay(const Session& subscriber, const SubSection& sec) {
  if (!sec.relayed) return;
  auto pub = sessions_.find(sec.publisher);
  if (pub == sessions_.end()) return;
  auto t = pub->second->tracks.find(sec.track_id);
  if (t == pub->second->tracks.end() || t->second.producer_id != sec.producer_id) return;
  PublishedTrack& track = t->second;
  auto r = track.relays.find(subscriber.sub_worker);
  if (r == track.relays.end() || --r->second.consumers > 0) return;
  WorkerOf(*pub->second).RemoveRelay(track.producer_id, r->first);
  workers_[r->first]->RemoveProducer(r->second.relay_id);
  track.relays.erase(r);
}

void SignalServer::RemoveRelays(const Session& publisher, PublishedTrack& track) {
  for (const auto& [target, relay] : track.relays) {
    WorkerOf(publisher).RemoveRelay(track.producer_id, target);
    workers_[target]->RemoveProducer(relay.relay_id);  // its consumers go with it
  }
  track.relays.clear();
}

void SignalServer::ForEachCopy(const Session& publisher, const PublishedTrack& track,
                               const std::function<void(sfu::Worker&, uint64_t)>& fn) {
  fn(WorkerOf(publisher), track.producer_id);
  for (const auto& [target, relay] : track.relays) fn(*workers_[target], relay.relay_id);
}

store::AppStore* SignalServer::AppStoreFor(uint32_t sdkappid) {
  auto it = app_stores_.find(sdkappid);
  if (it != app_stores_.end()) return it->second.get();
  auto app = store_.OpenApp(sdkappid);
  if (!app.ok()) {
    LogWarn(kTag, "application store unavailable", {{"error", app.status().ToString()}});
    return nullptr;
  }
  return app_stores_.emplace(sdkappid, std::move(app).value()).first->second.get();
}

// ---- connection lifecycle ----

void SignalServer::OnOpen(const std::shared_ptr<net::WebSocketConnection>& conn,
                          const net::HttpRequest& /*upgrade*/) {
  size_t& n = connections_per_ip_[conn->client_ip()];
  if (n >= options_.max_connections_per_ip) {
    LogWarn(kTag, "connection cap per address reached", {{"ip", MaskIp(conn->client_ip())}});
    CloseConn(*conn, net::kWsClosePolicyViolation, "too many connections from this address");
    // OnClose still follows and balances the count.
  }
  ++n;
  auto s = std::make_unique<Session>();
  s->id = next_session_id_++;
  s->conn = conn;
  s->ip = conn->client_ip();
  s->opened_ms = clock_.NowUnixMillis();
  s->last_seen_ms = s->opened_ms;
  s->tokens = options_.max_message_burst;
  s->refill_ms = s->opened_ms;
  by_conn_[conn->id()] = s->id;
  sessions_.emplace(s->id, std::move(s));
}

void SignalServer::OnClose(const std::shared_ptr<net::WebSocketConnection>& conn) {
  closing_.erase(conn->id());
  if (auto it = connections_per_ip_.find(conn->client_ip()); it != connections_per_ip_.end()) {
    if (--it->second == 0) connections_per_ip_.erase(it);
  }
  auto it = by_conn_.find(conn->id());
  if (it == by_conn_.end()) return;
  const uint64_t sid = it->second;
  by_conn_.erase(it);
  auto s = sessions_.find(sid);
  if (s == sessions_.end()) return;
  Session& session = *s->second;
  if (session.conn != conn) return;  // already moved to a newer connection (resume)
  session.conn.reset();
  if (session.state == Session::State::kJoined) {
    // Keep the session (and its media) for the resume window.
    session.state = Session::State::kDetached;
    return;
  }
  if (session.state != Session::State::kDetached) DestroySession(sid);
}

void SignalServer::DestroySession(uint64_t session_id) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return;
  if (it->second->state != Session::State::kConnected) Leave(*it->second, "left", true);
  if (it->second->conn) by_conn_.erase(it->second->conn->id());
  sessions_.erase(it);
}

void SignalServer::CloseConnection(Session& s, uint16_t code, const std::string& reason) {
  if (s.conn) CloseConn(*s.conn, code, reason);
}

void SignalServer::CloseConn(net::WebSocketConnection& conn, uint16_t code,
                             const std::string& reason) {
  // Frames already in flight from a socket we are closing are ignored.
  closing_.insert(conn.id());
  conn.Close(code, reason);
}

void SignalServer::Reply(Session& s, const std::string& text) {
  if (s.conn) s.conn->SendText(text);
}

void SignalServer::OnTick() {
  const int64_t now = clock_.NowUnixMillis();
  const int64_t now_s = now / 1000;
  std::vector<std::pair<uint64_t, std::string>> timeouts;
  std::vector<uint64_t> expired;
  for (auto& [id, s] : sessions_) {
    switch (s->state) {
      case Session::State::kConnected:
        if (now - s->opened_ms > options_.unauthenticated_timeout_ms && s->conn) {
          CloseConn(*s->conn, net::kWsClosePolicyViolation, "not joined in time");
        }
        break;
      case Session::State::kJoined:
      case Session::State::kDetached:
        if (now - s->last_seen_ms > options_.session_timeout_ms) {
          timeouts.emplace_back(id, "timeout");
        } else if (s->usersig_expire_s != 0 &&
                   now_s > s->usersig_expire_s + options_.usersig_clock_skew_s) {
          expired.push_back(id);
        }
        break;
    }
  }
  for (const auto& [id, reason] : timeouts) {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) continue;
    Session& s = *it->second;
    LogInfo(kTag, "session timed out", {{"user", MaskUserId(s.user_id)}});
    Leave(s, reason, true);
    if (s.conn) {
      CloseConn(*s.conn, net::kWsClosePolicyViolation, "heartbeat timeout");
    } else {
      DestroySession(id);
    }
  }
  for (uint64_t id : expired) Kick(id, KickReason::kUserSigExpired, true);
  for (auto& [key, room] : rooms_) {
    if (room->audience_pending && now - room->audience_sent_ms >= kAudienceCountIntervalMs) {
      SendAudienceCount(*room, nullptr, now);
    }
  }
}

// ---- requests ----

void SignalServer::OnText(const std::shared_ptr<net::WebSocketConnection>& conn,
                          std::string_view text) {
  if (closing_.contains(conn->id())) return;
  Session* s = SessionOf(conn->id());
  if (s == nullptr) return;
  const int64_t now = clock_.NowUnixMillis();
  // Token bucket: a flood closes only this connection.
  s->tokens =
      std::min(options_.max_message_burst, s->tokens + static_cast<double>(now - s->refill_ms) *
                                                           options_.max_messages_per_s / 1000.0);
  s->refill_ms = now;
  if (s->tokens < 1) {
    Reply(*s, EncodeError(std::nullopt, Err(kRateLimited, "Too many messages; closing.")));
    CloseConn(*conn, net::kWsClosePolicyViolation, "message rate exceeded");
    return;
  }
  s->tokens -= 1;
  s->last_seen_ms = now;
  Dispatch(*s, text);
}

void SignalServer::Dispatch(Session& s, std::string_view text) {
  std::optional<RequestId> error_id;
  auto decoded = DecodeClientMessage(text, &error_id);
  if (!decoded.ok()) {
    Reply(s, EncodeError(error_id, decoded.status()));
    return;
  }
  const ClientMessage& msg = *decoded;
  const RequestId id = IdOf(msg);
  const bool joined = s.state == Session::State::kJoined;
  if (const auto* resume = std::get_if<ResumeRequest>(&msg)) {
    if (joined) {
      Reply(s, EncodeError(id, Err(kAlreadyJoined, "This connection already joined a room.")));
      return;
    }
    // On success the request's session is replaced by the resumed one.
    const Status st = HandleResume(s, *resume);
    if (!st.ok()) Reply(s, EncodeError(id, st));
    return;
  }
  Status status = Status::Ok();
  json data = nullptr;
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, HeartbeatRequest> || std::is_same_v<T, ResumeRequest>) {
          // Liveness only (resume is handled above).
        } else if constexpr (std::is_same_v<T, JoinRequest>) {
          status = joined ? Err(kAlreadyJoined, "This connection already joined a room.")
                          : HandleJoin(s, m);
          if (status.ok()) data = RoomStateJson(s);
        } else if (!joined) {
          status = Err(kNotJoined, "Join a room first.");
        } else if constexpr (std::is_same_v<T, LeaveRequest>) {
          Leave(s, "left", true);
        } else if constexpr (std::is_same_v<T, PublishRequest>) {
          status = HandlePublish(s, m, &data);
        } else if constexpr (std::is_same_v<T, UnpublishRequest>) {
          status = HandleUnpublish(s, m.track_ids);
        } else if constexpr (std::is_same_v<T, SubscribeRequest>) {
          status = HandleSubscribe(s, m);
        } else if constexpr (std::is_same_v<T, MuteRequest>) {
          status = HandleMute(s, m);
        } else if constexpr (std::is_same_v<T, SwitchRoleRequest>) {
          status = HandleSwitchRole(s, m.role);
        } else if constexpr (std::is_same_v<T, SetVideoQualityRequest>) {
          status = HandleVideoControl(s, m.user_id, m.source, m.quality, std::nullopt);
        } else if constexpr (std::is_same_v<T, PauseVideoRequest>) {
          status = HandleVideoControl(s, m.user_id, m.source, std::nullopt, m.paused);
        } else if constexpr (std::is_same_v<T, IceCandidateRequest>) {
          // ICE-lite: the client's connectivity checks tell us its candidates.
        }
      },
      msg);
  if (!status.ok()) {
    Reply(s, EncodeError(id, status));
    return;
  }
  Reply(s, EncodeOk(id, data));
  if (std::holds_alternative<LeaveRequest>(msg)) {
    CloseConnection(s, net::kWsCloseNormal, "left");
  } else if (std::holds_alternative<JoinRequest>(msg)) {
    UpdateSubscriptions(s);
  } else if (std::holds_alternative<SubscribeRequest>(msg) && s.reoffer) {
    SendSubscribeOffer(s);
  }
}

json SignalServer::RoomStateJson(const Session& s) const {
  json users = json::array();
  if (s.room != nullptr) {
    for (const auto& [user_id, sid] : s.room->members) {
      if (sid == s.id) continue;
      auto it = sessions_.find(sid);
      if (it == sessions_.end() || !Visible(*it->second)) continue;
      const Session& other = *it->second;
      json tracks = json::array();
      for (const auto& [track_id, t] : other.tracks) {
        tracks.push_back(json{{"trackId", track_id},
                              {"kind", ToString(t.info.kind)},
                              {"source", ToString(t.info.source)},
                              {"muted", t.info.muted}});
      }
      users.push_back(
          json{{"userId", user_id}, {"role", ToString(other.role)}, {"tracks", std::move(tracks)}});
    }
  }
  return json{{"sessionToken", s.token},
              {"heartbeatIntervalMs", options_.heartbeat_interval_ms},
              {"sessionTimeoutMs", options_.session_timeout_ms},
              {"iceServers", json::array()},
              {"users", std::move(users)},
              {"audienceCount", s.room != nullptr ? s.room->audience : 0}};
}

bool SignalServer::Visible(const Session& s) const {
  return s.role == Role::kAnchor || options_.show_audience;
}

void SignalServer::AudienceChanged(Room& room, const Session* except) {
  const int64_t now = clock_.NowUnixMillis();
  if (now - room.audience_sent_ms < kAudienceCountIntervalMs) {
    room.audience_pending = true;  // OnTick sends it once the interval is over
    return;
  }
  SendAudienceCount(room, except, now);
}

void SignalServer::SendAudienceCount(Room& room, const Session* except, int64_t now_ms) {
  room.audience_pending = false;
  if (room.audience == room.audience_sent) return;  // e.g. one came and went
  room.audience_sent = room.audience;
  room.audience_sent_ms = now_ms;
  Broadcast(room, except, EncodeEvent(AudienceCountEvent{room.audience}));
}

void SignalServer::Broadcast(const Room& room, const Session* except, const std::string& text) {
  for (const auto& [user_id, sid] : room.members) {
    if (except != nullptr && sid == except->id) continue;
    auto it = sessions_.find(sid);
    if (it != sessions_.end()) Reply(*it->second, text);
  }
}

Status SignalServer::HandleJoin(Session& s, const JoinRequest& m) {
  const int64_t now_ms = clock_.NowUnixMillis();
  const int64_t now_s = now_ms / 1000;
  auto app = store_.GetApplication(m.sdk_app_id);
  if (!app.ok() || app->status != "enabled") {
    return Err(kAppUnavailable, "The application does not exist or is disabled.");
  }
  auto keys = store_.VerifyingAppKeys(m.sdk_app_id);
  if (!keys.ok()) return Err(kInternal, "The application's keys are not available.");
  auth::UserSigCheck check;
  check.sdkappid = m.sdk_app_id;
  check.user_id = m.user_id;
  check.now = now_s;
  check.clock_skew_s = options_.usersig_clock_skew_s;
  for (const store::AppKeyMaterial& k : *keys) check.keys.push_back(k.key);
  auto info = auth::VerifyUserSig(m.user_sig, check);
  if (!info.ok()) {
    LogInfo(kTag, "join refused",
            {{"code", info.status().code()}, {"user", MaskUserId(m.user_id)}});
    return info.status();
  }
  std::optional<auth::PrivateMapKey> pmk = info->private_map_key;
  if (m.private_map_key) {
    auto p = auth::VerifyUserSig(*m.private_map_key, check);
    if (!p.ok()) return p.status();
    if (!p->private_map_key) {
      return Err("privatemapkey_malformed", "The PrivateMapKey carries no privilege map.");
    }
    pmk = p->private_map_key;
  }
  const api::RoomKey key = m.str_room_id.empty()
                               ? api::RoomKey::Numeric(m.sdk_app_id, m.room_id)
                               : api::RoomKey::String(m.sdk_app_id, m.str_room_id);
  auto room_it = rooms_.find(key);
  uint32_t privileges = auth::kPrivAll;
  if (pmk) {
    AEGIS_RETURN_IF_ERROR(auth::CheckPrivateMapKeyRoom(*pmk, m.room_id, m.str_room_id));
    privileges = pmk->privilege_map;
    if ((privileges & auth::kPrivEnterRoom) == 0) {
      return Err(kPermissionDenied, "The PrivateMapKey does not allow entering this room.");
    }
    if (room_it == rooms_.end() && (privileges & auth::kPrivCreateRoom) == 0) {
      return Err(kPermissionDenied, "The PrivateMapKey does not allow creating this room.");
    }
  }
  // A second login of the same user of the same application wins.
  if (auto dup = by_user_.find({m.sdk_app_id, m.user_id}); dup != by_user_.end()) {
    Kick(dup->second, KickReason::kKickedDuplicateLogin, true);
    room_it = rooms_.find(key);  // the kick may have emptied (destroyed) the room
    if (pmk && room_it == rooms_.end() && (privileges & auth::kPrivCreateRoom) == 0) {
      return Err(kPermissionDenied, "The PrivateMapKey does not allow creating this room.");
    }
  }
  if (room_it != rooms_.end() && room_it->second->members.size() >= options_.max_users_per_room) {
    return Err(kRoomFull, "The room is full.");
  }
  store::AppStore* app_store = AppStoreFor(m.sdk_app_id);
  if (room_it == rooms_.end()) {
    auto room = std::make_unique<Room>();
    room->key = key;
    // CommId: SdkAppId_RoomId_CreateTime (the convention DescribeUserInfo
    // parses); a second instance within the same second gets a later time.
    int64_t created = now_s;
    std::string comm_id;
    for (;; ++created) {
      comm_id = std::to_string(m.sdk_app_id) + "_" + key.room_id + "_" + std::to_string(created);
      if (used_comm_ids_.insert(comm_id).second) break;
    }
    room->comm_id = comm_id;
    room->worker = sfu::PlaceRoom(m.sdk_app_id, key.ToString(), workers_.size());
    if (app_store != nullptr) {
      store::RoomInstance ri;
      ri.comm_id = comm_id;
      ri.room_id = key.room_id;
      ri.is_str_room = key.is_str_room;
      ri.creator = m.user_id;
      ri.created_at = created;
      const Status st = app_store->RecordRoomCreated(ri);
      if (!st.ok()) LogWarn(kTag, "room not recorded", {{"error", st.ToString()}});
    }
    LogInfo(kTag, "room created",
            {{"room", key.ToString()}, {"worker", std::to_string(room->worker)}});
    room_it = rooms_.emplace(key, std::move(room)).first;
  }
  Room& room = *room_it->second;
  s.state = Session::State::kJoined;
  s.sdkappid = m.sdk_app_id;
  s.user_id = m.user_id;
  s.room_key = key;
  s.role = m.role;
  s.room = &room;
  s.privileges = privileges;
  s.joined_ms = now_ms;
  s.kicker = std::make_shared<Kicker>(this, s.id, alive_);
  s.usersig_expire_s = info->expire > 0 ? info->time + info->expire : 0;
  s.token = crypto::RandomAlnum(32);
  s.cname = crypto::RandomAlnum(16);
  room.members[m.user_id] = s.id;
  if (m.role == Role::kAudience) ++room.audience;
  by_user_[{m.sdk_app_id, m.user_id}] = s.id;
  by_token_[s.token] = s.id;
  const Status reg =
      registry_.AddUser(key, api::RoomUser{m.user_id, std::string(ToString(m.role)), now_ms},
                        room.comm_id, now_ms, s.kicker);
  if (!reg.ok()) LogWarn(kTag, "registry refused user", {{"error", reg.ToString()}});
  if (app_store != nullptr) {
    store::UserSession us;
    us.comm_id = room.comm_id;
    us.user_id = m.user_id;
    us.role = std::string(ToString(m.role));
    us.joined_at = now_s;
    us.sdk_version = m.sdk_version.value_or("");
    us.os = m.os.value_or("");
    us.client_ip_masked = MaskIp(s.ip);
    const Status st = app_store->RecordSessionJoined(us);
    if (!st.ok()) LogWarn(kTag, "session not recorded", {{"error", st.ToString()}});
  }
  LogInfo(
      kTag, "user joined",
      {{"room", key.ToString()}, {"user", MaskUserId(m.user_id)}, {"e2ee", m.e2ee ? "yes" : "no"}});
  if (Visible(s)) Broadcast(room, &s, EncodeEvent(UserJoinedEvent{m.user_id, m.role}));
  if (m.role == Role::kAudience) AudienceChanged(room, &s);  // the joiner has it in `ok`
  return Status::Ok();
}

Status SignalServer::HandleSwitchRole(Session& s, Role role) {
  if (s.role == role) return Status::Ok();
  Room& room = *s.room;
  if (role == Role::kAnchor && (s.privileges & kAnySendBit) == 0) {
    return Err(kPermissionDenied, "The PrivateMapKey does not allow sending media (anchor role).");
  }
  const bool was_visible = Visible(s);
  if (role == Role::kAudience) {
    // The audience does not publish: everything this user sends stops now,
    // announced (track-unpublished) while the user is still visible.
    std::vector<std::string> tracks;
    for (const auto& entry : s.tracks) tracks.push_back(entry.first);
    for (const std::string& id : tracks) RemoveTrack(s, id, true);
    if (!tracks.empty()) UpdateRoomSubscriptions(room, &s);
  }
  s.role = role;
  const bool visible = Visible(s);
  if (was_visible && visible) {
    Broadcast(room, &s, EncodeEvent(UserRoleChangedEvent{s.user_id, role}));
  } else if (visible) {
    Broadcast(room, &s, EncodeEvent(UserJoinedEvent{s.user_id, role}));
  } else {
    Broadcast(room, &s, EncodeEvent(UserLeftEvent{s.user_id, LeaveReason::kRoleChanged}));
  }
  room.audience += role == Role::kAudience ? 1 : -1;
  AudienceChanged(room, nullptr);
  // The registry (REST DescribeRoom*/RemoveUser) follows the role; the
  // store's session history keeps the role the user joined with.
  const Status reg = registry_.AddUser(
      s.room_key, api::RoomUser{s.user_id, std::string(ToString(role)), s.joined_ms}, room.comm_id,
      clock_.NowUnixMillis(), s.kicker);
  if (!reg.ok()) LogWarn(kTag, "registry refused role change", {{"error", reg.ToString()}});
  LogInfo(kTag, "role switched",
          {{"room", s.room_key.ToString()},
           {"user", MaskUserId(s.user_id)},
           {"role", std::string(ToString(role))}});
  return Status::Ok();
}

Status SignalServer::HandleResume(Session& s, const ResumeRequest& m) {
  auto it = by_token_.find(m.session_token);
  if (it == by_token_.end() || it->second == s.id) {
    return Err(kResumeFailed, "No session to resume; join again.");
  }
  auto old_it = sessions_.find(it->second);
  if (old_it == sessions_.end()) return Err(kResumeFailed, "No session to resume; join again.");
  Session& old = *old_it->second;
  std::shared_ptr<net::WebSocketConnection> conn = s.conn;
  if (old.conn) {
    // Frames the displaced socket already sent must not act on the session.
    by_conn_.erase(old.conn->id());
    CloseConn(*old.conn, net::kWsClosePolicyViolation, "resumed elsewhere");
  }
  // The request's own (unjoined) session goes away; its connection moves.
  by_conn_[conn->id()] = old.id;
  sessions_.erase(s.id);  // `s` is dangling from here
  old.conn = conn;
  old.state = Session::State::kJoined;
  old.last_seen_ms = clock_.NowUnixMillis();
  old.tokens = options_.max_message_burst;
  old.refill_ms = old.last_seen_ms;
  Reply(old, EncodeOk(m.id, RoomStateJson(old)));
  LogInfo(kTag, "session resumed", {{"user", MaskUserId(old.user_id)}});
  // An offer sent while the socket was down may be lost: offer again.
  if (old.outstanding_offer != 0 || old.reoffer) {
    old.outstanding_offer = 0;
    SendSubscribeOffer(old);
  }
  return Status::Ok();
}

namespace {

// The remote ICE ufrag and DTLS fingerprint of a (BUNDLEd) description.
Status RemoteTransportParams(const rtc::SessionDescription& d, std::string* ufrag,
                             rtc::Fingerprint* fingerprint) {
  for (const rtc::MediaSection& m : d.media) {
    if (m.port == 0) continue;
    const rtc::IceParameters& ice = m.ice.ufrag.empty() ? d.ice : m.ice;
    const std::vector<rtc::Fingerprint>& fps =
        m.fingerprints.empty() ? d.fingerprints : m.fingerprints;
    if (ice.ufrag.empty() || fps.empty()) break;
    *ufrag = ice.ufrag;
    *fingerprint = fps.front();
    for (const rtc::Fingerprint& f : fps) {
      if (f.algorithm == "sha-256") *fingerprint = f;
    }
    return Status::Ok();
  }
  return Err(kSdpUnsupported, "The description has no ICE credentials or DTLS fingerprint.");
}

}  // namespace

rtc::LocalCapabilities SignalServer::Local(const Session& s, size_t worker,
                                           const rtc::IceCredentials& ice, uint64_t version) {
  const sfu::Worker& w = *workers_[worker];
  rtc::LocalCapabilities local;
  local.session_id = s.id;
  local.session_version = version;
  local.ice_ufrag = ice.ufrag;
  local.ice_pwd = ice.pwd;
  local.fingerprint = rtc::Fingerprint{"sha-256", w.certificate().fingerprint()};
  rtc::IceCandidate c;
  c.foundation = "udp" + std::to_string(w.index());
  c.component = 1;
  c.transport = "udp";
  c.priority = 2130706431;  // RFC 8445 §5.1.2.1: host, local preference 65535
  c.address = options_.announced_ip;
  c.port = w.port();
  c.type = "host";
  local.candidates.push_back(c);
  if (w.tcp_port() != 0) {
    // RFC 6544 §4.2: a passive TCP host candidate, ranked below UDP so it is
    // only used when UDP fails (libwebrtc's value for host TCP: type preference
    // 90 instead of 126, local preference 32542, component 1).
    rtc::IceCandidate t = c;
    t.foundation = "tcp" + std::to_string(w.index());
    t.transport = "tcp";
    t.priority = 1518280447;  // 2^24 * 90 + 2^8 * 32542 + 255
    t.port = w.tcp_port();
    t.tcp_type = "passive";
    local.candidates.push_back(t);
  }
  // Room messages ride data channels on the publish connection (docs/MEDIA.md).
  local.accept_data = true;
  local.max_message_size = sfu::RoomMessageSctpLimit(options_.max_room_message_bytes);
  return local;
}

Status SignalServer::HandlePublish(Session& s, const PublishRequest& m, json* data) {
  // The audience may open a data-only publish connection (room messages).
  if (s.role == Role::kAudience && !m.tracks.empty()) {
    return Err(kRoleAudienceCannotPublish,
               "Audience members cannot publish; switch to the anchor role first.");
  }
  for (size_t i = 0; i < m.tracks.size(); ++i) {
    const TrackInfo& t = m.tracks[i];
    if ((s.privileges & SendBit(t.kind, t.source)) == 0) {
      return Err(kPermissionDenied, "The PrivateMapKey does not allow sending track `" +
                                        t.track_id + "` (" + std::string(ToString(t.source)) +
                                        ").");
    }
    // One camera video, one screen video, one microphone (and one screen audio).
    for (size_t j = 0; j < i; ++j) {
      if (m.tracks[j].kind == t.kind && m.tracks[j].source == t.source) {
        return Status::Error(std::string(kErrInvalidField),
                             "Field `tracks` has two " + std::string(ToString(t.kind)) +
                                 " tracks from the " + std::string(ToString(t.source)) +
                                 "; one of each is allowed.");
      }
    }
  }
  auto offer = rtc::ParseSdp(m.sdp);
  if (!offer.ok()) return offer.status();
  sfu::Worker& worker = WorkerOf(s);
  if (s.pub_transport == 0) {
    s.pub_ice = rtc::IceCredentials::Generate();
    s.pub_transport = next_media_id_++;
    by_transport_[s.pub_transport] = s.id;
    ++transports_per_worker_[s.room->worker];
    worker.CreateTransport(s.pub_transport, s.pub_ice);
    // Room messages of this connection go to the room's other publish connections.
    worker.SetDataRoute(s.pub_transport, s.room->comm_id, s.user_id);
  }
  auto answer = rtc::BuildAnswer(*offer, Local(s, s.room->worker, s.pub_ice, ++s.pub_version));
  if (!answer.ok()) return answer.status();
  std::string remote_ufrag;
  rtc::Fingerprint remote_fp;
  AEGIS_RETURN_IF_ERROR(RemoteTransportParams(*offer, &remote_ufrag, &remote_fp));

  // Match each announced track to its accepted m-section.
  std::vector<size_t> section(m.tracks.size());
  std::set<size_t> claimed;
  for (size_t i = 0; i < m.tracks.size(); ++i) {
    const TrackInfo& t = m.tracks[i];
    std::optional<size_t> found;
    for (size_t j = 0; j < answer->media.size() && !found; ++j) {
      const rtc::MediaSection& a = answer->media[j];
      if (claimed.contains(j) || a.kind != KindName(t.kind)) continue;
      if (!t.mid.empty() ? a.mid == t.mid : true) found = j;
    }
    if (!found) {
      return Err(kSdpUnsupported,
                 "Track `" + t.track_id + "` has no matching m-section in the offer.");
    }
    const rtc::MediaSection& a = answer->media[*found];
    if (a.port == 0 || a.direction != rtc::MediaDirection::kRecvOnly) {
      return Err(kSdpUnsupported,
                 "Track `" + t.track_id +
                     "`: its m-section was rejected (no supported codec, or not sending).");
    }
    claimed.insert(*found);
    section[i] = *found;
  }
  auto text = rtc::WriteSdp(*answer);
  if (!text.ok()) return text.status();
  worker.SetRemoteParameters(s.pub_transport, remote_ufrag, remote_fp.algorithm, remote_fp.value);

  // Tracks no longer listed are unpublished (a publish carries the full list).
  std::vector<std::string> gone;
  for (const auto& entry : s.tracks) {
    // (No structured binding: clang 14 cannot capture one in a lambda.)
    const std::string& id = entry.first;
    const bool kept =
        std::ranges::any_of(m.tracks, [&](const TrackInfo& n) { return n.track_id == id; });
    if (!kept) gone.push_back(id);
  }
  for (const std::string& id : gone) RemoveTrack(s, id, true);

  for (size_t i = 0; i < m.tracks.size(); ++i) {
    const TrackInfo& t = m.tracks[i];
    const rtc::MediaSection& a = answer->media[section[i]];
    if (auto existing = s.tracks.find(t.track_id); existing != s.tracks.end()) {
      if (existing->second.mid == a.mid && existing->second.info.kind == t.kind) {
        if (existing->second.info.muted != t.muted) {
          existing->second.info.muted = t.muted;
          existing->second.params.paused = t.muted;
          ForEachCopy(s, existing->second,
                      [&](sfu::Worker& w, uint64_t id) { w.SetProducerPaused(id, t.muted); });
          Broadcast(*s.room, &s, EncodeEvent(TrackMuteEvent{s.user_id, t.track_id, t.muted}));
        }
        continue;  // renegotiation (e.g. ICE restart): the producer stays
      }
      RemoveTrack(s, t.track_id, true);
    }
    const rtc::MediaSection& o = offer->media[section[i]];
    PublishedTrack pt;
    pt.info = t;
    pt.info.mid.clear();
    pt.mid = a.mid;
    pt.producer_id = next_media_id_++;
    sfu::ProducerParams p;
    p.producer_id = pt.producer_id;
    p.transport_id = s.pub_transport;
    p.kind = ToMediaKind(t.kind);
    p.mid = a.mid;
    p.paused = t.muted;
    // Downlink allocation order (docs/MEDIA.md): screen share, then the
    // active speaker's camera.
    if (t.source == TrackSource::kScreen) {
      p.priority = sfu::ProducerParams::kPriorityScreen;
    } else if (t.source == TrackSource::kCamera && s.room->speaker.active() == s.user_id) {
      p.priority = sfu::ProducerParams::kPrioritySpeaker;
    }
    for (const rtc::RtpCodec& c : a.codecs) {
      if (AsciiLower(c.encoding_name) == "rtx") {
        if (auto apt = RtxApt(c)) p.rtx_codecs.push_back({c.payload_type, *apt});
      } else {
        pt.codecs.push_back(c);
        if (std::ranges::find(c.feedback, "nack") != c.feedback.end()) p.nack = true;
      }
    }
    for (const rtc::Extmap& e : a.extmaps) {
      if (e.id > 255) continue;
      if (e.uri == rtc::kExtMid) p.mid_extension_id = static_cast<uint8_t>(e.id);
      if (e.uri == rtc::kExtAudioLevel) p.audio_level_extension_id = static_cast<uint8_t>(e.id);
      if (e.uri == rtc::kExtTransportCc) p.transport_cc_extension_id = static_cast<uint8_t>(e.id);
      if (e.uri == rtc::kExtRid) p.rid_extension_id = static_cast<uint8_t>(e.id);
      if (e.uri == rtc::kExtRepairedRid) {
        p.repaired_rid_extension_id = static_cast<uint8_t>(e.id);
      }
    }
    if (p.kind == sfu::MediaKind::kVideo) {
      for (const rtc::RtpCodec& c : pt.codecs) {
        p.video_codecs.push_back({c.payload_type, rtc::VideoCodecFromName(c.encoding_name)});
      }
      // Simulcast layers in the answer's a=simulcast:recv order (the SDK
      // lists them low to high; the first alternative of each stream).
      if (a.simulcast && p.rid_extension_id != 0) {
        for (const auto& stream : a.simulcast->recv) {
          if (!stream.empty() && p.rids.size() < sfu::Worker::kMaxLayers) {
            p.rids.push_back(stream.front().id);
          }
        }
      }
    }
    // a=ssrc-group:FID media rtx, else the first a=ssrc (plain, non-simulcast
    // offers); simulcast layers are learnt from the MID/RID extensions.
    for (const rtc::SsrcGroup& g : o.ssrc_groups) {
      if (g.semantics == "FID" && g.ssrcs.size() == 2 && p.ssrc == 0) {
        p.ssrc = g.ssrcs[0];
        p.rtx_ssrc = g.ssrcs[1];
      }
    }
    if (p.ssrc == 0 && !o.ssrcs.empty() && !o.simulcast) p.ssrc = o.ssrcs.front().ssrc;
    pt.params = p;
    worker.AddProducer(std::move(p));
    Broadcast(*s.room, &s, EncodeEvent(TrackPublishedEvent{s.user_id, pt.info}));
    s.tracks.emplace(t.track_id, std::move(pt));
    s.room->publishers[s.user_id] = s.id;
  }
  *data = json{{"sdp", *text}};
  UpdateRoomSubscriptions(*s.room, &s);
  return Status::Ok();
}

void SignalServer::RemoveTrack(Session& s, const std::string& track_id, bool notify) {
  auto it = s.tracks.find(track_id);
  if (it == s.tracks.end()) return;
  RemoveRelays(s, it->second);
  WorkerOf(s).RemoveProducer(it->second.producer_id);  // its consumers go with it
  s.tracks.erase(it);
  if (s.tracks.empty() && s.room != nullptr) {
    if (auto p = s.room->publishers.find(s.user_id);
        p != s.room->publishers.end() && p->second == s.id) {
      s.room->publishers.erase(p);
    }
  }
  if (notify && s.room != nullptr) {
    Broadcast(*s.room, &s, EncodeEvent(TrackUnpublishedEvent{s.user_id, track_id}));
  }
}

Status SignalServer::HandleUnpublish(Session& s, const std::vector<std::string>& track_ids) {
  for (const std::string& id : track_ids) {
    if (!s.tracks.contains(id)) return Err(kUnknownTrack, "No published track `" + id + "`.");
  }
  for (const std::string& id : track_ids) RemoveTrack(s, id, true);
  UpdateRoomSubscriptions(*s.room, &s);
  return Status::Ok();
}

Status SignalServer::HandleMute(Session& s, const MuteRequest& m) {
  auto it = s.tracks.find(m.track_id);
  if (it == s.tracks.end()) return Err(kUnknownTrack, "No published track `" + m.track_id + "`.");
  if (it->second.info.muted == m.muted) return Status::Ok();
  it->second.info.muted = m.muted;
  it->second.params.paused = m.muted;
  // Relayed copies too: a resume reaches them through the relay (consumers
  // restart), but a copy's own pause state gates what it forwards.
  ForEachCopy(s, it->second,
              [&](sfu::Worker& w, uint64_t id) { w.SetProducerPaused(id, m.muted); });
  Broadcast(*s.room, &s, EncodeEvent(TrackMuteEvent{s.user_id, m.track_id, m.muted}));
  return Status::Ok();
}

namespace {

std::string VideoPrefKey(const std::string& user_id, TrackSource source) {
  return user_id + "/" + std::string(ToString(source));
}

int LayerOf(VideoQuality quality) {
  switch (quality) {
    case VideoQuality::kHigh:
      return sfu::Worker::kLayerHigh;
    case VideoQuality::kLow:
      return 0;
    case VideoQuality::kAuto:
      break;
  }
  return sfu::Worker::kLayerAuto;
}

}  // namespace

Status SignalServer::HandleVideoControl(Session& s, const std::string& user_id, TrackSource source,
                                        std::optional<VideoQuality> quality,
                                        std::optional<bool> paused) {
  if (s.room == nullptr || !s.room->members.contains(user_id) || user_id == s.user_id) {
    return Err(kUnknownUser, "No other user `" + user_id + "` in this room.");
  }
  const std::string key = VideoPrefKey(user_id, source);
  if (!s.video_prefs.contains(key) && s.video_prefs.size() >= kMaxVideoPrefs) {
    return Status::Error(std::string(kErrInvalidField), "Too many video controls.");
  }
  Session::VideoPref& pref = s.video_prefs[key];
  if (quality) pref.quality = *quality;
  if (paused) pref.paused = *paused;
  sfu::Worker& worker = SubWorkerOf(s);
  for (const SubSection& sec : s.sections) {
    if (!sec.active || sec.kind != TrackKind::kVideo || sec.user_id != user_id ||
        sec.source != source) {
      continue;
    }
    if (quality) worker.SetConsumerPreferredLayer(sec.consumer_id, LayerOf(*quality));
    if (paused) worker.SetConsumerPaused(sec.consumer_id, *paused);
  }
  return Status::Ok();
}

void SignalServer::UpdateRoomSubscriptions(Room& room, const Session* except) {
  std::vector<uint64_t> ids;
  for (const auto& [user_id, sid] : room.members) {
    if (except == nullptr || sid != except->id) ids.push_back(sid);
  }
  for (uint64_t sid : ids) {
    auto it = sessions_.find(sid);
    if (it != sessions_.end()) UpdateSubscriptions(*it->second);
  }
}

void SignalServer::UpdateSubscriptions(Session& s) {
  if (s.room == nullptr) return;
  // What this user should receive: every track of everybody else.
  struct Want {
    const Session* publisher;
    const std::string* track_id;
    PublishedTrack* track;
  };
  std::vector<Want> want;
  for (const auto& [user_id, sid] : s.room->publishers) {
    if (sid == s.id) continue;
    auto it = sessions_.find(sid);
    if (it == sessions_.end()) continue;
    for (auto& [track_id, t] : it->second->tracks) {
      // PrivateMapKey receive rights: tracks this user may not receive are not offered.
      if ((s.privileges & RecvBit(t.info.kind, t.info.source)) == 0) continue;
      want.push_back({it->second.get(), &track_id, &t});
    }
  }
  bool changed = false;
  for (SubSection& sec : s.sections) {
    if (!sec.active) continue;
    const bool still = std::ranges::any_of(
        want, [&](const Want& w) { return w.track->producer_id == sec.producer_id; });
    if (!still) {
      sec.active = false;
      SubWorkerOf(s).RemoveConsumer(sec.consumer_id);
      ReleaseRelay(s, sec);
      sec.relayed = false;
      changed = true;
    }
  }
  for (const Want& w : want) {
    const bool have = std::ranges::any_of(s.sections, [&](const SubSection& sec) {
      return sec.active && sec.producer_id == w.track->producer_id;
    });
    if (have) continue;
    SubSection* sec = nullptr;
    if (s.sections.size() < kMaxSubscribeSections) {
      sec = &s.sections.emplace_back();
      sec->mid = std::to_string(s.sections.size() - 1);
    } else {
      // Recycle a removed track's m-section of the same kind (RFC 8829 §5.2.2).
      for (SubSection& old : s.sections) {
        if (!old.active && old.kind == w.track->info.kind) {
          sec = &old;
          break;
        }
      }
      if (sec == nullptr) {
        LogWarn(kTag, "subscribe offer full", {{"user", MaskUserId(s.user_id)}});
        continue;
      }
    }
    if (s.sub_transport == 0) {
      s.sub_ice = rtc::IceCredentials::Generate();
      s.sub_transport = next_media_id_++;
      s.sub_worker = PlaceSubscribeTransport(s);
      by_transport_[s.sub_transport] = s.id;
      ++transports_per_worker_[s.sub_worker];
      ++s.room->sub_transports;
      SubWorkerOf(s).CreateTransport(s.sub_transport, s.sub_ice);
    }
    sfu::Worker& worker = SubWorkerOf(s);
    sec->publisher = w.publisher->id;
    sec->user_id = w.publisher->user_id;
    sec->track_id = *w.track_id;
    sec->kind = w.track->info.kind;
    sec->source = w.track->info.source;
    sec->producer_id = w.track->producer_id;
    sec->consumer_id = next_media_id_++;
    sec->ssrc = crypto::RandomNonZeroU32();
    sec->active = true;
    sec->codecs.clear();
    sfu::ConsumerParams cp;
    cp.consumer_id = sec->consumer_id;
    cp.transport_id = s.sub_transport;
    cp.producer_id = AcquireRelay(*w.publisher, *w.track, s.sub_worker);
    sec->relayed = cp.producer_id != sec->producer_id;
    cp.ssrc = sec->ssrc;
    cp.payload_map.fill(sfu::ConsumerParams::kNoPayloadType);
    // One payload type per codec for the whole subscribe connection (BUNDLE).
    auto payload_type_for = [&s](const std::string& key, bool opus) -> std::optional<uint8_t> {
      if (auto pt = s.payload_types.find(key); pt != s.payload_types.end()) return pt->second;
      uint8_t value = 0;
      if (opus && !s.payload_types.contains("#opus")) {
        value = kOpusPayloadType;
        s.payload_types["#opus"] = value;
      } else {
        while (s.next_payload_type == kOpusPayloadType) ++s.next_payload_type;
        if (s.next_payload_type > 127) return std::nullopt;  // out of dynamic payload types
        value = s.next_payload_type++;
      }
      s.payload_types.emplace(key, value);
      return value;
    };
    std::vector<rtc::RtpCodec> rtx_codecs;
    for (const rtc::RtpCodec& c : w.track->codecs) {
      const std::string key = CodecKey(c);
      const auto pt = payload_type_for(key, AsciiLower(c.encoding_name) == "opus");
      if (!pt) continue;
      rtc::RtpCodec out = c;
      out.payload_type = *pt;
      out.feedback.clear();
      // goog-remb: the subscriber's downlink estimate, which caps its
      // simulcast layer under `auto` (docs/MEDIA.md).
      // transport-cc: the subscriber reports what arrived when, and the
      // server estimates its downlink from that (docs/MEDIA.md).
      if (sec->kind == TrackKind::kVideo) {
        out.feedback = {"nack", "nack pli", "ccm fir", "goog-remb", "transport-cc"};
      } else {
        out.feedback = {"transport-cc"};
      }
      sec->codecs.push_back(std::move(out));
      if (c.payload_type < 128) cp.payload_map[c.payload_type] = *pt;
      if (sec->kind != TrackKind::kVideo) continue;
      // Repairs of this codec go out as RTX (RFC 4588) on their own SSRC.
      const auto rtx_pt = payload_type_for("rtx/" + key, false);
      if (!rtx_pt) continue;
      rtx_codecs.push_back(
          rtc::RtpCodec{*rtx_pt, "rtx", 90000, 0, "apt=" + std::to_string(*pt), {}});
      cp.rtx_payload_map[*pt] = *rtx_pt;
    }
    if (!rtx_codecs.empty()) {
      sec->rtx_ssrc = crypto::RandomNonZeroU32();
      cp.rtx_ssrc = sec->rtx_ssrc;
      for (rtc::RtpCodec& r : rtx_codecs) sec->codecs.push_back(std::move(r));
    } else {
      sec->rtx_ssrc = 0;
    }
    worker.AddConsumer(cp);
    if (sec->kind == TrackKind::kVideo) {
      auto pref = s.video_prefs.find(VideoPrefKey(sec->user_id, sec->source));
      if (pref != s.video_prefs.end()) {
        worker.SetConsumerPreferredLayer(cp.consumer_id, LayerOf(pref->second.quality));
        worker.SetConsumerPaused(cp.consumer_id, pref->second.paused);
      }
    }
    changed = true;
  }
  if (changed) SendSubscribeOffer(s);
}

void SignalServer::SendSubscribeOffer(Session& s) {
  if (s.sections.empty() || !s.conn) {
    s.reoffer = !s.sections.empty();
    return;
  }
  if (s.outstanding_offer != 0) {
    s.reoffer = true;  // one offer at a time; send the next when answered
    return;
  }
  s.reoffer = false;
  rtc::SubscribeOfferOptions options;
  SubscribeOfferEvent event;
  for (const SubSection& sec : s.sections) {
    rtc::SubscribeTrack t;
    t.mid = sec.mid;
    t.kind = std::string(KindName(sec.kind));
    t.codecs = sec.codecs;
    t.ssrc = sec.ssrc;
    if (sec.rtx_ssrc != 0) t.rtx_ssrc = sec.rtx_ssrc;
    t.extensions.push_back(
        rtc::Extmap{kSubscribeTransportCcId, std::nullopt, std::string(rtc::kExtTransportCc), ""});
    auto pub = sessions_.find(sec.publisher);
    t.cname = pub != sessions_.end() && !pub->second->cname.empty() ? pub->second->cname : "aegis";
    t.stream_id = sec.user_id;
    t.track_id = sec.track_id;
    t.active = sec.active;
    options.tracks.push_back(std::move(t));
    if (sec.active) {
      event.tracks.push_back(
          SubscribeOfferTrack{sec.mid, sec.user_id, sec.track_id, sec.kind, sec.source});
    }
  }
  auto offer =
      rtc::BuildSubscribeOffer(options, Local(s, s.sub_worker, s.sub_ice, ++s.sub_version));
  if (!offer.ok()) {
    LogError(kTag, "subscribe offer failed", {{"error", offer.status().ToString()}});
    return;
  }
  auto text = rtc::WriteSdp(*offer);
  if (!text.ok()) {
    LogError(kTag, "subscribe offer failed", {{"error", text.status().ToString()}});
    return;
  }
  event.offer_id = s.next_offer_id++;
  event.sdp = std::move(*text);
  s.outstanding_offer = event.offer_id;
  s.offered_sections = s.sections.size();
  Reply(s, EncodeEvent(event));
}

Status SignalServer::HandleSubscribe(Session& s, const SubscribeRequest& m) {
  if (s.outstanding_offer == 0 || m.offer_id != s.outstanding_offer) {
    return Err(kStaleOffer, "That offer is not the current one.");
  }
  auto answer = rtc::ParseSdp(m.sdp);
  if (!answer.ok()) return answer.status();
  if (answer->media.size() != s.offered_sections) {
    return Err(kSdpUnsupported, "The answer must have one m-section per offered m-section.");
  }
  for (const rtc::MediaSection& a : answer->media) {
    const auto setup = a.setup ? a.setup : answer->setup;
    if (a.port != 0 && setup && *setup != rtc::SetupRole::kActive) {
      return Err(kSdpUnsupported, "The answer must take the DTLS client role (a=setup:active).");
    }
  }
  std::string ufrag;
  rtc::Fingerprint fp;
  AEGIS_RETURN_IF_ERROR(RemoteTransportParams(*answer, &ufrag, &fp));
  SubWorkerOf(s).SetRemoteParameters(s.sub_transport, ufrag, fp.algorithm, fp.value);
  // Transport-wide sequence numbers only if the subscriber kept the extension.
  uint8_t twcc = 0;
  for (const rtc::MediaSection& a : answer->media) {
    for (const rtc::Extmap& e : a.extmaps) {
      if (e.uri == rtc::kExtTransportCc && e.id == kSubscribeTransportCcId) twcc = e.id;
    }
  }
  SubWorkerOf(s).SetTransportFeedback(s.sub_transport, twcc);
  s.sub_remote_set = true;
  s.outstanding_offer = 0;  // a pending re-offer follows the ok reply (Dispatch)
  return Status::Ok();
}

// ---- leaving ----

void SignalServer::Leave(Session& s, std::string_view reason, bool in_registry) {
  if (s.state == Session::State::kConnected || s.room == nullptr) return;
  Room& room = *s.room;
  const int64_t now_s = clock_.NowUnixMillis() / 1000;
  std::vector<std::string> tracks;
  for (const auto& [id, t] : s.tracks) tracks.push_back(id);
  for (const std::string& id : tracks) RemoveTrack(s, id, true);
  // Closing the subscribe transport removes its consumers; relays that fed
  // only them go too.
  for (const SubSection& sec : s.sections) {
    if (sec.active) ReleaseRelay(s, sec);
  }
  if (s.pub_transport != 0) {
    WorkerOf(s).CloseTransport(s.pub_transport);
    by_transport_.erase(s.pub_transport);
    --transports_per_worker_[room.worker];
    s.pub_transport = 0;
  }
  if (s.sub_transport != 0) {
    SubWorkerOf(s).CloseTransport(s.sub_transport);
    by_transport_.erase(s.sub_transport);
    --transports_per_worker_[s.sub_worker];
    --room.sub_transports;
    s.sub_transport = 0;
    s.sub_worker = 0;
  }
  s.sections.clear();
  s.outstanding_offer = 0;
  if (auto it = room.members.find(s.user_id); it != room.members.end() && it->second == s.id) {
    room.members.erase(it);
    if (s.role == Role::kAudience) --room.audience;
    room.speaker.Forget(s.user_id);
  }
  if (in_registry) registry_.RemoveUser(s.room_key, s.user_id);
  if (store::AppStore* app = AppStoreFor(s.sdkappid)) {
    const Status st = app->RecordSessionLeft(room.comm_id, s.user_id, now_s, reason);
    if (!st.ok()) LogWarn(kTag, "leave not recorded", {{"error", st.ToString()}});
  }
  const LeaveReason lr = reason == "left"      ? LeaveReason::kLeft
                         : reason == "timeout" ? LeaveReason::kTimeout
                                               : LeaveReason::kKicked;
  if (Visible(s)) Broadcast(room, &s, EncodeEvent(UserLeftEvent{s.user_id, lr}));
  if (s.role == Role::kAudience && !room.members.empty()) AudienceChanged(room, &s);
  if (auto it = by_user_.find({s.sdkappid, s.user_id});
      it != by_user_.end() && it->second == s.id) {
    by_user_.erase(it);
  }
  by_token_.erase(s.token);
  LogInfo(kTag, "user left",
          {{"room", s.room_key.ToString()},
           {"user", MaskUserId(s.user_id)},
           {"reason", std::string(reason)}});
  s.state = Session::State::kConnected;
  s.room = nullptr;
  s.tracks.clear();
  if (room.members.empty()) {
    if (store::AppStore* app = AppStoreFor(s.sdkappid)) {
      const Status st = app->RecordRoomDestroyed(room.comm_id, now_s);
      if (!st.ok()) LogWarn(kTag, "room end not recorded", {{"error", st.ToString()}});
    }
    LogInfo(kTag, "room destroyed", {{"room", room.key.ToString()}});
    rooms_.erase(room.key);  // `room` is dangling from here
    return;
  }
  // Only what the user published changes what the others receive.
  if (!tracks.empty()) UpdateRoomSubscriptions(room, nullptr);
}

void SignalServer::Kick(uint64_t session_id, KickReason kr, bool in_registry) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return;
  Session& s = *it->second;
  if (s.state == Session::State::kConnected) return;
  const std::string_view reason = ToString(kr);  // also the store's leave reason
  if (kr == KickReason::kRoomDismissed) Reply(s, EncodeEvent(RoomDismissedEvent{}));
  Reply(s, EncodeEvent(KickedEvent{kr}));
  Leave(s, reason, in_registry);
  if (s.conn) {
    CloseConn(*s.conn, net::kWsCloseNormal, std::string(reason));
  } else {
    DestroySession(session_id);
  }
}

void SignalServer::Shutdown() {
  std::vector<uint64_t> ids;
  for (const auto& [id, s] : sessions_) ids.push_back(id);
  for (uint64_t id : ids) {
    auto it = sessions_.find(id);
    if (it != sessions_.end()) Leave(*it->second, "server_shutdown", true);
  }
}

void SignalServer::OnTransportStateChanged(size_t worker, uint64_t transport_id,
                                           sfu::TransportState state, const std::string& reason) {
  post_([this, alive = alive_, worker, transport_id, state, reason] {
    if (!*alive) return;
    auto it = by_transport_.find(transport_id);
    if (it == by_transport_.end()) return;
    auto s = sessions_.find(it->second);
    if (s == sessions_.end()) return;
    const char* pc = s->second->pub_transport == transport_id ? "publish" : "subscribe";
    LogInfo(kTag, "media transport",
            {{"user", MaskUserId(s->second->user_id)},
             {"pc", pc},
             {"worker", std::to_string(worker)},
             {"state", sfu::TransportStateName(state)},
             {"detail", reason}});
  });
}

void SignalServer::OnAudioLevels(size_t worker, std::span<const sfu::AudioLevel> levels) {
  post_([this, alive = alive_, worker,
         copy = std::vector<sfu::AudioLevel>(levels.begin(), levels.end())] {
    if (*alive) HandleAudioLevels(worker, copy);
  });
}

void SignalServer::HandleAudioLevels(size_t worker, const std::vector<sfu::AudioLevel>& levels) {
  for (auto& entry : rooms_) {
    Room& room = *entry.second;
    if (room.worker != worker) continue;
    // One entry per user: the loudest of their audio tracks (mic, screen audio).
    std::vector<UserVolume> volumes;
    for (const auto& member : room.publishers) {
      auto sit = sessions_.find(member.second);
      if (sit == sessions_.end()) continue;
      int loudest = -1;
      for (const auto& track : sit->second->tracks) {
        if (track.second.info.kind != TrackKind::kAudio) continue;
        for (const sfu::AudioLevel& l : levels) {
          if (l.producer_id == track.second.producer_id) loudest = std::max<int>(loudest, l.volume);
        }
      }
      if (loudest >= 0) volumes.push_back(UserVolume{member.first, loudest});
    }
    // Empty intervals still count: they break an active-speaker streak.
    const std::string previous = room.speaker.active();
    const std::optional<std::string> speaker = room.speaker.Update(volumes);
    if (!volumes.empty()) Broadcast(room, nullptr, EncodeEvent(VolumeEvent{std::move(volumes)}));
    if (speaker) {
      SetCameraPriority(room, previous, sfu::ProducerParams::kPriorityNormal);
      SetCameraPriority(room, *speaker, sfu::ProducerParams::kPrioritySpeaker);
      Broadcast(room, nullptr, EncodeEvent(ActiveSpeakerEvent{*speaker}));
    }
  }
}

// The downlink allocation priority of a user's camera video (the active
// speaker's comes before the others').
void SignalServer::SetCameraPriority(Room& room, const std::string& user_id, uint8_t priority) {
  auto member = room.members.find(user_id);
  if (member == room.members.end()) return;
  auto sit = sessions_.find(member->second);
  if (sit == sessions_.end()) return;
  Session& s = *sit->second;
  for (auto& [id, track] : s.tracks) {
    if (track.info.kind == TrackKind::kVideo && track.info.source == TrackSource::kCamera) {
      track.params.priority = priority;
      ForEachCopy(s, track, [priority](sfu::Worker& w, uint64_t producer) {
        w.SetProducerPriority(producer, priority);
      });
    }
  }
}

}  // namespace aegis::signal
