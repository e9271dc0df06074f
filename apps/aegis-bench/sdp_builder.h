// SDP for aegis-bench's client peer connections, built on rtc/sdp: the
// publish offer (Opus and/or VP8, a=mid, the MID header extension,
// a=setup:actpass, ICE credentials, fingerprint, BUNDLE, a=ssrc/msid), the
// answer to a server's subscribe offer (a=setup:active, every section
// accepted as recvonly), and the transport/stream facts a client needs from a
// server description. Server descriptions are untrusted; errors name what is
// missing. Pure functions; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "rtc/endpoint.h"
#include "rtc/sdp/sdp.h"

namespace aegis::bench {

inline constexpr uint8_t kOpusPayloadType = 111;
inline constexpr uint8_t kVp8PayloadType = 96;
inline constexpr uint8_t kMidExtensionId = 4;

struct LocalTransport {
  std::string ice_ufrag;
  std::string ice_pwd;
  std::string fingerprint;  // sha-256, "AB:CD:..."
  std::string address = "127.0.0.1";
  uint16_t port = 0;
};

struct PublishTrack {
  std::string kind;  // "audio" or "video"
  std::string mid;
  uint32_t ssrc = 0;
  std::string track_id;
};

struct PublishOfferParams {
  LocalTransport transport;
  std::string cname;
  std::string stream_id;
  std::vector<PublishTrack> tracks;
  uint64_t session_id = 1;
};

rtc::SessionDescription BuildPublishOffer(const PublishOfferParams& params);

// What the client needs from the server's description.
struct RemoteStream {
  std::string mid;
  std::string kind;
  uint32_t ssrc = 0;  // 0 when the section names none
  uint32_t clock_rate = 0;
  std::string msid_stream;
  std::string msid_track;
  bool active = true;  // sendonly/sendrecv towards us (subscribe) or accepted (publish)
};

struct RemoteDescriptionInfo {
  std::string ice_ufrag;
  std::string ice_pwd;
  rtc::Fingerprint fingerprint;
  std::optional<rtc::SetupRole> setup;
  std::optional<rtc::Endpoint> udp_candidate;  // highest-priority IPv4 UDP candidate
  bool ice_lite = false;
  std::vector<RemoteStream> streams;
  // Name of the SRTP-capable video codec and payload type chosen (answers).
  uint8_t vp8_payload_type = kVp8PayloadType;
  uint8_t opus_payload_type = kOpusPayloadType;
};

// Errors: sdp_unsupported (no ICE credentials / fingerprint).
Result<RemoteDescriptionInfo> InspectRemoteDescription(const rtc::SessionDescription& sdp);

// Answer to a server offer (subscribe): same sections, recvonly (inactive
// stays inactive), offered codecs and extensions echoed, a=setup:active.
Result<rtc::SessionDescription> BuildSubscribeAnswer(const rtc::SessionDescription& offer,
                                                     const LocalTransport& transport,
                                                     uint64_t session_id);

}  // namespace aegis::bench
