// ClientBase: what every BenchClient shares whatever server it talks to —
// the signalling WebSocket, the publish and subscribe peer connections, the
// MediaPublisher / MediaReceiver, the media timers, error keeping, and the
// offer/answer steps that are the same for Aegis and Janus (our publish
// offer, the answer to a server's subscribe offer, starting ICE/DTLS from a
// remote description). Subclasses (aegis_client.cc, janus_client.cc) speak
// their server's signalling protocol. One event-loop thread; not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bench_client.h"
#include "bench_peer.h"
#include "core/status.h"
#include "sdp_builder.h"
#include "ws_client.h"

namespace aegis::bench {

class ClientBase : public BenchClient, public WsClient::Listener, public BenchPeer::Listener {
 public:
  ClientBase(const ClientEnvironment& env, ClientConfig config);

  void Start() override;
  void Tick(uint64_t now_ns) override;
  void StopMedia() override;

  bool ready() const override;
  bool failed() const override { return !error_.empty(); }
  const std::string& error() const override { return error_; }
  ClientRole role() const override { return config_.role; }
  uint32_t room_id() const override { return config_.room_id; }
  MediaPublisher* publisher() override { return publisher_.get(); }
  MediaReceiver* receiver() override { return receiver_.get(); }
  std::vector<std::pair<std::string, std::string>> SrtpProfiles() const override;
  BenchPeer::Counters PeerCounters() const override;

  // BenchPeer::Listener: the publish peer feeds the publisher, the subscribe
  // peer the receiver.
  void OnPeerConnected(BenchPeer& peer) override;
  void OnPeerFailed(BenchPeer& peer, const std::string& reason) override;
  void OnRtp(BenchPeer& peer, const rtc::RtpPacket& packet, uint64_t arrival_ns) override;
  void OnRtcp(BenchPeer& peer, std::span<const uint8_t> compound) override;

 protected:
  struct PublishOffer {
    std::string sdp;
    std::vector<PublishTrack> tracks;  // as announced in the offer (mid, trackId)
  };
  struct SubscribeAnswer {
    std::string sdp;
    RemoteDescriptionInfo remote;
  };

  // Keeps the first error; the runner reports it.
  void Fail(const std::string& why);
  // Every slow tick: receiver reports and publisher sender reports.
  void TickMedia(uint64_t now_ns);
  // Closes both peer connections (the subclass closes its signalling first).
  void ClosePeers();

  // Creates the publish peer and the MediaPublisher; returns our offer.
  Result<PublishOffer> CreatePublishOffer();
  // Applies the server's answer to our publish offer and starts ICE/DTLS
  // (DTLS server when the answer says a=setup:active).
  Status StartPublish(const std::string& answer_sdp);
  // Answers a server's subscribe offer (creating the subscribe peer and the
  // MediaReceiver on the first one).
  Result<SubscribeAnswer> AnswerSubscribeOffer(const std::string& offer_sdp);
  // Starts ICE/DTLS (DTLS client) on the subscribe peer; once.
  Status StartSubscribe(const RemoteDescriptionInfo& remote);

  // Passed by argument.
  ClientEnvironment env_;
  ClientConfig config_;
  // Allocated by this.
  WsClient ws_;
  std::unique_ptr<BenchPeer> pub_peer_;
  std::unique_ptr<BenchPeer> sub_peer_;
  std::unique_ptr<MediaPublisher> publisher_;
  std::unique_ptr<MediaReceiver> receiver_;
  uint64_t join_ns_ = 0;
  uint32_t slow_ticks_ = 0;
  bool closing_ = false;
  std::string error_;
};

}  // namespace aegis::bench
