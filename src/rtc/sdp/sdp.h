// WebRTC SDP model (RFC 8866 + JSEP/RFC 8829 attributes), parser and writer.
// ParseSdp() takes untrusted peer text: sizes, counts, tokens and numbers are
// range-checked, CR/LF/NUL inside values are rejected (FZ-10), and each error has
// a stable code (sdp_too_large, sdp_malformed, sdp_illegal_char, sdp_unsupported)
// and a message naming the line. WriteSdp() re-validates every field and checks
// its own output re-parses equal. Value types, pure functions; thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace aegis::rtc {

// Limits (checked before anything is stored).
inline constexpr size_t kMaxSdpBytes = size_t{64} * 1024;
inline constexpr size_t kMaxSdpLineBytes = 4096;
inline constexpr size_t kMaxSdpTokenBytes = 255;
inline constexpr size_t kMaxSdpMediaSections = 32;
inline constexpr size_t kMaxSdpPayloadTypes = 128;
inline constexpr size_t kMaxSdpCandidates = 64;       // per section
inline constexpr size_t kMaxSdpSsrcLines = 128;       // per section
inline constexpr size_t kMaxSdpSsrcGroups = 32;       // per section
inline constexpr size_t kMaxSdpGroupMembers = 32;     // ssrcs or mids in one group
inline constexpr size_t kMaxSdpExtmaps = 64;          // per section
inline constexpr size_t kMaxSdpRids = 16;             // per section
inline constexpr size_t kMaxSdpSimulcastAlts = 8;     // alternatives per simulcast stream
inline constexpr size_t kMaxSdpSmallLists = 16;       // msid, fingerprints, groups, ice-options
inline constexpr size_t kMaxSdpRtcpFb = 32;           // per payload type
inline constexpr size_t kMaxSdpOtherAttributes = 64;  // unknown attributes per level

enum class MediaDirection { kSendRecv, kSendOnly, kRecvOnly, kInactive };
enum class SetupRole { kActive, kPassive, kActPass, kHoldConn };

std::string_view ToString(MediaDirection d);
std::string_view ToString(SetupRole r);

struct Origin {  // o=
  std::string username = "-";
  uint64_t session_id = 0;
  uint64_t session_version = 0;
  std::string net_type = "IN";
  std::string addr_type = "IP4";
  std::string address = "0.0.0.0";
  bool operator==(const Origin&) const = default;
};

struct Connection {  // c=
  std::string net_type = "IN";
  std::string addr_type = "IP4";
  std::string address = "0.0.0.0";
  bool operator==(const Connection&) const = default;
};

struct Fingerprint {      // a=fingerprint:<algorithm> <value>
  std::string algorithm;  // lower case, e.g. "sha-256"
  std::string value;      // hex pairs separated by ':' (case as received)
  bool operator==(const Fingerprint&) const = default;
};

struct Group {  // a=group:<semantics> <mid>...
  std::string semantics;
  std::vector<std::string> mids;
  bool operator==(const Group&) const = default;
};

struct Attribute {  // any attribute we do not model: a=<name>[:<value>]
  std::string name;
  std::optional<std::string> value;
  bool operator==(const Attribute&) const = default;
};

struct RtpCodec {  // one m-line format plus its rtpmap / fmtp / rtcp-fb lines
  uint8_t payload_type = 0;
  std::string encoding_name;  // empty: no a=rtpmap (static payload type)
  uint32_t clock_rate = 0;
  uint16_t channels = 0;              // 0: not given
  std::string fmtp;                   // raw parameters; empty: no a=fmtp
  std::vector<std::string> feedback;  // a=rtcp-fb values, e.g. "nack pli"
  bool operator==(const RtpCodec&) const = default;
};

struct Extmap {  // a=extmap:<id>[/<direction>] <uri> [<attributes>]
  uint16_t id = 0;
  std::optional<MediaDirection> direction;
  std::string uri;
  std::string attributes;
  bool operator==(const Extmap&) const = default;
};

struct SsrcAttribute {  // a=ssrc:<ssrc> <attribute>[:<value>]
  uint32_t ssrc = 0;
  std::string attribute;
  std::optional<std::string> value;
  bool operator==(const SsrcAttribute&) const = default;
};

struct SsrcGroup {        // a=ssrc-group:<semantics> <ssrc>...
  std::string semantics;  // "FID", "SIM", "FEC-FR", ...
  std::vector<uint32_t> ssrcs;
  bool operator==(const SsrcGroup&) const = default;
};

struct Msid {  // a=msid:<stream id> [<track id>]
  std::string stream_id;
  std::string track_id;
  bool operator==(const Msid&) const = default;
};

enum class RidDirection { kSend, kRecv };

struct Rid {  // a=rid:<id> send|recv [<params>] (RFC 8851)
  std::string id;
  RidDirection direction = RidDirection::kSend;
  std::string params;
  bool operator==(const Rid&) const = default;
};

struct SimulcastRid {
  std::string id;
  bool paused = false;  // "~" prefix
  bool operator==(const SimulcastRid&) const = default;
};

// a=simulcast (RFC 8853): ';' separates streams, ',' separates alternatives.
using SimulcastStreams = std::vector<std::vector<SimulcastRid>>;
struct Simulcast {
  SimulcastStreams send;
  SimulcastStreams recv;
  bool operator==(const Simulcast&) const = default;
};

struct IceCandidate {  // a=candidate (RFC 8839 §5.1)
  std::string foundation;
  uint16_t component = 1;
  std::string transport = "udp";
  uint32_t priority = 0;
  std::string address;
  uint16_t port = 0;
  std::string type = "host";  // host, srflx, prflx, relay
  std::string related_address;
  std::optional<uint16_t> related_port;
  std::string tcp_type;  // active, passive, so; empty for UDP
  std::vector<std::pair<std::string, std::string>> extensions;  // generation, ufrag...
  bool operator==(const IceCandidate&) const = default;
};

struct IceParameters {
  std::string ufrag;
  std::string pwd;
  std::vector<std::string> options;  // a=ice-options tokens
  bool operator==(const IceParameters&) const = default;
};

struct MediaSection {
  std::string kind;  // audio, video, application, ...
  uint16_t port = 9;
  std::string proto;
  std::vector<RtpCodec> codecs;          // RTP protos: one per format, m-line order
  std::vector<std::string> formats;      // other protos, e.g. "webrtc-datachannel"
  std::vector<std::string> rtcp_fb_all;  // a=rtcp-fb:* values
  std::optional<Connection> connection;
  std::string mid;
  std::optional<MediaDirection> direction;  // absent means sendrecv
  IceParameters ice;
  std::vector<Fingerprint> fingerprints;
  std::optional<SetupRole> setup;
  bool rtcp_mux = false;
  bool rtcp_rsize = false;
  bool extmap_allow_mixed = false;
  std::vector<Extmap> extmaps;
  std::vector<SsrcAttribute> ssrcs;
  std::vector<SsrcGroup> ssrc_groups;
  std::vector<Msid> msids;
  std::vector<Rid> rids;
  std::optional<Simulcast> simulcast;
  std::vector<IceCandidate> candidates;
  bool end_of_candidates = false;
  std::optional<uint16_t> sctp_port;
  std::optional<uint64_t> max_message_size;
  std::vector<Attribute> other_attributes;

  bool IsRtp() const;  // proto carries RTP (…/RTP/AVP…)
  const RtpCodec* FindCodec(uint8_t payload_type) const;
  bool HasAttribute(std::string_view name) const;  // in other_attributes
  bool operator==(const MediaSection&) const = default;
};

struct MsidSemantic {  // a=msid-semantic:<semantic> [<id>...]
  std::string semantic;
  std::vector<std::string> ids;
  bool operator==(const MsidSemantic&) const = default;
};

struct SessionDescription {
  Origin origin;
  std::string session_name = "-";
  uint64_t start_time = 0;
  uint64_t stop_time = 0;
  std::optional<Connection> connection;
  std::vector<Group> groups;
  bool ice_lite = false;
  bool extmap_allow_mixed = false;
  std::optional<MsidSemantic> msid_semantic;
  IceParameters ice;
  std::vector<Fingerprint> fingerprints;
  std::optional<SetupRole> setup;
  std::vector<Attribute> other_attributes;
  std::vector<MediaSection> media;

  const Group* FindGroup(std::string_view semantics) const;
  bool HasAttribute(std::string_view name) const;  // in other_attributes
  bool operator==(const SessionDescription&) const = default;
};

// Parses a complete SDP (CRLF or LF line ends). Untrusted input.
Result<SessionDescription> ParseSdp(std::string_view text);

// Parses one candidate as carried in trickle ICE: "candidate:..." (with or
// without a leading "a="). Untrusted input.
Result<IceCandidate> ParseCandidate(std::string_view text);

// Serialises with CRLF line ends. Fails (sdp_illegal_char, sdp_malformed,
// sdp_too_large) when a field could not be written faithfully, so the result
// always parses back to an equal model.
Result<std::string> WriteSdp(const SessionDescription& sdp);

// "candidate:<foundation> ..." without "a=" or line end (for trickle ICE).
Result<std::string> WriteCandidate(const IceCandidate& candidate);

// The value of `key` in an fmtp parameter list "k1=v1;k2=v2" (keys compared
// case-insensitively, surrounding spaces ignored), or nullopt.
std::optional<std::string_view> FmtpParameter(std::string_view fmtp, std::string_view key);

}  // namespace aegis::rtc
