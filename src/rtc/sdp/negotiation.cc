#include "rtc/sdp/negotiation.h"

#include <algorithm>
#include <array>
#include <set>
#include <string>

#include "rtc/sdp/sdp_internal.h"

namespace aegis::rtc {
namespace {

using namespace sdp_internal;  // NOLINT(google-build-using-namespace)

constexpr std::string_view kDtlsSrtpProto = "UDP/TLS/RTP/SAVPF";
constexpr std::string_view kSctpProto = "UDP/DTLS/SCTP";
constexpr std::string_view kDataFormat = "webrtc-datachannel";
// H.264 profile-level-ids we accept: constrained baseline 3.1 (42e01f),
// baseline 3.1 (42001f) and constrained high 3.1 (640c1f).
constexpr std::array<std::string_view, 3> kH264Profiles = {"42e01f", "42001f", "640c1f"};
constexpr std::array<std::string_view, 5> kFeedback = {"nack", "nack pli", "ccm fir", "goog-remb",
                                                       "transport-cc"};

std::string Where(size_t index, const MediaSection& m) {
  std::string s = "m-section " + std::to_string(index);
  if (!m.mid.empty()) s += " (mid " + Quote(m.mid) + ")";
  return s;
}

// Our own inputs: bad ones are caller bugs or injection attempts (FZ-10).
Status CheckWord(std::string_view v, std::string_view field) {
  if (!IsText(v))
    return Err(kIllegalChar, std::string(field) + " contains CR, LF, NUL or another control byte");
  if (!IsWord(v))
    return Err(kInvalidArgument, std::string(field) + " must be 1-255 bytes without spaces");
  return Status::Ok();
}

Status CheckLocal(const LocalCapabilities& local) {
  AEGIS_RETURN_IF_ERROR(CheckWord(local.ice_ufrag, "local ice ufrag"));
  AEGIS_RETURN_IF_ERROR(CheckWord(local.ice_pwd, "local ice pwd"));
  if (local.ice_ufrag.size() < 4 || !AllOf(local.ice_ufrag, IsIceChar) ||
      local.ice_pwd.size() < 22 || !AllOf(local.ice_pwd, IsIceChar)) {
    return Err(kInvalidArgument, "local ICE credentials must be ice-chars (ufrag >= 4, pwd >= 22)");
  }
  if (AsciiLower(local.fingerprint.algorithm) != "sha-256" ||
      !IsFingerprintValue(local.fingerprint.value) || local.fingerprint.value.size() != 95) {
    return Err(kInvalidArgument, "local fingerprint must be sha-256 with 32 hex pairs");
  }
  for (const IceCandidate& c : local.candidates) {
    Result<std::string> written = WriteCandidate(c);
    if (!written.ok()) {
      return Err(written.status().code(), "local candidate: " + written.status().message());
    }
  }
  if (local.candidates.size() > kMaxSdpCandidates) {
    return Err(kInvalidArgument, "too many local candidates");
  }
  return Status::Ok();
}

// The transport part every section of our description carries (BUNDLE means
// one transport; repeating it per section is what browsers do too).
void FillTransport(const LocalCapabilities& local, SetupRole setup, MediaSection* m) {
  m->connection = Connection{};
  m->ice.ufrag = local.ice_ufrag;
  m->ice.pwd = local.ice_pwd;
  m->fingerprints = {Fingerprint{AsciiLower(local.fingerprint.algorithm), local.fingerprint.value}};
  m->setup = setup;
  m->candidates = local.candidates;
  m->end_of_candidates = true;  // ICE-lite: we never gather more
}

SessionDescription NewSession(const LocalCapabilities& local) {
  SessionDescription s;
  s.origin.session_id = local.session_id;
  s.origin.session_version = local.session_version;
  s.origin.address = "127.0.0.1";
  s.ice_lite = true;
  return s;
}

size_t FingerprintPairs(std::string_view algorithm) {
  if (algorithm == "sha-256") return 32;
  if (algorithm == "sha-384") return 48;
  if (algorithm == "sha-512") return 64;
  return 0;
}

// WR-01 / RFC 8827 §6.5 checks on one section the answer would accept.
Status CheckSectionTransport(const SessionDescription& offer, size_t index, const MediaSection& m) {
  const std::string where = Where(index, m);
  if (m.mid.empty()) return Err(kUnsupported, where + ": missing a=mid (required by BUNDLE)");
  const IceParameters& ice = m.ice.ufrag.empty() && m.ice.pwd.empty() ? offer.ice : m.ice;
  if (ice.ufrag.empty()) return Err(kUnsupported, where + ": missing a=ice-ufrag");
  if (ice.pwd.empty()) return Err(kUnsupported, where + ": missing a=ice-pwd");
  const std::vector<Fingerprint>& fps =
      m.fingerprints.empty() ? offer.fingerprints : m.fingerprints;
  if (fps.empty()) {
    return Err(kUnsupported, where + ": missing a=fingerprint (DTLS-SRTP is mandatory, RFC 8827)");
  }
  for (const Fingerprint& f : fps) {
    const size_t pairs = FingerprintPairs(f.algorithm);
    if (pairs == 0) {
      return Err(kUnsupported, where + ": a=fingerprint hash " + Quote(f.algorithm) +
                                   " not supported (sha-256, sha-384, sha-512)");
    }
    if ((f.value.size() + 1) / 3 != pairs) {
      return Err(kUnsupported, where + ": a=fingerprint length does not match " + f.algorithm);
    }
  }
  const std::optional<SetupRole> setup = m.setup ? m.setup : offer.setup;
  if (setup == SetupRole::kPassive || setup == SetupRole::kHoldConn) {
    return Err(kUnsupported, where + ": a=setup:" + std::string(ToString(*setup)) +
                                 " in an offer; the server is DTLS passive (actpass or active "
                                 "required)");
  }
  if (m.IsRtp() && !m.rtcp_mux) return Err(kUnsupported, where + ": missing a=rtcp-mux");
  return Status::Ok();
}

// Proto policy for the kinds we answer; other kinds are simply rejected.
Status CheckProto(size_t index, const MediaSection& m) {
  const std::string where = Where(index, m);
  if (m.kind == "audio" || m.kind == "video") {
    if (m.proto == kDtlsSrtpProto) return Status::Ok();
    if (m.proto == "RTP/AVP" || m.proto == "RTP/AVPF") {
      return Err(kUnsupported, where + ": proto " + m.proto +
                                   " is unencrypted RTP; UDP/TLS/RTP/SAVPF (DTLS-SRTP) required");
    }
    if (m.proto == "RTP/SAVP" || m.proto == "RTP/SAVPF") {
      return Err(kUnsupported, where + ": proto " + m.proto +
                                   " is SDES-SRTP; UDP/TLS/RTP/SAVPF (DTLS-SRTP) required");
    }
    return Err(kUnsupported,
               where + ": proto " + Quote(m.proto) + " not supported; UDP/TLS/RTP/SAVPF required");
  }
  if (m.kind == "application") {
    if (m.proto != kSctpProto) {
      return Err(kUnsupported, where + ": data proto " + Quote(m.proto) +
                                   " not supported; UDP/DTLS/SCTP required");
    }
    if (m.formats.size() != 1 || m.formats[0] != kDataFormat) {
      return Err(kUnsupported, where + ": data format must be webrtc-datachannel");
    }
  }
  return Status::Ok();
}

bool IsSupportedFeedback(std::string_view fb) {
  return std::ranges::any_of(kFeedback, [&](std::string_view s) { return fb == s; });
}

std::vector<std::string> FilterFeedback(const std::vector<std::string>& offered) {
  std::vector<std::string> out;
  for (const std::string& fb : offered) {
    if (IsSupportedFeedback(fb)) out.push_back(fb);
  }
  return out;
}

bool IsBinaryFlag(std::string_view v) { return v == "0" || v == "1"; }

// Opus: only parameters we can vouch for, rebuilt from validated values.
std::string OpusFmtp(const RtpCodec& offered) {
  std::string out;
  uint64_t minptime = 0;
  if (const auto v = FmtpParameter(offered.fmtp, "minptime"); v && ParseUint(*v, 120, &minptime)) {
    out += "minptime=" + std::to_string(minptime);
  }
  if (const auto v = FmtpParameter(offered.fmtp, "useinbandfec"); v && IsBinaryFlag(*v)) {
    out += (out.empty() ? "" : ";") + std::string("useinbandfec=") + std::string(*v);
  }
  return out;
}

// Returns the accepted profile-level-id (lower case) of an H.264 format, or "".
std::string AcceptedH264Profile(const RtpCodec& c) {
  const auto mode = FmtpParameter(c.fmtp, "packetization-mode");
  if (!mode || *mode != "1") return "";
  const auto plid = FmtpParameter(c.fmtp, "profile-level-id");
  if (!plid) return "";
  std::string lower = AsciiLower(*plid);
  for (std::string_view p : kH264Profiles) {
    if (lower == p) return lower;
  }
  return "";
}

std::vector<RtpCodec> SelectCodecs(const MediaSection& m) {
  const bool audio = m.kind == "audio";
  std::vector<RtpCodec> primary;  // by offer order; rtx decided below
  std::set<uint8_t> kept;
  for (const RtpCodec& c : m.codecs) {
    RtpCodec a;
    a.payload_type = c.payload_type;
    a.clock_rate = c.clock_rate;
    if (audio && EqualsIgnoreCase(c.encoding_name, "opus") && c.clock_rate == 48000 &&
        c.channels == 2) {
      a.encoding_name = "opus";
      a.channels = 2;
      a.fmtp = OpusFmtp(c);
    } else if (!audio && EqualsIgnoreCase(c.encoding_name, "VP8") && c.clock_rate == 90000) {
      a.encoding_name = "VP8";
    } else if (!audio && EqualsIgnoreCase(c.encoding_name, "H264") && c.clock_rate == 90000) {
      const std::string profile = AcceptedH264Profile(c);
      if (profile.empty()) continue;
      a.encoding_name = "H264";
      a.fmtp = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + profile;
    } else {
      continue;
    }
    a.feedback = FilterFeedback(c.feedback);
    kept.insert(c.payload_type);
    primary.push_back(std::move(a));
  }
  std::vector<RtpCodec> out;
  size_t next_primary = 0;
  for (const RtpCodec& c : m.codecs) {
    if (next_primary < primary.size() && primary[next_primary].payload_type == c.payload_type) {
      out.push_back(std::move(primary[next_primary++]));
      continue;
    }
    if (audio || !EqualsIgnoreCase(c.encoding_name, "rtx") || c.clock_rate != 90000) continue;
    uint64_t apt = 0;
    const auto apt_text = FmtpParameter(c.fmtp, "apt");
    if (!apt_text || !ParseUint(*apt_text, 127, &apt) ||
        !kept.contains(static_cast<uint8_t>(apt))) {
      continue;
    }
    RtpCodec rtx;
    rtx.payload_type = c.payload_type;
    rtx.encoding_name = "rtx";
    rtx.clock_rate = 90000;
    rtx.fmtp = "apt=" + std::to_string(apt);
    out.push_back(std::move(rtx));
  }
  return out;
}

std::vector<Extmap> SelectExtensions(const MediaSection& m) {
  const bool audio = m.kind == "audio";
  std::vector<std::string_view> supported = {kExtMid, kExtAbsSendTime, kExtTransportCc};
  if (audio) {
    supported.push_back(kExtAudioLevel);
  } else {
    supported.push_back(kExtRid);
    supported.push_back(kExtRepairedRid);
  }
  std::vector<Extmap> out;
  for (const Extmap& e : m.extmaps) {
    // The offerer only receiving this extension means it will never send it.
    if (e.direction == MediaDirection::kRecvOnly || e.direction == MediaDirection::kInactive) {
      continue;
    }
    for (std::string_view uri : supported) {
      if (e.uri == uri) {
        out.push_back(Extmap{e.id, std::nullopt, std::string(uri), ""});
        break;
      }
    }
  }
  return out;
}

bool HasExtension(const std::vector<Extmap>& exts, std::string_view uri) {
  return std::ranges::any_of(exts, [&](const Extmap& e) { return e.uri == uri; });
}

// Simulcast (RFC 8853): the client sends rids, we receive them.
Status AnswerSimulcast(size_t index, const MediaSection& offer, MediaSection* answer) {
  if (!offer.simulcast || offer.simulcast->send.empty()) return Status::Ok();
  if (!HasExtension(answer->extmaps, kExtRid) || !HasExtension(answer->extmaps, kExtMid)) {
    return Status::Ok();  // no way to tell layers apart: answer without simulcast
  }
  Simulcast sim;
  for (const std::vector<SimulcastRid>& stream : offer.simulcast->send) {
    for (const SimulcastRid& r : stream) {
      bool declared = false;
      for (const Rid& rid : offer.rids) {
        declared = declared || (rid.id == r.id && rid.direction == RidDirection::kSend);
      }
      if (!declared) {
        return Err(kMalformed, Where(index, offer) + ": a=simulcast names rid " + Quote(r.id) +
                                   " without a matching 'a=rid:<id> send'");
      }
      bool dup = false;
      for (const Rid& rid : answer->rids) dup = dup || rid.id == r.id;
      if (!dup) answer->rids.push_back(Rid{r.id, RidDirection::kRecv, ""});
    }
    sim.recv.push_back(stream);
  }
  answer->simulcast = std::move(sim);
  return Status::Ok();
}

}  // namespace

Result<SessionDescription> BuildAnswer(const SessionDescription& offer,
                                       const LocalCapabilities& local) {
  AEGIS_RETURN_IF_ERROR(CheckLocal(local));
  if (offer.HasAttribute("crypto")) {
    return Err(kUnsupported, "a=crypto (SDES-SRTP) is not allowed; DTLS-SRTP required (RFC 8827)");
  }
  if (offer.ice_lite) {
    return Err(kUnsupported,
               "offer is ICE-lite; the server is ICE-lite too (one side must be full)");
  }
  if (offer.media.empty()) return Err(kUnsupported, "offer has no m-sections");

  const Group* bundle = nullptr;
  for (const Group& g : offer.groups) {
    if (g.semantics != "BUNDLE") continue;
    if (bundle != nullptr) return Err(kUnsupported, "more than one a=group:BUNDLE");
    bundle = &g;
  }
  if (bundle == nullptr) return Err(kUnsupported, "missing a=group:BUNDLE (max-bundle required)");
  for (const std::string& mid : bundle->mids) {
    bool found = false;
    for (const MediaSection& m : offer.media) found = found || m.mid == mid;
    if (!found) return Err(kMalformed, "a=group:BUNDLE names unknown mid " + Quote(mid));
  }

  SessionDescription answer = NewSession(local);
  answer.extmap_allow_mixed = offer.extmap_allow_mixed;
  Group answer_bundle{"BUNDLE", {}};
  const IceParameters* bundle_ice = nullptr;
  const std::vector<Fingerprint>* bundle_fps = nullptr;

  for (size_t i = 0; i < offer.media.size(); ++i) {
    const MediaSection& m = offer.media[i];
    const std::string where = Where(i, m);
    if (m.HasAttribute("crypto")) {
      return Err(kUnsupported,
                 where + ": a=crypto (SDES-SRTP) is not allowed; DTLS-SRTP required (RFC 8827)");
    }
    AEGIS_RETURN_IF_ERROR(CheckProto(i, m));

    MediaSection a;
    a.kind = m.kind;
    a.proto = m.proto;
    a.mid = m.mid;
    const bool known_kind = m.kind == "audio" || m.kind == "video" || m.kind == "application";
    const bool wanted = (m.kind == "audio" && local.accept_audio) ||
                        (m.kind == "video" && local.accept_video) ||
                        (m.kind == "application" && local.accept_data);
    const bool offered_active = m.port != 0 || m.HasAttribute("bundle-only");
    bool accept = known_kind && wanted && offered_active;
    if (accept) {
      AEGIS_RETURN_IF_ERROR(CheckSectionTransport(offer, i, m));
      bool in_bundle = false;
      for (const std::string& mid : bundle->mids) in_bundle = in_bundle || mid == m.mid;
      if (!in_bundle) return Err(kUnsupported, where + ": not in the a=group:BUNDLE");
      const IceParameters& ice = m.ice.ufrag.empty() && m.ice.pwd.empty() ? offer.ice : m.ice;
      const auto& fps = m.fingerprints.empty() ? offer.fingerprints : m.fingerprints;
      if (bundle_ice == nullptr) {
        bundle_ice = &ice;
        bundle_fps = &fps;
      } else if (ice.ufrag != bundle_ice->ufrag || ice.pwd != bundle_ice->pwd) {
        return Err(kUnsupported, where + ": ICE credentials differ within the BUNDLE group");
      } else if (fps != *bundle_fps) {
        return Err(kUnsupported, where + ": a=fingerprint differs within the BUNDLE group");
      }
    }
    if (accept && m.IsRtp()) {
      a.codecs = SelectCodecs(m);
      if (a.codecs.empty()) accept = false;  // nothing in common: reject this section
    }
    if (!accept) {
      // RFC 8829 §5.3.1: a rejected section keeps its mid, has port 0 and
      // leaves the BUNDLE group.
      a.port = 0;
      a.connection = Connection{};
      a.codecs.clear();
      if (m.IsRtp()) {
        RtpCodec first;
        first.payload_type = m.codecs.empty() ? 0 : m.codecs.front().payload_type;
        a.codecs.push_back(first);
      } else {
        a.formats = m.formats;
      }
      answer.media.push_back(std::move(a));
      continue;
    }
    FillTransport(local, SetupRole::kPassive, &a);
    if (m.IsRtp()) {
      const MediaDirection offered = m.direction.value_or(MediaDirection::kSendRecv);
      a.direction = offered == MediaDirection::kSendRecv || offered == MediaDirection::kSendOnly
                        ? MediaDirection::kRecvOnly
                        : MediaDirection::kInactive;
      a.rtcp_mux = true;
      a.rtcp_rsize = m.rtcp_rsize;
      a.extmaps = SelectExtensions(m);
      // RFC 8285 §6: we parse both header forms, so mixing may be accepted.
      a.extmap_allow_mixed = m.extmap_allow_mixed;
      AEGIS_RETURN_IF_ERROR(AnswerSimulcast(i, m, &a));
    } else {
      a.formats = {std::string(kDataFormat)};
      a.sctp_port = local.sctp_port;
      a.max_message_size = local.max_message_size;
    }
    answer_bundle.mids.push_back(a.mid);
    answer.media.push_back(std::move(a));
  }
  if (answer_bundle.mids.empty()) {
    return Err(kUnsupported, "no m-section of the offer can be accepted");
  }
  answer.groups.push_back(std::move(answer_bundle));
  return answer;
}

Result<SessionDescription> BuildSubscribeOffer(const SubscribeOfferOptions& options,
                                               const LocalCapabilities& local) {
  AEGIS_RETURN_IF_ERROR(CheckLocal(local));
  const size_t sections = options.tracks.size() + (options.data_channel ? 1 : 0);
  if (sections > kMaxSdpMediaSections) {
    return Err(kTooLarge, "subscribe offer would have " + std::to_string(sections) +
                              " m-sections; limit is " + std::to_string(kMaxSdpMediaSections));
  }
  SessionDescription offer = NewSession(local);
  offer.msid_semantic = MsidSemantic{"WMS", {}};
  Group bundle{"BUNDLE", {}};
  std::set<std::string> mids;

  for (size_t i = 0; i < options.tracks.size(); ++i) {
    const SubscribeTrack& t = options.tracks[i];
    const std::string where = "track " + std::to_string(i);
    AEGIS_RETURN_IF_ERROR(CheckWord(t.mid, where + " mid"));
    if (!IsToken(t.mid) || !mids.insert(t.mid).second) {
      return Err(kInvalidArgument, where + ": mid must be a unique token");
    }
    if (t.kind != "audio" && t.kind != "video") {
      return Err(kInvalidArgument, where + ": kind must be audio or video");
    }
    AEGIS_RETURN_IF_ERROR(CheckWord(t.cname, where + " cname"));
    AEGIS_RETURN_IF_ERROR(CheckWord(t.stream_id, where + " msid stream id"));
    AEGIS_RETURN_IF_ERROR(CheckWord(t.track_id, where + " msid track id"));
    if (t.codecs.empty() || t.codecs.size() > kMaxSdpPayloadTypes) {
      return Err(kInvalidArgument, where + ": needs 1-128 codecs");
    }
    std::set<uint8_t> pts;
    for (const RtpCodec& c : t.codecs) {
      if (c.payload_type > 127 || !pts.insert(c.payload_type).second) {
        return Err(kInvalidArgument, where + ": payload types must be unique and in 0-127");
      }
      AEGIS_RETURN_IF_ERROR(CheckWord(c.encoding_name, where + " codec name"));
      if (!IsText(c.fmtp)) return Err(kIllegalChar, where + ": fmtp contains a control byte");
      for (const std::string& fb : c.feedback) {
        if (!IsText(fb)) return Err(kIllegalChar, where + ": rtcp-fb contains a control byte");
      }
    }
    std::set<uint16_t> ids;
    for (const Extmap& e : t.extensions) {
      if (e.id == 0 || e.id == 15 || e.id > 255 || !ids.insert(e.id).second) {
        return Err(kInvalidArgument, where + ": extension ids must be unique, 1-14 or 16-255");
      }
      AEGIS_RETURN_IF_ERROR(CheckWord(e.uri, where + " extension uri"));
    }
    if (t.rtx_ssrc && *t.rtx_ssrc == t.ssrc) {
      return Err(kInvalidArgument, where + ": rtx ssrc equals the media ssrc");
    }

    MediaSection m;
    m.kind = t.kind;
    m.proto = std::string(kDtlsSrtpProto);
    m.mid = t.mid;
    FillTransport(local, SetupRole::kActPass, &m);
    m.direction = t.active ? MediaDirection::kSendOnly : MediaDirection::kInactive;
    m.rtcp_mux = true;
    m.rtcp_rsize = true;
    m.codecs = t.codecs;
    for (const Extmap& e : t.extensions) m.extmaps.push_back(Extmap{e.id, std::nullopt, e.uri, ""});
    if (!t.active) {
      bundle.mids.push_back(m.mid);
      offer.media.push_back(std::move(m));
      continue;
    }
    m.msids.push_back(Msid{t.stream_id, t.track_id});
    const std::string msid_value = t.stream_id + " " + t.track_id;
    if (t.rtx_ssrc) m.ssrc_groups.push_back(SsrcGroup{"FID", {t.ssrc, *t.rtx_ssrc}});
    m.ssrcs.push_back(SsrcAttribute{t.ssrc, "cname", t.cname});
    m.ssrcs.push_back(SsrcAttribute{t.ssrc, "msid", msid_value});
    if (t.rtx_ssrc) {
      m.ssrcs.push_back(SsrcAttribute{*t.rtx_ssrc, "cname", t.cname});
      m.ssrcs.push_back(SsrcAttribute{*t.rtx_ssrc, "msid", msid_value});
    }
    bundle.mids.push_back(m.mid);
    offer.media.push_back(std::move(m));
  }
  if (options.data_channel) {
    AEGIS_RETURN_IF_ERROR(CheckWord(options.data_mid, "data mid"));
    if (!IsToken(options.data_mid) || !mids.insert(options.data_mid).second) {
      return Err(kInvalidArgument, "data mid must be a unique token");
    }
    MediaSection m;
    m.kind = "application";
    m.proto = std::string(kSctpProto);
    m.formats = {std::string(kDataFormat)};
    m.mid = options.data_mid;
    FillTransport(local, SetupRole::kActPass, &m);
    m.sctp_port = local.sctp_port;
    m.max_message_size = local.max_message_size;
    bundle.mids.push_back(m.mid);
    offer.media.push_back(std::move(m));
  }
  if (!bundle.mids.empty()) offer.groups.push_back(std::move(bundle));
  return offer;
}

}  // namespace aegis::rtc
