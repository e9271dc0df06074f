#include "janus_client.h"

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "client_base.h"

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
class JanusClient final : public ClientBase {
 public:
  JanusClient(const ClientEnvironment& env, ClientConfig config)
      : ClientBase(env, std::move(config)) {}

  void SlowTick(uint64_t now_ns) override {
    if (session_ != 0 && now_ns - last_keepalive_ns_ >= kKeepaliveNs) {
      last_keepalive_ns_ = now_ns;
      Send({{"janus", "keepalive"}}, nullptr);
    }
    if (waiting_for_feeds_ && now_ns - last_list_ns_ >= kListRetryNs) {
      last_list_ns_ = now_ns;
      ListFeeds();
    }
    TickMedia(now_ns);
  }

  void Close() override {
    closing_ = true;
    if (session_ != 0 && ws_.open()) Send({{"janus", "destroy"}}, nullptr);
    ClosePeers();
    ws_.Close();
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

 private:
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
    auto offer = CreatePublishOffer();
    if (!offer.ok()) return Fail(offer.status().message());
    Message(
        {{"request", "publish"}, {"audio", config_.media.audio}, {"video", config_.media.video}},
        [this](const json& data, const json& jsep) {
          if (data.contains("error_code")) {
            return Fail("publish: " + data.value("error", std::string()));
          }
          if (!jsep.is_object() || !jsep.contains("sdp")) return Fail("publish: no answer");
          const Status s = StartPublish(jsep["sdp"].get<std::string>());
          if (!s.ok()) Fail(s.message());
        },
        PublishJsep(offer->sdp));
  }

  // Our offer lists simulcast rids low to high; Janus assumes high to low
  // unless told (its jsep "rid_order").
  json PublishJsep(const std::string& sdp) const {
    json jsep = {{"type", "offer"}, {"sdp", sdp}, {"trickle", false}};
    if (config_.media.video && config_.media.simulcast_layers > 1) jsep["rid_order"] = "lmh";
    return jsep;
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
              if (streams.size() < config_.janus_publishers_per_room) return;
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
    auto answer = AnswerSubscribeOffer(sdp);
    if (!answer.ok()) return Fail(answer.status().message());
    Message(
        {{"request", "start"}, {"room", config_.room_id}},
        [this, remote = answer->remote](const json& data, const json&) {
          if (data.contains("error_code")) {
            return Fail("start: " + data.value("error", std::string()));
          }
          const Status s = StartSubscribe(remote);
          if (!s.ok()) Fail(s.message());
        },
        json{{"type", "answer"}, {"sdp", answer->sdp}, {"trickle", false}});
  }

  // Allocated by this.
  std::map<std::string, std::function<void(const json&)>> pending_;
  uint64_t next_tx_ = 1;
  uint64_t session_ = 0;
  uint64_t handle_ = 0;
  uint64_t last_keepalive_ns_ = 0;
  uint64_t last_list_ns_ = 0;
  bool waiting_for_feeds_ = false;
  bool list_in_flight_ = false;
};

}  // namespace

std::unique_ptr<BenchClient> CreateJanusClient(const ClientEnvironment& env, ClientConfig config) {
  return std::make_unique<JanusClient>(env, std::move(config));
}

}  // namespace aegis::bench
