#include "janus_client.h"

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "crypto/primitives.h"
#include "rtc/sdp/sdp.h"
#include "sdp_builder.h"

namespace aegis::bench {
namespace {

using json = nlohmann::json;

constexpr uint64_t kKeepaliveNs = 20'000'000'000ULL;  // session_timeout is 60 s
constexpr uint64_t kListRetryNs = 200'000'000ULL;
constexpr int kRoomExists = 427;  // JANUS_VIDEOROOM_ERROR_ROOM_EXISTS
constexpr int kNoSuchFeed = 428;  // JANUS_VIDEOROOM_ERROR_NO_SUCH_FEED

// Janus API over its WebSocket transport (docs: janus.conf.meetecho.com,
// "The Janus API" and "VideoRoom plugin"): every request carries a
// transaction; "ack" only acknowledges, the result is the "success" (sync)
// or the "event" (async) with the same transaction.
class JanusClient final : public BenchClient,
                          public WsClient::Listener,
                          public BenchPeer::Listener {
 public:
  JanusClient(const ClientEnvironment& env, ClientConfig config)
      : env_(env), config_(std::move(config)), ws_(*env.io, config_.ws, this) {}

  void Start() override {
    join_ns_ = MonotonicNs();
    ws_.Connect();
  }

  void Tick(uint64_t now_ns) override {
    if (publisher_) {
      publisher_->Tick(now_ns);
      peer_->Flush();
    }
  }

  void SlowTick(uint64_t now_ns) override {
    if (session_ != 0 && now_ns - last_keepalive_ns_ >= kKeepaliveNs) {
      last_keepalive_ns_ = now_ns;
      Send({{"janus", "keepalive"}}, nullptr);
    }
    if (waiting_for_feeds_ && now_ns - last_list_ns_ >= kListRetryNs) {
      last_list_ns_ = now_ns;
      ListFeeds();
    }
    if (receiver_) {
      receiver_->Tick(now_ns);
      peer_->Flush();
    }
    if (publisher_ && (++slow_ticks_ % 10) == 0) {
      publisher_->SendReports(now_ns);
      peer_->Flush();
    }
  }

  void StopMedia() override {
    if (publisher_) publisher_->Stop();
  }

  void Close() override {
    closing_ = true;
    if (session_ != 0 && ws_.open()) Send({{"janus", "destroy"}}, nullptr);
    if (peer_) peer_->Close();
    ws_.Close();
  }

  bool ready() const override {
    if (config_.role == ClientRole::kPublisher) return publisher_ && publisher_->running();
    return peer_ && peer_->connected();
  }
  bool failed() const override { return !error_.empty(); }
  const std::string& error() const override { return error_; }
  ClientRole role() const override { return config_.role; }
  uint32_t room_id() const override { return config_.room_id; }
  MediaPublisher* publisher() override { return publisher_.get(); }
  MediaReceiver* receiver() override { return receiver_.get(); }

  std::vector<std::pair<std::string, std::string>> SrtpProfiles() const override {
    std::vector<std::pair<std::string, std::string>> out;
    if (peer_ && peer_->srtp_profile()) {
      out.emplace_back(config_.role == ClientRole::kPublisher ? "publish" : "subscribe",
                       rtc::SrtpProfileName(*peer_->srtp_profile()));
    }
    return out;
  }

  BenchPeer::Counters PeerCounters() const override {
    return peer_ ? peer_->counters() : BenchPeer::Counters{};
  }

  // --- WsClient::Listener
  void OnWsOpen() override {
    Send({{"janus", "create"}}, [this](const json& r) {
      if (!r.contains("data") || !r["data"].contains("id")) return Fail("create: no session id");
      session_ = r["data"]["id"].get<uint64_t>();
      last_keepalive_ns_ = MonotonicNs();
      Send({{"janus", "attach"}, {"plugin", "janus.plugin.videoroom"}}, [this](const json& a) {
        if (!a.contains("data") || !a["data"].contains("id")) return Fail("attach: no handle id");
        handle_ = a["data"]["id"].get<uint64_t>();
        if (config_.role == ClientRole::kPublisher) {
          CreateRoom();
        } else {
          waiting_for_feeds_ = true;
          ListFeeds();
        }
      });
    });
  }

  void OnWsMessage(std::string text) override {
    json msg = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!msg.is_object() || !msg.contains("janus") || !msg["janus"].is_string()) {
      return Fail("Janus sent a message without a janus field");
    }
    const std::string kind = msg["janus"].get<std::string>();
    if (kind == "ack" || kind == "webrtcup" || kind == "media" || kind == "slowlink") return;
    if (kind == "hangup" || kind == "timeout" || kind == "detached") {
      if (!closing_) Fail("Janus " + kind + ": " + msg.value("reason", std::string()));
      return;
    }
    if (kind == "error") {
      const json& e = msg.contains("error") ? msg["error"] : json::object();
      return Fail("Janus error " + std::to_string(e.value("code", 0)) + ": " +
                  e.value("reason", std::string()));
    }
    if (!msg.contains("transaction") || !msg["transaction"].is_string()) return;  // unsolicited
    auto it = pending_.find(msg["transaction"].get<std::string>());
    if (it == pending_.end()) return;
    auto done = std::move(it->second);
    pending_.erase(it);
    if (done) done(msg);
  }

  void OnWsClosed(const std::string& reason) override {
    if (!closing_) Fail("Janus WebSocket closed: " + reason);
  }

  // --- BenchPeer::Listener
  void OnPeerConnected(BenchPeer& /*peer*/) override {
    if (publisher_) publisher_->Start(MonotonicNs());
  }
  void OnPeerFailed(BenchPeer& /*peer*/, const std::string& reason) override {
    Fail("media connection: " + reason);
  }
  void OnRtp(BenchPeer& /*peer*/, const rtc::RtpPacket& packet, uint64_t arrival_ns) override {
    if (receiver_) receiver_->OnRtp(packet, arrival_ns);
  }
  void OnRtcp(BenchPeer& /*peer*/, std::span<const uint8_t> compound) override {
    if (publisher_) publisher_->OnRtcp(compound);
  }

 private:
  void Fail(const std::string& why) {
    if (error_.empty()) error_ = why;
  }

  void Send(json msg, std::function<void(const json&)> done) {
    const std::string tx = "t" + std::to_string(next_tx_++);
    msg["transaction"] = tx;
    if (session_ != 0) msg["session_id"] = session_;
    if (handle_ != 0 && msg["janus"] == "message") msg["handle_id"] = handle_;
    if (done) pending_[tx] = std::move(done);
    ws_.Send(msg.dump());
  }

  // The plugin's answer: plugindata.data, or a failure naming the request.
  static const json* PluginData(const json& r) {
    if (!r.contains("plugindata") || !r["plugindata"].contains("data")) return nullptr;
    return &r["plugindata"]["data"];
  }

  void Message(json body, std::function<void(const json&, const json&)> done,
               std::optional<json> jsep = std::nullopt) {
    json msg = {{"janus", "message"}, {"body", std::move(body)}};
    if (jsep) msg["jsep"] = std::move(*jsep);
    Send(std::move(msg), [this, done = std::move(done)](const json& r) {
      const json* data = PluginData(r);
      if (data == nullptr) return Fail("VideoRoom reply without plugindata");
      done(*data, r.contains("jsep") ? r["jsep"] : json());
    });
  }

  void CreateRoom() {
    json body = {{"request", "create"},  {"room", config_.room_id},
                 {"publishers", 100},    {"videocodec", "vp8"},
                 {"audiocodec", "opus"}, {"bitrate", config_.media.video_kbps * 2000},
                 {"fir_freq", 0},        {"is_private", false}};
    Message(std::move(body), [this](const json& data, const json&) {
      if (data.contains("error_code") && data["error_code"].get<int>() != kRoomExists) {
        return Fail("create room: " + data.value("error", std::string()));
      }
      JoinAsPublisher();
    });
  }

  void JoinAsPublisher() {
    Message({{"request", "join"},
             {"ptype", "publisher"},
             {"room", config_.room_id},
             {"display", config_.user_id}},
            [this](const json& data, const json&) {
              if (data.value("videoroom", std::string()) != "joined") {
                return Fail("join as publisher: " + data.dump().substr(0, 200));
              }
              Publish();
            });
  }

  void Publish() {
    auto peer = BenchPeer::Create(*env_.io, env_.certificate, this, env_.media_ip);
    if (!peer.ok()) return Fail("socket: " + peer.status().ToString());
    peer_ = std::move(peer).value();
    PublishOfferParams p;
    p.transport = peer_->local_transport();
    p.cname = "bench-" + config_.user_id;
    p.stream_id = config_.user_id;
    const uint32_t audio_ssrc = crypto::RandomNonZeroU32();
    const uint32_t video_ssrc = crypto::RandomNonZeroU32();
    if (config_.media.audio) p.tracks.push_back(PublishTrack{"audio", "0", audio_ssrc, "mic"});
    if (config_.media.video) p.tracks.push_back(PublishTrack{"video", "1", video_ssrc, "cam"});
    auto text = rtc::WriteSdp(BuildPublishOffer(p));
    if (!text.ok()) return Fail("publish offer: " + text.status().ToString());
    publisher_ = std::make_unique<MediaPublisher>(
        peer_.get(), env_.metrics, config_.media,
        config_.media.audio ? config_.audio_stream : nullptr, audio_ssrc,
        config_.media.video ? config_.video_stream : nullptr, video_ssrc);
    Message(
        {{"request", "publish"}, {"audio", config_.media.audio}, {"video", config_.media.video}},
        [this](const json& data, const json& jsep) {
          if (data.contains("error_code")) {
            return Fail("publish: " + data.value("error", std::string()));
          }
          if (!jsep.is_object() || !jsep.contains("sdp")) return Fail("publish: no answer");
          auto answer = rtc::ParseSdp(jsep["sdp"].get<std::string>());
          if (!answer.ok()) return Fail("publish answer: " + answer.status().ToString());
          auto info = InspectRemoteDescription(*answer);
          if (!info.ok()) return Fail("publish answer: " + info.status().ToString());
          if (!info->udp_candidate) return Fail("publish answer has no UDP candidate");
          publisher_->set_payload_types(info->opus_payload_type, info->vp8_payload_type);
          // Janus answers a=setup:active: it is the DTLS client, we serve.
          const rtc::DtlsRole role = info->setup == rtc::SetupRole::kActive
                                         ? rtc::DtlsRole::kServer
                                         : rtc::DtlsRole::kClient;
          const Status s = peer_->Start(*info->udp_candidate, info->ice_ufrag, info->ice_pwd,
                                        info->fingerprint, role);
          if (!s.ok()) Fail("publish connection: " + s.ToString());
        },
        json{{"type", "offer"}, {"sdp", *text}, {"trickle", false}});
  }

  // Subscribers wait until every publisher of the room is publishing
  // (Janus refuses a feed before its webrtcup, error 428).
  void ListFeeds() {
    if (list_in_flight_) return;
    list_in_flight_ = true;
    Message({{"request", "listparticipants"}, {"room", config_.room_id}},
            [this](const json& data, const json&) {
              list_in_flight_ = false;
              if (!waiting_for_feeds_) return;
              if (!data.contains("participants")) return;  // room not created yet: retry
              json streams = json::array();
              for (const json& p : data["participants"]) {
                if (p.value("publisher", false) && p.contains("id")) {
                  streams.push_back({{"feed", p["id"]}});
                }
              }
              if (streams.size() < expected_publishers_) return;
              waiting_for_feeds_ = false;
              Subscribe(std::move(streams));
            });
  }

  void Subscribe(json streams) {
    Message({{"request", "join"},
             {"ptype", "subscriber"},
             {"room", config_.room_id},
             {"streams", std::move(streams)}},
            [this](const json& data, const json& jsep) {
              if (data.contains("error_code")) {
                if (data["error_code"] == kNoSuchFeed) {
                  waiting_for_feeds_ = true;  // published but not yet webrtcup: retry
                  return;
                }
                return Fail("subscribe: " + data.value("error", std::string()));
              }
              if (!jsep.is_object() || !jsep.contains("sdp")) return Fail("subscribe: no offer");
              Answer(jsep["sdp"].get<std::string>());
            });
  }

  void Answer(const std::string& sdp) {
    auto offer = rtc::ParseSdp(sdp);
    if (!offer.ok()) return Fail("subscribe offer: " + offer.status().ToString());
    auto info = InspectRemoteDescription(*offer);
    if (!info.ok()) return Fail("subscribe offer: " + info.status().ToString());
    if (!info->udp_candidate) return Fail("subscribe offer has no UDP candidate");
    auto peer = BenchPeer::Create(*env_.io, env_.certificate, this, env_.media_ip);
    if (!peer.ok()) return Fail("socket: " + peer.status().ToString());
    peer_ = std::move(peer).value();
    receiver_ = std::make_unique<MediaReceiver>(peer_.get(), env_.metrics, join_ns_);
    receiver_->set_payload_types(info->opus_payload_type, info->vp8_payload_type);
    auto answer = BuildSubscribeAnswer(*offer, peer_->local_transport(), 1);
    if (!answer.ok()) return Fail("subscribe answer: " + answer.status().ToString());
    auto text = rtc::WriteSdp(*answer);
    if (!text.ok()) return Fail("subscribe answer: " + text.status().ToString());
    Message(
        {{"request", "start"}, {"room", config_.room_id}},
        [this, remote = *info](const json& data, const json&) {
          if (data.contains("error_code")) {
            return Fail("start: " + data.value("error", std::string()));
          }
          const Status s = peer_->Start(*remote.udp_candidate, remote.ice_ufrag, remote.ice_pwd,
                                        remote.fingerprint, rtc::DtlsRole::kClient);
          if (!s.ok()) Fail("subscribe connection: " + s.ToString());
        },
        json{{"type", "answer"}, {"sdp", *text}, {"trickle", false}});
  }

 public:
  size_t expected_publishers_ = 1;

 private:
  // Passed by argument.
  ClientEnvironment env_;
  ClientConfig config_;
  // Allocated by this.
  WsClient ws_;
  std::unique_ptr<BenchPeer> peer_;  // one PeerConnection per Janus handle
  std::unique_ptr<MediaPublisher> publisher_;
  std::unique_ptr<MediaReceiver> receiver_;
  std::map<std::string, std::function<void(const json&)>> pending_;
  uint64_t next_tx_ = 1;
  uint64_t session_ = 0;
  uint64_t handle_ = 0;
  uint64_t join_ns_ = 0;
  uint64_t last_keepalive_ns_ = 0;
  uint64_t last_list_ns_ = 0;
  uint32_t slow_ticks_ = 0;
  bool waiting_for_feeds_ = false;
  bool list_in_flight_ = false;
  bool closing_ = false;
  std::string error_;
};

}  // namespace

std::unique_ptr<BenchClient> CreateJanusClient(const ClientEnvironment& env, ClientConfig config) {
  const size_t publishers = config.janus_publishers_per_room;
  auto client = std::make_unique<JanusClient>(env, std::move(config));
  client->expected_publishers_ = publishers;
  return client;
}

}  // namespace aegis::bench
