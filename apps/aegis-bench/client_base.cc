#include "client_base.h"

#include <algorithm>

#include "crypto/primitives.h"
#include "media.h"
#include "rtc/sdp/sdp.h"

namespace aegis::bench {
namespace {

// "<what>: <code>: <message>", keeping the code for the caller.
Status Prefixed(const Status& s, const char* what) {
  return Status::Error(s.code(), std::string(what) + s.ToString());
}

}  // namespace

ClientBase::ClientBase(const ClientEnvironment& env, ClientConfig config)
    : env_(env), config_(std::move(config)), ws_(*env.io, config_.ws, this) {}

void ClientBase::Start() {
  join_ns_ = MonotonicNs();
  ws_.Connect();
}

void ClientBase::Tick(uint64_t now_ns) {
  if (publisher_) {
    publisher_->Tick(now_ns);
    pub_peer_->Flush();
  }
}

void ClientBase::TickMedia(uint64_t now_ns) {
  if (receiver_) {
    receiver_->Tick(now_ns);
    sub_peer_->Flush();
  }
  if (publisher_ && (++slow_ticks_ % 10) == 0) {
    publisher_->SendReports(now_ns);
    pub_peer_->Flush();
  }
}

void ClientBase::StopMedia() {
  if (publisher_) publisher_->Stop();
}

void ClientBase::ClosePeers() {
  if (pub_peer_) pub_peer_->Close();
  if (sub_peer_) sub_peer_->Close();
}

bool ClientBase::ready() const {
  if (config_.role == ClientRole::kPublisher) return publisher_ && publisher_->running();
  return sub_peer_ && sub_peer_->connected();
}

std::vector<std::pair<std::string, std::string>> ClientBase::SrtpProfiles() const {
  std::vector<std::pair<std::string, std::string>> out;
  if (pub_peer_ && pub_peer_->srtp_profile()) {
    out.emplace_back("publish", rtc::SrtpProfileName(*pub_peer_->srtp_profile()));
  }
  if (sub_peer_ && sub_peer_->srtp_profile()) {
    out.emplace_back("subscribe", rtc::SrtpProfileName(*sub_peer_->srtp_profile()));
  }
  return out;
}

BenchPeer::Counters ClientBase::PeerCounters() const {
  BenchPeer::Counters sum;
  for (const BenchPeer* p : {pub_peer_.get(), sub_peer_.get()}) {
    if (p != nullptr) sum += p->counters();
  }
  return sum;
}

void ClientBase::OnPeerConnected(BenchPeer& peer) {
  if (&peer == pub_peer_.get() && publisher_) publisher_->Start(MonotonicNs());
}

void ClientBase::OnPeerFailed(BenchPeer& peer, const std::string& reason) {
  Fail(std::string(&peer == pub_peer_.get() ? "publish" : "subscribe") + " connection: " + reason);
}

void ClientBase::OnRtp(BenchPeer& peer, const rtc::RtpPacket& packet, uint64_t arrival_ns) {
  if (&peer == sub_peer_.get() && receiver_) receiver_->OnRtp(packet, arrival_ns);
}

void ClientBase::OnRtcp(BenchPeer& peer, std::span<const uint8_t> compound) {
  if (&peer == pub_peer_.get() && publisher_) publisher_->OnRtcp(compound);
}

void ClientBase::Fail(const std::string& why) {
  if (error_.empty()) error_ = why;
}

Result<ClientBase::PublishOffer> ClientBase::CreatePublishOffer() {
  auto peer =
      BenchPeer::Create(*env_.io, env_.certificate, this, env_.media_ip, env_.arrival_at_socket);
  if (!peer.ok()) return Prefixed(peer.status(), "publish socket: ");
  pub_peer_ = std::move(peer).value();
  PublishOfferParams p;
  p.transport = pub_peer_->local_transport();
  p.cname = "bench-" + config_.user_id;
  p.stream_id = config_.user_id;
  const uint32_t audio_ssrc = crypto::RandomNonZeroU32();
  StreamSendState* audio = config_.media.audio ? config_.audio_stream : nullptr;
  std::vector<MediaPublisher::VideoStream> video;
  if (config_.media.video) {
    const std::vector<std::string> rids = SimulcastRids(config_.media.simulcast_layers);
    for (size_t i = 0; i < config_.video_streams.size(); ++i) {
      video.push_back({config_.video_streams[i], crypto::RandomNonZeroU32(),
                       i < rids.size() ? rids[i] : std::string()});
    }
  }
  if (audio != nullptr) p.tracks.push_back(PublishTrack{"audio", "0", audio_ssrc, "mic", {}});
  if (!video.empty()) {
    std::vector<std::string> rids;
    for (const auto& v : video) {
      if (!v.rid.empty()) rids.push_back(v.rid);
    }
    p.tracks.push_back(PublishTrack{"video", "1", video.front().ssrc, "cam", std::move(rids)});
  }
  auto text = rtc::WriteSdp(BuildPublishOffer(p));
  if (!text.ok()) return Prefixed(text.status(), "publish offer: ");
  publisher_ = std::make_unique<MediaPublisher>(pub_peer_.get(), env_.metrics, config_.media, audio,
                                                audio_ssrc, std::move(video));
  return PublishOffer{std::move(text).value(), std::move(p.tracks)};
}

Status ClientBase::StartPublish(const std::string& answer_sdp) {
  auto answer = rtc::ParseSdp(answer_sdp);
  if (!answer.ok()) return Prefixed(answer.status(), "publish answer: ");
  auto info = InspectRemoteDescription(*answer);
  if (!info.ok()) return Prefixed(info.status(), "publish answer: ");
  if (!info->udp_candidate)
    return Status::Error("bench_sdp", "publish answer has no UDP candidate");
  if (config_.media.video && config_.media.simulcast_layers > 1) {
    const bool accepted = std::ranges::any_of(info->streams, [&](const RemoteStream& st) {
      return st.kind == "video" && st.simulcast_recv == config_.media.simulcast_layers;
    });
    if (!accepted) {
      return Status::Error("bench_sdp", "publish answer does not accept the " +
                                            std::to_string(config_.media.simulcast_layers) +
                                            " simulcast layers (a=simulcast:recv)");
    }
  }
  publisher_->set_payload_types(info->opus_payload_type, info->vp8_payload_type);
  // Janus answers a=setup:active: it is the DTLS client and we serve.
  const rtc::DtlsRole role =
      info->setup == rtc::SetupRole::kActive ? rtc::DtlsRole::kServer : rtc::DtlsRole::kClient;
  const Status s = pub_peer_->Start(*info->udp_candidate, info->ice_ufrag, info->ice_pwd,
                                    info->fingerprint, role);
  if (!s.ok()) return Prefixed(s, "publish connection: ");
  return Status::Ok();
}

Result<ClientBase::SubscribeAnswer> ClientBase::AnswerSubscribeOffer(const std::string& offer_sdp) {
  auto offer = rtc::ParseSdp(offer_sdp);
  if (!offer.ok()) return Prefixed(offer.status(), "subscribe offer: ");
  auto info = InspectRemoteDescription(*offer);
  if (!info.ok()) return Prefixed(info.status(), "subscribe offer: ");
  if (!info->udp_candidate)
    return Status::Error("bench_sdp", "subscribe offer has no UDP candidate");
  if (!sub_peer_) {
    auto peer =
        BenchPeer::Create(*env_.io, env_.certificate, this, env_.media_ip, env_.arrival_at_socket);
    if (!peer.ok()) return Prefixed(peer.status(), "subscribe socket: ");
    sub_peer_ = std::move(peer).value();
    receiver_ = std::make_unique<MediaReceiver>(sub_peer_.get(), env_.metrics, join_ns_);
  }
  receiver_->set_payload_types(info->opus_payload_type, info->vp8_payload_type);
  auto answer = BuildSubscribeAnswer(*offer, sub_peer_->local_transport(), 1);
  if (!answer.ok()) return Prefixed(answer.status(), "subscribe answer: ");
  auto text = rtc::WriteSdp(*answer);
  if (!text.ok()) return Prefixed(text.status(), "subscribe answer: ");
  return SubscribeAnswer{std::move(text).value(), std::move(info).value()};
}

Status ClientBase::StartSubscribe(const RemoteDescriptionInfo& remote) {
  if (sub_peer_->started()) return Status::Ok();
  const Status s = sub_peer_->Start(*remote.udp_candidate, remote.ice_ufrag, remote.ice_pwd,
                                    remote.fingerprint, rtc::DtlsRole::kClient);
  if (!s.ok()) return Prefixed(s, "subscribe connection: ");
  return Status::Ok();
}

}  // namespace aegis::bench
