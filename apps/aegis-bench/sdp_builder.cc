#include "sdp_builder.h"

#include <algorithm>

#include "rtc/sdp/negotiation.h"

namespace aegis::bench {
namespace {

constexpr const char* kProto = "UDP/TLS/RTP/SAVPF";

void FillTransport(const LocalTransport& t, rtc::SetupRole setup, rtc::MediaSection* m) {
  m->connection = rtc::Connection{};
  m->ice.ufrag = t.ice_ufrag;
  m->ice.pwd = t.ice_pwd;
  m->fingerprints = {rtc::Fingerprint{"sha-256", t.fingerprint}};
  m->setup = setup;
  m->rtcp_mux = true;
}

rtc::IceCandidate HostCandidate(const LocalTransport& t) {
  rtc::IceCandidate c;
  c.foundation = "1";
  c.component = 1;
  c.transport = "udp";
  c.priority = 2130706431;
  c.address = t.address;
  c.port = t.port;
  c.type = "host";
  return c;
}

}  // namespace

rtc::SessionDescription BuildPublishOffer(const PublishOfferParams& params) {
  rtc::SessionDescription s;
  s.origin.session_id = params.session_id;
  s.origin.session_version = 2;
  s.origin.address = "127.0.0.1";
  s.msid_semantic = rtc::MsidSemantic{"WMS", {params.stream_id}};
  rtc::Group bundle{"BUNDLE", {}};
  for (const PublishTrack& t : params.tracks) {
    rtc::MediaSection m;
    m.kind = t.kind;
    m.proto = kProto;
    m.mid = t.mid;
    FillTransport(params.transport, rtc::SetupRole::kActPass, &m);
    m.rtcp_rsize = true;
    m.direction = rtc::MediaDirection::kSendOnly;
    rtc::RtpCodec c;
    if (t.kind == "audio") {
      c.payload_type = kOpusPayloadType;
      c.encoding_name = "opus";
      c.clock_rate = 48000;
      c.channels = 2;
      c.fmtp = "minptime=10;useinbandfec=1";
      c.feedback = {"transport-cc"};
    } else {
      c.payload_type = kVp8PayloadType;
      c.encoding_name = "VP8";
      c.clock_rate = 90000;
      c.feedback = {"goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"};
    }
    m.codecs.push_back(std::move(c));
    m.extmaps.push_back(rtc::Extmap{kMidExtensionId, std::nullopt, std::string(rtc::kExtMid), ""});
    m.msids.push_back(rtc::Msid{params.stream_id, t.track_id});
    if (t.rids.empty()) {
      m.ssrcs.push_back(rtc::SsrcAttribute{t.ssrc, "cname", params.cname});
      m.ssrcs.push_back(rtc::SsrcAttribute{t.ssrc, "msid", params.stream_id + " " + t.track_id});
    } else {
      m.extmaps.push_back(
          rtc::Extmap{kRidExtensionId, std::nullopt, std::string(rtc::kExtRid), ""});
      rtc::Simulcast sim;
      for (const std::string& rid : t.rids) {
        m.rids.push_back(rtc::Rid{rid, rtc::RidDirection::kSend, ""});
        sim.send.push_back({rtc::SimulcastRid{rid, false}});
      }
      m.simulcast = std::move(sim);
    }
    if (params.transport.port != 0) m.candidates.push_back(HostCandidate(params.transport));
    m.end_of_candidates = params.transport.port != 0;
    bundle.mids.push_back(t.mid);
    s.media.push_back(std::move(m));
  }
  s.groups.push_back(std::move(bundle));
  return s;
}

Result<RemoteDescriptionInfo> InspectRemoteDescription(const rtc::SessionDescription& sdp) {
  RemoteDescriptionInfo info;
  info.ice_lite = sdp.ice_lite;
  info.setup = sdp.setup;
  uint32_t best_priority = 0;
  for (const rtc::MediaSection& m : sdp.media) {
    const rtc::IceParameters& ice = m.ice.ufrag.empty() ? sdp.ice : m.ice;
    const auto& fps = m.fingerprints.empty() ? sdp.fingerprints : m.fingerprints;
    if (info.ice_ufrag.empty() && !ice.ufrag.empty() && m.port != 0) {
      info.ice_ufrag = ice.ufrag;
      info.ice_pwd = ice.pwd;
    }
    if (info.fingerprint.value.empty()) {
      for (const rtc::Fingerprint& f : fps) {
        if (f.algorithm == "sha-256") info.fingerprint = f;
      }
    }
    if (!info.setup && m.setup) info.setup = m.setup;
    for (const rtc::IceCandidate& c : m.candidates) {
      if (c.transport != "udp" && c.transport != "UDP") continue;
      auto ep = rtc::Endpoint::Parse(c.address, c.port);
      if (ep && (!info.udp_candidate || c.priority > best_priority)) {
        info.udp_candidate = ep;
        best_priority = c.priority;
      }
    }
    if (m.kind != "audio" && m.kind != "video") continue;
    RemoteStream st;
    st.mid = m.mid;
    st.kind = m.kind;
    const rtc::MediaDirection dir = m.direction.value_or(rtc::MediaDirection::kSendRecv);
    st.active = m.port != 0 && dir != rtc::MediaDirection::kInactive;
    for (const rtc::RtpCodec& c : m.codecs) {
      if (c.encoding_name == "VP8" || c.encoding_name == "vp8")
        info.vp8_payload_type = c.payload_type;
      if (c.encoding_name == "opus") info.opus_payload_type = c.payload_type;
      if (st.clock_rate == 0 && c.clock_rate != 0) st.clock_rate = c.clock_rate;
    }
    if (st.clock_rate == 0) st.clock_rate = m.kind == "audio" ? 48000 : 90000;
    if (!m.ssrcs.empty()) st.ssrc = m.ssrcs.front().ssrc;
    for (const rtc::SsrcGroup& g : m.ssrc_groups) {
      if (g.semantics == "FID" && !g.ssrcs.empty()) st.ssrc = g.ssrcs.front();
    }
    if (m.simulcast) st.simulcast_recv = m.simulcast->recv.size();
    if (!m.msids.empty()) {
      st.msid_stream = m.msids.front().stream_id;
      st.msid_track = m.msids.front().track_id;
    }
    info.streams.push_back(std::move(st));
  }
  if (info.ice_ufrag.empty() || info.ice_pwd.empty()) {
    return Status::Error("sdp_unsupported", "remote description has no ICE credentials");
  }
  if (info.fingerprint.value.empty()) {
    return Status::Error("sdp_unsupported", "remote description has no sha-256 fingerprint");
  }
  return info;
}

Result<rtc::SessionDescription> BuildSubscribeAnswer(const rtc::SessionDescription& offer,
                                                     const LocalTransport& transport,
                                                     uint64_t session_id) {
  if (offer.media.empty()) return Status::Error("sdp_unsupported", "offer has no m-sections");
  rtc::SessionDescription a;
  a.origin.session_id = session_id;
  a.origin.session_version = 2;
  a.origin.address = "127.0.0.1";
  a.msid_semantic = rtc::MsidSemantic{"WMS", {}};
  rtc::Group bundle{"BUNDLE", {}};
  for (const rtc::MediaSection& o : offer.media) {
    rtc::MediaSection m;
    m.kind = o.kind;
    m.proto = o.proto;
    m.mid = o.mid;
    const bool media = o.kind == "audio" || o.kind == "video";
    if (!media || o.port == 0) {
      // Not ours to receive (data channel, or already rejected): reject.
      m.port = 0;
      m.connection = rtc::Connection{};
      if (o.IsRtp()) {
        m.codecs = o.codecs.empty() ? std::vector<rtc::RtpCodec>{} : std::vector{o.codecs.front()};
      } else {
        m.formats = o.formats;
      }
      a.media.push_back(std::move(m));
      continue;
    }
    FillTransport(transport, rtc::SetupRole::kActive, &m);
    m.rtcp_rsize = o.rtcp_rsize;
    const rtc::MediaDirection dir = o.direction.value_or(rtc::MediaDirection::kSendRecv);
    m.direction = dir == rtc::MediaDirection::kSendOnly || dir == rtc::MediaDirection::kSendRecv
                      ? rtc::MediaDirection::kRecvOnly
                      : rtc::MediaDirection::kInactive;
    m.codecs = o.codecs;
    for (const rtc::Extmap& e : o.extmaps) {
      m.extmaps.push_back(rtc::Extmap{e.id, std::nullopt, e.uri, ""});
    }
    bundle.mids.push_back(m.mid);
    a.media.push_back(std::move(m));
  }
  if (bundle.mids.empty()) return Status::Error("sdp_unsupported", "no receivable m-section");
  a.groups.push_back(std::move(bundle));
  return a;
}

}  // namespace aegis::bench
