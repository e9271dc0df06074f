// SignalServer: the `/signal` WebSocket endpoint (docs/SIGNALING.md) — the
// connection state machine (10 s to join, heartbeats, 20 s resume window),
// per-connection message rate caps and per-address connection caps, UserSig /
// PrivateMapKey checks at join, rooms (one room instance = one CommId,
// recorded in the application's store), duplicate-login and REST-driven kicks,
// and the negotiation of the two peer connections per user: it answers publish
// offers, keeps each subscriber's subscribe offer in step with the room, and
// drives the media workers (transports, producers, consumers) by posting to
// them. Live-streaming roles (R6): audience members cannot publish, may
// switch role live, and are hidden from other users unless `show_audience`.
// Everything runs on the HTTPS io thread (WebSocketHandler callbacks,
// RoomRegistry listener calls from the REST API on that thread, and worker
// events, which are re-posted there through `post`). Client input is untrusted.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/room_registry.h"
#include "core/clock.h"
#include "net/websocket.h"
#include "rtc/sdp/negotiation.h"
#include "sfu/worker.h"
#include "signal/messages.h"
#include "store/store.h"

namespace aegis::signal {

struct PublishedTrack;
struct SubSection;

struct SignalServerOptions {
  std::string announced_ip = "127.0.0.1";  // the UDP host candidate we announce
  int64_t unauthenticated_timeout_ms = 10'000;
  int64_t heartbeat_interval_ms = 5'000;
  int64_t session_timeout_ms = 20'000;  // silence before a user is dropped; resume window
  double max_messages_per_s = 20;       // sustained, per connection
  double max_message_burst = 60;        // beyond this the connection is closed (flood)
  size_t max_connections_per_ip = 32;
  size_t max_users_per_room = 50;
  int64_t usersig_clock_skew_s = 300;  // as usersig.clock_skew_s
  // room.show_audience: audience members appear in user lists and
  // user-joined/user-left events like anchors. Off (the live-streaming
  // default): only their number is shared (`audience-count`).
  bool show_audience = false;
  // room.max_message_bytes: the room message payload cap; the publish answer
  // advertises the matching SCTP a=max-message-size (sfu/room_message.h).
  size_t max_room_message_bytes = 16384;
  // media.fanout_min_subscribers (docs/MEDIA.md "Fan-out across workers"):
  // once a room has this many subscribe transports, a new one goes to the
  // worker with the fewest transports (the room's own on a tie), and the
  // producers it consumes are relayed there. 0: always the room's worker.
  size_t fanout_min_subscribers = 64;
};

class SignalServer final : public net::WebSocketHandler, public sfu::Worker::Listener {
 public:
  using PostFn = std::function<void(std::function<void()>)>;

  // Borrows everything (all must outlive the server). `post` runs a closure
  // on the HTTPS io thread.
  SignalServer(SignalServerOptions options, store::ControlStore& store, api::RoomRegistry& registry,
               const Clock& clock, PostFn post);
  // The media workers (non-empty), before the first connection; they take
  // this server as their Listener, so they are started after it.
  void SetWorkers(std::vector<sfu::Worker*> workers) {
    workers_ = std::move(workers);
    transports_per_worker_.assign(workers_.size(), 0);
  }
  ~SignalServer() override;
  SignalServer(const SignalServer&) = delete;
  SignalServer& operator=(const SignalServer&) = delete;

  // net::WebSocketHandler (io thread)
  void OnOpen(const std::shared_ptr<net::WebSocketConnection>& conn,
              const net::HttpRequest& upgrade) override;
  void OnText(const std::shared_ptr<net::WebSocketConnection>& conn,
              std::string_view text) override;
  void OnClose(const std::shared_ptr<net::WebSocketConnection>& conn) override;
  void OnTick() override;

  // sfu::Worker::Listener (worker thread; re-posted to the io thread)
  void OnTransportStateChanged(size_t worker, uint64_t transport_id, sfu::TransportState state,
                               const std::string& reason) override;
  // `volume` / `active-speaker` events to the rooms of `worker`.
  void OnAudioLevels(size_t worker, std::span<const sfu::AudioLevel> levels) override;

  // Records every joined user as left (reason server_shutdown) and every
  // room as ended. Call after the HTTPS server stopped (no more callbacks).
  void Shutdown();

  size_t session_count() const { return sessions_.size(); }

  struct Session;
  struct Room;

 private:
  class Kicker;

  Session* SessionOf(uint64_t conn_id);
  void Reply(Session& s, const std::string& text);
  void Dispatch(Session& s, std::string_view text);
  Status HandleJoin(Session& s, const JoinRequest& m);
  Status HandleResume(Session& s, const ResumeRequest& m);
  Status HandlePublish(Session& s, const PublishRequest& m, nlohmann::json* data);
  Status HandleUnpublish(Session& s, const std::vector<std::string>& track_ids);
  Status HandleSubscribe(Session& s, const SubscribeRequest& m);
  Status HandleMute(Session& s, const MuteRequest& m);
  Status HandleSwitchRole(Session& s, Role role);
  // set-video-quality / pause-video: the subscriber's controls for one user's
  // video (simulcast layer, paused), kept and applied to its consumer.
  Status HandleVideoControl(Session& s, const std::string& user_id, TrackSource source,
                            std::optional<VideoQuality> quality, std::optional<bool> paused);

  // Whether other users are told about `s` (user lists, joined/left events).
  bool Visible(const Session& s) const;
  // The room's audience count changed: everyone but `except` (a joiner, who
  // has it in its reply) hears of it now, unless the room was told less than
  // kAudienceCountIntervalMs ago; then OnTick sends the latest count once the
  // interval is over.
  void AudienceChanged(Room& room, const Session* except);
  void SendAudienceCount(Room& room, const Session* except, int64_t now_ms);
  void HandleAudioLevels(size_t worker, const std::vector<sfu::AudioLevel>& levels);
  void SetCameraPriority(Room& room, const std::string& user_id, uint8_t priority);

  nlohmann::json RoomStateJson(const Session& s) const;
  void Broadcast(const Room& room, const Session* except, const std::string& text);
  void RemoveTrack(Session& s, const std::string& track_id, bool notify);
  void UpdateSubscriptions(Session& s);
  void UpdateRoomSubscriptions(Room& room, const Session* except);
  void SendSubscribeOffer(Session& s);
  // Ends a joined session: tracks, transports, room membership, store.
  void Leave(Session& s, std::string_view reason, bool in_registry);
  void Kick(uint64_t session_id, KickReason reason, bool in_registry);
  void CloseConnection(Session& s, uint16_t code, const std::string& reason);
  void CloseConn(net::WebSocketConnection& conn, uint16_t code, const std::string& reason);
  void DestroySession(uint64_t session_id);
  store::AppStore* AppStoreFor(uint32_t sdkappid);
  // The room's (home) worker: publish transports, producers, data channels.
  sfu::Worker& WorkerOf(const Session& s);
  // The worker of the session's subscribe transport and its consumers.
  sfu::Worker& SubWorkerOf(const Session& s);
  // Where a new subscribe transport of `s` goes (fan-out rule above).
  size_t PlaceSubscribeTransport(const Session& s) const;
  // The consumer side of fan-out: the producer id to consume `track` by on
  // worker `target` (a relayed copy, created on first use, when `target` is
  // not the publisher's worker), and its release when that consumer goes.
  uint64_t AcquireRelay(const Session& publisher, PublishedTrack& track, size_t target);
  void ReleaseRelay(const Session& subscriber, const SubSection& sec);
  // Closes the relays of a producer that goes away.
  void RemoveRelays(const Session& publisher, PublishedTrack& track);
  // Runs `fn` for the producer and each relayed copy of it (mute, priority).
  void ForEachCopy(const Session& publisher, const PublishedTrack& track,
                   const std::function<void(sfu::Worker&, uint64_t)>& fn);
  rtc::LocalCapabilities Local(const Session& s, size_t worker, const rtc::IceCredentials& ice,
                               uint64_t version);

  // Passed by argument.
  SignalServerOptions options_;
  store::ControlStore& store_;
  api::RoomRegistry& registry_;
  std::vector<sfu::Worker*> workers_;
  const Clock& clock_;
  PostFn post_;
  // Allocated by this.
  std::unordered_map<uint64_t, std::unique_ptr<Session>> sessions_;  // by session id
  std::unordered_map<uint64_t, uint64_t> by_conn_;                   // connection → session
  std::unordered_map<std::string, uint64_t> by_token_;
  std::map<std::pair<uint32_t, std::string>, uint64_t> by_user_;  // (app, user) → session
  std::map<api::RoomKey, std::unique_ptr<Room>> rooms_;
  std::unordered_map<uint64_t, uint64_t> by_transport_;  // transport → session
  std::map<std::string, size_t> connections_per_ip_;
  std::map<uint32_t, std::unique_ptr<store::AppStore>> app_stores_;
  std::set<std::string> used_comm_ids_;
  std::vector<size_t> transports_per_worker_;  // ours, by worker index (placement)
  std::set<uint64_t> closing_;  // connections we closed; their late frames are ignored
  uint64_t next_session_id_ = 1;
  uint64_t next_media_id_ = 1;   // transports, producers, consumers
  std::shared_ptr<bool> alive_;  // guards closures posted by workers
};

}  // namespace aegis::signal
