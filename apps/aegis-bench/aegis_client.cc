// The Aegis signalling protocol side of a BenchClient (docs/SIGNALING.md):
// join with a UserSig minted from the application key, publish with our own
// offer, answer every subscribe-offer, heartbeat every 5 s.
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "auth/usersig.h"
#include "bench_client.h"
#include "client_base.h"

namespace aegis::bench {
namespace {

using json = nlohmann::json;

constexpr uint64_t kHeartbeatNs = 5'000'000'000ULL;

class AegisClient final : public ClientBase {
 public:
  AegisClient(const ClientEnvironment& env, ClientConfig config)
      : ClientBase(env, std::move(config)) {}

  void SlowTick(uint64_t now_ns) override {
    if (joined_ && now_ns - last_heartbeat_ns_ >= kHeartbeatNs) {
      last_heartbeat_ns_ = now_ns;
      Request({{"type", "heartbeat"}}, nullptr);
    }
    TickMedia(now_ns);
  }

  void Close() override {
    closing_ = true;
    if (joined_ && ws_.open()) Request({{"type", "leave"}}, nullptr);
    ClosePeers();
    ws_.Close();
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

 private:
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
    auto offer = CreatePublishOffer();
    if (!offer.ok()) return Fail(offer.status().message());
    json tracks = json::array();
    for (const PublishTrack& t : offer->tracks) {
      const bool audio = t.kind == "audio";
      tracks.push_back({{"trackId", t.track_id},
                        {"kind", t.kind},
                        {"source", audio ? "microphone" : "camera"},
                        {"mid", t.mid}});
    }
    Request({{"type", "publish"}, {"sdp", offer->sdp}, {"tracks", tracks}},
            [this](const json& data) { OnPublishAnswer(data); });
  }

  void OnPublishAnswer(const json& data) {
    if (!data.contains("sdp") || !data["sdp"].is_string()) return Fail("publish ok without sdp");
    const Status s = StartPublish(data["sdp"].get<std::string>());
    if (!s.ok()) Fail(s.message());
  }

  void OnSubscribeOffer(const json& msg) {
    if (!msg.contains("offerId") || !msg["offerId"].is_number_integer() || !msg.contains("sdp") ||
        !msg["sdp"].is_string()) {
      return Fail("subscribe-offer without offerId/sdp");
    }
    auto answer = AnswerSubscribeOffer(msg["sdp"].get<std::string>());
    if (!answer.ok()) return Fail(answer.status().message());
    Request({{"type", "subscribe"}, {"offerId", msg["offerId"]}, {"sdp", answer->sdp}},
            [this, remote = answer->remote](const json&) {
              const Status s = StartSubscribe(remote);
              if (!s.ok()) Fail(s.message());
            });
  }

  // Allocated by this.
  std::map<int64_t, std::function<void(const json&)>> pending_;
  int64_t next_id_ = 1;
  uint64_t last_heartbeat_ns_ = 0;
  bool joined_ = false;
};

}  // namespace

std::unique_ptr<BenchClient> CreateAegisClient(const ClientEnvironment& env, ClientConfig config) {
  return std::make_unique<AegisClient>(env, std::move(config));
}

}  // namespace aegis::bench
