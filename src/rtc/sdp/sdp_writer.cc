// SDP serialisation (declared in sdp.h). Janus CVE-2020-13901 was an overflow
// in an SDP writer: this one appends to std::string only, checks every field
// before writing it (FZ-10: no CR/LF/NUL can reach the output), and finally
// parses its own output back and compares, so a model that cannot be written
// faithfully is an error rather than a surprise at the peer.
#include <string>

#include "rtc/sdp/sdp.h"
#include "rtc/sdp/sdp_internal.h"

namespace aegis::rtc {
namespace {

using namespace sdp_internal;  // NOLINT(google-build-using-namespace)

class Writer {
 public:
  std::string out;

  const Status& status() const { return status_; }

  // A space-free word (token, address, id...).
  Writer& W(std::string_view v, std::string_view field) {
    if (status_.ok() && !IsWord(v)) {
      status_ = IsText(v)
                    ? Err(kMalformed, std::string(field) + " must be 1-255 bytes without spaces")
                    : Err(kIllegalChar, std::string(field) + " contains a control byte");
    }
    out += v;
    return *this;
  }
  // Free text (may contain spaces, may be empty).
  Writer& T(std::string_view v, std::string_view field) {
    if (status_.ok() && !IsText(v)) {
      status_ = Err(kIllegalChar, std::string(field) + " contains a control byte");
    }
    out += v;
    return *this;
  }
  Writer& S(std::string_view literal) {
    out += literal;
    return *this;
  }
  Writer& N(uint64_t v) {
    out += std::to_string(v);
    return *this;
  }
  void End() { out += "\r\n"; }

  void Fail(Status s) {
    if (status_.ok()) status_ = std::move(s);
  }

 private:
  Status status_;
};

void WriteCandidateBody(Writer& w, const IceCandidate& c) {
  w.S("candidate:").W(c.foundation, "candidate foundation").S(" ").N(c.component).S(" ");
  w.W(c.transport, "candidate transport").S(" ").N(c.priority).S(" ");
  w.W(c.address, "candidate address").S(" ").N(c.port).S(" typ ").W(c.type, "candidate type");
  if (!c.related_address.empty()) w.S(" raddr ").W(c.related_address, "candidate raddr");
  if (c.related_port) w.S(" rport ").N(*c.related_port);
  if (!c.tcp_type.empty()) w.S(" tcptype ").W(c.tcp_type, "candidate tcptype");
  for (const auto& [name, value] : c.extensions) {
    w.S(" ").W(name, "candidate extension").S(" ").W(value, "candidate extension value");
  }
}

void WriteIce(Writer& w, const IceParameters& ice) {
  if (!ice.ufrag.empty()) w.S("a=ice-ufrag:").W(ice.ufrag, "ice-ufrag").End();
  if (!ice.pwd.empty()) w.S("a=ice-pwd:").W(ice.pwd, "ice-pwd").End();
  if (!ice.options.empty()) {
    w.S("a=ice-options:");
    for (size_t i = 0; i < ice.options.size(); ++i) {
      w.S(i ? " " : "").W(ice.options[i], "ice-options");
    }
    w.End();
  }
}

void WriteSecurity(Writer& w, const std::vector<Fingerprint>& fps,
                   const std::optional<SetupRole>& setup) {
  for (const Fingerprint& f : fps) {
    w.S("a=fingerprint:").W(f.algorithm, "fingerprint hash").S(" ");
    w.W(f.value, "fingerprint").End();
  }
  if (setup) w.S("a=setup:").S(ToString(*setup)).End();
}

void WriteOthers(Writer& w, const std::vector<Attribute>& attrs) {
  for (const Attribute& a : attrs) {
    w.S("a=").W(a.name, "attribute name");
    if (a.value) w.S(":").T(*a.value, "attribute value");
    w.End();
  }
}

void WriteConnection(Writer& w, const Connection& c) {
  w.S("c=").W(c.net_type, "c= nettype").S(" ").W(c.addr_type, "c= addrtype").S(" ");
  w.W(c.address, "c= address").End();
}

void WriteSimulcastList(Writer& w, const SimulcastStreams& streams) {
  for (size_t i = 0; i < streams.size(); ++i) {
    if (i) w.S(";");
    for (size_t j = 0; j < streams[i].size(); ++j) {
      if (j) w.S(",");
      if (streams[i][j].paused) w.S("~");
      w.W(streams[i][j].id, "simulcast rid");
    }
  }
}

void WriteMedia(Writer& w, const MediaSection& m) {
  w.S("m=").W(m.kind, "m= media").S(" ").N(m.port).S(" ").W(m.proto, "m= proto");
  const bool rtp = m.IsRtp();
  if ((rtp ? m.codecs.size() : m.formats.size()) == 0) {
    w.Fail(Err(kMalformed, "m=" + m.kind + " section has no formats"));
  }
  if (rtp) {
    for (const RtpCodec& c : m.codecs) w.S(" ").N(c.payload_type);
  } else {
    for (const std::string& f : m.formats) w.S(" ").W(f, "m= format");
  }
  w.End();
  if (m.connection) WriteConnection(w, *m.connection);
  if (!m.mid.empty()) w.S("a=mid:").W(m.mid, "mid").End();
  WriteIce(w, m.ice);
  WriteSecurity(w, m.fingerprints, m.setup);
  if (m.direction) w.S("a=").S(ToString(*m.direction)).End();
  if (m.rtcp_mux) w.S("a=rtcp-mux").End();
  if (m.rtcp_rsize) w.S("a=rtcp-rsize").End();
  if (m.extmap_allow_mixed) w.S("a=extmap-allow-mixed").End();
  for (const Extmap& e : m.extmaps) {
    w.S("a=extmap:").N(e.id);
    if (e.direction) w.S("/").S(ToString(*e.direction));
    w.S(" ").W(e.uri, "extmap uri");
    if (!e.attributes.empty()) w.S(" ").T(e.attributes, "extmap attributes");
    w.End();
  }
  for (const Msid& ms : m.msids) {
    w.S("a=msid:").W(ms.stream_id, "msid stream id");
    if (!ms.track_id.empty()) w.S(" ").W(ms.track_id, "msid track id");
    w.End();
  }
  for (const RtpCodec& c : m.codecs) {
    if (!c.encoding_name.empty()) {
      w.S("a=rtpmap:").N(c.payload_type).S(" ").W(c.encoding_name, "rtpmap encoding");
      w.S("/").N(c.clock_rate);
      if (c.channels) w.S("/").N(c.channels);
      w.End();
    }
    for (const std::string& fb : c.feedback) {
      w.S("a=rtcp-fb:").N(c.payload_type).S(" ").T(fb, "rtcp-fb").End();
    }
    if (!c.fmtp.empty()) w.S("a=fmtp:").N(c.payload_type).S(" ").T(c.fmtp, "fmtp").End();
  }
  for (const std::string& fb : m.rtcp_fb_all) w.S("a=rtcp-fb:* ").T(fb, "rtcp-fb").End();
  for (const Rid& r : m.rids) {
    w.S("a=rid:").W(r.id, "rid").S(r.direction == RidDirection::kSend ? " send" : " recv");
    if (!r.params.empty()) w.S(" ").W(r.params, "rid params");
    w.End();
  }
  if (m.simulcast) {
    w.S("a=simulcast:");
    if (!m.simulcast->send.empty()) {
      w.S("send ");
      WriteSimulcastList(w, m.simulcast->send);
    }
    if (!m.simulcast->recv.empty()) {
      w.S(m.simulcast->send.empty() ? "recv " : " recv ");
      WriteSimulcastList(w, m.simulcast->recv);
    }
    w.End();
  }
  for (const SsrcGroup& g : m.ssrc_groups) {
    w.S("a=ssrc-group:").W(g.semantics, "ssrc-group semantics");
    for (uint32_t ssrc : g.ssrcs) w.S(" ").N(ssrc);
    w.End();
  }
  for (const SsrcAttribute& s : m.ssrcs) {
    w.S("a=ssrc:").N(s.ssrc).S(" ").W(s.attribute, "ssrc attribute");
    if (s.value) w.S(":").T(*s.value, "ssrc attribute value");
    w.End();
  }
  if (m.sctp_port) w.S("a=sctp-port:").N(*m.sctp_port).End();
  if (m.max_message_size) w.S("a=max-message-size:").N(*m.max_message_size).End();
  for (const IceCandidate& c : m.candidates) {
    w.S("a=");
    WriteCandidateBody(w, c);
    w.End();
  }
  if (m.end_of_candidates) w.S("a=end-of-candidates").End();
  WriteOthers(w, m.other_attributes);
}

}  // namespace

Result<std::string> WriteSdp(const SessionDescription& sdp) {
  Writer w;
  const Origin& o = sdp.origin;
  w.S("v=0\r\no=").W(o.username, "o= username").S(" ").N(o.session_id).S(" ");
  w.N(o.session_version).S(" ").W(o.net_type, "o= nettype").S(" ");
  w.W(o.addr_type, "o= addrtype").S(" ").W(o.address, "o= address").End();
  w.S("s=").T(sdp.session_name, "s= session name").End();
  if (sdp.connection) WriteConnection(w, *sdp.connection);
  w.S("t=").N(sdp.start_time).S(" ").N(sdp.stop_time).End();
  for (const Group& g : sdp.groups) {
    w.S("a=group:").W(g.semantics, "group semantics");
    for (const std::string& mid : g.mids) w.S(" ").W(mid, "group mid");
    w.End();
  }
  if (sdp.ice_lite) w.S("a=ice-lite").End();
  if (sdp.extmap_allow_mixed) w.S("a=extmap-allow-mixed").End();
  if (sdp.msid_semantic) {
    w.S("a=msid-semantic:").W(sdp.msid_semantic->semantic, "msid-semantic");
    for (const std::string& id : sdp.msid_semantic->ids) w.S(" ").W(id, "msid-semantic id");
    w.End();
  }
  WriteIce(w, sdp.ice);
  WriteSecurity(w, sdp.fingerprints, sdp.setup);
  WriteOthers(w, sdp.other_attributes);
  for (const MediaSection& m : sdp.media) {
    WriteMedia(w, m);
    if (!w.status().ok() || w.out.size() > kMaxSdpBytes) break;
  }
  if (!w.status().ok()) return w.status();
  if (w.out.size() > kMaxSdpBytes) {
    return Err(kTooLarge, "written SDP exceeds " + std::to_string(kMaxSdpBytes) + " bytes");
  }
  // Self-check: what we emit must mean exactly what the model says.
  Result<SessionDescription> reparsed = ParseSdp(w.out);
  if (!reparsed.ok()) {
    return Err(reparsed.status().code(),
               "model cannot be written faithfully: " + reparsed.status().message());
  }
  if (!(*reparsed == sdp)) {
    return Err(kMalformed, "model cannot be written faithfully (it does not survive a re-parse)");
  }
  return std::move(w.out);
}

Result<std::string> WriteCandidate(const IceCandidate& candidate) {
  Writer w;
  WriteCandidateBody(w, candidate);
  if (!w.status().ok()) return w.status();
  Result<IceCandidate> reparsed = ParseCandidate(w.out);
  if (!reparsed.ok()) {
    return Err(reparsed.status().code(),
               "candidate cannot be written faithfully: " + reparsed.status().message());
  }
  if (!(*reparsed == candidate)) {
    return Err(kMalformed, "candidate cannot be written faithfully");
  }
  return std::move(w.out);
}

}  // namespace aegis::rtc
