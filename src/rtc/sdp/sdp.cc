#include "rtc/sdp/sdp.h"

#include <algorithm>
#include <bitset>
#include <string>

#include "rtc/sdp/sdp_internal.h"

namespace aegis::rtc {
namespace {

using namespace sdp_internal;  // NOLINT(google-build-using-namespace)

using Tokens = std::vector<std::string_view>;

std::optional<MediaDirection> DirectionFromName(std::string_view s) {
  if (s == "sendrecv") return MediaDirection::kSendRecv;
  if (s == "sendonly") return MediaDirection::kSendOnly;
  if (s == "recvonly") return MediaDirection::kRecvOnly;
  if (s == "inactive") return MediaDirection::kInactive;
  return std::nullopt;
}

std::optional<SetupRole> SetupFromName(std::string_view s) {
  if (s == "active") return SetupRole::kActive;
  if (s == "passive") return SetupRole::kPassive;
  if (s == "actpass") return SetupRole::kActPass;
  if (s == "holdconn") return SetupRole::kHoldConn;
  return std::nullopt;
}

bool ParseU8(std::string_view s, uint64_t max, uint8_t* out) {
  uint64_t v = 0;
  if (!ParseUint(s, max, &v)) return false;
  *out = static_cast<uint8_t>(v);
  return true;
}
bool ParseU16(std::string_view s, uint64_t max, uint16_t* out) {
  uint64_t v = 0;
  if (!ParseUint(s, max, &v)) return false;
  *out = static_cast<uint16_t>(v);
  return true;
}
bool ParseU32(std::string_view s, uint32_t* out) {
  uint64_t v = 0;
  if (!ParseUint(s, UINT32_MAX, &v)) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

Status ParsePayloadType(std::string_view s, uint8_t* out) {
  if (!ParseU8(s, 127, out)) {
    return Err(kMalformed, "payload type " + Quote(s) + " is not a number in 0-127");
  }
  return Status::Ok();
}

Status ParseConnectionValue(std::string_view value, Connection* out) {
  const Tokens t = SplitSpaces(value);
  if (t.size() != 3 || !IsToken(t[0]) || !IsToken(t[1]) || !IsWord(t[2])) {
    return Err(kMalformed, "c= needs '<nettype> <addrtype> <address>'");
  }
  out->net_type = std::string(t[0]);
  out->addr_type = std::string(t[1]);
  out->address = std::string(t[2]);
  return Status::Ok();
}

Status ParseCandidateValue(std::string_view value, IceCandidate* out) {
  const Tokens t = SplitSpaces(value);
  if (t.size() < 8) return Err(kMalformed, "a=candidate has fewer than 8 fields");
  IceCandidate c;
  if (t[0].size() > 32 || !AllOf(t[0], IsIceChar) || t[0].empty()) {
    return Err(kMalformed, "a=candidate foundation must be 1-32 ice-chars");
  }
  c.foundation = std::string(t[0]);
  if (!ParseU16(t[1], 256, &c.component) || c.component == 0) {
    return Err(kMalformed, "a=candidate component " + Quote(t[1]) + " not in 1-256");
  }
  if (!IsToken(t[2])) return Err(kMalformed, "a=candidate transport is not a token");
  c.transport = std::string(t[2]);
  if (!ParseU32(t[3], &c.priority)) {
    return Err(kMalformed, "a=candidate priority " + Quote(t[3]) + " not in 0-4294967295");
  }
  if (!IsWord(t[4])) return Err(kMalformed, "a=candidate address is empty");
  c.address = std::string(t[4]);
  if (!ParseU16(t[5], 65535, &c.port)) {
    return Err(kMalformed, "a=candidate port " + Quote(t[5]) + " not in 0-65535");
  }
  if (t[6] != "typ" || !IsToken(t[7])) return Err(kMalformed, "a=candidate lacks 'typ <type>'");
  c.type = std::string(t[7]);
  if (t.size() % 2 != 0) return Err(kMalformed, "a=candidate extension without a value");
  bool seen_raddr = false;
  bool seen_tcptype = false;
  for (size_t i = 8; i + 1 < t.size(); i += 2) {
    const std::string_view name = t[i];
    const std::string_view val = t[i + 1];
    if (name == "raddr") {
      if (seen_raddr || !IsWord(val)) return Err(kMalformed, "a=candidate bad or repeated raddr");
      seen_raddr = true;
      c.related_address = std::string(val);
    } else if (name == "rport") {
      uint16_t port = 0;
      if (c.related_port || !ParseU16(val, 65535, &port)) {
        return Err(kMalformed, "a=candidate rport " + Quote(val) + " not in 0-65535");
      }
      c.related_port = port;
    } else if (name == "tcptype") {
      if (seen_tcptype || !IsToken(val)) return Err(kMalformed, "a=candidate bad tcptype");
      seen_tcptype = true;
      c.tcp_type = std::string(val);
    } else {
      if (!IsToken(name) || !IsWord(val)) return Err(kMalformed, "a=candidate bad extension");
      if (c.extensions.size() >= kMaxSdpSmallLists) {
        return Err(kTooLarge, "a=candidate has too many extensions");
      }
      c.extensions.emplace_back(std::string(name), std::string(val));
    }
  }
  *out = std::move(c);
  return Status::Ok();
}

Status ParseSimulcastList(std::string_view list, SimulcastStreams* out) {
  if (list.empty()) return Err(kMalformed, "a=simulcast empty rid list");
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(';', start);
    if (end == std::string_view::npos) end = list.size();
    const std::string_view stream = list.substr(start, end - start);
    std::vector<SimulcastRid> alts;
    size_t a = 0;
    while (a <= stream.size()) {
      size_t b = stream.find(',', a);
      if (b == std::string_view::npos) b = stream.size();
      std::string_view id = stream.substr(a, b - a);
      SimulcastRid rid;
      if (!id.empty() && id[0] == '~') {
        rid.paused = true;
        id.remove_prefix(1);
      }
      if (id.empty() || !AllOf(id, IsRidChar)) {
        return Err(kMalformed, "a=simulcast rid " + Quote(id) + " is not a rid-id");
      }
      if (alts.size() >= kMaxSdpSimulcastAlts) {
        return Err(kTooLarge, "a=simulcast has too many alternatives");
      }
      rid.id = std::string(id);
      alts.push_back(std::move(rid));
      a = b + 1;
    }
    if (out->size() >= kMaxSdpRids) return Err(kTooLarge, "a=simulcast has too many streams");
    out->push_back(std::move(alts));
    start = end + 1;
  }
  return Status::Ok();
}

Status ParseSimulcast(std::string_view value, Simulcast* out) {
  const Tokens t = SplitSpaces(value);
  if (t.empty() || t.size() % 2 != 0 || t.size() > 4) {
    return Err(kMalformed, "a=simulcast needs 'send|recv <rids>' pairs");
  }
  Simulcast s;
  for (size_t i = 0; i + 1 < t.size(); i += 2) {
    SimulcastStreams* dst = t[i] == "send" ? &s.send : t[i] == "recv" ? &s.recv : nullptr;
    if (dst == nullptr) return Err(kMalformed, "a=simulcast direction must be send or recv");
    if (!dst->empty()) return Err(kMalformed, "a=simulcast repeats a direction");
    AEGIS_RETURN_IF_ERROR(ParseSimulcastList(t[i + 1], dst));
  }
  *out = std::move(s);
  return Status::Ok();
}

bool IsSessionOnly(std::string_view n) {
  return n == "group" || n == "ice-lite" || n == "msid-semantic";
}
bool IsMediaOnly(std::string_view n) {
  return n == "mid" || n == "rtpmap" || n == "fmtp" || n == "rtcp-fb" || n == "extmap" ||
         n == "ssrc" || n == "ssrc-group" || n == "msid" || n == "rid" || n == "simulcast" ||
         n == "candidate" || n == "end-of-candidates" || n == "sctp-port" ||
         n == "max-message-size" || n == "rtcp-mux" || n == "rtcp-rsize";
}
// Known attributes that need a ":<value>".
bool IsValued(std::string_view n) {
  return n == "ice-ufrag" || n == "ice-pwd" || n == "ice-options" || n == "fingerprint" ||
         n == "setup" || n == "group" || n == "msid-semantic" || n == "mid" || n == "rtpmap" ||
         n == "fmtp" || n == "rtcp-fb" || n == "extmap" || n == "ssrc" || n == "ssrc-group" ||
         n == "msid" || n == "rid" || n == "simulcast" || n == "candidate" || n == "sctp-port" ||
         n == "max-message-size";
}
bool IsFlag(std::string_view n) {
  return n == "ice-lite" || n == "extmap-allow-mixed" || n == "rtcp-mux" || n == "rtcp-rsize" ||
         n == "end-of-candidates" || DirectionFromName(n).has_value();
}

class Parser {
 public:
  Result<SessionDescription> Run(std::string_view text);

 private:
  Status Fail(std::string_view code, const std::string& msg) const {
    return Err(code, "line " + std::to_string(line_) + ": " + msg);
  }
  // Adds the line number to an error from a helper.
  Status AtLine(const Status& s) const {
    return s.ok() ? s : Err(s.code(), "line " + std::to_string(line_) + ": " + s.message());
  }

  Status ParseLine(char type, std::string_view value);
  Status ParseOrigin(std::string_view value);
  Status ParseTiming(std::string_view value);
  Status ParseMediaLine(std::string_view value);
  Status ParseAttribute(std::string_view line_value);
  Status ParseCommonAttribute(std::string_view name, std::string_view value, IceParameters* ice,
                              std::vector<Fingerprint>* fingerprints,
                              std::optional<SetupRole>* setup, bool* handled);
  Status ParseSessionAttribute(std::string_view name, std::optional<std::string_view> value);
  Status ParseMediaAttribute(std::string_view name, std::optional<std::string_view> value);
  Status ParseRtpmap(std::string_view value);
  Status ParseFmtp(std::string_view value);
  Status ParseRtcpFb(std::string_view value);
  Status ParseExtmap(std::string_view value);
  Status ParseSsrc(std::string_view value);
  Status ParseSsrcGroup(std::string_view value);
  Status ParseRid(std::string_view value);
  Status AddOther(std::vector<Attribute>* list, std::string_view name,
                  std::optional<std::string_view> value);
  RtpCodec* CodecFor(std::string_view pt_text, Status* status);

  size_t line_ = 0;
  bool seen_v_ = false;
  bool seen_o_ = false;
  bool seen_s_ = false;
  bool seen_t_ = false;
  SessionDescription sdp_;
  MediaSection* media_ = nullptr;  // current m= section (points into sdp_.media)
  std::bitset<128> rtpmap_seen_;
  std::bitset<128> fmtp_seen_;
};

Result<SessionDescription> Parser::Run(std::string_view text) {
  if (text.size() > kMaxSdpBytes) {
    return Err(kTooLarge, "SDP is " + std::to_string(text.size()) + " bytes; limit is " +
                              std::to_string(kMaxSdpBytes));
  }
  size_t pos = 0;
  while (pos < text.size()) {
    ++line_;
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxSdpLineBytes) {
      return Fail(kTooLarge, "line longer than " + std::to_string(kMaxSdpLineBytes) + " bytes");
    }
    // Tokens are counted from after "<type>=" and after an attribute's ':'.
    size_t run = 0;
    bool name_done = line.size() < 2 || line[0] != 'a';
    for (size_t i = 0; i < line.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(line[i]);
      if (IsControl(c)) {
        return Fail(kIllegalChar, c == 0 ? std::string("NUL byte inside a line")
                                  : c == '\r'
                                      ? std::string("CR inside a line")
                                      : "control byte " + std::to_string(c) + " inside a line");
      }
      if (i < 2 || c == ' ' || (c == ':' && !name_done)) {
        name_done = name_done || c == ':';
        run = 0;
        continue;
      }
      ++run;
      if (run > kMaxSdpTokenBytes) {
        return Fail(kTooLarge, "token longer than " + std::to_string(kMaxSdpTokenBytes) + " bytes");
      }
    }
    if (line.empty()) continue;  // tolerate blank lines (e.g. a doubled final CRLF)
    if (line.size() < 2 || line[1] != '=') return Fail(kMalformed, "expected '<type>=<value>'");
    AEGIS_RETURN_IF_ERROR(ParseLine(line[0], line.substr(2)));
  }
  if (!seen_v_) return Err(kMalformed, "line 1: missing v= line");
  if (!seen_o_ || !seen_s_ || !seen_t_) {
    return Err(kMalformed, "session description lacks one of o=, s=, t=");
  }
  return std::move(sdp_);
}

Status Parser::ParseLine(char type, std::string_view value) {
  if (!seen_v_) {
    if (type != 'v') return Fail(kMalformed, "first line must be v=");
    if (value != "0") return Fail(kMalformed, "v= must be 0");
    seen_v_ = true;
    return Status::Ok();
  }
  const bool in_session = media_ == nullptr;
  switch (type) {
    case 'v':
      return Fail(kMalformed, "repeated v= line");
    case 'o':
      if (!in_session || seen_o_) return Fail(kMalformed, "unexpected o= line");
      seen_o_ = true;
      return ParseOrigin(value);
    case 's':
      if (!in_session || seen_s_) return Fail(kMalformed, "unexpected s= line");
      seen_s_ = true;
      sdp_.session_name = std::string(value);
      return Status::Ok();
    case 't':
      if (!in_session) return Fail(kMalformed, "t= inside a media section");
      if (seen_t_) return Status::Ok();  // several t= lines: the first one is kept
      seen_t_ = true;
      return ParseTiming(value);
    case 'c': {
      std::optional<Connection>* dst = in_session ? &sdp_.connection : &media_->connection;
      if (dst->has_value()) return Fail(kMalformed, "repeated c= line");
      Connection c;
      AEGIS_RETURN_IF_ERROR(AtLine(ParseConnectionValue(value, &c)));
      *dst = std::move(c);
      return Status::Ok();
    }
    case 'm':
      if (!seen_o_ || !seen_s_ || !seen_t_) {
        return Fail(kMalformed, "m= before the session's o=, s= and t= lines");
      }
      return ParseMediaLine(value);
    case 'a':
      return ParseAttribute(value);
    case 'i':
    case 'u':
    case 'e':
    case 'p':
    case 'b':
    case 'r':
    case 'z':
    case 'k':
      return Status::Ok();  // valid but not used by WebRTC; dropped
    default:
      // RFC 8866 §5: a description with an unknown type letter is not understood.
      return Fail(kMalformed, "unknown line type " + Quote(std::string_view(&type, 1)));
  }
}

Status Parser::ParseOrigin(std::string_view value) {
  const Tokens t = SplitSpaces(value);
  if (t.size() != 6) return Fail(kMalformed, "o= needs 6 fields");
  Origin o;
  if (!IsWord(t[0])) return Fail(kMalformed, "o= username");
  o.username = std::string(t[0]);
  if (!ParseUint(t[1], UINT64_MAX, &o.session_id)) {
    return Fail(kMalformed, "o= session id " + Quote(t[1]) + " is not a 64-bit number");
  }
  if (!ParseUint(t[2], UINT64_MAX, &o.session_version)) {
    return Fail(kMalformed, "o= session version " + Quote(t[2]) + " is not a 64-bit number");
  }
  if (!IsToken(t[3]) || !IsToken(t[4]) || !IsWord(t[5])) {
    return Fail(kMalformed, "o= network fields");
  }
  o.net_type = std::string(t[3]);
  o.addr_type = std::string(t[4]);
  o.address = std::string(t[5]);
  sdp_.origin = std::move(o);
  return Status::Ok();
}

Status Parser::ParseTiming(std::string_view value) {
  const Tokens t = SplitSpaces(value);
  if (t.size() != 2 || !ParseUint(t[0], UINT64_MAX, &sdp_.start_time) ||
      !ParseUint(t[1], UINT64_MAX, &sdp_.stop_time)) {
    return Fail(kMalformed, "t= needs two 64-bit numbers");
  }
  return Status::Ok();
}

Status Parser::ParseMediaLine(std::string_view value) {
  if (sdp_.media.size() >= kMaxSdpMediaSections) {
    return Fail(kTooLarge, "more than " + std::to_string(kMaxSdpMediaSections) + " m= sections");
  }
  const Tokens t = SplitSpaces(value);
  if (t.size() < 4) return Fail(kMalformed, "m= needs '<media> <port> <proto> <fmt>...'");
  MediaSection m;
  if (!IsToken(t[0])) return Fail(kMalformed, "m= media type is not a token");
  m.kind = std::string(t[0]);
  if (t[1].find('/') != std::string_view::npos) {
    return Fail(kUnsupported, "m= port ranges (<port>/<count>) are not supported");
  }
  if (!ParseU16(t[1], 65535, &m.port)) {
    return Fail(kMalformed, "m= port " + Quote(t[1]) + " not in 0-65535");
  }
  if (!AllOf(t[2], [](unsigned char c) { return IsTokenChar(c) || c == '/'; })) {
    return Fail(kMalformed, "m= proto");
  }
  m.proto = std::string(t[2]);
  if (t.size() - 3 > kMaxSdpPayloadTypes) {
    return Fail(kTooLarge,
                "m= lists more than " + std::to_string(kMaxSdpPayloadTypes) + " formats");
  }
  const bool rtp = m.IsRtp();
  std::bitset<128> seen;
  for (size_t i = 3; i < t.size(); ++i) {
    if (rtp) {
      uint8_t pt = 0;
      AEGIS_RETURN_IF_ERROR(AtLine(ParsePayloadType(t[i], &pt)));
      if (seen[pt])
        return Fail(kMalformed, "m= lists payload type " + std::to_string(pt) + " twice");
      seen[pt] = true;
      RtpCodec codec;
      codec.payload_type = pt;
      m.codecs.push_back(std::move(codec));
    } else {
      if (!IsToken(t[i])) return Fail(kMalformed, "m= format is not a token");
      m.formats.emplace_back(t[i]);
    }
  }
  sdp_.media.push_back(std::move(m));
  media_ = &sdp_.media.back();
  rtpmap_seen_.reset();
  fmtp_seen_.reset();
  return Status::Ok();
}

Status Parser::AddOther(std::vector<Attribute>* list, std::string_view name,
                        std::optional<std::string_view> value) {
  if (list->size() >= kMaxSdpOtherAttributes) {
    return Fail(kTooLarge,
                "more than " + std::to_string(kMaxSdpOtherAttributes) + " unrecognised attributes");
  }
  Attribute a;
  a.name = std::string(name);
  if (value) a.value = std::string(*value);
  list->push_back(std::move(a));
  return Status::Ok();
}

Status Parser::ParseAttribute(std::string_view line_value) {
  const size_t colon = line_value.find(':');
  const std::string_view name = line_value.substr(0, colon);
  std::optional<std::string_view> value;
  if (colon != std::string_view::npos) value = line_value.substr(colon + 1);
  if (!IsToken(name)) return Fail(kMalformed, "attribute name is not a token");
  if (IsFlag(name) && value) return Fail(kMalformed, "a=" + std::string(name) + " takes no value");
  if (media_ != nullptr && IsSessionOnly(name)) {
    return Fail(kMalformed, "a=" + std::string(name) + " is a session-level attribute");
  }
  if (media_ == nullptr && IsMediaOnly(name)) {
    return Fail(kMalformed,
                "a=" + std::string(name) + " is a media-level attribute but comes before any m=");
  }
  if (IsValued(name) && !value)
    return Fail(kMalformed, "a=" + std::string(name) + " needs a value");
  return media_ == nullptr ? ParseSessionAttribute(name, value) : ParseMediaAttribute(name, value);
}

// Attributes valid at both levels. Sets *handled when `name` is one of them.
Status Parser::ParseCommonAttribute(std::string_view name, std::string_view value,
                                    IceParameters* ice, std::vector<Fingerprint>* fingerprints,
                                    std::optional<SetupRole>* setup, bool* handled) {
  *handled = true;
  if (name == "ice-ufrag" || name == "ice-pwd") {
    const bool ufrag = name == "ice-ufrag";
    std::string* dst = ufrag ? &ice->ufrag : &ice->pwd;
    if (!dst->empty()) return Fail(kMalformed, "repeated a=" + std::string(name));
    // RFC 8839 §5.4: ufrag 4-256 and pwd 22-256 ice-chars (we cap at 255).
    const size_t min = ufrag ? 4 : 22;
    if (value.size() < min || value.size() > kMaxSdpTokenBytes || !AllOf(value, IsIceChar)) {
      return Fail(kMalformed,
                  "a=" + std::string(name) + " must be " + std::to_string(min) + "-255 ice-chars");
    }
    *dst = std::string(value);
    return Status::Ok();
  }
  if (name == "ice-options") {
    const Tokens t = SplitSpaces(value);
    if (t.empty()) return Fail(kMalformed, "a=ice-options is empty");
    for (std::string_view opt : t) {
      if (!IsToken(opt)) return Fail(kMalformed, "a=ice-options entry is not a token");
      if (ice->options.size() >= kMaxSdpSmallLists) return Fail(kTooLarge, "too many ice-options");
      ice->options.emplace_back(opt);
    }
    return Status::Ok();
  }
  if (name == "fingerprint") {
    const Tokens t = SplitSpaces(value);
    if (t.size() != 2 || !IsToken(t[0]) || !IsFingerprintValue(t[1])) {
      return Fail(kMalformed, "a=fingerprint needs '<hash> <hex:pairs>'");
    }
    if (fingerprints->size() >= kMaxSdpSmallLists) return Fail(kTooLarge, "too many fingerprints");
    fingerprints->push_back(Fingerprint{AsciiLower(t[0]), std::string(t[1])});
    return Status::Ok();
  }
  if (name == "setup") {
    if (setup->has_value()) return Fail(kMalformed, "repeated a=setup");
    *setup = SetupFromName(value);
    if (!setup->has_value()) return Fail(kMalformed, "a=setup " + Quote(value) + " unknown");
    return Status::Ok();
  }
  *handled = false;
  return Status::Ok();
}

Status Parser::ParseSessionAttribute(std::string_view name, std::optional<std::string_view> value) {
  bool handled = false;
  AEGIS_RETURN_IF_ERROR(ParseCommonAttribute(name, value.value_or(""), &sdp_.ice,
                                             &sdp_.fingerprints, &sdp_.setup, &handled));
  if (handled) return Status::Ok();
  if (name == "group") {
    const Tokens t = SplitSpaces(*value);
    if (t.empty() || !IsToken(t[0])) return Fail(kMalformed, "a=group needs semantics");
    if (t.size() - 1 > kMaxSdpGroupMembers) return Fail(kTooLarge, "a=group has too many mids");
    if (sdp_.groups.size() >= kMaxSdpSmallLists) return Fail(kTooLarge, "too many a=group lines");
    Group g;
    g.semantics = std::string(t[0]);
    for (size_t i = 1; i < t.size(); ++i) {
      if (!IsToken(t[i])) return Fail(kMalformed, "a=group mid is not a token");
      g.mids.emplace_back(t[i]);
    }
    sdp_.groups.push_back(std::move(g));
    return Status::Ok();
  }
  if (name == "ice-lite") {
    sdp_.ice_lite = true;
    return Status::Ok();
  }
  if (name == "extmap-allow-mixed") {
    sdp_.extmap_allow_mixed = true;
    return Status::Ok();
  }
  if (name == "msid-semantic") {
    if (sdp_.msid_semantic) return Fail(kMalformed, "repeated a=msid-semantic");
    const Tokens t = SplitSpaces(*value);  // Chrome writes "msid-semantic: WMS"
    if (t.empty() || !IsToken(t[0])) return Fail(kMalformed, "a=msid-semantic needs a semantic");
    if (t.size() - 1 > kMaxSdpSmallLists) return Fail(kTooLarge, "a=msid-semantic too many ids");
    MsidSemantic ms;
    ms.semantic = std::string(t[0]);
    for (size_t i = 1; i < t.size(); ++i) ms.ids.emplace_back(t[i]);
    sdp_.msid_semantic = std::move(ms);
    return Status::Ok();
  }
  return AddOther(&sdp_.other_attributes, name, value);
}

RtpCodec* Parser::CodecFor(std::string_view pt_text, Status* status) {
  uint8_t pt = 0;
  *status = AtLine(ParsePayloadType(pt_text, &pt));
  if (!status->ok()) return nullptr;
  for (RtpCodec& c : media_->codecs) {
    if (c.payload_type == pt) return &c;
  }
  *status = Fail(kMalformed, "payload type " + std::to_string(pt) + " is not on the m= line");
  return nullptr;
}

Status Parser::ParseRtpmap(std::string_view value) {
  const Tokens t = SplitSpaces(value);
  if (t.size() != 2) return Fail(kMalformed, "a=rtpmap needs '<pt> <name>/<rate>[/<channels>]'");
  Status st;
  RtpCodec* codec = CodecFor(t[0], &st);
  if (codec == nullptr) return st;
  if (rtpmap_seen_[codec->payload_type]) return Fail(kMalformed, "repeated a=rtpmap");
  rtpmap_seen_[codec->payload_type] = true;
  const std::string_view enc = t[1];
  const size_t s1 = enc.find('/');
  if (s1 == std::string_view::npos || s1 == 0) {
    return Fail(kMalformed, "a=rtpmap needs '<name>/<rate>'");
  }
  const std::string_view name = enc.substr(0, s1);
  std::string_view rest = enc.substr(s1 + 1);
  const size_t s2 = rest.find('/');
  const std::string_view rate = rest.substr(0, s2);
  if (!IsToken(name)) return Fail(kMalformed, "a=rtpmap encoding name is not a token");
  if (!ParseU32(rate, &codec->clock_rate) || codec->clock_rate == 0) {
    return Fail(kMalformed, "a=rtpmap clock rate " + Quote(rate) + " not in 1-4294967295");
  }
  if (s2 != std::string_view::npos) {
    const std::string_view ch = rest.substr(s2 + 1);
    if (!ParseU16(ch, 255, &codec->channels) || codec->channels == 0) {
      return Fail(kMalformed, "a=rtpmap channels " + Quote(ch) + " not in 1-255");
    }
  }
  codec->encoding_name = std::string(name);
  return Status::Ok();
}

Status Parser::ParseFmtp(std::string_view value) {
  const size_t sp = value.find(' ');
  if (sp == std::string_view::npos || sp + 1 >= value.size()) {
    return Fail(kMalformed, "a=fmtp needs '<pt> <parameters>'");
  }
  Status st;
  RtpCodec* codec = CodecFor(value.substr(0, sp), &st);
  if (codec == nullptr) return st;
  if (fmtp_seen_[codec->payload_type]) return Fail(kMalformed, "repeated a=fmtp");
  fmtp_seen_[codec->payload_type] = true;
  codec->fmtp = std::string(value.substr(sp + 1));
  return Status::Ok();
}

Status Parser::ParseRtcpFb(std::string_view value) {
  const Tokens t = SplitSpaces(value);
  if (t.size() < 2) return Fail(kMalformed, "a=rtcp-fb needs '<pt> <type> [<param>]'");
  std::vector<std::string>* dst = nullptr;
  if (t[0] == "*") {
    dst = &media_->rtcp_fb_all;
  } else {
    Status st;
    RtpCodec* codec = CodecFor(t[0], &st);
    if (codec == nullptr) return st;
    dst = &codec->feedback;
  }
  if (dst->size() >= kMaxSdpRtcpFb) return Fail(kTooLarge, "too many a=rtcp-fb lines");
  std::string fb;
  for (size_t i = 1; i < t.size(); ++i) {
    if (!IsWord(t[i])) return Fail(kMalformed, "a=rtcp-fb value");
    if (i > 1) fb += ' ';
    fb += t[i];
  }
  dst->push_back(std::move(fb));
  return Status::Ok();
}

Status Parser::ParseExtmap(std::string_view value) {
  const Tokens t = SplitSpaces(value);
  if (t.size() < 2) return Fail(kMalformed, "a=extmap needs '<id>[/<dir>] <uri>'");
  Extmap e;
  std::string_view id = t[0];
  const size_t slash = id.find('/');
  if (slash != std::string_view::npos) {
    e.direction = DirectionFromName(id.substr(slash + 1));
    if (!e.direction) return Fail(kMalformed, "a=extmap direction");
    id = id.substr(0, slash);
  }
  // RFC 8285 §5: ids 1-14 (one-byte) and 16-255 (two-byte); 15 is reserved.
  if (!ParseU16(id, 255, &e.id) || e.id == 0 || e.id == 15) {
    return Fail(kMalformed, "a=extmap id " + Quote(id) + " not in 1-14 or 16-255");
  }
  if (!IsWord(t[1])) return Fail(kMalformed, "a=extmap uri");
  e.uri = std::string(t[1]);
  for (size_t i = 2; i < t.size(); ++i) {
    if (i > 2) e.attributes += ' ';
    e.attributes += t[i];
  }
  for (const Extmap& other : media_->extmaps) {
    if (other.id == e.id) return Fail(kMalformed, "a=extmap id " + std::to_string(e.id) + " twice");
  }
  if (media_->extmaps.size() >= kMaxSdpExtmaps) return Fail(kTooLarge, "too many a=extmap lines");
  media_->extmaps.push_back(std::move(e));
  return Status::Ok();
}

Status Parser::ParseSsrc(std::string_view value) {
  const size_t sp = value.find(' ');
  if (sp == std::string_view::npos) return Fail(kMalformed, "a=ssrc needs '<ssrc> <attribute>'");
  SsrcAttribute s;
  if (!ParseU32(value.substr(0, sp), &s.ssrc)) {
    return Fail(kMalformed, "a=ssrc " + Quote(value.substr(0, sp)) + " not in 0-4294967295");
  }
  const std::string_view rest = value.substr(sp + 1);
  const size_t colon = rest.find(':');
  const std::string_view attr = rest.substr(0, colon);
  if (!IsToken(attr)) return Fail(kMalformed, "a=ssrc attribute name is not a token");
  s.attribute = std::string(attr);
  if (colon != std::string_view::npos) s.value = std::string(rest.substr(colon + 1));
  if (media_->ssrcs.size() >= kMaxSdpSsrcLines) return Fail(kTooLarge, "too many a=ssrc lines");
  media_->ssrcs.push_back(std::move(s));
  return Status::Ok();
}

Status Parser::ParseSsrcGroup(std::string_view value) {
  const Tokens t = SplitSpaces(value);
  if (t.empty() || !IsToken(t[0])) return Fail(kMalformed, "a=ssrc-group needs semantics");
  if (t.size() - 1 > kMaxSdpGroupMembers) return Fail(kTooLarge, "a=ssrc-group too many ssrcs");
  if (media_->ssrc_groups.size() >= kMaxSdpSsrcGroups) {
    return Fail(kTooLarge, "too many a=ssrc-group lines");
  }
  SsrcGroup g;
  g.semantics = std::string(t[0]);
  for (size_t i = 1; i < t.size(); ++i) {
    uint32_t ssrc = 0;
    if (!ParseU32(t[i], &ssrc)) {
      return Fail(kMalformed, "a=ssrc-group ssrc " + Quote(t[i]) + " not in 0-4294967295");
    }
    g.ssrcs.push_back(ssrc);
  }
  media_->ssrc_groups.push_back(std::move(g));
  return Status::Ok();
}

Status Parser::ParseRid(std::string_view value) {
  const Tokens t = SplitSpaces(value);
  if (t.size() < 2 || t.size() > 3)
    return Fail(kMalformed, "a=rid needs '<id> send|recv [<params>]'");
  if (!AllOf(t[0], IsRidChar)) return Fail(kMalformed, "a=rid id is not a rid-id");
  Rid r;
  r.id = std::string(t[0]);
  if (t[1] == "send") {
    r.direction = RidDirection::kSend;
  } else if (t[1] == "recv") {
    r.direction = RidDirection::kRecv;
  } else {
    return Fail(kMalformed, "a=rid direction must be send or recv");
  }
  if (t.size() == 3) r.params = std::string(t[2]);
  for (const Rid& other : media_->rids) {
    if (other.id == r.id) return Fail(kMalformed, "a=rid " + Quote(r.id) + " twice");
  }
  if (media_->rids.size() >= kMaxSdpRids) return Fail(kTooLarge, "too many a=rid lines");
  media_->rids.push_back(std::move(r));
  return Status::Ok();
}

Status Parser::ParseMediaAttribute(std::string_view name, std::optional<std::string_view> value) {
  MediaSection& m = *media_;
  bool handled = false;
  AEGIS_RETURN_IF_ERROR(
      ParseCommonAttribute(name, value.value_or(""), &m.ice, &m.fingerprints, &m.setup, &handled));
  if (handled) return Status::Ok();
  if (const auto dir = DirectionFromName(name)) {
    if (m.direction) return Fail(kMalformed, "more than one direction attribute");
    m.direction = dir;
    return Status::Ok();
  }
  if (name == "mid") {
    if (!m.mid.empty()) return Fail(kMalformed, "repeated a=mid");
    if (!IsToken(*value)) return Fail(kMalformed, "a=mid is not a token");
    for (const MediaSection& other : sdp_.media) {
      if (&other != media_ && other.mid == *value) {
        return Fail(kMalformed, "duplicate a=mid " + Quote(*value));
      }
    }
    m.mid = std::string(*value);
    return Status::Ok();
  }
  if (name == "rtcp-mux") {
    m.rtcp_mux = true;
    return Status::Ok();
  }
  if (name == "rtcp-rsize") {
    m.rtcp_rsize = true;
    return Status::Ok();
  }
  if (name == "extmap-allow-mixed") {
    m.extmap_allow_mixed = true;
    return Status::Ok();
  }
  if (name == "end-of-candidates") {
    m.end_of_candidates = true;
    return Status::Ok();
  }
  const bool rtp = m.IsRtp();
  if (name == "rtpmap" || name == "fmtp" || name == "rtcp-fb") {
    if (!rtp) return Fail(kMalformed, "a=" + std::string(name) + " in a non-RTP m= section");
    if (name == "rtpmap") return ParseRtpmap(*value);
    if (name == "fmtp") return ParseFmtp(*value);
    return ParseRtcpFb(*value);
  }
  if (name == "extmap") return ParseExtmap(*value);
  if (name == "ssrc") return ParseSsrc(*value);
  if (name == "ssrc-group") return ParseSsrcGroup(*value);
  if (name == "rid") return ParseRid(*value);
  if (name == "msid") {
    const Tokens t = SplitSpaces(*value);
    if (t.empty() || t.size() > 2 || !IsWord(t[0])) {
      return Fail(kMalformed, "a=msid needs '<stream id> [<track id>]'");
    }
    if (m.msids.size() >= kMaxSdpSmallLists) return Fail(kTooLarge, "too many a=msid lines");
    m.msids.push_back(Msid{std::string(t[0]), t.size() == 2 ? std::string(t[1]) : std::string()});
    return Status::Ok();
  }
  if (name == "simulcast") {
    if (m.simulcast) return Fail(kMalformed, "repeated a=simulcast");
    Simulcast s;
    AEGIS_RETURN_IF_ERROR(AtLine(ParseSimulcast(*value, &s)));
    m.simulcast = std::move(s);
    return Status::Ok();
  }
  if (name == "candidate") {
    if (m.candidates.size() >= kMaxSdpCandidates) return Fail(kTooLarge, "too many a=candidate");
    IceCandidate c;
    AEGIS_RETURN_IF_ERROR(AtLine(ParseCandidateValue(*value, &c)));
    m.candidates.push_back(std::move(c));
    return Status::Ok();
  }
  if (name == "sctp-port") {
    uint16_t port = 0;
    if (m.sctp_port || !ParseU16(*value, 65535, &port)) {
      return Fail(kMalformed, "a=sctp-port " + Quote(*value) + " not in 0-65535 or repeated");
    }
    m.sctp_port = port;
    return Status::Ok();
  }
  if (name == "max-message-size") {
    uint64_t size = 0;
    if (m.max_message_size || !ParseUint(*value, UINT64_MAX, &size)) {
      return Fail(kMalformed, "a=max-message-size " + Quote(*value) + " invalid or repeated");
    }
    m.max_message_size = size;
    return Status::Ok();
  }
  return AddOther(&m.other_attributes, name, value);
}

}  // namespace

std::string_view ToString(MediaDirection d) {
  switch (d) {
    case MediaDirection::kSendRecv:
      return "sendrecv";
    case MediaDirection::kSendOnly:
      return "sendonly";
    case MediaDirection::kRecvOnly:
      return "recvonly";
    case MediaDirection::kInactive:
      return "inactive";
  }
  return "inactive";
}

std::string_view ToString(SetupRole r) {
  switch (r) {
    case SetupRole::kActive:
      return "active";
    case SetupRole::kPassive:
      return "passive";
    case SetupRole::kActPass:
      return "actpass";
    case SetupRole::kHoldConn:
      return "holdconn";
  }
  return "holdconn";
}

bool MediaSection::IsRtp() const { return proto.find("RTP/") != std::string::npos; }

const RtpCodec* MediaSection::FindCodec(uint8_t payload_type) const {
  for (const RtpCodec& c : codecs) {
    if (c.payload_type == payload_type) return &c;
  }
  return nullptr;
}

bool MediaSection::HasAttribute(std::string_view name) const {
  return std::ranges::any_of(other_attributes, [&](const Attribute& a) { return a.name == name; });
}

const Group* SessionDescription::FindGroup(std::string_view semantics) const {
  for (const Group& g : groups) {
    if (g.semantics == semantics) return &g;
  }
  return nullptr;
}

bool SessionDescription::HasAttribute(std::string_view name) const {
  return std::ranges::any_of(other_attributes, [&](const Attribute& a) { return a.name == name; });
}

Result<SessionDescription> ParseSdp(std::string_view text) {
  Parser parser;
  return parser.Run(text);
}

Result<IceCandidate> ParseCandidate(std::string_view text) {
  if (text.size() > kMaxSdpLineBytes) return Err(kTooLarge, "candidate line too long");
  for (unsigned char c : text) {
    if (IsControl(c)) return Err(kIllegalChar, "control byte inside candidate");
  }
  if (text.substr(0, 2) == "a=") text.remove_prefix(2);
  if (text.substr(0, 10) != "candidate:") return Err(kMalformed, "expected 'candidate:'");
  text.remove_prefix(10);
  for (std::string_view tok : SplitSpaces(text)) {
    if (tok.size() > kMaxSdpTokenBytes) return Err(kTooLarge, "candidate token too long");
  }
  IceCandidate c;
  AEGIS_RETURN_IF_ERROR(ParseCandidateValue(text, &c));
  return c;
}

std::optional<std::string_view> FmtpParameter(std::string_view fmtp, std::string_view key) {
  size_t start = 0;
  while (start <= fmtp.size()) {
    size_t end = fmtp.find(';', start);
    if (end == std::string_view::npos) end = fmtp.size();
    std::string_view kv = fmtp.substr(start, end - start);
    while (!kv.empty() && kv.front() == ' ') kv.remove_prefix(1);
    while (!kv.empty() && kv.back() == ' ') kv.remove_suffix(1);
    const size_t eq = kv.find('=');
    if (eq != std::string_view::npos && EqualsIgnoreCase(kv.substr(0, eq), key)) {
      return kv.substr(eq + 1);
    }
    start = end + 1;
  }
  return std::nullopt;
}

}  // namespace aegis::rtc
