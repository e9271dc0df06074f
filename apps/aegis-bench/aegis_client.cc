// The Aegis signalling protocol side of a BenchClient (docs/SIGNALING.md):
// join with a UserSig minted from the application key, publish with our own
// offer, answer every subscribe-offer, heartbeat every 5 s.
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "auth/usersig.h"
#include "bench_client.h"
#include "crypto/primitives.h"
#include "rtc/sdp/sdp.h"
#include "sdp_builder.h"

namespace aegis::bench {
namespace {

using json = nlohmann::json;

constexpr uint64_t kHeartbeatNs = 5'000'000'000ULL;

class AegisClient final : public BenchClient,
                          public WsClient::Listener,
                          public BenchPeer::Listener {
 public:
  AegisClient(const ClientEnvironment& env, ClientConfig config)
      : env_(env), config_(std::move(config)), ws_(*env.io, config_.ws, this) {}

  ~AegisClient() override = default;

  void Start() override {
    join_ns_ = MonotonicNs();
    ws_.Connect();
  }

  void Tick(uint64_t now_ns) override {
    if (publisher_) {
      publisher_->Tick(now_ns);
      pub_peer_->Flush();
    }
  }

  void SlowTick(uint64_t now_ns) override {
    if (joined_ && now_ns - last_heartbeat_ns_ >= kHeartbeatNs) {
      last_heartbeat_ns_ = now_ns;
      Request({{"type", "heartbeat"}}, nullptr);
    }
    if (receiver_) {
      receiver_->Tick(now_ns);
      sub_peer_->Flush();
    }
    if (publisher_ && (++slow_ticks_ % 10) == 0) {
      publisher_->SendReports(now_ns);
      pub_peer_->Flush();
    }
  }

  void StopMedia() override {
    if (publisher_) publisher_->Stop();
  }

  void Close() override {
    closing_ = true;
    if (joined_ && ws_.open()) Request({{"type", "leave"}}, nullptr);
    if (pub_peer_) pub_peer_->Close();
    if (sub_peer_) sub_peer_->Close();
    ws_.Close();
  }

  bool ready() const override {
    if (config_.role == ClientRole::kPublisher) return publisher_ && publisher_->running();
    return sub_peer_ && sub_peer_->connected();
  }
  bool failed() const override { return !error_.empty(); }
  const std::string& error() const override { return error_; }
  ClientRole role() const override { return config_.role; }
  uint32_t room_id() const override { return config_.room_id; }
  MediaPublisher* publisher() override { return publisher_.get(); }
  MediaReceiver* receiver() override { return receiver_.get(); }

  std::vector<std::pair<std::string, std::string>> SrtpProfiles() const override {
    std::vector<std::pair<std::string, std::string>> out;
    if (pub_peer_ && pub_peer_->srtp_profile()) {
      out.emplace_back("publish", rtc::SrtpProfileName(*pub_peer_->srtp_profile()));
    }
    if (sub_peer_ && sub_peer_->srtp_profile()) {
      out.emplace_back("subscribe", rtc::SrtpProfileName(*sub_peer_->srtp_profile()));
    }
    return out;
  }

  BenchPeer::Counters PeerCounters() const override {
    BenchPeer::Counters sum;
    for (const BenchPeer* p : {pub_peer_.get(), sub_peer_.get()}) {
      if (p == nullptr) continue;
      const auto& c = p->counters();
      sum.rtp_sent += c.rtp_sent;
      sum.rtp_bytes_sent += c.rtp_bytes_sent;
      sum.rtcp_sent += c.rtcp_sent;
      sum.rtp_received += c.rtp_received;
      sum.rtcp_received += c.rtcp_received;
      sum.srtp_errors += c.srtp_errors;
      sum.foreign += c.foreign;
      sum.ice_checks += c.ice_checks;
    }
    return sum;
  }

  // --- WsClient::Listener
  void OnWsOpen() override {
    auth::UserSigGenParams p;
    p.sdkappid = config_.sdkappid;
    p.key = config_.app_key;
    p.user_id = config_.user_id;
    p.expire = 86400;
    auto sig = auth::GenUserSig(p);
    if (!sig.ok()) return Fail("UserSig: " + sig.status().ToString());
    json join = {{"type", "join"},
                 {"sdkAppId", config_.sdkappid},
                 {"userId", config_.user_id},
                 {"userSig", *sig},
                 {"roomId", config_.room_id},
                 {"role", config_.role == ClientRole::kPublisher ? "anchor" : "audience"},
                 {"sdkVersion", "aegis-bench"}};
    Request(std::move(join), [this](const json& data) { OnJoined(data); });
  }

  void OnWsMessage(std::string text) override {
    json msg = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!msg.is_object() || !msg.contains("type") || !msg["type"].is_string()) {
      return Fail("server sent a message that is not a JSON object with a type");
    }
    const std::string type = msg["type"].get<std::string>();
    if (type == "ok" || type == "error") {
      if (!msg.contains("id") || !msg["id"].is_number_integer()) {
        return Fail("server " + type + " without our id: " + text.substr(0, 200));
      }
      const int64_t id = msg["id"].get<int64_t>();
      auto it = pending_.find(id);
      if (it == pending_.end()) return;
      auto done = std::move(it->second);
      pending_.erase(it);
      if (type == "error") {
        return Fail("request " + std::to_string(id) +
                    " refused: " + msg.value("code", std::string("?")) + " " +
                    msg.value("message", std::string()));
      }
      if (done) done(msg.contains("data") ? msg["data"] : json::object());
      return;
    }
    if (type == "subscribe-offer") return OnSubscribeOffer(msg);
    if (type == "kicked" || type == "room-dismissed") return Fail("server event " + type);
    // user-joined, track-published, ...: nothing to do.
  }

  void OnWsClosed(const std::string& reason) override {
    if (!closing_) Fail("signalling closed: " + reason);
  }

  // --- BenchPeer::Listener
  void OnPeerConnected(BenchPeer& peer) override {
    if (&peer == pub_peer_.get() && publisher_) publisher_->Start(MonotonicNs());
  }
  void OnPeerFailed(BenchPeer& peer, const std::string& reason) override {
    Fail(std::string(&peer == pub_peer_.get() ? "publish" : "subscribe") +
         " connection: " + reason);
  }
  void OnRtp(BenchPeer& peer, const rtc::RtpPacket& packet, uint64_t arrival_ns) override {
    if (&peer == sub_peer_.get() && receiver_) receiver_->OnRtp(packet, arrival_ns);
  }
  void OnRtcp(BenchPeer& peer, std::span<const uint8_t> compound) override {
    if (&peer == pub_peer_.get() && publisher_) publisher_->OnRtcp(compound);
  }

 private:
  void Fail(const std::string& why) {
    if (error_.empty()) error_ = why;
  }

  void Request(json msg, std::function<void(const json&)> done) {
    const int64_t id = next_id_++;
    msg["id"] = id;
    pending_[id] = std::move(done);
    ws_.Send(msg.dump());
  }

  void OnJoined(const json& /*data*/) {
    joined_ = true;
    last_heartbeat_ns_ = MonotonicNs();
    if (config_.role != ClientRole::kPublisher) return;
    auto peer = BenchPeer::Create(*env_.io, env_.certificate, this, env_.media_ip);
    if (!peer.ok()) return Fail("publish socket: " + peer.status().ToString());
    pub_peer_ = std::move(peer).value();
    PublishOfferParams p;
    p.transport = pub_peer_->local_transport();
    p.cname = "bench-" + config_.user_id;
    p.stream_id = config_.user_id;
    json tracks = json::array();
    const uint32_t audio_ssrc = crypto::RandomNonZeroU32();
    const uint32_t video_ssrc = crypto::RandomNonZeroU32();
    if (config_.media.audio && config_.audio_stream != nullptr) {
      p.tracks.push_back(PublishTrack{"audio", "0", audio_ssrc, "mic"});
      tracks.push_back(
          {{"trackId", "mic"}, {"kind", "audio"}, {"source", "microphone"}, {"mid", "0"}});
    }
    if (config_.media.video && config_.video_stream != nullptr) {
      p.tracks.push_back(PublishTrack{"video", "1", video_ssrc, "cam"});
      tracks.push_back({{"trackId", "cam"}, {"kind", "video"}, {"source", "camera"}, {"mid", "1"}});
    }
    auto text = rtc::WriteSdp(BuildPublishOffer(p));
    if (!text.ok()) return Fail("publish offer: " + text.status().ToString());
    publisher_ = std::make_unique<MediaPublisher>(
        pub_peer_.get(), env_.metrics, config_.media,
        config_.media.audio ? config_.audio_stream : nullptr, audio_ssrc,
        config_.media.video ? config_.video_stream : nullptr, video_ssrc);
    Request({{"type", "publish"}, {"sdp", *text}, {"tracks", tracks}},
            [this](const json& data) { OnPublishAnswer(data); });
  }

  void OnPublishAnswer(const json& data) {
    if (!data.contains("sdp") || !data["sdp"].is_string()) return Fail("publish ok without sdp");
    auto answer = rtc::ParseSdp(data["sdp"].get<std::string>());
    if (!answer.ok()) return Fail("publish answer: " + answer.status().ToString());
    auto info = InspectRemoteDescription(*answer);
    if (!info.ok()) return Fail("publish answer: " + info.status().ToString());
    if (!info->udp_candidate) return Fail("publish answer has no UDP candidate");
    publisher_->set_payload_types(info->opus_payload_type, info->vp8_payload_type);
    const rtc::DtlsRole role =
        info->setup == rtc::SetupRole::kActive ? rtc::DtlsRole::kServer : rtc::DtlsRole::kClient;
    const Status s = pub_peer_->Start(*info->udp_candidate, info->ice_ufrag, info->ice_pwd,
                                      info->fingerprint, role);
    if (!s.ok()) Fail("publish connection: " + s.ToString());
  }

  void OnSubscribeOffer(const json& msg) {
    if (!msg.contains("offerId") || !msg["offerId"].is_number_integer() || !msg.contains("sdp") ||
        !msg["sdp"].is_string()) {
      return Fail("subscribe-offer without offerId/sdp");
    }
    auto offer = rtc::ParseSdp(msg["sdp"].get<std::string>());
    if (!offer.ok()) return Fail("subscribe offer: " + offer.status().ToString());
    auto info = InspectRemoteDescription(*offer);
    if (!info.ok()) return Fail("subscribe offer: " + info.status().ToString());
    if (!sub_peer_) {
      auto peer = BenchPeer::Create(*env_.io, env_.certificate, this, env_.media_ip);
      if (!peer.ok()) return Fail("subscribe socket: " + peer.status().ToString());
      sub_peer_ = std::move(peer).value();
      receiver_ = std::make_unique<MediaReceiver>(sub_peer_.get(), env_.metrics, join_ns_);
    }
    receiver_->set_payload_types(info->opus_payload_type, info->vp8_payload_type);
    auto answer = BuildSubscribeAnswer(*offer, sub_peer_->local_transport(), 1);
    if (!answer.ok()) return Fail("subscribe answer: " + answer.status().ToString());
    auto text = rtc::WriteSdp(*answer);
    if (!text.ok()) return Fail("subscribe answer: " + text.status().ToString());
    Request({{"type", "subscribe"}, {"offerId", msg["offerId"]}, {"sdp", *text}},
            [this, remote = *info](const json&) {
              if (sub_peer_->started()) return;
              if (!remote.udp_candidate) return Fail("subscribe offer has no UDP candidate");
              const Status s =
                  sub_peer_->Start(*remote.udp_candidate, remote.ice_ufrag, remote.ice_pwd,
                                   remote.fingerprint, rtc::DtlsRole::kClient);
              if (!s.ok()) Fail("subscribe connection: " + s.ToString());
            });
  }

  // Passed by argument.
  ClientEnvironment env_;
  ClientConfig config_;
  // Allocated by this.
  WsClient ws_;
  std::unique_ptr<BenchPeer> pub_peer_;
  std::unique_ptr<BenchPeer> sub_peer_;
  std::unique_ptr<MediaPublisher> publisher_;
  std::unique_ptr<MediaReceiver> receiver_;
  std::map<int64_t, std::function<void(const json&)>> pending_;
  int64_t next_id_ = 1;
  uint64_t join_ns_ = 0;
  uint64_t last_heartbeat_ns_ = 0;
  uint32_t slow_ticks_ = 0;
  bool joined_ = false;
  bool closing_ = false;
  std::string error_;
};

}  // namespace

std::unique_ptr<BenchClient> CreateAegisClient(const ClientEnvironment& env, ClientConfig config) {
  return std::make_unique<AegisClient>(env, std::move(config));
}

}  // namespace aegis::bench
