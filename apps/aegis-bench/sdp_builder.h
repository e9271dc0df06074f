// SDP for aegis-bench's client peer connections, built on rtc/sdp: the
// publish offer (Opus and/or VP8, a=mid, the MID header extension,
// a=setup:actpass, ICE credentials, fingerprint, BUNDLE, a=ssrc/msid, or
// rid-based simulcast for video), the
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
inline constexpr uint8_t kRidExtensionId = 10;  // the id Chrome uses for rtp-stream-id

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
  uint32_t ssrc = 0;  // unused with rids: layers are told apart by RID
  std::string track_id;
  // Simulcast (RFC 8853), lowest layer first: a=rid:<id> send for each,
  // a=simulcast:send l;m;h, the RID extension and no a=ssrc lines (what
  // Chrome offers for sendEncodings with rids). Empty: one stream.
  std::vector<std::string> rids;
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
  bool active = true;         // sendonly/sendrecv towards us (subscribe) or accepted (publish)
  size_t simulcast_recv = 0;  // streams in a=simulcast:recv (publish answers)
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
