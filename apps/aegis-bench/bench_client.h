// BenchClient: what the runner sees of one emulated user, whatever server it
// talks to (Aegis WSS protocol, Janus VideoRoom). A client owns its
// signalling connection and peer connections; publishers own a
// MediaPublisher, subscribers a MediaReceiver. Driven by the runner's timers
// on the single event-loop thread; not thread-safe.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "media_publisher.h"
#include "media_receiver.h"
#include "rtc/dtls/dtls_certificate.h"
#include "run_metrics.h"
#include "ws_client.h"

namespace aegis::bench {

enum class ClientRole : uint8_t { kPublisher, kSubscriber };

struct ClientConfig {
  ClientRole role = ClientRole::kSubscriber;
  std::string user_id;
  uint32_t room_id = 1;
  uint32_t sdkappid = 0;
  std::string app_key;  // secret: used to mint the UserSig, never logged
  MediaConfig media;
  WsClient::Options ws;
  // Publishers: their stream states (owned by the runner's registry): audio,
  // and video (one per simulcast layer, lowest first).
  StreamSendState* audio_stream = nullptr;
  std::vector<StreamSendState*> video_streams;
  // Janus subscribers: feeds to wait for before subscribing.
  size_t janus_publishers_per_room = 1;
};

struct ClientEnvironment {
  boost::asio::io_context* io = nullptr;
  const rtc::DtlsCertificate* certificate = nullptr;
  RunMetrics* metrics = nullptr;
  std::string media_ip = "127.0.0.1";  // local address of every UDP socket
  bool arrival_at_socket = true;       // RunConfig::arrival_at_socket
};

class BenchClient {
 public:
  virtual ~BenchClient() = default;

  virtual void Start() = 0;
  // Pacer (every few ms): publishers send what is due.
  virtual void Tick(uint64_t now_ns) = 0;
  // Every 100 ms: RTCP, PLI, heartbeats.
  virtual void SlowTick(uint64_t now_ns) = 0;
  virtual void StopMedia() = 0;
  virtual void Close() = 0;

  // Publishers: media flowing. Subscribers: subscribe connection up.
  virtual bool ready() const = 0;
  virtual bool failed() const = 0;
  virtual const std::string& error() const = 0;
  virtual ClientRole role() const = 0;
  virtual uint32_t room_id() const = 0;
  virtual MediaPublisher* publisher() = 0;
  virtual MediaReceiver* receiver() = 0;
  // "publish"/"subscribe" and the SRTP profile name, for each connected leg.
  virtual std::vector<std::pair<std::string, std::string>> SrtpProfiles() const = 0;
  // Peer counters summed over this client's connections.
  virtual BenchPeer::Counters PeerCounters() const = 0;
};

std::unique_ptr<BenchClient> CreateAegisClient(const ClientEnvironment& env, ClientConfig config);

}  // namespace aegis::bench
